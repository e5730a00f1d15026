// Live clusters end to end against the lab's real control plane (etcd + kube-apiserver +
// kube-controller-manager v1.20.2, on ports of its own so the lab test can keep its own): a lab
// topology in netns, its objects through the API, and a fake kubelet that runs netpath's collector
// pods for real — so `netpath diagnose --context lab` takes its real path (create pod → wait →
// read log → delete) and must give the same JSON as the snapshot built from the same objects
// and dumps. Then RBAC (pods-only user, read-only user, nobody), faults (pod never starts, API
// server stopped mid-run, cancellation) — each with zero collector pods left — and pagination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { COLLECTOR_NS as NS, baselineSnapshot, liveLabEnv, missingPrereq, sleep, startLiveLab, type LiveLab, type LiveLabPorts } from './live-lab';

// Own control plane: other ports and directory than the lab test's (and the server's live test's);
// etcd's peer port is its port + 10 (test/lab/k8s/env.sh), so 23970 would take server-live's 23980.
const PORTS: LiveLabPorts = { cp: join(homedir(), '.cache/netpath/cluster-test-cp'), etcd: 23965, api: 16623, kcm: 10437, prefix: 'npcl' };
const CP = PORTS.cp;
Object.assign(process.env, liveLabEnv(PORTS));

interface Run { code: number; stdout: string; stderr: string }

async function cli(args: string[]): Promise<Run> {
  const { commands } = await import('../../src/cli/commands');
  const { UsageError } = await import('../../src/cli/command');
  const path = args[0] === 'snapshot' ? args.slice(0, 2) : args.slice(0, 1);
  const cmd = commands.find((c) => c.path.join(' ') === path.join(' '))!;
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => { stdout += t; }, stderr: (t: string) => { stderr += t; } };
  try {
    return { code: await cmd.run(args.slice(path.length), io), stdout, stderr };
  } catch (e) {
    if (e instanceof UsageError) return { code: 2, stdout, stderr: stderr + e.message + '\n' };
    throw e;
  }
}

test('live clusters against the lab control plane', { timeout: 600_000 }, async (t) => {
  const why = missingPrereq();
  if (why) {
    if (process.env.CI) assert.fail(`cluster test prerequisites missing in CI: ${why}`);
    t.skip(why);
    return;
  }
  let live: LiveLab | undefined;
  try {
    live = await startLiveLab(PORTS, (m) => t.diagnostic(m));
    const { LAB_LABEL } = await import('../lab/cluster');
    const { admin, kubelet, dir, kubectl, collectorPods } = live;
    process.env.NETPATH_CONSENT_FILE = join(dir, 'consent.json'); // the run's own, never the user's
    const kc = live.kubeconfig;
    const base = ['--context', 'lab', '--kubeconfig', kc];

    await t.test('consent: the first run in a cluster creates nothing without --yes; --yes is remembered', async () => {
      const r = await cli(['diagnose', ...base, '--src', 'default/client', '--dst', 'default/web2', '--port', '8080']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /netpath has no consent to create collector pods in https:\/\/127\.0\.0\.1:16623 \(namespace netpath-system, image nicolaka\/netshoot:v0\.13@sha256:[0-9a-f]{64}\): it would create\nnamespace netpath-system .*privileged/);
      assert.ok(!(await admin.list('v1', 'Namespace')).some((n) => n.metadata!.name === NS), 'no namespace without consent');
      const ok = await cli(['snapshot', 'capture', ...base, '--yes', '--nodes', 'node1', '-o', join(dir, 'first.netpath.json')]);
      assert.equal(ok.code, 0, ok.stderr);
      const ns = (await admin.list('v1', 'Namespace')).find((n) => n.metadata!.name === NS)!;
      assert.equal(ns.metadata!.labels!['pod-security.kubernetes.io/enforce'], 'privileged');
      assert.match(ok.stderr, /consent remembered in .*consent\.json for https:\/\/127\.0\.0\.1:16623, namespace netpath-system, image nicolaka/);
      assert.deepEqual(await collectorPods(), []);
    });

    await t.test('snapshot capture --format-version 2 writes the lazily read format: it validates and diagnoses as the version 1 capture does', async (tt) => {
      const files: Record<string, string> = {};
      for (const fv of ['1', '2']) {
        kubelet.reset();
        files[fv] = join(dir, `capture-v${fv}.netpath.json`);
        const r = await cli(['snapshot', 'capture', ...base, '--nodes', 'node1,node2', '--format-version', fv, '-o', files[fv]]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(await collectorPods(), []);
      }
      assert.equal(JSON.parse(readFileSync(files['1'], 'utf8')).version, 1, 'the default stays DESIGN.md\'s version 1');
      assert.match(readFileSync(files['2'], 'utf8').slice(0, 80), /^\{"kind":"NetpathSnapshot","version":2,"headerBytes":"\d{10}"/);
      const v = await cli(['snapshot', 'validate', files['2']]);
      assert.equal(v.code, 0, v.stderr);
      assert.match(v.stdout, /valid snapshot \(version 2/);
      const cases: [string, string, string][] = [['default/client', 'default/web2', '8080'], ['default/client', 'svc/default/web-remote', '80'], ['node/node1', 'default/web2', '8080']];
      for (const [src, dst, port] of cases) {
        const [a, b] = await Promise.all(['1', '2'].map((fv) => cli(['diagnose', '--snapshot', files[fv], '--src', src, '--dst', dst, '--port', port, '--format', 'json'])));
        assert.equal(a.code, 0, a.stderr);
        assert.equal(b.stdout, a.stdout, `${src} -> ${dst}:${port}: the version 2 capture diagnoses differently`);
      }
      tt.diagnostic(`captured twice (version 1: ${readFileSync(files['1']).length} bytes, version 2: ${readFileSync(files['2']).length} bytes); ${cases.length}/${cases.length} diagnoses identical`);
    });

    // The same objects, read by the lab's own client, and the dumps the fake kubelet produced.
    const baseline = async (file: string) => {
      const b = await baselineSnapshot(live!);
      writeFileSync(file, b.text);
      return b.nodes;
    };

    await t.test('diagnose --context gives the same JSON as the snapshot of the same objects and dumps', async (tt) => {
      // a collector pod of a crashed run, past its own deadline, is removed at start; a finished
      // pod of a run still within its deadline (its log not read yet) is not
      for (const [name, staleAfter] of [['netpath-stale-node9', '0'], ['netpath-live-node9', '3600']]) {
        await admin.createObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'netpath', 'netpath.dev/run-id': name.split('-')[1] }, annotations: { 'netpath.dev/stale-after-seconds': staleAfter } },
          spec: { nodeName: 'node9', containers: [{ name: 'collector', image: 'x' }] } } as never);
        await admin.req('PATCH', `/api/v1/namespaces/${NS}/pods/${name}/status`, { status: { phase: 'Succeeded' } }, 'application/merge-patch+json');
      }
      const cases: [string, string, string][] = [
        ['default/client', 'default/web2', '8080'],
        ['default/client', 'svc/default/web-remote', '80'],
        ['default/client', 'default/web1', '8080'],
        ['node/node1', 'default/web2', '8080'],
      ];
      let agree = 0;
      for (const [src, dst, port] of cases) {
        kubelet!.reset();
        const t1 = Date.now();
        const live = await cli(['diagnose', ...base, '--src', src, '--dst', dst, '--port', port, '--format', 'json']);
        const ms = Date.now() - t1;
        assert.equal(live.code, 0, live.stderr);
        assert.deepEqual(await collectorPods(), ['netpath-live-node9'], 'collector pods deleted after the run; the other run\'s left alone');
        const file = join(dir, `baseline-${agree}.netpath.json`);
        const collected = await baseline(file);
        const snap = await cli(['diagnose', '--snapshot', file, '--src', src, '--dst', dst, '--port', port, '--format', 'json']);
        assert.equal(snap.code, 0, snap.stderr);
        assert.equal(live.stdout, snap.stdout, `${src} -> ${dst}:${port}: live and snapshot diagnoses differ`);
        const verdict = JSON.parse(live.stdout).verdict;
        assert.equal(verdict, 'reachable', `${src} -> ${dst}:${port} in the healthy lab`);
        assert.match(live.stderr, /creating collector pod netpath-system\/netpath-[0-9a-f]{8}-node[12]-[0-9a-f]{10}\n/);
        tt.diagnostic(`${src} -> ${dst}:${port}: ${verdict}, collected ${collected.join('+')} in ${ms} ms; live JSON == snapshot JSON (${live.stdout.length} bytes)`);
        agree++;
      }
      assert.match((await cli(['diagnose', ...base, '--src', 'default/client', '--dst', 'default/web1', '--port', '8080'])).stderr, /deleting collector pod/);
      tt.diagnostic(`${agree}/${cases.length} live diagnoses byte-identical to the snapshot-based ones; stale pod removed: ${!(await collectorPods()).includes('netpath-stale-node9')}`);
      assert.deepEqual(await collectorPods(), ['netpath-live-node9']);
      await admin.deleteObject('v1', 'Pod', NS, 'netpath-live-node9');
    });

    await t.test('what-if on the live cluster: a Service overlay is judged at the API level and the report says what the datapath could not confirm', async (tt) => {
      kubelet.reset();
      const manifest = join(dir, 'web-new.yaml');
      writeFileSync(manifest, [
        'apiVersion: v1', 'kind: Service', 'metadata: {name: web-new, namespace: default}',
        'spec: {type: ClusterIP, clusterIP: 10.96.0.99, selector: {app: web2}, ports: [{port: 80, targetPort: 8080, protocol: TCP}]}', '',
      ].join('\n'));
      const r = await cli(['diagnose', ...base, '--yes', '--with', manifest, '--src', 'default/client', '--dst', 'svc/default/web-new', '--port', '80', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await collectorPods(), [], 'collector pods deleted after the what-if run');
      const out = JSON.parse(r.stdout);
      const changes = out.whatIf.changes.map((c: { kind: string; name: string; action: string }) => [c.kind, c.name, c.action]);
      assert.deepEqual(changes.filter((c: string[]) => c[0] === 'Service'), [['Service', 'web-new', 'created']]);
      assert.ok(changes.some((c: string[]) => c[0] === 'EndpointSlice' && c[2] === 'derived'), `its EndpointSlice is derived as the controller would: ${JSON.stringify(changes)}`);
      assert.equal(out.whatIf.baseVerdict, 'not-applicable', 'the Service does not exist without the overlay');
      const notProgrammed = out.clusterSuspicions.find((x: { check: string }) => x.check === 'overlay.not-programmed');
      assert.ok(notProgrammed, `the report says kube-proxy has not programmed the Service: ${JSON.stringify(out.clusterSuspicions.map((x: { check: string }) => x.check))}`);
      assert.notEqual(out.verdict, 'reachable', 'a Service kube-proxy never saw is not called reachable');
      tt.diagnostic(`live what-if: svc/default/web-new ${out.verdict}; ${notProgrammed.message}`);
    });

    // RBAC: service accounts (the token controller makes their tokens) with kubectl-made bindings.
    const saKubeconfig = async (name: string): Promise<string> => {
      kubectl('create', 'serviceaccount', name, '-n', 'default');
      let token = '';
      for (let i = 0; !token; i++) {
        if (i > 100) throw new Error(`no token for service account ${name}`);
        const out = kubectl('get', 'secrets', '-n', 'default', '-o', 'json');
        const s = (JSON.parse(out).items as { type: string; metadata: { annotations?: Record<string, string> }; data?: { token?: string } }[])
          .find((x) => x.type === 'kubernetes.io/service-account-token' && x.metadata.annotations?.['kubernetes.io/service-account.name'] === name);
        if (s?.data?.token) token = Buffer.from(s.data.token, 'base64').toString();
        else await sleep(200);
      }
      const file = join(dir, `kubeconfig-${name}`);
      const orig = readFileSync(kc, 'utf8');
      writeFileSync(file, orig.replace(/users: \[.*\]/, `users: [{name: ${name}, user: {token: "${token}"}}]`).replace(/user: admin/, `user: ${name}`));
      return file;
    };

    await t.test('RBAC: a user that may only list pods gets the missing permissions named and API-level results', async (tt) => {
      kubectl('create', 'clusterrole', 'netpath-test-podlister', '--verb=list', '--resource=pods');
      kubectl('create', 'clusterrolebinding', 'netpath-test-podlister', '--clusterrole=netpath-test-podlister', '--serviceaccount=default:podlister');
      const file = await saKubeconfig('podlister');
      const r = await cli(['diagnose', '--context', 'lab', '--kubeconfig', file, '--yes', '--src', 'default/client', '--dst', 'default/web2', '--port', '8080', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      const msgs = out.clusterSuspicions.map((s: { check: string; message: string }) => `${s.check}: ${s.message}`);
      for (const what of ['list nodes (cluster-wide)', 'list services (cluster-wide)', 'list networkpolicies.networking.k8s.io (cluster-wide)', 'list endpointslices.discovery.k8s.io (cluster-wide)']) {
        assert.ok(msgs.some((m: string) => m.startsWith('cluster.permission') && m.includes(what)), `names ${what}: ${msgs.join(' | ')}`);
      }
      assert.ok(msgs.some((m: string) => m.startsWith('collector.skipped') && m.includes('create pods in namespace netpath-system')), msgs.join(' | '));
      assert.equal(out.verdict, 'unknown');
      assert.ok(out.nodes.some((n: { id: string }) => n.id === 'default/client'));
      assert.match(r.stderr, /missing permissions: .*list services/);
      assert.deepEqual(await collectorPods(), []);
      tt.diagnostic(`pods-only user: ${out.clusterSuspicions.length} cluster findings, e.g. "${msgs.find((m: string) => m.startsWith('collector.skipped'))}"`);
    });

    await t.test('RBAC: the read-only viewer gets API-level checks (NetworkPolicy verdict) with collection skipped', async (tt) => {
      // web1 -> web2:8080 is denied by web-allow-client (only app=client pods and the node network)
      const r = await cli(['diagnose', '--context', 'lab', '--kubeconfig', join(CP, 'kubeconfig-viewer'), '--src', 'default/web1', '--dst', 'default/web2', '--port', '8080', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      const checks = out.clusterSuspicions.map((s: { check: string }) => s.check);
      assert.ok(checks.includes('collector.skipped'), checks.join(', '));
      const deny = out.clusterSuspicions.find((s: { check: string }) => /^policy\..*deny/.test(s.check));
      assert.ok(deny, checks.join(', '));
      assert.match(deny.message, /web-allow-client/);
      assert.equal(out.verdict, 'unreachable');
      assert.deepEqual(await collectorPods(), []);
      tt.diagnostic(`viewer: verdict ${out.verdict}, cluster checks ${[...new Set(checks)].sort().join(', ')}`);
    });

    await t.test('RBAC: no permissions at all is a clear error, exit 2', async () => {
      const file = await saKubeconfig('nobody');
      const r = await cli(['diagnose', '--context', 'lab', '--kubeconfig', file, '--yes', '--src', 'default/client', '--dst', 'default/web2', '--port', '8080']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /no permission to read anything netpath needs in context lab: missing list nodes \(cluster-wide\), list pods \(cluster-wide\)/);
    });

    await t.test('fault: a collector pod that never starts ends in a timeout naming its events', async (tt) => {
      kubelet!.ignore.add('node2');
      try {
        const r = await cli(['diagnose', ...base, '--timeout', '3', '--src', 'default/client', '--dst', 'default/web2', '--port', '8080', '--format', 'json']);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout);
        const failed = out.clusterSuspicions.find((s: { check: string }) => s.check === 'collector.failed');
        assert.ok(failed, JSON.stringify(out.clusterSuspicions));
        assert.match(failed.message, /node node2: collector pod netpath-system\/netpath-[0-9a-f]+-node2-[0-9a-f]{10} did not finish within 3 s \(phase Pending, container waiting: ErrImagePull/);
        assert.match(failed.message, /events:\n {2}Warning Failed: Failed to pull image "nicolaka\/netshoot:v0\.13@sha256:[0-9a-f]{64}"/);
        assert.equal(out.verdict, 'unknown');
        assert.deepEqual(await collectorPods(), []);
        tt.diagnostic(`timeout message: ${failed.message.split('\n')[0]}`);
      } finally {
        kubelet!.ignore.delete('node2');
      }
    });

    await t.test('fault: cancellation during collection deletes the pods', async () => {
      const { diagnoseLive } = await import('../../src/cluster/live');
      const { CancelledError } = await import('../../src/cluster/errors');
      kubelet!.ignore.add('node1');
      kubelet!.ignore.add('node2');
      const ac = new AbortController();
      kubelet!.onPod = () => ac.abort();
      try {
        await assert.rejects(diagnoseLive({ context: 'lab', kubeconfig: kc, consent: true, signal: ac.signal, timeoutMs: 60_000 }, { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' }),
          (e: Error) => e instanceof CancelledError && /cancelled/.test(e.message));
        assert.deepEqual(await collectorPods(), []);
      } finally {
        kubelet!.onPod = undefined;
        kubelet!.ignore.clear();
      }
    });

    await t.test('fault: API server stopped mid-run: clear message, exit 2 (the cluster cannot be reached), pods deleted once it is back', async (tt) => {
      const pidFile = join(CP, 'apiserver.pid');
      kubelet!.ignore.add('node1');
      kubelet!.ignore.add('node2');
      let restarted: Promise<void> | undefined;
      kubelet!.onPod = () => {
        if (restarted) return;
        restarted = (async () => {
          const pid = Number(readFileSync(pidFile, 'utf8'));
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
          process.kill(pid, 'SIGTERM');
          for (let i = 0; i < 100; i++) { try { process.kill(pid, 0); } catch { break; } await sleep(100); }
          await sleep(2_000);
          const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore' });
          child.unref();
          writeFileSync(pidFile, String(child.pid));
        })();
      };
      try {
        const r = await cli(['diagnose', ...base, '--src', 'default/client', '--dst', 'default/web2', '--port', '8080']);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /cannot reach the API server https:\/\/127\.0\.0\.1:16623 \(ECONNREFUSED\)/);
        await restarted;
        let left: string[] = [];
        for (let i = 0; i < 100; i++) { try { left = await collectorPods(); break; } catch { await sleep(300); } }
        assert.deepEqual(left, []);
        tt.diagnostic(`stderr: ${r.stderr.trim().split('\n').pop()}`);
      } finally {
        kubelet!.onPod = undefined;
        kubelet!.ignore.clear();
      }
    });

    await t.test('pagination: 2,500 pods load completely', async (tt) => {
      const { ApiClient } = await import('../../src/cluster/api');
      const { loadKubeconfig } = await import('../../src/cluster/kubeconfig');
      const { loadClusterObjects } = await import('../../src/cluster/loader');
      const bulk = `${PORTS.prefix}-bulk`;
      await admin.createObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: bulk, labels: { [LAB_LABEL]: PORTS.prefix } } } as never);
      const N = 2500;
      const tc = Date.now();
      let next = 0;
      await Promise.all(Array.from({ length: 12 }, async () => {
        for (let i = next++; i < N; i = next++) {
          await admin.createObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}`, namespace: bulk, labels: { app: 'bulk' } },
            spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'x' }] } } as never);
        }
      }));
      const created = Date.now() - tc;
      const api = new ApiClient(loadKubeconfig({ kubeconfig: kc, context: 'lab' }).kc);
      const tl = Date.now();
      const loaded = await loadClusterObjects(api, undefined, { pageSize: 500 });
      const names = new Set(loaded.objects.pods.filter((p) => p.metadata.namespace === bulk).map((p) => p.metadata.name));
      assert.equal(names.size, N);
      for (let i = 0; i < N; i++) assert.ok(names.has(`p${i}`), `p${i}`);
      assert.ok(loaded.counts.pods >= N + 5);
      tt.diagnostic(`created ${N} pods in ${created} ms; loaded ${loaded.counts.pods} pods (${names.size} bulk) in ${loaded.pages} pages of 500 in ${Date.now() - tl} ms`);
      await admin.deleteObject('v1', 'Namespace', undefined, bulk);
    });
  } finally {
    try { live?.kubectl('delete', 'clusterrolebinding', 'netpath-test-podlister', '--ignore-not-found'); live?.kubectl('delete', 'clusterrole', 'netpath-test-podlister', '--ignore-not-found'); } catch { /* control plane gone */ }
    await live?.stop();
  }
});
