import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterCache } from '../../src/engine/k8s/cache';
import { resolvePair } from '../../src/engine/k8s/resolve';
import { levelName } from '../../src/engine/model/suspicion';
import { checkNetworkPolicies } from '../../src/engine/policy/check';
import { PolicySet } from '../../src/engine/policy/evaluate';
import { findServiceHit, serviceBackends, serviceBackendsFor, type ServiceBackends, type ServiceHit } from '../../src/engine/service/backends';
import { collectObjects } from '../../src/engine/snapshot/objects';
import type { K8sObject } from '../../src/engine/snapshot/types';
import { cacheOf, namespace, node, pod, service, slice } from './k8s-objects';

const nodes = [node('node1', '192.168.0.11'), node('node2', '192.168.0.12'), namespace('default')];

function hitOf(c: ClusterCache, ip: string, port: number, protocol = 'tcp'): ServiceHit {
  const r = findServiceHit(c, ip, port, protocol);
  assert.ok(r && 'hit' in r, `${ip}:${port} should hit a service`);
  return r.hit;
}
const checks = (b: ServiceBackends) => b.suspicions.map((s) => `${levelName(s.level)} ${s.check}`);
const backendsOf = (b: ServiceBackends) => b.backends.map((x) => `${x.ip}:${x.port}@${x.node ?? '?'}`);

// Reference §10.2, service suite (the Kubernetes-level part of each scenario).
const e2e = (withEndpoints: boolean): K8sObject[] => [
  ...nodes,
  pod('default/pod1', { ip: '10.244.1.2', node: 'node1', labels: { app: 'client' } }),
  ...(withEndpoints
    ? [
        pod('default/pod2', { ip: '10.244.1.3', node: 'node1', labels: { app: 'server' }, ports: [{ containerPort: 80 }] }),
        pod('default/pod3', { ip: '10.244.2.3', node: 'node2', labels: { app: 'server' }, ports: [{ containerPort: 80 }] }),
      ]
    : []),
  service('default/svc', { type: 'ClusterIP', clusterIP: '10.96.100.1', clusterIPs: ['10.96.100.1'], selector: { app: 'server' }, ports: [{ port: 81, targetPort: 80, protocol: 'TCP' }] }),
  ...(withEndpoints
    ? [slice('default/svc-abc', 'svc', [{ ip: '10.244.1.3', node: 'node1', pod: 'default/pod2', ready: true }, { ip: '10.244.2.3', node: 'node2', pod: 'default/pod3', ready: true }], [{ port: 80, protocol: 'TCP' }])]
    : [slice('default/svc-abc', 'svc', [], [])]),
];

test('e2e 17: pod -> ClusterIP 81->80 with endpoints on the same and the other node', (t) => {
  const c = cacheOf(e2e(true));
  const pair = resolvePair(c, 'default/pod1', '10.96.100.1', 81);
  assert.deepEqual(pair.destination.endpoint, { ip: '10.96.100.1', type: 'service', port: 81, ref: 'default/svc' });
  const b = serviceBackends(c, hitOf(c, '10.96.100.1', 81), { node: 'node1', sourceIP: '10.244.1.2', sourceIsLocalPod: true });
  assert.deepEqual(backendsOf(b), ['10.244.1.3:80@node1', '10.244.2.3:80@node2']);
  assert.deepEqual(b.backends.map((x) => x.pod), ['default/pod2', 'default/pod3']);
  assert.deepEqual(b.suspicions, [], 'no suspicion');
  // The same through svc/ns/name.
  assert.deepEqual(backendsOf(serviceBackendsFor(c, c.service('default/svc')!, 81, 'tcp')), backendsOf(b));
  const policy = checkNetworkPolicies(new PolicySet(c), pair.source, pair.destination, 'tcp');
  assert.equal(policy.allowed, true);
  assert.equal(policy.targets.length, 2);
  t.diagnostic(`e2e 17: backends ${backendsOf(b).join(', ')}; ${b.suspicions.length} suspicions; policy: ${policy.targets.filter((v) => v.allowed).length}/${policy.targets.length} backends allowed`);
});

for (const [n, src] of [['18: pod', 'default/pod1'], ['19: node', 'node/node1']] as const) {
  test(`e2e ${n} -> service without endpoints: service.no-endpoints FATAL`, (t) => {
    const c = cacheOf(e2e(false));
    const pair = resolvePair(c, src, 'svc/default/svc', 81);
    assert.equal(pair.destination.endpoint.type, 'service');
    const b = serviceBackendsFor(c, pair.destination.service!, 81, 'tcp', { node: 'node1' });
    assert.deepEqual(b.backends, []);
    assert.deepEqual(checks(b), ['FATAL service.no-endpoints']);
    assert.match(b.suspicions[0].message, /^service default\/svc has no endpoints: its selector app=server matches no pod in namespace default$/);
    // Without any EndpointSlice at all the verdict is the same.
    const bare = cacheOf(e2e(false).filter((o) => o.kind !== 'EndpointSlice'));
    assert.deepEqual(checks(serviceBackendsFor(bare, bare.service('default/svc')!, 81, 'tcp')), ['FATAL service.no-endpoints']);
    t.diagnostic(`e2e ${n}: ${pair.source.endpoint.type} ${pair.source.endpoint.ip} -> ${pair.destination.endpoint.ip}:81: ${checks(b).join(', ')}: ${b.suspicions[0].message}`);
  });
}

test('endpoint conditions: kube-proxy defaults, ready first, serving+terminating fallback', () => {
  type E = { ready?: boolean; serving?: boolean; terminating?: boolean };
  const rows: { name: string; eps: E[]; want: string[]; checks: string[] }[] = [
    { name: 'conditions absent = ready', eps: [{}], want: ['10.0.0.1'], checks: [] },
    { name: 'ready only', eps: [{ ready: true }, { ready: false }], want: ['10.0.0.1'], checks: [] },
    { name: 'ready wins over terminating', eps: [{ ready: true }, { ready: false, serving: true, terminating: true }], want: ['10.0.0.1'], checks: [] },
    { name: 'none ready: serving+terminating fallback', eps: [{ ready: false, serving: true, terminating: true }, { ready: false, serving: false, terminating: true }, { ready: false }], want: ['10.0.0.1'], checks: ['WARNING service.terminating-endpoints-only'] },
    { name: 'serving absent while terminating counts as serving', eps: [{ ready: false, terminating: true }], want: ['10.0.0.1'], checks: ['WARNING service.terminating-endpoints-only'] },
    { name: 'not ready, not terminating: nothing', eps: [{ ready: false, serving: true }, { ready: false }], want: [], checks: ['FATAL service.no-ready-endpoints'] },
  ];
  for (const r of rows) {
    const c = cacheOf([
      ...nodes,
      service('default/s', { clusterIP: '10.96.0.1', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
      slice('default/s-1', 's', r.eps.map((e, i) => ({ ip: `10.0.0.${i + 1}`, node: 'node1', ...e })), [{ name: 'http', port: 8080 }]),
    ]);
    const b = serviceBackends(c, hitOf(c, '10.96.0.1', 80));
    assert.deepEqual(b.backends.map((x) => x.ip), r.want, r.name);
    assert.deepEqual(checks(b), r.checks, r.name);
    assert.equal(b.endpoints.filter((e) => !e.used).every((e) => e.reason), true, `${r.name}: unused endpoints say why`);
  }
});

test('ports: slice port by service port name; named targetPort via the pod when the slice lacks it', () => {
  const c = cacheOf([
    ...nodes,
    pod('default/a', { ip: '10.244.1.5', node: 'node1', labels: { app: 'a' }, ports: [{ name: 'web', containerPort: 8443 }] }),
    service('default/multi', { clusterIP: '10.96.0.2', selector: { app: 'a' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 9100, targetPort: 9100 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }] }),
    // The slice names http (8080) and dns/UDP; metrics is missing from it.
    slice('default/multi-1', 'multi', [{ ip: '10.244.1.5', node: 'node1', pod: 'default/a' }], [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }]),
    service('default/manual', { clusterIP: '10.96.0.3', ports: [{ name: 'web', port: 443, targetPort: 'web' }] }),
    // Selectorless service whose hand-made slice has no ports: the pod's container port decides.
    slice('default/manual-1', 'manual', [{ ip: '10.244.1.5', pod: 'default/a' }], []),
  ]);
  const http = serviceBackends(c, hitOf(c, '10.96.0.2', 80));
  assert.deepEqual(http.backends.map((b) => [b.port, b.portSource]), [[8080, 'slice']]);
  assert.deepEqual(checks(http), []);
  const dns = serviceBackends(c, hitOf(c, '10.96.0.2', 53, 'udp'));
  assert.deepEqual(dns.backends.map((b) => [b.port, b.protocol]), [[5353, 'UDP']]);
  const metrics = serviceBackends(c, hitOf(c, '10.96.0.2', 9100));
  assert.deepEqual(metrics.backends.map((b) => [b.port, b.portSource]), [[9100, 'targetPort']]);
  assert.deepEqual(checks(metrics), ['WARNING service.slice-port-missing']);
  const manual = serviceBackends(c, hitOf(c, '10.96.0.3', 443));
  assert.deepEqual(manual.backends.map((b) => [b.ip, b.port, b.portSource, b.node]), [['10.244.1.5', 8443, 'containerPort', 'node1']]);
  // Protocol must match too: 80/UDP is not a port of the service.
  const udp80 = findServiceHit(c, '10.96.0.2', 80, 'udp');
  assert.ok(udp80 && 'suspicion' in udp80);
  assert.equal(udp80.suspicion.check, 'service.port-not-found');
  assert.match(udp80.suspicion.message, /has no port 80\/UDP; it serves 80\/TCP, 9100\/TCP, 53\/UDP/);
  assert.equal(udp80.suspicion.evidence.length, 3);
});

test('traffic policies: internal/external Local filter by node; pods on the node bypass ETP Local', () => {
  const objs = [
    ...nodes,
    service('default/lb', {
      type: 'LoadBalancer', clusterIP: '10.96.0.5', externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local',
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }], externalIPs: ['203.0.113.7'],
      loadBalancerSourceRanges: ['198.51.100.0/24'],
    }, { loadBalancer: { ingress: [{ ip: '203.0.113.50' }] } }),
    slice('default/lb-1', 'lb', [{ ip: '10.244.1.5', node: 'node1' }, { ip: '10.244.2.5', node: 'node2' }, { ip: '10.244.2.6', node: 'node2', ready: false }], [{ name: 'http', port: 8080 }]),
  ];
  const c = cacheOf(objs);
  const np = hitOf(c, '192.168.0.12', 30080);
  assert.equal(np.kind, 'nodePort');
  const onNode2 = serviceBackends(c, np, { node: 'node2', sourceIP: '198.51.100.1' });
  assert.deepEqual(onNode2.trafficPolicy, { field: 'externalTrafficPolicy', value: 'Local' });
  assert.deepEqual(backendsOf(onNode2), ['10.244.2.5:8080@node2']);
  assert.match(onNode2.endpoints.find((e) => e.ip === '10.244.1.5')!.reason!, /on node node1, not node2/);

  const cluster = serviceBackends(c, hitOf(c, '10.96.0.5', 80), { node: 'node1' });
  assert.deepEqual(cluster.trafficPolicy, { field: 'internalTrafficPolicy', value: 'Local' });
  assert.deepEqual(backendsOf(cluster), ['10.244.1.5:8080@node1']);

  // No local endpoint on a node → kube-proxy drops: FATAL naming where the endpoints are.
  const c2 = cacheOf([...objs.slice(0, -1), slice('default/lb-1', 'lb', [{ ip: '10.244.2.5', node: 'node2' }], [{ name: 'http', port: 8080 }])]);
  const none = serviceBackends(c2, hitOf(c2, '203.0.113.50', 80), { node: 'node1', sourceIP: '198.51.100.9' });
  assert.deepEqual(checks(none), ['FATAL service.no-local-endpoints']);
  assert.match(none.suspicions[0].message, /externalTrafficPolicy Local and no ready endpoint on node node1.*endpoints are on node2/);
  // A pod on node1 reaching the LB IP goes to the cluster-wide endpoints instead.
  const fromPod = serviceBackends(c2, hitOf(c2, '203.0.113.50', 80), { node: 'node1', sourceIP: '10.244.1.9', sourceIsLocalPod: true });
  assert.deepEqual(backendsOf(fromPod), ['10.244.2.5:8080@node2']);
  assert.match(fromPod.notes.join('\n'), /does not apply to pods on the node/);

  // loadBalancerSourceRanges: a source outside is dropped.
  const outside = serviceBackends(c, hitOf(c, '203.0.113.50', 80), { node: 'node2', sourceIP: '192.0.2.1' });
  assert.deepEqual(checks(outside), ['CRITICAL service.source-range-deny']);
  const ext = hitOf(c, '203.0.113.7', 80);
  assert.equal(ext.kind, 'externalIP');
});

test('headless, ExternalName, session affinity, dual-stack and duplicate endpoints', () => {
  const c = cacheOf([
    ...nodes,
    service('default/hl', { clusterIP: 'None', selector: { app: 'x' }, ports: [{ port: 80 }] }),
    slice('default/hl-1', 'hl', [{ ip: '10.244.1.8' }], [{ port: 80 }]),
    service('default/ext', { type: 'ExternalName', externalName: 'db.example.com', ports: [{ port: 5432 }] }),
    service('default/sticky', {
      clusterIP: '10.96.0.9', clusterIPs: ['10.96.0.9', 'fd00:96::9'], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      ports: [{ port: 80, targetPort: 8080 }],
    }),
    slice('default/sticky-v4', 'sticky', [{ ip: '10.244.1.9', node: 'node1' }], [{ port: 8080 }]),
    slice('default/sticky-v4b', 'sticky', [{ ip: '10.244.1.9', node: 'node1', ready: false }], [{ port: 8080 }]),
    slice('default/sticky-v6', 'sticky', [{ ip: 'fd00:244:1::9', node: 'node1' }], [{ port: 8080 }], 'IPv6'),
  ]);
  const hl = serviceBackendsFor(c, c.service('default/hl')!, 80, 'tcp');
  assert.deepEqual(checks(hl), ['WARNING service.headless']);
  assert.match(hl.suspicions[0].message, /no ClusterIP/);
  const ext = serviceBackendsFor(c, c.service('default/ext')!, 5432, 'tcp');
  assert.deepEqual(checks(ext), ['WARNING service.external-name']);
  assert.deepEqual(ext.backends, []);

  const v4 = serviceBackends(c, hitOf(c, '10.96.0.9', 80));
  assert.deepEqual(v4.sessionAffinity, { type: 'ClientIP', timeoutSeconds: 600 });
  assert.deepEqual(backendsOf(v4), ['10.244.1.9:8080@node1'], 'the same endpoint in two slices counts once, in its better state');
  assert.match(v4.notes.join('\n'), /listed in default\/sticky-v4 and default\/sticky-v4b/);
  const v6 = serviceBackends(c, hitOf(c, 'fd00:96:0::9', 80));
  assert.deepEqual(backendsOf(v6), ['fd00:244:1::9:8080@node1']);
});

test('core Endpoints become backends through the snapshot loader (older clusters)', () => {
  const yaml = `
apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: default}
spec: {clusterIP: 10.96.7.7, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: legacy, namespace: default}
subsets:
- addresses: [{ip: 10.244.1.21, nodeName: node1}, {ip: 10.244.2.21, nodeName: node2}]
  notReadyAddresses: [{ip: 10.244.2.22, nodeName: node2}]
  ports: [{name: http, port: 8080, protocol: TCP}]
`;
  const { objects } = collectObjects([{ name: 'legacy.yaml', text: yaml }]);
  const c = new ClusterCache(objects);
  const b = serviceBackends(c, hitOf(c, '10.96.7.7', 80));
  assert.deepEqual(backendsOf(b), ['10.244.1.21:8080@node1', '10.244.2.21:8080@node2']);
  assert.equal(b.endpoints.find((e) => e.ip === '10.244.2.22')?.reason, 'not ready');
});

test('no endpoints: the selector says why (no pod / pods not running / pods not in any slice)', () => {
  const svc = service('default/s', { clusterIP: '10.96.0.1', selector: { app: 'web' }, ports: [{ port: 80 }] });
  const rows: [K8sObject[], RegExp][] = [
    [[], /selector app=web matches no pod in namespace default/],
    [[pod('default/w', { node: 'node1', labels: { app: 'web' }, phase: 'Pending' })], /matches 1 pod, none running \(default\/w Pending\)/],
    [[pod('default/w', { ip: '10.244.1.4', node: 'node1', labels: { app: 'web' } })], /matches 1 running pod \(default\/w\) but no EndpointSlice lists them/],
  ];
  for (const [extra, re] of rows) {
    const c = cacheOf([...nodes, svc, ...extra]);
    const b = serviceBackends(c, hitOf(c, '10.96.0.1', 80));
    assert.deepEqual(checks(b), ['FATAL service.no-endpoints']);
    assert.match(b.suspicions[0].message, re);
  }
  const selectorless = cacheOf([...nodes, service('default/m', { clusterIP: '10.96.0.2', ports: [{ port: 80 }] })]);
  assert.match(serviceBackends(selectorless, hitOf(selectorless, '10.96.0.2', 80)).suspicions[0].message, /no selector and no EndpointSlice was created for it by hand/);
});
