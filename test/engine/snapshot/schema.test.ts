// The snapshot schema: the committed fixture (from a real collector run) loads; each malformed
// variant is rejected with a message naming the bad field by its path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SnapshotError, loadSnapshot } from '../../../src/engine/snapshot/load';

const fixtureText = readFileSync('test/fixtures/snapshot/healthy.netpath.json', 'utf8');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('the committed fixture is a valid snapshot', () => {
  const s = loadSnapshot(fixtureText);
  assert.equal(s.kind, 'NetpathSnapshot');
  assert.equal(s.dumps.node1.netns.length, 2);
});

const variants: [name: string, mutate: (d: Doc) => unknown, path: string, message: RegExp][] = [
  ['wrong kind', (d) => (d.kind = 'Snapshot'), 'kind', /must be "NetpathSnapshot"/],
  ['future version', (d) => (d.version = 2), 'version', /must be 1/],
  ['no capturedAt', (d) => delete d.capturedAt, 'capturedAt', /required field is missing/],
  ['capturedAt not a time', (d) => (d.capturedAt = 'yesterday'), 'capturedAt', /ISO 8601 date-time/],
  ['misspelt top-level field', (d) => ((d.dump = d.dumps), delete d.dumps), 'dump', /unknown field/],
  ['podCIDR without length', (d) => (d.settings.podCIDRs = ['10.244.1.0']), 'settings.podCIDRs[0]', /CIDR prefix/],
  ['unknown proxy mode', (d) => (d.settings.proxyMode = 'fast'), 'settings.proxyMode', /must be one of "iptables", "ipvs"/],
  ['pods not a list', (d) => (d.objects.pods = {}), 'objects.pods', /must be array/],
  ['pod without namespace', (d) => delete d.objects.pods[0].metadata.namespace, 'objects.pods[0].metadata.namespace', /required field is missing/],
  ['pod IP not an IP', (d) => (d.objects.pods[1].status.podIP = '10.244.1.300'), 'objects.pods[1].status.podIP', /must be an IP address/],
  ['service in the pod list', (d) => (d.objects.pods[2].kind = 'Service'), 'objects.pods[2].kind', /must be "Pod"/],
  ['port out of range', (d) => (d.objects.services[0].spec.ports[0].port = 70000), 'objects.services[0].spec.ports[0].port', /must be <= 65535/],
  ['lower-case protocol', (d) => (d.objects.services[0].spec.ports[0].protocol = 'tcp'), 'objects.services[0].spec.ports[0].protocol', /must be one of "TCP", "UDP", "SCTP"/],
  ['slice not normalized to v1', (d) => (d.objects.endpointSlices[0].apiVersion = 'discovery.k8s.io/v1beta1'), 'objects.endpointSlices[0].apiVersion', /must be "discovery.k8s.io\/v1"/],
  ['endpoint without addresses', (d) => (d.objects.endpointSlices[0].endpoints[0].addresses = []), 'objects.endpointSlices[0].endpoints[0].addresses', /must NOT have fewer than 1 items/],
  ['policy without podSelector', (d) => delete d.objects.networkPolicies[0].spec.podSelector, 'objects.networkPolicies[0].spec.podSelector', /required field is missing/],
  ['unknown object list', (d) => (d.objects.secrets = []), 'objects.secrets', /unknown field/],
  ['routes not a list', (d) => (d.dumps.node1.netns[1].routes = {}), 'dumps.node1.netns[1].routes', /must be array/],
  ['negative netns id', (d) => (d.dumps.node1.node.id = -1), 'dumps.node1.node.id', /must be >= 0/],
  ['empty iptables', (d) => (d.dumps.node1.node.iptables = {}), 'dumps.node1.node.iptables', /must NOT have fewer than 1 properties/],
  ['iptables backend misnamed', (d) => (d.dumps.node1.node.iptables = { iptables: '' }), 'dumps.node1.node.iptables.iptables', /unknown field/],
  ['misspelt netns field', (d) => (d.dumps.node1.netns[0].route = []), 'dumps.node1.netns[0].route', /unknown field/],
  ['netns without pids', (d) => delete d.dumps.node1.netns[0].pids, 'dumps.node1.netns[0].pids', /required field is missing/],
  ['collector error without message', (d) => d.dumps.node1.collector.errors.push({ tool: 'x' }), 'dumps.node1.collector.errors[0].message', /required field is missing/],
  ['sysctl value not text', (d) => (d.dumps.node1.node.sysctls['net.ipv4.ip_forward'] = 1), 'dumps.node1.node.sysctls["net.ipv4.ip_forward"]', /must be string/],
  ['dump of an unknown node', (d) => (d.dumps.node9 = d.dumps.node1), 'dumps.node9', /no Node object named "node9" in objects.nodes/],
  ['node name with dots', (d) => {
    d.objects.nodes.push({ ...d.objects.nodes[0], metadata: { name: 'ip-10-0-0-1.ec2.internal' } });
    d.dumps['ip-10-0-0-1.ec2.internal'] = { ...d.dumps.node1, node: { ...d.dumps.node1.node, links: 'eth0' } };
  }, 'dumps["ip-10-0-0-1.ec2.internal"].node.links', /must be array/],
  ['duplicate pod', (d) => d.objects.pods.push(d.objects.pods[0]), 'objects.pods[3]', /duplicate Pod default\/a \(also objects.pods\[0\]\)/],
  ['duplicate netns id', (d) => (d.dumps.node1.netns[1].id = d.dumps.node1.netns[0].id), 'dumps.node1.netns[1].id', /duplicate netns id/],
  ['not an object at all', () => ({ replace: [1, 2] }), '(root)', /must be object/],
];

test(`schema rejects ${variants.length} malformed variants, naming the bad field`, (t) => {
  for (const [name, mutate, path, message] of variants) {
    const doc = JSON.parse(fixtureText) as Doc;
    const r = mutate(doc) as { replace?: unknown } | undefined;
    const text = JSON.stringify(r && typeof r === 'object' && 'replace' in r ? r.replace : doc);
    assert.throws(() => loadSnapshot(text), (e: unknown) => {
      assert.ok(e instanceof SnapshotError, `${name}: a SnapshotError`);
      const hit = e.problems.find((p) => p.path === path && message.test(p.message));
      assert.ok(hit, `${name}: expected "${path}: ${message.source}", got:\n  ${e.problems.map((p) => `${p.path}: ${p.message}`).join('\n  ')}`);
      assert.ok(e.message.includes(`${path}: `), `${name}: the message names ${path}`);
      return true;
    }, name);
  }
  t.diagnostic(`${variants.length} malformed variants rejected, each naming its field`);
});

test('text that is not JSON is rejected with its position', () => {
  assert.throws(() => loadSnapshot('{"kind": "NetpathSnapshot",\n  "version": 1,,\n}'), /invalid snapshot: \(root\): not JSON \(line 2, column 16\)/);
  assert.throws(() => loadSnapshot(''), /not JSON/);
});
