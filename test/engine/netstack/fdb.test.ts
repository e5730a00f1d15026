// FDB from real `bridge -j fdb` output: VXLAN remotes (flannel/calico style) and bridge lookups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fdb, parseFdb } from '../../../src/engine/netstack/fdb';
import { ParseError } from '../../../src/engine/netstack/parse-error';

const FIX = join(import.meta.dirname, '../../fixtures/netstack/links');
const read = (p: string) => readFileSync(join(FIX, p), 'utf8');

test('generated node: flannel per-MAC entry, calico default flood entries', () => {
  const entries = parseFdb(read('gen/node.fdb.json'));
  const fdb = new Fdb(entries);
  const fl = fdb.vxlanRemotes('flannel.1', '5A:00:00:00:00:02');
  assert.equal(fl.match, 'exact');
  assert.deepEqual(fl.remotes.map((r) => r.dst), ['198.51.100.12']);
  assert.ok(fl.remotes[0].entry.permanent && fl.remotes[0].entry.self);
  // flannel.1 has no all-zeros entry: an unknown MAC has nowhere to go.
  assert.deepEqual(fdb.vxlanRemotes('flannel.1', '5a:00:00:00:00:09'), { match: 'none', remotes: [] });
  const cal = fdb.vxlanRemotes('vxlan.calico', '66:00:00:00:00:03');
  assert.equal(cal.match, 'exact');
  assert.deepEqual(cal.remotes.map((r) => r.dst), ['198.51.100.13']);
  const flood = fdb.vxlanRemotes('vxlan.calico', 'aa:bb:cc:00:00:01');
  assert.equal(flood.match, 'default');
  assert.deepEqual(flood.remotes.map((r) => r.dst).sort(), ['198.51.100.12', '198.51.100.13']);
  console.log(`node fdb: ${entries.length} entries, ${entries.filter((e) => e.dst).length} with a VXLAN dst`);
});

test('generated node: bridge lookup (learned port, local permanent, unknown floods)', () => {
  const entries = parseFdb(read('gen/node.fdb.json'));
  const fdb = new Fdb(entries);
  // Learned entries (empty state) on the pod ports: the pods' MACs.
  const learned = entries.filter((e) => e.master === 'cni0' && e.state === '');
  assert.deepEqual(learned.map((e) => e.dev).sort(), ['vetha', 'vethb']);
  for (const e of learned) assert.deepEqual(fdb.bridgeLookup('cni0', e.mac), { decision: 'port', port: e.dev, entry: e });
  // A port's own MAC is a permanent entry: the frame goes to the host.
  const own = entries.find((e) => e.master === 'cni0' && e.dev === 'vethc' && e.permanent)!;
  assert.equal(fdb.bridgeLookup('cni0', own.mac).decision, 'local');
  assert.deepEqual(fdb.bridgeLookup('cni0', '02:99:99:99:99:99'), { decision: 'flood' });
});

test('two-node dump: fdb parses; veth1 learned pod MAC', () => {
  const fdb = new Fdb(parseFdb(read('two-node-dump/node1.fdb.json')));
  assert.deepEqual(fdb.bridgeLookup('cni0', '42:05:ff:5c:a5:9d'), {
    decision: 'port', port: 'veth1', entry: fdb.entries.find((e) => e.mac === '42:05:ff:5c:a5:9d')!,
  });
  for (const n of ['node2', 'pod1', 'pod2']) assert.ok(parseFdb(read(`two-node-dump/${n}.fdb.json`)).length > 0);
});

test('bad fdb input', () => {
  assert.throws(() => parseFdb('[{"mac":"zz:00:00:00:00:00","ifname":"x"}]'), /element \[0\]: field "mac": not a MAC/);
  assert.throws(() => parseFdb('[{"mac":"00:00:00:00:00:00","ifname":"x","dst":"nope"}]'), /field "dst"/);
  assert.throws(() => parseFdb('{"mac":1}'), (e: unknown) => e instanceof ParseError && /expected a JSON array, got object/.test(e.message));
});
