import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { compileSelector, LabelIndex, matches, SelectorError } from '../../src/engine/k8s/selector';
import { ClusterCache } from '../../src/engine/k8s/cache';
import { EndpointError, resolveEndpoint, resolvePair } from '../../src/engine/k8s/resolve';
import { collectObjects } from '../../src/engine/snapshot/objects';
import { cacheOf, namespace, node, objects, pod, service } from './k8s-objects';

test('label selectors: matchLabels and every matchExpressions operator', () => {
  const labels = { app: 'web', tier: 'front', env: 'prod' };
  const cases: [string, unknown, boolean][] = [
    ['empty selects all', {}, true],
    ['null selects all', null, true],
    ['matchLabels equal', { matchLabels: { app: 'web' } }, true],
    ['matchLabels differ', { matchLabels: { app: 'db' } }, false],
    ['matchLabels missing key', { matchLabels: { zone: 'a' } }, false],
    ['matchLabels all must hold', { matchLabels: { app: 'web', tier: 'back' } }, false],
    ['In hit', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back', 'front'] }] }, true],
    ['In miss', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
    ['In on absent key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn hit', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, true],
    ['NotIn miss', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, false],
    ['NotIn on absent key matches', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['Exists absent', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    ['labels AND expressions', { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, false],
  ];
  for (const [name, sel, want] of cases) assert.equal(matches(compileSelector(sel), labels), want, name);
  assert.equal(compileSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['b', 'a'] }, { key: 'x', operator: 'DoesNotExist' }] }).text, 'app=web,tier notin (a,b),!x');
});

test('label selectors: malformed ones are rejected with the bad part named', () => {
  const bad: [unknown, RegExp][] = [
    [{ matchExpressions: [{ key: 'a', operator: 'In' }] }, /matchExpressions\[0\]: operator In needs values/],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, /operator Exists takes no values/],
    [{ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }, /operator "Equals" is not In/],
    [{ matchExpressions: [{ operator: 'Exists' }] }, /matchExpressions\[0\]\.key is missing/],
    [{ matchLabels: { a: 1 } }, /matchLabels\.a is not a string/],
    ['app=web', /selector is not a mapping/],
  ];
  for (const [sel, re] of bad) assert.throws(() => compileSelector(sel), (e: unknown) => e instanceof SelectorError && re.test(e.message));
});

test('label index: select equals a brute-force scan (property, 300 random clusters)', () => {
  const key = fc.constantFrom('app', 'tier', 'env', 'zone');
  const value = fc.constantFrom('a', 'b', 'c');
  const labels = fc.dictionary(key, value, { maxKeys: 4 });
  const expr = fc.oneof(
    fc.record({ key, operator: fc.constantFrom('In', 'NotIn'), values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }) }),
    fc.record({ key, operator: fc.constantFrom('Exists', 'DoesNotExist') }),
  );
  const selector = fc.record({ matchLabels: fc.dictionary(key, value, { maxKeys: 2 }), matchExpressions: fc.array(expr, { maxLength: 3 }) });
  let selections = 0;
  fc.assert(
    fc.property(fc.array(labels, { maxLength: 40 }), fc.array(selector, { minLength: 1, maxLength: 5 }), (items, sels) => {
      const idx = new LabelIndex<number>();
      items.forEach((l, i) => idx.add(i, l));
      for (const raw of sels) {
        const s = compileSelector(raw);
        const want = items.map((l, i) => (matches(s, l) ? i : -1)).filter((i) => i >= 0);
        assert.deepEqual(idx.select(s), want);
        selections++;
      }
    }),
    { numRuns: 300, seed: 4242 },
  );
  console.log(`label index vs scan: ${selections} selections compared, 100% agree`);
});

const cluster = () =>
  cacheOf([
    node('node1', '192.168.0.11', '10.244.1.0/24'),
    node('node2', ['192.168.0.12', 'fd00:1::12'], '10.244.2.0/24'),
    namespace('default'),
    pod('default/web-0', { ip: '10.244.1.5', node: 'node1', labels: { app: 'web' } }),
    pod('default/dual', { ip: ['10.244.2.7', 'fd00:10:244:2:0:0:0:7'], node: 'node2' }),
    pod('kube-system/agent', { ip: '192.168.0.11', node: 'node1', hostNetwork: true }),
    pod('default/done', { ip: '10.244.1.9', node: 'node1', phase: 'Succeeded' }),
    pod('default/reborn', { ip: '10.244.1.9', node: 'node1' }),
    pod('default/gone', { ip: '10.244.1.77', node: 'node1', phase: 'Failed' }),
    pod('default/pending', { node: 'node2', phase: 'Pending' }),
    pod('default/old', { ip: '10.244.2.50', node: 'node2', phase: 'Pending' }),
    pod('default/twin-b', { ip: '10.244.2.9', node: 'node2' }),
    pod('default/twin-a', { ip: '10.244.2.9', node: 'node2', deleting: true }),
    pod('node/odd', { ip: '10.244.2.60', node: 'node2' }),
    service('default/web', { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], externalIPs: ['203.0.113.9'], ports: [{ port: 80, targetPort: 8080 }] }),
    service('default/lb', { type: 'LoadBalancer', clusterIP: '10.96.0.20', externalIPs: ['203.0.113.20'], ports: [{ port: 443, nodePort: 30443 }] }, { loadBalancer: { ingress: [{ ip: '198.51.100.20' }, { hostname: 'lb.example.com' }] } }),
    service('default/shared-a', { type: 'LoadBalancer', clusterIP: '10.96.0.30', ports: [{ port: 80 }] }, { loadBalancer: { ingress: [{ ip: '198.51.100.30' }] } }),
    service('default/shared-b', { type: 'LoadBalancer', clusterIP: '10.96.0.31', ports: [{ port: 8443 }] }, { loadBalancer: { ingress: [{ ip: '198.51.100.30' }] } }),
    service('default/headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
    service('default/alias', { type: 'ExternalName', externalName: 'db.example.com' }),
  ]);

test('endpoint resolution: every form, precedence pod → node → service/lb → external', () => {
  const c = cluster();
  const cases: [string, number, { ip: string; type: string; ref?: string }, RegExp?][] = [
    ['default/web-0', 80, { ip: '10.244.1.5', type: 'pod', ref: 'default/web-0' }],
    ['10.244.1.5', 80, { ip: '10.244.1.5', type: 'pod', ref: 'default/web-0' }],
    ['node/node1', 0, { ip: '192.168.0.11', type: 'node', ref: 'node1' }],
    ['192.168.0.12', 22, { ip: '192.168.0.12', type: 'node', ref: 'node2' }],
    // hostNetwork pods share the node IP: the IP is the node's, and the pod named is its node.
    ['192.168.0.11', 0, { ip: '192.168.0.11', type: 'node', ref: 'node1' }],
    ['kube-system/agent', 0, { ip: '192.168.0.11', type: 'node', ref: 'node1' }, /uses the host network/],
    ['svc/default/web', 80, { ip: '10.96.0.10', type: 'service', ref: 'default/web' }],
    ['10.96.0.10', 80, { ip: '10.96.0.10', type: 'service', ref: 'default/web' }],
    // externalIP of a ClusterIP service is a service address; of a LoadBalancer, an lb one.
    ['203.0.113.9', 80, { ip: '203.0.113.9', type: 'service', ref: 'default/web' }],
    ['203.0.113.20', 443, { ip: '203.0.113.20', type: 'lb', ref: 'default/lb' }],
    ['198.51.100.20', 443, { ip: '198.51.100.20', type: 'lb', ref: 'default/lb' }],
    ['10.96.0.20', 443, { ip: '10.96.0.20', type: 'service', ref: 'default/lb' }],
    // Two services share an LB IP on different ports: the port decides.
    ['198.51.100.30', 8443, { ip: '198.51.100.30', type: 'lb', ref: 'default/shared-b' }, /shared by services/],
    ['198.51.100.30', 80, { ip: '198.51.100.30', type: 'lb', ref: 'default/shared-a' }],
    ['8.8.8.8', 53, { ip: '8.8.8.8', type: 'external' }],
    // IPv6 in any spelling resolves to the canonical address.
    ['fd00:10:244:2::0007', 80, { ip: 'fd00:10:244:2::7', type: 'pod', ref: 'default/dual' }],
    ['FD00:1:0::12', 80, { ip: 'fd00:1::12', type: 'node', ref: 'node2' }],
    // A completed pod's IP reused by a running one: the running pod owns it.
    ['10.244.1.9', 80, { ip: '10.244.1.9', type: 'pod', ref: 'default/reborn' }, /done \(Succeeded\)/],
    // Only a failed pod had it: nothing lives there now.
    ['10.244.1.77', 80, { ip: '10.244.1.77', type: 'external' }, /default\/gone \(Failed\).*not running/],
    // Two running pods claim one IP: the one not being deleted, deterministically.
    ['10.244.2.9', 80, { ip: '10.244.2.9', type: 'pod', ref: 'default/twin-b' }, /several running pods/],
    // A non-running pod named explicitly resolves, with a note.
    ['default/old', 80, { ip: '10.244.2.50', type: 'pod', ref: 'default/old' }, /is Pending, not Running/],
    // "node" as a namespace name: node/x is a node first, else that pod.
    ['node/odd', 80, { ip: '10.244.2.60', type: 'pod', ref: 'node/odd' }, /no node odd/],
  ];
  for (const [input, port, want, note] of cases) {
    const r = resolveEndpoint(c, input, { port });
    assert.deepEqual(r.endpoint, { ...want, port }, input);
    if (note) assert.match(r.notes.join('\n'), note, input);
  }
  assert.ok(c.notes.some((n) => /10\.244\.2\.9 is held by several running pods \(default\/twin-b, default\/twin-a\)/.test(n)), c.notes.join('\n'));
});

test('endpoint resolution: clear errors naming the bad thing', () => {
  const c = cluster();
  const bad: [string, RegExp][] = [
    ['default/web-1', /^pod default\/web-1 not found$/],
    ['default/web', /^pod default\/web not found \(a service has that name: use svc\/default\/web\)$/],
    ['10.0.0', /^"10\.0\.0" is not an IP address/],
    ['10.0.0.256', /^"10\.0\.0\.256" is not an IP address/],
    ['svc/default/nope', /^service default\/nope not found$/],
    ['svc/default/headless', /headless \(clusterIP: None\)/],
    ['svc/default/alias', /ExternalName service \(a DNS alias for db\.example\.com\)/],
    ['node/node9', /^node node9 not found$/],
    ['default/pending', /^pod default\/pending has no IP address \(phase Pending\)$/],
    ['a/b/c/d', /is not an endpoint/],
    ['default/', /has an empty part/],
    ['', /empty endpoint/],
  ];
  for (const [input, re] of bad) assert.throws(() => resolveEndpoint(c, input), (e: unknown) => e instanceof EndpointError && re.test(e.message), input);
});

test('endpoint resolution: source and destination in one address family', () => {
  const c = cluster();
  const v6 = resolvePair(c, 'default/dual', 'fd00:1::12', 80);
  assert.equal(v6.source.endpoint.ip, 'fd00:10:244:2::7');
  assert.deepEqual(v6.destination.endpoint, { ip: 'fd00:1::12', type: 'node', port: 80, ref: 'node2' });
  const v4 = resolvePair(c, 'default/dual', 'node/node2', 80);
  assert.equal(v4.source.endpoint.ip, '10.244.2.7');
  assert.equal(v4.source.endpoint.port, 0);
  assert.equal(v4.destination.endpoint.ip, '192.168.0.12');
  assert.throws(() => resolvePair(c, 'default/web-0', 'fd00:1::12', 80), /default\/web-0 has no IPv6 address/);
});

test('cluster cache: indexes from the snapshot loader (YAML fixture, v1beta1 slice normalized)', () => {
  const { objects: objs } = collectObjects([
    { name: 'objects.yaml', text: readFileSync('test/fixtures/snapshot/objects.yaml', 'utf8') },
    {
      name: 'extra.yaml',
      text: `apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: api-x, namespace: default, labels: {kubernetes.io/service-name: api}}
addressType: IPv4
ports: [{name: http, port: 9090, protocol: TCP}]
endpoints: [{addresses: [10.244.1.3], conditions: {ready: true}, topology: {kubernetes.io/hostname: node1}}]
`,
    },
  ]);
  const c = new ClusterCache(objs);
  assert.equal(c.podByIP('10.244.1.3')?.key, 'default/b');
  assert.equal(c.podByIP('198.51.100.11'), undefined, 'hostNetwork pods are not in the pod IP index');
  assert.equal(c.nodeByIP('198.51.100.11')?.name, 'node1');
  assert.deepEqual(c.pod('default/b')?.containerPorts, [{ container: 'c', name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(c.servicesWithIP('10.96.0.10')[0].service.key, 'default/web');
  assert.deepEqual(c.endpointSlicesOf(c.service('default/web')!).map((s) => s.key), ['default/web-x1']);
  const api = c.endpointSlices.find((s) => s.key === 'default/api-x')!;
  assert.equal(api.endpoints[0].nodeName, 'node1', 'v1beta1 topology hostname became nodeName');
  assert.deepEqual(c.namespace('default').labels, { 'kubernetes.io/metadata.name': 'default' });
  assert.equal(c.namespace('kube-system').known, false);
  assert.deepEqual(c.selectPods('default', compileSelector({ matchLabels: { app: 'web' } })).map((p) => p.key), ['default/b']);
});

test('cluster cache: garbage in objects never throws a TypeError', () => {
  const weird = objects([
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'x', labels: { a: 1 as unknown as string } }, spec: 'nope', status: { podIPs: [null, { ip: 7 }, { ip: '10.1.1.1' }], phase: 3 } },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { addresses: 'x' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'x' }, spec: { ports: [null, { port: 'x' }, { port: 80, targetPort: 'http' }], clusterIPs: [1, 'bad', '10.96.0.1'] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e', namespace: 'x', labels: { 'kubernetes.io/service-name': 's' } }, endpoints: [{ addresses: [] }, { addresses: ['10.1.1.1'], conditions: 'y' }] },
  ]);
  const c = new ClusterCache(weird);
  assert.equal(c.podByIP('10.1.1.1'), undefined, 'phase is not Running');
  assert.deepEqual(c.pod('x/p')?.ips, ['10.1.1.1']);
  assert.deepEqual(c.pod('x/p')?.labels, {});
  assert.deepEqual(c.service('x/s')?.clusterIPs, ['10.96.0.1']);
  assert.deepEqual(c.service('x/s')?.ports.map((p) => p.targetPort), ['http']);
  assert.equal(c.endpointSlices[0].endpoints.length, 1);
});

test('cluster cache: 150k pods / 10k services indexed once, lookups stay sub-linear', (t) => {
  const list = [];
  const nodes = 500;
  for (let n = 0; n < nodes; n++) list.push(node(`n${n}`, `172.16.${n >> 8}.${n & 255}`));
  for (let ns = 0; ns < 50; ns++) list.push(namespace(`ns${ns}`, { team: `t${ns % 5}` }));
  const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  for (let i = 0; i < 150_000; i++) {
    list.push(pod(`ns${i % 50}/p${i}`, { ip: ipOf(i), node: `n${i % nodes}`, labels: { app: `app${i % 10_000}`, tier: i % 3 ? 'back' : 'front' } }));
  }
  for (let s = 0; s < 10_000; s++) {
    list.push(service(`ns${s % 50}/svc${s}`, { clusterIP: `10.96.${s >> 8}.${s & 255}`, selector: { app: `app${s}` }, ports: [{ port: 80 }] }));
  }
  const t0 = performance.now();
  const c = cacheOf(list);
  const build = performance.now() - t0;

  const t1 = performance.now();
  let found = 0;
  for (let i = 0; i < 100_000; i += 7) if (c.podByIP(ipOf(i))?.key === `ns${i % 50}/p${i}`) found++;
  for (let s = 0; s < 10_000; s += 3) if (c.servicesWithIP(`10.96.${s >> 8}.${s & 255}`)[0]?.service.key === `ns${s % 50}/svc${s}`) found++;
  const lookups = performance.now() - t1;

  // Indexes are built on first use (a diagnosis touches few namespaces): build them all, apart.
  const tw = performance.now();
  for (let ns = 0; ns < 50; ns++) c.selectPods(`ns${ns}`, compileSelector({ matchLabels: { app: 'none' } }));
  const warm = performance.now() - tw;

  const t2 = performance.now();
  let selected = 0;
  const queries = 2000;
  for (let s = 0; s < queries; s++) {
    const svc = c.service(`ns${s % 50}/svc${s}`)!;
    selected += c.selectPods(svc.namespace, compileSelector({ matchLabels: svc.selector, matchExpressions: [{ key: 'tier', operator: 'Exists' }] })).length;
  }
  const select = performance.now() - t2;
  const nsSel = c.selectNamespaces(compileSelector({ matchLabels: { team: 't1' } })).length;

  t.diagnostic(`cache: ${c.pods.length} pods, ${c.services.length} services, ${c.nodes.length} nodes built in ${build.toFixed(0)} ms; label indexes of 50 namespaces built on first use in ${warm.toFixed(0)} ms`);
  t.diagnostic(`lookups: ${found} IP lookups in ${lookups.toFixed(1)} ms; ${queries} selector queries (${selected} pods selected) in ${select.toFixed(1)} ms (${((select / queries) * 1000).toFixed(1)} µs each)`);
  assert.equal(found, Math.ceil(100_000 / 7) + Math.ceil(10_000 / 3));
  // Each app label is on 15 pods; a scan would cost ~3000 pod checks per namespace per query.
  assert.equal(selected, queries * 15);
  assert.equal(nsSel, 10);
  assert.ok(select / queries < 1, `selector queries must not scan: ${(select / queries).toFixed(3)} ms each`);
});
