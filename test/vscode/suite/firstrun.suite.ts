/// <reference types="mocha" />
// First run: the Getting Started walkthrough on a fresh profile (this suite is loaded first, in a
// window the runner started with throw-away user-data, extensions and workspace dirs: no run, no
// source, netpath not yet activated), its first step's one-click link diagnosing the bundled
// sample, the finding in the Problems panel; then the Kubernetes-explorer badges drawn from that
// run on stub explorer nodes, and cleared with the results.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { NetpathApi } from '../../../src/extension/main';
import type { ClusterExplorerV1_1 } from 'vscode-kubernetes-tools-api';
import { registerExplorerBadges } from '../../../src/extension/badges';
import { RunStore, type Run } from '../../../src/extension/runs';
import { available, screenshot } from './screenshot';
import { until } from './until';

const extensionId = 'netpath.netpath';

interface Step {
  id: string;
  title: string;
  description: string;
  completionEvents?: string[];
}
interface Walkthrough {
  id: string;
  title: string;
  steps: Step[];
}

/** The `command:` links of a walkthrough step's description, as the workbench runs them on a click. */
function commandLinks(description: string): { title: string; command: string; args: unknown[] }[] {
  return [...description.matchAll(/\[([^\]]+)\]\(command:([\w.-]+)(?:\?([^)]*))?\)/g)].map((m) => {
    const args = m[3] ? (JSON.parse(decodeURIComponent(m[3])) as unknown) : undefined;
    return { title: m[1], command: m[2], args: args === undefined ? [] : Array.isArray(args) ? args : [args] };
  });
}

const codeOf = (d: vscode.Diagnostic) => String(typeof d.code === 'object' ? d.code.value : d.code);

/** A public-API explorer node (what clusterExplorer v1_1 hands a node UI customizer). */
function explorerNode(kind: 'Pod' | 'Service' | 'Deployment', namespace: string, name: string): ClusterExplorerV1_1.ClusterExplorerNode {
  return { nodeType: 'resource', namespace, name, resourceKind: { manifestKind: kind, abbreviation: kind.toLowerCase() } };
}

suite('First run: Getting Started, then explorer badges', () => {
  let ext: vscode.Extension<NetpathApi>;
  let walkthrough: Walkthrough;
  let api: NetpathApi;
  let run: Run;

  suiteSetup(() => {
    ext = vscode.extensions.getExtension<NetpathApi>(extensionId)!;
    assert.ok(ext, `${extensionId} is not loaded`);
    walkthrough = (ext.packageJSON as { contributes: { walkthroughs: Walkthrough[] } }).contributes.walkthroughs[0];
  });

  suiteTeardown(async () => {
    // The suites after this one start from no runs, as a fresh window would.
    await vscode.commands.executeCommand('netpath.clearResults');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('netpath is not active before it is needed: no onLanguage:json, an empty workspace activates nothing', () => {
    const events = ext.packageJSON.activationEvents as string[];
    assert.ok(!events.some((e) => e.startsWith('onLanguage')), `activationEvents: ${events.join(', ')}`);
    assert.ok(events.includes('workspaceContains:**/*.netpath.json'));
    assert.equal(ext.isActive, false, 'activated before any netpath command, view or file was used');
  });

  test('the walkthrough opens; its first step links one command that is the step\'s completion event', async () => {
    assert.equal(walkthrough.id, 'netpath.gettingStarted');
    assert.ok(walkthrough.steps.length >= 3, 'sample, live cluster, explorer');
    const first = walkthrough.steps[0];
    const links = commandLinks(first.description);
    assert.deepEqual(links.map((l) => l.command), ['netpath.diagnoseSample']);
    assert.deepEqual(first.completionEvents, ['onCommand:netpath.diagnoseSample']);
    // The later steps point at the live cluster and the explorer through the existing commands.
    const later = walkthrough.steps.slice(1).flatMap((s) => commandLinks(s.description).map((l) => l.command));
    for (const c of ['netpath.chooseSource', 'netpath.diagnose', 'extension.vsKubernetesExplorer.focus']) assert.ok(later.includes(c), `${c} linked from a later step`);

    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${extensionId}#${walkthrough.id}`, false);
    const tab = await until('the walkthrough tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => /Walkthrough|Welcome/.test(t.label)));
    console.log(`walkthrough tab: "${tab.label}"`);
    if (available()) console.log(`walkthrough screenshot ${(await screenshot({ name: 'vscode-walkthrough' })).file}`);
  });

  test('clicking the first step diagnoses the bundled sample: the finding is in the Problems panel', async () => {
    const link = commandLinks(walkthrough.steps[0].description)[0];
    run = (await vscode.commands.executeCommand<Run | undefined>(link.command, ...link.args))!;
    assert.ok(run, `${link.title} finished no run`);
    assert.equal(ext.isActive, true);
    api = ext.exports;
    assert.equal(api.runs().length, 1, 'the one run of a fresh profile');
    assert.deepEqual(run.result.request, { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' });
    assert.equal(run.result.verdict, 'unreachable');
    // The sample is opened (from the installed extension: it ships in the .vsix).
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document.uri.path.endsWith('/samples/broken.netpath.json')), 'the sample is open');

    const diags = await until('the run\'s diagnostics', () => {
      const d = vscode.languages.getDiagnostics(vscode.Uri.parse(run.reportUri));
      return d.length ? d : undefined;
    });
    const drop = diags.find((d) => codeOf(d) === 'iptables.drop');
    assert.ok(drop, `diagnostics: ${diags.map(codeOf).join(', ')}`);
    assert.equal(drop.severity, vscode.DiagnosticSeverity.Error);
    assert.match(drop.message, /dropped by iptables on node2/);
    // …and among everything the Problems panel lists (all URIs).
    assert.ok(vscode.languages.getDiagnostics().some(([uri, ds]) => uri.toString() === run.reportUri && ds.some((d) => codeOf(d) === 'iptables.drop')));
    if (available()) {
      const shot = await screenshot({ name: 'vscode-walkthrough-problems', countRows: ['dropped by iptables'] });
      console.log(`problems after the walkthrough step ${shot.file}: rows ${JSON.stringify(shot.rows)}`);
      assert.ok(shot.rows['dropped by iptables'] > 0, 'the Problems panel does not show the finding');
    }
  });

  test('explorer badges: the pod and service of the unreachable request are marked with the finding', () => {
    const item = new vscode.TreeItem('client');
    item.tooltip = 'Pod client ![x](https://example.invalid/x.png) <img src=x>';
    api.explorerBadges.customize(explorerNode('Pod', 'default', 'client'), item);
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'error');
    assert.equal(item.description, 'netpath FATAL');
    const tip = (item as vscode.TreeItem).tooltip as vscode.MarkdownString; // customize() replaced the string
    assert.ok(tip instanceof vscode.MarkdownString);
    assert.equal(tip.isTrusted, false);
    assert.equal(tip.supportHtml, false);
    assert.match(tip.value, /\*\*FATAL\*\* the packet is dropped by iptables on node2/);
    assert.match(tip.value, /iptables\\\.drop on node2/);
    // The explorer's own tooltip stays first, as literal text: no image, no HTML from a name.
    assert.match(tip.value, /^Pod client \\!\\\[x\\\]\\\(https\\:/);
    assert.doesNotMatch(tip.value, /!\[x\]\(/);

    const svc = new vscode.TreeItem('web-remote');
    svc.description = 'ClusterIP';
    api.explorerBadges.customize(explorerNode('Service', 'default', 'web-remote'), svc);
    assert.equal(svc.description, 'ClusterIP · netpath FATAL');
    assert.match((svc.tooltip as vscode.MarkdownString).value, /dropped by iptables on node2/);
  });

  test('explorer badges: what the run does not concern is left as the explorer drew it', () => {
    for (const node of [explorerNode('Pod', 'default', 'web1'), explorerNode('Service', 'default', 'web-local'), explorerNode('Pod', 'other', 'client'), explorerNode('Deployment', 'default', 'client'), { nodeType: 'context', name: 'kind' }]) {
      const icon = new vscode.ThemeIcon('circle-filled');
      const item = new vscode.TreeItem('x');
      item.iconPath = icon;
      item.tooltip = 'as drawn';
      api.explorerBadges.customize(node, item);
      assert.equal(item.iconPath, icon, JSON.stringify(node));
      assert.equal(item.tooltip, 'as drawn');
      assert.equal(item.description, undefined);
    }
  });

  test('explorer badges through a stub clusterExplorer v1_1: one node UI customizer, the explorer refreshed as the runs change, nothing marked after dispose', async () => {
    const customizers: ClusterExplorerV1_1.NodeUICustomizer[] = [];
    let refreshes = 0;
    const store = new RunStore();
    const reg = registerExplorerBadges(store, async () => ({ registerNodeUICustomizer: (c) => void customizers.push(c), refresh: () => void refreshes++ }));
    await reg.ready;
    assert.equal(customizers.length, 1);
    const client = explorerNode('Pod', 'default', 'client');
    const drawn = async () => {
      const item = new vscode.TreeItem('client');
      await customizers[0].customize(client, item);
      return item;
    };
    assert.equal((await drawn()).iconPath, undefined, 'no run, no mark');
    store.add(run);
    assert.equal(refreshes, 1);
    assert.equal(((await drawn()).iconPath as vscode.ThemeIcon).id, 'error');
    store.remove([run.runId]);
    assert.equal(refreshes, 2);
    assert.equal((await drawn()).description, undefined);
    store.add(run);
    reg.dispose();
    assert.equal(refreshes, 4, 'a run added, then the marks removed on dispose');
    assert.equal((await drawn()).iconPath, undefined, 'a disposed customizer marks nothing');
    store.dispose();
  });

  test('Clear Results clears the badges', async () => {
    await vscode.commands.executeCommand('netpath.clearResults');
    assert.equal(api.runs().length, 0);
    const item = new vscode.TreeItem('client');
    api.explorerBadges.customize(explorerNode('Pod', 'default', 'client'), item);
    assert.equal(item.iconPath, undefined);
    assert.equal(item.description, undefined);
    assert.equal(item.tooltip, undefined);
  });
});
