// Network.nodeWithIP: an address the Node objects do not list (cni0, flannel.1, a second NIC) is
// found from the dumps' raw `ip -j addr` JSON, without building any node's stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';

const LAB = join(import.meta.dirname, '../fixtures/lab/flannel-host-gw--healthy/snapshot.netpath.json');

test('nodeWithIP finds dump-only host addresses without building node stacks', () => {
  const snapshot = loadSnapshot(readFileSync(LAB, 'utf8'));
  const net = new Network(snapshot);
  const listed = new Set(snapshot.objects.nodes.flatMap((n) => ((n.status as { addresses?: { address: string }[] })?.addresses ?? []).map((a) => a.address)));
  let checked = 0;
  for (const [node, dump] of Object.entries(snapshot.dumps)) {
    for (const link of dump.node.addresses ?? []) {
      const l = link as { ifname: string; addr_info: { local: string; scope: string }[] };
      if (l.ifname === 'lo') continue;
      for (const a of l.addr_info) {
        if (a.scope === 'host' || listed.has(a.local)) continue;
        assert.equal(net.nodeWithIP(a.local), node, `${a.local} on ${node}/${l.ifname}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 2, `dump-only addresses checked: ${checked}`);
  assert.equal(net.nodeWithIP('203.0.113.250'), undefined);
  assert.equal(net.nodeWithIP('127.0.0.1'), undefined, 'loopback is no node address');
  assert.equal((net as unknown as { stacks: Map<string, unknown> }).stacks.size, 0, 'no node stack built');
  console.log(`nodeWithIP: ${checked} dump-only host addresses found, 0 node stacks built`);
});
