// The CollectorManager against a scripted API server on loopback (no cluster): pod names that
// never collide, the stale judgement by each pod's own recorded deadline (on the API server's
// clock), consent per API server + namespace + pinned image whatever the namespace's state,
// a refused create that deletes nothing, and a gzip bomb stopped at the dump limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ApiClient } from '../../src/cluster/api';
import { CollectorManager, DEFAULT_COLLECTOR_IMAGE, STALE_AFTER, collectorPodName, isStalePod, type CollectorSettings } from '../../src/cluster/collector-pods';
import { ConsentFile, consentFilePath, isPinnedImage, serverKey } from '../../src/cluster/consent';
import { ConsentRequiredError } from '../../src/cluster/errors';
import { FakeApi } from './fake-api';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

test('collector pod names: unique per run and node, DNS labels of at most 63 characters', (t) => {
  const a = collectorPodName('abcd1234', 'ip-10-0-0-1.ec2.internal');
  const b = collectorPodName('abcd1234', 'ip-10-0-0-1-ec2-internal');
  assert.notEqual(a, b, 'nodes whose DNS-safe forms are equal');
  assert.match(a, /^netpath-abcd1234-ip-10-0-0-1-ec2-internal-[0-9a-f]{10}$/);
  assert.equal(collectorPodName('abcd1234', 'ip-10-0-0-1.ec2.internal'), a, 'deterministic');
  assert.notEqual(collectorPodName('ffff0000', 'ip-10-0-0-1.ec2.internal').slice(-10), a.slice(-10), 'the hash covers the run id');
  assert.notEqual(collectorPodName('abcd1234', 'Node1'), collectorPodName('abcd1234', 'node1'));
  assert.match(collectorPodName('abcd1234', '☃\n\u202e'), /^netpath-abcd1234-[0-9a-f]{10}$/, 'nothing readable: the hash alone');
  const long = `${'x'.repeat(60)}.example.com`;
  const names = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const node = i % 2 ? `${long}-${i}` : `${'a'.repeat(240)}.${i}`;
    for (const run of ['abcd1234', 'live-1', 'z']) {
      const n = collectorPodName(run, node);
      assert.ok(n.length <= 63 && DNS_LABEL.test(n), n);
      names.add(n);
    }
  }
  assert.equal(names.size, 6000, 'no two (run, node) pairs share a name, even when the readable part is cut');
  t.diagnostic(`${a} / ${b}; 6000 long names distinct`);
});

test('stale judgement: by the pod\'s own recorded deadline, whatever its phase', () => {
  const T = Date.parse('2026-01-01T00:00:00Z');
  const pod = (annotations?: Record<string, string>, spec?: { activeDeadlineSeconds?: number }) =>
    ({ metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z', annotations }, spec });
  const at = (s: number) => T + s * 1000;
  // a finished pod of a live run whose log is not read yet: not stale before its deadline
  assert.equal(isStalePod(pod({ [STALE_AFTER]: '330' }), at(10)), false);
  assert.equal(isStalePod(pod({ [STALE_AFTER]: '330' }), at(329)), false);
  assert.equal(isStalePod(pod({ [STALE_AFTER]: '330' }), at(330)), true);
  assert.equal(isStalePod(pod({ [STALE_AFTER]: '0' }), at(0)), true);
  // older pods without the annotation: their activeDeadlineSeconds plus a margin, else an hour
  assert.equal(isStalePod(pod(undefined, { activeDeadlineSeconds: 180 }), at(479)), false);
  assert.equal(isStalePod(pod(undefined, { activeDeadlineSeconds: 180 }), at(480)), true);
  assert.equal(isStalePod(pod(), at(3599)), false);
  assert.equal(isStalePod(pod(), at(3600)), true);
  for (const bad of ['abc', '-5', '1e9', '', '99999999']) assert.equal(isStalePod(pod({ [STALE_AFTER]: bad }), at(3599)), false, `annotation "${bad}" is not trusted`);
  assert.equal(isStalePod({ metadata: { name: 'p', annotations: { [STALE_AFTER]: '0' } } }, at(99999)), false, 'no creation time: never judged stale');
});

function settings(over: Partial<CollectorSettings> = {}): CollectorSettings {
  return { namespace: 'netpath-system', image: DEFAULT_COLLECTOR_IMAGE, timeoutMs: 120_000, consent: false, pollMs: 10, cleanupMs: 500, ...over };
}

/** An API server where the collector namespace exists and everything a run does is answered. */
async function clusterApi(o: { create?: number; log?: Buffer; pods?: unknown[]; date?: string; phase?: string; events?: unknown[] } = {}): Promise<FakeApi> {
  const api = new FakeApi();
  api.json('GET', /^\/api\/v1\/namespaces\/netpath-system$/, 200, { kind: 'Namespace', metadata: { name: 'netpath-system' } });
  api.json('GET', /^\/api\/v1\/namespaces\/netpath-system\/pods\?/, 200, { kind: 'PodList', items: o.pods ?? [] }, o.date ? { Date: o.date } : {});
  api.on('POST', /^\/api\/v1\/namespaces\/netpath-system\/pods$/, (_q, res, body) => {
    const status = o.create ?? 201;
    const b = body as { metadata: { name: string } };
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(status === 201 ? { ...b, metadata: { ...b.metadata, uid: `uid-${b.metadata.name}` } } : { kind: 'Status', message: `pods "${b.metadata.name}" already exists` }));
  });
  api.on('GET', /\/pods\/[^/]+\/log/, (_q, res) => res.writeHead(200).end(o.log ?? Buffer.from('not a dump')));
  api.json('GET', /^\/api\/v1\/namespaces\/netpath-system\/pods\/[^/?]+$/, 200, { status: { phase: o.phase ?? 'Succeeded' } });
  api.json('DELETE', /\/pods\//, 200, { kind: 'Status' });
  api.json('GET', /\/events/, 200, { items: o.events ?? [] });
  return api.start();
}

test('consent: asked whatever the namespace state; remembered per API server, namespace and pinned image', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-consent-'));
  const api = await clusterApi();
  try {
    const records = new ConsentFile(join(dir, 'sub', 'consent.json'));
    const client = new ApiClient(api.kubeconfig());
    const manager = (over: Partial<CollectorSettings>) => new CollectorManager(client, settings(over), { consentRecords: records, cluster: { context: 'fake', server: api.url } });

    // the namespace exists: still nothing without consent, not one request
    await assert.rejects(manager({}).collect(['node1']), (e: Error) => e instanceof ConsentRequiredError && e.message.startsWith(`netpath has no consent to create collector pods in ${api.url} (namespace netpath-system, image ${DEFAULT_COLLECTOR_IMAGE}): it would create\nnamespace netpath-system`));
    assert.equal(api.seen.length, 0, 'nothing was asked of the cluster');
    const err = await manager({}).collect(['node1']).catch((e: ConsentRequiredError) => e);
    assert.equal((err as ConsentRequiredError).details.imagePinned, true);

    // --yes: the run goes ahead and the agreement is remembered (0600, under a directory it makes)
    const ok = await manager({ consent: true }).collect(['node1']);
    assert.match(ok[0].error!.message, /not a complete dump/, 'the run reached the log');
    assert.ok(api.seen.some((s) => s.method === 'POST'));
    assert.equal(records.has({ server: api.url, namespace: 'netpath-system', image: DEFAULT_COLLECTOR_IMAGE }), true);
    assert.equal(records.has({ server: `${api.url.toUpperCase().replace('HTTP://', 'http://')}/`, namespace: 'netpath-system', image: DEFAULT_COLLECTOR_IMAGE }), true, 'the same server spelt differently');
    const file = JSON.parse(readFileSync(records.location, 'utf8'));
    assert.equal(file.version, 1);
    assert.equal(Object.keys(file.agreements).length, 1);

    // remembered: no --yes needed
    api.seen.length = 0;
    await manager({}).collect(['node1']);
    assert.ok(api.seen.some((s) => s.method === 'POST'), 'remembered consent creates pods');
    // another namespace, another image: asked again, naming the change
    api.seen.length = 0;
    await assert.rejects(manager({ namespace: 'other' }).collect(['node1']), /no consent to create collector pods in .* \(namespace other,/);
    const other = `example.org/netshoot@sha256:${'1'.repeat(64)}`;
    await assert.rejects(manager({ image: other }).collect(['node1']), (e: Error) => e.message.includes(`the collector image changed since you agreed to run in ${api.url} (namespace netpath-system): ${DEFAULT_COLLECTOR_IMAGE} → ${other}`));
    // a tag-only image: --yes works, but is never remembered
    const tag = 'nicolaka/netshoot:v0.13';
    await manager({ image: tag, consent: true }).collect(['node1']);
    assert.equal(records.has({ server: api.url, namespace: 'netpath-system', image: tag }), false);
    const tagErr = await manager({ image: tag }).collect(['node1']).catch((e: ConsentRequiredError) => e);
    assert.ok(tagErr instanceof ConsentRequiredError);
    assert.match(tagErr.message, /^the collector image nicolaka\/netshoot:v0.13 is not pinned by digest \(IMAGE@sha256:…\), so consent for it is never remembered: it would create\n/);
    assert.match(tagErr.message, /NOT pinned by digest/);
    assert.equal(tagErr.details.imagePinned, false);
    // without a consent store (the server: VS Code keeps its own), only explicit consent counts
    await assert.rejects(new CollectorManager(client, settings(), {}).collect(['node1']), ConsentRequiredError);
    // a damaged file holds no agreement
    writeFileSync(records.location, '{"version":1,"agreements":');
    await assert.rejects(manager({}).collect(['node1']), ConsentRequiredError);
    t.diagnostic(`consent file ${records.location}; message: ${tagErr.message.split('\n')[0]}`);
  } finally {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('consent file: location, pinning, server key', () => {
  assert.equal(consentFilePath({ NETPATH_CONSENT_FILE: '/tmp/x.json', XDG_CONFIG_HOME: '/c', HOME: '/h' }), '/tmp/x.json');
  assert.equal(consentFilePath({ XDG_CONFIG_HOME: '/c', HOME: '/h' }), '/c/netpath/consent.json');
  assert.equal(consentFilePath({ XDG_CONFIG_HOME: 'relative', HOME: '/h' }), '/h/.config/netpath/consent.json', 'XDG: relative paths are ignored');
  assert.equal(isPinnedImage(DEFAULT_COLLECTOR_IMAGE), true);
  for (const img of ['nicolaka/netshoot:v0.13', 'nicolaka/netshoot@sha256:abc', `x@sha256:${'A'.repeat(64)}`, `x@sha256:${'a'.repeat(64)} `]) assert.equal(isPinnedImage(img), false, img);
  assert.equal(serverKey('https://Example.COM:443/'), 'https://example.com');
  assert.equal(serverKey('https://10.0.0.1:6443/prefix/'), 'https://10.0.0.1:6443/prefix');
});

test('stale pods: deleted only past their own deadline on the API server\'s clock, by uid; a refused create deletes nothing', async () => {
  const created = '2020-01-01T00:00:00Z';
  const pod = (name: string, run: string, staleAfter: string, phase: string) => ({
    metadata: { name, uid: `uid-${name}`, creationTimestamp: created, labels: { 'app.kubernetes.io/managed-by': 'netpath', 'netpath.dev/run-id': run }, annotations: { [STALE_AFTER]: staleAfter } },
    status: { phase },
  });
  // The API server says it is 5 minutes after creation (this machine's clock says years later).
  const api = await clusterApi({
    create: 409,
    date: 'Wed, 01 Jan 2020 00:05:00 GMT',
    pods: [pod('netpath-live-a', 'runa', '330', 'Succeeded'), pod('netpath-crashed-b', 'runb', '60', 'Running'), pod('netpath-mine', 'mine', '0', 'Succeeded')],
  });
  try {
    const m = new CollectorManager(new ApiClient(api.kubeconfig()), settings({ consent: true }), { runId: 'mine' });
    const [r] = await m.collect(['node1']);
    assert.match(r.error!.message, /^node node1: the API server refused collector pod netpath-system\/netpath-mine-node1-[0-9a-f]{10} \(HTTP 409\): pods ".*" already exists$/);
    const deletes = api.seen.filter((s) => s.method === 'DELETE');
    assert.deepEqual(deletes.map((d) => [d.path, (d.body as { preconditions?: { uid: string } }).preconditions?.uid]), [['/api/v1/namespaces/netpath-system/pods/netpath-crashed-b', 'uid-netpath-crashed-b']],
      'only the crashed run\'s pod (past its 60 s), by uid; not the live run\'s finished pod, not ours, not the name that was refused');
    const post = api.seen.find((s) => s.method === 'POST')!.body as { metadata: { annotations: Record<string, string> } };
    assert.equal(post.metadata.annotations[STALE_AFTER], String(m.staleAfterSeconds));
    assert.equal(m.staleAfterSeconds, 120 + 120 + 1 + 60, 'timeout + log read + delete retries + margin');
  } finally {
    await api.stop();
  }
});

test('a gzip bomb in a collector log stops at the dump limit, names it, and the pod is deleted', async (t) => {
  // 8 gzip members of 16 MiB of zeros: 128 MiB from a log of a few hundred KiB
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024));
  const bomb = Buffer.concat([Buffer.from('netpath-collector-gzip 1\n'), Buffer.from(Buffer.concat(Array(8).fill(member)).toString('base64'))]);
  const api = await clusterApi({ log: bomb });
  try {
    const m = new CollectorManager(new ApiClient(api.kubeconfig()), settings({ consent: true, maxDumpBytes: 4 * 1024 * 1024 }), { runId: 'bomb' });
    const [r] = await m.collect(['node1']);
    assert.match(r.error!.message, /^node node1: the collector's log \(\d+(\.\d)? KiB\) inflates to more than the limit maxDumpBytes = 4 MiB \(raise it with --max-dump-bytes N, in VS Code the setting netpath\.limits\.maxDumpBytes\); it was not read further$/);
    const del = api.seen.filter((s) => s.method === 'DELETE');
    assert.equal(del.length, 1);
    assert.match(del[0].path, /netpath-bomb-node1-[0-9a-f]{10}$/);
    assert.equal((del[0].body as { preconditions: { uid: string } }).preconditions.uid, `uid-${del[0].path.split('/').pop()}`);
    t.diagnostic(`${bomb.length} byte log: ${r.error!.message}`);
  } finally {
    await api.stop();
  }
});

test('a failed pod\'s message stays bounded whatever the cluster posts: a 4 KiB log tail, the last 10 events cut at 1,000 characters', async () => {
  const events = Array.from({ length: 30 }, (_, i) => ({ type: 'Warning', reason: `R${i}`, message: 'm'.repeat(100_000) }));
  const api = await clusterApi({ phase: 'Failed', events, log: Buffer.from('x'.repeat(8192)) });
  try {
    const m = new CollectorManager(new ApiClient(api.kubeconfig()), settings({ consent: true }), { runId: 'fail' });
    const [r] = await m.collect(['node1']);
    assert.match(r.error!.message, /^node node1: collector pod netpath-system\/netpath-fail-node1-[0-9a-f]{10} failed; log tail:\n/);
    assert.match(r.error!.message, /; events \(the last 10 of 30\):\n {2}Warning R20: m{1000}…\n/);
    assert.ok(!r.error!.message.includes('R19:'));
    const tail = api.seen.find((s) => /\/log\?.*tailLines=10/.test(s.path))!;
    assert.match(tail.path, /limitBytes=4096/);
    assert.ok(r.error!.message.length < 8192 + 11 * 1100, `${r.error!.message.length} characters`);
    assert.equal(api.seen.filter((s) => s.method === 'DELETE').length, 1);
  } finally {
    await api.stop();
  }
});
