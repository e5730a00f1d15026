// Neighbour table from real `ip -j neigh` output: states, lookups, resolution verdicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { interfaceByName, parseInterfaces } from '../../../src/engine/netstack/interfaces';
import { NeighbourTable, neighbourUsable, parseNeighbours, resolveNeighbour } from '../../../src/engine/netstack/neighbour';
import { ParseError } from '../../../src/engine/netstack/parse-error';

const FIX = join(import.meta.dirname, '../../fixtures/netstack/links');
const read = (p: string) => readFileSync(join(FIX, p), 'utf8');

test('generated node: every NUD state parses, with v4 and v6 in one list', () => {
  const all = parseNeighbours(read('gen/node.neigh-all.json'));
  const states = new Set(all.flatMap((n) => n.states));
  for (const s of ['PERMANENT', 'NOARP', 'FAILED', 'INCOMPLETE', 'STALE', 'REACHABLE']) assert.ok(states.has(s), `state ${s} present`);
  assert.ok(all.some((n) => n.family === 4) && all.some((n) => n.family === 6));
  const plain = parseNeighbours(read('gen/node.neigh.json'));
  // Plain `ip neigh show` hides NOARP entries: that is why the generator also dumps `nud all`.
  assert.ok(!plain.some((n) => n.states.includes('NOARP')));
  const v6 = parseNeighbours(read('gen/node.neigh6.json'));
  assert.ok(v6.length > 0 && v6.every((n) => n.family === 6));
  const router = v6.find((n) => n.dst === 'fd00:244:1::60')!;
  assert.equal(router.router, true);
  assert.equal(router.lladdr, '02:00:00:00:00:60');
  console.log(`node: ${all.length} neighbour entries, states ${[...states].sort().join(' ')}`);
});

test('resolution: FAILED/INCOMPLETE unusable, PERMANENT/NOARP/REACHABLE/STALE usable, absent would ARP', () => {
  const t = new NeighbourTable(parseNeighbours(read('gen/node.neigh-all.json')));
  const ifs = parseInterfaces(read('gen/node.link.json'), read('gen/node.addr.json'));
  const failed = resolveNeighbour(t, '10.244.1.99', 'cni0');
  assert.equal(failed.status, 'unusable');
  assert.match(failed.reason, /FAILED/);
  assert.equal(resolveNeighbour(t, 'fd00:244:1::99', 'cni0').status, 'unusable');
  assert.equal(resolveNeighbour(t, '198.51.100.77', 'eth0').status, 'unusable');
  const flannel = resolveNeighbour(t, '10.244.2.0', 'flannel.1');
  assert.ok(flannel.status === 'usable' && flannel.lladdr === '5a:00:00:00:00:02');
  assert.ok(neighbourUsable(t, '10.244.1.50', 'cni0')); // NOARP
  assert.ok(neighbourUsable(t, '10.244.1.51', 'cni0')); // STALE
  assert.ok(neighbourUsable(t, '198.51.100.13', 'eth0')); // REACHABLE
  assert.ok(neighbourUsable(t, 'fd00:244:1:0:0::60', 'cni0'), 'IPv6 compared by value, not text');
  // Same address, other device: not the same entry.
  assert.equal(resolveNeighbour(t, '10.244.2.0', 'cni0').status, 'absent');
  const absent = resolveNeighbour(t, '10.244.1.3', 'cni0');
  assert.equal(absent.status, 'absent');
  assert.match(absent.reason, /would send ARP/);
  assert.match(resolveNeighbour(t, 'fd00:244:1::3', 'cni0').reason, /neighbour solicitation/);
  // tun0 is NOARP: no entry is needed.
  assert.equal(resolveNeighbour(t, '10.99.0.2', 'tun0', interfaceByName(ifs, 'tun0')).status, 'usable');
});

test('two-node dump: empty neighbour tables parse', () => {
  for (const n of ['node1', 'node2', 'pod1', 'pod2']) assert.deepEqual(parseNeighbours(read(`two-node-dump/${n}.neigh.json`)), []);
});

test('bad neighbour input names element and field', () => {
  assert.throws(() => parseNeighbours('[{"dst":"10.0.0.1","dev":"eth0","state":"REACHABLE"}]'), (e: unknown) =>
    e instanceof ParseError && /element \[0\]: field "state": expected an array/.test(e.message));
  assert.throws(() => parseNeighbours('[{"dst":"10.0.0.300"}]'), /not an IP address/);
  assert.throws(() => parseNeighbours('[{"dst":"10.0.0.1"'), ParseError);
});

test('proxy NDP entries (ip -6 -j neigh show proxy, as iproute2 6.1 prints them) are kept apart from next hops', () => {
  // Real output: `ip -6 neigh add proxy fd00::5 dev d0`, then `ip -6 -j neigh show proxy` / `show`.
  const proxies = parseNeighbours('[{"dst":"fd00::5","dev":"d0","proxy":null}]');
  const learned = parseNeighbours('[{"dst":"fd00::9","dev":"d0","state":["FAILED"]}]');
  assert.equal(proxies[0].proxy, true);
  const t = new NeighbourTable([...learned, ...proxies], true);
  assert.equal(t.proxiesKnown, true);
  assert.equal(t.lookup('fd00::5', 'd0'), undefined, 'a proxy entry is not a next hop');
  assert.equal(t.proxyFor('fd00:0::5', 'd0')?.dst, 'fd00::5');
  assert.equal(t.proxyFor('fd00::5', 'd1'), undefined, 'per device');
  assert.equal(t.proxyFor('fd00::9', 'd0'), undefined);
  assert.equal(resolveNeighbour(t, 'fd00::9', 'd0').status, 'unusable');
  assert.equal(new NeighbourTable(learned).proxiesKnown, false, 'a dump without the proxy list cannot tell');
});
