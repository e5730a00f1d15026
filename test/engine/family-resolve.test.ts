// Address families in endpoint resolution: which address a name resolves to for `--family 4|6`
// (and by default), on dual-stack pods, services, EndpointSlices and nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointError, FamilyError, otherFamily, resolveEndpoint, resolvePair } from '../../src/engine/k8s/resolve';
import { serviceBackends, findServiceHit } from '../../src/engine/service/backends';
import { readService } from '../../src/engine/k8s/objects';
import { cacheOf, node, pod, service, slice } from './k8s-objects';

const cluster = () =>
  cacheOf([
    node('n1', ['10.0.0.1', 'fd00::1']),
    node('n2', '10.0.0.2'),
    node('n6', 'fd00::6'),
    pod('default/dual', { ip: ['10.244.1.2', 'fd00:244:1::2'], node: 'n1' }),
    pod('default/dual2', { ip: ['fd00:244:1::3', '10.244.1.3'], node: 'n1', labels: { app: 'web' } }),
    pod('default/v4', { ip: '10.244.2.2', node: 'n2' }),
    pod('default/v6', { ip: 'fd00:244:6::2', node: 'n6' }),
    pod('default/host', { ip: ['10.0.0.1', 'fd00::1'], node: 'n1', hostNetwork: true }),
    // The API server orders clusterIPs as ipFamilies: IPv6 first here.
    service('default/web', {
      type: 'NodePort', ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'PreferDualStack', clusterIP: 'fd00:96::10', clusterIPs: ['fd00:96::10', '10.96.0.10'],
      selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }],
    }),
    service('default/only4', { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ port: 80, protocol: 'TCP' }] }),
    // Asks for both families but the API server allocated only IPv4 so far.
    service('default/pending', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', clusterIP: '10.96.0.30', clusterIPs: ['10.96.0.30'], ports: [{ port: 80, protocol: 'TCP' }] }),
    service('default/legacy', { clusterIP: '10.96.0.40', ports: [{ port: 80, protocol: 'TCP' }] }),
    slice('default/web-v4', 'web', [{ ip: '10.244.1.3', node: 'n1', pod: 'default/dual2' }], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
    slice('default/web-v6', 'web', [{ ip: 'fd00:244:1::3', node: 'n1', pod: 'default/dual2' }], [{ name: 'http', port: 8080, protocol: 'TCP' }], 'IPv6'),
  ]);

test('a dual-stack pod resolves to the address of the family asked for; IPv4 without one', () => {
  const c = cluster();
  assert.equal(resolveEndpoint(c, 'default/dual', { family: 6 }).endpoint.ip, 'fd00:244:1::2');
  assert.equal(resolveEndpoint(c, 'default/dual', { family: 4 }).endpoint.ip, '10.244.1.2');
  // status.podIPs listing IPv6 first changes nothing: the default is IPv4 when the pod has it.
  assert.equal(resolveEndpoint(c, 'default/dual2').endpoint.ip, '10.244.1.3');
  assert.throws(() => resolveEndpoint(c, 'default/v4', { family: 6 }), (e: unknown) => e instanceof FamilyError && /pod default\/v4 has no IPv6 address \(it has 10\.244\.2\.2\)/.test(e.message));
});

test('a service with ipFamilies [IPv6, IPv4] gives the cluster IP of each family; a SingleStack one has no other', () => {
  const c = cluster();
  assert.equal(resolveEndpoint(c, 'svc/default/web', { family: 6, port: 80 }).endpoint.ip, 'fd00:96::10');
  assert.equal(resolveEndpoint(c, 'svc/default/web', { family: 4, port: 80 }).endpoint.ip, '10.96.0.10');
  assert.deepEqual(readService(c.service('default/web')!.object).ipFamilies, [6, 4]);
  assert.throws(() => resolveEndpoint(c, 'svc/default/only4', { family: 6 }), /service default\/only4 has no IPv6 address \(ipFamilies IPv4, ipFamilyPolicy SingleStack\)/);
  assert.throws(() => resolveEndpoint(c, 'svc/default/pending', { family: 6 }), /service default\/pending lists IPv6 in spec.ipFamilies but has no IPv6 cluster IP \(clusterIPs: 10\.96\.0\.30\)/);
  // A pre-dual-stack object (no ipFamilies): its clusterIP's family is all it has.
  assert.equal(resolveEndpoint(c, 'svc/default/legacy', { family: 4 }).endpoint.ip, '10.96.0.40');
  assert.throws(() => resolveEndpoint(c, 'svc/default/legacy', { family: 6 }), FamilyError);
});

test('the IPv6 cluster IP is served by the IPv6 EndpointSlice only, the IPv4 one by the IPv4 slice', () => {
  const c = cluster();
  for (const [ip, backend] of [['fd00:96::10', 'fd00:244:1::3'], ['10.96.0.10', '10.244.1.3']]) {
    const lookup = findServiceHit(c, ip, 80, 'tcp');
    assert.ok(lookup && 'hit' in lookup, ip);
    assert.deepEqual(serviceBackends(c, lookup.hit).backends.map((b) => [b.ip, b.port]), [[backend, 8080]]);
  }
});

test('a node resolves to its InternalIP of the family; its NodePort is served on the IPv6 address too', () => {
  const c = cluster();
  assert.equal(resolveEndpoint(c, 'node/n1', { family: 6, port: 30080 }).endpoint.ip, 'fd00::1');
  assert.equal(resolveEndpoint(c, 'node/n1', { family: 4, port: 30080 }).endpoint.ip, '10.0.0.1');
  const lookup = findServiceHit(c, 'fd00::1', 30080, 'tcp');
  assert.ok(lookup && 'hit' in lookup);
  assert.equal(lookup.hit.kind, 'nodePort');
  assert.deepEqual(serviceBackends(c, lookup.hit).backends.map((b) => b.ip), ['fd00:244:1::3']);
  assert.throws(() => resolveEndpoint(c, 'node/n2', { family: 6 }), /node n2 has no IPv6 address/);
  // A hostNetwork pod is its node, in the family asked for.
  assert.equal(resolveEndpoint(c, 'default/host', { family: 6 }).endpoint.ip, 'fd00::1');
});

test('pair default: IPv4 when both ends have it, else IPv6; the other family is offered when both ends have it', () => {
  const c = cluster();
  const both = resolvePair(c, 'default/dual', 'svc/default/web', 80);
  assert.equal(both.family, 4);
  assert.equal(both.destination.endpoint.ip, '10.96.0.10');
  assert.equal(otherFamily(c, 'default/dual', 'svc/default/web', 80, both), 6);

  const six = resolvePair(c, 'default/dual', 'default/v6', 80);
  assert.equal(six.family, 6);
  assert.deepEqual([six.source.endpoint.ip, six.destination.endpoint.ip], ['fd00:244:1::2', 'fd00:244:6::2']);
  assert.equal(otherFamily(c, 'default/dual', 'default/v6', 80, six), undefined);

  const asked = resolvePair(c, 'default/dual', 'svc/default/web', 80, 6);
  assert.deepEqual([asked.family, asked.source.endpoint.ip, asked.destination.endpoint.ip], [6, 'fd00:244:1::2', 'fd00:96::10']);
  assert.equal(otherFamily(c, 'default/dual', 'svc/default/web', 80, asked), 4);

  // A typed IP decides the family, and nothing else is offered for it.
  const typed = resolvePair(c, 'default/dual', 'fd00:96::10', 80);
  assert.equal(typed.family, 6);
  assert.equal(otherFamily(c, 'default/dual', 'fd00:96::10', 80, typed), undefined);
});

test('errors name the end and the family asked for', () => {
  const c = cluster();
  assert.throws(() => resolvePair(c, 'default/v4', 'svc/default/web', 80, 6), (e: unknown) => e instanceof EndpointError && /^the source default\/v4: pod default\/v4 has no IPv6 address/.test(e.message));
  assert.throws(() => resolvePair(c, 'default/dual', 'svc/default/only4', 80, 6), /the destination svc\/default\/only4: service default\/only4 has no IPv6 address \(ipFamilies IPv4/);
  assert.throws(() => resolvePair(c, 'default/dual', '10.96.0.10', 80, 6), /the destination 10\.96\.0\.10 is an IPv4 address, but family IPv6 was asked for/);
  assert.throws(() => resolvePair(c, 'default/v4', 'default/v6', 80), /have no address family in common/);
  // Not a family problem: the unknown pod is named at once.
  assert.throws(() => resolvePair(c, 'default/nope', 'default/v6', 80, 6), (e: unknown) => e instanceof EndpointError && !(e instanceof FamilyError) && /pod default\/nope not found/.test(e.message));
});

test('ipFamilies and ipFamilyPolicy are read defensively: unknown values are dropped, never echoed', () => {
  const s = readService(service('default/odd', { ipFamilies: ['IPv6', 'IPX', 'IPv6'], ipFamilyPolicy: 'Single\u001b[2JStack', clusterIPs: ['fd00::9'], ports: [] }));
  assert.deepEqual(s.ipFamilies, [6]);
  assert.equal(s.ipFamilyPolicy, undefined);
  assert.equal(readService(service('default/none', { clusterIP: '10.0.0.9', ports: [] })).ipFamilies, undefined);
});
