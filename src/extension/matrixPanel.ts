// "Network Path: Show Connectivity Matrix": who can talk to whom in a namespace, computed by the
// server (netpath/matrix, in its worker) on the current source, drawn in a webview grid
// (webview/matrix-app.ts, contract src/shared/matrix-protocol.ts). Choosing a cell diagnoses that
// pair on the same source and shows it as any diagnosis (the run in the tree, its findings in the
// Problems panel, its link path).
//
// A window reload: the serializer below gets back the state the app saved (the matrix drawn and
// its query: source, namespaces, policy-only) and adopts the panel (matrixRestore.ts decides). The
// matrix is drawn again as it was; one saved before its answer is asked again on a snapshot (a live
// cluster waits for Run again: collector pods); when neither works (no query kept, the snapshot
// gone), the panel says so and offers Run again.
import * as vscode from 'vscode';
import { CancelledError } from '../shared/errors';
import { isMatrixToHost, matrixQuery, type HostToMatrix, type MatrixQuery, type MatrixView } from '../shared/matrix-protocol';
import { ListEndpointsRequest, MatrixRequest, type MatrixParams, type SourceSpec } from '../shared/protocol';
import { notice, shown } from '../shared/display';
import type { Ctx } from './ctx';
import { newNonce, pathPanelHtml } from './pathPanelHtml';
import { matrixRestore } from './matrixRestore';
import { pickOne } from './pickers';
import type { Run } from './runs';

export const matrixPanelViewType = 'netpath.matrix';

/** Arguments a caller (a test, another extension) may pass to skip the pickers. */
export interface MatrixArgs {
  namespace?: string;
  policyOnly?: boolean;
  /** A snapshot path to use (and remember) as the source. */
  snapshot?: string;
}

interface Panel {
  ctx: Ctx;
  panel: vscode.WebviewPanel;
  view?: MatrixView;
  /** Absent after a reload that kept no source (an unsaved snapshot's text is not kept). */
  source?: SourceSpec;
  /** Absent after a reload that kept no query: Refresh then asks for one. */
  params?: Omit<MatrixParams, 'source'>;
  /** Said in place of a matrix that could not be restored nor computed again. */
  unavailable?: string;
  /** Said in the status line of a restored matrix (its snapshot gone). */
  note?: string;
}

let current: Panel | undefined;
/** Settles when the pair chosen last in the grid has been diagnosed (for tests). */
let lastPair: Promise<Run | undefined> = Promise.resolve(undefined);

function post(p: Panel, m: HostToMatrix): void {
  void p.panel.webview.postMessage(m);
}

/** The namespace to show: the argument, else a quick pick of the source's namespaces (those with pods first). */
async function pickNamespace(ctx: Ctx, source: SourceSpec): Promise<string | undefined> {
  const eps = await ctx.sourceRequest(ListEndpointsRequest, { source }, `Network Path: listing namespaces of ${ctx.sourceLabel(source)}`);
  if (!eps) return undefined;
  const pods = new Map<string, number>();
  for (const p of eps.pods) if (p.ips.length) pods.set(p.namespace, (pods.get(p.namespace) ?? 0) + 1);
  const names = [...new Set([...eps.namespaces, ...pods.keys()])].sort((a, b) => (pods.get(b) ?? 0) - (pods.get(a) ?? 0) || (a < b ? -1 : 1));
  const items = names.map((n) => ({ label: shown(n), description: `${pods.get(n) ?? 0} pod${pods.get(n) === 1 ? '' : 's'} with an address`, value: n }));
  return pickOne(ctx, 'namespace', 'Network Path: connectivity matrix', 'The namespace whose pods to check against each other', items);
}

function queryOf(p: Panel): MatrixQuery | undefined {
  return p.params && matrixQuery(p.source, p.params.namespaces, p.params.policyOnly === true);
}

const titleOf = (namespaces: string[]) => shown(`Connectivity: ${namespaces.join(', ')}`);

/**
 * Asks the server for the panel's matrix. `restoring`: after a window reload, where a failure is
 * said in the panel (Run again) rather than in a notification over a window just opened.
 */
async function compute(ctx: Ctx, p: Panel, restoring = false): Promise<void> {
  if (!p.source || !p.params) return;
  post(p, { type: 'status', busy: true, message: 'Computing the matrix…' });
  const failed = (message: string) => {
    if (p.view) return post(p, { type: 'status', busy: false, message });
    p.unavailable = message;
    post(p, { type: 'status', busy: false });
    post(p, { type: 'unavailable', message });
  };
  const cancelled = () => failed(p.view ? 'Cancelled.' : 'Cancelled before the matrix was computed.');
  try {
    const matrix = await ctx.sourceRequest(MatrixRequest, { source: p.source, ...p.params, overrides: ctx.settings.detected }, `Network Path: connectivity matrix of ${p.params.namespaces.join(', ')}`);
    if (!matrix) return cancelled();
    p.view = { matrix, ranAt: new Date().toISOString() };
    p.unavailable = p.note = undefined;
    ctx.log.info(`matrix ${p.params.namespaces.join(', ')} on ${matrix.sourceLabel}: ${matrix.pods.length} pods, ${matrix.cells.length} cells`);
    post(p, { type: 'showMatrix', view: p.view });
    post(p, { type: 'status', busy: false });
  } catch (e) {
    if (e instanceof CancelledError) return cancelled();
    const message = (e as Error).message;
    failed(restoring ? `The matrix could not be computed again after the window reloaded: ${message}` : `The matrix failed: ${message}`);
    if (!restoring) void vscode.window.showErrorMessage(notice(`Network Path: ${message}`));
  }
}

/** Diagnoses one pair of the grid on the matrix's source and shows it like any diagnosis. */
async function diagnosePair(ctx: Ctx, p: Panel, req: { src: string; dst: string; port: number; protocol: 'tcp' | 'udp' | 'sctp' }): Promise<Run | undefined> {
  if (!p.source) {
    post(p, { type: 'status', busy: false, message: 'The source of this matrix was not kept over the reload: Refresh to choose it again.' });
    return undefined;
  }
  post(p, { type: 'status', busy: true, message: shown(`Diagnosing ${req.src} → ${req.dst}:${req.port}…`) });
  const run = await ctx.diagnose(p.source, req);
  post(p, { type: 'status', busy: false, message: run ? shown(`${req.src} → ${req.dst}:${req.port}: ${run.result.verdict}`) : undefined });
  if (run) await vscode.commands.executeCommand('netpath.showLinkPath', run.runId);
  return run;
}

/** Makes `panel` the matrix panel: its page, and its messages. */
function setup(ctx: Ctx, panel: vscode.WebviewPanel): Panel {
  const ext = ctx.extension.extensionUri;
  panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(ext, 'dist'), vscode.Uri.joinPath(ext, 'media')] };
  panel.iconPath = vscode.Uri.joinPath(ext, 'media', 'pathview-icon.svg');
  panel.webview.html = pathPanelHtml({
    cspSource: panel.webview.cspSource,
    nonce: newNonce(),
    scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview.js')).toString(),
    title: 'Connectivity Matrix',
    view: 'matrix',
  });
  const p: Panel = { ctx, panel };
  panel.webview.onDidReceiveMessage((m: unknown) => {
    if (!isMatrixToHost(m)) return;
    switch (m.type) {
      case 'ready': {
        // The page (re)loaded: what it is for, then what it shows.
        const query = queryOf(p);
        if (query) post(p, { type: 'showQuery', query });
        if (p.view) post(p, { type: 'showMatrix', view: p.view });
        else if (p.unavailable) post(p, { type: 'unavailable', message: p.unavailable });
        if (p.note) post(p, { type: 'status', busy: false, message: p.note });
        break;
      }
      case 'refresh':
        // Nothing to repeat (restored without a query or a source): ask as the command does, into this panel.
        if (p.source && p.params) void compute(ctx, p);
        else void vscode.commands.executeCommand('netpath.showMatrix');
        break;
      case 'diagnosePair':
        lastPair = diagnosePair(ctx, p, m);
        break;
    }
  }, undefined, ctx.extension.subscriptions);
  panel.onDidDispose(() => {
    if (current === p) current = undefined;
  });
  return p;
}

function open(ctx: Ctx, source: SourceSpec, params: NonNullable<Panel['params']>): Panel {
  const p = current ?? setup(ctx, vscode.window.createWebviewPanel(matrixPanelViewType, titleOf(params.namespaces), vscode.ViewColumn.Active, { enableScripts: true, retainContextWhenHidden: false }));
  if (current) current.panel.reveal(undefined, false);
  current = p;
  p.source = source;
  p.params = params;
  p.note = undefined;
  p.panel.title = titleOf(params.namespaces);
  post(p, { type: 'showQuery', query: queryOf(p)! });
  return p;
}

/**
 * Adopts a matrix panel VS Code restored after a window reload, with the state its app saved:
 * the matrix drawn again, else computed again, else said to be unavailable (Run again).
 * Resolves once the panel shows what it can.
 */
export async function restoreMatrixPanel(ctx: Ctx, panel: vscode.WebviewPanel, state: unknown): Promise<void> {
  if (current && current.panel !== panel) current.panel.dispose();
  const p = (current = setup(ctx, panel));
  const r = matrixRestore(state);
  if (r.query) {
    p.params = { namespaces: r.query.namespaces, policyOnly: r.query.policyOnly };
    p.source = r.query.source;
    panel.title = titleOf(r.query.namespaces);
  }
  switch (r.kind) {
    case 'draw': {
      p.view = r.view;
      // Drawn as it was; a snapshot gone since is said, as Refresh and a cell's diagnosis will fail.
      const s = p.source;
      if (s?.kind === 'snapshot' && 'path' in s && !(await exists(s.path))) {
        p.note = shown(`Restored as computed before the reload; its snapshot ${s.path} is no longer there.`);
        post(p, { type: 'status', busy: false, message: p.note });
      }
      return;
    }
    case 'compute':
      return compute(ctx, p, true);
    case 'unavailable':
      p.unavailable = r.message;
      post(p, { type: 'unavailable', message: r.message });
  }
}

async function exists(path: string): Promise<boolean> {
  return vscode.workspace.fs.stat(vscode.Uri.file(path)).then(() => true, () => false);
}

/** The extension's context, once the serializer is registered (matrixApi.restore uses it). */
let restoringCtx: Ctx | undefined;

/** Restores the matrix panel after a window reload (package.json activates on its view type). */
export function registerMatrixPanelSerializer(ctx: Ctx): vscode.Disposable {
  restoringCtx = ctx;
  const d = vscode.window.registerWebviewPanelSerializer(matrixPanelViewType, {
    deserializeWebviewPanel: (panel, state) => restoreMatrixPanel(ctx, panel, state),
  });
  ctx.extension.subscriptions.push(d);
  return d;
}

/** The command: the source (the current one, or the snapshot given), a namespace, then the panel. */
export async function showMatrix(ctx: Ctx, args: MatrixArgs, ensureSource: () => Promise<SourceSpec | undefined>): Promise<MatrixView | undefined> {
  let source: SourceSpec | undefined;
  if (args.snapshot) {
    source = { kind: 'snapshot', path: args.snapshot };
    await ctx.setSource(source);
  } else source = await ensureSource();
  if (!source) return undefined;
  const namespace = args.namespace ?? (await pickNamespace(ctx, source));
  if (!namespace) return undefined;
  const p = open(ctx, source, { namespaces: [namespace], policyOnly: args.policyOnly === true });
  await compute(ctx, p);
  return p.view;
}

/** The matrix panel as it is now: for tests and other extensions. */
export const matrixApi = {
  view: (): MatrixView | undefined => current?.view,
  /** What the panel says in place of a matrix it could not restore nor compute again. */
  unavailable: (): string | undefined => current?.unavailable,
  /** The status note of a restored matrix (its snapshot gone). */
  note: (): string | undefined => current?.note,
  /** As VS Code's restore after a window reload (the registered serializer does the same), for tests. */
  restore: (panel: vscode.WebviewPanel, state: unknown): Promise<void> => (restoringCtx ? restoreMatrixPanel(restoringCtx, panel, state) : Promise.resolve()),
  /** As a click on a cell: diagnoses the pair on the matrix's source and opens its result. */
  diagnosePair: (req: { src: string; dst: string; port: number; protocol: 'tcp' | 'udp' | 'sctp' }): Promise<Run | undefined> =>
    current ? (lastPair = diagnosePair(current.ctx, current, req)) : Promise.resolve(undefined),
  /** Settles once the pair chosen last in the grid was diagnosed. */
  lastPair: (): Promise<Run | undefined> => lastPair,
};
