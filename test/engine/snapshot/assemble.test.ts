// `snapshot assemble`: Kubernetes objects in every accepted form (multi-document YAML, kind: List,
// typed lists, EndpointSlice v1/v1beta1, Endpoints only) plus real dumps → a deterministic snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AssembleError, assembleSnapshot } from '../../../src/engine/snapshot/assemble';
import { ObjectsError } from '../../../src/engine/snapshot/objects';
import { SnapshotError, loadSnapshot } from '../../../src/engine/snapshot/load';
import { encodeSnapshot } from '../../../src/engine/snapshot/format';

const dir = 'test/fixtures/snapshot';
const k8sYaml = readFileSync(`${dir}/k8s-fixtures.yaml`, 'utf8');
const fixtureYaml = readFileSync(`${dir}/objects.yaml`, 'utf8');
const dumpText = readFileSync(`${dir}/node1.dump.json`, 'utf8');
const docs = (text: string) => text.split(/^---$/m).map((d) => d.trim()).filter(Boolean);
const parseDocs = (text: string) => docs(text).map((d) => (require('yaml') as typeof import('yaml')).parse(d));
const node1 = { node: 'node1', name: 'node1.dump.json', text: dumpText };

test('the committed fixture is reproduced byte for byte from its inputs', () => {
  const r = assembleSnapshot({ objects: [{ name: 'objects.yaml', text: fixtureYaml }], dumps: [node1] });
  // The committed fixture is version 1, what assemble writes by default; --format-version 2 writes
  // the same snapshot in the lazily read layout.
  const fixture = readFileSync(`${dir}/healthy.netpath.json`, 'utf8');
  assert.equal(r.text, fixture);
  assert.deepEqual(loadSnapshot(r.text), r.snapshot);
  const v2 = assembleSnapshot({ objects: [{ name: 'objects.yaml', text: fixtureYaml }], dumps: [node1], formatVersion: 2 });
  assert.equal(v2.text, encodeSnapshot(loadSnapshot(fixture)));
  assert.deepEqual({ ...loadSnapshot(v2.text), version: 1 }, r.snapshot);
  assert.deepEqual(r.mapping.pods.map((p) => [p.pod, p.hostNetwork]), [['default/a', false], ['default/b', false], ['kube-system/agent', true]]);
  assert.deepEqual(r.mapping.podsWithoutNetns, []);
  assert.deepEqual(r.mapping.netnsWithoutPod, []);
});

test('the lab fixtures: v1beta1 EndpointSlice normalized, original kept, settings from nodes', () => {
  const r = assembleSnapshot({ objects: [{ name: 'k8s-fixtures.yaml', text: k8sYaml }], dumps: [node1] });
  const o = r.snapshot.objects;
  assert.deepEqual(r.snapshot.settings, { podCIDRs: ['10.244.1.0/24', '10.244.2.0/24'] });
  assert.equal(r.snapshot.capturedAt, JSON.parse(dumpText).collector.startedAt);
  assert.deepEqual([o.nodes.length, o.pods.length, o.services.length, o.endpoints.length, o.networkPolicies.length], [2, 2, 1, 1, 1]);
  assert.equal(o.endpointSlices.length, 1, 'the slice exists, so none is derived from Endpoints');
  const slice = o.endpointSlices[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(slice.apiVersion, 'discovery.k8s.io/v1');
  assert.deepEqual(slice.endpoints[0], { addresses: ['10.244.2.2'], conditions: { ready: true }, nodeName: 'node2', targetRef: { kind: 'Pod', name: 'web', namespace: 'default' } });
  assert.equal(o.originalEndpointSlices?.[0].apiVersion, 'discovery.k8s.io/v1beta1');
  assert.deepEqual(r.mapping.podsWithoutNetns.map((p) => [p.pod, p.reason]), [
    ['default/client', 'no pod IP in status (not running yet?)'],
    ['default/web', 'no dump of node node2'],
  ]);
  assert.deepEqual(r.mapping.netnsWithoutPod.length, 2, 'the fixture dump has two pod netns no lab pod claims');
});

test('kind: List, typed lists and multi-document YAML give byte-identical snapshots, in any order', () => {
  const items = parseDocs(k8sYaml);
  const multi = assembleSnapshot({ objects: [{ name: 'a.yaml', text: k8sYaml }], dumps: [node1] }).text;
  const list = stringify({ apiVersion: 'v1', kind: 'List', items: [...items].reverse() });
  assert.equal(assembleSnapshot({ objects: [{ name: 'list.yaml', text: list }], dumps: [node1] }).text, multi);
  // As the API serves lists: PodList items carry neither kind nor apiVersion.
  const pods = items.filter((i) => i.kind === 'Pod').map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
  const others = items.filter((i) => i.kind !== 'Pod');
  const typed = [
    { name: 'pods.json', text: JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items: pods }) },
    { name: 'rest.yaml', text: others.map((o) => stringify(o)).join('---\n') },
  ];
  assert.equal(assembleSnapshot({ objects: typed, dumps: [node1] }).text, multi);
  assert.equal(assembleSnapshot({ objects: [...typed].reverse(), dumps: [node1] }).text, multi, 'file order does not matter');
});

test('EndpointSlice v1 and v1beta1 normalize to the same shape', () => {
  const v1 = k8sYaml
    .replace('apiVersion: discovery.k8s.io/v1beta1', 'apiVersion: discovery.k8s.io/v1')
    .replace('topology: {kubernetes.io/hostname: node2}', 'nodeName: node2');
  const a = assembleSnapshot({ objects: [{ name: 'v1beta1.yaml', text: k8sYaml }], dumps: [node1] }).snapshot.objects;
  const b = assembleSnapshot({ objects: [{ name: 'v1.yaml', text: v1 }], dumps: [node1] }).snapshot.objects;
  assert.deepEqual(a.endpointSlices, b.endpointSlices);
  assert.equal(b.originalEndpointSlices, undefined, 'nothing was converted');
  const zoned = k8sYaml.replace('topology: {kubernetes.io/hostname: node2}', 'topology: {kubernetes.io/hostname: node2, topology.kubernetes.io/zone: z1, rack: r7}');
  const z = assembleSnapshot({ objects: [{ name: 'z.yaml', text: zoned }], dumps: [node1] }).snapshot.objects.endpointSlices[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual([z.endpoints[0].nodeName, z.endpoints[0].zone, z.endpoints[0].deprecatedTopology], ['node2', 'z1', { rack: 'r7' }]);
});

test('only core Endpoints (older clusters): EndpointSlices are derived from them', () => {
  const noSlices = docs(k8sYaml).filter((d) => !d.includes('kind: EndpointSlice')).join('\n---\n')
    .replace('ports: [{name: http, port: 8080, protocol: TCP}]}]', 'notReadyAddresses: [{ip: 10.244.2.9}, {ip: "fd00::9"}], ports: [{name: http, port: 8080, protocol: TCP}]}]');
  const o = assembleSnapshot({ objects: [{ name: 'old.yaml', text: noSlices }], dumps: [node1] }).snapshot.objects;
  assert.deepEqual(o.endpointSlices.map((s) => [s.metadata.name, s.addressType, s.metadata.labels?.['kubernetes.io/service-name']]), [
    ['web-from-endpoints-0-ipv4', 'IPv4', 'web'],
    ['web-from-endpoints-0-ipv6', 'IPv6', 'web'],
  ]);
  const v4 = o.endpointSlices[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(v4.endpoints.map((e: any) => [e.addresses[0], e.conditions.ready, e.nodeName]), [['10.244.2.2', true, 'node2'], ['10.244.2.9', false, undefined]]); // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(v4.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(o.endpoints.length, 1, 'the Endpoints themselves are kept');
});

test('unknown kinds are reported and not stored; ConfigMaps only from system namespaces', () => {
  const extra = `${k8sYaml}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: token, namespace: default}\ndata: {t: c2VjcmV0}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-proxy, namespace: kube-system}\ndata: {mode: iptables}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: default}\ndata: {x: y}\n`;
  const r = assembleSnapshot({ objects: [{ name: 'x.yaml', text: extra }], dumps: [node1] });
  assert.deepEqual(r.ignored.map((i) => `${i.kind} ${i.name}`), ['ConfigMap default/app', 'Deployment default/web', 'Secret default/token']);
  assert.match(r.ignored[1].source, /x\.yaml: document 9/);
  assert.doesNotMatch(r.text, /c2VjcmV0|"Secret"/);
  assert.deepEqual(r.snapshot.objects.configMaps.map((c) => c.metadata.name), ['kube-proxy']);
});

test('bad inputs are rejected with messages naming the input', () => {
  const cases: [() => unknown, new (...a: any[]) => Error, RegExp][] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    [() => assembleSnapshot({ objects: [{ name: 'k.yaml', text: k8sYaml }], dumps: [{ ...node1, node: 'node7' }] }), AssembleError, /dump node7=node1.dump.json: there is no Node object named "node7" in the objects \(nodes: node1, node2\)/],
    [() => assembleSnapshot({ objects: [{ name: 'k.yaml', text: k8sYaml }], dumps: [node1, node1] }), AssembleError, /node node1 is given a dump twice/],
    [() => assembleSnapshot({ objects: [{ name: 'k.yaml', text: k8sYaml }], dumps: [{ ...node1, text: JSON.stringify({ ...JSON.parse(dumpText), node: { ...JSON.parse(dumpText).node, routes: { x: 1 } } }) }] }), SnapshotError, /invalid dump node1 \(node1.dump.json\): node.routes: must be array/],
    [() => assembleSnapshot({ objects: [{ name: 'k.yaml', text: k8sYaml }], dumps: [{ ...node1, text: '{"node": ' }] }), SnapshotError, /dump node1 \(node1.dump.json\): \(root\): not JSON/],
    [() => assembleSnapshot({ objects: [{ name: 'bad.yaml', text: 'kind: Pod\n---\nmetadata: {name: [x\n' }], dumps: [] }), ObjectsError, /bad.yaml: document 2: YAML error at line 4, column 1: Flow sequence/],
    [() => assembleSnapshot({ objects: [{ name: 'nokind.yaml', text: 'apiVersion: v1\nmetadata: {name: x}\n' }], dumps: [] }), ObjectsError, /nokind.yaml: document 1: object has no kind/],
    [() => assembleSnapshot({ objects: [{ name: 'l.yaml', text: 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod}\n' }], dumps: [] }), ObjectsError, /l.yaml: document 1, items\[0\]: Pod has no metadata.name/],
    [() => assembleSnapshot({ objects: [{ name: 'a.yaml', text: k8sYaml }, { name: 'b.yaml', text: k8sYaml.replace('clusterIP: 10.96.0.10', 'clusterIP: 10.96.0.11') }], dumps: [] , capturedAt: '2026-01-01T00:00:00Z' }), ObjectsError, /b.yaml: document \d+: Service default\/web differs from the one in a.yaml/],
    [() => assembleSnapshot({ objects: [{ name: 'k.yaml', text: k8sYaml }], dumps: [] }), AssembleError, /give --captured-at/],
    [() => assembleSnapshot({ objects: [{ name: 'k.yaml', text: k8sYaml.replace('apiVersion: discovery.k8s.io/v1beta1', 'apiVersion: discovery.k8s.io/v2') }], dumps: [node1] }), ObjectsError, /apiVersion discovery.k8s.io\/v2; expected discovery.k8s.io\/v1 or discovery.k8s.io\/v1beta1/],
    [() => assembleSnapshot({ objects: [{ name: 'k.yaml', text: k8sYaml.replace('podIP', 'x').replace('kind: Pod\nmetadata: {name: client', 'kind: Pod\nstatus: {podIP: 300.1.1.1}\nmetadata: {name: client') }], dumps: [node1] }), AssembleError, /objects.pods\[0\].status.podIP: must be an IP address/],
  ];
  for (const [run, type, re] of cases) assert.throws(run, (e: unknown) => e instanceof type && re.test((e as Error).message) ? true : assert.fail(`${re}: got ${(e as Error).name}: ${(e as Error).message}`));
  // The same object given twice (identical) is fine.
  assembleSnapshot({ objects: [{ name: 'a.yaml', text: k8sYaml }, { name: 'b.yaml', text: k8sYaml }], dumps: [node1] });
});

test('netpath snapshot assemble/validate through dist/cli.js: byte-identical reruns, exit codes', { skip: !existsSync('dist/cli.js') && 'run `npm run build` first' }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'npcol-snap-'));
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
    const outs = [join(tmp, 'a.netpath.json'), join(tmp, 'b.netpath.json')];
    for (const o of outs) {
      const r = run('snapshot', 'assemble', '--objects', `${dir}/k8s-fixtures.yaml`, '--objects', `${dir}/objects.yaml`.replace('objects.yaml', 'k8s-fixtures.yaml'), '--dump', `node1=${dir}/node1.dump.json`, '-o', o);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /wrote .*: 2 nodes, 2 pods, 1 services, 1 EndpointSlices, 1 NetworkPolicies, 1 dumps/);
      assert.match(r.stderr, /pods mapped to a netns by IP: 0; without netns: 2; netns without pod: 2/);
    }
    assert.ok(readFileSync(outs[0]).equals(readFileSync(outs[1])), 'two runs, identical bytes');
    assert.equal(run('snapshot', 'validate', outs[0]).status, 0);
    const broken = loadSnapshot(readFileSync(outs[0], 'utf8'));
    (broken.dumps.node1.netns[1] as { routes: unknown }).routes = 'none';
    writeFileSync(outs[1], encodeSnapshot(broken));
    const v = run('snapshot', 'validate', outs[1]);
    assert.equal(v.status, 2);
    assert.match(v.stderr, /dumps\.node1\.netns\[1\]\.routes: must be array/);
    const bad = run('snapshot', 'assemble', '--objects', `${dir}/k8s-fixtures.yaml`, '--dump', `node3=${dir}/node1.dump.json`, '-o', join(tmp, 'c.json'));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no Node object named "node3"/);
    assert.equal(run('snapshot', 'assemble', '--objects', join(tmp, 'missing.yaml'), '-o', join(tmp, 'd.json')).status, 2);
    assert.equal(run('snapshot', 'assemble', '--dump', 'node1', '--objects', `${dir}/k8s-fixtures.yaml`, '-o', join(tmp, 'd.json')).status, 2);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('an EndpointSlice the API serves with ports: null and endpoints: null (selector matches no pod) assembles and loads', () => {
  const empty = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: lonely-x1, namespace: default, labels: {kubernetes.io/service-name: lonely}}
addressType: IPv4
ports: null
endpoints: null
`;
  const { snapshot } = assembleSnapshot({ objects: [{ name: 'k8s.yaml', text: k8sYaml }, { name: 'empty.yaml', text: empty }], dumps: [node1] });
  const slice = snapshot.objects.endpointSlices.find((s) => s.metadata.name === 'lonely-x1')!;
  assert.deepEqual([slice.ports, slice.endpoints], [[], []]);
  loadSnapshot(encodeSnapshot(snapshot));
});

test('Calico IPPools (crd.projectcalico.org/v1) and CNI DaemonSets are kept for detection; other DaemonSets are not', () => {
  const extra = `apiVersion: crd.projectcalico.org/v1
kind: IPPool
metadata: {name: default-ipv4-ippool}
spec: {cidr: 10.245.0.0/16, ipipMode: Always, vxlanMode: Never, natOutgoing: true}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: calico-node, namespace: kube-system}
spec: {selector: {matchLabels: {k8s-app: calico-node}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: fluentd, namespace: logging}
spec: {}
`;
  const { snapshot, ignored } = assembleSnapshot({ objects: [{ name: 'k8s.yaml', text: k8sYaml }, { name: 'calico.yaml', text: extra }], dumps: [node1] });
  assert.deepEqual(snapshot.objects.ipPools?.map((p) => p.metadata.name), ['default-ipv4-ippool']);
  assert.deepEqual(snapshot.objects.daemonSets?.map((p) => p.metadata.name), ['calico-node']);
  assert.ok(ignored.some((i) => i.kind === 'DaemonSet' && i.name === 'logging/fluentd'));
  loadSnapshot(encodeSnapshot(snapshot));
});
