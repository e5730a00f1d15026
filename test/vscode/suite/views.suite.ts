/// <reference types="mocha" />
// Issue 18 items 4, 5 and 7 in a real VS Code: Show Connectivity Matrix (namespace picked as a user
// does, the grid drawn, a cell's diagnosis opened as any run), Compare with Snapshot… (the last
// run's path judged in both snapshots, on-path differences first, a rule opened at its report
// line, a changed object opened in the workspace manifest that defines it), and the link path in a
// 600-px-wide panel (laid out top to bottom; under run.ts every label measured ≥ 11 px on screen).
// The matrix panel restored after a window reload (the serializer's restore driven directly).
// Under run.ts it writes test/artifacts/vscode-matrix.png, vscode-matrix-restored.png,
// vscode-matrix-unavailable.png, vscode-compare.png and vscode-linkpath-narrow.png.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NetpathApi } from '../../../src/extension/main';
import type { MatrixView } from '../../../src/shared/matrix-protocol';
import type { Run } from '../../../src/extension/runs';
import { available as canScreenshot, screenshot } from './screenshot';
import { until } from './until';

const request = { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' as const };

suite('Matrix, compare and a readable link path', () => {
  let api: NetpathApi;
  let ext: string;
  let dir: string;

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<NetpathApi>('netpath.netpath')!.activate();
    ext = vscode.extensions.getExtension('netpath.netpath')!.extensionPath;
    dir = mkdtempSync(join(tmpdir(), 'netpath-views-'));
    // Room for the views the screenshots show: no chat, no bottom panel.
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await vscode.commands.executeCommand('workbench.action.closePanel');
  });
  suiteTeardown(async () => {
    rmSync(dir, { recursive: true, force: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.editorLayoutSingle');
    await vscode.commands.executeCommand('netpath.clearResults');
  });

  test('Show Connectivity Matrix: the namespace picked, the grid drawn, a cell opens that pair\'s diagnosis', async function () {
    this.timeout(90_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const sample = join(ext, 'samples', 'broken.netpath.json');
    // The namespace picker, answered as a user would: the item "default", then Enter.
    const seen: string[] = [];
    const sub = api.onDidShowPicker(({ step, quickPick }) => {
      seen.push(step);
      if (step !== 'namespace') return;
      void until('the namespace "default"', () => quickPick.items.find((i) => i.label === 'default')).then(async (item) => {
        quickPick.activeItems = [item];
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      });
    });
    let view: MatrixView | undefined;
    try {
      view = await vscode.commands.executeCommand<MatrixView | undefined>('netpath.showMatrix', { snapshot: sample });
    } finally {
      sub.dispose();
    }
    assert.deepEqual(seen, ['namespace']);
    assert.ok(view, 'the matrix was computed');
    const m = view.matrix;
    assert.deepEqual(m.namespaces, ['default']);
    assert.equal(m.pods.length, 5);
    assert.equal(m.cells.length, 32);
    const denied = m.cells.filter((c) => c.policies?.length);
    assert.equal(denied.length, 4);
    assert.ok(denied.every((c) => c.policies!.join() === 'default/web-allow-client' && c.verdict === 'unreachable'));
    const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => `${t.label} (${t.input instanceof vscode.TabInputWebview ? t.input.viewType : typeof t.input})`));
    await until('the matrix tab', () => tabs().some((t) => t.startsWith('Connectivity: default') && t.includes('netpath.matrix'))).catch(() => assert.fail(`no matrix tab among: ${tabs().join(', ')}`));

    if (canScreenshot()) {
      const shot = await screenshot({ name: 'vscode-matrix', countInWebviews: ['table.grid td.cell', 'table.grid td.cell .policy'] }, 30_000);
      assert.equal(shot.webview!['table.grid td.cell'], 32, 'every cell drawn');
      assert.equal(shot.webview!['table.grid td.cell .policy'], 4, 'the denied cells name their policy');
    }

    // A click on web1 → web2:8080 (the webview posts diagnosePair; the host does this).
    const before = api.runs().length;
    const run = await api.matrix.diagnosePair({ src: 'default/web1', dst: 'default/web2', port: 8080, protocol: 'tcp' });
    assert.ok(run, 'the pair was diagnosed');
    assert.equal(api.runs().length, before + 1);
    assert.equal(run.result.verdict, 'unreachable');
    assert.ok(run.result.clusterSuspicions.some((s) => s.check === 'policy.ingress-deny' && s.message.includes('web-allow-client')));
    await api.linkPath.posted();
    assert.equal(api.linkPath.view()?.runId, run.runId, 'its link path is shown');
    const diags = vscode.languages.getDiagnostics(vscode.Uri.parse(run.reportUri));
    assert.ok(diags.some((d) => d.code === 'policy.ingress-deny'), 'its findings are in the Problems panel');
  });

  // A window reload cannot be driven here (it would restart the extension host running this suite):
  // the panel VS Code would hand the serializer is made here and given to the same restore.
  test('the matrix panel after a window reload: drawn again from its state, computed again, or said to be unavailable with Run again', async function () {
    this.timeout(90_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const pkg = vscode.extensions.getExtension('netpath.netpath')!.packageJSON as { activationEvents: string[] };
    assert.ok(pkg.activationEvents.includes('onWebviewPanel:netpath.matrix'), 'a reload with the panel open activates the extension');
    const copy = join(dir, 'restore.netpath.json');
    writeFileSync(copy, readFileSync(join(ext, 'samples', 'broken.netpath.json')));
    const view = await vscode.commands.executeCommand<MatrixView | undefined>('netpath.showMatrix', { snapshot: copy, namespace: 'default' });
    assert.ok(view);
    const query = { source: { kind: 'snapshot', path: copy }, namespaces: ['default'], policyOnly: false };
    const restored = async (state: unknown) => {
      const panel = vscode.window.createWebviewPanel('netpath.matrix', 'restoring', vscode.ViewColumn.Active, {});
      await api.matrix.restore(panel, JSON.parse(JSON.stringify(state ?? null)));
      return panel;
    };

    // 1. The state as the app saved it (the matrix and its query): drawn again, its cells diagnose on the kept source.
    const drawn = await restored({ version: 1, view, query, focus: { src: 0, dst: 1, port: 0 } });
    assert.equal(drawn.title, 'Connectivity: default');
    assert.deepEqual(api.matrix.view(), view);
    assert.equal(api.matrix.unavailable(), undefined);
    if (canScreenshot()) {
      const shot = await screenshot({ name: 'vscode-matrix-restored', countInWebviews: ['table.grid td.cell'] }, 30_000);
      assert.equal(shot.webview!['table.grid td.cell'], view.matrix.cells.length, 'the restored panel draws every cell');
    }
    const run = await api.matrix.diagnosePair({ src: 'default/web1', dst: 'default/web2', port: 8080, protocol: 'tcp' });
    assert.equal(run?.result.verdict, 'unreachable', 'a cell of the restored matrix diagnoses on its snapshot');
    assert.equal(run?.sourceLabel, 'restore.netpath.json');

    // 2. Reloaded before the matrix arrived (the query alone): asked again on the snapshot.
    drawn.dispose();
    await restored({ version: 1, query });
    assert.equal(api.matrix.view()?.matrix.cells.length, view.matrix.cells.length, 'computed again');
    assert.equal(api.matrix.view()?.matrix.sourceLabel, 'restore.netpath.json');

    // 3. The snapshot gone: a saved matrix is drawn with a note; without one the panel says why, with Run again.
    rmSync(copy);
    await restored({ version: 1, view, query });
    assert.deepEqual(api.matrix.view(), view);
    assert.match(api.matrix.note() ?? '', /no longer there/);
    await restored({ version: 1, query });
    assert.equal(api.matrix.view(), undefined);
    assert.match(api.matrix.unavailable() ?? '', /^The matrix could not be computed again after the window reloaded: /);
    if (canScreenshot()) {
      const shot = await screenshot({ name: 'vscode-matrix-unavailable', countInWebviews: ['p.unavailable', 'vscode-button'] }, 30_000);
      assert.equal(shot.webview!['p.unavailable'], 1, 'the panel says why, not a blank page');
      assert.ok(shot.webview!['vscode-button'] >= 1, 'Run again');
    }

    // 4. No state VS Code could give back (or one this version cannot read): said, with Run again.
    await restored(undefined);
    assert.match(api.matrix.unavailable() ?? '', /could not be restored after the window reloaded: Run again/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Compare with Snapshot…: the last run\'s path in both, on-path first; a rule opens at its line, an object in its manifest', async function () {
    this.timeout(90_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const healthy = join(dir, 'healthy.netpath.json');
    writeFileSync(healthy, readFileSync(join(ext, 'samples', 'healthy.netpath.json')));
    // b: the broken sample with the policy's second port changed.
    const b = JSON.parse(readFileSync(join(ext, 'samples', 'broken.netpath.json'), 'utf8'));
    b.objects.networkPolicies[0].spec.ingress[0].ports[1].port = 9091;
    const bFile = join(dir, 'after.netpath.json');
    writeFileSync(bFile, JSON.stringify(b));
    // The workspace holds the policy's manifest (multi-document, a comment, another kind first).
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const manifest = vscode.Uri.joinPath(folder, 'k8s', 'web.yaml');
    await vscode.workspace.fs.writeFile(manifest, new TextEncoder().encode([
      'apiVersion: v1', 'kind: Service', 'metadata:', '  name: web-allow-client', '---',
      '# the web tier', 'apiVersion: networking.k8s.io/v1', 'kind: NetworkPolicy', 'metadata:', '  labels:', '    name: other', '  name: web-allow-client', '  namespace: default', 'spec: {}', '',
    ].join('\n')));

    const run = await vscode.commands.executeCommand<Run>('netpath.diagnose', { snapshot: healthy, ...request });
    assert.equal(run?.result.verdict, 'reachable');
    const c = await vscode.commands.executeCommand<{ id: string; result: import('../../../src/shared/protocol').SnapshotDiffResult; reportUri: vscode.Uri } | undefined>('netpath.compareSnapshot', { b: bFile });
    assert.ok(c, 'compared');
    assert.equal(api.compare.current()?.id, c.id, 'shown in the Compare view');
    const r = c.result;
    assert.equal(r.a, healthy, 'a is the snapshot in use');
    assert.deepEqual(r.request, request, 'the last run\'s path');
    assert.deepEqual(r.verdict, { a: 'reachable', b: 'unreachable', changed: true });
    assert.match(r.onPath[0].title, /^\+ iptables: -A FORWARD .*-j DROP$/);

    // The rule: the compare report at its line.
    const ed = await vscode.commands.executeCommand<vscode.TextEditor>('netpath.openDifference', c.id, true, 0);
    assert.equal(ed.document.uri.scheme, 'netpath-compare');
    assert.equal(ed.selection.active.line, r.onPath[0].line);
    assert.match(ed.document.lineAt(r.onPath[0].line).text, /node node2: \+ iptables: -A FORWARD .*-j DROP/);

    // The policy: the workspace manifest at its metadata name (not the Service of that name, not the label).
    const all = [...r.onPath.map((x, i) => ({ x, i, onPath: true })), ...r.rest.map((x, i) => ({ x, i, onPath: false }))];
    const pol = all.find((e) => e.x.object?.kind === 'NetworkPolicy')!;
    assert.ok(pol, 'the policy change is listed');
    const ed2 = await vscode.commands.executeCommand<vscode.TextEditor>('netpath.openDifference', c.id, pol.onPath, pol.i);
    assert.equal(ed2.document.uri.toString(), manifest.toString());
    assert.equal(ed2.selection.active.line, 11);
    // Without a manifest in the workspace: the snapshot's copy as YAML, at its name.
    await vscode.workspace.fs.delete(manifest);
    const ed3 = await vscode.commands.executeCommand<vscode.TextEditor>('netpath.openDifference', c.id, pol.onPath, pol.i);
    assert.equal(ed3.document.uri.scheme, 'netpath-compare');
    assert.equal(ed3.document.lineAt(ed3.selection.active.line).text, '  name: web-allow-client');
    assert.match(ed3.document.getText(), /^kind: NetworkPolicy$/m);
    assert.match(ed3.document.getText(), /port: 9091/);

    if (canScreenshot()) {
      // The view beside what its first item opens: the compare report at the rule.
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('netpath.openDifference', c.id, true, 0);
      await vscode.commands.executeCommand('netpath.compare.focus');
      const shot = await screenshot({ name: 'vscode-compare', countRows: ['On the path', 'iptables: -A FORWARD', 'NetworkPolicy default/web-allow-client'] }, 30_000);
      for (const [text, n] of Object.entries(shot.rows)) assert.ok(n >= 1, `the Compare view shows "${text}"`);
    }
  });

  test('the link path in a 600-px panel: laid out top to bottom, every label legible', async function () {
    this.timeout(90_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const run = await vscode.commands.executeCommand<Run>('netpath.diagnose', { snapshot: join(ext, 'samples', 'broken.netpath.json'), ...request });
    assert.ok(run);
    // Two editor groups; the panel in the second, sized until the webview reports ~600 px.
    await vscode.commands.executeCommand('vscode.setEditorLayout', { orientation: 0, groups: [{ size: 0.5 }, { size: 0.5 }] });
    await vscode.commands.executeCommand('workbench.action.focusFirstEditorGroup');
    await vscode.window.showTextDocument(vscode.Uri.parse(run.reportUri), { viewColumn: vscode.ViewColumn.One, preview: true });
    await vscode.commands.executeCommand('netpath.showLinkPath', run.runId);
    await api.linkPath.posted();
    // The width the webview reports once it has not changed for 800 ms (the workbench lays out in steps).
    const settledWidth = async () => {
      let last = -1, since = Date.now();
      const end = Date.now() + 10_000;
      for (;;) {
        const w = api.linkPath.size()?.width ?? -1;
        if (w !== last) (last = w, since = Date.now());
        else if (w > 0 && Date.now() - since >= 800) return w;
        if (Date.now() > end) return w;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until('the panel\'s size', () => api.linkPath.size());
    let width = await settledWidth();
    // Resized as a user does from the keyboard (View: Increase/Decrease Current View Width), the
    // panel's group focused.
    const tried: number[] = [width];
    await vscode.commands.executeCommand('workbench.action.focusSecondEditorGroup');
    for (let i = 0; i < 30 && Math.abs(width - 600) > 25; i++) {
      await vscode.commands.executeCommand(width > 600 ? 'workbench.action.decreaseViewWidth' : 'workbench.action.increaseViewWidth');
      width = await settledWidth();
      tried.push(width);
    }
    console.log(`netpath narrow link path: panel widths ${tried.join(' → ')}; groups ${vscode.window.tabGroups.all.map((g) => g.tabs.map((t) => t.label).join('+')).join(' | ')}`);
    assert.ok(Math.abs(width - 600) <= 25, `panel ${width} px wide`);
    await until('the top-to-bottom layout', () => api.linkPath.view()?.graph.direction === 'down', 20_000);
    await api.linkPath.laidOutForWidth();
    const g = api.linkPath.view()!.graph;
    assert.equal(g.direction, 'down');
    assert.ok(g.nodes.find((n) => n.id === 'node2')?.decision?.text.endsWith('-j DROP'), 'the deciding rule on node2');
    if (canScreenshot()) {
      const shot = await screenshot({ name: 'vscode-linkpath-narrow', countInWebviews: ['svg.graph [data-node-id]'], measureText: 'svg.graph text' }, 30_000);
      const t = shot.text!;
      console.log(`netpath narrow link path: ${t.count} labels in a ${t.frameWidth}-px webview, smallest ${t.minPx.toFixed(1)} px ("${t.smallest}")`);
      assert.equal(shot.webview!['svg.graph [data-node-id]'], g.nodes.length);
      assert.ok(t.count >= 2 * g.nodes.length, `${t.count} labels`);
      assert.ok(Math.abs(t.frameWidth - 600) <= 25, `webview ${t.frameWidth} px wide`);
      assert.ok(t.minPx >= 11, `the smallest label renders at ${t.minPx.toFixed(2)} px: "${t.smallest}"`);
    }
    await vscode.commands.executeCommand('workbench.action.editorLayoutSingle');
  });
});
