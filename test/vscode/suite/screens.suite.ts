/// <reference types="mocha" />
// Screenshots for review (test/artifacts/vscode-*.png): the Network Path view with a diagnosed
// sample, the Problems panel and the report document. Fails when the view or the panel shows
// nothing — the pixels must contain the run, not an empty pane.
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NetpathApi } from '../../../src/extension/main';
import type { Run } from '../../../src/extension/runs';
import { screenshot } from './screenshot';

suite('Network Path screenshots', () => {
  let api: NetpathApi;
  let run: Run;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<NetpathApi>('netpath.netpath')!;
    api = await ext.activate();
    await vscode.commands.executeCommand('netpath.clearResults');
    run = (await vscode.commands.executeCommand<Run>('netpath.diagnose', { snapshot: join(ext.extensionPath, 'samples/broken.netpath.json'), src: 'default/client', dst: 'default/web2', port: 8080 }))!;
    assert.equal(run.result.verdict, 'unreachable');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the Network Path view shows the run, its NetNodes and the suspicion', async () => {
    await vscode.commands.executeCommand('netpath.runs.focus');
    await api.revealNode(run, 'node2');
    const shot = await screenshot({ name: 'vscode-tree', countRows: ['default/client', 'node1', 'node2', 'dropped by iptables'] });
    console.log(`tree screenshot ${shot.file}: rows ${JSON.stringify(shot.rows)}`);
    for (const [text, n] of Object.entries(shot.rows)) assert.ok(n > 0, `no visible row shows "${text}": the view is empty or collapsed`);
  });

  test('the Problems panel lists the suspicions', async () => {
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    const shot = await screenshot({ name: 'vscode-problems', countRows: ['dropped by iptables'] });
    console.log(`problems screenshot ${shot.file}: rows ${JSON.stringify(shot.rows)}`);
    assert.ok(shot.rows['dropped by iptables'] > 0, 'the Problems panel does not show the suspicion');
  });

  test('Show Link Path opens the panel and it renders the path, node2 marked FATAL', async () => {
    await vscode.commands.executeCommand('netpath.showLinkPath', run.runId);
    const shot = await screenshot({ name: 'vscode-linkpath', countInWebviews: ['svg.graph [data-node-id]', '[data-node-id="node2"][data-severity="FATAL"]', 'svg.graph .edge-line'] }, 30_000);
    console.log(`link path screenshot ${shot.file}: ${JSON.stringify(shot.webview)}`);
    assert.equal(shot.webview!['svg.graph [data-node-id]'], 3, 'one SVG element per NetNode (client, node1, node2)');
    assert.equal(shot.webview!['[data-node-id="node2"][data-severity="FATAL"]'], 1, 'node2 marked FATAL');
    assert.ok(shot.webview!['svg.graph .edge-line'] >= 2, 'the links are drawn');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the report document at the finding', async () => {
    const f = run.findings.find((x) => x.node === 'node2')!;
    await vscode.commands.executeCommand('netpath.revealFinding', run.runId, f.node, f.index);
    const shot = await screenshot({ name: 'vscode-report' });
    assert.equal(vscode.window.activeTextEditor?.document.uri.scheme, 'netpath-report');
    console.log(`report screenshot ${shot.file}`);
  });
});
