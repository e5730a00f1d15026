// The framed collector stream and its conversion, without root: hand-built streams with hostile
// tool output, truncation, failures, unparseable output and the gzip wrapper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { CollectorOutputError, parseFramedOutput } from '../../src/collector/frames';
import { convertCollectorOutput, holdsRules } from '../../src/collector/convert';
import { parseProcSysNet, parseSysctlLines } from '../../src/collector/sysctl-text';
import { checkDump } from '../../src/engine/snapshot/load';
import type { NodeNetworkStackDump } from '../../src/shared/dump';

const B = '@NPtest';
type F = [tool: string, exit: number, out: string | Buffer, err?: string];
function stream(netns: [id: number, role: string, pids: string, frames: F[]][], end = true, kernel?: string): Buffer {
  const parts: Buffer[] = [Buffer.from(`netpath-collector 1 ${B}\n${B} meta 2026-01-02T03:04:05Z 100.00\n`)];
  if (kernel !== undefined) parts.push(Buffer.from(`${B} kernel ${kernel}\n`));
  for (const [id, role, pids, frames] of netns) {
    parts.push(Buffer.from(`${B} netns ${id} ${role} ${pids}\n`));
    for (const [tool, exit, out, err = ''] of frames) {
      const o = Buffer.isBuffer(out) ? out : Buffer.from(out);
      const e = Buffer.from(err);
      parts.push(Buffer.from(`${B} frame ${id} ${tool} ${exit} ${o.length} ${e.length}\n`), o, e, Buffer.from('\n'));
    }
  }
  if (end) parts.push(Buffer.from(`${B} end 101.25\n`));
  return Buffer.concat(parts);
}

test('frames: byte counts, not lines, delimit tool output', () => {
  const evil = `line\n${B} frame 7 ip-link 0 3 0\nxyz\n${B} end 1\nno trailing newline`;
  const bin = Buffer.from([0, 255, 10, 13, 0x80]);
  const f = parseFramedOutput(stream([[7, 'host', '1', [['ipset', 0, evil], ['ipvs', 0, bin]]]]));
  assert.equal(f.startedAt, '2026-01-02T03:04:05Z');
  assert.equal(f.durationMs, 1250);
  assert.equal(f.netns[0].frames[0].stdout, evil);
  assert.equal(f.netns[0].frames.length, 2);
});

test('frames: truncated or foreign streams are rejected with the reason', () => {
  const full = stream([[7, 'host', '1', [['ipset', 0, 'create x hash:ip\n']]]]);
  const cases: [Buffer, RegExp][] = [
    [stream([[7, 'host', '1', [['ipset', 0, 'x']]]], false), /truncated/],
    [full.subarray(0, full.length - 30), /truncated/],
    [Buffer.from('Error from server (NotFound): pods "x" not found\n'), /does not start with the netpath-collector header/],
    [Buffer.from(`netpath-collector 2 ${B}\n`), /format 2 is not supported/],
    [stream([[7, 'pod', '1', []]]), /no host netns/],
    [Buffer.from(full.toString().replace(' 17 0\n', ' 99 0\n')), /shorter: the output is truncated|not followed by a newline/],
  ];
  for (const [input, re] of cases) assert.throws(() => parseFramedOutput(input), (e: unknown) => e instanceof CollectorOutputError && re.test((e as Error).message));
});

test('frames: --gzip streams are unwrapped; a damaged body is an error', () => {
  const inner = stream([[7, 'host', '1', [['ipset', 0, '']]]]);
  const wrapped = Buffer.from(`netpath-collector-gzip 1\n${gzipSync(inner).toString('base64').replace(/(.{76})/g, '$1\n')}\n`);
  assert.equal(parseFramedOutput(wrapped).netns[0].id, 7);
  assert.throws(() => parseFramedOutput(wrapped.subarray(0, 60)), /gzip\+base64 body does not decode|truncated/);
});

test('convert: failures, missing tools and unparseable output become errors naming tool, netns and line', () => {
  const dump = convertCollectorOutput(stream([
    [7, 'host', '1', [
      ['ip-link', 0, '[{"ifindex":1,"ifname":"lo","flags":["UP"],"mtu":65536,"operstate":"UNKNOWN","link_type":"loopback"}]'],
      ['ip-addr', 0, '[]'],
      ['ip-route', 0, '[{"dst":"default",\n "gateway": 10.0.0.1}]'],
      ['iptables-nft', 0, '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j\nCOMMIT\n'],
      ['iptables-legacy', 0, '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'],
      ['ipvs', 127, '', 'sh: 1: ipvsadm: not found\n'],
      ['nft', 1, '', 'Error: Could not process rule: Operation not permitted\n'],
      ['ss', 0, 'tcp LISTEN 0 4096 0.0.0.0:22 0.0.0.0:*\n'],
      ['proc-sys-net', 0, '/proc/sys/net/ipv4/ip_forward:1\n/proc/sys/net/netfilter/nf_conntrack_count:5\n/proc/sys/net/netfilter/nf_conntrack_max:262144\n/proc/sys/net/ipv4/conf/eth0.100/rp_filter:2\n'],
    ]],
    [9, 'pod', '30,31', [['nsenter', 1, '', 'nsenter: cannot open /proc/30/ns/net: No such file or directory\n']]],
  ]));
  assert.equal(dump.node.id, 7);
  assert.deepEqual(dump.netns.map((n) => [n.id, n.pids]), [[9, [30, 31]]]);
  assert.equal(dump.node.routes, undefined, 'invalid JSON leaves the field absent');
  assert.equal(dump.node.ipvs, undefined);
  assert.equal(dump.node.nftables, undefined);
  assert.deepEqual(Object.keys(dump.node.iptables!), ['nft'], 'only the backend holding rules');
  assert.equal(dump.node.sysctls!['net.ipv4.conf.eth0/100.rp_filter'], '2');
  assert.deepEqual(dump.node.conntrack, { count: 5, max: 262144 });
  const e = (tool: string) => dump.collector.errors.find((x) => x.tool.startsWith(tool));
  assert.deepEqual([e('ip -j route')?.line, e('ip -j route')?.netns], [2, 7]);
  assert.match(e('ipvsadm')!.message, /ipvsadm -Sn: not found/);
  assert.equal(e('ipvsadm')!.exitCode, 127);
  assert.match(e('nft')!.message, /exit code 1: Error: Could not process rule/);
  assert.equal(e('iptables-nft-save')!.line, 3, 'the iptables parser names the bad line');
  assert.match(e('iptables-nft-save')!.message, /parser rejects it/);
  assert.equal(e('nsenter')!.netns, 9);
});

test('kernel record: release and IPv6 multicast routing reach the dump; a bad or hostile one does not', () => {
  const host: [number, string, string, F[]][] = [[7, 'host', '1', []]];
  const d = convertCollectorOutput(stream(host, true, '0 6.18.44-fc-v1300'));
  assert.deepEqual(d.kernel, { release: '6.18.44-fc-v1300', ipv6MulticastRouting: false });
  assert.deepEqual(d.collector.errors, []);
  assert.deepEqual(checkDump(JSON.parse(JSON.stringify(d)), 'dump').kernel, d.kernel, 'the schema accepts it');
  assert.deepEqual(convertCollectorOutput(stream(host, true, '1 5.15.0-91-generic #101 custom')).kernel, { release: '5.15.0-91-generic #101 custom', ipv6MulticastRouting: true }, 'the rest of the line, spaces kept');
  for (const bad of ['2 6.1.0', '1', 'x 6.1.0']) {
    assert.throws(() => parseFramedOutput(stream(host, true, bad)), /bad kernel line/, bad);
  }
  const hostile = convertCollectorOutput(stream(host, true, '1 6.1.0\u001b]0;owned\u0007'));
  assert.equal(hostile.kernel, undefined);
  assert.match(hostile.collector.errors[0].message, /kernel release "6\.1\.0\\u001b\]0;owned\\u0007" is not a plain release string; not recorded/);
  const none = convertCollectorOutput(stream(host));
  assert.equal(none.kernel, undefined, 'a stream without the record (an older collector) still converts');
  assert.match(none.collector.errors[0].message, /kernel release: neither .* could be read; the simulators assume the newest kernel/);
  // Old dumps without the field stay valid; a malformed one is named.
  const { kernel: _, ...old } = JSON.parse(JSON.stringify(d)) as NodeNetworkStackDump;
  assert.doesNotThrow(() => checkDump(old, 'dump'));
  assert.throws(() => checkDump({ ...old, kernel: { release: 'a\nb' } }, 'dump'), /kernel\.release/);
  assert.throws(() => checkDump({ ...old, kernel: { ipv6MulticastRouting: true } }, 'dump'), /kernel\.release/);
});

test('holdsRules: rules, user chains and non-ACCEPT policies count; empty tables do not', () => {
  assert.equal(holdsRules('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT\n'), false);
  assert.equal(holdsRules(''), false);
  assert.equal(holdsRules('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\nCOMMIT\n'), true);
  assert.equal(holdsRules('*filter\n:FORWARD DROP [0:0]\nCOMMIT\n'), true);
  assert.equal(holdsRules('*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n'), true);
});

test('sysctl text: sysctl output and /proc/sys paths give the same keys', () => {
  assert.deepEqual(parseSysctlLines('net.ipv4.tcp_rmem = 4096\t131072\t6291456\nsysctl: permission denied on key "x"\nnet.ipv4.ip_forward = 1\n'), {
    'net.ipv4.ip_forward': '1',
    'net.ipv4.tcp_rmem': '4096\t131072\t6291456',
  });
  assert.deepEqual(parseProcSysNet('/proc/sys/net/ipv4/tcp_rmem:4096\t131072\t6291456\n/proc/sys/net/ipv4/ip_forward:1\n'), {
    'net.ipv4.ip_forward': '1',
    'net.ipv4.tcp_rmem': '4096\t131072\t6291456',
  });
});
