import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolvePair } from '../../src/engine/k8s/resolve';
import { levelName } from '../../src/engine/model/suspicion';
import { checkNetworkPolicies } from '../../src/engine/policy/check';
import { compilePolicy } from '../../src/engine/policy/compile';
import { PolicySet, type PolicySettings } from '../../src/engine/policy/evaluate';
import type { K8sObject } from '../../src/engine/snapshot/types';
import { cacheOf, namespace, node, pod, policy } from './k8s-objects';
import { base, cases, sel } from './policy-cases';

test('NetworkPolicy semantics: table of cases', (t) => {
  let directions = 0;
  for (const c of cases) {
    const cache = cacheOf([...base, ...c.policies]);
    const set = new PolicySet(cache, c.settings);
    const pair = resolvePair(cache, c.src, c.dst, c.port);
    const r = checkNetworkPolicies(set, pair.source, pair.destination, c.protocol ?? 'tcp');
    const got = r.targets.map((v) => [v.egress?.allowed, v.ingress?.allowed]);
    assert.deepEqual(got, c.want, `${c.name}: ${JSON.stringify(r.targets.map((v) => [v.target, v.egress?.reason, v.ingress?.reason]))}`);
    directions += got.flat().filter((x) => x !== undefined).length;
    const denies = r.suspicions.filter((s) => s.check.startsWith('policy.') && s.check.endsWith('-deny'));
    assert.equal(denies.length, got.flat().filter((x) => x === false).length, `${c.name}: one finding per denied direction`);
    for (const s of denies) {
      assert.equal(levelName(s.level), 'CRITICAL');
      assert.ok(s.evidence.length > 0 && s.evidence.every((e) => e.where?.startsWith('networkpolicy ')), c.name);
    }
    if (c.evidence) {
      assert.deepEqual(denies.flatMap((s) => s.evidence.map((e) => e.where!.slice('networkpolicy '.length))).sort(), c.evidence, c.name);
    }
    assert.equal(r.allowed, got.flat().every((x) => x !== false), c.name);
    if (c.reason) {
      const reasons = r.targets.flatMap((v) => [v.egress, v.ingress]).filter((d) => d).map((d) => `${d!.reason} | ${d!.policies.map((p) => p.summary).join(' | ')}`).join('\n');
      assert.match(reasons, c.reason, c.name);
    }
  }
  t.diagnostic(`NetworkPolicy table: ${cases.length} cases, ${directions} direction verdicts checked`);
});

test('NetworkPolicy deny findings say which rule, peer and port did not match', () => {
  const cache = cacheOf([
    ...base,
    policy('default/web-in', {
      podSelector: sel({ app: 'web' }),
      ingress: [
        { from: [{ podSelector: sel({ app: 'db' }) }], ports: [{ port: 8080 }] },
        { from: [{ podSelector: sel({ app: 'client' }) }], ports: [{ port: 'metrics' }] },
      ],
    }),
  ]);
  const pair = resolvePair(cache, 'default/client', 'default/web', 8080);
  const r = checkNetworkPolicies(new PolicySet(cache), pair.source, pair.destination, 'tcp');
  assert.equal(r.suspicions.length, 1);
  const s = r.suspicions[0];
  assert.equal(s.check, 'policy.ingress-deny');
  assert.match(s.message, /NetworkPolicy denies ingress to default\/web on 8080\/TCP from 10\.244\.1\.2 \(default\/client\)/);
  assert.equal(s.evidence[0].where, 'networkpolicy default/web-in');
  assert.match(s.evidence[0].text, /ingress rule 1: podSelector app=db does not match default\/client \(fails app=db\)/);
  assert.match(s.evidence[0].text, /ingress rule 2: ports metrics\/TCP do not include 8080\/TCP \(on default\/web: metrics=9090\)/);
});

test('NetworkPolicy: malformed parts allow nothing and are reported', () => {
  const p = compilePolicy(policy('default/bad', {
    podSelector: sel({ app: 'web' }),
    policyTypes: ['Ingress', 'Sideways'],
    ingress: [
      { from: [{ ipBlock: { cidr: '10.0.0.0/33' } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['fd00::/8'] } }, {}] },
      { ports: [{ port: 'http', endPort: 9000 }, { port: 80, endPort: 70 }] },
      { from: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }] },
    ],
  }));
  assert.deepEqual(p.problems, [
    'spec.policyTypes: "Sideways" is not Ingress or Egress',
    'spec.ingress[0].from[0].ipBlock.cidr "10.0.0.0/33" is not a CIDR',
    'spec.ingress[0].from[1].ipBlock.except[0] "fd00::/8" is not a CIDR of the block\'s family',
    'spec.ingress[0].from[2]: a peer needs podSelector, namespaceSelector or ipBlock',
    'spec.ingress[1].ports[0].endPort needs a numeric port',
    'spec.ingress[1].ports[1].endPort 70 is not a port >= 80',
    'spec.ingress[2].from[0].podSelector: matchExpressions[0]: operator In needs values',
  ]);
  const cache2 = cacheOf([...base, policy('default/bad', {
    podSelector: sel({ app: 'web' }),
    ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['nonsense'] } }] }, { ports: [{ port: 8080, endPort: 1 }] }],
  })]);
  const pair = resolvePair(cache2, 'default/client', 'default/web', 8080);
  const r = checkNetworkPolicies(new PolicySet(cache2), pair.source, pair.destination, 'tcp');
  assert.deepEqual(r.suspicions.map((s) => s.check).sort(), ['policy.ingress-deny', 'policy.invalid']);
  const inv = r.suspicions.find((s) => s.check === 'policy.invalid')!;
  assert.equal(levelName(inv.level), 'WARNING');
  assert.equal(inv.evidence.length, 2);
});

test('NetworkPolicy: verdicts are deterministic (same input, same JSON)', () => {
  const build = () => {
    const cache = cacheOf([...base, ...cases.flatMap((c) => c.policies).filter((p, i, a) => a.findIndex((q) => q.metadata.name === p.metadata.name && q.metadata.namespace === p.metadata.namespace) === i)]);
    const pair = resolvePair(cache, 'default/client', 'svc/default/web-svc', 80);
    return JSON.stringify(checkNetworkPolicies(new PolicySet(cache), pair.source, pair.destination, 'tcp'));
  };
  assert.equal(build(), build());
});

test('NetworkPolicy: arbitrary garbage specs compile and evaluate without throwing (2,000 runs)', async () => {
  const fc = (await import('fast-check')).default;
  const peer = fc.oneof(fc.anything(), fc.record({ podSelector: fc.anything(), namespaceSelector: fc.anything() }, { requiredKeys: [] }), fc.record({ ipBlock: fc.record({ cidr: fc.oneof(fc.string(), fc.constant('10.0.0.0/8')), except: fc.anything() }) }));
  const rule = fc.record({ from: fc.oneof(fc.anything(), fc.array(peer)), to: fc.oneof(fc.anything(), fc.array(peer)), ports: fc.oneof(fc.anything(), fc.array(fc.record({ port: fc.oneof(fc.integer(), fc.string()), endPort: fc.anything(), protocol: fc.anything() }, { requiredKeys: [] }))) }, { requiredKeys: [] });
  const spec = fc.record({ podSelector: fc.oneof(fc.anything(), fc.constant({})), policyTypes: fc.anything(), ingress: fc.oneof(fc.anything(), fc.array(rule)), egress: fc.oneof(fc.anything(), fc.array(rule)) }, { requiredKeys: [] });
  fc.assert(
    fc.property(spec, (s) => {
      const cache = cacheOf([...base, policy('default/fuzz', s as Record<string, unknown>)]);
      const pair = resolvePair(cache, 'default/client', 'default/web', 8080);
      const r = checkNetworkPolicies(new PolicySet(cache), pair.source, pair.destination, 'tcp');
      assert.equal(r.targets.length, 1);
    }),
    { numRuns: 2000, seed: 7 },
  );
});
