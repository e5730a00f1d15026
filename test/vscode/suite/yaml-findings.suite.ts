/// <reference types="mocha" />
// Findings on the manifests, in VS Code: a diagnosis whose finding is a NetworkPolicy that denies
// puts the squiggle on that policy's YAML in the workspace (at `ingress`), with its quick fix in the
// light-bulb menu; the fix applied (the file left unsaved), the CodeLens "Check connectivity impact"
// diagnoses the last request with the editor's text overlaid and shows unreachable → reachable,
// and the matrix lens shows the pair that becomes allowed. Screenshots (under run.ts):
// vscode-manifest-finding.png, vscode-manifest-quickfix.png, vscode-whatif.png.
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { parseAllDocuments } from 'yaml';
import type { NetpathApi } from '../../../src/extension/main';
import type { Run } from '../../../src/extension/runs';
import type { WhatIfResult } from '../../../src/shared/protocol';
import { available, screenshot } from './screenshot';
import { until } from './until';

// The web tier's NetworkPolicy (test/fixtures/manifests, also the server test's) and a Service whose
// selector is an alias: the fix must keep both the comments and the alias.
const serviceYaml = `apiVersion: v1
kind: Service
metadata:
  name: web-local
  namespace: default
  labels: &web1
    app: web1
spec:
  selector: *web1
  ports:
  - name: http
    port: 80
    targetPort: 8080
`;
let policyYaml: string;

suite('Network Path findings on manifests, quick fixes and what-if', () => {
  let api: NetpathApi;
  let dir: string;
  let snapshot: string;
  let yamlUri: vscode.Uri;
  let run: Run;
  let finding: vscode.Diagnostic;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<NetpathApi>('netpath.netpath')!;
    api = await ext.activate();
    await vscode.commands.executeCommand('netpath.clearResults');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar'); // room for the editor in the screenshots
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the runner opens a workspace folder');
    policyYaml = `${readFileSync(join(ext.extensionPath, 'test/fixtures/manifests/web-allow-client.yaml'), 'utf8')}---\n${serviceYaml}`;
    dir = join(folder.uri.fsPath, 'yaml-findings');
    mkdirSync(join(dir, 'k8s'), { recursive: true });
    // The cluster holds the policy as the YAML declares it: the healthy sample with it in place.
    const snap = JSON.parse(readFileSync(join(ext.extensionPath, 'samples/healthy.netpath.json'), 'utf8')) as { objects: { networkPolicies: unknown[] } };
    snap.objects.networkPolicies = [parseAllDocuments(policyYaml)[0].toJS()];
    snapshot = join(dir, 'web.netpath.json');
    writeFileSync(snapshot, JSON.stringify(snap));
    writeFileSync(join(dir, 'k8s', 'web.yaml'), policyYaml);
    yamlUri = vscode.Uri.file(join(dir, 'k8s', 'web.yaml'));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert').then(undefined, () => undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('netpath.clearResults');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the denying NetworkPolicy\'s YAML gets the finding at `ingress`, linked to the run', async () => {
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(yamlUri));
    run = (await vscode.commands.executeCommand<Run>('netpath.diagnose', { snapshot, src: 'default/client', dst: 'default/web1', port: 8080 }))!;
    assert.equal(run.result.verdict, 'unreachable');
    finding = await until('the finding on web.yaml', () => vscode.languages.getDiagnostics(yamlUri).find((d) => d.source === 'netpath' && String(typeof d.code === 'object' ? d.code.value : d.code) === 'policy.ingress-deny'));
    const line = policyYaml.split('\n').findIndex((l) => l === '  ingress:');
    assert.deepEqual([finding.range.start.line, finding.range.start.character, finding.range.end.line, finding.range.end.character], [line, 2, line, 9]);
    assert.equal(finding.severity, vscode.DiagnosticSeverity.Error);
    assert.match(finding.message, /NetworkPolicy denies ingress to default\/web1/);
    assert.equal(finding.relatedInformation?.[0].location.uri.toString(), `netpath-report:/${run.runId}.txt`);
    assert.ok(finding.relatedInformation!.some((r) => /networkpolicy default\/web-allow-client/.test(r.message)), 'the evidence');
    editor.selection = new vscode.Selection(finding.range.start, finding.range.start);
    editor.revealRange(finding.range, vscode.TextEditorRevealType.InCenter);
    if (available()) {
      await vscode.commands.executeCommand('workbench.actions.view.problems');
      const shot = await screenshot({ name: 'vscode-manifest-finding', countRows: ['NetworkPolicy denies ingress'] });
      console.log(`manifest finding screenshot ${shot.file}: rows ${JSON.stringify(shot.rows)}`);
      assert.ok(shot.rows['NetworkPolicy denies ingress'] > 0, 'the Problems panel shows the finding under web.yaml');
    }
  });

  test('its quick fix allows exactly the diagnosed pods and port, shown before it is applied', async () => {
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', yamlUri, finding.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.title.startsWith('Allow ingress from pods app=client'));
    assert.ok(fix, `the quick fix is offered: ${actions.map((a) => a.title).join(' | ')}`);
    assert.equal(fix.isPreferred, true);
    const edits = fix.edit!.get(yamlUri);
    assert.equal(edits.length, 1);
    assert.equal(fix.edit!.entries().length, 1, 'one file changed');
    // As a user does it: the light bulb's menu, Enter on the fix. The edit's annotation asks VS Code
    // to show it before applying (the Refactor Preview), where Apply applies it, left unsaved.
    const editor = await vscode.window.showTextDocument(yamlUri);
    editor.selection = new vscode.Selection(finding.range.start, finding.range.start);
    await vscode.commands.executeCommand('editor.action.quickFix');
    await new Promise((r) => setTimeout(r, 800));
    if (available()) {
      const shot = await screenshot({ name: 'vscode-manifest-quickfix', countRows: ['Allow ingress from pods'] });
      console.log(`quick fix screenshot ${shot.file}: rows ${JSON.stringify(shot.rows)}`);
      assert.ok(shot.rows['Allow ingress from pods'] > 0, 'the light-bulb menu lists the fix');
    }
    await vscode.commands.executeCommand('acceptSelectedCodeAction');
    await new Promise((r) => setTimeout(r, 1500));
    const previewed = !editor.document.isDirty;
    console.log(`quick fix accepted: ${previewed ? 'held for the refactor preview' : 'applied at once'}`);
    if (available()) {
      // The rule's text shows in the preview's row before it is in the file.
      const shot = await screenshot({ name: 'vscode-manifest-preview', countRows: ['namespaceSelector'] });
      console.log(`refactor preview screenshot ${shot.file}: rows ${JSON.stringify(shot.rows)}`);
      assert.ok(shot.rows.namespaceSelector > 0, 'the Refactor Preview lists the edit');
    }
    assert.ok(previewed, 'the fix is held for the Refactor Preview, not applied at once');
    // The preview lists the edit unticked (its annotation needs confirmation): tick the file, Apply.
    await vscode.commands.executeCommand('refactorPreview.focus');
    await vscode.commands.executeCommand('list.focusFirst');
    await vscode.commands.executeCommand('refactorPreview.toggleCheckedState');
    await vscode.commands.executeCommand('refactorPreview.apply');
    await until('the fix in the editor', () => editor.document.getText().includes('app: client'));
    const text = editor.document.getText();
    assert.deepEqual(parseAllDocuments(text).flatMap((d) => d.errors.map((e) => e.message)), [], 'valid YAML');
    assert.ok(text.includes('# only the frontend may call the web tier') && text.includes('selector: *web1'), 'comments and aliases kept');
    assert.ok(editor.document.isDirty);
  });

  test('the CodeLens checks the connectivity impact of the unsaved manifest: unreachable → reachable', async () => {
    await vscode.window.showTextDocument(yamlUri, { viewColumn: vscode.ViewColumn.One });
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', yamlUri);
    const kinds = lenses.map((l) => l.range.start.line);
    const policyLine = policyYaml.split('\n').indexOf('kind: NetworkPolicy');
    const serviceLine = policyYaml.split('\n').indexOf('kind: Service');
    assert.ok(kinds.includes(policyLine) && kinds.some((l) => l > serviceLine), `lenses on the NetworkPolicy and the Service documents (the Service's moved down by the fix): ${JSON.stringify(kinds)}`);
    const lens = lenses.find((l) => l.range.start.line === policyLine && l.command?.title.includes('Check connectivity impact'));
    assert.ok(lens, `the lens: ${lenses.map((l) => l.command?.title).join(' | ')}`);
    const shown = new Promise<{ result: WhatIfResult; document: vscode.Uri }>((resolve) => {
      const sub = api.onDidFinishWhatIf((e) => {
        sub.dispose();
        resolve(e);
      });
    });
    // The last request (the run above) is what it diagnoses.
    const r = await vscode.commands.executeCommand<WhatIfResult>(lens.command!.command, ...(lens.command!.arguments ?? []));
    assert.deepEqual(r.request?.request, run.result.request);
    assert.equal(r.request?.before, 'unreachable');
    assert.equal(r.request?.after, 'reachable', r.report);
    assert.ok(r.changes.some((c) => c.kind === 'NetworkPolicy' && c.name === 'web-allow-client' && c.action === 'replaced'));
    const { document } = await shown;
    const opened = await until('the what-if document', () => vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === document.toString()));
    assert.match(opened.document.getText(), /^What if web\.yaml \(unsaved\) were applied to web\.netpath\.json/);
    assert.match(opened.document.getText(), /TCP default\/client → default\/web1:8080\n {2}without it: unreachable\n {2}with it: {4}reachable\n/);
    if (available()) {
      const shot = await screenshot({ name: 'vscode-whatif' });
      console.log(`what-if screenshot ${shot.file}`);
    }
  });

  test('the policy matrix lens lists the pairs the manifest allows', async () => {
    const r = await vscode.commands.executeCommand<WhatIfResult>('netpath.diagnoseWithManifest', yamlUri, 'matrix');
    assert.deepEqual(r.matrix?.namespaces, ['default']);
    const pair = r.matrix!.changed.find((c) => c.src === 'default/client' && c.dst === 'default/web1' && c.port === 8080);
    assert.ok(pair, r.report);
    assert.deepEqual([pair.before, pair.after], ['denied', 'allowed']);
  });
});
