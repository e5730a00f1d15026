// Native nftables chains on the packet's path, simulated by the walk next to the iptables rules
// of a real lab cluster (flannel host-gw, kube-proxy iptables mode on iptables-nft): at each hook
// in priority order, an accept ending only its own base chain, NAT changing where the packet goes,
// marks feeding later rules, and what netpath does not model named as undecided.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SuspicionLevel } from '../../src/engine/model/suspicion';
import type { NetpathSnapshot } from '../../src/engine/snapshot/types';
import { addFilterRules, diagnose, findingsOf, hostOf, labSnapshot, WEB2, WEB2_IP } from './honest-fixture';

const FLANNEL = 'flannel-host-gw--healthy';

type Json = unknown;
const daddr = (ip: string) => ({ match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: ip } });
const dport = (p: number) => ({ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: p } });
const mark = (m: number) => ({ match: { op: '==', left: { meta: { key: 'mark' } }, right: m } });
const setMark = (m: number) => ({ mangle: { key: { meta: { key: 'mark' } }, value: m } });

interface ChainSpec {
  name: string;
  hook: string;
  prio: number;
  type?: string;
  policy?: 'accept' | 'drop';
  rules: Json[][];
}

/** Adds a native table with base chains to `node`'s nft dump (after iptables-nft's tables, as if added later). */
function addTable(s: NetpathSnapshot, node: string, family: string, table: string, chains: ChainSpec[]): void {
  const nft = hostOf(s, node).nftables as { nftables: Json[] };
  nft.nftables.push({ table: { family, name: table, handle: 90 } });
  let handle = 1;
  for (const c of chains) {
    nft.nftables.push({ chain: { family, table, name: c.name, handle: handle++, type: c.type ?? 'filter', hook: c.hook, prio: c.prio, policy: c.policy ?? 'accept' } });
    for (const expr of c.rules) nft.nftables.push({ rule: { family, table, chain: c.name, handle: handle++, expr } });
  }
}

const web2 = (s: NetpathSnapshot) => diagnose(s, WEB2.src, WEB2.dst, WEB2.port);

test('a native drop in forward at priority 0 (inet table): unreachable, a FATAL finding with the rule as nft prints it', () => {
  const s = labSnapshot(FLANNEL);
  addTable(s, 'node2', 'inet', 'guard', [{ name: 'gate', hook: 'forward', prio: 0, rules: [[daddr(WEB2_IP), dport(8080), { drop: null }]] }]);
  const r = web2(s);
  assert.equal(r.verdict, 'unreachable');
  const f = findingsOf(r, 'node2').find((x) => x.check === 'nftables.drop');
  assert.ok(f, 'nftables.drop on node2');
  assert.equal(f.level, SuspicionLevel.FATAL);
  assert.deepEqual(f.evidence.map((e) => [e.kind, e.text]), [['nftables', `table inet guard chain gate handle 2: ip daddr ${WEB2_IP} tcp dport 8080 drop`]]);
  assert.match(f.evidence[0].where!, /^node2 table inet guard chain gate handle 2 \(hook forward priority 0\)$/);
  assert.ok(!r.nodes.some((n) => n.suspicions.some((x) => x.undecided)), 'nothing undecided');
  // The reply (port 8080 is its source) is not matched either way: only the request is dropped.
  assert.equal(findingsOf(r, 'node2').filter((x) => x.check === 'nftables.drop').length, 1);
});

test('an accept in one base chain does not stop another base chain\'s drop at the same hook (before or after iptables filter)', () => {
  for (const [early, late] of [[-10, 10], [10, -10]] as const) {
    const s = labSnapshot(FLANNEL);
    addTable(s, 'node2', 'ip', 'a', [{ name: 'ok', hook: 'forward', prio: early, rules: [[daddr(WEB2_IP), { accept: null }]] }]);
    addTable(s, 'node2', 'ip', 'b', [{ name: 'no', hook: 'forward', prio: late, rules: [[daddr(WEB2_IP), dport(8080), { drop: null }]] }]);
    const r = web2(s);
    assert.equal(r.verdict, 'unreachable', `accept at ${early}, drop at ${late}`);
    const f = findingsOf(r, 'node2').find((x) => x.check === 'nftables.drop');
    assert.match(f!.message, /table ip b chain no handle 2 \(hook forward priority (-10|10)\)/);
  }
});

test('native chains at -10 and +10 around the iptables filter table: a mark set at -10 is seen by iptables, one set at +10 is not', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node2', ['-A FORWARD -m mark --mark 0x7 -j DROP']);
  addTable(s, 'node2', 'ip', 'before', [{ name: 'm', hook: 'forward', prio: -10, rules: [[daddr(WEB2_IP), setMark(7)]] }]);
  const r = web2(s);
  assert.equal(r.verdict, 'unreachable');
  const f = findingsOf(r, 'node2').find((x) => x.check === 'iptables.drop');
  assert.ok(f, 'iptables drops the packet nftables marked before it');
  assert.deepEqual(f.evidence.map((e) => e.text), ['-A FORWARD -m mark --mark 0x7 -j DROP']);

  const t = labSnapshot(FLANNEL);
  addFilterRules(t, 'node2', ['-A FORWARD -m mark --mark 0x7 -j DROP']);
  addTable(t, 'node2', 'ip', 'after', [{ name: 'm', hook: 'forward', prio: 10, rules: [[daddr(WEB2_IP), setMark(7)], [mark(7), { drop: null }]] }]);
  const r2 = web2(t);
  assert.equal(r2.verdict, 'unreachable');
  // iptables ran first (mark 0): the drop is nftables' own, at +10.
  assert.ok(!findingsOf(r2, 'node2').some((x) => x.check === 'iptables.drop'));
  assert.match(findingsOf(r2, 'node2').find((x) => x.check === 'nftables.drop')!.message, /priority 10\)/);
});

test('an iptables drop before a native chain: the native chain never sees the packet', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node2', [`-A FORWARD -d ${WEB2_IP}/32 -j DROP`]);
  addTable(s, 'node2', 'ip', 'late', [{ name: 'f', hook: 'forward', prio: 10, rules: [[daddr(WEB2_IP), { drop: null }]] }]);
  const f = findingsOf(web2(s), 'node2');
  assert.ok(f.some((x) => x.check === 'iptables.drop'));
  assert.ok(!f.some((x) => x.check === 'nftables.drop'));
});

test('a native dnat in prerouting changes where the packet goes (NAT and conntrack as for iptables)', () => {
  const s = labSnapshot(FLANNEL);
  // node1 sends what the client addresses to web2 on port 8080 to web2 on 9999, which node2's
  // NetworkPolicy rules (iptables) do not allow.
  addTable(s, 'node1', 'ip', 'redir', [
    { name: 'pre', hook: 'prerouting', prio: -100, type: 'nat', rules: [[daddr(WEB2_IP), dport(8080), { dnat: { addr: WEB2_IP, port: 9999 } }]] },
  ]);
  const r = web2(s);
  assert.equal(r.verdict, 'unreachable');
  const link = r.links.find((l) => l.source === 'node1' && l.destination === 'node2')!;
  assert.equal(link.packet.dport, 9999);
  assert.match(link.sourceAttributes.nat ?? '', /^DNAT 10\.244\.2\.2:8080 -> 10\.244\.2\.2:9999 \(nftables table ip redir chain pre handle 2: ip daddr 10\.244\.2\.2 tcp dport 8080 dnat to 10\.244\.2\.2:9999\)$/);
  assert.ok(findingsOf(r, 'node2').some((x) => x.check === 'iptables.drop'), 'node2 drops port 9999 (NetworkPolicy)');
});

test('numgen branches are enumerated: a drop on one of two endpoints is CRITICAL with its share', () => {
  const s = labSnapshot(FLANNEL);
  addTable(s, 'node2', 'inet', 'split', [
    { name: 'f', hook: 'forward', prio: 0, rules: [[daddr(WEB2_IP), { vmap: { key: { numgen: { mode: 'random', mod: 2, offset: 0 } }, data: { set: [[0, { accept: null }], [1, { drop: null }]] } } }]] },
  ]);
  const r = web2(s);
  const f = findingsOf(r, 'node2').find((x) => x.check === 'nftables.drop');
  assert.ok(f);
  assert.equal(f.level, SuspicionLevel.CRITICAL);
  assert.match(f.message, /50% of new connections/);
});

test('an expression netpath does not model that would drop the packet: unknown, naming the rule; one that cannot change anything: INFO', () => {
  const s = labSnapshot(FLANNEL);
  const cpu = { match: { op: '==', left: { meta: { key: 'cpu' } }, right: 1 } };
  addTable(s, 'node2', 'inet', 'odd', [{ name: 'f', hook: 'forward', prio: 0, rules: [[daddr(WEB2_IP), cpu, { drop: null }]] }]);
  const r = web2(s);
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node2').find((x) => x.check === 'nftables.undecided');
  assert.ok(w);
  assert.deepEqual(w.undecided?.map((u) => u.where), ['node2 nftables table inet odd chain f handle 2']);
  assert.match(w.evidence[0].text, /^table inet odd chain f handle 2: /);

  const t = labSnapshot(FLANNEL);
  addTable(t, 'node2', 'inet', 'odd', [{ name: 'f', hook: 'forward', prio: 0, rules: [[daddr(WEB2_IP), cpu, { accept: null }]] }]);
  const r2 = web2(t);
  assert.equal(r2.verdict, 'reachable');
  assert.ok(findingsOf(r2, 'node2').some((x) => x.check === 'nftables.not-understood' && x.level === SuspicionLevel.INFO));
});

test('fib is decided from the node\'s own routing tables, as the kernel does: type local, and the rpfilter form saddr . iif oif', () => {
  const fib = (result: string, flags: string[], op: string, right: unknown) => ({ match: { op, left: { fib: { result, flags } }, right } });
  // A forwarded packet's destination is not local; its source routes back by the interface it came in by.
  const s = labSnapshot(FLANNEL);
  addTable(s, 'node2', 'inet', 'fw', [
    { name: 'pre', hook: 'prerouting', prio: -150, rules: [[fib('oif', ['saddr', 'iif'], '==', false), { drop: null }]] },
    { name: 'f', hook: 'forward', prio: 0, rules: [[fib('type', ['daddr'], '==', 'local'), { drop: null }], [fib('type', ['daddr'], '==', { set: ['local', 'broadcast'] }), { drop: null }]] },
  ]);
  const r = web2(s);
  assert.equal(r.verdict, 'reachable');
  assert.ok(!findingsOf(r, 'node2').some((x) => x.check.startsWith('nftables.')), 'nothing undecided');
  // The same rules, turned round, drop it: the walk says so with the rule.
  const t = labSnapshot(FLANNEL);
  addTable(t, 'node2', 'inet', 'fw', [{ name: 'f', hook: 'forward', prio: 0, rules: [[fib('type', ['daddr'], '==', 'unicast'), fib('oif', ['daddr'], '==', true), { drop: null }]] }]);
  const r2 = web2(t);
  assert.equal(r2.verdict, 'unreachable');
  const d = findingsOf(r2, 'node2').find((x) => x.check === 'nftables.drop');
  assert.ok(d);
  assert.ok(!d.undecided);
  assert.match(d.evidence.map((e) => e.text).join('\n'), /fib daddr type unicast fib daddr oif exists drop/);
});

test('native chains at the same priority as iptables\' filter in another table: the order is unknown, but only undecided where it matters', () => {
  // Accept/drop only: the order changes nothing.
  const s = labSnapshot(FLANNEL);
  addTable(s, 'node2', 'ip', 'zero', [{ name: 'f', hook: 'forward', prio: 0, rules: [[dport(1), { drop: null }]] }]);
  const r0 = web2(s);
  assert.equal(r0.verdict, 'reachable');
  assert.ok(!findingsOf(r0, 'node2').some((x) => x.check.startsWith('nftables.')), 'an order that changes nothing is not reported');
  // A mark the iptables filter table reads, set at the same priority: it depends on the order.
  const t = labSnapshot(FLANNEL);
  addFilterRules(t, 'node2', ['-A FORWARD -m mark --mark 0x7 -j DROP']);
  addTable(t, 'node2', 'ip', 'zero', [{ name: 'f', hook: 'forward', prio: 0, rules: [[daddr(WEB2_IP), setMark(7)]] }]);
  const r = web2(t);
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node2').find((x) => x.check === 'nftables.undecided');
  assert.ok(w);
  assert.match(w.undecided![0].where, /^node2 order of .*table ip zero chain f.*iptables-nft filter FORWARD.*\(equal priority 0 at FORWARD\)$/);
});

test('netdev ingress on the arriving interface is simulated; a bridge-family chain on a routed path is not met', () => {
  const s = labSnapshot(FLANNEL);
  const nft = hostOf(s, 'node2').nftables as { nftables: Json[] };
  const up = (hostOf(s, 'node2').links as { ifname: string }[]).map((l) => l.ifname).filter((n) => n !== 'lo');
  nft.nftables.push({ table: { family: 'netdev', name: 'edge', handle: 91 } });
  nft.nftables.push({ chain: { family: 'netdev', table: 'edge', name: 'in', handle: 1, type: 'filter', hook: 'ingress', dev: up, prio: 0, policy: 'accept' } });
  nft.nftables.push({ rule: { family: 'netdev', table: 'edge', chain: 'in', handle: 2, expr: [daddr(WEB2_IP), dport(8080), { drop: null }] } });
  const r = web2(s);
  assert.equal(r.verdict, 'unreachable');
  assert.ok(findingsOf(r, 'node2').some((x) => x.check === 'nftables.drop' && /hook ingress/.test(x.message)));
});

test('an ingress chain whose device the dump leaves out (nft 1.0.6 -j) that would drop the packet: unknown, naming the chain', () => {
  const s = labSnapshot(FLANNEL);
  const nft = hostOf(s, 'node2').nftables as { nftables: Json[] };
  nft.nftables.push({ table: { family: 'netdev', name: 'edge', handle: 91 } });
  nft.nftables.push({ chain: { family: 'netdev', table: 'edge', name: 'in', handle: 1, type: 'filter', hook: 'ingress', prio: 0, policy: 'accept' } });
  nft.nftables.push({ rule: { family: 'netdev', table: 'edge', chain: 'in', handle: 2, expr: [daddr(WEB2_IP), dport(8080), { drop: null }] } });
  const r = web2(s);
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node2').find((x) => x.check === 'nftables.undecided');
  assert.ok(w);
  assert.match(w.undecided![0].where, /^node2 device of table netdev edge chain in \(hook ingress priority 0\): eth0\?$/);
  assert.match(w.undecided![0].reason, /which device/);
});

test('iptables-legacy and iptables-nft both active, with a native chain: all three act on the packet, legacy NAT included', () => {
  const s = labSnapshot(FLANNEL);
  const info = hostOf(s, 'node1');
  // Legacy DNATs what the client sends to web2:8080 to port 9999; node2's policy rules drop 9999.
  info.iptables!.legacy = `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -d ${WEB2_IP}/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination ${WEB2_IP}:9999\nCOMMIT\n`;
  const r = web2(s);
  const link = r.links.find((l) => l.source === 'node1' && l.destination === 'node2')!;
  assert.equal(link.packet.dport, 9999);
  assert.match(link.sourceAttributes.nat ?? '', /^DNAT 10\.244\.2\.2:8080 -> 10\.244\.2\.2:9999 \(PREROUTING PREROUTING #1\)$/);
  // A native chain after the NAT sees the new port.
  addTable(s, 'node1', 'inet', 'g', [{ name: 'f', hook: 'forward', prio: 0, rules: [[dport(9999), { reject: null }]] }]);
  const r2 = web2(s);
  assert.equal(r2.verdict, 'unreachable');
  assert.ok(findingsOf(r2, 'node1').some((x) => x.check === 'nftables.reject' && x.level === SuspicionLevel.FATAL));
});

test('a node that masquerades pod traffic leaving the cluster with a native nft rule: no nat.no-masquerade; without any masquerade the finding stays', () => {
  const out = (s: NetpathSnapshot) => diagnose(s, 'default/client', '203.0.113.10', 80);
  const saddr = (p: string) => ({ match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: { prefix: { addr: p, len: 16 } } } });
  const notDaddr = (p: string) => ({ match: { op: '!=', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: p, len: 16 } } } });
  const bare = out(labSnapshot('flannel-host-gw--masquerade-missing'));
  assert.ok(findingsOf(bare, 'node1').some((x) => x.check === 'nat.no-masquerade'), 'no masquerade at all: the finding stays');
  const s = labSnapshot('flannel-host-gw--masquerade-missing');
  addTable(s, 'node1', 'ip', 'podnat', [{ name: 'post', hook: 'postrouting', prio: 100, type: 'nat', rules: [[saddr('10.244.0.0'), notDaddr('10.244.0.0'), { masquerade: null }]] }]);
  const r = out(s);
  assert.ok(!findingsOf(r, 'node1').some((x) => x.check === 'nat.no-masquerade'), JSON.stringify(findingsOf(r, 'node1').map((x) => x.check)));
  const link = r.links.find((l) => l.source === 'node1');
  assert.match(link?.sourceAttributes.nat ?? '', /MASQUERADE .*nftables table ip podnat chain post handle 2/);
  // A native chain that lets this destination go un-NATed: the finding stays, with the rule as nft prints it.
  const t = labSnapshot('flannel-host-gw--masquerade-missing');
  const to = { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '203.0.113.10' } };
  addTable(t, 'node1', 'ip', 'podnat', [{ name: 'post', hook: 'postrouting', prio: 100, type: 'nat', rules: [[to, { return: null }], [saddr('10.244.0.0'), notDaddr('10.244.0.0'), { masquerade: null }]] }]);
  const f = findingsOf(out(t), 'node1').find((x) => x.check === 'nat.no-masquerade');
  assert.ok(f, 'un-NATed by the native chain: the finding stays');
  assert.ok(f.evidence.some((e) => e.kind === 'nftables' && e.text === 'table ip podnat chain post handle 2: ip daddr 203.0.113.10 return' && /^node1 table ip podnat chain post handle 2 \(hook postrouting priority 100\)$/.test(e.where ?? '')), JSON.stringify(f.evidence));
});

test('bridge-family chains on a bridged packet (client → web1 on cni0): a drop by the ports and the 5-tuple is found with its rule, others let it through, an ether match is undecided', () => {
  const web1 = (t: NetpathSnapshot) => diagnose(t, 'default/client', 'default/web1', 8080);
  const daddr1 = daddr('10.244.1.3');
  const brname = { match: { op: '==', left: { meta: { key: 'ibrname' } }, right: 'cni0' } };
  const proto = { match: { op: '==', left: { meta: { key: 'protocol' } }, right: 'ip' } };
  const s = labSnapshot(FLANNEL);
  addTable(s, 'node1', 'bridge', 'brf', [{ name: 'fw', hook: 'forward', prio: -200, rules: [[dport(9090), { drop: null }], [proto, brname, daddr1, dport(8080), { drop: null }]] }]);
  const r = web1(s);
  assert.equal(r.verdict, 'unreachable');
  const d = findingsOf(r, 'node1').find((x) => x.check === 'nftables.drop');
  assert.ok(d && d.level === SuspicionLevel.FATAL && !d.undecided);
  assert.deepEqual(d.evidence.map((e) => [e.text, e.where]), [['table bridge brf chain fw handle 3: meta protocol ip meta ibrname cni0 ip daddr 10.244.1.3 tcp dport 8080 drop', 'node1 table bridge brf chain fw handle 3 (hook forward priority -200)']]);
  // Only the other port: the bridged packet passes; nothing is unknown.
  const t = labSnapshot(FLANNEL);
  addTable(t, 'node1', 'bridge', 'brf', [{ name: 'fw', hook: 'forward', prio: -200, rules: [[dport(9090), { drop: null }]] }]);
  const r2 = web1(t);
  assert.equal(r2.verdict, 'reachable');
  assert.ok(!findingsOf(r2, 'node1').some((x) => x.check.startsWith('nftables.')));
  // An ether field netpath does not read: evaluated both ways, unknown, naming the rule.
  const u = labSnapshot(FLANNEL);
  const ether = { match: { op: '==', left: { payload: { protocol: 'ether', field: 'saddr' } }, right: '02:00:00:00:00:01' } };
  addTable(u, 'node1', 'bridge', 'brf', [{ name: 'fw', hook: 'forward', prio: -200, rules: [[ether, { drop: null }]] }]);
  const r3 = web1(u);
  assert.equal(r3.verdict, 'unknown');
  const w = findingsOf(r3, 'node1').find((x) => x.check === 'nftables.undecided');
  assert.ok(w);
  assert.deepEqual(w.undecided?.map((x) => x.where), ['node1 nftables table bridge brf chain fw handle 2']);
});

test('bridge-family chains for a frame a bridge port passes up to the host (client → web2, routed by node1 from cni0): prerouting and input are met, forward is not', () => {
  const s = labSnapshot(FLANNEL);
  addTable(s, 'node1', 'bridge', 'brf', [
    { name: 'fw', hook: 'forward', prio: -200, rules: [[daddr(WEB2_IP), dport(8080), { drop: null }]] },
    { name: 'in', hook: 'input', prio: -200, rules: [[daddr(WEB2_IP), dport(8081), { drop: null }]] },
  ]);
  assert.equal(web2(s).verdict, 'reachable');
  const t = labSnapshot(FLANNEL);
  addTable(t, 'node1', 'bridge', 'brf', [{ name: 'in', hook: 'input', prio: -200, rules: [[daddr(WEB2_IP), dport(8080), { drop: null }]] }]);
  const r = web2(t);
  assert.equal(r.verdict, 'unreachable');
  const d = findingsOf(r, 'node1').find((x) => x.check === 'nftables.drop');
  assert.ok(d && /arriving on veth\w+ for node1 itself \(bridge cni0\)/.test(d.message), d?.message);
  assert.equal(d.evidence[0].text, `table bridge brf chain in handle 2: ip daddr ${WEB2_IP} tcp dport 8080 drop`);
});

test('bridge-family output and postrouting chains for a frame the host sends out of a bridge port (web2\'s reply routed by node1 to the client on cni0)', () => {
  const sport = (p: number) => ({ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'sport' } }, right: p } });
  const toClient = daddr('10.244.1.2');
  const s = labSnapshot(FLANNEL);
  addTable(s, 'node1', 'bridge', 'brf', [{ name: 'out', hook: 'output', prio: -200, rules: [[toClient, sport(9999), { drop: null }]] }]);
  assert.equal(web2(s).verdict, 'reachable');
  const t = labSnapshot(FLANNEL);
  addTable(t, 'node1', 'bridge', 'brf', [{ name: 'post', hook: 'postrouting', prio: 0, rules: [[toClient, sport(8080), { drop: null }]] }]);
  const r = web2(t);
  assert.equal(r.verdict, 'unreachable');
  const d = findingsOf(r, 'node1').find((x) => x.check === 'nftables.drop');
  assert.ok(d && /the packet node1 sends out of veth\w+ \(bridge cni0\)/.test(d.message), d?.message);
  assert.equal(d.evidence[0].text, 'table bridge brf chain post handle 2: ip daddr 10.244.1.2 tcp sport 8080 drop');
});
