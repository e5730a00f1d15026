// The engine's limits from the command line: an input over one is bad input (exit 2) whose message
// names the limit, its flag and its VS Code setting; the flag raises it and the same input works.
// Drives the built bundle (dist/cli.js), as a user's shell does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineLimitNames, engineLimits } from '../../src/shared/limits';

const cli = 'dist/cli.js';
const sample = 'samples/broken.netpath.json';
const skip = (!existsSync(cli) || !existsSync(sample)) && 'run `npm run build` first';
const request = ['--src', 'default/client', '--dst', 'svc/default/web-remote', '--port', '80'];

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-limits-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The message names the limit with its value, the flag and the setting. */
function namesLimit(stderr: string, name: (typeof engineLimitNames)[number], value: number): void {
  assert.ok(stderr.includes(`the limit ${name} = ${value} (raise it with ${engineLimits[name].flag} N, in VS Code the setting ${engineLimits[name].setting})`), stderr);
}

test('every limit is listed in --help of the commands that read input, with its default', { skip }, () => {
  for (const cmd of [['diagnose'], ['matrix'], ['snapshot', 'validate'], ['snapshot', 'assemble'], ['snapshot', 'diff']]) {
    const r = run(...cmd, '--help');
    assert.equal(r.code, 0);
    for (const n of engineLimitNames) assert.match(r.stdout, new RegExp(`^  ${engineLimits[n].flag} N +.*\\(default `, 'm'), `${cmd.join(' ')}: ${n}`);
  }
  assert.match(run('snapshot', 'capture', '--help').stdout, /--max-json-depth N/);
});

test('maxJsonDepth: a pod nested 250 levels deep is refused at the default 200 (exit 2, path and limit named); --max-json-depth 300 diagnoses it', { skip }, () => {
  withDir((dir) => {
    const d = JSON.parse(readFileSync(sample, 'utf8'));
    let deep: unknown = 'leaf';
    for (let i = 0; i < 250; i++) deep = { n: deep };
    d.objects.pods.find((p: { metadata: { name: string } }) => p.metadata.name === 'client').spec.extra = deep;
    const file = join(dir, 'deep.netpath.json');
    writeFileSync(file, JSON.stringify(d));
    const refused = run('diagnose', '--snapshot', file, ...request);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /deep\.netpath\.json: invalid snapshot: objects\.pods\[\d\]\.spec\.extra\.n\.n/);
    namesLimit(refused.stderr, 'maxJsonDepth', 200);
    const raised = run('diagnose', '--snapshot', file, ...request, '--max-json-depth', '300', '--format', 'json');
    assert.equal(raised.code, 0, raised.stderr);
    assert.equal(JSON.parse(raised.stdout).verdict, 'unreachable');
    assert.equal(run('snapshot', 'validate', file, '--max-json-depth', '300').code, 0);
  });
});

test('maxJsonDepth also bounds YAML manifests (assemble, --with), read without overflowing the stack; a bad value is exit 2', { skip }, () => {
  withDir((dir) => {
    // 3,000 levels overflowed the YAML library's recursive reader ("Maximum call stack size exceeded").
    const pod = (depth: number) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: default\nspec:\n  x: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    const deep = join(dir, 'deep.yaml');
    writeFileSync(deep, pod(3000));
    const out = join(dir, 'out.json');
    const refused = run('snapshot', 'assemble', '--objects', deep, '--captured-at', '2026-01-01T00:00:00Z', '-o', out);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /deep\.yaml: document 1: at line 7, column \d+: nested deeper than /);
    namesLimit(refused.stderr, 'maxJsonDepth', 200);
    assert.doesNotMatch(refused.stderr, /call stack/);
    const withFile = run('diagnose', '--snapshot', sample, ...request, '--with', deep);
    assert.equal(withFile.code, 2, withFile.stderr);
    namesLimit(withFile.stderr, 'maxJsonDepth', 200);
    // 250 levels: refused by default, assembled once the limit is raised.
    writeFileSync(deep, pod(250));
    namesLimit(run('snapshot', 'assemble', '--objects', deep, '--captured-at', '2026-01-01T00:00:00Z', '-o', out).stderr, 'maxJsonDepth', 200);
    const raised = run('snapshot', 'assemble', '--objects', deep, '--captured-at', '2026-01-01T00:00:00Z', '-o', out, '--max-json-depth', '300');
    assert.equal(raised.code, 0, raised.stderr);
    assert.equal(run('snapshot', 'validate', out, '--max-json-depth', '300').code, 0);
    for (const bad of ['0', '-3', '12X', '1.5']) {
      const r = run('snapshot', 'validate', out, `--max-json-depth=${bad}`);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--max-json-depth must be a positive integer/);
    }
  });
});

test('maxSnapshotProblems: 150 bad pods list 100 and say collection stopped, naming the flag; --max-snapshot-problems 1000 counts them all', { skip }, () => {
  withDir((dir) => {
    const d = JSON.parse(readFileSync(sample, 'utf8'));
    const pod = d.objects.pods[0];
    d.objects.pods = Array.from({ length: 150 }, (_, k) => ({ ...pod, metadata: { ...pod.metadata, name: `p${k}` }, status: { ...pod.status, podIP: `bad-${k}` } }));
    const file = join(dir, 'bad.netpath.json');
    writeFileSync(file, JSON.stringify(d));
    const capped = run('snapshot', 'validate', file);
    assert.equal(capped.code, 2);
    assert.match(capped.stderr, /… and more \(95 more listed, collection stopped at the limit maxSnapshotProblems = 100 /);
    namesLimit(capped.stderr, 'maxSnapshotProblems', 100);
    const all = run('snapshot', 'validate', file, '--max-snapshot-problems', '1000');
    assert.equal(all.code, 2);
    assert.match(all.stderr, /… and 145 more\n/);
    assert.doesNotMatch(all.stderr, /collection stopped/);
  });
});

test('maxSnapshotChars: a snapshot over it is refused (unread when its bytes say so), naming the flag; raising it reads the file', { skip }, () => {
  const size = readFileSync(sample, 'utf8').length;
  const refused = run('diagnose', '--snapshot', sample, ...request, '--max-snapshot-chars', String(size - 1));
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, new RegExp(`: ${size} characters is more than `));
  namesLimit(refused.stderr, 'maxSnapshotChars', size - 1);
  // More than 3 bytes a character over the limit: refused before the file becomes a string.
  const unread = run('diagnose', '--snapshot', sample, ...request, '--max-snapshot-chars', '1K');
  assert.equal(unread.code, 2);
  assert.match(unread.stderr, new RegExp(`: ${size} bytes is more characters than `));
  namesLimit(unread.stderr, 'maxSnapshotChars', 1024);
  assert.equal(run('diagnose', '--snapshot', sample, ...request, '--max-snapshot-chars', String(size)).code, 0);
  assert.equal(run('snapshot', 'validate', sample, '--max-snapshot-chars', '1K').code, 2);
});

test('ipsetElementBudget: a dump whose sets exceed it is not checked (INFO naming the limit and its flag); a larger budget reads the sets', { skip }, () => {
  withDir((dir) => {
    const d = JSON.parse(readFileSync(sample, 'utf8'));
    const node = d.dumps.node2.node;
    node.ipsets = 'create s hash:net maxelem 1000\nadd s 10.0.0.0/24\nadd s 10.1.0.0/24\nadd s 10.2.0.0/24\n';
    // A rule on the path that reads the set, so the diagnosis parses the ipsets.
    node.iptables.nft = node.iptables.nft.replace('-A FORWARD -d 10.244.2.2/32', '-A FORWARD -m set --match-set s src -j ACCEPT\n-A FORWARD -d 10.244.2.2/32');
    const file = join(dir, 'ipset.netpath.json');
    writeFileSync(file, JSON.stringify(d));
    const low = run('diagnose', '--snapshot', file, ...request, '--ipset-element-budget', '2');
    assert.equal(low.code, 0, low.stderr);
    assert.match(low.stdout, /ipsets of node2 does not parse \(ipset save: line 4, column 7: s \(hash:net\): "10\.2\.0\.0\/24" is too large: it exceeds the element budget of 2/);
    namesLimit(low.stdout, 'ipsetElementBudget', 2);
    const raised = run('diagnose', '--snapshot', file, ...request, '--ipset-element-budget', '3', '--format', 'json');
    assert.equal(raised.code, 0, raised.stderr);
    const doc = JSON.parse(raised.stdout);
    assert.equal(doc.verdict, 'unreachable');
    assert.ok(!raised.stdout.includes('ipsetElementBudget'), 'the sets are read');
    assert.ok(!doc.nodes.some((n: { suspicions: { check: string }[] }) => n.suspicions.some((s) => s.check === 'dump.not-checked')));
  });
});
