// The connectivity matrix against pair-by-pair `diagnose`: built on equivalence classes, it must
// give every cell exactly what a diagnosis of that pair gives — on lab cases with the datapath
// (all pairs, all declared ports), and policy-only on objects-only snapshots of the lab's policy
// cases and of the 55-case NetworkPolicy table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network } from '../../src/engine/network';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { buildMatrix, cellOf, type Matrix } from '../../src/engine/matrix/matrix';
import { matrixCsv, matrixJson, matrixText } from '../../src/engine/matrix/report';
import type { K8sObject, NetpathSnapshot, SnapshotObjects } from '../../src/engine/snapshot/types';
import { labCases } from '../support/lab-cases';
import { base, cases } from './policy-cases';
import type { DiagnosisResult } from '../../src/engine/model/result';

function* cellsOf(m: Matrix) {
  for (let i = 0; i < m.cells.length; i++) {
    const port = m.ports[m.cells.port[i]];
    yield { src: m.pods[m.cells.src[i]], dst: m.pods[m.cells.dst[i]], port: port.port, protocol: port.protocol, ...m.results[m.cells.result[i]] };
  }
}

const policyDenied = (r: DiagnosisResult) => r.clusterSuspicions.some((s) => s.check.startsWith('policy.') && s.check.endsWith('-deny'));

// Several cases (the runtime stays reasonable): healthy per plugin, a policy fault, faults at
// the destination pod, on a node and on a pod's interface.
const datapathCases = ['flannel-host-gw--healthy', 'flannel-host-gw--network-policy-deny', 'flannel-host-gw--node-forward-drop', 'flannel-host-gw--nothing-listening',
  'flannel-host-gw--pod-eth0-down', 'calico-bgp--healthy', 'flannel-vxlan--healthy', 'generic-bridge--node-forward-reject'];
const lab = labCases().filter((c) => datapathCases.includes(c.name));

test('matrix (datapath) equals pair-by-pair diagnose on lab cases: every pair, every declared port', { skip: !lab.length && 'no lab cases' }, async (t) => {
  let cells = 0;
  for (const c of lab) {
    const s = loadSnapshot(c.snapshotText);
    const m = await buildMatrix(new Network(s), {}, { policyOnly: false });
    assert.ok(m.cells.length > 0, c.name);
    // One Network answers every request as a fresh one would (network-reuse.test.ts): diagnose pair by pair on it.
    const net = new Network(s);
    for (const cell of cellsOf(m)) {
      const r = net.diagnose({ src: cell.src, dst: cell.dst, port: cell.port, protocol: cell.protocol });
      const want = cellOf(r);
      assert.deepEqual({ verdict: cell.verdict, checks: cell.checks }, want, `${c.name}: ${cell.src} -> ${cell.dst}:${cell.port}/${cell.protocol}`);
      cells++;
    }
  }
  t.diagnostic(`${cells} cells over ${lab.length} lab cases agree with diagnose`);
});

test('matrix: one diagnosis per pair of node-path shapes and port, not per pod pair', async () => {
  const c = labCases().find((x) => x.name === 'flannel-host-gw--healthy');
  if (!c) return;
  const s = loadSnapshot(c.snapshotText);
  const m = await buildMatrix(new Network(s), { namespaces: ['default'] }, { policyOnly: false });
  assert.ok(m.stats.diagnoses <= m.stats.shapes * m.stats.shapes * m.ports.length);
  assert.ok(m.stats.diagnoses <= m.cells.length);
  // The two hostNetwork pods are their nodes: their shape is the node's, not the pod's.
  assert.ok(m.stats.shapes <= s.objects.pods.length);
});

function objectsOnly(objects: K8sObject[]): NetpathSnapshot {
  const o: SnapshotObjects = { nodes: [], pods: [], services: [], endpointSlices: [], endpoints: [], networkPolicies: [], namespaces: [], configMaps: [] };
  const lists: Record<string, keyof SnapshotObjects> = { Node: 'nodes', Pod: 'pods', Service: 'services', EndpointSlice: 'endpointSlices', NetworkPolicy: 'networkPolicies', Namespace: 'namespaces' };
  for (const x of objects) (o[lists[x.kind]] as K8sObject[]).push(x);
  return { kind: 'NetpathSnapshot', version: 1, capturedAt: '2026-01-01T00:00:00Z', settings: {}, objects: o, dumps: {} };
}

async function policyAgrees(s: NetpathSnapshot, scope: Parameters<typeof buildMatrix>[1], label: string): Promise<number> {
  const m = await buildMatrix(new Network(s), scope, { policyOnly: true });
  let n = 0;
  const net = new Network(s);
  for (const cell of cellsOf(m)) {
    const r = net.diagnose({ src: cell.src, dst: cell.dst, port: cell.port, protocol: cell.protocol });
    assert.equal(cell.verdict, policyDenied(r) ? 'denied' : 'allowed', `${label}: ${cell.src} -> ${cell.dst}:${cell.port}/${cell.protocol}`);
    const deny = r.clusterSuspicions.filter((x) => x.check.endsWith('-deny')).map((x) => x.check);
    assert.deepEqual(cell.checks, [...new Set([...deny, ...r.clusterSuspicions.filter((x) => x.check === 'policy.invalid').map((x) => x.check)])].sort(), label);
    if (cell.verdict === 'denied') {
      // The deciding policies include every policy named as evidence of the deny.
      const named = r.clusterSuspicions.filter((x) => x.check.endsWith('-deny')).flatMap((x) => x.evidence.map((e) => (e.where ?? '').replace(/^networkpolicy /, '')));
      for (const p of named) assert.ok(cell.policies!.includes(p), `${label}: ${p} decides ${cell.src} -> ${cell.dst}`);
    }
    n++;
  }
  return n;
}

test('policy-only matrix equals the policy verdicts of diagnose on objects-only snapshots of the lab policy cases', { skip: !labCases().length && 'no lab cases' }, async (t) => {
  let n = 0;
  for (const c of labCases().filter((x) => loadSnapshot(x.snapshotText).objects.networkPolicies.length)) {
    const s = loadSnapshot(c.snapshotText);
    n += await policyAgrees({ ...s, dumps: {} }, {}, c.name);
  }
  t.diagnostic(`${n} cells agree`);
  assert.ok(n > 0);
});

test('policy-only matrix equals the policy verdicts of diagnose on the 55-case NetworkPolicy table', async (t) => {
  let n = 0;
  for (const c of cases) {
    if (c.settings) continue; // a PolicySettings variant the Network does not take (its default is the other)
    const s = objectsOnly([...base, ...c.policies]);
    n += await policyAgrees(s, { ports: [{ port: c.port, protocol: (c.protocol ?? 'tcp') as 'tcp' }] }, c.name);
  }
  t.diagnostic(`${cases.length} table cases, ${n} cells agree`);
});

test('policy-only: a pod class is evaluated once, the JSON/CSV/text are deterministic and escape names', async () => {
  const pods = Array.from({ length: 30 }, (_, i) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `w-${i}`, namespace: i % 2 ? 'a' : 'b', labels: { app: i % 3 ? 'web' : 'db' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: `10.0.0.${i + 2}` },
  } as K8sObject));
  const deny: K8sObject = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'db-only-from-a', namespace: 'b' }, spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } } }] }] } };
  const s = objectsOnly([...pods, deny]);
  const m = await buildMatrix(new Network(s), {}, { policyOnly: true });
  assert.equal(m.cells.length, 30 * 29);
  assert.ok(m.stats.policyEvaluations < 30, `${m.stats.policyEvaluations} evaluations for ${m.cells.length} cells`);
  const json = [...matrixJson(m)].join('');
  const doc = JSON.parse(json);
  assert.deepEqual(Object.keys(doc), ['request', 'pods', 'ports', 'left', 'cells']);
  assert.deepEqual(Object.keys(doc.cells[0]), ['src', 'dst', 'port', 'protocol', 'verdict', 'checks', 'policies']);
  const m2 = await buildMatrix(new Network(s), {}, { policyOnly: true });
  assert.equal([...matrixJson(m2)].join(''), json);
  const denied = doc.cells.filter((c: { verdict: string }) => c.verdict === 'denied');
  assert.ok(denied.length > 0 && denied.every((c: { src: string; dst: string; policies: string[] }) => c.src.startsWith('b/') && c.policies.includes('b/db-only-from-a')));
  assert.equal([...matrixCsv(m)].join('').trim().split('\n').length, m.cells.length + 1);
  assert.match([...matrixText(m)].join(''), /^a -> a$/m);
});

test('matrix on a generated homogeneous cluster shares diagnoses across nodes and still equals diagnose, faults included', async (t) => {
  const { generateSnapshot } = await import('../../bench/generate');
  const g = generateSnapshot({ nodes: 6, pods: 24, services: 3, endpoints: 3, seed: 3, fullDumps: 6, policies: 2 });
  const s = g.snapshot;
  // Faults that must not be shared away: a DROP for one pod on its node, a route to one peer gone on another node.
  const victim = s.objects.pods.find((p) => (p.spec as { nodeName?: string }).nodeName === 'node-00003')!;
  const ip = (victim.status as { podIP: string }).podIP;
  const info = s.dumps['node-00003'].node;
  const lines = info.iptables!.nft!.split('\n');
  const filter = lines.indexOf('*filter');
  lines.splice(lines.findIndex((l, i) => i > filter && (l.startsWith('-A FORWARD') || l === 'COMMIT')), 0, `-A FORWARD -d ${ip}/32 -p tcp -m tcp --dport 8080 -j DROP`);
  info.iptables = { nft: lines.join('\n') };
  const routes = s.dumps['node-00004'].node.routes as { dst?: string; gateway?: string }[];
  routes.splice(routes.findIndex((r) => r.dst === '10.128.5.0/24'), 1);
  const m = await buildMatrix(new Network(s), { ports: [{ port: 8080, protocol: 'tcp' }] }, { policyOnly: false });
  assert.ok(m.stats.diagnoses < m.cells.length / 4, `${m.stats.diagnoses} diagnoses for ${m.cells.length} cells`);
  let unreachable = 0;
  const net = new Network(s);
  for (const cell of cellsOf(m)) {
    const want = cellOf(net.diagnose({ src: cell.src, dst: cell.dst, port: cell.port, protocol: cell.protocol }));
    assert.deepEqual({ verdict: cell.verdict, checks: cell.checks }, want, `${cell.src} -> ${cell.dst}`);
    if (cell.verdict === 'unreachable') unreachable++;
  }
  assert.ok(unreachable > 0, 'the faults show');
  t.diagnostic(`${m.cells.length} cells, ${m.stats.diagnoses} diagnoses, ${unreachable} unreachable`);
});
