// Snapshot format version 2 (src/engine/snapshot/format.ts): read lazily, it must diagnose exactly
// as version 1 does; a bad part must fail only the diagnoses that read it, naming it; and a full
// check (`snapshot validate`) must find every bad part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labCases } from '../../support/lab-cases';
import { generateSnapshot } from '../../../bench/generate';
import { Network } from '../../../src/engine/network';
import { formatJson } from '../../../src/engine/report/json';
import { formatText } from '../../../src/engine/report/text';
import { bytesOfText, checkSnapshotBytes, encodeSnapshot, isSnapshotV2, openSnapshot } from '../../../src/engine/snapshot/format';
import { SnapshotError, loadSnapshot } from '../../../src/engine/snapshot/load';
import type { NetpathSnapshot } from '../../../src/engine/snapshot/types';
import { openSnapshotFile } from '../../../src/shared/snapshot-file';

const cases = labCases();

test('every committed lab case: version 1 and version 2 (read lazily) give byte-identical diagnoses', { skip: cases.length === 0 && 'no lab cases committed' }, (t) => {
  let probes = 0;
  for (const c of cases) {
    const v1 = loadSnapshot(c.snapshotText);
    const v2text = encodeSnapshot(v1);
    assert.ok(isSnapshotV2(v2text));
    // Eagerly loaded, version 2 is the same snapshot.
    assert.deepEqual({ ...loadSnapshot(v2text), version: 1 }, v1, c.name);
    const eager = new Network(v1);
    const lazy = new Network(openSnapshot(bytesOfText(v2text)));
    for (const p of c.truth.probes) {
      const req = { src: p.src, dst: p.dst, port: p.port, protocol: p.protocol.toLowerCase(), ...(p.size ? { size: p.size } : {}) };
      const a = eager.diagnose(req);
      const b = lazy.diagnose(req);
      assert.equal(formatJson(b), formatJson(a), `${c.name} ${p.probe}`);
      assert.equal(formatText(b), formatText(a), `${c.name} ${p.probe}`);
      probes++;
    }
  }
  t.diagnostic(`${probes} probes over ${cases.length} cases identical`);
});

// A generated cluster of 6 nodes: the probes cross node-00000 and node-00001 only.
const g = generateSnapshot({ nodes: 6, pods: 60, services: 8, endpoints: 3, seed: 3 });
const base = loadSnapshot(JSON.stringify(g.snapshot));
const clone = (): NetpathSnapshot => JSON.parse(JSON.stringify(base));

test('a corrupt dump off the path is never read; on the path it is an error naming the node', () => {
  const healthy = formatJson(new Network(openSnapshot(bytesOfText(encodeSnapshot(base)))).diagnose(g.probes.podToService));
  const off = clone();
  (off.dumps['node-00004'].node as { routes: unknown }).routes = 'none';
  const offText = encodeSnapshot(off);
  assert.equal(formatJson(new Network(openSnapshot(bytesOfText(offText))).diagnose(g.probes.podToService)), healthy);
  assert.equal(formatJson(new Network(openSnapshot(bytesOfText(offText))).diagnose(g.probes.podToPod)), formatJson(new Network(base).diagnose(g.probes.podToPod)));

  const on = clone();
  (on.dumps[g.pathNodes[1]].node as { routes: unknown }).routes = 'none';
  assert.throws(() => new Network(openSnapshot(bytesOfText(encodeSnapshot(on)))).diagnose(g.probes.podToService), (e: unknown) => {
    assert.ok(e instanceof SnapshotError);
    assert.match(e.message, new RegExp(`dumps\\.${g.pathNodes[1]}\\.node\\.routes: must be array`));
    return true;
  });

  // Bytes that are not JSON at all, the length kept: the part is named too.
  const lines = encodeSnapshot(base).split('\n');
  const header = JSON.parse(lines[0].slice(0, -1) + '}');
  const line = 2 + header.index.dumps.first + header.index.dumps.node.indexOf(g.pathNodes[1]);
  lines[line] = '[' + lines[line].slice(1);
  const garbled = lines.join('\n');
  assert.throws(() => new Network(openSnapshot(bytesOfText(garbled))).diagnose(g.probes.podToService), new RegExp(`invalid snapshot part dumps\\.${g.pathNodes[1]}: \\(root\\): not JSON`));
});

test('a pod that disagrees with the index is an error when it is read', () => {
  const v2 = encodeSnapshot(base);
  const j = base.objects.pods.findIndex((p) => p.metadata.name === g.probes.podToPod.src.split('/')[1]);
  const ip = (base.objects.pods[j].status as { podIP: string }).podIP;
  // Same length, another address: the index still says the old one.
  const other = ip.replace(/\d$/, (d) => String((Number(d) + 1) % 10));
  const lines = v2.split('\n');
  const header = JSON.parse(lines[0].slice(0, -1) + '}');
  const line = 2 + header.index.pods.first + j;
  lines[line] = lines[line].split(ip).join(other);
  assert.throws(() => new Network(openSnapshot(bytesOfText(lines.join('\n')))).diagnose(g.probes.podToPod), /objects\.pods\[\d+\]: does not match index\.pods\.ips/);
});

test('the full check (snapshot validate) finds every bad part, and a wrong layout', () => {
  const bad = clone();
  (bad.dumps['node-00004'].netns as unknown) = 'none';
  (bad.objects.pods[7].status as { podIP: unknown }).podIP = 'not-an-ip';
  const k = bad.objects.endpointSlices.findIndex((x) => x.metadata.labels?.['kubernetes.io/service-name'] !== g.probes.podToService.dst.split('/')[2]);
  bad.objects.endpointSlices[k].addressType = 'bogus';
  const text = encodeSnapshot(bad);
  // Lazily, a diagnosis that reads none of them still runs.
  new Network(openSnapshot(bytesOfText(text))).diagnose(g.probes.podToPod);
  assert.throws(() => checkSnapshotBytes(bytesOfText(text)), (e: unknown) => {
    assert.ok(e instanceof SnapshotError);
    const paths = e.problems.map((p) => p.path);
    assert.ok(paths.includes('dumps.node-00004.netns'), paths.join(', '));
    assert.ok(paths.includes('objects.pods[7].status.podIP'), paths.join(', '));
    assert.ok(paths.includes(`objects.endpointSlices[${k}].addressType`), paths.join(', '));
    return true;
  });
  const good = encodeSnapshot(base);
  assert.throws(() => checkSnapshotBytes(bytesOfText(good.replace('\n]}\n', '\n]}\n\n'))), /index\.parts: the parts' lengths give a \d+-byte file/);
  assert.throws(() => openSnapshot(bytesOfText(good.replace('"headerBytes":"', '"headerBytes":"9'))), /headerBytes/);
  assert.deepEqual(checkSnapshotBytes(bytesOfText(good)).objects.pods.length, base.objects.pods.length);
});

test('files: version 1 is read whole, version 2 lazily; both give the same diagnosis; validate checks every part', { skip: !existsSync('dist/cli.js') && 'run `npm run build` first' }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'np-v2-'));
  try {
    const v1 = join(tmp, 'a.netpath.json');
    const v2 = join(tmp, 'b.netpath.json');
    writeFileSync(v1, JSON.stringify(base, null, 2));
    writeFileSync(v2, encodeSnapshot(base));
    assert.equal(openSnapshotFile(v1).version, 1);
    assert.equal(openSnapshotFile(v2).version, 2);
    const run = (...args: string[]) => spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
    const p = g.probes.podToService;
    const args = ['--src', p.src, '--dst', p.dst, '--port', String(p.port), '--format', 'json'];
    const a = run('diagnose', '--snapshot', v1, ...args);
    const b = run('diagnose', '--snapshot', v2, ...args);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.stdout, a.stdout);
    assert.match(run('snapshot', 'validate', v2).stdout, /valid snapshot \(version 2/);
    const off = clone();
    (off.dumps['node-00004'].node as { routes: unknown }).routes = 'none';
    writeFileSync(v2, encodeSnapshot(off));
    assert.equal(run('diagnose', '--snapshot', v2, ...args).stdout, a.stdout, 'the bad dump is off the path');
    const v = run('snapshot', 'validate', v2);
    assert.equal(v.status, 2);
    assert.match(v.stderr, /dumps\.node-00004\.node\.routes: must be array/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
