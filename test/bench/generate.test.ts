// The benchmark's synthetic snapshots are only worth timing if they are real: a tiny one must pass
// the snapshot schema and both measured probes must come out reachable through the whole engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSnapshot, kubeProxyIptables } from '../../bench/generate';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { parseIptablesSave } from '../../src/engine/netstack/iptables/parse';

const tiny = { nodes: 4, pods: 40, services: 6, endpoints: 3, seed: 7 };

test('a tiny generated snapshot loads and both probes are reachable', (t) => {
  const g = generateSnapshot(tiny);
  const text = JSON.stringify(g.snapshot);
  const snapshot = loadSnapshot(text);
  assert.equal(snapshot.objects.nodes.length, 4);
  assert.equal(snapshot.objects.pods.length, 40);
  assert.equal(snapshot.objects.services.length, 7); // + default/kubernetes
  for (const [name, probe] of Object.entries(g.probes)) {
    const r = new Network(snapshot).diagnose(probe);
    const findings = [...r.clusterSuspicions, ...r.nodes.flatMap((n) => n.suspicions)].filter((s) => s.level >= 2);
    assert.equal(r.verdict, 'reachable', `${name}: ${r.verdict}; ${findings.map((s) => `${s.check}: ${s.message}`).join('; ')}`);
    t.diagnostic(`${name} ${probe.src} -> ${probe.dst}:${probe.port}: ${r.verdict}, ${r.nodes.length} nodes on the path`);
  }
});

test('the same seed gives the same snapshot; another seed another one', () => {
  const a = JSON.stringify(generateSnapshot(tiny).snapshot);
  assert.equal(JSON.stringify(generateSnapshot(tiny).snapshot), a);
  assert.notEqual(JSON.stringify(generateSnapshot({ ...tiny, seed: 8 }).snapshot), a);
});

test('full dumps carry kube-proxy chains that parse, with statistic branches for every endpoint but the last', () => {
  const g = generateSnapshot(tiny);
  const text = g.snapshot.dumps[g.pathNodes[0]].node.iptables!.nft!;
  const rs = parseIptablesSave(text, { family: 4 });
  const nat = rs.tables.find((x) => x.name === 'nat')!;
  const svcChains = [...nat.chainsByName.keys()].filter((c) => c.startsWith('KUBE-SVC-'));
  const sepChains = [...nat.chainsByName.keys()].filter((c) => c.startsWith('KUBE-SEP-'));
  assert.equal(svcChains.length, 6);
  assert.equal(sepChains.length, 6 * 3);
  for (const c of svcChains) {
    const rules = nat.chainsByName.get(c)!.rules;
    assert.equal(rules.length, 3);
    assert.deepEqual(rules.map((r) => r.matches.some((m) => m.module === 'statistic')), [true, true, false]);
  }
  assert.match(text, /--probability 0\.33333333349 /);
  assert.equal(nat.chainsByName.get('KUBE-SERVICES')!.rules.length, 2 * 6 + 1);
  assert.equal(g.rulesPerFullDump, (text.match(/^-A /gm) ?? []).length);
  assert.equal(typeof kubeProxyIptables, 'function');
});
