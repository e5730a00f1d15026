// The nftables model and simulator on a dump made by the real nft (test/fixtures/netstack/nftables/
// sample.nft loaded with `nft -f` and listed with `nft -j list ruleset`), and on small hand-made
// rule sets for what the fixture does not show. The kernel comparison is nftables-kernel.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNftRuleset } from '../../../src/engine/netstack/nftables/model';
import { formatRule } from '../../../src/engine/netstack/nftables/format';
import type { NftPacket } from '../../../src/engine/netstack/nftables/expr';
import { chainsAtHook, conntrackInUse, runHook, startOutcome, traceNftReceive, type NftEnv } from '../../../src/engine/netstack/nftables/simulate';

const sample = parseNftRuleset(JSON.parse(readFileSync(join(__dirname, '../../fixtures/netstack/nftables/sample.json'), 'utf8')));

const env: NftEnv = {
  masqueradeSource: (oif) => (oif === 'r1' ? '10.10.2.1' : '10.10.1.1'),
  interfaceAddress: (i) => (i === 'r0' ? '10.10.1.1' : '10.10.2.1'),
  route: (p) => (p.dst.startsWith('10.10.1.') ? { kind: 'forward', oif: 'r0' } : { kind: 'forward', oif: 'r1' }),
};

const pkt = (over: Partial<NftPacket>): NftPacket => ({ family: 4, src: '10.10.1.2', dst: '10.10.2.2', proto: 'udp', sport: 40000, dport: 7, iif: 'r0', mark: 0, ct: { state: 'new', mark: 0 }, ...over });

test('every table, chain, set, map and rule of a real dump is read; unknown statements are kept', () => {
  assert.equal(sample.version, '1.0.6');
  assert.deepEqual(sample.tables.map((t) => `${t.family} ${t.name}`), ['ip kp', 'inet fw', 'netdev nd', 'bridge br', 'ip raw']);
  const kp = sample.tables[0];
  assert.deepEqual(kp.chains.get('pre')!.base, { type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept', devices: [] });
  assert.equal(kp.chains.get('svc-web')!.base, undefined);
  assert.deepEqual(sample.tables[1].chains.get('fwdc')!.base?.policy, 'drop');
  // nft 1.0.6 leaves the device of this netdev chain out of its JSON (the text listing has it):
  // the chain is read, and attached to no device.
  assert.deepEqual(sample.tables[2].chains.get('ing')!.base, { type: 'filter', hook: 'ingress', prio: -500, policy: 'accept', devices: [] });
  const cidrs = kp.sets.get('cidrs')!;
  assert.equal(cidrs.kind, 'set');
  assert.deepEqual(cidrs.flags, ['interval']);
  assert.equal(cidrs.elements.length, 2);
  const svc = kp.sets.get('svc-ips')!;
  assert.deepEqual([svc.kind, svc.type, svc.map], ['map', ['ipv4_addr', 'inet_proto', 'inet_service'], 'verdict']);
  assert.deepEqual(svc.elements[0], { key: { concat: ['10.96.0.10', 'tcp', 80] }, data: { goto: { target: 'svc-web' } } });
  assert.equal(kp.sets.get('ports')!.map, 'ipv4_addr . inet_service');
  const raw = sample.tables[4].chains.get('pre')!;
  assert.deepEqual(raw.rules[0].notUnderstood, [], 'notrack is modelled');
  assert.equal(raw.rules[1].notUnderstood.length, 0, 'fib is inside a match: the statement is known, the expression is judged when evaluated');
  assert.equal(sample.tables.reduce((n, t) => n + [...t.chains.values()].reduce((m, c) => m + c.rules.length, 0), 0), 25);
});

test('rules print as nft prints them, with table, chain and handle', () => {
  const rule = (t: number, c: string, i: number) => formatRule([...sample.tables[t].chains.get(c)!.rules][i]);
  assert.equal(rule(0, 'post', 0), 'table ip kp chain post handle 22: meta mark & 0x00004000 == 0x00004000 masquerade');
  assert.equal(rule(1, 'fwdc', 2), 'table inet fw chain fwdc handle 5: iifname "r0" oifname "r1" udp dport 7 accept');
  assert.equal(rule(1, 'fwdc', 4), 'table inet fw chain fwdc handle 7: tcp flags & (syn | ack) == syn reject with tcp reset');
  assert.equal(rule(0, 'svc-web', 1), 'table ip kp chain svc-web handle 18: numgen random mod 3 vmap { 0 : goto ep1, 1 : goto ep2, 2 : jump ep3 }');
  assert.equal(rule(4, 'pre', 0), 'table ip raw chain pre handle 2: udp dport 5000 notrack');
});

test('names from the dump are quoted, never spliced raw into the evidence', () => {
  const rs = parseNftRuleset({ nftables: [
    { chain: { family: 'ip', table: 't x', name: 'c\n; drop', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
    { rule: { family: 'ip', table: 't x', chain: 'c\n; drop', handle: 2, comment: 'say "hi"\n', expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'e"vil\n' } }, { accept: null }] } },
  ] });
  const text = formatRule(rs.tables[0].chains.get('c\n; drop')!.rules[0]);
  assert.equal(text, 'table ip "t x" chain "c\\n; drop" handle 2: iifname "e\\"vil\\n" accept comment "say \\"hi\\"\\n"');
  assert.ok(!text.includes('\n'));
});

test('a service packet: the verdict map, goto, numgen branches with their probabilities, dnat, and the forward reject', () => {
  const outs = traceNftReceive(sample, pkt({ proto: 'tcp', dst: '10.96.0.10', dport: 80, tcpFlags: ['syn'] }), env);
  // fib (raw prerouting) is not modelled: every numgen branch twice, once per way of the fib rule.
  assert.equal(outs.length, 6);
  for (const o of outs) {
    assert.equal(o.verdict, 'reject');
    assert.equal(o.decidedBy, 'table inet fw chain fwdc handle 7: tcp flags & (syn | ack) == syn reject with tcp reset');
    assert.deepEqual(o.reject, { type: 'tcp reset', expr: undefined });
    assert.deepEqual(o.undecided.map((u) => u.where), ['table ip raw chain pre handle 3']);
    assert.match(o.undecided[0].reason, /fib/);
  }
  const oneWay = outs.filter((o) => o.branches[0].startsWith('assumed not matching'));
  assert.equal(oneWay.length, 3);
  assert.ok(Math.abs(oneWay.reduce((s, o) => s + o.probability, 0) - 1) < 1e-9);
  // ep1 and ep2 dnat; ep3 (jumped to) matches only UDP and returns to svc-web, whose end does not
  // return to pre: svc-web was entered by goto, so the base chain's policy (accept) ends it, no NAT.
  assert.deepEqual(oneWay.map((o) => `${o.packet.dst}:${o.packet.dport}`).sort(), ['10.10.2.2:8080', '10.10.2.3:80', '10.96.0.10:80']);
  const ep3 = oneWay.find((o) => o.branches.includes('numgen random mod 3 = 2'))!;
  assert.deepEqual(ep3.path.filter((s) => s.hook === 'prerouting').map((s) => s.rule.handle), [10, 18]);
  assert.ok(!ep3.counted.includes('ip kp pre 11'));
});

test('a forwarded packet: accept by rule, snat in postrouting (nat chains run once, stop at the first binding)', () => {
  const outs = traceNftReceive(sample, pkt({}), env).filter((o) => o.branches[0].startsWith('assumed not matching'));
  assert.equal(outs.length, 1);
  const [o] = outs;
  assert.equal(o.verdict, 'accept');
  assert.deepEqual([o.packet.src, o.packet.dst, o.packet.oif], ['10.10.2.1', '10.10.2.2', 'r1']);
  assert.deepEqual(o.nat, { src: true });
  assert.deepEqual(o.path.map((s) => `${s.hook} ${s.rule.handle}`), ['prerouting 11', 'forward 5', 'postrouting 23']);
  // An established packet meets no nat chain.
  const est = traceNftReceive(sample, pkt({ ct: { state: 'established', mark: 0 } }), env).filter((x) => x.branches[0].startsWith('assumed not matching'));
  assert.deepEqual(est.map((x) => [x.verdict, x.packet.src, x.path.map((s) => s.rule.handle).join()]), [['accept', '10.10.1.2', '3']]);
});

test('policies, jump/return, limit both ways, ct mark, mark maps', () => {
  const rs = parseNftRuleset({ nftables: [
    { chain: { family: 'inet', table: 't', name: 'f', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'drop' } },
    { chain: { family: 'inet', table: 't', name: 'sub', handle: 2 } },
    { map: { family: 'inet', table: 't', name: 'm', type: 'inet_service', map: 'mark', handle: 3, elem: [[7, 5]] } },
    { rule: { family: 'inet', table: 't', chain: 'f', handle: 4, expr: [{ mangle: { key: { meta: { key: 'mark' } }, value: { map: { key: { payload: { protocol: 'udp', field: 'dport' } }, data: '@m' } } } }] } },
    { rule: { family: 'inet', table: 't', chain: 'f', handle: 5, expr: [{ jump: { target: 'sub' } }] } },
    { rule: { family: 'inet', table: 't', chain: 'f', handle: 6, expr: [{ match: { op: '==', left: { meta: { key: 'mark' } }, right: 5 } }, { limit: { rate: 1, per: 'second' } }, { accept: null }] } },
    { rule: { family: 'inet', table: 't', chain: 'sub', handle: 7, expr: [{ mangle: { key: { ct: { key: 'mark' } }, value: 9 } }, { return: null }] } },
    { rule: { family: 'inet', table: 't', chain: 'sub', handle: 8, expr: [{ drop: null }] } },
  ] });
  assert.equal(conntrackInUse(rs, 4), true);
  const outs = traceNftReceive(rs, pkt({}), env);
  assert.deepEqual(outs.map((o) => [o.verdict, o.packet.mark, o.packet.ct.mark, o.probability, o.branches.length]).sort(), [['accept', 5, 9, 0.5, 1], ['drop', 5, 9, 0.5, 1]]);
  assert.match(outs.find((o) => o.verdict === 'drop')!.decidedBy!, /^policy drop of table inet t chain f \{ type filter hook forward priority 0; policy drop; \}$/);
  // No element for port 8: the mark rule ends (no mark), the limit rule is not reached past its match.
  const other = traceNftReceive(rs, pkt({ dport: 8 }), env);
  assert.deepEqual(other.map((o) => [o.verdict, o.packet.mark, o.branches.length]), [['drop', 0, 0]]);
});

test('hook order: by priority; nat chains inside the NAT core hook; equal priorities newest first', () => {
  const chain = (table: string, type: string, prio: number) => [
    { table: { family: 'ip', name: table, handle: 1 } },
    { chain: { family: 'ip', table, name: 'c', handle: 1, type, hook: 'prerouting', prio, policy: 'accept' } },
  ];
  const rs = parseNftRuleset({ nftables: [...chain('a', 'filter', -100), ...chain('n2', 'nat', -90), ...chain('n1', 'nat', -150), ...chain('b', 'filter', -100), ...chain('z', 'filter', -120)] });
  assert.deepEqual(chainsAtHook(rs, 4, 'prerouting').map((c) => c.table), ['z', 'b', 'n1', 'n2', 'a']);
  assert.equal(conntrackInUse(parseNftRuleset({ nftables: chain('a', 'filter', 0) }), 4), false);
});

test('a jump to a chain the dump does not have is undecided, not a crash', () => {
  const rs = parseNftRuleset({ nftables: [
    { chain: { family: 'ip', table: 't', name: 'f', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
    { rule: { family: 'ip', table: 't', chain: 'f', handle: 2, expr: [{ jump: { target: 'gone' } }] } },
  ] });
  const outs = traceNftReceive(rs, pkt({}), env);
  assert.deepEqual(outs.map((o) => o.verdict).sort(), ['accept', 'drop']);
  for (const o of outs) assert.deepEqual(o.undecided, [{ where: 'table ip t chain f handle 2', reason: 'jump to "gone", a chain the dump does not have' }]);
});

test('one hook, limited to some of its chains (for interleaving with other stages)', () => {
  const rs = parseNftRuleset({ nftables: [
    { chain: { family: 'ip', table: 'a', name: 'f', handle: 1, type: 'filter', hook: 'forward', prio: -10, policy: 'drop' } },
    { chain: { family: 'inet', table: 'b', name: 'f', handle: 1, type: 'filter', hook: 'forward', prio: 10, policy: 'accept' } },
    { rule: { family: 'inet', table: 'b', chain: 'f', handle: 2, expr: [{ counter: { packets: 0, bytes: 0 } }] } },
  ] });
  const all = runHook(rs, 'forward', startOutcome(pkt({ oif: 'r1' })), env);
  assert.deepEqual(all.map((o) => [o.verdict, o.counted.length]), [['drop', 0]]);
  const late = runHook(rs, 'forward', startOutcome(pkt({ oif: 'r1' })), env, (c) => c.base!.prio > 0);
  assert.deepEqual(late.map((o) => [o.verdict, o.counted]), [['accept', ['inet b f 2']]]);
});

test('icmp / icmpv6 type and code: nft 1.0.6 names, numbers, ranges, sets and concatenations, from the packet; printed as nft prints them', () => {
  const icmp = (protocol: string, field: string) => ({ payload: { protocol, field } });
  const rules = [
    [{ match: { op: '==', left: icmp('icmpv6', 'type'), right: { set: ['nd-neighbor-solicit', 'nd-neighbor-advert'] } } }, { accept: null }],
    [{ match: { op: '==', left: { concat: [icmp('icmp', 'type'), icmp('icmp', 'code')] }, right: { set: [{ concat: ['destination-unreachable', { range: ['host-unreachable', 'port-unreachable'] }] }] } } }, { drop: null }],
    [{ match: { op: '==', left: icmp('icmpv6', 'code'), right: { set: ['no-route', { range: ['addr-unreachable', 'port-unreachable'] }] } } }, { reject: null }],
    [{ match: { op: '==', left: icmp('icmp', 'type'), right: 200 } }, { drop: null }],
    [{ match: { op: '!=', left: icmp('icmpv6', 'type'), right: { range: ['destination-unreachable', 'parameter-problem'] } } }, { drop: null }],
    [{ match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'ipv6-icmp' } }, { match: { op: '==', left: icmp('icmpv6', 'type'), right: 'packet-too-big' } }, { accept: null }],
    [{ match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'ipv6-icmp' } }, { drop: null }],
  ];
  const rs = parseNftRuleset({ nftables: [
    { chain: { family: 'inet', table: 'fw', name: 'f', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
    ...rules.map((expr, i) => ({ rule: { family: 'inet', table: 'fw', chain: 'f', handle: i + 2, expr } })),
  ] });
  assert.deepEqual(rs.tables[0].chains.get('f')!.rules.map((r) => formatRule(r).replace(/^.*: /, '')), [
    'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept',
    'icmp type . icmp code { destination-unreachable . 1-3 } drop',
    'icmpv6 code { no-route, 3-4 } reject',
    'icmp type 200 drop',
    'icmpv6 type != 1-4 drop',
    'meta l4proto ipv6-icmp icmpv6 type packet-too-big accept',
    'meta l4proto ipv6-icmp drop',
  ]);
  const v6 = (icmpType: number | undefined, icmpCode = 0) => pkt({ family: 6, src: 'fd10:1::2', dst: 'fd10:2::2', proto: 'icmpv6', sport: undefined, dport: undefined, icmpType, icmpCode });
  const v4 = (icmpType: number, icmpCode = 0) => pkt({ proto: 'icmp', sport: undefined, dport: undefined, icmpType, icmpCode });
  const fate = (p: NftPacket) => {
    const outs = traceNftReceive(rs, p, env);
    assert.equal(outs.length, 1);
    assert.deepEqual(outs[0].undecided, []);
    const last = outs[0].path[outs[0].path.length - 1];
    return `${outs[0].verdict}${last ? ` #${last.rule.handle}` : ''}`;
  };
  assert.equal(fate(v6(135)), 'accept #2');
  assert.equal(fate(v6(136)), 'accept #2');
  assert.equal(fate(v6(2)), 'reject #4', 'packet-too-big, code no-route');
  assert.equal(fate(v6(2, 5)), 'accept #7', 'packet-too-big code 5: not rejected, in 1-4, accepted by type');
  assert.equal(fate(v6(1, 2)), 'drop #8', 'destination-unreachable code 2: the packet-too-big accept does not match');
  assert.equal(fate(v6(128, 5)), 'drop #6', 'echo-request is not in 1-4');
  assert.equal(fate(v4(3, 2)), 'drop #3');
  assert.equal(fate(v4(3, 4)), 'accept');
  assert.equal(fate(v4(200)), 'drop #5');
  assert.equal(fate(pkt({})), 'accept', 'a UDP packet has no ICMP type: the icmp matches do not match');
  // A packet whose type the caller does not know: the type rule is evaluated both ways.
  const unknown = traceNftReceive(rs, v6(undefined), env);
  assert.ok(unknown.some((o) => o.undecided.some((u) => u.reason === 'icmpv6 type of a packet whose ICMP type is not known')));
});
