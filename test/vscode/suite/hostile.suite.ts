/// <reference types="mocha" />
// Names from a cluster or a snapshot shown as text in VS Code (issue 16): an interface name full of
// markdown (an image, a command link, HTML) in the tree's tooltips, and a pod name with a command
// link in an error notification. Tooltips are checked as VS Code's built-in markdown renderer turns
// them into HTML; the notification as the workbench drew it (through the runner's page, when the
// suite runs under run.ts).
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NetpathApi } from '../../../src/extension/main';
import type { Element } from '../../../src/extension/tree';
import type { Run } from '../../../src/extension/runs';
import { available, screenshot } from './screenshot';

/** Any pod with NET_ADMIN can name its interface this (15 bytes is the kernel's limit, not a snapshot's). */
const ifname = 'veth![i](https://example.invalid/i.png)[x](command:netpath.clearResults)<img src=x onerror=alert(1)>**b**';
const podName = '[x](command:netpath.clearResults)';

suite('Network Path shows hostile names as text', () => {
  let api: NetpathApi;
  let dir: string;
  let sample: string;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<NetpathApi>('netpath.netpath')!;
    api = await ext.activate();
    dir = mkdtempSync(join(tmpdir(), 'netpath-hostile-'));
    sample = readFileSync(join(ext.extensionPath, 'samples/broken.netpath.json'), 'utf8');
    await vscode.commands.executeCommand('netpath.clearResults');
  });

  test('a tooltip shows a markdown-laden interface name as text: no image, no link, no HTML', async () => {
    const file = join(dir, 'ifname.netpath.json');
    writeFileSync(file, sample.replaceAll('"vethce2a28d0"', JSON.stringify(ifname)));
    const run = (await vscode.commands.executeCommand<Run>('netpath.diagnose', { snapshot: file, src: 'default/client', dst: 'default/web1', port: 80 }))!;
    assert.equal(run.result.verdict, 'unreachable');
    const [runEl] = api.tree.getChildren();
    const node1 = api.tree.getChildren(runEl).find((e) => e.kind === 'node' && e.node?.id === 'node1')!;
    const children = api.tree.getChildren(node1);
    const suspicion = children.find((c): c is Extract<Element, { kind: 'suspicion' }> => c.kind === 'suspicion' && c.suspicion.message.includes(ifname))!;
    const link = children.find((c): c is Extract<Element, { kind: 'link' }> => c.kind === 'link' && c.link.destinationAttributes.if === ifname)!;
    assert.ok(suspicion && link, 'the suspicion and the link name the interface');
    for (const el of [suspicion, link]) {
      const tip = api.tree.getTreeItem(el).tooltip as vscode.MarkdownString;
      assert.ok(tip instanceof vscode.MarkdownString);
      assert.ok(!tip.isTrusted, 'untrusted: command links do nothing');
      assert.ok(!tip.supportHtml, 'no HTML');
      const html = await vscode.commands.executeCommand<string>('markdown.api.render', tip.value);
      assert.doesNotMatch(html, /<img|<a\s|<strong>b<\/strong>/, `rendered as markup: ${html}`);
      const text = html.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      assert.ok(text.includes(ifname), `the name is shown as written: ${text}`);
    }
    // Plain-text places show it unchanged (no markdown there).
    assert.ok(String(api.tree.getTreeItem(suspicion).label).includes(ifname));
  });

  test('an error notification shows a pod name with a command link as text', async () => {
    const d = JSON.parse(sample);
    d.objects.pods[0].metadata.name = podName;
    const file = join(dir, 'podname.netpath.json');
    writeFileSync(file, JSON.stringify(d));
    await vscode.commands.executeCommand('notifications.clearAll');
    const run = await vscode.commands.executeCommand<Run | undefined>('netpath.diagnose', { snapshot: file, src: 'default/client', dst: 'default/web1', port: 80 });
    assert.equal(run, undefined, 'the snapshot is rejected: Kubernetes would not allow that pod name');
    if (!available()) return; // only the runner (run.ts) can look at the workbench's page
    // The toast or, opened here so it is drawn either way, the notification center.
    await vscode.commands.executeCommand('notifications.showList');
    const message = '.notification-list-item-message';
    const shown = `${message}:has-text("command:netpath.clearResults")`;
    const links = `${message} a`;
    const shot = await screenshot({ name: 'vscode-hostile-notification', countInWebviews: ['.notification-list-item', shown, links] });
    console.log(`notification: ${JSON.stringify(shot.webview)}`);
    assert.ok(shot.webview![shown] >= 1, 'the notification shows the name');
    assert.equal(shot.webview![links], 0, 'and no link in it');
    await vscode.commands.executeCommand('notifications.hideList');
    await vscode.commands.executeCommand('notifications.clearAll');
  });
});
