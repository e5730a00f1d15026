// Netfilter simulator unit tests: traversal (jump, goto, RETURN, policies), NAT rewriting,
// statistic enumeration, unknown rules, the ipset callback with every src/dst flag combination,
// conntrack/nat bindings (the bug the kernel test found), and the destination index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIptablesSave } from '../../../src/engine/netstack/iptables/parse';
import { KNOWN_MATCHES, KNOWN_TARGETS } from '../../../src/engine/netstack/iptables/known';
import { MODELLED_MATCHES } from '../../../src/engine/netstack/netfilter/matches';
import { MODELLED_TARGETS } from '../../../src/engine/netstack/netfilter/targets';
import { traceHook } from '../../../src/engine/netstack/netfilter/trace';
import { traceReceive, traceSend } from '../../../src/engine/netstack/netfilter/sequence';
import { compiledChain } from '../../../src/engine/netstack/netfilter/compile';
import type { NetfilterEnv, NfPacket, SetMatchPacket } from '../../../src/engine/netstack/netfilter/packet';
import { formatIP } from '../../../src/engine/netstack/ip';

const FIX = join(import.meta.dirname, '../../fixtures/netstack/iptables');
const rs = (body: string, family: 4 | 6 = 4) => parseIptablesSave(body, { family });
const pkt = (p: Partial<NfPacket> = {}): NfPacket => ({ family: 4, src: '10.1.0.2', dst: '10.2.0.3', proto: 'tcp', sport: 40000, dport: 80, iif: 'eth0', ...p });
const steps = (o: { path: { chain: string; rule: number }[] }) => o.path.map((s) => `${s.chain}#${s.rule}`);

test('every known module and target is modelled', () => {
  for (const m of KNOWN_MATCHES) assert.ok(MODELLED_MATCHES.has(m), m);
  for (const t of KNOWN_TARGETS) assert.ok(MODELLED_TARGETS.has(t), t);
});

test('jump returns, goto returns to the caller of the caller, policy decides at the end', () => {
  const r = rs(`*filter
:INPUT DROP [0:0]
:A - [0:0]
:B - [0:0]
-A INPUT -j A
-A INPUT -p tcp -j ACCEPT
-A A -g B
-A A -j DROP
-A B -p udp -j RETURN
-A B -j MARK --set-mark 0x5
COMMIT
`);
  const [o] = traceHook(r, 'INPUT', pkt(), {});
  // B ends → back to INPUT (not to A's rule 2, since A went to B by goto).
  assert.deepEqual(steps(o), ['INPUT#1', 'A#1', 'B#2', 'INPUT#2']);
  assert.equal(o.verdict, 'ACCEPT');
  assert.equal(o.packet.mark, 5, 'MARK continues');
  const [u] = traceHook(r, 'INPUT', pkt({ proto: 'udp' }), {});
  assert.deepEqual(steps(u), ['INPUT#1', 'A#1', 'B#1', 'INPUT#0']);
  assert.equal(u.verdict, 'DROP');
  assert.equal(u.decidedBy!.effect, 'POLICY DROP');
});

test('negations, wildcards, multiport, iprange, tcp flags', () => {
  const r = rs(`*filter
:FORWARD ACCEPT [0:0]
-A FORWARD ! -s 10.1.0.0/16 -j DROP
-A FORWARD -i veth+ -j DROP
-A FORWARD -p tcp -m tcp ! --syn -j DROP
-A FORWARD -p tcp -m multiport ! --dports 1:79,81 -m iprange --dst-range 10.2.0.1-10.2.0.5 -j REJECT --reject-with tcp-reset
COMMIT
`);
  assert.equal(traceHook(r, 'FORWARD', pkt({ src: '10.9.0.1' }), {})[0].decidedBy!.rule, 1);
  assert.equal(traceHook(r, 'FORWARD', pkt({ iif: 'veth12' }), {})[0].decidedBy!.rule, 2);
  assert.equal(traceHook(r, 'FORWARD', pkt({ tcpFlags: ['ACK'] }), {})[0].decidedBy!.rule, 3);
  const o = traceHook(r, 'FORWARD', pkt(), {})[0];
  assert.equal(o.verdict, 'REJECT');
  assert.equal(o.rejectWith, 'tcp-reset');
  assert.equal(traceHook(r, 'FORWARD', pkt({ dst: '10.2.0.9' }), {})[0].decidedBy!.effect, 'POLICY ACCEPT');
});

test('kube-proxy statistic branches are enumerated with probabilities and DNAT rewrites', () => {
  const r = parseIptablesSave(readFileSync(join(FIX, 'rich-nft.iptables-save.txt'), 'utf8'));
  const out = traceHook(r, 'PREROUTING', pkt({ dst: '10.96.0.10' }), { addressType: () => 'UNICAST', rpfilter: () => true });
  assert.equal(out.length, 3);
  assert.deepEqual(out.map((o) => o.packet.dst).sort(), ['10.244.1.5', '10.244.2.5', '10.244.3.5']);
  assert.ok(Math.abs(out.reduce((a, o) => a + o.probability, 0) - 1) < 1e-9);
  const sep1 = out.find((o) => o.packet.dst === '10.244.1.5')!;
  assert.equal(sep1.packet.dport, 8080);
  assert.ok(Math.abs(sep1.probability - 0.33333333349) < 1e-9);
  assert.deepEqual(sep1.branches.map((b) => b.matched), [true]);
  assert.equal(sep1.packet.mark! & 0x4000, 0x4000, 'KUBE-MARK-MASQ');
  assert.equal(sep1.nat[0].kind, 'DNAT');
  assert.equal(sep1.packet.ct!.reply!.src, '10.244.1.5');
  const sep2 = out.find((o) => o.packet.dst === '10.244.2.5')!;
  assert.match(sep2.nat[0].range!, /10\.244\.2\.5-10\.244\.2\.9:8080-8090/);
  assert.deepEqual(out.flatMap((o) => o.notUnderstood), []);
});

test('unknown matches and targets: the rule is skipped and reported, the trace goes on', () => {
  const r = rs(`*filter
:INPUT ACCEPT [0:0]
-A INPUT -p udp -m u32 --u32 "0x0=0x1" -j DROP
-A INPUT -p tcp -m u32 --u32 "0x0=0x1" -j DROP
-A INPUT -p tcp -j FANCYTARGET
-A INPUT -p tcp -m set --match-set S src -j DROP
-A INPUT -p tcp -j DROP
COMMIT
`);
  const [o] = traceHook(r, 'INPUT', pkt(), {});
  assert.equal(o.decidedBy!.rule, 5);
  assert.deepEqual(o.notUnderstood.map((n) => n.rule), [2, 3, 4], 'rule 1 is not reported: its -p udp did not match');
  assert.match(o.notUnderstood[0].reason, /u32/);
  assert.match(o.notUnderstood[2].reason, /ipset/);
});

test('set match: the callback gets the flags and the current (NATed) packet', () => {
  const calls: string[] = [];
  const env: NetfilterEnv = {
    ipset: (name, flags, p: SetMatchPacket) => {
      calls.push(`${name} ${flags.join(',')}`);
      if (name === 'MISSING') return undefined;
      const parts = flags.map((f, i) => (i === 0 ? formatIP(f === 'src' ? p.src : p.dst) : String(f === 'src' ? p.sport : p.dport)));
      return parts.join(',') === { 'SRC': '10.1.0.2', 'DST': '10.2.0.3', 'SD': '10.1.0.2,80', 'DS': '10.2.0.3,40000', 'SS': '10.1.0.2,40000', 'DD': '10.2.0.3,80' }[name];
    },
  };
  const combos = ['SRC src', 'DST dst', 'SD src,dst', 'DS dst,src', 'SS src,src', 'DD dst,dst'];
  for (const c of combos) {
    const [name, flags] = c.split(' ');
    for (const neg of [false, true]) {
      const r = rs(`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m set ${neg ? '! ' : ''}--match-set ${name} ${flags} -j DROP\nCOMMIT\n`);
      assert.equal(traceHook(r, 'INPUT', pkt(), env)[0].verdict, neg ? 'ACCEPT' : 'DROP', `${c} negated=${neg}`);
    }
  }
  assert.equal(calls.length, 12);
  const missing = traceHook(rs('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m set --match-set MISSING src -j DROP\nCOMMIT\n'), 'INPUT', pkt(), env)[0];
  assert.match(missing.notUnderstood[0].reason, /MISSING is not in the ipset dump/);
});

test('nat runs once per connection; MASQUERADE and SNAT rewrite the source; full receive path', () => {
  const r = rs(`*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.2.0.3:6443
-A POSTROUTING -o eth1 -j MASQUERADE
COMMIT
*filter
:FORWARD DROP [0:0]
-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT
COMMIT
`);
  const env: NetfilterEnv = {
    masqueradeSource: (oif) => (oif === 'eth1' ? '10.2.0.1' : undefined),
    route: (p) => (p.dst.startsWith('10.2.') ? { kind: 'forward', oif: 'eth1' } : { kind: 'unroutable', reason: 'no route' }),
  };
  const [o] = traceReceive(r, pkt({ dst: '10.96.0.1', dport: 443 }), env);
  assert.equal(o.fate, 'sent');
  assert.deepEqual([o.packet.src, o.packet.dst, o.packet.dport], ['10.2.0.1', '10.2.0.3', 6443]);
  assert.deepEqual(o.packet.ct!.reply, { src: '10.2.0.3', dst: '10.2.0.1', sport: 6443, dport: 40000 });
  assert.deepEqual(o.hooks, ['PREROUTING', 'FORWARD', 'POSTROUTING']);
  // Not the first packet of the connection: no nat table, and FORWARD policy drops a non-DNAT packet.
  const [e] = traceHook(r, 'PREROUTING', pkt({ dst: '10.96.0.1', dport: 443, ct: { state: 'ESTABLISHED', confirmed: true } }), env);
  assert.deepEqual(e.path, []);
  assert.equal(e.packet.dst, '10.96.0.1');
  const [f] = traceHook(r, 'FORWARD', pkt({ dst: '10.2.0.3', ct: { state: 'ESTABLISHED', confirmed: true } }), env);
  assert.equal(f.verdict, 'DROP');
  const [u] = traceReceive(r, pkt({ dst: '192.0.2.1' }), env);
  assert.equal(u.fate, 'unroutable');
});

test('bug found by the kernel test: a RELATED tcp reset passes nat POSTROUTING when the connection has no SNAT binding yet', () => {
  const r = rs(`*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -j ACCEPT
-A POSTROUTING -j ACCEPT
COMMIT
`);
  const reset = pkt({ proto: 'tcp', tcpFlags: ['RST', 'ACK'], iif: undefined, oif: 'eth0', ct: { state: 'RELATED', natInitialized: { dst: true } } });
  const [o] = traceSend(r, reset, { route: () => ({ kind: 'output', oif: 'eth0' }) });
  assert.deepEqual(steps(o), ['POSTROUTING#1'], 'nat OUTPUT skipped (dst binding made), nat POSTROUTING runs');
  // An ICMP error is translated from its connection, never by the nat table.
  const icmp = pkt({ proto: 'icmp', icmpType: 3, icmpCode: 3, sport: undefined, dport: undefined, iif: undefined, ct: { state: 'RELATED', natInitialized: { dst: true } } });
  assert.deepEqual(steps(traceSend(r, icmp, { route: () => ({ kind: 'output', oif: 'eth0' }) })[0]), []);
});

test('raw NOTRACK makes the packet UNTRACKED: no nat, state UNTRACKED matches', () => {
  const r = rs(`*raw
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p udp -j CT --notrack
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -j DNAT --to-destination 10.9.9.9
COMMIT
`);
  const [o] = traceHook(r, 'PREROUTING', pkt({ proto: 'udp' }), {});
  assert.equal(o.packet.ct!.state, 'UNTRACKED');
  assert.equal(o.packet.dst, '10.2.0.3');
  assert.equal(traceHook(r, 'PREROUTING', pkt(), {})[0].packet.dst, '10.9.9.9');
});

test('CONNMARK save/restore with masks, MARK xmark/or/and', () => {
  const r = rs(`*mangle
:PREROUTING ACCEPT [0:0]
-A PREROUTING -j MARK --set-xmark 0x1234/0xffff
-A PREROUTING -j CONNMARK --save-mark --nfmask 0xff00 --ctmask 0xffff
-A PREROUTING -j MARK --and-mark 0x0
-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xf0 --ctmask 0xf0
-A PREROUTING -j MARK --or-mark 0x10000
COMMIT
`);
  const [o] = traceHook(r, 'PREROUTING', pkt({ ct: { state: 'NEW', mark: 0xabcd } }), {});
  assert.equal(o.packet.ct!.mark, 0x1200);
  assert.equal(o.packet.mark, 0x10000);
});

test('IPv6: DNAT with brackets, icmp6 names, hop limit', () => {
  const r = parseIptablesSave(readFileSync(join(FIX, 'rich-nft.ip6tables-save.txt'), 'utf8'));
  const [o] = traceHook(r, 'PREROUTING', { family: 6, src: '2001:db8::9', dst: 'fd00:96::10', proto: 'tcp', sport: 1000, dport: 80, iif: 'eth0' }, { rpfilter: () => false });
  assert.deepEqual([o.packet.dst, o.packet.dport], ['fd00:244::5', 8080]);
  const [ns] = traceHook(r, 'INPUT', { family: 6, src: 'fe80::1', dst: 'fd00::1', proto: 'icmpv6', icmpType: 135, iif: 'eth0' }, { ipset: () => false });
  assert.equal(ns.decidedBy!.rule, 2);
});

test('physdev, addrtype, owner without socket, statistic nth', () => {
  const r = rs(`*filter
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m physdev --physdev-in veth+ --physdev-is-bridged -j DROP
-A FORWARD -m physdev ! --physdev-is-in -m addrtype --dst-type LOCAL -j REJECT
-A OUTPUT -m owner --uid-owner 1000 -j DROP
-A OUTPUT -m statistic --mode nth --every 4 --packet 0 -j DROP
COMMIT
`);
  assert.equal(traceHook(r, 'FORWARD', pkt({ physIn: 'veth1', physOut: 'veth2' }), {})[0].verdict, 'DROP');
  assert.equal(traceHook(r, 'FORWARD', pkt(), { addressType: () => 'LOCAL' })[0].verdict, 'REJECT');
  const out = traceHook(r, 'OUTPUT', pkt({ iif: undefined }), {});
  assert.deepEqual(out.map((o) => [o.verdict, o.probability]).sort(), [['ACCEPT', 0.75], ['DROP', 0.25]]);
  assert.equal(traceHook(r, 'OUTPUT', pkt({ iif: undefined, owner: { uid: 1000 } }), {})[0].decidedBy!.rule, 1);
});

test('big chains are indexed by destination and give the same answer', () => {
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]'];
  for (let i = 0; i < 500; i++) lines.push(`:S${i} - [0:0]`);
  lines.push('-A PREROUTING -j KUBE-SERVICES');
  for (let i = 0; i < 500; i++) lines.push(`-A KUBE-SERVICES -d 10.96.${i >> 8}.${i & 255}/32 -p tcp -m tcp --dport 80 -j S${i}`);
  lines.push('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j RETURN');
  for (let i = 0; i < 500; i++) lines.push(`-A S${i} -j DNAT --to-destination 10.244.${i >> 8}.${i & 255}:8080`);
  lines.push('COMMIT');
  const r = rs(lines.join('\n') + '\n');
  const cc = compiledChain(r, 'nat', 'KUBE-SERVICES')!;
  assert.ok(cc.index);
  assert.equal(cc.index.indexedRules, 500);
  for (const i of [0, 77, 499]) {
    const [o] = traceHook(r, 'PREROUTING', pkt({ dst: `10.96.${i >> 8}.${i & 255}` }), { addressType: () => 'UNICAST' });
    assert.equal(o.packet.dst, `10.244.${i >> 8}.${i & 255}`);
    assert.deepEqual(steps(o), ['PREROUTING#1', `KUBE-SERVICES#${i + 1}`, `S${i}#1`]);
  }
  const [miss] = traceHook(r, 'PREROUTING', pkt({ dst: '10.2.0.3' }), { addressType: () => 'LOCAL' });
  assert.deepEqual(steps(miss), ['PREROUTING#1', 'KUBE-SERVICES#501', 'PREROUTING#0']);
});

test('OUTPUT routes again only after what the kernel re-routes for: mangle and DNAT, not a mark set in filter (ip_route_me_harder)', () => {
  const r = rs(`*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -p tcp --dport 81 -j MARK --set-mark 0x9
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -p tcp --dport 82 -j DNAT --to-destination 10.2.0.9
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -p tcp --dport 80 -j MARK --set-mark 0x9
COMMIT
`);
  let routed = 0;
  const env = { route: () => (routed++, { kind: 'output' as const, oif: 'eth0' }) };
  const times = (dport: number) => {
    routed = 0;
    traceSend(r, pkt({ iif: undefined, dport }), env);
    return routed;
  };
  assert.equal(times(80), 1, 'filter MARK: no second lookup');
  assert.equal(times(81), 2, 'mangle MARK: routed again');
  assert.equal(times(82), 2, 'DNAT: routed again');
});
