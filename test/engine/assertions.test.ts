// Node- and pod-level assertions and the provider, on the healthy sample with one thing changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { SuspicionLevel } from '../../src/engine/model/suspicion';
import type { NetpathSnapshot } from '../../src/engine/snapshot/types';

const text = readFileSync(join(__dirname, '..', '..', 'samples', 'healthy.netpath.json'), 'utf8');
const req = { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' };
const checksOn = (s: NetpathSnapshot, node: string) => new Network(s).diagnose(req).nodes.find((n) => n.id === node)!.suspicions;

test('a full conntrack table on a node on the path is CRITICAL there, with the counters as evidence', () => {
  const s = loadSnapshot(text);
  s.dumps.node2.node.conntrack = { count: 262144, max: 262144 };
  const f = checksOn(s, 'node2').find((x) => x.check === 'conntrack.full')!;
  assert.equal(f.level, SuspicionLevel.CRITICAL);
  assert.match(f.evidence[0].text, /nf_conntrack_count = 262144/);
  const s2 = loadSnapshot(text);
  s2.dumps.node2.node.conntrack = { count: 220000, max: 262144 };
  assert.equal(checksOn(s2, 'node2').find((x) => x.check === 'conntrack.nearly-full')?.level, SuspicionLevel.WARNING);
});

test('node conditions: NetworkUnavailable and not Ready are reported on the node', () => {
  const s = loadSnapshot(text);
  const n2 = s.objects.nodes.find((n) => n.metadata.name === 'node2')!;
  const st = n2.status as { conditions: { type: string; status: string; reason?: string }[] };
  st.conditions = [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }, { type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated' }];
  const checks = checksOn(s, 'node2').map((x) => x.check);
  assert.ok(checks.includes('node.not-ready') && checks.includes('node.network-unavailable'), checks.join(' '));
});

test('a container that is not ready is a WARNING on its pod', () => {
  const s = loadSnapshot(text);
  const web2 = s.objects.pods.find((p) => p.metadata.name === 'web2')!;
  (web2.status as Record<string, unknown>).containerStatuses = [{ name: 'web', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }];
  const f = checksOn(s, 'default/web2').find((x) => x.check === 'pod.container-not-ready')!;
  assert.equal(f.level, SuspicionLevel.WARNING);
  assert.match(f.message, /CrashLoopBackOff, 3 restarts/);
});

test('a recognised cloud is named: its network is not examined by the generic provider', () => {
  const s = loadSnapshot(text);
  for (const n of s.objects.nodes) (n as Record<string, any>).spec = { ...((n as Record<string, any>).spec ?? {}), providerID: `aws:///eu-west-1a/i-0${n.metadata.name}` }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = new Network(s).diagnose(req);
  const f = r.clusterSuspicions.find((x) => x.check === 'infra.not-modelled')!;
  assert.match(f.message, /aws/);
  assert.equal(r.verdict, 'reachable');
});
