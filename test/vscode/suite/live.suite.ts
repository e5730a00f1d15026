/// <reference types="mocha" />
// Live-cluster parts of the extension that need no cluster: the consent dialog (a stubbed answer,
// remembered per cluster), where the kubeconfig and context come from (a stub of the Kubernetes
// extension's configuration.v1_1 API), the source picker offering the current context, and the
// extension bundle staying free of engine and client-node code (the server does that work).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NetpathApi } from '../../../src/extension/main';
import type { PickerShown } from '../../../src/extension/ctx';
import { ClusterTracker, clusterSpec, locateCluster, type KubeConfiguration } from '../../../src/extension/cluster';
import { agreeLabel, ConsentStore, obtainConsent, type Ask } from '../../../src/extension/consent';
import type { ConsentDetails } from '../../../src/shared/protocol';

class MemoryMemento implements vscode.Memento {
  private readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return (this.values.has(key) ? this.values.get(key) : fallback) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, JSON.parse(JSON.stringify(value)));
  }
}

// As the server sends it (CollectorManager.consentDetails), for a cluster that has never seen netpath.
const details: ConsentDetails = {
  context: 'kind-prod',
  server: 'https://10.0.0.1:6443',
  namespace: 'netpath-system',
  namespaceLabels: { 'app.kubernetes.io/managed-by': 'netpath', 'pod-security.kubernetes.io/enforce': 'privileged' },
  image: 'nicolaka/netshoot:v0.13@sha256:a20c2531bf35436ed3766cd6cfe89d352b050ccc4d7005ce6400adf97503da1b',
  imagePinned: true,
  pod: 'one pod per node to examine (netpath-system/netpath-<run>-<node>, image nicolaka/netshoot:v0.13, restartPolicy Never, activeDeadlineSeconds 180)',
  privileges: ['privileged container (reads iptables …)', 'hostNetwork: the node\'s own network namespace', 'hostPID: enters each pod\'s network namespace with nsenter', 'tolerates every taint'],
  permissions: ['create namespaces (cluster-wide, first run only)', 'create pods in namespace netpath-system'],
  activeDeadlineSeconds: 180,
};

/** A stub dialog: records what it was asked and answers as told. */
function stubAsk(answer: string | undefined): { ask: Ask; asked: { message: string; options: vscode.MessageOptions; items: string[] }[] } {
  const asked: { message: string; options: vscode.MessageOptions; items: string[] }[] = [];
  return { asked, ask: async (message, options, ...items) => (asked.push({ message, options, items }), answer) };
}

function stubConfiguration(o: { path: string; context?: string; wsl?: boolean; withGetter?: boolean }): KubeConfiguration & { fireContext(c: string): void; firePath(): void } {
  const ctxChanged = new vscode.EventEmitter<string | null>();
  const pathChanged = new vscode.EventEmitter<unknown>();
  return {
    getKubeconfigPath: () => (o.wsl ? { pathType: 'wsl', wslPath: o.path } : { pathType: 'host', hostPath: o.path }),
    ...(o.withGetter ? { getCurrentContext: async () => o.context } : {}),
    onDidChangeContext: ctxChanged.event,
    onDidChangeKubeconfigPath: pathChanged.event,
    fireContext: (c) => ctxChanged.fire(c),
    firePath: () => pathChanged.fire({ pathType: 'host', hostPath: o.path }),
  };
}

suite('Network Path on live clusters (no cluster needed)', () => {
  let api: NetpathApi;
  let root: string;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<NetpathApi>('netpath.netpath')!;
    api = await ext.activate();
    root = ext.extensionPath;
  });

  test('consent: a modal dialog lists what is created and the privileges; "no" creates nothing and is asked again', async () => {
    const store = new ConsentStore(new MemoryMemento());
    const no = stubAsk(undefined);
    assert.equal(await obtainConsent(details, store, no.ask), false);
    assert.equal(no.asked.length, 1);
    const q = no.asked[0];
    assert.equal(q.options.modal, true);
    assert.deepEqual(q.items, [agreeLabel]);
    assert.match(q.message, /kind-prod \(https:\/\/10\.0\.0\.1:6443\)/);
    for (const what of ['Namespace: netpath-system', 'pod-security.kubernetes.io/enforce=privileged', 'privileged container', 'hostPID', 'hostNetwork', 'tolerates every taint', 'create pods in namespace netpath-system']) {
      assert.ok(q.options.detail!.includes(what), `the dialog names ${what}:\n${q.options.detail}`);
    }
    assert.equal(store.has(details), false, 'a refusal is not remembered');
    const again = stubAsk(undefined);
    assert.equal(await obtainConsent(details, store, again.ask), false);
    assert.equal(again.asked.length, 1, 'asked again after a refusal');
  });

  test('consent: "Create and Run" is remembered per cluster, namespace and image; others are asked, and a tag-only image every time', async () => {
    const memento = new MemoryMemento();
    const store = new ConsentStore(memento);
    const yes = stubAsk(agreeLabel);
    assert.equal(await obtainConsent(details, store, yes.ask), true);
    const later = stubAsk(undefined);
    assert.equal(await obtainConsent(details, new ConsentStore(memento), later.ask), true, 'remembered across stores on the same state');
    assert.equal(later.asked.length, 0, 'not asked again for the same cluster');
    const other = stubAsk(undefined);
    assert.equal(await obtainConsent({ ...details, server: 'https://10.9.9.9:6443', context: 'kind-dev' }, store, other.ask), false);
    assert.equal(other.asked.length, 1, 'another cluster is asked');
    const otherNs = stubAsk(undefined);
    assert.equal(await obtainConsent({ ...details, namespace: 'netpath-debug' }, store, otherNs.ask), false);
    assert.equal(otherNs.asked.length, 1, 'another collector namespace is asked');
    const otherImage = stubAsk(undefined);
    assert.equal(await obtainConsent({ ...details, image: 'example.org/netshoot@sha256:00' }, store, otherImage.ask), false);
    assert.equal(otherImage.asked.length, 1, 'a changed image is asked again');
    const tagOnly = { ...details, image: 'nicolaka/netshoot:v0.13', imagePinned: false };
    const first = stubAsk(agreeLabel);
    assert.equal(await obtainConsent(tagOnly, store, first.ask), true);
    assert.match(first.asked[0].options.detail!, /not pinned by digest: your answer is not remembered/);
    const second = stubAsk(undefined);
    assert.equal(await obtainConsent(tagOnly, store, second.ask), false);
    assert.equal(second.asked.length, 1, 'a tag-only image is asked every time');
  });

  test('kubeconfig and context: the Kubernetes extension\'s configuration.v1_1, the setting, or kubectl\'s default', async () => {
    // setting wins, with its own current-context
    assert.deepEqual(await locateCluster('/etc/k/custom.yaml', stubConfiguration({ path: '/home/u/.kube/config', context: 'kind', withGetter: true })), { kubeconfig: '/etc/k/custom.yaml', from: 'setting netpath.kubeconfig' });
    // the Kubernetes extension's path and context (getCurrentContext when the API has it)
    assert.deepEqual(await locateCluster('', stubConfiguration({ path: '/home/u/.kube/config', context: 'kind-prod', withGetter: true })), { kubeconfig: '/home/u/.kube/config', context: 'kind-prod', from: 'the Kubernetes extension' });
    // without getCurrentContext: the last onDidChangeContext value, else the file's current-context
    assert.deepEqual(await locateCluster('', stubConfiguration({ path: '/home/u/.kube/config' }), 'kind-dev'), { kubeconfig: '/home/u/.kube/config', context: 'kind-dev', from: 'the Kubernetes extension' });
    assert.deepEqual(await locateCluster('', stubConfiguration({ path: '/home/u/.kube/config' })), { kubeconfig: '/home/u/.kube/config', context: undefined, from: 'the Kubernetes extension' });
    // a WSL path cannot be read from here: kubectl's default, saying why
    const wsl = await locateCluster('', stubConfiguration({ path: '/mnt/c/k', wsl: true }));
    assert.equal(wsl.kubeconfig, undefined);
    assert.match(wsl.from, /WSL: \/mnt\/c\/k/);
    // no Kubernetes extension
    assert.deepEqual(await locateCluster('', undefined), { from: 'KUBECONFIG or ~/.kube/config' });
    assert.deepEqual(clusterSpec({ kubeconfig: '/k', context: 'c', from: 'x' }), { kind: 'cluster', kubeconfig: '/k', context: 'c' });
  });

  test('the tracker follows the Kubernetes extension\'s context switches', async () => {
    const stub = stubConfiguration({ path: '/home/u/.kube/config' });
    const tracker = new ClusterTracker(() => '', async () => stub);
    try {
      await new Promise((r) => setTimeout(r, 0)); // subscriptions are made once the API resolved
      let fired = 0;
      tracker.onDidChange(() => fired++);
      stub.fireContext('kind-staging');
      assert.equal(fired, 1);
      assert.equal((await tracker.locate()).context, 'kind-staging');
      stub.firePath();
      assert.equal(fired, 2);
      assert.equal(await tracker.explorerPresent(), true);
    } finally {
      tracker.dispose();
    }
  });

  test('the source picker offers the live cluster\'s current context (trusted workspace) and snapshots', async () => {
    const shown = new Promise<PickerShown>((r) => {
      const s = api.onDidShowPicker((e) => (s.dispose(), r(e)));
    });
    const cmd = vscode.commands.executeCommand('netpath.chooseSource');
    const { step, quickPick } = await shown;
    assert.equal(step, 'snapshot');
    const labels = quickPick.items.map((i) => i.label);
    if (vscode.workspace.isTrusted) assert.ok(labels.some((l) => /^\$\(cloud\) .* \(live\)$/.test(l)), labels.join(' | '));
    else assert.ok(!labels.some((l) => /\(live\)/.test(l)), 'no live cluster in an untrusted workspace');
    assert.ok(labels.includes('$(folder-opened) Open Snapshot…'), labels.join(' | '));
    quickPick.hide();
    assert.equal(await cmd, undefined);
    console.log(`source picker: ${labels.join(' | ')} (trusted: ${vscode.workspace.isTrusted})`);
  });

  test('the extension bundle holds no engine and no client-node code (the server does that work)', () => {
    const bundle = readFileSync(join(root, 'dist/extension.js'), 'utf8');
    // Strings that survive minification: client-node's auth method, the RBAC review, engine findings.
    const markers = ['applyToHTTPSOptions', 'selfsubjectaccessreviews', 'nat/KUBE-SERVICES chain', 'plugin.detected'];
    // (dist/server.js launches the server's bundle, dist/server.bundle.js: the code is there.)
    const server = readFileSync(join(root, 'dist/server.bundle.js'), 'utf8');
    for (const m of markers) assert.ok(server.includes(m), `dist/server.bundle.js has ${m} (the marker still means something)`);
    for (const m of markers) assert.ok(!bundle.includes(m), `dist/extension.js contains ${m}`);
  });
});
