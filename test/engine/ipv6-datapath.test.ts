// The IPv6 datapath cases of ipv6-datapath-kernel.test.ts replayed without root: each fixture holds
// the snapshot the collector took of the npv6 topology (pod a → node → pod b) with one thing broken,
// and what the kernel then did with a real datagram. The engine must still say the same. Regenerate
// (root) with `NETPATH_IPV6_FIXTURES=test/fixtures/ipv6-datapath node scripts/test.mjs
// test/engine/ipv6-datapath-kernel.test.ts`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { agrees, type Case, type Seen } from '../support/ipv6-datapath';
import { SuspicionLevel } from '../../src/engine/model/suspicion';
import type { NetNSInfo } from '../../src/shared/dump';

const DIR = join(import.meta.dirname, '../fixtures/ipv6-datapath');

test('ipv6 datapath fixtures: netpath says what the kernel did in every recorded case', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 19, `${files.length} fixtures`);
  const failures: string[] = [];
  for (const f of files) {
    const fx = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { case: Case; kernel: Seen; snapshot: unknown };
    const r = new Network(loadSnapshot(JSON.stringify(fx.snapshot))).diagnose({ src: 'default/a', dst: 'default/b', port: 7000, protocol: 'udp', ...(fx.case.size ? { size: fx.case.size } : {}) });
    const why = agrees(fx.case, fx.kernel, r);
    if (why) failures.push(why);
  }
  console.log(`ipv6 datapath fixtures vs recorded kernel: ${files.length - failures.length}/${files.length}`);
  assert.deepEqual(failures, []);
});

type Fixture = { case: Case; kernel: Seen; snapshot: { dumps: Record<string, { node: NetNSInfo; netns: NetNSInfo[] }> } };
const fixture = (name: string): Fixture => JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8'));
/** Pod a's netns in the fixture: the one holding fd60:a::2. */
const podA = (f: Fixture) => f.snapshot.dumps['npv6-node'].netns.find((n) => JSON.stringify(n.addresses).includes('"fd60:a::2"'))!;
function diagnose(f: Fixture) {
  const r = new Network(loadSnapshot(JSON.stringify(f.snapshot))).diagnose({ src: 'default/a', dst: 'default/b', port: 7000, protocol: 'udp' });
  const all = [...r.clusterSuspicions, ...r.nodes.flatMap((n) => n.suspicions)];
  return { verdict: r.verdict, all, find: (check: string) => all.find((s) => s.check === check) };
}

test('a route learned from a router advertisement: a WARNING only when the interface ignores advertisements (accept_ra vs its own forwarding) or ip6tables drops them', () => {
  const f = fixture('healthy-ndp-resolving-on-both-links');
  const a = podA(f);
  // The pod's default route as `ip -j route` prints one learned from an RA (`ip -j route show
  // table all` lists the IPv6 routes too, so both fields hold it).
  for (const r of [...(a.routes as Record<string, unknown>[]), ...(a.routes6 as Record<string, unknown>[])]) {
    if (r.dst === 'default' && r.gateway === 'fd60:a::1') Object.assign(r, { protocol: 'ra', expires: 1790 });
  }
  const sys = a.sysctls as Record<string, string>;
  sys['net.ipv6.conf.eth0.accept_ra'] = '0';
  let d = diagnose(f);
  assert.equal(d.find('sysctl.accept-ra')?.level, SuspicionLevel.WARNING);
  assert.match(d.find('sysctl.accept-ra')!.message, /learned from a router advertisement; it expires in 1790 s and will not be renewed: eth0 ignores router advertisements/);
  assert.equal(d.verdict, 'reachable', 'it works until the route expires');
  sys['net.ipv6.conf.eth0.accept_ra'] = '1';
  d = diagnose(f);
  assert.equal(d.find('sysctl.accept-ra'), undefined);
  // forwarding on the pod's interface: accept_ra 1 no longer accepts, 2 does
  sys['net.ipv6.conf.eth0.forwarding'] = '1';
  assert.ok(diagnose(f).find('sysctl.accept-ra'));
  sys['net.ipv6.conf.eth0.accept_ra'] = '2';
  assert.equal(diagnose(f).find('sysctl.accept-ra'), undefined);
  // ip6tables in the pod dropping router advertisements (ICMPv6 134)
  a.ip6tables = { nft: '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j DROP\nCOMMIT\n' };
  d = diagnose(f);
  assert.equal(d.find('icmpv6.ndp-dropped')?.level, SuspicionLevel.WARNING);
  assert.match(d.find('icmpv6.ndp-dropped')!.message, /a router advertisement arriving on eth0 .* dropped by ip6tables on default\/a \(INPUT filter\/INPUT #1\)/);
});

test('proxy NDP in a dump without the proxy list (collected before it was): unknown, never a confident answer', () => {
  const f = fixture('next-hop-fd60-a-99-answered-by-proxy-ndp-on-va');
  delete f.snapshot.dumps['npv6-node'].node.neighbours6Proxy;
  const d = diagnose(f);
  assert.equal(d.verdict, 'unknown');
  const w = d.find('ndp.no-answer')!;
  assert.equal(w.level, SuspicionLevel.WARNING);
  assert.match(w.message, /whether npv6-node answers the neighbour solicitation for fd60:a::99 on va is not known: .*no proxy NDP list/);
});

test('a next hop nobody answers that the sender still holds as REACHABLE: a WARNING (it works until the entry must be confirmed), not a FATAL', () => {
  const f = fixture('next-hop-fd60-a-99-nobody-owns-no-proxy-ndp');
  const a = podA(f);
  a.neighbours6 = [{ dst: 'fd60:a::99', dev: 'eth0', lladdr: '02:00:00:00:00:01', router: null, state: ['REACHABLE'] }] as unknown as NetNSInfo['neighbours6'];
  const d = diagnose(f);
  const w = d.find('ndp.no-answer')!;
  assert.equal(w.level, SuspicionLevel.WARNING);
  assert.match(w.message, /fd60:a::99 on eth0 is REACHABLE: it works until the entry must be confirmed again/);
  assert.notEqual(d.verdict, 'unreachable');
  // PERMANENT: no neighbour discovery at all
  a.neighbours6 = [{ dst: 'fd60:a::99', dev: 'eth0', lladdr: '02:00:00:00:00:01', state: ['PERMANENT'] }] as unknown as NetNSInfo['neighbours6'];
  assert.equal(diagnose(f).find('ndp.no-answer'), undefined);
});

test('a native nftables input chain on the node that accepts only established/related drops the (untracked) neighbour solicitation: FATAL, naming the nft rule; an icmpv6 type accept before it lets NDP in', () => {
  const f = fixture('healthy-ndp-resolving-on-both-links');
  const node = f.snapshot.dumps['npv6-node'].node;
  node.nftables = { nftables: [
    { table: { family: 'inet', name: 'fw', handle: 9 } },
    { chain: { family: 'inet', table: 'fw', name: 'input', handle: 1, type: 'filter', hook: 'input', prio: 0, policy: 'drop' } },
    { rule: { family: 'inet', table: 'fw', chain: 'input', handle: 2, expr: [{ match: { op: '==', left: { ct: { key: 'state' } }, right: ['established', 'related'] } }, { accept: null }] } },
  ] } as NetNSInfo['nftables'];
  const d = diagnose(f);
  assert.equal(d.verdict, 'unreachable');
  const w = d.all.find((s) => s.check === 'icmpv6.ndp-dropped' && /neighbour solicitation for fd60:a::1 on va arriving/.test(s.message))!;
  assert.equal(w.level, SuspicionLevel.FATAL);
  assert.match(w.message, /dropped by nftables on npv6-node \(table inet fw chain input/);
  assert.equal(w.undecided, undefined);
  // A rule before it that accepts NDP by ICMPv6 type (as firewalld writes it) lets the
  // solicitations in: the type is read from the message, as the kernel does.
  const ndp = (types: string[]) => ({ rule: { family: 'inet', table: 'fw', chain: 'input', handle: 3, expr: [{ match: { op: '==', left: { payload: { protocol: 'icmpv6', field: 'type' } }, right: { set: types } } }, { accept: null }] } });
  const rules = (node.nftables as { nftables: unknown[] }).nftables;
  rules.splice(2, 0, ndp(['nd-router-advert', 'nd-neighbor-solicit', 'nd-neighbor-advert']));
  const ok = diagnose(f);
  assert.deepEqual(ok.all.filter((s) => s.check === 'icmpv6.ndp-dropped' && /on va arriving/.test(s.message)), []);
  // Without the solicitation's type in the set, the same drop again, decided.
  rules.splice(2, 1, ndp(['nd-router-advert', 'nd-neighbor-advert']));
  const again = diagnose(f).all.find((s) => s.check === 'icmpv6.ndp-dropped' && /neighbour solicitation for fd60:a::1 on va arriving/.test(s.message))!;
  assert.equal(again.level, SuspicionLevel.FATAL);
  assert.equal(again.undecided, undefined);
});

test('an IPv6 packet dropped by a forward rule is said to be dropped by ip6tables (message and evidence), the check id unchanged', () => {
  const f = fixture('healthy-ndp-resolving-on-both-links');
  f.snapshot.dumps['npv6-node'].node.ip6tables = { nft: '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -p udp -m udp --dport 7000 -j DROP\nCOMMIT\n' };
  const d = diagnose(f);
  assert.equal(d.verdict, 'unreachable');
  const drop = d.find('iptables.drop')!;
  assert.match(drop.message, /^the packet is dropped by ip6tables on npv6-node in FORWARD filter\/FORWARD #1$/);
  assert.deepEqual(drop.evidence, [{ kind: 'iptables', text: '-A FORWARD -p udp -m udp --dport 7000 -j DROP', where: 'npv6-node ip6tables FORWARD filter/FORWARD #1' }]);
  assert.ok(d.all.every((s) => !/\biptables\b/.test(s.message)), d.all.map((s) => s.message).join('\n'));
});
