// SCTP where the matrix and `snapshot diff` take a protocol, through the built bundle: the
// datapath is judged for SCTP as far as netpath models it, and what it cannot see (SCTP sockets)
// keeps a cell from `reachable`, naming why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { sctpSnapshot } from './family-snapshots';

const cli = 'dist/cli.js';
const skip = !existsSync(cli) && 'run `npm run build` first';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Cell = { src: string; dst: string; port: number; protocol: string; verdict: string; checks: string[] };

function matrix(snap: string, ...extra: string[]): { ports: { port: number; protocol: string }[]; cells: Cell[] } {
  const r = run('matrix', '--snapshot', snap, '--port', '9000', '--protocol', 'sctp', '--format', 'json', ...extra);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('netpath matrix --protocol sctp: the datapath is judged; an unseen SCTP socket is unknown, a -p sctp drop unreachable', { skip }, () => {
  const allowed = matrix(sctpSnapshot(true));
  assert.deepEqual(allowed.ports, [{ port: 9000, protocol: 'sctp' }]);
  const ok = allowed.cells.find((c) => c.src === 'default/client' && c.dst === 'default/web2')!;
  assert.equal(ok.verdict, 'unknown');
  assert.deepEqual(ok.checks, ['socket.sctp-unknown']);
  const denied = matrix(sctpSnapshot(false));
  const no = denied.cells.find((c) => c.src === 'default/client' && c.dst === 'default/web2')!;
  assert.equal(no.verdict, 'unreachable');
  assert.ok(no.checks.includes('iptables.drop') && no.checks.includes('policy.ingress-deny'), no.checks.join(','));
  // the same with the protocol on the port itself, and by NetworkPolicy alone
  assert.deepEqual(JSON.parse(run('matrix', '--snapshot', sctpSnapshot(false), '--port', '9000/sctp', '--format', 'json').stdout).cells, denied.cells);
  const policy = matrix(sctpSnapshot(false), '--policy-only').cells.find((c) => c.src === 'default/client' && c.dst === 'default/web2')!;
  assert.equal(policy.verdict, 'denied');
});

test('netpath matrix: --protocol needs --port; a protocol netpath does not know is bad input', { skip }, () => {
  const snap = sctpSnapshot(true);
  const noPort = run('matrix', '--snapshot', snap, '--protocol', 'sctp');
  assert.equal(noPort.code, 2);
  assert.match(noPort.stderr, /--protocol sets the protocol of the --port values: give --port too/);
  const bad = run('matrix', '--snapshot', snap, '--port', '9000', '--protocol', 'icmp');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--protocol must be tcp, udp or sctp, not "icmp"/);
});

test('netpath snapshot diff --protocol sctp: both verdicts, and the -p sctp rule that changed on the path first', { skip }, () => {
  const r = run('snapshot', 'diff', sctpSnapshot(true), sctpSnapshot(false), '--src', 'default/client', '--dst', 'svc/default/web-remote', '--port', '9000', '--protocol', 'sctp', '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as { request: { protocol: string }; verdict: { a: string; b: string; changed: boolean }; onPath: { type: string; area?: string; before?: string; after?: string }[] };
  assert.equal(d.request.protocol, 'sctp');
  assert.deepEqual(d.verdict, { a: 'unknown', b: 'unreachable', changed: true });
  const first = d.onPath.find((x) => x.type === 'stack' && x.area === 'iptables');
  assert.match(first?.before ?? '', /-p sctp -m sctp --dport 9000 .*allowed by default\/web-allow-client/);
  const bad = run('snapshot', 'diff', sctpSnapshot(true), sctpSnapshot(false), '--src', 'default/client', '--dst', 'svc/default/web-remote', '--port', '9000', '--protocol', 'dccp');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--protocol must be tcp, udp or sctp, not "dccp"/);
});
