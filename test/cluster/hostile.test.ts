// Hostile clusters against the lab's real control plane (its own apiserver, ports and netns
// prefix, so it can run next to test/cluster/live.test.ts): consent when the collector namespace
// already exists, two concurrent runs on the same nodes, node names that map to the same DNS-safe
// form, an API answer over the byte cap, and a gzip bomb in a collector log — each ending with a
// clear message and zero collector pods left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { COLLECTOR_NS as NS, liveLabEnv, missingPrereq, sleep, startLiveLab, type LiveLab, type LiveLabPorts } from './live-lab';

// etcd's peer port is its port + 10 (test/lab/k8s/env.sh): clear of the other files' ports too.
const PORTS: LiveLabPorts = { cp: join(homedir(), '.cache/netpath/cluster-hostile-cp'), etcd: 23995, api: 16643, kcm: 10457, prefix: 'nphs' };
Object.assign(process.env, liveLabEnv(PORTS));

interface Run { code: number; stdout: string; stderr: string }

async function cli(args: string[]): Promise<Run> {
  const { main } = await import('../../src/cli/main');
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

test('hostile clusters against the lab control plane', { timeout: 600_000 }, async (t) => {
  const why = missingPrereq();
  if (why) {
    if (process.env.CI) assert.fail(`cluster test prerequisites missing in CI: ${why}`);
    t.skip(why);
    return;
  }
  let live: LiveLab | undefined;
  try {
    live = await startLiveLab(PORTS, (m) => t.diagnostic(m));
    const { admin, kubelet, dir, collectorPods } = live;
    const consentFile = join(dir, 'consent.json');
    process.env.NETPATH_CONSENT_FILE = consentFile; // never the user's own
    const base = ['--context', 'lab', '--kubeconfig', live.kubeconfig];
    const req = ['--src', 'default/client', '--dst', 'default/web2', '--port', '8080'];
    /** Every collector pod a run created (the fake kubelet sees each). */
    const created: string[] = [];
    kubelet.onPod = (name) => created.push(name);

    await t.test('consent with an existing namespace: nothing created without --yes; remembered per server, namespace and pinned image', async (tt) => {
      await admin.createObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } } as never);
      const refused = await cli(['diagnose', ...base, ...req]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /netpath diagnose: netpath has no consent to create collector pods in https:\/\/127\.0\.0\.1:16643 \(namespace netpath-system, image nicolaka\/netshoot:v0\.13@sha256:[0-9a-f]{64}\): it would create\n/);
      assert.doesNotMatch(refused.stderr, /creating collector pod/);
      await sleep(500); // a kubelet tick
      assert.deepEqual(created, [], 'no pod was created');

      const yes = await cli(['diagnose', ...base, '--yes', ...req, '--format', 'json']);
      assert.equal(yes.code, 0, yes.stderr);
      assert.equal(JSON.parse(yes.stdout).verdict, 'reachable');
      const file = JSON.parse(readFileSync(consentFile, 'utf8'));
      assert.deepEqual(Object.values(file.agreements).map((a) => { const { at: _, ...rest } = a as Record<string, unknown>; return rest; }),
        [{ server: 'https://127.0.0.1:16643', namespace: NS, image: (await import('../../src/cluster/collector-pods')).DEFAULT_COLLECTOR_IMAGE, context: 'lab' }]);

      const again = await cli(['diagnose', ...base, ...req]);
      assert.equal(again.code, 0, `remembered: ${again.stderr}`);

      const other = `registry.example/netshoot@sha256:${'2'.repeat(64)}`;
      const changed = await cli(['diagnose', ...base, '--collector-image', other, ...req]);
      assert.equal(changed.code, 2, changed.stderr);
      assert.match(changed.stderr, /the collector image changed since you agreed to run in https:\/\/127\.0\.0\.1:16643 \(namespace netpath-system\): nicolaka\/netshoot:v0\.13@sha256:[0-9a-f]{64} → registry\.example\/netshoot@sha256:2{64}: it would create/);

      const tag = await cli(['diagnose', ...base, '--collector-image', 'nicolaka/netshoot:v0.13', '--yes', ...req]);
      assert.equal(tag.code, 0, tag.stderr);
      const tagAgain = await cli(['diagnose', ...base, '--collector-image', 'nicolaka/netshoot:v0.13', ...req]);
      assert.equal(tagAgain.code, 2);
      assert.match(tagAgain.stderr, /the collector image nicolaka\/netshoot:v0\.13 is not pinned by digest \(IMAGE@sha256:…\), so consent for it is never remembered/);
      assert.deepEqual(await collectorPods(), []);
      tt.diagnostic(`without --yes: ${refused.stderr.split('\n').find((l) => l.startsWith('netpath diagnose:'))}`);
      tt.diagnostic(`${created.length} collector pods created over 3 consented runs, 0 over 3 refused ones`);
    });

    await t.test('two concurrent runs on the same nodes: neither deletes the other\'s pods, both collect', async (tt) => {
      const { diagnoseLive } = await import('../../src/cluster/live');
      const { ConsentFile } = await import('../../src/cluster/consent');
      kubelet.reset();
      // Run A polls slowly: its pods finish at once but their logs are read 30 s later — the
      // window in which a second run's start-up clean-up used to delete them (run B takes a few
      // seconds, more on a loaded machine: the window is wide so that B always ends inside it).
      const a = diagnoseLive({ context: 'lab', kubeconfig: live!.kubeconfig, consentRecords: new ConsentFile(consentFile), runId: 'runa0001', pollMs: 30_000 },
        { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' });
      for (let i = 0; kubelet.ran.filter((r) => r.runId === 'runa0001').length < 2; i++) {
        if (i > 200) throw new Error('run A\'s pods did not finish within 20 s');
        await sleep(100);
      }
      const aPods = kubelet.ran.filter((r) => r.runId === 'runa0001').map((r) => r.pod).sort();
      const b = await cli(['diagnose', ...base, ...req, '--format', 'json']);
      const stillThere = await collectorPods();
      const ra = await a;
      assert.equal(b.code, 0, b.stderr);
      assert.doesNotMatch(b.stderr, /left by earlier runs/);
      assert.deepEqual(aPods.filter((p) => stillThere.includes(p)), aPods, 'run A\'s finished pods are still there after run B');
      assert.deepEqual(ra.collections.map((c) => [c.node, c.error?.message]).sort(), [['node1', undefined], ['node2', undefined]]);
      assert.equal(ra.result.verdict, 'reachable');
      assert.equal(JSON.parse(b.stdout).verdict, 'reachable');
      const bPods = kubelet.ran.filter((r) => r.runId !== 'runa0001').map((r) => r.pod);
      assert.equal(new Set([...aPods, ...bPods]).size, 4, 'four distinct pods on two nodes');
      assert.deepEqual(await collectorPods(), []);
      tt.diagnostic(`A: ${aPods.join(', ')}; B: ${bPods.join(', ')}; both reachable, 0 pods left`);
    });

    await t.test('colliding node names: ip-10-0-0-1.ec2.internal and ip-10-0-0-1-ec2-internal each get their own pod', async (tt) => {
      const names = ['ip-10-0-0-1.ec2.internal', 'ip-10-0-0-1-ec2-internal'];
      const node1 = live!.lab.topo.nodes[0];
      const k = { hostPid: live!.lab.holders.get(node1.netns)!, pids: [] };
      try {
        for (const name of names) {
          await admin.createObject({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': name } } } as never);
          await kubelet.addNode(name, k);
        }
        kubelet.reset();
        const out = join(dir, 'collide.netpath.json');
        const r = await cli(['snapshot', 'capture', ...base, '--nodes', names.join(','), '-o', out]);
        assert.equal(r.code, 0, r.stderr);
        const snap = JSON.parse(readFileSync(out, 'utf8'));
        assert.deepEqual(Object.keys(snap.dumps).sort(), [...names].sort());
        const pods = kubelet.ran.map((x) => x.pod);
        assert.equal(new Set(pods).size, 2, pods.join(', '));
        assert.doesNotMatch(r.stderr, /409|already exists/);
        assert.deepEqual(await collectorPods(), []);
        tt.diagnostic(`pods: ${pods.join(', ')}; dumps for ${Object.keys(snap.dumps).join(', ')}`);
      } finally {
        for (const name of names) await admin.deleteObject('v1', 'Node', undefined, name).catch(() => undefined);
      }
    });

    await t.test('an API answer over --max-response-bytes: exit 2 naming the limit, no pod created', async (tt) => {
      await admin.createObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'netpath-big', namespace: 'kube-system' }, data: { blob: 'x'.repeat(900 * 1024) } } as never);
      try {
        const before = created.length;
        const r = await cli(['diagnose', ...base, '--max-response-bytes', '512K', ...req]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /netpath diagnose: GET \/api\/v1\/namespaces\/kube-system\/configmaps\?limit=1(&continue=\S+)?: the answer from https:\/\/127\.0\.0\.1:16643 is larger than the limit maxResponseBytes = 512 KiB \(raise it with --max-response-bytes N, in VS Code the setting netpath\.limits\.maxResponseBytes\); nothing more was read\n$/);
        assert.equal(created.length, before);
        assert.deepEqual(await collectorPods(), []);
        const ok = await cli(['diagnose', ...base, ...req]);
        assert.equal(ok.code, 0, `the default limit reads it: ${ok.stderr}`);
        tt.diagnostic(r.stderr.trim().split('\n').pop()!);
      } finally {
        await admin.deleteObject('v1', 'ConfigMap', 'kube-system', 'netpath-big');
      }
    });

    await t.test('a gzip bomb in a collector log: the node is not collected, the limit is named, the pod is gone', async (tt) => {
      // 21 gzip members of 64 MiB of zeros: 1.3 GiB from a log of under 2 MiB
      const member = gzipSync(Buffer.alloc(64 * 1024 * 1024));
      const log = Buffer.concat([Buffer.from('netpath-collector-gzip 1\n'), Buffer.from(Buffer.concat(Array(21).fill(member)).toString('base64')), Buffer.from('\n')]);
      kubelet.logFor.set('node2', log);
      try {
        const r = await cli(['diagnose', ...base, ...req, '--format', 'json']);
        assert.equal(r.code, 0, r.stderr);
        const out = JSON.parse(r.stdout);
        const failed = out.clusterSuspicions.find((s: { check: string }) => s.check === 'collector.failed');
        assert.ok(failed, JSON.stringify(out.clusterSuspicions));
        assert.match(failed.message, /^node node2: the collector's log \(\d+(\.\d)? MiB\) inflates to more than the limit maxDumpBytes = 256 MiB \(raise it with --max-dump-bytes N, in VS Code the setting netpath\.limits\.maxDumpBytes\); it was not read further$/);
        assert.equal(out.verdict, 'unknown');
        assert.deepEqual(await collectorPods(), []);
        tt.diagnostic(`${log.length} byte log: ${failed.message}; rss ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MiB`);
      } finally {
        kubelet.logFor.clear();
      }
    });
  } finally {
    if (live) live.kubelet.onPod = undefined;
    await live?.stop();
  }
});
