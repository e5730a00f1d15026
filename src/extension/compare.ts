// "Network Path: Compare with Snapshot…": what changed between the snapshot in use (or of the last
// run) and another one the user picks, computed by the server (netpath/snapshotDiff, in its
// worker). With the last run's request on that snapshot, both are diagnosed and the differences
// on its path come first. Shown in the Compare view: the verdicts, "On the path", "Elsewhere";
// each difference opens what it names — a rule, route or other stack entry at its line in the
// compare report, an object in the workspace manifest that defines it (else the snapshot's copy as
// YAML).
import * as vscode from 'vscode';
import { CancelledError } from '../shared/errors';
import { isClusterSpec, SnapshotDiffRequest, type DiffItem, type SnapshotDiffResult, type SourceSpec } from '../shared/protocol';
import type { DiagnosisRequest } from '../engine/model/result';
import { notice, shown } from '../shared/display';
import type { Ctx } from './ctx';

export const compareScheme = 'netpath-compare';
export const compareViewId = 'netpath.compare';

/** Arguments a caller (a test, another extension) may pass to skip the dialogs. */
export interface CompareArgs {
  /** Snapshot a (before); default the snapshot in use, else the last run's. */
  a?: string;
  /** Snapshot b (after); default: asked with a file dialog. */
  b?: string;
  /** The path to judge; default the last run's request on snapshot a; `null` for none. */
  request?: DiagnosisRequest | null;
}

/** One compare result as the view and the documents show it. */
export interface Comparison {
  id: string;
  result: SnapshotDiffResult;
  reportUri: vscode.Uri;
}

type Element =
  | { kind: 'verdict'; c: Comparison }
  | { kind: 'section'; c: Comparison; onPath: boolean }
  | { kind: 'item'; c: Comparison; item: DiffItem; index: number; onPath: boolean }
  | { kind: 'note'; c: Comparison; text: string };

const base = (p: string) => p.split(/[\\/]/).pop() ?? p;

class CompareTree implements vscode.TreeDataProvider<Element>, vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Element | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly docChanged = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.docChanged.event;
  current: Comparison | undefined;
  private readonly docs = new Map<string, string>();

  show(c: Comparison): void {
    this.current = c;
    this.docs.clear();
    this.docs.set(c.reportUri.toString(), c.result.report);
    this.changed.fire(undefined);
    this.docChanged.fire(c.reportUri);
  }

  /** A virtual document (the report, or an object's YAML from the snapshot). */
  put(uri: vscode.Uri, text: string): void {
    this.docs.set(uri.toString(), text);
    this.docChanged.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? 'This comparison is no longer available: run Compare with Snapshot… again.';
  }

  getChildren(el?: Element): Element[] {
    const c = this.current;
    if (!c) return [];
    const r = c.result;
    if (!el) {
      const out: Element[] = [];
      if (r.verdict) out.push({ kind: 'verdict', c });
      if (r.request) out.push({ kind: 'section', c, onPath: true });
      out.push({ kind: 'section', c, onPath: false });
      const only = [...r.dumpsOnlyIn.a.map((n) => `node ${n}: dump only in a`), ...r.dumpsOnlyIn.b.map((n) => `node ${n}: dump only in b`)];
      for (const text of only) out.push({ kind: 'note', c, text });
      return out;
    }
    if (el.kind !== 'section') return [];
    const items = el.onPath ? r.onPath : r.rest;
    return items.map((item, index) => ({ kind: 'item', c, item, index, onPath: el.onPath }));
  }

  getTreeItem(el: Element): vscode.TreeItem {
    const r = el.c.result;
    switch (el.kind) {
      case 'verdict': {
        const v = r.verdict!;
        const t = new vscode.TreeItem(shown(`${r.request!.src} → ${r.request!.dst}:${r.request!.port}: ${v.a} → ${v.b}`));
        t.description = v.changed ? 'verdict changed' : 'verdict unchanged';
        t.tooltip = shown(`${base(r.a)}: ${v.a}${v.aError ? ` (${v.aError})` : ''}\n${base(r.b)}: ${v.b}${v.bError ? ` (${v.bError})` : ''}`);
        t.iconPath = new vscode.ThemeIcon(v.b === 'reachable' ? 'pass' : v.b === 'unreachable' ? 'error' : 'question');
        t.command = { command: 'vscode.open', title: 'Open the compare report', arguments: [el.c.reportUri] };
        return t;
      }
      case 'section': {
        const n = (el.onPath ? r.onPath : r.rest).length;
        const t = new vscode.TreeItem(el.onPath ? `On the path (${n})` : r.request ? `Elsewhere (${n})` : `Differences (${n})`,
          n === 0 ? vscode.TreeItemCollapsibleState.None : el.onPath || !r.request ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        t.id = `${el.c.id}:${el.onPath ? 'path' : 'rest'}`;
        t.iconPath = new vscode.ThemeIcon(el.onPath ? 'debug-stackframe' : 'list-unordered');
        return t;
      }
      case 'item': {
        const it = el.item;
        const t = new vscode.TreeItem(shown(it.title));
        t.id = `${el.c.id}:${el.onPath ? 'path' : 'rest'}:${el.index}`;
        t.description = shown(it.why ? `${it.where} — ${it.why}` : it.where);
        const lines = [it.title, it.where, ...(it.why ? [`why here: ${it.why}`] : []), ...(it.object?.fields.length ? [`fields: ${it.object.fields.join(', ')}`] : [])];
        t.tooltip = shown(lines.join('\n'));
        t.iconPath = new vscode.ThemeIcon(it.change === 'added' ? 'diff-added' : it.change === 'removed' ? 'diff-removed' : 'diff-modified');
        t.contextValue = `netpath.difference.${it.type}`;
        t.command = { command: 'netpath.openDifference', title: 'Open', arguments: [el.c.id, el.onPath, el.index] };
        return t;
      }
      case 'note':
        return Object.assign(new vscode.TreeItem(shown(el.text)), { iconPath: new vscode.ThemeIcon('info') });
    }
  }

  dispose(): void {
    this.changed.dispose();
    this.docChanged.dispose();
  }
}

let tree: CompareTree | undefined;
let counter = 0;

function treeFor(ctx: Ctx): CompareTree {
  if (tree) return tree;
  const t = (tree = new CompareTree());
  const view = vscode.window.createTreeView(compareViewId, { treeDataProvider: t, showCollapseAll: true });
  ctx.extension.subscriptions.push(t, view, vscode.workspace.registerTextDocumentContentProvider(compareScheme, t), {
    dispose: () => {
      if (tree === t) tree = undefined;
    },
  });
  return t;
}

/** Snapshot a: the argument, the snapshot in use, else the last run's snapshot, else a dialog. */
async function snapshotA(ctx: Ctx, given?: string): Promise<string | undefined> {
  if (given) return given;
  const path = (s: SourceSpec | undefined) => (s && !isClusterSpec(s) && 'path' in s ? s.path : undefined);
  const found = path(ctx.source) ?? path(ctx.runs.latest?.source);
  if (found) return found;
  const uris = await vscode.window.showOpenDialog({ title: 'Compare: the snapshot before (a)', canSelectMany: false, openLabel: 'Use as a', filters: { 'Network Path snapshot': ['json'] } });
  return uris?.[0]?.fsPath;
}

export async function compareWithSnapshot(ctx: Ctx, args: CompareArgs = {}): Promise<Comparison | undefined> {
  const a = await snapshotA(ctx, args.a);
  if (!a) return undefined;
  let b = args.b;
  if (!b) {
    const uris = await vscode.window.showOpenDialog({ title: `Compare ${base(a)} with…`, canSelectMany: false, openLabel: 'Compare', filters: { 'Network Path snapshot': ['json'] } });
    b = uris?.[0]?.fsPath;
  }
  if (!b) return undefined;
  // The last run on snapshot a gives the path to judge.
  const last = [...ctx.runs.all].reverse().find((r) => !isClusterSpec(r.source) && 'path' in r.source && r.source.path === a);
  const request = args.request === null ? undefined : args.request ?? last?.result.request;
  const title = `Network Path: comparing ${base(a)} with ${base(b)}`;
  try {
    const result = await ctx.server.request(SnapshotDiffRequest, { a, b, ...(request ? { request: { src: request.src, dst: request.dst, port: request.port, protocol: request.protocol } } : {}) }, title);
    const id = `compare-${++counter}`;
    const c: Comparison = { id, result, reportUri: vscode.Uri.from({ scheme: compareScheme, path: `/${id}/${base(a)} ↔ ${base(b)}.txt` }) };
    const t = treeFor(ctx);
    t.show(c);
    await vscode.commands.executeCommand('setContext', 'netpath.hasComparison', true);
    await vscode.commands.executeCommand(`${compareViewId}.focus`);
    ctx.log.info(`compare ${a} with ${b}: ${result.onPath.length} on the path, ${result.rest.length} elsewhere`);
    return c;
  } catch (e) {
    if (!(e instanceof CancelledError)) void vscode.window.showErrorMessage(notice(`Network Path: ${(e as Error).message}`));
    return undefined;
  }
}

/**
 * Opens what a difference names: a stack entry at its line in the compare report; an object in the
 * workspace manifest that defines it, else the snapshot's copy as YAML at its name.
 */
export async function openDifference(ctx: Ctx, id: string, onPath: boolean, index: number): Promise<vscode.TextEditor | undefined> {
  const t = tree;
  const c = t?.current;
  if (!t || !c || c.id !== id) return undefined;
  const item = (onPath ? c.result.onPath : c.result.rest)[index];
  if (!item) return undefined;
  const at = async (uri: vscode.Uri, line: number) => {
    const doc = await vscode.workspace.openTextDocument(uri);
    const pos = new vscode.Position(Math.min(line, doc.lineCount - 1), 0);
    return vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: true });
  };
  if (!item.object) return at(c.reportUri, item.line);
  const o = item.object;
  const manifest = await findManifest(o.kind, o.name, o.namespace);
  if (manifest) return at(manifest.uri, manifest.line);
  const uri = vscode.Uri.from({ scheme: compareScheme, path: `/${id}/${o.kind}-${o.namespace ? `${o.namespace}-` : ''}${o.name}.yaml` });
  t.put(uri, o.yaml);
  const editor = await at(uri, o.nameLine);
  await vscode.languages.setTextDocumentLanguage(editor.document, 'yaml').then(undefined, () => undefined);
  return editor;
}

/** The workspace YAML document (of any multi-document file) that defines kind/namespace/name, and the line of its name. */
export async function findManifest(kind: string, name: string, namespace?: string): Promise<{ uri: vscode.Uri; line: number } | undefined> {
  if (!vscode.workspace.workspaceFolders?.length) return undefined;
  const files = await vscode.workspace.findFiles('**/*.{yaml,yml}', '**/node_modules/**', 2000);
  files.sort((x, y) => (x.fsPath < y.fsPath ? -1 : 1));
  for (const uri of files) {
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      continue;
    }
    const line = manifestLine(text, kind, name, namespace);
    if (line !== undefined) return { uri, line };
  }
  return undefined;
}

const quoted = (s: string) => `["']?${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?`;

/** The line of `name:` under `metadata:` in the document of `text` that is that object (a namespace that is not written matches any). */
export function manifestLine(text: string, kind: string, name: string, namespace?: string): number | undefined {
  const lines = text.split(/\r?\n/);
  let start = 0;
  for (let i = 0; i <= lines.length; i++) {
    if (i < lines.length && !/^---(\s|$)/.test(lines[i])) continue;
    const doc = lines.slice(start, i);
    const kindOk = doc.some((l) => new RegExp(`^kind:\\s*${quoted(kind)}\\s*(#.*)?$`).test(l));
    const meta = doc.findIndex((l) => /^metadata:\s*(#.*)?$/.test(l));
    if (kindOk && meta >= 0) {
      let nameAt = -1;
      let ns: string | undefined;
      let indent: string | undefined;
      for (let j = meta + 1; j < doc.length && /^(\s|$|#)/.test(doc[j]); j++) {
        const m = /^(\s+)(name|namespace):\s*["']?([^"'#\s]+)["']?\s*(#.*)?$/.exec(doc[j]);
        // Only metadata's own fields (its first indentation), not a label or annotation named so.
        indent ??= /^(\s+)\S/.exec(doc[j])?.[1];
        if (!m || m[1] !== indent) continue;
        if (m[2] === 'name' && m[3] === name) nameAt = j;
        if (m[2] === 'namespace') ns = m[3];
      }
      if (nameAt >= 0 && (!namespace || !ns || ns === namespace)) return start + nameAt;
    }
    start = i + 1;
  }
  return undefined;
}

export const compareCommands = {
  'netpath.compareSnapshot': (ctx: Ctx) => (args?: unknown) => compareWithSnapshot(ctx, args && typeof args === 'object' && !(args instanceof vscode.Uri) ? (args as CompareArgs) : args instanceof vscode.Uri ? { b: args.fsPath } : {}),
  'netpath.openDifference': (ctx: Ctx) => (id: string, onPath: boolean, index: number) => openDifference(ctx, id, onPath, index),
};

/** The comparison shown in the Compare view: for tests and other extensions. */
export const compareApi = {
  current: (): Comparison | undefined => tree?.current,
};
