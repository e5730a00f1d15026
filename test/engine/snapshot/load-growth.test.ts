// The snapshot's own readers grow linearly with their input, as the netstack parsers do
// (test/engine/netstack/parser-growth.test.ts): loading a snapshot (JSON, depth, schema,
// consistency), a version 2 file opened whole, and Kubernetes objects from YAML. Ratios printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadSnapshot } from '../../../src/engine/snapshot/load';
import { bytesOfText, checkSnapshotBytes, encodeSnapshot } from '../../../src/engine/snapshot/format';
import { collectObjects } from '../../../src/engine/snapshot/objects';
import type { NetpathSnapshot } from '../../../src/engine/snapshot/types';
import { describeGrowth, measureGrowthConfirmed } from '../../support/growth';

const BOUND = 3;
const base = JSON.parse(readFileSync('test/fixtures/snapshot/healthy.netpath.json', 'utf8')) as NetpathSnapshot;
const pod = base.objects.pods[0];
const ip4 = (k: number) => `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;

/** The fixture with `n` distinct pods. */
function withPods(n: number): NetpathSnapshot {
  const pods = Array.from({ length: n }, (_, k) => ({ ...pod, metadata: { ...pod.metadata, name: `p${k}` }, status: { ...(pod.status as object), podIP: ip4(k), podIPs: [{ ip: ip4(k) }] } }));
  return { ...base, objects: { ...base.objects, pods } };
}

function check(name: string, make: (n: number) => unknown, parse: (input: never) => unknown, start: number, maxN: number) {
  const g = measureGrowthConfirmed(make, parse, { start, maxN, bound: BOUND });
  const line = describeGrowth(name, g);
  console.log(line);
  assert.ok(g.ratio < BOUND, `${line}: more than ${BOUND}× the time for 2× the input`);
}

test('loadSnapshot (version 1) and a version 2 file checked whole: pods', () => {
  check('loadSnapshot v1', (n) => JSON.stringify(withPods(n)), (t: string) => loadSnapshot(t), 500, 64_000);
  check('checkSnapshotBytes v2', (n) => bytesOfText(encodeSnapshot(withPods(n))), (b: ReturnType<typeof bytesOfText>) => checkSnapshotBytes(b), 500, 64_000);
});

test('collectObjects: multi-document YAML manifests', () => {
  check('objects YAML', (n) => {
    const docs: string[] = [];
    for (let k = 0; k < n; k++) docs.push(`apiVersion: v1\nkind: Pod\nmetadata:\n  name: p${k}\n  namespace: default\n  labels: { app: web }\nspec:\n  nodeName: node1\n  containers: [{ name: c, image: nginx, ports: [{ containerPort: 80 }] }]\nstatus:\n  phase: Running\n  podIP: ${ip4(k)}\n`);
    return [{ name: 'pods.yaml', text: docs.join('---\n') }];
  }, (s: { name: string; text: string }[]) => collectObjects(s), 200, 32_000);
});
