// The objects the engine names as the cause of a finding (Suspicion.objects), which the server
// turns into findings on the manifests: the denying policies at their rules for the direction (or
// their podSelector when they have none), with a rule allowing exactly the peer pod's workload
// labels; no rule for a peer that is not a pod; the Service selector and the pods that lack one of
// its labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolvePair } from '../../src/engine/k8s/resolve';
import { checkNetworkPolicies } from '../../src/engine/policy/check';
import { PolicySet } from '../../src/engine/policy/evaluate';
import { selectorCauses } from '../../src/engine/service/causes';
import { cacheOf, pod, policy, service } from '../engine/k8s-objects';
import { base, sel } from '../engine/policy-cases';

function denies(objects: Parameters<typeof cacheOf>[0], src: string, dst: string, port: number) {
  const cache = cacheOf(objects);
  const pair = resolvePair(cache, src, dst, port);
  return checkNetworkPolicies(new PolicySet(cache), pair.source, pair.destination, 'tcp').suspicions.filter((s) => s.check.endsWith('-deny'));
}

test('an egress deny names each selecting policy; a policy without egress rules at its podSelector', () => {
  const [s, ...more] = denies([
    ...base,
    pod('default/api', { ip: '10.244.1.9', node: 'node1', labels: { app: 'api', 'pod-template-hash': '5d8f7' } }),
    policy('default/no-egress', { podSelector: sel({ app: 'api' }), policyTypes: ['Egress'] }),
    policy('default/dns-only', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] }),
  ], 'default/api', 'default/db', 5432);
  assert.equal(more.length, 0);
  assert.equal(s.check, 'policy.egress-deny');
  const causes = [...(s.objects ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(causes.map((c) => [c.kind, c.namespace, c.name, c.field.join('.')]), [
    ['NetworkPolicy', 'default', 'dns-only', 'spec.egress'],
    ['NetworkPolicy', 'default', 'no-egress', 'spec.podSelector'],
  ]);
  for (const c of causes) {
    assert.deepEqual(c.remedy, { kind: 'allow-peer', direction: 'egress', peer: { namespace: 'default', labels: { app: 'db' } }, port: 5432, protocol: 'TCP' });
  }
});

test('an ingress deny from a pod known only by per-pod labels, or from a host-network peer, has no certain rule', () => {
  const deny = policy('default/web-in', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ podSelector: sel({ app: 'nothing' }) }] }] });
  const [fromHashOnly] = denies([...base, pod('default/bare', { ip: '10.244.1.50', node: 'node1', labels: { 'pod-template-hash': 'x' } }), deny], 'default/bare', 'default/web', 8080);
  assert.equal(fromHashOnly.objects?.[0].name, 'web-in');
  assert.equal(fromHashOnly.objects?.[0].remedy, undefined);
  const [fromHost] = denies([...base, deny], 'kube-system/hostagent', 'default/web', 8080);
  assert.deepEqual(fromHost.objects?.map((c) => [c.name, c.field.join('.'), c.remedy]), [['web-in', 'spec.ingress', undefined]]);
});

test('a selector that selects nothing: the Service, and each pod lacking exactly one of its labels', () => {
  const pods = [
    pod('shop/api-1', { ip: '10.244.1.2', node: 'node1', labels: { app: 'api' } }),
    pod('shop/api-2', { ip: '10.244.1.3', node: 'node1', labels: { app: 'api', tier: 'front' } }),
    pod('shop/other', { ip: '10.244.1.4', node: 'node1', labels: { app: 'db' } }),
    pod('prod/api', { ip: '10.244.1.5', node: 'node1', labels: { app: 'api' } }),
  ];
  const causesFor = (selector: Record<string, string>) => {
    const cache = cacheOf([...pods, service('shop/api', { clusterIP: '10.96.0.9', selector, ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] })]);
    return selectorCauses(cache, cache.service('shop/api')!);
  };
  assert.deepEqual(causesFor({ app: 'api', tier: 'back' }).map((c) => [c.kind, c.namespace, c.name, c.field.join('.'), c.remedy]), [
    ['Service', 'shop', 'api', 'spec.selector', undefined],
    ['Pod', 'shop', 'api-1', 'metadata.labels', { kind: 'add-label', key: 'tier', value: 'back' }],
  ]);
  assert.deepEqual(causesFor({ app: 'web' }).map((c) => c.kind), ['Service'], 'a one-label selector names no pod: none is the one');
  assert.deepEqual(causesFor({ app: 'api' }), [], 'a selector that selects pods is not the cause');
});

test('a rule that would admit the peer pod but for one label it lacks: the pod, with that label to add', () => {
  const causes = (rules: unknown[]) => denies([...base, policy('default/web-in', { podSelector: sel({ app: 'web' }), ingress: rules })], 'default/client', 'default/web', 8080)[0].objects ?? [];
  const pods = (rules: unknown[]) => causes(rules).filter((c) => c.kind === 'Pod').map((c) => [c.namespace, c.name, c.field.join('.'), c.remedy]);
  assert.deepEqual(pods([{ from: [{ podSelector: sel({ app: 'client', role: 'api' }) }], ports: [{ port: 8080 }] }]), [
    ['default', 'client', 'metadata.labels', { kind: 'add-label', key: 'role', value: 'api' }],
  ]);
  assert.deepEqual(pods([{ from: [{ podSelector: sel({ app: 'client', role: 'api' }) }], ports: [{ port: 9999 }] }]), [], 'the rule\'s ports do not admit it anyway');
  assert.deepEqual(pods([{ from: [{ podSelector: sel({ app: 'client', role: 'api', tier: 'x' }) }] }]), [], 'two labels missing: not one certain label');
  assert.deepEqual(pods([{ from: [{ podSelector: sel({ app: 'other' }) }] }]), [], 'a label with another value: the pod may be another workload on purpose');
  assert.deepEqual(pods([{ from: [{ podSelector: sel({ app: 'client', role: 'api' }), namespaceSelector: sel({ env: 'prod' }) }] }]), [], 'the namespace does not match either');
});
