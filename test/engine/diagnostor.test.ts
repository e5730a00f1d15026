import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Diagnostor, type CollectRequest, type PathGraph } from '../../src/engine/diagnostor';
import { NetNodeManager, type ManagedNode } from '../../src/engine/nodemanager';
import { NetNode, type Hop, type Transmission } from '../../src/engine/model/netnode';
import type { Link } from '../../src/engine/model/link';
import { packet } from '../../src/engine/model/packet';

// A toy network: each node forwards to the hops listed for it (or throws, for "boom").
function network(next: Record<string, string[]>) {
  const hop = (id: string): Hop => ({ type: 'node', id });
  const out = (id: string): Transmission[] =>
    (next[id] ?? []).map((to) => ({
      nextHop: hop(to),
      link: { id: '', type: 'infra', source: '', destination: '', packet: packet({ src: '10.0.0.1', dst: '10.0.0.2', dport: 80 }), sourceAttributes: {}, destinationAttributes: {} } satisfies Link,
    }));
  return new NetNodeManager((h): ManagedNode => ({
    node: new NetNode(h.type, h.id),
    action: {
      send: () => out(h.id),
      receive: () => {
        if (h.id === 'boom') throw new Error('dump of boom is unreadable');
        return out(h.id);
      },
    },
  }), { state: (node) => ({ missing: `no dump of ${node}` }), available: () => [] }, () => undefined);
}

/** Drives the Diagnostor's steps where every dump is at hand: it must never ask to collect. */
function graphOf(steps: Generator<CollectRequest, PathGraph, void>): PathGraph {
  const r = steps.next();
  assert.ok(r.done, 'nothing to collect');
  return r.value as PathGraph;
}

const dst = { ip: '10.0.0.2', type: 'pod' as const, port: 80 };

test('a forwarding loop ends with path.loop on the node where the packet comes back', () => {
  const g = graphOf(new Diagnostor(network({ a: ['b'], b: ['c'], c: ['b'] })).diagnose({ type: 'node', id: 'a' }, dst, 'tcp'));
  assert.deepEqual(g.nodes.map((n) => n.id), ['a', 'b', 'c']);
  const b = g.nodes.find((n) => n.id === 'b')!;
  assert.deepEqual(b.suspicions.map((s) => s.check), ['path.loop']);
  assert.equal(g.links.length, 3);
});

test('a failing branch becomes a finding and the other branches are still followed', () => {
  const g = graphOf(new Diagnostor(network({ a: ['boom', 'ok'], ok: ['end'] })).diagnose({ type: 'node', id: 'a' }, dst, 'tcp'));
  assert.deepEqual(g.nodes.map((n) => n.id), ['a', 'boom', 'ok', 'end']);
  const boom = g.nodes.find((n) => n.id === 'boom')!;
  assert.equal(boom.examined, false);
  assert.match(boom.suspicions[0].message, /dump of boom is unreadable/);
});

test('link ids are unique and deterministic when two links join the same nodes', () => {
  const g = graphOf(new Diagnostor(network({ a: ['b', 'b'] })).diagnose({ type: 'node', id: 'a' }, dst, 'tcp'));
  assert.deepEqual(g.links.map((l) => l.id), ['infra:a->b', 'infra:a->b#2']);
});

test('the depth bound stops a path that never repeats exactly', () => {
  const chain: Record<string, string[]> = {};
  for (let i = 0; i < 50; i++) chain[`n${i}`] = [`n${i + 1}`];
  const g = graphOf(new Diagnostor(network(chain), { maxDepth: 10 }).diagnose({ type: 'node', id: 'n0' }, dst, 'tcp'));
  assert.equal(g.nodes.length, 12);
  assert.deepEqual(g.nodes.at(-1)!.suspicions.map((s) => s.check), ['path.too-long']);
});

test('branches that merge on the same packet are followed once and are not a loop', () => {
  const g = graphOf(new Diagnostor(network({ a: ['b', 'c'], b: ['d'], c: ['d'], d: ['e'] })).diagnose({ type: 'node', id: 'a' }, dst, 'tcp'));
  assert.deepEqual(g.nodes.map((n) => n.id), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(g.nodes.flatMap((n) => n.suspicions.map((s) => s.check)), []);
  assert.equal(g.links.filter((l) => l.destination === 'e').length, 1);
});
