// One Network serves many diagnoses: each runs with its own state, so a request gives the same
// JSON alone, twice in a row, and interleaved with other requests (the pod-mtu-mismatch case used
// to lose `mtu.mismatch` on the second run, the plugin's "done" set being the Network's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network } from '../../src/engine/network';
import { formatJson } from '../../src/engine/report/json';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { labCases } from '../support/lab-cases';

test('one Network: the same request gives byte-identical JSON alone, repeated, and interleaved with others', () => {
  const wanted = ['flannel-host-gw--pod-mtu-mismatch', 'flannel-vxlan--vxlan-fdb-missing', 'calico-bgp--healthy', 'flannel-host-gw--network-policy-deny'];
  const cases = labCases().filter((c) => wanted.includes(c.name));
  assert.equal(cases.length, wanted.length, `lab cases found: ${cases.map((c) => c.name).join(', ')}`);
  let compared = 0;
  for (const c of cases) {
    const requests = c.truth.probes.map((p) => ({ src: p.src, dst: p.dst, port: p.port, protocol: p.protocol, ...(p.size ? { size: p.size } : {}) }));
    // Each request alone, on a fresh Network: the reference.
    const alone = requests.map((r) => formatJson(new Network(loadSnapshot(c.snapshotText)).diagnose(r)));
    const shared = new Network(loadSnapshot(c.snapshotText));
    // Forward, then backward, then each twice in a row: every order a server sees.
    for (const order of [requests.map((_, i) => i), requests.map((_, i) => requests.length - 1 - i), requests.flatMap((_, i) => [i, i])]) {
      for (const i of order) {
        assert.equal(formatJson(shared.diagnose(requests[i])), alone[i], `${c.name}: ${requests[i].src} -> ${requests[i].dst}:${requests[i].port} differs when run after others`);
        compared++;
      }
    }
  }
  console.log(`# network reuse: ${compared} diagnoses on shared Networks identical to fresh ones over ${cases.length} cases`);
});
