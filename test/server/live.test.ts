// The diagnosis server against a live cluster: dist/server.js over real JSON-RPC, a real
// kube-apiserver (the lab control plane, on ports of its own), the flannel host-gw lab topology in
// network namespaces and the fake kubelet that runs netpath's collector pods (test/cluster/live-lab.ts).
// Consent (typed error, nothing created), live netpath/diagnose equal to the snapshot diagnosis of
// the same objects and dumps with progress for every collection step, RBAC as findings,
// cancellation mid-collection leaving zero collector pods, listEndpoints/clusterInfo, and
// captureSnapshot writing a file loadSnapshot accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { errorOf, serverBuilt, startServer, type ServerSession } from './client';
import { COLLECTOR_NS, baselineSnapshot, liveLabEnv, missingPrereq, sleep, startLiveLab, type LiveLab, type LiveLabPorts } from '../cluster/live-lab';
import type { CaptureSnapshotResult, ClusterInfoResult, ConsentDetails, DiagnoseResult, ListEndpointsResult } from '../../src/shared/protocol';

const PORTS: LiveLabPorts = { cp: join(homedir(), '.cache/netpath/server-live-cp'), etcd: 23980, api: 16633, kcm: 10447, prefix: 'npsv' };
Object.assign(process.env, liveLabEnv(PORTS));

const crossNode = { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' };

const progressOf = (s: ServerSession, token: string) =>
  s.received.filter((m) => m.method === '$/progress' && (m.params as { token: string }).token === token).map((m) => (m.params as { value: { kind: string; message?: string } }).value);

test('the diagnosis server on a live cluster (real kube-apiserver, fake kubelet)', { timeout: 600_000 }, async (t) => {
  const why = missingPrereq() ?? (serverBuilt() ? undefined : 'dist/server.js missing: run `npm run build` first');
  if (why) {
    if (process.env.CI) assert.fail(`live server test prerequisites missing in CI: ${why}`);
    t.skip(why);
    return;
  }
  let live: LiveLab | undefined;
  let s: ServerSession | undefined;
  try {
    live = await startLiveLab(PORTS, (m) => t.diagnostic(m));
    const { admin, kubelet, dir, collectorPods } = live;
    s = await startServer();
    await s.initialize({ capabilities: { window: { workDoneProgress: true } } });
    const conn = s.connection;
    const cluster = { kind: 'cluster', context: 'lab', kubeconfig: live.kubeconfig, collector: { timeoutSeconds: 60 } };
    const namespaceExists = async () => (await admin.list('v1', 'Namespace')).some((n) => n.metadata!.name === COLLECTOR_NS);

    await t.test('without consent: a typed error saying what would be created, and nothing is', async (tt) => {
      const e = await errorOf(conn.sendRequest('netpath/diagnose', { source: cluster, request: crossNode }));
      assert.equal(e.code, -32004, e.message);
      assert.match(e.message, /netpath has no consent to create collector pods in https:\/\/127\.0\.0\.1:\d+ \(namespace netpath-system, image /);
      const d = e.data as ConsentDetails;
      assert.equal(d.imagePinned, true, 'the default image is pinned by digest');
      assert.equal(d.namespace, COLLECTOR_NS);
      assert.equal(d.context, 'lab');
      assert.equal(d.server, `https://127.0.0.1:${PORTS.api}`);
      assert.equal(d.namespaceLabels['pod-security.kubernetes.io/enforce'], 'privileged');
      assert.match(d.pod, /image nicolaka\/netshoot/);
      assert.ok(d.privileges.some((p) => /^privileged container/.test(p)) && d.privileges.some((p) => /hostPID/.test(p)), d.privileges.join(' | '));
      assert.ok(d.permissions.includes(`create pods in namespace ${COLLECTOR_NS}`), d.permissions.join(' | '));
      assert.equal(await namespaceExists(), false, 'no namespace without consent');
      assert.deepEqual(await collectorPods(), []);
      tt.diagnostic(`consent error lists ${d.privileges.length} privileges and ${d.permissions.length} permissions; namespace not created`);
    });

    await t.test('live netpath/diagnose equals the snapshot diagnosis, with progress for every collection step', async (tt) => {
      kubelet.reset();
      const t0 = Date.now();
      const r = await conn.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { ...cluster, consent: true }, request: crossNode, workDoneToken: 'live-1', runId: 'live-1' });
      const ms = Date.now() - t0;
      assert.equal(r.result.verdict, 'reachable');
      assert.equal(r.sourceLabel, 'lab (live)');
      assert.equal(await namespaceExists(), true);
      assert.deepEqual(await collectorPods(), [], 'collector pods deleted after the run');
      const steps = progressOf(s!, 'live-1');
      const messages = steps.map((v) => v.message ?? '');
      for (const [what, re] of [
        ['connect', /connecting to https:\/\/127\.0\.0\.1/], ['namespace', /creating namespace netpath-system/], ['create', /creating collector pod netpath-system\/netpath-/],
        ['wait', /waiting for netpath-/], ['logs', /reading the dump from netpath-/], ['delete', /deleting collector pod/], ['done', /network namespaces collected/],
      ] as const) assert.ok(messages.some((m) => re.test(m)), `${what} step reported: ${messages.join(' | ')}`);
      assert.equal(steps[0].kind, 'begin');
      assert.equal(steps.at(-1)!.kind, 'end');
      const diagnostics = s!.received.filter((m) => m.method === 'textDocument/publishDiagnostics' && (m.params as { uri: string }).uri === r.reportUri);
      assert.equal(diagnostics.length, 1);

      // The same objects and dumps as a snapshot, diagnosed by the same server.
      const b = await baselineSnapshot(live!);
      const file = join(dir, 'baseline.netpath.json');
      writeFileSync(file, b.text);
      const snap = await conn.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { kind: 'snapshot', path: file }, request: crossNode });
      assert.deepEqual(r.result, snap.result);
      assert.equal(r.report, snap.report);
      tt.diagnostic(`live ${crossNode.src} -> ${crossNode.dst}:${crossNode.port}: ${r.result.verdict} in ${ms} ms, collected ${b.nodes.join('+')}, ${steps.length} progress notifications; result and report identical to the snapshot diagnosis (${r.report.length} chars)`);
    });

    await t.test('overrides: a live run honours the VS Code overrides (plugin, proxy mode, pod CIDRs, uplink) exactly as a snapshot run does', async (tt) => {
      kubelet.reset();
      const overrides = { networkPlugin: 'generic', proxyMode: 'iptables', podCIDRs: ['10.244.0.0/16'], nodeUplink: 'eth0' };
      const r = await conn.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { ...cluster, consent: true }, request: crossNode, overrides });
      assert.deepEqual(await collectorPods(), [], 'collector pods deleted after the run');
      const b = await baselineSnapshot(live!);
      const file = join(dir, 'baseline-overrides.netpath.json');
      writeFileSync(file, b.text);
      const snap = await conn.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { kind: 'snapshot', path: file }, request: crossNode, overrides });
      assert.deepEqual(r.result, snap.result, 'live and snapshot results differ under the same overrides');
      assert.equal(r.report, snap.report);
      // They took effect (before the fix, a live run ignored them): the plugin and the CIDRs say they came from the settings.
      const detected = r.result.clusterSuspicions.find((x) => x.check === 'plugin.detected')!;
      assert.match(detected.message, /network plugin generic/);
      assert.deepEqual(detected.evidence.map((e) => e.where), ['settings.networkPlugin', 'settings.clusterCIDRs']);
      const plain = await conn.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { kind: 'snapshot', path: file }, request: crossNode });
      assert.notDeepEqual(plain.result.clusterSuspicions, r.result.clusterSuspicions, 'the overrides change the findings');
      tt.diagnostic(`live == snapshot under overrides ${JSON.stringify(overrides)}: ${r.result.verdict}, ${r.report.length} chars`);
    });

    await t.test('listEndpoints and clusterInfo read the live objects, with how each setting was found', async (tt) => {
      const eps = await conn.sendRequest<ListEndpointsResult>('netpath/listEndpoints', { source: cluster });
      assert.ok(eps.pods.some((p) => p.namespace === 'default' && p.name === 'client' && p.node), JSON.stringify(eps.pods.map((p) => p.name)));
      assert.ok(eps.services.some((x) => x.name === 'web-remote'));
      assert.deepEqual(eps.nodes.map((n) => n.name).sort(), ['node1', 'node2']);
      const info = await conn.sendRequest<ClusterInfoResult>('netpath/clusterInfo', { source: cluster, overrides: { proxyMode: 'iptables' } });
      assert.equal(info.cluster?.context, 'lab');
      assert.equal(info.cluster?.server, `https://127.0.0.1:${PORTS.api}`);
      assert.deepEqual(info.cluster?.missingPermissions, []);
      assert.equal(info.counts.dumps, 0, 'clusterInfo creates no collector pod');
      const plugin = info.detection.find((d) => d.setting === 'networkPlugin')!;
      assert.equal(plugin.value, 'flannel');
      assert.ok(plugin.source.length > 0);
      assert.deepEqual(info.detection.find((d) => d.setting === 'proxyMode'), { setting: 'proxyMode', value: 'iptables', source: 'settings.proxyMode' });
      assert.deepEqual(info.overridden, ['proxyMode']);
      tt.diagnostic(`${eps.pods.length} pods, ${eps.services.length} services, ${eps.nodes.length} nodes; detected: ${info.detection.map((d) => `${d.setting}=${d.value} (${d.source})`).join('; ')}`);
    });

    await t.test('RBAC: the read-only viewer gets findings naming what is missing, no pods', async (tt) => {
      const r = await conn.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { ...cluster, kubeconfig: join(PORTS.cp, 'kubeconfig-viewer'), consent: true }, request: crossNode });
      const skipped = r.result.clusterSuspicions.find((x) => x.check === 'collector.skipped');
      assert.ok(skipped, r.result.clusterSuspicions.map((x) => x.check).join(', '));
      assert.match(skipped.message, /create pods in namespace netpath-system/);
      assert.deepEqual(await collectorPods(), []);
      tt.diagnostic(`viewer: verdict ${r.result.verdict}; "${skipped.message}"`);
    });

    await t.test('cancellation mid-collection: RequestCancelled and zero collector pods', async (tt) => {
      kubelet.ignore.add('node1');
      kubelet.ignore.add('node2');
      const cts = new CancellationTokenSource();
      let seen = 0;
      kubelet.onPod = () => {
        // cancel once both pods exist, i.e. truly mid-collection
        if (++seen === 2) cts.cancel();
      };
      try {
        const t0 = Date.now();
        const e = await errorOf(conn.sendRequest('netpath/diagnose', { source: { ...cluster, consent: true }, request: crossNode, workDoneToken: 'cancel-live', runId: 'cancel-live' }, cts.token));
        assert.equal(e.code, -32800, e.message);
        assert.deepEqual(await collectorPods(), [], 'no collector pod left once the cancelled request is answered');
        assert.ok(progressOf(s!, 'cancel-live').some((v) => /deleting collector pod/.test(v.message ?? '')));
        assert.equal(s!.received.filter((m) => m.method === 'textDocument/publishDiagnostics' && (m.params as { uri: string }).uri === 'netpath-report:/cancel-live.txt').length, 0);
        tt.diagnostic(`cancelled after ${seen} collector pods were created; answered in ${Date.now() - t0} ms; collector pods left: 0`);
      } finally {
        kubelet.onPod = undefined;
        kubelet.ignore.clear();
      }
      // the server goes on
      const again = await conn.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { ...cluster, consent: true }, request: crossNode });
      assert.equal(again.result.verdict, 'reachable');
    });

    await t.test('captureSnapshot writes a snapshot loadSnapshot accepts', async (tt) => {
      const { loadSnapshot } = await import('../../src/engine/snapshot/load');
      const output = join(dir, 'captured', 'lab.netpath.json');
      const r = await conn.sendRequest<CaptureSnapshotResult>('netpath/captureSnapshot', { source: { ...cluster, consent: true }, output, nodes: ['node1'], workDoneToken: 'cap' });
      assert.equal(r.path, output);
      assert.deepEqual(r.collected, ['node1']);
      assert.deepEqual(r.failed, []);
      const text = readFileSync(output, 'utf8');
      assert.equal(r.bytes, Buffer.byteLength(text));
      const snap = loadSnapshot(text);
      assert.deepEqual(Object.keys(snap.dumps), ['node1']);
      assert.ok(snap.objects.pods.some((p) => p.metadata.name === 'client'));
      assert.deepEqual(await collectorPods(), []);
      const e = await errorOf(conn.sendRequest('netpath/captureSnapshot', { source: { ...cluster, consent: true }, output, nodes: ['node7'] }));
      assert.equal(e.code, -32002);
      assert.match(e.message, /no node named node7/);
      tt.diagnostic(`captured ${r.collected.join(', ')} into ${r.bytes} bytes; loadSnapshot accepts it (${snap.objects.pods.length} pods)`);
    });

    await t.test('bad live input: clear errors, the server stays up', async () => {
      const cases: [unknown, number, RegExp][] = [
        [{ source: { ...cluster, context: 'nope' }, request: crossNode }, -32002, /context "nope" is not in/],
        [{ source: { ...cluster, kubeconfig: '/nonexistent/kubeconfig' }, request: crossNode }, -32002, /kubeconfig \/nonexistent\/kubeconfig does not exist/],
        [{ source: { ...cluster, consent: 'yes' }, request: crossNode }, -32602, /params\.source\.consent must be a boolean/],
        [{ source: { ...cluster, collector: { namespace: 'Bad_NS' } }, request: crossNode }, -32602, /params\.source\.collector\.namespace must be a namespace name/],
        [{ source: { ...cluster, consent: true }, request: { ...crossNode, src: 'default/nosuchpod' } }, -32001, /default\/nosuchpod/],
      ];
      for (const [params, code, re] of cases) {
        const e = await errorOf(conn.sendRequest('netpath/diagnose', params));
        assert.equal(e.code, code, e.message);
        assert.match(e.message, re);
      }
      assert.equal(s!.child.exitCode, null);
      await sleep(0);
    });
  } finally {
    const exit = await s?.dispose();
    if (exit && exit.code !== 0) t.diagnostic(`server exit ${JSON.stringify(exit)}: ${s!.stderr().slice(-2000)}`);
    await live?.stop();
  }
});
