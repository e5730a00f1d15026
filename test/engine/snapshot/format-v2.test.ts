// Snapshot format version 2 (src/engine/snapshot/format.ts): read lazily, it must diagnose exactly
// as version 1 does; a bad part must fail only the diagnoses that read it, naming it; and a full
// check (`snapshot validate`) must find every bad part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labCases } from '../../support/lab-cases';
import { generateSnapshot } from '../../../bench/generate';
import { Network } from '../../../src/engine/network';
import { formatJson } from '../../../src/engine/report/json';
import { ObjectView } from '../../../src/engine/plugins/objects';
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

/** The file's header as JSON, and the text with its header replaced (headerBytes kept right). */
function header(text: string): { index: Record<string, any> } {
  return JSON.parse(text.slice(0, text.indexOf('\n') - 1) + '}');
}
function withHeader(text: string, edit: (h: Record<string, any>) => void): string {
  const h = header(text) as Record<string, any>;
  edit(h);
  const rest = text.slice(text.indexOf('\n') + 1);
  for (let width = 0; ; width++) {
    h.headerBytes = '0'.repeat(10);
    const line = JSON.stringify(h).slice(0, -1) + ',\n';
    const n = Buffer.byteLength(line);
    h.headerBytes = String(n).padStart(10, '0');
    const fixed = JSON.stringify(h).slice(0, -1) + ',\n';
    if (Buffer.byteLength(fixed) === n || width > 2) return fixed + rest;
  }
}

test('services and nodes are read one by one: a pod→service diagnosis reads its service and the nodes on its path only', () => {
  const text = encodeSnapshot(base);
  const ix = header(text).index;
  const bytes = bytesOfText(text);
  const read: number[] = [];
  const spy = { size: bytes.size, read: (offset: number, length: number) => (read.push(offset), bytes.read(offset, length)) };
  const lazy = new Network(openSnapshot(spy));
  assert.equal(formatJson(lazy.diagnose(g.probes.podToService)), formatJson(new Network(base).diagnose(g.probes.podToService)));
  // Part i starts after the header line, `"parts":[\n` and the parts before it with their `,\n`.
  const starts: number[] = [];
  let at = Buffer.byteLength(text.slice(0, text.indexOf('\n') + 1)) + '"parts":[\n'.length;
  for (const len of ix.parts as number[]) {
    starts.push(at);
    at += len + 2;
  }
  const partsRead = (group: { first: number; name: string[] }) => group.name.filter((_, j) => read.includes(starts[group.first + j]));
  const svc = g.probes.podToService.dst.split('/')[2];
  assert.deepEqual(partsRead(ix.services), [svc], 'the one service asked about');
  assert.ok(partsRead(ix.nodes).every((n: string) => g.pathNodes.includes(n)), `nodes read: ${partsRead(ix.nodes).join(', ')}`);
  assert.equal(ix.lists.services, undefined);
  assert.equal(ix.lists.nodes, undefined);
});

test('an older version 2 file (nodes and services as whole lists) still reads, diagnoses and validates', () => {
  const old = readFileSync('test/fixtures/snapshot/v2-whole-lists.netpath.json', 'utf8');
  assert.notEqual(header(old).index.lists.services, undefined, 'the fixture has the older layout');
  const whole = checkSnapshotBytes(bytesOfText(old));
  const probes = [
    { src: 'default/client', dst: 'svc/default/bench-web', port: 80, protocol: 'tcp' },
    { src: 'default/client', dst: 'default/bench-web-0', port: 8080, protocol: 'tcp' },
  ];
  const rewritten = encodeSnapshot(whole);
  for (const p of probes) {
    const want = formatJson(new Network({ ...whole, version: 1 }).diagnose(p));
    assert.equal(formatJson(new Network(openSnapshot(bytesOfText(old))).diagnose(p)), want);
    assert.equal(formatJson(new Network(openSnapshot(bytesOfText(rewritten))).diagnose(p)), want, 'rewritten by this writer');
  }
  const both = withHeader(rewritten, (h) => (h.index.lists.services = 0));
  assert.throws(() => openSnapshot(bytesOfText(both)), /index\.services: must not be given with index\.lists\.services/);
});

test('a service or node that disagrees with the index is an error when it is read; so is a wrong annotated entry', () => {
  const v2 = encodeSnapshot(base);
  const svc = g.probes.podToService.dst.split('/')[2];
  const lied = withHeader(v2, (h) => {
    const j = h.index.services.name.indexOf(svc);
    h.index.services.ips[j] = '10.255.255.254';
  });
  // The lookup by IP no longer finds it: the service is read by name, and its IPs disagree.
  assert.throws(() => new Network(openSnapshot(bytesOfText(lied))).diagnose(g.probes.podToService), /objects\.services\[\d+\]: does not match index\.services\.ips\[\d+\]/);
  const node = withHeader(v2, (h) => {
    h.index.nodes.podCIDRs[0] = '10.200.0.0/24';
  });
  assert.throws(() => checkSnapshotBytes(bytesOfText(node)), /objects\.nodes\[0\]: does not match index\.nodes\.podCIDRs\[0\]/);
  const key = 'flannel.alpha.coreos.com/backend-type';
  assert.equal(header(v2).index.nodes.annotated[key], 0);
  const wrong = withHeader(v2, (h) => {
    h.index.nodes.annotated['example.com/none'] = 1;
  });
  assert.throws(() => checkSnapshotBytes(bytesOfText(wrong)), /index\.nodes\.annotated\["example\.com\/none"\]: is 1, but no node has annotation/);
  const missing = withHeader(v2, (h) => {
    delete h.index.nodes.annotated[key];
  });
  assert.throws(() => checkSnapshotBytes(bytesOfText(missing)), /must be 0 \(the first node annotated/);
  const beyond = withHeader(v2, (h) => {
    h.index.nodes.annotated[key] = 99;
  });
  assert.throws(() => openSnapshot(bytesOfText(beyond)), /is node 99, but there are 6 nodes/);
  const pointsElsewhere = withHeader(v2, (h) => {
    h.index.nodes.annotated['flannel.alpha.coreos.com/public-ip-v6'] = 2;
  });
  // Plugin detection asks the index for the first annotated node: it reads that node only, and checks it.
  const lazy = openSnapshot(bytesOfText(v2));
  assert.equal(new ObjectView(lazy, []).nodeAnnotated(key)?.metadata.name, base.objects.nodes[0].metadata.name);
  assert.equal(new ObjectView(lazy, []).nodeAnnotated('example.com/none'), undefined);
  assert.throws(() => new ObjectView(openSnapshot(bytesOfText(pointsElsewhere)), []).nodeAnnotated('flannel.alpha.coreos.com/public-ip-v6'), /names objects\.nodes\[2\], which has no annotation/);
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
