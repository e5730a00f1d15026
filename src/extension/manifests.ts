// Manifests in the editor, saved or not: "Network Path: Diagnose with This Manifest" and a CodeLens
// on NetworkPolicy and Service documents ("Check connectivity impact") overlay the editor's text on
// the last run's source and ask the server (netpath/whatIf) what changes — the last request's
// verdict without and with it, or the namespace's NetworkPolicy matrix pairs that become denied or
// allowed. The answer opens as a read-only document beside the manifest. Nothing here activates
// the extension: lenses show once netpath is active and has a source or a run.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { isClusterSpec, WhatIfRequest, type WhatIfResult } from '../shared/protocol';
import { notice } from '../shared/display';
import { CancelledError } from '../shared/errors';
import type { Ctx } from './ctx';
import { requestLabel } from './labels';

export const whatIfScheme = 'netpath-whatif';
export type WhatIfMode = 'request' | 'matrix';

/** A top-level `kind:` line naming a kind whose change a what-if can judge. */
const lensKind = /^kind:\s*["']?(NetworkPolicy|Service)["']?\s*(#.*)?$/;

/** The what-if answers as read-only documents (a content provider has no save). */
class WhatIfDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(uri: vscode.Uri, text: string): void {
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
  }
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? 'This what-if is no longer loaded: run "Network Path: Diagnose with This Manifest" again.\n';
  }
  dispose(): void {
    this.changed.dispose();
  }
}

class ManifestLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.sub = ctx.runs.onDidChange(() => this.changed.fire());
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.ctx.runs.latest && !this.ctx.source) return [];
    const out: vscode.CodeLens[] = [];
    // The titles do not depend on the runs: what "connectivity impact" diagnoses is decided when
    // it runs (the last request, else the policy matrix), so a lens drawn earlier is never stale.
    for (let i = 0; i < doc.lineCount; i++) {
      if (!lensKind.test(doc.lineAt(i).text)) continue;
      const range = doc.lineAt(i).range;
      out.push(new vscode.CodeLens(range, {
        title: '$(debug-alt) Check connectivity impact',
        tooltip: 'Diagnose the last request (before any run, or on a live cluster: the policy matrix) with this manifest as the editor holds it overlaid',
        command: 'netpath.diagnoseWithManifest',
        arguments: [doc.uri],
      }));
      out.push(new vscode.CodeLens(range, {
        title: 'Policy matrix impact',
        tooltip: 'Which pod pairs of the manifest\'s namespaces become denied or allowed with this manifest overlaid',
        command: 'netpath.diagnoseWithManifest',
        arguments: [doc.uri, 'matrix' satisfies WhatIfMode],
      }));
    }
    return out;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

/** What a what-if changed, in one line for the notification. */
function summary(r: WhatIfResult): string {
  if (r.request) {
    const q = r.request;
    return `${requestLabel(q.request)}: ${q.before} → ${q.after}${q.before === q.after ? ' (unchanged)' : ''}`;
  }
  const m = r.matrix!;
  const denied = m.changed.filter((c) => c.after === 'denied').length;
  const allowed = m.changed.filter((c) => c.after === 'allowed').length;
  return m.changedCount
    ? `${m.namespaces.join(', ')}: ${denied} pair-port${denied === 1 ? '' : 's'} become denied, ${allowed} become allowed${m.changedCount > m.changed.length ? ` (of the first ${m.changed.length} of ${m.changedCount} changes)` : ''}`
    : `${m.namespaces.join(', ')}: no pod pair changes`;
}

export interface ManifestFeatures extends vscode.Disposable {
  /** Fired with each what-if answer (tests read it as the user reads the document). */
  readonly onDidFinishWhatIf: vscode.Event<{ result: WhatIfResult; document: vscode.Uri }>;
}

export function registerManifestFeatures(ctx: Ctx): ManifestFeatures {
  const documents = new WhatIfDocuments();
  const lenses = new ManifestLenses(ctx);
  const finished = new vscode.EventEmitter<{ result: WhatIfResult; document: vscode.Uri }>();
  let count = 0;

  async function diagnoseWithManifest(target?: unknown, mode?: unknown): Promise<WhatIfResult | undefined> {
    const doc = target instanceof vscode.Uri ? await vscode.workspace.openTextDocument(target) : vscode.window.activeTextEditor?.document;
    if (!doc || doc.languageId !== 'yaml') {
      void vscode.window.showWarningMessage('Network Path: open a Kubernetes manifest (YAML) to diagnose with it.');
      return undefined;
    }
    const latest = ctx.runs.latest;
    const source = latest?.source ?? ctx.source;
    if (!source) {
      const a = await vscode.window.showWarningMessage('Network Path: choose a cluster or snapshot first; the manifest is overlaid on it.', 'Choose Cluster or Snapshot…');
      if (a) void vscode.commands.executeCommand('netpath.chooseSource');
      return undefined;
    }
    // A live cluster's dumps are collected per run: there the what-if is the policy matrix (objects only).
    const request = mode === 'matrix' || isClusterSpec(source) ? undefined : latest?.result.request;
    const name = doc.isUntitled ? 'unsaved manifest' : `${basename(doc.uri.fsPath)}${doc.isDirty ? ' (unsaved)' : ''}`;
    try {
      const r = await ctx.sourceRequest(WhatIfRequest, { source, manifest: { name, text: doc.getText() }, ...(request ? { request } : {}), overrides: ctx.settings.detected },
        `Network Path: what if ${name}`);
      if (!r) return undefined;
      const uri = vscode.Uri.from({ scheme: whatIfScheme, path: `/what-if-${++count}-${basename(doc.uri.path).replace(/[^\w.-]/g, '_')}.txt` });
      documents.set(uri, r.report);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
      ctx.log.info(`what-if ${name}: ${summary(r)}`);
      finished.fire({ result: r, document: uri });
      void vscode.window.showInformationMessage(notice(`Network Path, with ${name}: ${summary(r)}`));
      return r;
    } catch (e) {
      if (e instanceof CancelledError) return undefined;
      const message = e instanceof Error ? e.message : String(e);
      ctx.log.error(`what-if ${name}: ${message}`);
      void vscode.window.showErrorMessage(notice(`Network Path: ${message}`), 'Show Log').then((a) => a && ctx.log.show());
      return undefined;
    }
  }

  const selector: vscode.DocumentSelector = [{ language: 'yaml', scheme: 'file' }, { language: 'yaml', scheme: 'untitled' }];
  const disposables: vscode.Disposable[] = [
    documents, lenses, finished,
    vscode.workspace.registerTextDocumentContentProvider(whatIfScheme, documents),
    vscode.languages.registerCodeLensProvider(selector, lenses),
    vscode.commands.registerCommand('netpath.diagnoseWithManifest', diagnoseWithManifest),
  ];
  return {
    onDidFinishWhatIf: finished.event,
    dispose: () => disposables.forEach((d) => d.dispose()),
  };
}
