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

test('NetworkPolicy egress to another node\'s NodePort is judged for that node\'s address and the nodePort (the DNAT happens there)', () => {
  // Measured in the lab (flannel-host-gw-dual-policy--policy-egress-ipv6-except, probe nodeport-6): the
  // client's node does not translate node2's NodePort, so its egress rules see node2's address.
  const exceptPods = policy('default/client-out', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.2.0/24'] } }] }] });
  const toWeb = policy('default/client-out', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ to: [{ podSelector: sel({ app: 'web' }) }], ports: [{ port: 8080 }] }] });
  const run = (pol: K8sObject, dst: string) => {
    const cache = cacheOf([...base, pol]);
    const pair = resolvePair(cache, 'default/client', dst, 30080);
    return checkNetworkPolicies(new PolicySet(cache), pair.source, pair.destination, 'tcp');
  };
  // node2's NodePort: the backend default/web (10.244.2.3) is in the except list, node2's address is not
  const viaNode2 = run(exceptPods, '192.168.0.12');
  assert.deepEqual(viaNode2.targets.map((v) => [v.target.pod, v.egress?.allowed, v.egress?.peer]), [['default/web', true, '192.168.0.12 (node node2)']]);
  assert.ok(viaNode2.notes.some((n) => /node node1 does not translate nodePort 192\.168\.0\.12:30080 of node node2/.test(n)), viaNode2.notes.join('\n'));
  // a pod selector and the target port do not match a node address and its nodePort: denied, naming the policy
  const denied = run(toWeb, '192.168.0.12');
  assert.equal(denied.allowed, false);
  const s = denied.suspicions.filter((x) => x.check === 'policy.egress-deny');
  assert.equal(s.length, 1);
  assert.match(s[0].message, /egress from default\/client to 192\.168\.0\.12 \(node node2\):30080\/TCP \(nodePort of service default\/web-np\)/);
  assert.equal(s[0].evidence[0].where, 'networkpolicy default/client-out');
  // the client's own node's NodePort is translated before the client's egress rules: the backend is judged
  const own = run(toWeb, '192.168.0.11');
  assert.deepEqual(own.targets.map((v) => [v.target.pod, v.egress?.allowed]), [['default/web', true]]);
  assert.equal(run(exceptPods, '192.168.0.11').allowed, false);
});

test('NetworkPolicy in dual-stack: an ipBlock matches its own family only (the IPv6 flow of an IPv4-only allow is denied, naming the policy)', () => {
  const cache = cacheOf([
    node('node1', ['192.168.0.11', 'fd00::11']), node('node2', ['192.168.0.12', 'fd00::12']), namespace('default'),
    pod('default/client', { ip: ['10.244.1.2', 'fd00:10:244:1::2'], node: 'node1', labels: { app: 'client' } }),
    pod('default/web', { ip: ['10.244.2.3', 'fd00:10:244:2::3'], node: 'node2', labels: { app: 'web' } }),
    policy('default/web-v4', { podSelector: sel({ app: 'web' }), ingress: [{ from: [{ ipBlock: { cidr: '10.244.1.0/24' } }] }] }),
    policy('default/client-out', { podSelector: sel({ app: 'client' }), policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0', except: ['fd00:10:244:2::/64'] } }] }] }),
  ]);
  const check = (family: 4 | 6) => {
    const pair = resolvePair(cache, 'default/client', 'default/web', 8080, family);
    return checkNetworkPolicies(new PolicySet(cache), pair.source, pair.destination, 'tcp');
  };
  assert.deepEqual(check(4).targets.map((v) => [v.egress?.allowed, v.ingress?.allowed]), [[true, true]]);
  const six = check(6);
  assert.deepEqual(six.targets.map((v) => [v.egress?.allowed, v.ingress?.allowed]), [[false, false]]);
  const why = six.suspicions.map((s) => `${s.check}: ${s.message} | ${s.evidence.map((e) => e.text).join(' | ')}`).join('\n');
  assert.match(why, /policy\.ingress-deny: .*default\/web-v4, the only policy selecting default\/web for ingress, does not allow it \| .*ipBlock 10\.244\.1\.0\/24 does not contain fd00:10:244:1::2/);
  assert.match(why, /policy\.egress-deny: .*default\/client-out.*fd00:10:244:2::3 is in the except list/);
});
