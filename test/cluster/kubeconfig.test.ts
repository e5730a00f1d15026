// Kubeconfig loading (explicit file, multi-file KUBECONFIG, context choice, clear errors) and the
// collector pod spec (DESIGN "Collector pod") — no cluster needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { loadKubeconfig } from '../../src/cluster/kubeconfig';
import { ClusterInputError } from '../../src/cluster/errors';
import { ApiClient } from '../../src/cluster/api';
import { CollectorManager, DEFAULT_COLLECTOR_IMAGE } from '../../src/cluster/collector-pods';

const cfg = (cluster: string, server: string, context: string, current?: string) => `apiVersion: v1
kind: Config
clusters: [{name: ${cluster}, cluster: {server: "${server}"}}]
users: [{name: u-${cluster}, user: {token: "t-${cluster}"}}]
contexts: [{name: ${context}, context: {cluster: ${cluster}, user: u-${cluster}}}]
${current ? `current-context: ${current}` : ''}
`;

test('kubeconfig: explicit file, multi-file KUBECONFIG, context choice and errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-kc-'));
  const saved = process.env.KUBECONFIG;
  try {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, cfg('alpha', 'https://10.0.0.1:6443', 'ctx-a', 'ctx-a'));
    writeFileSync(b, cfg('beta', 'https://10.0.0.2:6443', 'ctx-b'));
    const one = loadKubeconfig({ kubeconfig: a });
    assert.equal(one.context, 'ctx-a');
    assert.equal(one.server, 'https://10.0.0.1:6443');
    process.env.KUBECONFIG = [a, join(dir, 'missing'), b].join(delimiter);
    const merged = loadKubeconfig({ context: 'ctx-b' });
    assert.equal(merged.server, 'https://10.0.0.2:6443');
    assert.equal(loadKubeconfig({}).context, 'ctx-a', 'current-context of the first file');
    assert.throws(() => loadKubeconfig({ context: 'nope' }), (e: Error) => e instanceof ClusterInputError && /context "nope" is not in KUBECONFIG=.*\(contexts: ctx-a, ctx-b\)/.test(e.message));
    process.env.KUBECONFIG = join(dir, 'missing');
    assert.throws(() => loadKubeconfig({}), /none of the KUBECONFIG files exist/);
    assert.throws(() => loadKubeconfig({ kubeconfig: join(dir, 'nofile') }), /kubeconfig .*nofile does not exist/);
    writeFileSync(join(dir, 'bad'), 'clusters: [');
    assert.throws(() => loadKubeconfig({ kubeconfig: join(dir, 'bad') }), (e: Error) => e instanceof ClusterInputError && /cannot load kubeconfig/.test(e.message));
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collector pod spec: privileged, host namespaces, pinned, tolerant, self-destructing, script as command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-kc-'));
  try {
    writeFileSync(join(dir, 'a'), cfg('alpha', 'https://10.0.0.1:6443', 'ctx-a', 'ctx-a'));
    const api = new ApiClient(loadKubeconfig({ kubeconfig: join(dir, 'a') }).kc);
    const m = new CollectorManager(api, { namespace: 'netpath-system', image: DEFAULT_COLLECTOR_IMAGE, timeoutMs: 60_000, consent: false }, { runId: 'abcd1234' });
    const pod = m.podSpec('ip-10-0-0-1.eu-west-1.compute.internal') as { metadata: { name: string; labels: Record<string, string> }; spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
    assert.ok(pod.metadata.name.length <= 63 && pod.metadata.name.startsWith('netpath-abcd1234-ip-10-0-0-1'), pod.metadata.name);
    assert.equal(pod.metadata.labels['app.kubernetes.io/managed-by'], 'netpath');
    assert.equal(pod.metadata.labels['netpath.dev/run-id'], 'abcd1234');
    const s = pod.spec;
    assert.equal(s.nodeName, 'ip-10-0-0-1.eu-west-1.compute.internal');
    assert.equal(s.hostNetwork, true);
    assert.equal(s.hostPID, true);
    assert.equal(s.restartPolicy, 'Never');
    assert.equal(s.activeDeadlineSeconds, 120);
    assert.deepEqual(s.tolerations, [{ operator: 'Exists' }]);
    const c = s.containers[0] as { command: string[]; securityContext: { privileged: boolean }; image: string };
    assert.equal(c.securityContext.privileged, true);
    assert.equal(c.image, DEFAULT_COLLECTOR_IMAGE);
    assert.match(c.image, /^nicolaka\/netshoot:v0\.13@sha256:[0-9a-f]{64}$/, 'pinned by digest');
    assert.deepEqual([c.command[0], c.command[1], ...c.command.slice(3)], ['sh', '-c', 'netpath-collector', '--gzip']);
    assert.match(c.command[2], /^# netpath collector/);
    assert.match(m.describe(), /pod-security.kubernetes.io\/enforce=privileged/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
