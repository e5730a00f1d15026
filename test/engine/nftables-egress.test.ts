// Native egress chains (`type filter hook egress device X`, netdev) on a real lab cluster (flannel
// host-gw): run after POSTROUTING on the interface the packet leaves by — routed, sent by the
// node, bridged out of a port, the reply too — seeing the packet after NAT, by priority; a drop is
// found with its rule; a chain whose device the dump leaves out is evaluated both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SuspicionLevel } from '../../src/engine/model/suspicion';
import { walkSend } from '../../src/engine/datapath/walk';
import { NetNS } from '../../src/engine/netstack/netns';
import type { NetpathSnapshot } from '../../src/engine/snapshot/types';
import { diagnose, findingsOf, hostOf, labSnapshot, WEB2, WEB2_IP } from './honest-fixture';

const FLANNEL = 'flannel-host-gw--healthy';

type Json = unknown;
const ip = (field: 'saddr' | 'daddr', addr: string) => ({ match: { op: '==', left: { payload: { protocol: 'ip', field } }, right: addr } });
const tcp = (field: 'sport' | 'dport', p: number) => ({ match: { op: '==', left: { payload: { protocol: 'tcp', field } }, right: p } });
const mark = (m: number) => ({ match: { op: '==', left: { meta: { key: 'mark' } }, right: m } });
const setMark = (m: number) => ({ mangle: { key: { meta: { key: 'mark' } }, value: m } });
const iifname = (name: string) => ({ match: { op: '==', left: { meta: { key: 'iifname' } }, right: name } });
const oifname = (name: string) => ({ match: { op: '==', left: { meta: { key: 'oifname' } }, right: name } });

interface EgressChain {
  name: string;
  /** The devices as a dump that names them has them (`dev`); absent: the dump leaves them out (nft 1.0.6). */
  dev?: string[];
  prio: number;
  policy?: 'accept' | 'drop';
  rules: Json[][];
}

/** Adds a netdev table with egress chains to `node`'s nft dump; handles count from 1 (chains, then rules). */
function addEgress(s: NetpathSnapshot, node: string, table: string, chains: EgressChain[]): void {
  const nft = hostOf(s, node).nftables as { nftables: Json[] };
  nft.nftables.push({ table: { family: 'netdev', name: table, handle: 91 } });
  let handle = 1;
  for (const c of chains) {
    nft.nftables.push({ chain: { family: 'netdev', table, name: c.name, handle: handle++, type: 'filter', hook: 'egress', ...(c.dev ? { dev: c.dev.length === 1 ? c.dev[0] : c.dev } : {}), prio: c.prio, policy: c.policy ?? 'accept' } });
    for (const expr of c.rules) nft.nftables.push({ rule: { family: 'netdev', table, chain: c.name, handle: handle++, expr } });
  }
}

const web2 = (s: NetpathSnapshot) => diagnose(s, WEB2.src, WEB2.dst, WEB2.port);
const nothingUndecided = (r: ReturnType<typeof web2>) => !r.nodes.some((n) => n.suspicions.some((x) => x.undecided || x.check === 'nftables.not-modelled'));

test('an egress drop on the interface the packet is routed out of: unreachable, nftables.drop with the rule as nft prints it', () => {
  const s = labSnapshot(FLANNEL);
  addEgress(s, 'node1', 'out', [{ name: 'eg', dev: ['eth0'], prio: 0, rules: [[ip('daddr', WEB2_IP), tcp('dport', 8080), { drop: null }]] }]);
  const r = web2(s);
  assert.equal(r.verdict, 'unreachable');
  const f = findingsOf(r, 'node1').find((x) => x.check === 'nftables.drop');
  assert.ok(f, JSON.stringify(findingsOf(r, 'node1').map((x) => x.check)));
  assert.equal(f.level, SuspicionLevel.FATAL);
  assert.match(f.message, /dropped by nftables on node1 in table netdev out chain eg handle 2 \(hook egress priority 0\)/);
  assert.deepEqual(f.evidence.map((e) => [e.kind, e.text, e.where]), [['nftables', `table netdev out chain eg handle 2: ip daddr ${WEB2_IP} tcp dport 8080 drop`, 'node1 table netdev out chain eg handle 2 (hook egress priority 0)']]);
  assert.ok(nothingUndecided(r));
  assert.ok(!r.links.some((l) => l.source === 'node1' && l.destination === 'node2'), 'nothing leaves node1 for node2');
});

test('egress chains that accept, or drop only on another interface, let the packet through: reachable, nothing unknown', () => {
  const s = labSnapshot(FLANNEL);
  addEgress(s, 'node1', 'out', [
    { name: 'ok', dev: ['eth0'], prio: 0, policy: 'drop', rules: [[ip('daddr', WEB2_IP), { accept: null }], [ip('saddr', WEB2_IP), { accept: null }]] },
    // lo and a device node1 has not: the packet never leaves by them.
    { name: 'lo', dev: ['lo', 'eth9'], prio: 0, policy: 'drop', rules: [] },
  ]);
  // The reply leaves node2 by eth0 too (it arrived on cni0): a drop there of what is not the reply,
  // or of what arrived on cni0 (egress has no input interface), changes nothing.
  addEgress(s, 'node2', 'out2', [{ name: 'eg', dev: ['eth0'], prio: 0, rules: [[ip('daddr', WEB2_IP), { drop: null }], [iifname('cni0'), { drop: null }]] }]);
  const r = web2(s);
  assert.equal(r.verdict, 'reachable');
  assert.ok(nothingUndecided(r));
  assert.ok(!r.nodes.some((n) => n.suspicions.some((x) => x.check.startsWith('nftables.'))));
});

test('the reply leaving node2 by eth0 meets node2\'s egress chain there: oifname is the device, iifname matches nothing', () => {
  const s = labSnapshot(FLANNEL);
  addEgress(s, 'node2', 'out2', [{ name: 'eg', dev: ['eth0'], prio: 0, rules: [[oifname('eth0'), ip('saddr', WEB2_IP), tcp('sport', 8080), { drop: null }]] }]);
  const r = web2(s);
  assert.equal(r.verdict, 'unreachable');
  const f = findingsOf(r, 'node2').find((x) => x.check === 'nftables.drop');
  assert.ok(f && f.level === SuspicionLevel.FATAL);
  assert.equal(f.evidence[0].text, `table netdev out2 chain eg handle 2: oifname "eth0" ip saddr ${WEB2_IP} tcp sport 8080 drop`);
  // The request reached web2: the link node2 → web2 is there.
  assert.ok(r.links.some((l) => l.source === 'node2' && l.destination === 'default/web2'));
});

test('egress sees the packet after NAT: the DNATed destination (not the ClusterIP), the MASQUERADEd source (not the pod)', () => {
  const svc = (s: NetpathSnapshot) => diagnose(s, WEB2.src, 'svc/default/web-remote', 80);
  const clusterIP = svc(labSnapshot(FLANNEL)).links[0].packet.dst;
  assert.notEqual(clusterIP, WEB2_IP);
  const s = labSnapshot(FLANNEL);
  addEgress(s, 'node1', 'out', [{ name: 'eg', dev: ['eth0'], prio: 0, rules: [[ip('daddr', clusterIP), { drop: null }]] }]);
  assert.equal(svc(s).verdict, 'reachable');
  const t = labSnapshot(FLANNEL);
  addEgress(t, 'node1', 'out', [{ name: 'eg', dev: ['eth0'], prio: 0, rules: [[ip('daddr', WEB2_IP), tcp('dport', 8080), { drop: null }]] }]);
  const r = svc(t);
  assert.equal(r.verdict, 'unreachable');
  assert.ok(findingsOf(r, 'node1').some((x) => x.check === 'nftables.drop' && x.level === SuspicionLevel.FATAL));

  const out = (x: NetpathSnapshot) => diagnose(x, 'default/client', '203.0.113.10', 80);
  const nodeIP = out(labSnapshot(FLANNEL)).links.find((l) => l.source === 'node1')!.packet.src;
  const u = labSnapshot(FLANNEL);
  addEgress(u, 'node1', 'out', [{ name: 'eg', dev: ['eth0'], prio: 0, rules: [[ip('saddr', '10.244.1.2'), { drop: null }]] }]);
  assert.equal(out(u).verdict, 'reachable');
  const v = labSnapshot(FLANNEL);
  addEgress(v, 'node1', 'out', [{ name: 'eg', dev: ['eth0'], prio: 0, rules: [[ip('saddr', nodeIP), ip('daddr', '203.0.113.10'), { drop: null }]] }]);
  const r2 = out(v);
  assert.equal(r2.verdict, 'unreachable');
  assert.equal(findingsOf(r2, 'node1').find((x) => x.check === 'nftables.drop')?.evidence[0].text, `table netdev out chain eg handle 2: ip saddr ${nodeIP} ip daddr 203.0.113.10 drop`);
});

test('a packet bridged out of a port (client → web1 on cni0) meets that port\'s egress chain; the bridge\'s own egress chain it does not', () => {
  const web1 = (x: NetpathSnapshot) => diagnose(x, 'default/client', 'default/web1', 8080);
  const base = web1(labSnapshot(FLANNEL));
  const port = base.links.find((l) => l.source === 'node1' && l.destination === 'default/web1')!.sourceAttributes.if!;
  const s = labSnapshot(FLANNEL);
  addEgress(s, 'node1', 'ports', [{ name: 'eg', dev: [port], prio: 0, rules: [[ip('daddr', '10.244.1.3'), tcp('dport', 8080), { drop: null }]] }]);
  const r = web1(s);
  assert.equal(r.verdict, 'unreachable');
  const f = findingsOf(r, 'node1').find((x) => x.check === 'nftables.drop');
  assert.ok(f && f.level === SuspicionLevel.FATAL && !f.undecided);
  assert.equal(f.message, `the packet cni0 sends out of its port ${port} is dropped by nftables on node1 in table netdev ports chain eg handle 2 (hook egress priority 0)`);
  assert.deepEqual(f.evidence.map((e) => e.where), ['node1 table netdev ports chain eg handle 2 (hook egress priority 0)']);
  const t = labSnapshot(FLANNEL);
  addEgress(t, 'node1', 'br', [{ name: 'eg', dev: ['cni0'], prio: 0, policy: 'drop', rules: [] }]);
  const r2 = web1(t);
  assert.equal(r2.verdict, 'reachable');
  assert.ok(nothingUndecided(r2));
});

test('a packet node2 routes out of its bridge meets the bridge\'s egress chain, then the port\'s', () => {
  const port = web2(labSnapshot(FLANNEL)).links.find((l) => l.source === 'node2' && l.destination === 'default/web2')!.sourceAttributes.if!;
  for (const dev of ['cni0', port]) {
    const s = labSnapshot(FLANNEL);
    addEgress(s, 'node2', 'out', [{ name: 'eg', dev: [dev], prio: 0, rules: [[ip('daddr', WEB2_IP), tcp('dport', 8080), { drop: null }]] }]);
    const r = web2(s);
    assert.equal(r.verdict, 'unreachable', dev);
    assert.ok(findingsOf(r, 'node2').some((x) => x.check === 'nftables.drop' && x.level === SuspicionLevel.FATAL), dev);
  }
});

test('several egress chains on one device run by priority: a mark set at -10 is seen at 10, not the other way round; an accept ends only its chain', () => {
  const s = labSnapshot(FLANNEL);
  addEgress(s, 'node1', 'out', [
    { name: 'late', dev: ['eth0'], prio: 10, rules: [[mark(0x5), { drop: null }]] },
    { name: 'early', dev: ['eth0'], prio: -10, rules: [[ip('daddr', WEB2_IP), setMark(0x5)], [{ accept: null }]] },
  ]);
  const r = web2(s);
  assert.equal(r.verdict, 'unreachable');
  assert.match(findingsOf(r, 'node1').find((x) => x.check === 'nftables.drop')!.message, /chain late handle 2 \(hook egress priority 10\)/);
  const t = labSnapshot(FLANNEL);
  addEgress(t, 'node1', 'out', [
    { name: 'late', dev: ['eth0'], prio: 10, rules: [[ip('daddr', WEB2_IP), setMark(0x5)]] },
    { name: 'early', dev: ['eth0'], prio: -10, rules: [[mark(0x5), { drop: null }]] },
  ]);
  const r2 = web2(t);
  assert.equal(r2.verdict, 'reachable');
  assert.ok(nothingUndecided(r2));
});

test('a jump from an egress chain to a regular chain: its drop stops the packet, its return goes back to the base chain', () => {
  const withPods = (pods: Json[][]) => {
    const s = labSnapshot(FLANNEL);
    const nft = hostOf(s, 'node1').nftables as { nftables: Json[] };
    nft.nftables.push(
      { table: { family: 'netdev', name: 'out', handle: 91 } },
      { chain: { family: 'netdev', table: 'out', name: 'eg', handle: 1, type: 'filter', hook: 'egress', dev: 'eth0', prio: 0, policy: 'accept' } },
      { chain: { family: 'netdev', table: 'out', name: 'pods', handle: 2 } },
      { rule: { family: 'netdev', table: 'out', chain: 'eg', handle: 3, expr: [ip('daddr', WEB2_IP), { jump: { target: 'pods' } }] } },
      ...pods.map((expr, k) => ({ rule: { family: 'netdev', table: 'out', chain: 'pods', handle: 4 + k, expr } })),
    );
    return web2(s);
  };
  const r = withPods([[tcp('dport', 8081), { return: null }], [tcp('dport', 8080), { counter: null }, { drop: null }]]);
  assert.equal(r.verdict, 'unreachable');
  assert.equal(findingsOf(r, 'node1').find((x) => x.check === 'nftables.drop')?.evidence[0].text, 'table netdev out chain pods handle 5: tcp dport 8080 counter drop');
  const r2 = withPods([[tcp('dport', 8080), { return: null }], [{ drop: null }]]);
  assert.equal(r2.verdict, 'reachable');
  assert.ok(nothingUndecided(r2));
});

test('an egress chain whose device the dump leaves out: evaluated on and off the output interface — unknown only when it would stop the packet', () => {
  const s = labSnapshot(FLANNEL);
  addEgress(s, 'node1', 'out', [{ name: 'eg', prio: 0, rules: [[ip('daddr', WEB2_IP), tcp('dport', 8080), { drop: null }]] }]);
  const r = web2(s);
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node1').find((x) => x.check === 'nftables.undecided');
  assert.ok(w, JSON.stringify(findingsOf(r, 'node1').map((x) => x.check)));
  assert.deepEqual(w.undecided?.map((u) => u.where), ['node1 device of table netdev out chain eg (hook egress priority 0): eth0?']);
  assert.match(w.undecided![0].reason, /does not say which device this egress chain is attached to/);
  const t = labSnapshot(FLANNEL);
  addEgress(t, 'node1', 'out', [{ name: 'eg', prio: 0, rules: [[ip('daddr', '192.0.2.1'), { drop: null }]] }]);
  const r2 = web2(t);
  assert.equal(r2.verdict, 'reachable');
  assert.ok(nothingUndecided(r2));
});

test('fwd in an egress chain takes the packet to another device: evaluated both ways, unknown (never "passes")', () => {
  const s = labSnapshot(FLANNEL);
  addEgress(s, 'node1', 'out', [{ name: 'eg', dev: ['eth0'], prio: 0, rules: [[ip('daddr', WEB2_IP), { fwd: { dev: 'eth1' } }]] }]);
  const r = web2(s);
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node1').find((x) => x.check === 'nftables.undecided');
  assert.ok(w);
  assert.deepEqual(w.undecided?.map((u) => u.where), ['node1 nftables table netdev out chain eg handle 2']);
  assert.match(w.undecided![0].reason, /taken to another device/);
});

test('a packet a node sends to its own address is transmitted on lo: lo\'s egress chain sees it, eth0\'s does not', () => {
  const packet = { src: '', sport: 0, dst: '198.51.100.11', dport: 10250, protocol: 'tcp' as const, mark: 0 };
  const send = (x: NetpathSnapshot) => walkSend(new NetNS(hostOf(x, 'node1'), 'node1'), packet);
  assert.ok(send(labSnapshot(FLANNEL)).exits.some((e) => e.kind === 'deliver'), 'delivered to itself without egress chains');
  const s = labSnapshot(FLANNEL);
  addEgress(s, 'node1', 'out', [{ name: 'eg', dev: ['eth0'], prio: 0, policy: 'drop', rules: [] }]);
  const w = send(s);
  assert.ok(w.exits.some((e) => e.kind === 'deliver') && !w.findings.some((f) => f.check.startsWith('nftables.')));
  const t = labSnapshot(FLANNEL);
  addEgress(t, 'node1', 'out', [{ name: 'lo', dev: ['lo'], prio: 0, rules: [[tcp('dport', 10250), { drop: null }]] }]);
  const w2 = send(t);
  assert.deepEqual(w2.exits, []);
  const f = w2.findings.find((x) => x.check === 'nftables.drop');
  assert.ok(f && f.level === SuspicionLevel.FATAL);
  assert.equal(f.evidence[0].text, 'table netdev out chain lo handle 2: tcp dport 10250 drop');
});
