// The netfilter simulator at the edge of its model: nfacct (modelled: counts and matches),
// -m recent against collected lists (kube-proxy session affinity), not-understood rules taken
// both ways, and the enumeration of those ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesSave } from '../../../src/engine/netstack/iptables/parse';
import { traceHook } from '../../../src/engine/netstack/netfilter/trace';
import { decidingElements, enumerateWorlds } from '../../../src/engine/netstack/netfilter/undecided';
import { parseXtRecent } from '../../../src/engine/netstack/netfilter/recent';
import { nativeChainsAt } from '../../../src/engine/netstack/netfilter/stages';
import { parseNftRuleset } from '../../../src/engine/netstack/nftables/model';
import type { NetfilterEnv, NfPacket, RecentEntry } from '../../../src/engine/netstack/netfilter/packet';

const rs = (body: string) => parseIptablesSave(body, { family: 4 });
const pkt = (p: Partial<NfPacket> = {}): NfPacket => ({ family: 4, src: '10.1.0.2', dst: '10.96.0.20', proto: 'tcp', sport: 40000, dport: 80, iif: 'eth0', ...p });

test('-m nfacct counts and matches: kube-proxy ≥ 1.29 drops INVALID packets (was accepted as "not understood")', () => {
  const r = rs(`*filter
:FORWARD ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
-A FORWARD -j KUBE-FORWARD
-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
COMMIT
`);
  const [invalid] = traceHook(r, 'FORWARD', pkt({ ct: { state: 'INVALID' } }), {});
  assert.equal(invalid.verdict, 'DROP');
  assert.deepEqual(invalid.notUnderstood, []);
  const [fresh] = traceHook(r, 'FORWARD', pkt(), {});
  assert.equal(fresh.verdict, 'ACCEPT');
});

/** kube-proxy's session affinity: a recent check per endpoint before the random choice. */
const AFFINITY = rs(`*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SVC-X - [0:0]
:KUBE-SEP-A - [0:0]
:KUBE-SEP-B - [0:0]
-A PREROUTING -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-X
-A KUBE-SVC-X -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --mask 255.255.255.255 --rsource -j KUBE-SEP-A
-A KUBE-SVC-X -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-B --mask 255.255.255.255 --rsource -j KUBE-SEP-B
-A KUBE-SVC-X -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A
-A KUBE-SVC-X -j KUBE-SEP-B
-A KUBE-SEP-A -p tcp -m recent --set --name KUBE-SEP-A --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.3:8080
-A KUBE-SEP-B -p tcp -m recent --set --name KUBE-SEP-B --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.2.2:8080
COMMIT
`);

const lists = (text: string): NetfilterEnv => {
  const l = parseXtRecent(text);
  return { recent: (name) => l.get(name) ?? new Map<string, RecentEntry>() };
};

test('session affinity with empty recent lists: the random choice, not 100 % to the first endpoint', () => {
  const outs = traceHook(AFFINITY, 'PREROUTING', pkt(), lists(''));
  assert.deepEqual(outs.map((o) => [o.packet.dst, o.probability]).sort(), [['10.244.1.3', 0.5], ['10.244.2.2', 0.5]]);
  assert.deepEqual(outs.flatMap((o) => o.notUnderstood), []);
});

test('session affinity when the client is in a list: undecided (the stamps\' age against --seconds is unknown); not in any list: decided', () => {
  const env = lists('list 10 KUBE-SEP-A\nlist 10 KUBE-SEP-B\nsrc=10.1.0.2 ttl: 64 last_seen: 4295100 oldest_pkt: 1 4295100\n');
  const outs = traceHook(AFFINITY, 'PREROUTING', pkt(), env);
  const nu = outs.flatMap((o) => o.notUnderstood);
  assert.deepEqual([...new Set(nu.map((n) => n.rule))], [2]);
  assert.match(nu[0].reason, /KUBE-SEP-B .*holds 1 time stamp/);
  // Another client is in no list: decided.
  assert.deepEqual(traceHook(AFFINITY, 'PREROUTING', pkt({ src: '10.1.0.9' }), env).flatMap((o) => o.notUnderstood), []);
  // Without --seconds an entry in the list decides: rcheck matches.
  const noSeconds = rs(AFFINITY_TEXT.replace(/--seconds 10800 --reap /g, ''));
  const [sticky] = traceHook(noSeconds, 'PREROUTING', pkt(), env);
  assert.equal(sticky.packet.dst, '10.244.2.2');
  assert.equal(sticky.probability, 1);
});

const AFFINITY_TEXT = `*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SVC-X - [0:0]
:KUBE-SEP-A - [0:0]
:KUBE-SEP-B - [0:0]
-A PREROUTING -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-X
-A KUBE-SVC-X -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-A --mask 255.255.255.255 --rsource -j KUBE-SEP-A
-A KUBE-SVC-X -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-B --mask 255.255.255.255 --rsource -j KUBE-SEP-B
-A KUBE-SVC-X -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-A
-A KUBE-SVC-X -j KUBE-SEP-B
-A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.244.1.3:8080
-A KUBE-SEP-B -p tcp -m tcp -j DNAT --to-destination 10.244.2.2:8080
COMMIT
`;

test('session affinity without collected lists: every endpoint is a way the packet can go, each rcheck undecided', () => {
  const outs = traceHook(AFFINITY, 'PREROUTING', pkt(), {});
  assert.deepEqual([...new Set(outs.flatMap((o) => o.notUnderstood).map((n) => n.rule))], [1, 2]);
  // Taken as matching, the first rcheck sends every packet to A.
  const [a] = traceHook(AFFINITY, 'PREROUTING', pkt(), {}, { assume: (k) => k === 'PREROUTING nat/KUBE-SVC-X#1' || undefined });
  assert.equal(a.packet.dst, '10.244.1.3');
  assert.equal(a.probability, 1);
});

test('xt_recent list text: names of any bytes, entries with their stamps; other lines skipped', () => {
  const weird = 'a\nsrc=9.9.9.9 ttl: 1 last_seen: 1 oldest_pkt: 1 1';
  const l = parseXtRecent(`list ${Buffer.byteLength(weird)} ${weird}\nsrc=10.0.0.1 ttl: 63 last_seen: 9 oldest_pkt: 2 7, 8, 9\ngarbage\nlist 4 név\nsrc=fd00::1 ttl: 64 last_seen: 1 oldest_pkt: 1 1\n`);
  assert.deepEqual([...l.keys()], [weird, 'név']);
  assert.deepEqual([...l.get(weird)!.values()], [{ ttl: 63, stamps: 3 }]);
  assert.equal(l.get('név')!.size, 1);
});

test('an unknown match: one way it does not match, the other it matches and its target applies', () => {
  const r = rs(`*filter
:FORWARD ACCEPT [0:0]
-A FORWARD -d 10.96.0.20/32 -m foobar --baz 1 -j DROP
COMMIT
`);
  const [no] = traceHook(r, 'FORWARD', pkt(), {});
  assert.equal(no.verdict, 'ACCEPT');
  assert.deepEqual(no.notUnderstood.map((n) => [n.key, n.assumed]), [['FORWARD filter/FORWARD#1', false]]);
  const [yes] = traceHook(r, 'FORWARD', pkt(), {}, { assume: () => true });
  assert.equal(yes.verdict, 'DROP');
  assert.equal(yes.decidedBy?.rule, 1);
});

test('worlds: every combination of ways is evaluated once; the deciding element is named', () => {
  // Three elements; c is met only when a matches.
  const seen: string[] = [];
  const ws = enumerateWorlds((assume) => {
    const a = assume('a') ?? false;
    const b = assume('b') ?? false;
    const met = ['a', 'b'];
    let c = false;
    if (a) {
      met.push('c');
      c = assume('c') ?? false;
    }
    seen.push(`${+a}${+b}${+c}`);
    return { result: b ? 'drop' : 'pass', met };
  });
  assert.deepEqual(seen.sort(), ['000', '010', '100', '101', '110', '111']);
  assert.equal(ws.truncated, false);
  assert.deepEqual(decidingElements(ws, (r) => r), ['b']);
  const few = enumerateWorlds(() => ({ result: 0, met: ['a', 'b', 'c', 'd'] }), 3);
  assert.equal(few.worlds.length, 3);
  assert.equal(few.truncated, true);
});

test('native nftables base chains: iptables-nft\'s own chains left out, the rest in the kernel\'s order', () => {
  const nft = parseNftRuleset({
    nftables: [
      { chain: { family: 'ip', table: 'filter', name: 'FORWARD', hook: 'forward', prio: 0, policy: 'accept' } },
      { rule: { family: 'ip', table: 'filter', chain: 'FORWARD', expr: [] } },
      { chain: { family: 'ip', table: 'nat', name: 'mine', hook: 'prerouting', prio: -90, type: 'nat', policy: 'accept' } },
      { rule: { family: 'ip', table: 'nat', chain: 'mine', expr: [] } },
      { chain: { family: 'inet', table: 'guard', name: 'gate', hook: 'forward', prio: 0, policy: 'drop' } },
      { chain: { family: 'ip6', table: 'six', name: 'fwd', hook: 'forward', prio: 0, policy: 'drop' } },
      { chain: { family: 'netdev', table: 'edge', name: 'in', hook: 'ingress', dev: 'eth0', prio: 0, policy: 'drop' } },
      { chain: { family: 'inet', table: 'idle', name: 'fwd', hook: 'forward', prio: 0, policy: 'accept' } },
    ],
  });
  const ipt = [rs('*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n')];
  ipt[0].backend = 'nft';
  const names = (h: Parameters<typeof nativeChainsAt>[2], iif?: string) => nativeChainsAt({ iptables: ipt, nft }, 4, h, iif).map((c) => `${c.family} ${c.table} ${c.name}`);
  // Equal priority: the chain added last runs first.
  assert.deepEqual(names('FORWARD'), ['inet idle fwd', 'inet guard gate']);
  assert.deepEqual(names('PREROUTING'), ['ip nat mine']);
  assert.deepEqual(names('ingress', 'eth0'), ['netdev edge in']);
  assert.deepEqual(names('ingress', 'eth1'), []);
});
