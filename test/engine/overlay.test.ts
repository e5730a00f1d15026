// What-if overlays: manifests on top of the objects, through a ClusterPort wrapper over the
// snapshot's port; the JSON names the findings that rest on the overlay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { BadInputError } from '../../src/shared/errors';
import { snapshotPort } from '../../src/engine/port';
import { applyOverlay, OverlayError, overlayPort, parseObjectRef } from '../../src/engine/overlay/overlay';
import { explainWhatIf } from '../../src/engine/overlay/what-if';
import { labDir } from '../support/lab-cases';
import type { ClusterPort } from '../../src/engine/port';
import type { DiagnosisRequest } from '../../src/engine/model/result';

const snap = (c: string) => loadSnapshot(readFileSync(join(labDir, c, 'snapshot.netpath.json'), 'utf8'));
const crossNode: DiagnosisRequest = { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' };

function whatIf(c: string, yaml: string[], without: string[], req = crossNode) {
  const s = snap(c);
  const port = snapshotPort(s);
  const applied = applyOverlay(s.objects, yaml.map((text, i) => ({ name: `overlay-${i}.yaml`, text })), without.map(parseObjectRef));
  let base;
  try {
    base = new Network(port).diagnose(req);
  } catch (e) {
    if (!(e instanceof BadInputError)) throw e;
    base = { error: e.message };
  }
  const after = new Network(overlayPort(port, applied)).diagnose(req);
  return explainWhatIf(applied, base, after);
}

const denyAll = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: deny-all, namespace: default }
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`;

test('a deny-all NetworkPolicy overlay turns a reachable pair unreachable, naming that policy', () => {
  const w = whatIf('flannel-host-gw--healthy', [denyAll], []);
  assert.equal(w.baseVerdict, 'reachable');
  assert.equal(w.result.verdict, 'unreachable');
  const deny = w.result.clusterSuspicions.find((s) => s.check.startsWith('policy.') && s.check.endsWith('-deny'));
  assert.ok(deny, 'a policy deny finding');
  assert.ok(deny.evidence.some((e) => e.where === 'networkpolicy default/deny-all'), JSON.stringify(deny.evidence));
  const idx = w.result.clusterSuspicions.indexOf(deny);
  assert.ok(w.resting.some((f) => f.node === 'cluster' && f.index === idx), 'the deny finding rests on the overlay');
  assert.deepEqual(w.changes.map((c) => [c.kind, c.namespace, c.name, c.action]), [['NetworkPolicy', 'default', 'deny-all', 'created']]);
});

test('--without the deciding policy turns the unreachable pair reachable (network-policy-deny case), its CNI rules left out', () => {
  const w = whatIf('flannel-host-gw--network-policy-deny', [], ['NetworkPolicy/default/web-allow-client']);
  assert.equal(w.baseVerdict, 'unreachable');
  assert.equal(w.result.verdict, 'reachable');
  assert.ok(w.result.clusterSuspicions.some((s) => s.check === 'overlay.api-level'));
});

test('the same pair without any overlay change is unaffected; a List replacing the policy by kind/namespace/name applies', () => {
  const list = `apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: web-allow-client, namespace: default }
  spec:
    podSelector: { matchLabels: { tier: web } }
    policyTypes: [Ingress]
    ingress: [{ from: [{ podSelector: { matchLabels: { app: client } } }] }]
`;
  const w = whatIf('flannel-host-gw--network-policy-deny', [list], []);
  assert.deepEqual(w.changes.map((c) => c.action), ['replaced']);
  assert.equal(w.result.verdict, 'reachable');
});

test('a Service overlay: its EndpointSlice is derived, and datapath findings it alone brings about are said to be unconfirmed', () => {
  const svc = `apiVersion: v1
kind: Service
metadata: { name: web2-new, namespace: default }
spec:
  selector: { app: web2 }
  clusterIP: 10.96.200.200
  clusterIPs: [10.96.200.200]
  ports: [{ port: 80, targetPort: 8080, protocol: TCP }]
`;
  const w = whatIf('flannel-host-gw--healthy', [svc], [], { src: 'default/client', dst: 'svc/default/web2-new', port: 80, protocol: 'tcp' });
  assert.deepEqual(w.changes.map((c) => [c.kind, c.action]), [['EndpointSlice', 'derived'], ['Service', 'created']]);
  assert.ok(w.result.clusterSuspicions.some((s) => s.check === 'overlay.not-programmed'));
  assert.notEqual(w.result.verdict, 'reachable', 'kube-proxy has no rules for the new ClusterIP: the datapath cannot confirm it');
  assert.equal(w.result.verdict, 'unknown');
  assert.equal(w.baseVerdict, 'not-applicable');
  const node1 = w.result.nodes.find((n) => n.id === 'node1')!;
  const chain = node1.suspicions.findIndex((s) => s.check === 'kube-proxy.chain-missing');
  assert.ok(chain >= 0 && node1.suspicions[chain].message.startsWith('not confirmed'), 'the missing service chain is said to be unconfirmed');
  assert.ok(w.resting.some((f) => f.node === 'node1' && f.index === chain));
  assert.ok(!w.resting.some((f) => f.check === 'plugin.detected'), 'INFO findings do not rest on the overlay');
});

test('bad overlays are named: unknown kind, missing object, broken YAML', () => {
  assert.throws(() => parseObjectRef('Frob/default/x'), OverlayError);
  assert.throws(() => parseObjectRef('NetworkPolicy/x'), /NAMESPACE\/NAME/);
  assert.throws(() => parseObjectRef('Namespace/a/b'), /cluster-scoped/);
  const s = snap('flannel-host-gw--healthy');
  assert.throws(() => applyOverlay(s.objects, [], [parseObjectRef('networkpolicy/default/nope')]), /no such object/);
  assert.throws(() => applyOverlay(s.objects, [{ name: 'bad.yaml', text: 'kind: [' }], []), /bad\.yaml/);
});

test('the overlay wraps a port that collects (a live cluster): dumps are collected through it, once per node for base and overlay', async () => {
  const s = snap('flannel-host-gw--network-policy-deny');
  const collected = new Set<string>();
  const calls: string[][] = [];
  const live: ClusterPort = {
    objects: s.objects,
    dumps: {
      state: (node) => (collected.has(node) ? { dump: s.dumps[node] } : node in s.dumps ? { collectable: true } : { missing: `no node ${node}` }),
      available: () => [...collected].sort(),
      collect: async (nodes) => {
        calls.push([...nodes]);
        for (const n of nodes) collected.add(n);
      },
    },
  };
  const applied = applyOverlay(live.objects, [], [parseObjectRef('NetworkPolicy/default/web-allow-client')]);
  const base = await new Network(live).diagnoseAsync(crossNode);
  const after = await new Network(overlayPort(live, applied)).diagnoseAsync(crossNode);
  const w = explainWhatIf(applied, base, after);
  assert.equal(w.baseVerdict, 'unreachable');
  assert.equal(w.result.verdict, 'reachable');
  assert.deepEqual(calls.flat().sort(), ['node1', 'node2'], 'each node collected once, by the base run; the overlay run found them at hand');
});
