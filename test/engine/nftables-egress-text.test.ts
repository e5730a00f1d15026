// An egress chain whose device nft -j (1.0.6) leaves out, on a real lab cluster (flannel host-gw):
// with the dump's `nftablesText` (the `nft list ruleset` listing the collector records then) the
// device is known and the verdict decided; without it, or with a text that is not the JSON's rule
// set, the chain is evaluated on and off the interface as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { diagnose, findingsOf, hostOf, labSnapshot, pushNftDrop, WEB2 } from './honest-fixture';
import type { NetpathSnapshot } from '../../src/engine/snapshot/types';
import { SnapshotDiff } from '../../src/engine/diff/diff';
import { entriesOf } from '../../src/engine/diff/stack';

const FLANNEL = 'flannel-host-gw--healthy';

type Item = { table?: Record<string, unknown>; chain?: Record<string, unknown> };

/** node1 with a netdev table whose egress chain drops client → web2, its device left out of the JSON as nft 1.0.6 does. */
function withEgressDrop(): NetpathSnapshot {
  const s = labSnapshot(FLANNEL);
  pushNftDrop(s, 'node1', { family: 'netdev', table: 'out', chain: 'eg', hook: 'egress', tableHandle: 91 });
  return s;
}

/**
 * The node's rule set as `nft list ruleset` lays it out — table and chain headers, each base
 * chain's type line (egress chains on `device`) — rules left out: the reader skips them anyway.
 */
function listing(s: NetpathSnapshot, device: string): string {
  const items = (hostOf(s, 'node1').nftables as { nftables: Item[] }).nftables;
  const out: string[] = [];
  for (const t of items.filter((i) => i.table).map((i) => i.table!)) {
    out.push(`table ${t.family} ${t.name} {`);
    for (const c of items.filter((i) => i.chain && i.chain.family === t.family && i.chain.table === t.name).map((i) => i.chain!)) {
      out.push(`\tchain ${c.name} {`);
      if (c.hook) out.push(`\t\ttype ${c.type} hook ${c.hook}${c.hook === 'egress' ? ` device "${device}"` : ''} priority ${c.prio}; policy ${c.policy};`);
      out.push('\t}', '');
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

const web2 = (s: NetpathSnapshot) => diagnose(s, WEB2.src, WEB2.dst, WEB2.port);
const undecided = (r: ReturnType<typeof web2>) => r.nodes.flatMap((n) => n.suspicions).filter((x) => x.undecided?.length);

test('an egress drop whose device only the text names: unreachable with the text, unknown without it', () => {
  const without = web2(withEgressDrop());
  assert.equal(without.verdict, 'unknown');
  const w = findingsOf(without, 'node1').find((x) => x.check === 'nftables.undecided');
  assert.deepEqual(w?.undecided?.map((u) => u.where), ['node1 device of table netdev out chain eg (hook egress priority 0): eth0?']);

  const s = withEgressDrop();
  hostOf(s, 'node1').nftablesText = listing(s, 'eth0');
  const r = web2(s);
  assert.equal(r.verdict, 'unreachable');
  const f = findingsOf(r, 'node1').find((x) => x.check === 'nftables.drop');
  assert.ok(f, JSON.stringify(findingsOf(r, 'node1').map((x) => x.check)));
  assert.match(f.message, /dropped by nftables on node1 in table netdev out chain eg handle 2 \(hook egress priority 0\)/);
  assert.deepEqual(undecided(r), []);
});

test('the text names another device: the chain is not on eth0, the packet passes — decided, nothing unknown', () => {
  const s = withEgressDrop();
  hostOf(s, 'node1').nftablesText = listing(s, 'cni0');
  const r = web2(s);
  assert.equal(r.verdict, 'reachable');
  assert.deepEqual(undecided(r), []);
});

test('a text that is not the JSON\'s rule set (a chain it lacks) names nothing: unknown, as without it', () => {
  const s = withEgressDrop();
  hostOf(s, 'node1').nftablesText = listing(s, 'eth0').replace('\tchain FORWARD {', '\tchain FORWARD-renamed {');
  assert.equal(web2(s).verdict, 'unknown');
});

test('the snapshot schema takes nftablesText as text, and only as text', () => {
  const s = withEgressDrop();
  hostOf(s, 'node1').nftablesText = listing(s, 'eth0');
  assert.equal(loadSnapshot(JSON.stringify(s)).dumps.node1.node.nftablesText, hostOf(s, 'node1').nftablesText);
  (hostOf(s, 'node1') as unknown as Record<string, unknown>).nftablesText = { devices: ['eth0'] };
  assert.throws(() => loadSnapshot(JSON.stringify(s)), /nftablesText/);
});

test('snapshot diff sees a netdev chain move to another device when only the text names the device', () => {
  const a = withEgressDrop();
  hostOf(a, 'node1').nftablesText = listing(a, 'eth0');
  const b = withEgressDrop();
  hostOf(b, 'node1').nftablesText = listing(b, 'cni0');
  const chains = (s: NetpathSnapshot) => [...entriesOf(hostOf(s, 'node1'), 'nftables').values()].filter((t) => t.includes('"name":"eg"'));
  assert.equal(chains(a).length, 1);
  assert.match(chains(a)[0], /"devices":"eth0"/);
  assert.match(chains(b)[0], /"devices":"cni0"/);
  const moved = new SnapshotDiff(a, b).rest().stacks.filter((x) => x.node === 'node1' && x.area === 'nftables');
  // (nft entries are keyed by their text, as a chain changed in the JSON is: the old one removed, the new one added.)
  assert.deepEqual(moved.map((x) => [x.change, /"devices":"(\w+)"/.exec(x.key)?.[1]]), [['removed', 'eth0'], ['added', 'cni0']]);
  const lost = new SnapshotDiff(a, withEgressDrop()).rest().stacks.filter((x) => x.node === 'node1' && x.area === 'nftables');
  assert.deepEqual(lost.map((x) => [x.change, /"devices":"(\w+)"/.exec(x.key)?.[1]]), [['removed', 'eth0'], ['added', undefined]], 'losing the text (the device unknown again) is a difference too');
});
