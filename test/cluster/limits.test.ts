// Byte caps on what a cluster sends, against a scripted API server on loopback: an answer over
// --max-response-bytes is cut off while it streams (declared or not), a list page over it is read
// again in smaller pages, one object over it is a clear error (exit 2 in the CLI, naming the
// flag); and a cluster that cannot be reached exits 2 with its message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/cluster/api';
import { ClusterLimitError } from '../../src/cluster/errors';
import { formatBytes, parseByteSize } from '../../src/cluster/limits';
import { loadClusterObjects } from '../../src/cluster/loader';
import { main } from '../../src/cli/main';
import { FakeApi } from './fake-api';

const MiB = 1024 * 1024;

test('byte sizes: parsed with binary multiples, formatted for messages', () => {
  assert.equal(parseByteSize('1048576'), MiB);
  assert.equal(parseByteSize('512K'), 512 * 1024);
  assert.equal(parseByteSize('64m'), 64 * MiB);
  assert.equal(parseByteSize('1GiB'), 1024 * MiB);
  assert.equal(parseByteSize('2 MB'), 2 * MiB);
  for (const bad of ['', '0', '-1', '1.5M', '12X', '1e6', '99999999999999999G']) assert.equal(parseByteSize(bad), undefined, bad);
  assert.equal(formatBytes(64 * MiB), '64 MiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(12), '12 bytes');
});

test('API answers: cut off at the cap while streaming, declared or not; the server time is read', async (t) => {
  let streamed = 0;
  const api = new FakeApi()
    // 32 MiB, chunked, no Content-Length: the client must stop reading, not buffer it all
    .on('GET', /^\/stream$/, (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const write = () => {
        while (streamed < 32 * MiB) {
          streamed += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', write);
        }
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      write();
    })
    .on('GET', /^\/declared$/, (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(600 * MiB) });
      res.write('{');
    })
    .json('GET', /^\/small$/, 200, { ok: true }, { Date: 'Wed, 01 Jan 2020 00:05:00 GMT' });
  await api.start();
  try {
    const client = new ApiClient(api.kubeconfig(), { maxResponseBytes: MiB });
    await assert.rejects(client.text('GET', '/stream'), (e: Error) => e instanceof ClusterLimitError && e.message === `GET /stream: the answer from ${api.url} is larger than the limit maxResponseBytes = 1 MiB (raise it with --max-response-bytes N, in VS Code the setting netpath.limits.maxResponseBytes); nothing more was read` && e.limit === 'maxResponseBytes');
    await assert.rejects(client.text('GET', '/declared'), (e: Error) => e instanceof ClusterLimitError && e.bytes === 600 * MiB);
    const small = await client.send('GET', '/small');
    assert.equal(small.serverTime, Date.parse('2020-01-01T00:05:00Z'));
    assert.ok(streamed < 32 * MiB, `the server could not send it all (${formatBytes(streamed)} sent)`);
    t.diagnostic(`server got to send ${formatBytes(streamed)} of 32 MiB before the client hung up`);
  } finally {
    await api.stop();
  }
});

/** A ConfigMap list of `n` items of `size` bytes each, paged by `limit` with offset continue tokens. */
function pagedConfigMaps(api: FakeApi, n: number, size: (i: number) => number): { limits: number[] } {
  const seen = { limits: [] as number[] };
  api.on('GET', /^\/api\/v1\/namespaces\/kube-system\/configmaps\?/, (req, res) => {
    const u = new URL(req.url!, 'http://x');
    const limit = Number(u.searchParams.get('limit'));
    const from = Number(u.searchParams.get('continue') ?? 0);
    seen.limits.push(limit);
    const items = [];
    for (let i = from; i < Math.min(n, from + limit); i++) {
      items.push({ metadata: { name: `cm${i}`, namespace: 'kube-system' }, data: { blob: 'x'.repeat(size(i)) } });
    }
    const next = from + limit < n ? String(from + limit) : undefined;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'ConfigMapList', metadata: next ? { continue: next } : {}, items }));
  });
  return seen;
}

test('lists: a page over the cap is read again in smaller pages; one object over it is an error naming the limit', async (t) => {
  const api = new FakeApi();
  const seen = pagedConfigMaps(api, 40, (i) => (i === 39 ? 3 * MiB : 200 * 1024));
  await api.start();
  try {
    const client = new ApiClient(api.kubeconfig(), { maxResponseBytes: 2 * MiB });
    await assert.rejects(loadClusterObjects(client, undefined), (e: Error) => e instanceof ClusterLimitError && /configmaps\?limit=1&continue=39: .* larger than the limit maxResponseBytes = 2 MiB \(raise it with --max-response-bytes N, in VS Code the setting netpath\.limits\.maxResponseBytes\)/.test(e.message));
    t.diagnostic(`page sizes asked: ${seen.limits.join(', ')}`);
    assert.deepEqual(seen.limits.slice(0, 7), [500, 250, 125, 62, 31, 15, 7]);

    const ok = new FakeApi();
    pagedConfigMaps(ok, 40, () => 200 * 1024);
    await ok.start();
    try {
      const notes: string[] = [];
      const loaded = await loadClusterObjects(new ApiClient(ok.kubeconfig(), { maxResponseBytes: 2 * MiB }), undefined, { onProgress: (m) => notes.push(m) });
      assert.equal(loaded.counts['configmaps in kube-system'], 40, 'every object read, fewer at a time');
      assert.ok(notes.includes('ConfigMap list page over 2 MiB: reading 7 at a time'), notes.join(' | '));
    } finally {
      await ok.stop();
    }
  } finally {
    await api.stop();
  }
});

test('CLI: a list over --max-response-bytes exits 2 naming the flag; a bad size is refused; an unreachable cluster exits 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-limits-'));
  process.env.NETPATH_CONSENT_FILE = join(dir, 'consent.json'); // never the user's own
  const api = new FakeApi();
  pagedConfigMaps(api, 1, () => 700 * 1024);
  await api.start();
  // a port nothing listens on (bound, then closed)
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closed = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const run = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(args, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
    return { code, stdout, stderr };
  };
  try {
    const kc = join(dir, 'kubeconfig');
    writeFileSync(kc, api.kubeconfigText());
    const req = ['--src', 'default/a', '--dst', 'default/b', '--port', '80'];
    const over = await run(['diagnose', '--context', 'fake', '--kubeconfig', kc, '--max-response-bytes', '512K', ...req]);
    assert.equal(over.code, 2, over.stderr);
    assert.match(over.stderr, /^netpath diagnose: GET \/api\/v1\/namespaces\/kube-system\/configmaps\?limit=1: the answer from http:\/\/127\.0\.0\.1:\d+ is larger than the limit maxResponseBytes = 512 KiB \(raise it with --max-response-bytes N, in VS Code the setting netpath\.limits\.maxResponseBytes\); nothing more was read$/m);
    const bad = await run(['diagnose', '--context', 'fake', '--kubeconfig', kc, '--max-dump-bytes', '12X', ...req]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-dump-bytes must be a positive size in bytes \(e\.g\. 1048576, 512K, 64M, 1G\), not "12X"/);

    writeFileSync(kc, api.kubeconfigText(`https://127.0.0.1:${closed}`));
    const refused = await run(['diagnose', '--context', 'fake', '--kubeconfig', kc, ...req]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`\\nnetpath diagnose: cannot reach the API server https://127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\): connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}\\n$`));
    const capture = await run(['snapshot', 'capture', '--context', 'fake', '--kubeconfig', kc, '-o', join(dir, 'x.json')]);
    assert.equal(capture.code, 2, capture.stderr);
    t.diagnostic(`over the cap: ${over.stderr.trim().split('\n').pop()}`);
    t.diagnostic(`unreachable: ${refused.stderr.trim()}`);
  } finally {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
