// snapshot diff: objects and per-node stacks compared, and with a path the differences the packet
// met first. Judged on the bundled samples and on every lab fault case against its healthy twin:
// the first on-path difference must be the injected fault (truth.json: where it is and its family).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { SnapshotDiff, type Difference } from '../../src/engine/diff/diff';
import { diffJson } from '../../src/engine/diff/report';
import { diffObjects, indexObjects } from '../../src/engine/diff/objects';
import { labCases, labDir } from '../support/lab-cases';
import type { NetpathSnapshot } from '../../src/engine/snapshot/types';

const load = (p: string) => loadSnapshot(readFileSync(p, 'utf8'));

test('samples: healthy vs broken names the FORWARD DROP rule on node2 as the on-path difference', () => {
  const d = new SnapshotDiff(load('samples/healthy.netpath.json'), load('samples/broken.netpath.json'));
  const p = d.path({ src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' });
  assert.equal(p.before.verdict, 'reachable');
  assert.equal(p.after.verdict, 'unreachable');
  const first = p.onPath[0].difference;
  assert.equal(first.type, 'stack');
  if (first.type !== 'stack') return;
  assert.equal(first.node, 'node2');
  assert.equal(first.netns, 'host');
  assert.equal(first.area, 'iptables');
  assert.equal(first.change, 'added');
  assert.match(first.after!, /^-A FORWARD .*-j DROP$/);
  // The rest does not repeat what the path part reported.
  const rest = d.rest();
  assert.ok(!rest.stacks.some((s) => s.after === first.after));
});

/** Which differences a truth.json check family may be: stack areas, or object kinds. */
const families: [RegExp, { areas?: string[]; kinds?: string[]; anyNode?: boolean }][] = [
  [/^route\./, { areas: ['routes', 'rules'] }],
  [/^sysctl\./, { areas: ['sysctls'] }],
  [/^(bridge|interface|veth)\./, { areas: ['interfaces'] }],
  [/^neigh\./, { areas: ['neighbours'] }],
  [/^vxlan\.fdb/, { areas: ['fdb'] }],
  [/^(iptables|kube-proxy|nftables)\./, { areas: ['iptables', 'ip6tables', 'nftables'] }],
  [/^ndp\./, { areas: ['ip6tables', 'neighbours'] }],
  [/^socket\./, { areas: ['sockets'] }],
  [/^policy\./, { kinds: ['NetworkPolicy'] }],
  // a Service reaches the datapath as kube-proxy's DNAT rules, on whichever node the client is
  [/^service\./, { kinds: ['Service', 'EndpointSlice', 'Endpoints', 'Pod'], areas: ['iptables', 'ip6tables', 'nftables'], anyNode: true }],
];

function isFault(d: Difference, fault: { netNode: string; check: string }, s: NetpathSnapshot): string | undefined {
  const fam = families.find(([re]) => re.test(fault.check))?.[1];
  if (!fam) return `no family for ${fault.check}`;
  if (d.type === 'object') {
    if (!fam.kinds?.includes(d.kind)) return `object ${d.kind} ${d.namespace}/${d.name} is not of the family of ${fault.check}`;
    return undefined;
  }
  if (!fam.areas?.includes(d.area)) return `${d.area} is not of the family of ${fault.check}`;
  if (fam.anyNode) return undefined;
  if (fault.netNode.includes('/')) {
    const [ns, name] = fault.netNode.split('/');
    const pod = s.objects.pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name);
    const host = (pod?.spec as { nodeName?: string; hostNetwork?: boolean }) ?? {};
    const ok = d.netns === fault.netNode || (d.node === host.nodeName && (host.hostNetwork ? d.netns === 'host' : false));
    return ok ? undefined : `${d.node}/${d.netns} is not ${fault.netNode}`;
  }
  return d.node === fault.netNode && d.netns === 'host' ? undefined : `${d.node}/${d.netns} is not node ${fault.netNode}`;
}

// (a fault the kernel survives, its target probe still reachable, changes no verdict: not diffed here)
const faulted = labCases().filter((c) => c.truth.fault && existsSync(join(labDir, `${c.name.split('--')[0]}--healthy`))
  && c.truth.probes.find((p) => p.probe === c.truth.fault!.targetProbe)?.outcome !== 'reachable');

test('every lab fault case diffed against its healthy twin names the injected fault first', { skip: !faulted.length && 'no lab cases' }, (t) => {
  const failures: string[] = [];
  for (const c of faulted) {
    const fault = c.truth.fault!;
    const probe = c.truth.probes.find((p) => p.probe === fault.targetProbe)!;
    const healthy = load(join(labDir, `${c.name.split('--')[0]}--healthy`, 'snapshot.netpath.json'));
    const broken = loadSnapshot(c.snapshotText);
    const p = new SnapshotDiff(healthy, broken).path({ src: probe.src, dst: probe.dst, port: probe.port, protocol: probe.protocol.toLowerCase(), ...(probe.size ? { size: probe.size } : {}), ...(probe.family ? { family: probe.family } : {}) });
    if (p.before.verdict === p.after.verdict) failures.push(`${c.name}: verdict unchanged (${p.before.verdict})`);
    const first = p.onPath[0]?.difference;
    const why = first ? isFault(first, fault, broken) : 'no on-path difference';
    if (why) failures.push(`${c.name} (${fault.id}: ${fault.netNode} ${fault.check}): first on-path difference ${JSON.stringify(first)}: ${why}`);
  }
  t.diagnostic(`${faulted.length - failures.length}/${faulted.length} fault cases name the fault first`);
  assert.deepEqual(failures, []);
});

test('capture noise is not a difference: route-deleted vs healthy differs by the one route (timers, counters, conntrack count, neighbour states, save dates, nft handles ignored)', { skip: !existsSync(join(labDir, 'flannel-host-gw--route-deleted')) && 'no lab cases' }, () => {
  const d = new SnapshotDiff(load(join(labDir, 'flannel-host-gw--healthy', 'snapshot.netpath.json')), load(join(labDir, 'flannel-host-gw--route-deleted', 'snapshot.netpath.json')));
  const r = d.rest();
  assert.deepEqual(r.objects, []);
  assert.deepEqual(r.stacks.map((s) => [s.node, s.netns, s.area, s.change, s.key]), [['node1', 'host', 'routes', 'removed', 'table main: 10.244.2.0/24 via 198.51.100.12 dev eth0']]);
});

test('objects: status noise is ignored, field paths name what changed (hostile keys quoted)', () => {
  const base = load('samples/healthy.netpath.json');
  const changed = JSON.parse(JSON.stringify(base)) as NetpathSnapshot;
  const pod = changed.objects.pods[0];
  pod.metadata.resourceVersion = '999999';
  pod.metadata.labels = { ...pod.metadata.labels, 'evil\u001b[31m': 'x' };
  (pod.metadata as Record<string, unknown>).creationTimestamp = '2030-01-01T00:00:00Z';
  const d = diffObjects(indexObjects(base.objects), indexObjects(changed.objects));
  assert.equal(d.length, 1);
  assert.deepEqual(d[0].fields, ['metadata.labels["evil\\u001b[31m"]']);
});

test('the JSON document is deterministic and says what changed where', () => {
  const run = () => {
    const d = new SnapshotDiff(load('samples/healthy.netpath.json'), load('samples/broken.netpath.json'));
    const p = d.path({ src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' });
    return JSON.stringify(diffJson({ a: 'a', b: 'b' }, p, d.rest()));
  };
  const a = run();
  assert.equal(a, run());
  const doc = JSON.parse(a);
  assert.deepEqual(doc.verdict, { a: 'reachable', b: 'unreachable', changed: true });
  assert.equal(doc.onPath[0].type, 'stack');
  assert.equal(doc.onPath[0].node, 'node2');
  assert.ok(typeof doc.onPath[0].why === 'string');
  assert.deepEqual(Object.keys(doc), ['a', 'b', 'request', 'verdict', 'onPath', 'objects', 'stacks', 'dumpsOnlyIn']);
});

test('a snapshot diffed with itself has no differences', () => {
  const s = load('samples/broken.netpath.json');
  const d = new SnapshotDiff(s, load('samples/broken.netpath.json'));
  const p = d.path({ src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' });
  assert.equal(p.onPath.length, 0);
  const r = d.rest();
  assert.equal(r.objects.length + r.stacks.length, 0);
});
