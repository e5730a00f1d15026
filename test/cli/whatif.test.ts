// The second-wave commands through the built bundle (dist/cli.js), as a user's shell runs them:
// `snapshot diff`, `diagnose --with/--without`, `matrix` — their output shapes and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = 'dist/cli.js';
const built = existsSync(cli);
const skip = !built && 'run `npm run build` first';
const lab = 'test/fixtures/lab';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('snapshot diff: healthy vs broken sample, the FORWARD DROP on node2 first on the path (text and JSON), exit 0', { skip }, () => {
  const args = ['snapshot', 'diff', 'samples/healthy.netpath.json', 'samples/broken.netpath.json', '--src', 'default/client', '--dst', 'svc/default/web-remote', '--port', '80'];
  const text = run(...args);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /reachable in a, unreachable in b/);
  const onPath = text.stdout.slice(text.stdout.indexOf('On the path'));
  assert.match(onPath.split('\n')[1], /node node2: \+ iptables: -A FORWARD .*-j DROP/);
  const json = run(...args, '--format', 'json');
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout);
  assert.equal(doc.verdict.changed, true);
  assert.equal(doc.onPath[0].node, 'node2');
  assert.equal(doc.onPath[0].area, 'iptables');
  assert.match(doc.onPath[0].after, /^-A FORWARD .*-j DROP$/);
});

test('snapshot diff: bad input is exit 2 with the problem named', { skip }, () => {
  const cases: [string[], RegExp][] = [
    [['samples/healthy.netpath.json'], /two snapshot files/],
    [['samples/healthy.netpath.json', 'no/such.json'], /no\/such\.json/],
    [['samples/healthy.netpath.json', 'samples/broken.netpath.json', '--src', 'default/client'], /--dst, --port/],
    [['samples/healthy.netpath.json', 'samples/broken.netpath.json', '--src', 'default/client', '--dst', 'default/web2', '--port', '0'], /--port/],
    [['samples/healthy.netpath.json', 'samples/broken.netpath.json', '--src', 'default/nope', '--dst', 'default/web2', '--port', '80'], /default\/nope/],
    [['samples/healthy.netpath.json', 'samples/broken.netpath.json', '--format', 'yaml'], /--format/],
  ];
  for (const [args, msg] of cases) {
    const r = run('snapshot', 'diff', ...args);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});

test('diagnose --with a deny-all policy: unreachable, the JSON says the finding rests on the overlay; --without the deciding policy: reachable', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-whatif-'));
  try {
    const f = join(dir, 'deny.yaml');
    writeFileSync(f, 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: deny-all, namespace: default }\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n');
    const r = run('diagnose', '--snapshot', `${lab}/flannel-host-gw--healthy/snapshot.netpath.json`, '--src', 'default/client', '--dst', 'default/web2', '--port', '8080', '--with', f, '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.verdict, 'unreachable');
    assert.equal(doc.whatIf.baseVerdict, 'reachable');
    assert.ok(doc.whatIf.findings.some((x: { node: string; check: string }) => x.node === 'cluster' && x.check.startsWith('policy.')));
    const w = run('diagnose', '--snapshot', `${lab}/flannel-host-gw--network-policy-deny/snapshot.netpath.json`, '--src', 'default/client', '--dst', 'default/web2', '--port', '8080', '--without', 'NetworkPolicy/default/web-allow-client');
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /^REACHABLE/m);
    assert.match(w.stdout, /verdict without the overlay: unreachable → with it: reachable/);
    for (const [args, msg] of [[['--without', 'NetworkPolicy/default/nope'], /no such object/], [['--without', 'Frob/x/y'], /unknown kind/], [['--with', join(dir, 'missing.yaml')], /missing\.yaml/]] as [string[], RegExp][]) {
      const bad = run('diagnose', '--snapshot', 'samples/broken.netpath.json', '--src', 'default/client', '--dst', 'default/web2', '--port', '8080', ...args);
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, msg);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('matrix: JSON shape and order, policy-only with deciding policies, csv, and bad input exit 2', { skip }, () => {
  const snap = `${lab}/flannel-host-gw--network-policy-deny/snapshot.netpath.json`;
  const j = run('matrix', '--snapshot', snap, '--format', 'json');
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.deepEqual(Object.keys(doc), ['request', 'pods', 'ports', 'left', 'cells']);
  assert.deepEqual(doc.pods, [...doc.pods].sort());
  const cell = doc.cells.find((c: { src: string; dst: string; port: number }) => c.src === 'default/client' && c.dst === 'default/web2' && c.port === 8080);
  assert.equal(cell.verdict, 'unreachable');
  assert.deepEqual(Object.keys(cell), ['src', 'dst', 'port', 'protocol', 'verdict', 'checks']);
  const p = JSON.parse(run('matrix', '--snapshot', snap, '--policy-only', '--format', 'json').stdout);
  const pc = p.cells.find((c: { src: string; dst: string; port: number }) => c.src === 'default/client' && c.dst === 'default/web2' && c.port === 8080);
  assert.equal(pc.verdict, 'denied');
  assert.deepEqual(pc.policies, ['default/web-allow-client']);
  const csv = run('matrix', '--snapshot', snap, '--policy-only', '--format', 'csv', '--port', '8080');
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout.split('\n')[0], 'src,dst,port,protocol,verdict,checks,policies');
  for (const [args, msg] of [[['--port', '70000'], /--port/], [['--port', '53/icmp'], /--port/], [['--namespace', 'Bad_NS'], /namespace/], [['--all-namespaces', '--namespace', 'x'], /not both/], [['--port', '5', '--protocol', 'icmp'], /--protocol must be tcp, udp or sctp/]] as [string[], RegExp][]) {
    const r = run('matrix', '--snapshot', snap, ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});
