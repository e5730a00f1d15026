/// <reference types="mocha" />
// The product inside a real VS Code: commands, pickers answered as a user would (select an item,
// type an IP, Enter), the Network Path tree, diagnostics in the Problems panel, the report document,
// the Kubernetes-explorer menus and target resolution.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NetpathApi } from '../../../src/extension/main';
import type { PickerShown } from '../../../src/extension/ctx';
import type { Run } from '../../../src/extension/runs';
import type { Element } from '../../../src/extension/tree';
import { until } from './until';

const extensionId = 'netpath.netpath';
let api: NetpathApi;
let root: string;

type Answer = { select: string } | { type: string } | { accept: true };

/** Answers the pickers as they appear, in order; resolves with the steps seen. */
function answerPickers(answers: Answer[]): { steps: string[]; done: Promise<void> } {
  const steps: string[] = [];
  let resolveDone: () => void;
  let rejectDone: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => ((resolveDone = res), (rejectDone = rej)));
  const sub = api.onDidShowPicker(async ({ step, quickPick }: PickerShown) => {
    steps.push(step);
    const a = answers.shift();
    try {
      if (!a) throw new Error(`unexpected picker ${step}`);
      if ('select' in a) {
        const item = await until(`item ${a.select} in the ${step} picker`, () => quickPick.items.find((i) => i.label === a.select));
        // The extension host sends activeItems to the workbench on a later tick, while the accept
        // command goes at once: wait for the workbench to report the item active (its echo), unless
        // it already had (only the workbench changes activeItems before we set it).
        if (quickPick.activeItems[0] !== item) {
          let active = false;
          const echo = quickPick.onDidChangeActive((items) => (active ||= items[0]?.label === a.select));
          quickPick.activeItems = [item];
          await until(`the workbench to make ${a.select} active`, () => active).finally(() => echo.dispose());
        }
      } else if ('type' in a) {
        quickPick.value = a.type;
        await until(`typed ${a.type} active`, () => quickPick.activeItems[0]?.label === a.type);
      } else {
        await until(`an active item in the ${step} picker`, () => quickPick.activeItems.length > 0);
      }
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      if (!answers.length) {
        sub.dispose();
        resolveDone();
      }
    } catch (e) {
      sub.dispose();
      rejectDone(e);
    }
  });
  return { steps, done };
}

function manifest(): { contributes: { commands: { command: string }[]; menus: Record<string, { command: string; when?: string }[]> } } {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
}

// Severities arrive as names (DESIGN.md); what the Problems panel shows for each.
const levelSeverity: Record<string, vscode.DiagnosticSeverity> = {
  INFO: vscode.DiagnosticSeverity.Information,
  WARNING: vscode.DiagnosticSeverity.Warning,
  CRITICAL: vscode.DiagnosticSeverity.Error,
  FATAL: vscode.DiagnosticSeverity.Error,
};

function diagnosticsOf(run: Run): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(vscode.Uri.parse(run.reportUri));
}

suite('Network Path in VS Code', () => {
  let broken: Run;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<NetpathApi>(extensionId)!;
    api = await ext.activate();
    root = ext.extensionPath;
  });

  test('every contributed command is registered', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const declared = manifest().contributes.commands.map((c) => c.command);
    assert.ok(declared.length >= 10);
    assert.deepEqual(declared.filter((c) => !registered.has(c)), []);
    console.log(`${declared.length} netpath commands registered`);
  });

  test('Diagnose Connectivity… with the pickers answered: select a pod, type an IP, take the pre-filled port and protocol', async () => {
    const pickers = answerPickers([{ select: 'default/client' }, { type: '10.244.2.2' }, { accept: true }, { accept: true }]);
    const finished = new Promise<Run>((r) => {
      const s = api.onDidFinishRun((run) => (s.dispose(), r(run)));
    });
    const cmd = vscode.commands.executeCommand<Run | undefined>('netpath.diagnose', { snapshot: join(root, 'samples/broken.netpath.json') });
    await pickers.done;
    assert.deepEqual(pickers.steps, ['source', 'destination', 'port', 'protocol']);
    broken = await finished;
    assert.equal((await cmd)?.runId, broken.runId);
    // The port was pre-filled from web2's container ports (the IP is web2's), the protocol from the port.
    assert.deepEqual(broken.result.request, { src: 'default/client', dst: '10.244.2.2', port: 8080, protocol: 'tcp' });
    assert.equal(broken.result.verdict, 'unreachable');
  });

  test('the tree shows the run, its NetNodes in path order, their suspicions and links', async () => {
    const runs = api.tree.getChildren();
    assert.equal(runs.length, 1);
    const runItem = api.tree.getTreeItem(runs[0]);
    assert.match(String(runItem.label), /default\/client → 10\.244\.2\.2:8080\/tcp/);
    assert.match(String(runItem.description), /^unreachable/);
    const nodes = api.tree.getChildren(runs[0]);
    const ids = nodes.map((n) => String(api.tree.getTreeItem(n).label));
    // Cluster-wide findings (e.g. the detected plugin) come first under "cluster", then the path.
    const cluster = broken.result.clusterSuspicions.length ? ['cluster'] : [];
    assert.deepEqual(ids, [...cluster, ...broken.result.nodes.map((n) => n.id)]);
    assert.deepEqual(ids.slice(cluster.length, cluster.length + 3), ['default/client', 'node1', 'node2']);
    const node2 = nodes[ids.indexOf('node2')];
    const node2Item = api.tree.getTreeItem(node2);
    assert.equal((node2Item.iconPath as vscode.ThemeIcon).id, 'server');
    assert.match(String(node2Item.description), /1 suspicion \(worst FATAL\)/);
    const children = api.tree.getChildren(node2);
    const susp = children.filter((c): c is Extract<Element, { kind: 'suspicion' }> => c.kind === 'suspicion');
    assert.equal(susp.length, 1);
    const si = api.tree.getTreeItem(susp[0]);
    assert.match(String(si.label), /dropped by iptables on node2/);
    assert.equal((si.iconPath as vscode.ThemeIcon).id, 'error');
    assert.match((si.tooltip as vscode.MarkdownString).value, /-A FORWARD -d 10\.244\.2\.2\/32/);
    assert.ok(children.some((c) => c.kind === 'link' && c.direction === 'in' && c.link.source === 'node1'), 'incoming link from node1');
    const client = api.tree.getTreeItem(nodes[cluster.length]);
    assert.equal((client.iconPath as vscode.ThemeIcon).id, 'package');
    console.log(`tree: 1 run → ${nodes.length} NetNodes (${ids.join(', ')}); node2 → ${children.length} children`);
  });

  test('the Problems panel holds the suspicions with mapped severities, codes and evidence', async () => {
    const all = [...broken.result.clusterSuspicions, ...broken.result.nodes.flatMap((n) => n.suspicions)];
    const ds = await until('diagnostics of the run', () => (diagnosticsOf(broken).length === all.length ? diagnosticsOf(broken) : undefined));
    const code = (d: vscode.Diagnostic) => String(typeof d.code === 'object' ? d.code.value : d.code);
    assert.deepEqual(ds.map((d) => `${code(d)}|${d.severity}`).sort(), all.map((x) => `${x.check}|${levelSeverity[x.level]}`).sort());
    assert.ok(ds.every((d) => d.source === 'netpath'));
    const drop = ds.find((d) => code(d) === 'iptables.drop')!;
    assert.equal(drop.severity, vscode.DiagnosticSeverity.Error);
    assert.match(drop.message, /^node node2:/);
    assert.equal(drop.relatedInformation?.[0].location.uri.toString(), vscode.Uri.parse(broken.reportUri).toString());
    console.log(`Problems: ${ds.length} diagnostics for the broken run: ${ds.map((d) => `${code(d)} (${vscode.DiagnosticSeverity[d.severity]})`).join(', ')}`);
  });

  test('selecting a suspicion reveals its line in the read-only report document', async () => {
    const f = broken.findings.find((x) => x.node === 'node2')!;
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('netpath.revealFinding', broken.runId, f.node ?? null, f.index);
    assert.equal(editor.document.uri.scheme, 'netpath-report');
    assert.equal(editor.document.getText(), broken.report);
    assert.equal(editor.selection.start.line, f.line);
    assert.match(editor.document.lineAt(f.line).text, /\[FATAL\]/);
    const d = diagnosticsOf(broken).find((x) => String(typeof x.code === 'object' ? x.code.value : x.code) === 'iptables.drop')!;
    assert.equal(d.range.start.line, f.line, 'the diagnostic points at the same line');
  });

  test('a healthy sample via arguments: every suspicion a diagnostic with its mapped severity', async () => {
    const run = await vscode.commands.executeCommand<Run>('netpath.diagnose', { snapshot: join(root, 'samples/healthy.netpath.json'), src: 'default/client', dst: 'svc/default/web-remote', port: 80 });
    assert.equal(run.result.verdict, 'reachable');
    const all = [...run.result.clusterSuspicions, ...run.result.nodes.flatMap((n) => n.suspicions)];
    const ds = await until('diagnostics of the healthy run', () => (diagnosticsOf(run).length === all.length ? diagnosticsOf(run) : undefined));
    assert.deepEqual(ds.map((d) => d.severity).sort(), all.map((s) => levelSeverity[s.level]).sort());
    assert.equal(api.tree.getChildren().length, 2, 'two runs, newest first');
    assert.equal(api.tree.getChildren()[0].kind === 'run' && (api.tree.getChildren()[0] as { run: Run }).run.runId, run.runId);
    console.log(`healthy run: ${all.length} suspicion(s) → ${ds.length} diagnostic(s)`);
  });

  test('the Kubernetes-explorer pod context value has menu entries (regex match, never ==)', () => {
    const items = manifest().contributes.menus['view/item/context'].filter((m) => m.when?.includes('view == extension.vsKubernetesExplorer'));
    const podValue = 'vsKubernetes.resource.podk8s-watchable';
    const matching = items.filter((m) => {
      const re = /viewItem =~ \/(.+?)\/([a-z]*)/.exec(m.when!);
      assert.ok(re, `${m.command}: the viewItem test is a regex: ${m.when}`);
      return new RegExp(re[1], re[2]).test(podValue);
    });
    assert.deepEqual(matching.map((m) => m.command).sort(), ['netpath.diagnoseFromSource', 'netpath.diagnoseTo', 'netpath.setSource']);
    assert.ok(items.some((m) => m.command === 'netpath.diagnoseFromSource' && /resource\\\\?\.service/.test(m.when!)), 'a service entry');
  });

  test('a stub Kubernetes-explorer node resolves to the pod; Set as Source then Diagnose from Source on a service', async () => {
    // The explorer passes its own internal node; its API's resolveCommandTarget turns it into the public shape.
    const internal = { id: 'opaque-node-7', kindName: 'pod/client', metadata: { namespace: 'default' } };
    const stubApi = { resolveCommandTarget: (t?: unknown) => (t === internal ? { nodeType: 'resource', namespace: 'default', name: 'client', resourceKind: { manifestKind: 'Pod', abbreviation: 'po' } } : undefined) };
    assert.deepEqual(await api.resolveExplorerTarget(internal, stubApi), { kind: 'pod', namespace: 'default', name: 'client', endpoint: 'default/client' });
    assert.equal(await api.resolveExplorerTarget({ nodeType: 'context', name: 'kind' }, stubApi), undefined);

    // Without the Kubernetes extension the command still takes a public-shaped node.
    const pod = { nodeType: 'resource', namespace: 'default', name: 'client', resourceKind: { manifestKind: 'Pod', abbreviation: 'po' } };
    assert.equal(await vscode.commands.executeCommand('netpath.setSource', pod), 'default/client');
    assert.equal(api.connectivitySource(), 'default/client');
    const svc = { nodeType: 'resource', namespace: 'default', name: 'web-remote', resourceKind: { manifestKind: 'Service', abbreviation: 'svc' } };
    const pickers = answerPickers([{ accept: true }, { accept: true }]);
    const cmd = vscode.commands.executeCommand<Run>('netpath.diagnoseFromSource', svc);
    await pickers.done;
    const run = await cmd;
    assert.deepEqual(pickers.steps, ['port', 'protocol']);
    assert.deepEqual(run.result.request, { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' });
  });

  test('Show Link Path and Re-run act on a run; Clear Results clears the tree and the Problems panel', async () => {
    assert.equal(await vscode.commands.executeCommand('netpath.showLinkPath', broken.runId), broken.runId);
    const panel = await until('the link-path panel tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('netpath.linkPath')));
    assert.match(panel.label, /Link Path: default\/client → 10\.244\.2\.2:8080/);
    const again = await vscode.commands.executeCommand<Run>('netpath.rerun', broken.runId);
    assert.deepEqual(again.result.request, broken.result.request);
    assert.notEqual(again.runId, broken.runId);
    const before = api.runs().length;
    assert.ok(before >= 4);
    await vscode.commands.executeCommand('netpath.clearResults');
    assert.equal(api.tree.getChildren().length, 0);
    await until('diagnostics cleared', () => diagnosticsOf(broken).length === 0 && diagnosticsOf(again).length === 0);
    console.log(`cleared ${before} runs`);
  });
  test('a dual-stack snapshot: the family step offers IPv4 (default) and IPv6; IPv6 chosen gives an IPv6 path, remembered next time; sctp is offered', async () => {
    const dual = join(root, 'test/fixtures/lab/flannel-host-gw-dual--healthy/snapshot.netpath.json');
    const seen: { title?: string; labels: string[]; descriptions: (string | undefined)[] }[] = [];
    const watch = api.onDidShowPicker(({ step, quickPick }: PickerShown) => {
      if (step === 'family' || step === 'protocol') seen.push({ title: quickPick.title, labels: quickPick.items.map((i) => i.label), descriptions: quickPick.items.map((i) => i.description) });
    });
    try {
      const first = answerPickers([{ select: 'default/client' }, { select: 'svc/default/web-remote' }, { select: 'IPv6' }, { accept: true }, { accept: true }]);
      const cmd = vscode.commands.executeCommand<Run>('netpath.diagnose', { snapshot: dual });
      await first.done;
      const run = await cmd;
      assert.deepEqual(first.steps, ['source', 'destination', 'family', 'port', 'protocol']);
      assert.match(String(seen[0].title), /^Diagnose Connectivity \(3\/5\): address family from default\/client to svc\/default\/web-remote$/);
      assert.deepEqual(seen[0].labels, ['IPv4', 'IPv6'], 'the default (IPv4, both ends have it) first');
      assert.deepEqual(seen[0].descriptions, ['default · --family 4', '--family 6']);
      assert.deepEqual(seen[1].labels, ['tcp', 'udp', 'sctp'], 'port 80/TCP: tcp first');
      assert.deepEqual(run.result.request, { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp', family: 6 });
      assert.equal(run.result.source.ip, 'fd00:10:244:1::2');
      assert.equal(run.result.destination.ip, 'fd00:10:96::20');
      assert.equal(run.result.verdict, 'reachable');
      assert.ok(run.result.links.length > 0 && run.result.nodes.some((n) => n.id === 'default/web1' || n.id === 'default/web2'), 'the IPv6 path reaches a backend');
      // The run in the Network Path view says it was IPv6.
      const item = api.tree.getTreeItem({ kind: 'run', run });
      assert.equal(item.label, 'default/client → svc/default/web-remote:80/tcp (IPv6)');

      // Next time the last family chosen comes first: Enter takes IPv6; sctp chosen by hand.
      seen.length = 0;
      const again = answerPickers([{ select: 'default/client' }, { select: 'default/web2' }, { accept: true }, { accept: true }, { select: 'sctp' }]);
      const cmd2 = vscode.commands.executeCommand<Run>('netpath.diagnose', { snapshot: dual });
      await again.done;
      const run2 = await cmd2;
      assert.deepEqual(seen[0].labels, ['IPv6', 'IPv4']);
      assert.deepEqual(run2.result.request, { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'sctp', family: 6 });
      assert.equal(run2.result.destination.ip, 'fd00:10:244:2::2');
      console.log(`dual-stack: IPv6 ${run.result.source.ip} → ${run.result.destination.ip} ${run.result.verdict} over ${run.result.nodes.map((n) => n.id).join(', ')}; sctp ${run2.result.verdict}`);
    } finally {
      watch.dispose();
    }
  });
});
