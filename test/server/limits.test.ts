// The engine's limits over the wire (dist/server.js, as the extension starts it): `params.limits`
// (VS Code's netpath.limits.* settings) reach the worker and the engine. An input over a limit is
// BadSource naming the limit, its flag and its setting; the same input with the limit raised works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { errorOf, serverBuilt, startServer, type ServerSession } from './client';
import { BadInputError } from '../../src/shared/errors';
import { ClusterInfoRequest, decodeError, DiagnoseRequest, ErrorCodes, ListEndpointsRequest, type DiagnoseParams } from '../../src/shared/protocol';
import { engineLimits, type EngineLimitName } from '../../src/shared/limits';
import { FakeApi } from '../cluster/fake-api';

const skip = !serverBuilt() && 'dist/server.js missing: run `npm run build` first';
const sample = resolve('samples/broken.netpath.json');
const request: DiagnoseParams['request'] = { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' };

function namesLimit(message: string, name: EngineLimitName, value: number): void {
  assert.ok(message.includes(`the limit ${name} = ${value} (raise it with ${engineLimits[name].flag} N, in VS Code the setting ${engineLimits[name].setting})`), message);
}

/** The sample with its client pod nested 250 levels deep (valid: a pod's spec may hold any field). */
function deepSnapshot(): string {
  const d = JSON.parse(readFileSync(sample, 'utf8'));
  let deep: unknown = 'leaf';
  for (let i = 0; i < 250; i++) deep = { n: deep };
  d.objects.pods.find((p: { metadata: { name: string } }) => p.metadata.name === 'client').spec.extra = deep;
  return JSON.stringify(d);
}

async function withServer(f: (s: ServerSession, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-server-limits-'));
  const s = await startServer();
  await s.initialize({ capabilities: {} });
  try {
    await f(s, dir);
  } finally {
    const e = await s.dispose();
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(e, { code: 0, signal: null }, s.stderr());
  }
}

test('maxJsonDepth: a snapshot (text or file) nested past 200 levels is BadSource naming the limit; params.limits.maxJsonDepth 300 diagnoses it', { skip }, async () => {
  await withServer(async (s, dir) => {
    const text = deepSnapshot();
    const refused = await errorOf(s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', text, name: 'deep.netpath.json' }, request }));
    assert.equal(refused.code, ErrorCodes.BadSource, refused.message);
    assert.match(refused.message, /deep\.netpath\.json: invalid snapshot: objects\.pods\[\d\]\.spec\.extra\.n/);
    namesLimit(refused.message, 'maxJsonDepth', 200);
    const typed = decodeError(refused as never);
    assert.ok(typed instanceof BadInputError && typed.part === 'source');
    const ok = await s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', text, name: 'deep.netpath.json' }, request, limits: { maxJsonDepth: 300 } });
    assert.equal(ok.result.verdict, 'unreachable');

    // A file: refused, then read with the limit raised (a refused file is not cached as read), then refused again at the default.
    const file = join(dir, 'deep.netpath.json');
    writeFileSync(file, text);
    const source = { kind: 'snapshot' as const, path: file };
    namesLimit((await errorOf(s.connection.sendRequest(ListEndpointsRequest, { source }))).message, 'maxJsonDepth', 200);
    const eps = await s.connection.sendRequest(ListEndpointsRequest, { source, limits: { maxJsonDepth: 300 } });
    assert.ok(eps.pods.some((p) => p.name === 'client'));
    const info = await s.connection.sendRequest(ClusterInfoRequest, { source, limits: { maxJsonDepth: 300 } });
    assert.deepEqual(info.dumpedNodes, ['node1', 'node2']);
    namesLimit((await errorOf(s.connection.sendRequest(ClusterInfoRequest, { source }))).message, 'maxJsonDepth', 200);
  });
});

test('maxSnapshotProblems and maxSnapshotChars over the wire: named in the error, raised by params.limits', { skip }, async () => {
  await withServer(async (s) => {
    const d = JSON.parse(readFileSync(sample, 'utf8'));
    const pod = d.objects.pods[0];
    d.objects.pods = Array.from({ length: 150 }, (_, k) => ({ ...pod, metadata: { ...pod.metadata, name: `p${k}` }, status: { ...pod.status, podIP: `bad-${k}` } }));
    const bad = { kind: 'snapshot' as const, text: JSON.stringify(d) };
    const capped = await errorOf(s.connection.sendRequest(DiagnoseRequest, { source: bad, request }));
    assert.equal(capped.code, ErrorCodes.BadSource);
    namesLimit(capped.message, 'maxSnapshotProblems', 100);
    const all = await errorOf(s.connection.sendRequest(DiagnoseRequest, { source: bad, request, limits: { maxSnapshotProblems: 1000 } }));
    assert.match(all.message, /… and 145 more$/);

    const text = readFileSync(sample, 'utf8');
    const small = await errorOf(s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', text }, request, limits: { maxSnapshotChars: 1000 } }));
    assert.equal(small.code, ErrorCodes.BadSource);
    namesLimit(small.message, 'maxSnapshotChars', 1000);
    const ok = await s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', text }, request, limits: { maxSnapshotChars: text.length } });
    assert.equal(ok.result.verdict, 'unreachable');
  });
});

test('ipsetElementBudget reaches the engine: over it the dump is not checked (INFO naming the setting); raised, the sets are read — same file, no stale cached Network', { skip }, async () => {
  await withServer(async (s, dir) => {
    const d = JSON.parse(readFileSync(sample, 'utf8'));
    const node = d.dumps.node2.node;
    node.ipsets = 'create s hash:net maxelem 1000\nadd s 10.0.0.0/24\nadd s 10.1.0.0/24\nadd s 10.2.0.0/24\n';
    node.iptables.nft = node.iptables.nft.replace('-A FORWARD -d 10.244.2.2/32', '-A FORWARD -m set --match-set s src -j ACCEPT\n-A FORWARD -d 10.244.2.2/32');
    const file = join(dir, 'ipset.netpath.json');
    writeFileSync(file, JSON.stringify(d));
    const source = { kind: 'snapshot' as const, path: file };
    const low = await s.connection.sendRequest(DiagnoseRequest, { source, request, limits: { ipsetElementBudget: 2 } });
    assert.match(low.report, /ipsets of node2 does not parse .*element budget of 2/);
    namesLimit(low.report, 'ipsetElementBudget', 2);
    const raised = await s.connection.sendRequest(DiagnoseRequest, { source, request, limits: { ipsetElementBudget: 3 } });
    assert.doesNotMatch(raised.report, /ipsetElementBudget|dump\.not-checked/);
    assert.equal(raised.result.verdict, 'unreachable');
  });
});

test('params.limits is checked: unknown names, non-positive or non-integer values, non-objects are InvalidParams naming the field', { skip }, async () => {
  await withServer(async (s) => {
    const source = { kind: 'snapshot', path: sample };
    const cases: [string, unknown, RegExp][] = [
      ['netpath/diagnose', { source, request, limits: { maxJsonDepth: 0 } }, /params\.limits\.maxJsonDepth must be a positive integer, got number 0/],
      ['netpath/diagnose', { source, request, limits: { maxJsonDepth: 2.5 } }, /params\.limits\.maxJsonDepth must be a positive integer/],
      ['netpath/diagnose', { source, request, limits: { ipsetElementBudget: '9' } }, /params\.limits\.ipsetElementBudget must be a positive integer, got "9"/],
      ['netpath/diagnose', { source, request, limits: { maxDepth: 9 } }, /params\.limits\.maxDepth must be absent \(the limits are maxSnapshotChars, maxSnapshotProblems, maxJsonDepth, ipsetElementBudget, maxResponseBytes, maxDumpBytes\)/],
      ['netpath/listEndpoints', { source, limits: [] }, /params\.limits must be an object with any of/],
      ['netpath/clusterInfo', { source, limits: 7 }, /params\.limits must be an object/],
      ['netpath/captureSnapshot', { source: { kind: 'cluster' }, output: '/tmp/x.netpath.json', limits: { maxJsonDepth: -1 } }, /params\.limits\.maxJsonDepth must be a positive integer/],
    ];
    for (const [method, params, message] of cases) {
      const e = await errorOf(s.connection.sendRequest(method, params));
      assert.equal(e.code, ErrorCodes.InvalidParams, `${method}: ${e.message}`);
      assert.match(e.message, message);
    }
  });
});

test('maxResponseBytes reaches the live cluster reader: a list page over params.limits.maxResponseBytes is BadSource naming the limit and the setting', { skip }, async () => {
  const api = new FakeApi();
  // One ConfigMap of 700 KiB: over 512 KiB in any page, under the default 64 MiB.
  api.on('GET', /^\/api\/v1\/namespaces\/kube-system\/configmaps\?/, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'ConfigMapList', metadata: {}, items: [{ metadata: { name: 'big', namespace: 'kube-system' }, data: { blob: 'x'.repeat(700 * 1024) } }] }));
  });
  await api.start();
  try {
    await withServer(async (s, dir) => {
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, api.kubeconfigText());
      const source = { kind: 'cluster' as const, context: 'fake', kubeconfig };
      const over = await errorOf(s.connection.sendRequest(ListEndpointsRequest, { source, limits: { maxResponseBytes: 512 * 1024 } }));
      assert.equal(over.code, ErrorCodes.BadSource, over.message);
      assert.match(over.message, /configmaps\?limit=\d+.*: the answer from http:\/\/127\.0\.0\.1:\d+ is larger than the limit maxResponseBytes = 512 KiB \(raise it with --max-response-bytes N, in VS Code the setting netpath\.limits\.maxResponseBytes\); nothing more was read/);
      // At 1 MiB the page is read: whatever the fake API cannot answer next, it is not this limit.
      const under = await s.connection.sendRequest(ListEndpointsRequest, { source, limits: { maxResponseBytes: 1024 * 1024 } }).then(() => 'ok', (e: Error) => e.message);
      assert.doesNotMatch(under, /maxResponseBytes/);
    });
  } finally {
    await api.stop();
  }
});
