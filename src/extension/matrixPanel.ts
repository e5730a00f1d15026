// "Network Path: Show Connectivity Matrix": who can talk to whom in a namespace, computed by the
// server (netpath/matrix, in its worker) on the current source, drawn in a webview grid
// (webview/matrix-app.ts, contract src/shared/matrix-protocol.ts). Choosing a cell diagnoses that
// pair on the same source and shows it as any diagnosis (the run in the tree, its findings in the
// Problems panel, its link path).
import * as vscode from 'vscode';
import { CancelledError } from '../shared/errors';
import { isMatrixToHost, type HostToMatrix, type MatrixView } from '../shared/matrix-protocol';
import { ListEndpointsRequest, MatrixRequest, type MatrixParams, type SourceSpec } from '../shared/protocol';
import { notice, shown } from '../shared/display';
import type { Ctx } from './ctx';
import { newNonce, pathPanelHtml } from './pathPanelHtml';
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
  source: SourceSpec;
  params: Omit<MatrixParams, 'source'>;
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

async function compute(ctx: Ctx, p: Panel): Promise<void> {
  post(p, { type: 'status', busy: true, message: 'Computing the matrix…' });
  try {
    const matrix = await ctx.sourceRequest(MatrixRequest, { source: p.source, ...p.params, overrides: ctx.settings.detected }, `Network Path: connectivity matrix of ${p.params.namespaces.join(', ')}`);
    if (!matrix) return post(p, { type: 'status', busy: false, message: 'Cancelled.' });
    p.view = { matrix, ranAt: new Date().toISOString() };
    ctx.log.info(`matrix ${p.params.namespaces.join(', ')} on ${matrix.sourceLabel}: ${matrix.pods.length} pods, ${matrix.cells.length} cells`);
    post(p, { type: 'showMatrix', view: p.view });
    post(p, { type: 'status', busy: false });
  } catch (e) {
    const message = e instanceof CancelledError ? 'Cancelled.' : `The matrix failed: ${(e as Error).message}`;
    post(p, { type: 'status', busy: false, message });
    if (!(e instanceof CancelledError)) void vscode.window.showErrorMessage(notice(`Network Path: ${(e as Error).message}`));
  }
}

/** Diagnoses one pair of the grid on the matrix's source and shows it like any diagnosis. */
async function diagnosePair(ctx: Ctx, p: Panel, req: { src: string; dst: string; port: number; protocol: 'tcp' | 'udp' | 'sctp' }): Promise<Run | undefined> {
  post(p, { type: 'status', busy: true, message: shown(`Diagnosing ${req.src} → ${req.dst}:${req.port}…`) });
  const run = await ctx.diagnose(p.source, req);
  post(p, { type: 'status', busy: false, message: run ? shown(`${req.src} → ${req.dst}:${req.port}: ${run.result.verdict}`) : undefined });
  if (run) await vscode.commands.executeCommand('netpath.showLinkPath', run.runId);
  return run;
}

function open(ctx: Ctx, source: SourceSpec, params: Panel['params']): Panel {
  const title = shown(`Connectivity: ${params.namespaces.join(', ')}`);
  if (current) {
    current.source = source;
    current.params = params;
    current.panel.title = title;
    current.panel.reveal(undefined, false);
    return current;
  }
  const ext = ctx.extension.extensionUri;
  const roots = [vscode.Uri.joinPath(ext, 'dist'), vscode.Uri.joinPath(ext, 'media')];
  const panel = vscode.window.createWebviewPanel(matrixPanelViewType, title, vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: roots, retainContextWhenHidden: false });
  panel.iconPath = vscode.Uri.joinPath(ext, 'media', 'pathview-icon.svg');
  panel.webview.html = pathPanelHtml({
    cspSource: panel.webview.cspSource,
    nonce: newNonce(),
    scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview.js')).toString(),
    title: 'Connectivity Matrix',
    view: 'matrix',
  });
  const p: Panel = { ctx, panel, source, params };
  panel.webview.onDidReceiveMessage((m: unknown) => {
    if (!isMatrixToHost(m)) return;
    switch (m.type) {
      case 'ready':
        if (p.view) post(p, { type: 'showMatrix', view: p.view });
        break;
      case 'refresh':
        void compute(ctx, p);
        break;
      case 'diagnosePair':
        lastPair = diagnosePair(ctx, p, m);
        break;
    }
  }, undefined, ctx.extension.subscriptions);
  panel.onDidDispose(() => {
    if (current === p) current = undefined;
  });
  current = p;
  return p;
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
  /** As a click on a cell: diagnoses the pair on the matrix's source and opens its result. */
  diagnosePair: (req: { src: string; dst: string; port: number; protocol: 'tcp' | 'udp' | 'sctp' }): Promise<Run | undefined> =>
    current ? (lastPair = diagnosePair(current.ctx, current, req)) : Promise.resolve(undefined),
  /** Settles once the pair chosen last in the grid was diagnosed. */
  lastPair: (): Promise<Run | undefined> => lastPair,
};
