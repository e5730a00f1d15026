import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Drives the built bundle (dist/cli.js) the way a user's shell does: exit codes are a contract.
const cli = 'dist/cli.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('netpath --help lists the commands and exits 0', { skip: !existsSync(cli) && 'run `npm run build` first' }, () => {
  const r = run('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^netpath \d+\.\d+\.\d+/);
  assert.match(r.stdout, /Commands:/);
});

test('an unknown command is bad input: exit 2 with the command named on stderr', { skip: !existsSync(cli) && 'run `npm run build` first' }, () => {
  const r = run('frobnicate', '--now');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate --now"/);
});

test('snapshot capture takes --format-version 1|2 (default 1) and refuses another before touching a cluster', { skip: !existsSync(cli) && 'run `npm run build` first' }, () => {
  assert.match(run('snapshot', 'capture', '--help').stdout, /--format-version 1\|2 +1 \(default\)/);
  const r = run('snapshot', 'capture', '--context', 'nowhere', '-o', '/nonexistent/out.json', '--format-version', '3');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--format-version must be 1 or 2, not "3"/);
});

const sample = 'samples/broken.netpath.json';
const built = existsSync(cli) && existsSync(sample);

test('netpath diagnose on the bundled broken sample names the DROP rule on node2 (exit 0)', { skip: !built && 'run `npm run build` first' }, () => {
  const r = run('diagnose', '--snapshot', sample, '--src', 'default/client', '--dst', 'svc/default/web-remote', '--port', '80', '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.verdict, 'unreachable');
  const node2 = doc.nodes.find((n: { id: string }) => n.id === 'node2');
  const drop = node2.suspicions.find((s: { check: string }) => s.check === 'iptables.drop');
  assert.equal(drop.level, 'FATAL');
  assert.match(drop.evidence[0].text, /-A FORWARD .*-j DROP/);
  for (const l of doc.links) for (const k of ['id', 'type', 'source', 'destination', 'sourceAttributes', 'destinationAttributes', 'packet', 'action']) assert.ok(k in l, `link field ${k}`);
});

test('netpath diagnose: bad input is exit 2 with the bad thing named', { skip: !built && 'run `npm run build` first' }, () => {
  const cases: [string[], RegExp][] = [
    [['--snapshot', sample, '--src', 'default/nope', '--dst', 'default/web2', '--port', '8080'], /default\/nope/],
    [['--snapshot', sample, '--src', 'default/client', '--dst', '10.0.0', '--port', '8080'], /10\.0\.0/],
    [['--snapshot', sample, '--src', 'default/client', '--dst', 'default/web2', '--port', '70000'], /--port/],
    [['--snapshot', sample, '--src', 'default/client', '--dst', 'default/web2', '--port', '80', '--protocol', 'icmp'], /--protocol/],
    [['--snapshot', 'no/such/file.json', '--src', 'a/b', '--dst', 'c/d', '--port', '1'], /no\/such\/file\.json/],
    [['--snapshot', 'package.json', '--src', 'a/b', '--dst', 'c/d', '--port', '1'], /package\.json/],
    [['--snapshot', sample, '--src', 'svc/default/web-remote', '--dst', 'default/web2', '--port', '8080'], /service/],
  ];
  for (const [args, msg] of cases) {
    const r = run('diagnose', ...args);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});

test('netpath diagnose: detected values can be overridden from the command line, and bad overrides are exit 2', { skip: !built && 'run `npm run build` first' }, () => {
  const base = ['diagnose', '--snapshot', sample, '--src', 'default/client', '--dst', 'default/web2', '--port', '8080', '--format', 'json'];
  const detected = JSON.parse(run(...base).stdout).clusterSuspicions.find((s: { check: string }) => s.check === 'plugin.detected');
  assert.match(detected.message, /flannel/);
  const forced = JSON.parse(run(...base, '--network-plugin', 'generic').stdout).clusterSuspicions.find((s: { check: string }) => s.check === 'plugin.detected');
  assert.match(forced.message, /generic/);
  assert.match(JSON.stringify(forced.evidence), /settings\.networkPlugin/);
  for (const [flag, value] of [['--proxy-mode', 'bogus'], ['--cluster-cidr', '10.0.0.0'], ['--masquerade', 'maybe'], ['--size', '0']]) {
    const r = run(...base, flag, value);
    assert.equal(r.code, 2, `${flag} ${value}`);
    assert.match(r.stderr, new RegExp(flag));
  }
});
