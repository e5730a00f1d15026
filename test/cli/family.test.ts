// `netpath diagnose --family 4|6` by name on a dual-stack snapshot, and `--protocol sctp` end to
// end, through the built bundle (dist/cli.js) as a user's shell runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dualStackSnapshot, sctpSnapshot, v6 } from './family-snapshots';

const cli = 'dist/cli.js';
const skip = !existsSync(cli) && 'run `npm run build` first';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Finding = { level: string; check: string; message: string };
type Doc = {
  request: { family?: number; protocol: string };
  source: { ip: string };
  destination: { ip: string };
  verdict: string;
  nodes: { id: string; suspicions: Finding[] }[];
  links: { packet: unknown; action: unknown }[];
  clusterSuspicions: Finding[];
};

function diagnoseJson(...args: string[]): Doc {
  const r = run('diagnose', ...args, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const findings = (d: Doc) => [...d.clusterSuspicions, ...d.nodes.flatMap((n) => n.suspicions)];

test('--family 4 and --family 6 by name on a dual-stack snapshot', { skip }, () => {
  const snap = dualStackSnapshot();
  const base = ['--snapshot', snap, '--src', 'default/client', '--dst', 'svc/default/web-remote', '--port', '80'];

  const four = diagnoseJson(...base, '--family', '4');
  assert.equal(four.request.family, 4);
  assert.deepEqual([four.source.ip, four.destination.ip], ['10.244.1.2', '10.96.0.20']);
  assert.equal(four.verdict, 'reachable');
  assert.match(four.clusterSuspicions.find((s) => s.check === 'request.other-family')?.message ?? '', /IPv6 addresses too.*--family 6/);

  // The service lists IPv6 first, yet without --family the names resolve to IPv4 (both ends have it).
  const byDefault = diagnoseJson(...base);
  assert.deepEqual([byDefault.source.ip, byDefault.destination.ip, byDefault.verdict], ['10.244.1.2', '10.96.0.20', 'reachable']);
  assert.equal(byDefault.request.family, undefined);

  // The lab's dumps were recorded on an IPv4-only cluster: the client's network namespace has no
  // IPv6 route, which is what the engine must say (no internal error, no REACHABLE).
  const six = diagnoseJson(...base, '--family', '6');
  assert.equal(six.request.family, 6);
  assert.deepEqual([six.source.ip, six.destination.ip], [v6.client, v6.webRemote]);
  assert.notEqual(six.verdict, 'reachable');
  const noRoute = six.nodes.find((n) => n.id === 'default/client')?.suspicions.find((s) => s.check === 'route.no-route');
  assert.match(noRoute?.message ?? '', new RegExp(`\\[${v6.webRemote}\\]:80`));
  assert.match(six.clusterSuspicions.find((s) => s.check === 'request.other-family')?.message ?? '', /IPv4 addresses too.*--family 4/);

  // The text report says so too.
  const text = run('diagnose', ...base);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /\[INFO\] diagnosed over IPv4; both ends have IPv6 addresses too: .*--family 6.*\(request\.other-family\)/);

  // A NodePort by name: the node's IPv6 InternalIP.
  const nodePort = diagnoseJson('--snapshot', snap, '--src', 'default/client', '--dst', 'node/node2', '--port', '30080', '--family', '6');
  assert.equal(nodePort.destination.ip, v6.node2);
});

test('--family errors are bad input (exit 2) naming the end and the family', { skip }, () => {
  const snap = dualStackSnapshot();
  const cases: [string[], RegExp][] = [
    [['--dst', 'svc/default/web-local', '--port', '80', '--family', '6'], /the destination svc\/default\/web-local: service default\/web-local has no IPv6 address \(ipFamilies IPv4, ipFamilyPolicy SingleStack\)/],
    [['--dst', '10.96.0.20', '--port', '80', '--family', '6'], /the destination 10\.96\.0\.20 is an IPv4 address, but family IPv6 was asked for/],
    [['--dst', 'default/web2', '--port', '80', '--family', '5'], /--family must be 4 or 6, not "5"/],
  ];
  for (const [args, msg] of cases) {
    const r = run('diagnose', '--snapshot', snap, '--src', 'default/client', ...args);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
});

test('--protocol sctp end to end: policy, kube-proxy -p sctp DNAT, and no verdict on the unseen SCTP socket', { skip }, () => {
  const args = (snap: string) => ['--snapshot', snap, '--src', 'default/client', '--dst', 'svc/default/web-remote', '--port', '9000', '--protocol', 'sctp'];

  const allowed = diagnoseJson(...args(sctpSnapshot(true)));
  assert.equal(allowed.request.protocol, 'sctp');
  assert.ok(!findings(allowed).some((s) => s.check.startsWith('policy.') && s.level !== 'INFO'), JSON.stringify(allowed.clusterSuspicions));
  assert.match(JSON.stringify(allowed.links), /KUBE-SEP-SCTPTEST000000000/, 'the DNAT of the -p sctp rule is on the path');
  // The reply walks back through conntrack (SCTP is tracked with ports, as TCP): un-DNATed at node1.
  assert.match(JSON.stringify(allowed.links), /translated back to 10\.96\.0\.20:9000/);
  const socket = allowed.nodes.find((n) => n.id === 'default/web2')?.suspicions.find((s) => s.check === 'socket.sctp-unknown');
  assert.equal(socket?.level, 'WARNING');
  // The only WARNING: the SCTP socket alone keeps the verdict from REACHABLE.
  assert.deepEqual(findings(allowed).filter((s) => s.level !== 'INFO').map((s) => s.check), ['socket.sctp-unknown']);
  assert.equal(allowed.verdict, 'unknown');

  const denied = diagnoseJson(...args(sctpSnapshot(false)));
  assert.equal(denied.verdict, 'unreachable');
  assert.match(denied.clusterSuspicions.find((s) => s.check === 'policy.ingress-deny')?.message ?? '', /9000\/SCTP/);
  assert.ok(denied.nodes.find((n) => n.id === 'node2')?.suspicions.some((s) => s.check === 'iptables.drop' && s.level === 'FATAL'));

  const text = run('diagnose', ...args(sctpSnapshot(true)));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^UNKNOWN: /m);
  assert.match(text.stdout, /SCTP port 9000 .* not known.*\(socket\.sctp-unknown\)/);
});

test('netpath diagnose --help documents --family and sctp', { skip }, () => {
  const r = run('diagnose', '--help');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--protocol tcp\|udp\|sctp/);
  assert.match(r.stdout, /--family 4\|6 +the address family names resolve to/);
});
