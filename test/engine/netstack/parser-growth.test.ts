// Every netstack parser grows linearly (or n log n) with its input: twice the input may cost at
// most ~twice the CPU time. Ratios are printed; the bound (< 3) is loose on purpose — a quadratic
// parser gives ≈ 4, and the machine these run on is shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesSave, parseIptablesSaveLazy, chainRulesTolerant } from '../../../src/engine/netstack/iptables/parse';
import { parseIpsetSave } from '../../../src/engine/netstack/ipset';
import { parseIpvsadmSave } from '../../../src/engine/netstack/ipvs';
import { parseRoutes, parseRules } from '../../../src/engine/netstack/routes';
import { parseNeighbours } from '../../../src/engine/netstack/neighbour';
import { parseSysctl } from '../../../src/engine/netstack/sysctl';
import { parseFdb } from '../../../src/engine/netstack/fdb';
import { pairVeths, parseInterfaces, type NamespaceView } from '../../../src/engine/netstack/interfaces';
import type { Interface } from '../../../src/engine/netstack/interfaces-model';
import { parseProcNet, parseSs } from '../../../src/engine/netstack/sockets';
import { parseNftRuleset } from '../../../src/engine/netstack/nftables/model';
import { parseXtRecent } from '../../../src/engine/netstack/netfilter/recent';
import { describeGrowth, measureGrowthConfirmed } from '../../support/growth';

const BOUND = 3;

const ip4 = (k: number) => `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;

function rules(n: number, cmd: (k: number) => string): string {
  const out = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let k = 0; k < n; k++) out.push(`${cmd(k)} -s ${ip4(k)}/32 -p tcp -m tcp --dport ${k % 65536} -j ACCEPT`);
  out.push('COMMIT', '');
  return out.join('\n');
}

function check(name: string, make: (n: number) => unknown, parse: (input: never) => unknown, start: number, maxN: number) {
  const g = measureGrowthConfirmed(make, parse, { start, maxN, bound: BOUND });
  const line = describeGrowth(name, g);
  console.log(line);
  assert.ok(g.ratio < BOUND, `${line}: more than ${BOUND}× the time for 2× the input`);
}

test('iptables: -A rules', () => {
  check('iptables -A', (n) => rules(n, () => '-A FORWARD'), (t: string) => parseIptablesSave(t), 2000, 200_000);
});

test('iptables: -I rules at the top, at a middle position, and through the lazy and tolerant paths', () => {
  check('iptables -I', (n) => rules(n, () => '-I FORWARD'), (t: string) => parseIptablesSave(t), 2000, 200_000);
  check('iptables -I k/2', (n) => rules(n, (k) => `-I FORWARD ${(k >> 1) + 1}`), (t: string) => parseIptablesSave(t), 2000, 200_000);
  check('iptables -I lazy, chain read', (n) => rules(n, () => '-I FORWARD 1'), (t: string) => {
    const rs = parseIptablesSaveLazy(t);
    return rs.tables[0].chainsByName.get('FORWARD')!.rules.length;
  }, 2000, 200_000);
  const withBadLine = (n: number) => rules(n, (k) => (k === 5 ? '-I FORWARD 1 -m' : '-I FORWARD 1'));
  check('iptables -I tolerant', withBadLine, (t: string) => chainRulesTolerant(parseIptablesSaveLazy(t).tables[0].chainsByName.get('FORWARD')!).length, 2000, 200_000);
});

test('iptables: table headers', () => {
  const make = (n: number) => {
    const out: string[] = [];
    for (let k = 0; k < n; k++) out.push(`*t${k}`, ':INPUT ACCEPT [0:0]', 'COMMIT');
    return out.join('\n');
  };
  check('iptables *table', make, (t: string) => parseIptablesSave(t), 2000, 400_000);
});

test('ipset: add lines, ranges and list:set ordering', () => {
  check('ipset add', (n) => {
    const out = [`create s hash:ip family inet maxelem ${4 * n}`];
    for (let k = 0; k < n; k++) out.push(`add s ${ip4(k)}`);
    return out.join('\n');
  }, (t: string) => parseIpsetSave(t), 2000, 400_000);
  check('ipset add range', (n) => {
    const out = [`create s hash:ip family inet maxelem ${64 * n}`];
    for (let k = 0; k < n; k++) out.push(`add s ${ip4(k * 16)}/28`);
    return out.join('\n');
  }, (t: string) => parseIpsetSave(t, { ipsetElementBudget: 1e9 }), 200, 50_000);
  for (const where of ['after', 'before'] as const) {
    check(`ipset list:set ${where}`, (n) => {
      const out = [`create l list:set size ${n + 8}`, 'add l m0'];
      // The reference is always last in the list (after the newest member, before the first
      // one): the worst case for a search from the front.
      for (let k = 1; k < n; k++) out.push(`add l m${k} ${where} ${where === 'after' ? `m${k - 1}` : 'm0'}`);
      return out.join('\n');
    }, (t: string) => parseIpsetSave(t), 1000, 200_000);
  }
});

test('ipvs, ss, /proc/net, routes, policy rules, neighbours, fdb, links, sysctl', () => {
  check('ipvsadm -Sn', (n) => {
    const out: string[] = [];
    for (let k = 0; k < n; k++) out.push(`-A -t ${ip4(k)}:80 -s rr`, `-a -t ${ip4(k)}:80 -r 172.16.0.${k & 255}:8080 -m -w 1`);
    return out.join('\n');
  }, (t: string) => parseIpvsadmSave(t), 1000, 200_000);
  check('ss', (n) => {
    const out = ['Netid State  Recv-Q Send-Q      Local Address:Port Peer Address:PortProcess'];
    for (let k = 0; k < n; k++) out.push(`tcp   LISTEN 0      511    ${ip4(k)}:${k % 65536}    0.0.0.0:*`);
    return out.join('\n');
  }, (t: string) => parseSs(t), 2000, 400_000);
  check('ip -j route', (n) => Array.from({ length: n }, (_, k) => ({ dst: `${ip4(k * 256)}/24`, gateway: '10.255.0.254', dev: 'eth0', table: 'main', flags: [] })), (r: unknown) => parseRoutes(r, { family: 4 }), 1000, 200_000);
  check('ip -j rule', (n) => Array.from({ length: n }, (_, k) => ({ priority: k + 1, src: ip4(k * 256), srclen: 24, table: 'main' })), (r: unknown) => parseRules(r, { family: 4 }), 1000, 200_000);
  check('ip -j neigh', (n) => JSON.stringify(Array.from({ length: n }, (_, k) => ({ dst: ip4(k), dev: 'eth0', lladdr: '02:00:00:00:00:01', state: ['REACHABLE'] }))), (t: string) => parseNeighbours(t), 1000, 200_000);
  check('sysctl -a', (n) => Array.from({ length: n }, (_, k) => `net.ipv4.conf.veth${k}.rp_filter = ${k % 3}`).join('\n'), (t: string) => parseSysctl(t), 2000, 400_000);
  check('/proc/net/tcp', (n) => {
    const out = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
    const hex = (v: number, w: number) => v.toString(16).toUpperCase().padStart(w, '0');
    for (let k = 0; k < n; k++) out.push(`${String(k).padStart(4)}: ${hex(0x0a000000 + k, 8)}:${hex(k % 65536, 4)} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${k} 1 000000003bf43081 100 0 0 10 0`);
    return out.join('\n');
  }, (t: string) => parseProcNet(t, 'tcp'), 2000, 400_000);
  check('bridge -j fdb', (n) => JSON.stringify(Array.from({ length: n }, (_, k) => ({ mac: `02:00:00:${((k >> 16) & 255).toString(16).padStart(2, '0')}:${((k >> 8) & 255).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}`, ifname: 'vxlan0', dst: ip4(k), flags: ['self'], state: 'permanent' }))), (t: string) => parseFdb(t), 1000, 200_000);
  check('ip -j link/addr', (n) => {
    const links = Array.from({ length: n }, (_, k) => ({ ifindex: k + 2, ifname: `veth${k}`, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', link_type: 'ether', address: '02:00:00:00:00:01' }));
    const addrs = links.map((l, k) => ({ ...l, addr_info: [{ family: 'inet', local: ip4(k), prefixlen: 32, scope: 'global' }] }));
    return [JSON.stringify(links), JSON.stringify(addrs)];
  }, ([l, a]: [string, string]) => parseInterfaces(l, a), 500, 100_000);
});

test('veth pairing of a node (by netnsid, and by ifindex alone)', () => {
  // A host with n veths, each paired with eth0 (ifindex 2) of its own pod namespace.
  const node = (withIds: boolean) => (n: number): NamespaceView[] => {
    const veth = (name: string, index: number, linkIndex: number, linkNetnsId: number) => ({ name, index, kind: 'veth', linkIndex, linkNetnsId }) as unknown as Interface;
    const host: NamespaceView = { id: 'host', interfaces: Array.from({ length: n }, (_, k) => veth(`veth${k}`, k + 10, 2, k)), netnsIds: withIds ? new Map(Array.from({ length: n }, (_, k) => [k, `pod${k}`])) : undefined };
    const pods = Array.from({ length: n }, (_, k): NamespaceView => ({ id: `pod${k}`, interfaces: [veth('eth0', 2, k + 10, 0)], netnsIds: withIds ? new Map([[0, 'host']]) : undefined }));
    return [host, ...pods];
  };
  // Capped at 32k pods: beyond, the young generation's promotions (not the algorithm) add a third.
  check('veth pairs by netnsid', node(true), (v: NamespaceView[]) => assert.equal(pairVeths(v).pairs.length, v.length - 1), 500, 128_000);
  check('veth pairs by ifindex', node(false), (v: NamespaceView[]) => assert.equal(pairVeths(v).pairs.length, v.length - 1), 500, 128_000);
});

test('nft -j list ruleset (chains, rules, set elements), xt_recent lists', () => {
  check('nft -j list ruleset', (n) => {
    const items: unknown[] = [{ metainfo: { version: '1.0.9' } }, { table: { family: 'inet', name: 'filter', handle: 1 } }];
    items.push({ chain: { family: 'inet', table: 'filter', name: 'input', handle: 2, type: 'filter', hook: 'input', prio: 0, policy: 'accept' } });
    items.push({ set: { family: 'inet', table: 'filter', name: 'allowed', handle: 3, type: 'ipv4_addr', flags: ['interval'], elem: Array.from({ length: n }, (_, k) => ip4(k)) } });
    for (let k = 0; k < n; k++) {
      items.push({ rule: { family: 'inet', table: 'filter', chain: 'input', handle: 10 + k, expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: k % 65536 } }, { accept: null }] } });
    }
    return JSON.stringify({ nftables: items });
  }, (t: string) => parseNftRuleset(JSON.parse(t)), 1000, 200_000);
  check('/proc/net/xt_recent', (n) => {
    const out: string[] = [];
    for (let l = 0; l < n / 100; l++) {
      out.push(`list ${`KUBE-SEP-${l}`.length} KUBE-SEP-${l}`);
      for (let k = 0; k < 100; k++) out.push(`src=${ip4(l * 100 + k)} ttl: 64 last_seen: 4295 oldest_pkt: 1 4295`);
    }
    return out.join('\n');
  }, (t: string) => parseXtRecent(t), 2000, 400_000);
});
