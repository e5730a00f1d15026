// Hosts the link-path webview: one panel, re-used for each new result; messages both ways only
// through src/shared/webview-protocol.ts; state survives hiding (the app's setState) and reloads
// (the serializer below gets that state back and re-adopts the panel).
//
// Layout: this module never lays anything out (elkjs in the extension host froze VS Code for
// seconds to minutes on large graphs). The run arrives with the server's folded graph; unfolding a
// group asks the server again (`PathPanelHandlers.layout`), shows "Laying out…" in the webview
// meanwhile, and forwards the answer. A newer result or a newer layout request cancels and
// outdates the pending one, so an older layout never overwrites a newer picture.
import * as vscode from 'vscode';
import type { WireResult } from '../shared/severity';
import type { PositionedGraph } from '../engine/report/graph';
import type { LayoutPathParams } from '../shared/protocol';
import {
  directionFor,
  isWebviewState,
  isWebviewToHost,
  splitResult,
  type HostToWebview,
  type PathView,
} from '../shared/webview-protocol';
import { newNonce, pathPanelHtml } from './pathPanelHtml';
import { shown } from '../shared/display';

export const pathPanelViewType = 'netpath.linkPath';

export interface PathPanelHandlers {
  /** Reveal this NetNode in the tree view (the user selected it in the graph). */
  reveal(nodeId: string): void;
  /** Open the report at this suspicion (`nodeId` is `clusterScope` ('') for cluster findings). */
  openEvidence(nodeId: string, suspicionIndex: number): void;
  /** Run the diagnosis shown again; the caller then calls showLinkPath with the new result. */
  rerun(): void;
  /** A new positioned graph of a run from the diagnosis server (netpath/layoutPath). */
  layout(params: LayoutPathParams, token: vscode.CancellationToken): Promise<PositionedGraph>;
}

/** What the panel shows of a run: its result and the server's positioned graph of it. */
export interface PathRun {
  runId: string;
  result: WireResult;
  graph: PositionedGraph;
  finishedAt?: Date;
}

interface Current {
  panel: vscode.WebviewPanel;
  view?: PathView;
  handlers: PathPanelHandlers;
  /** Bumped per result so a layout of an older result never overwrites a newer one. */
  generation: number;
  /** The layout request in flight, cancelled by a newer result or a newer request. */
  pending?: vscode.CancellationTokenSource;
  /** The view's stream to the webview (`postView`), settled once posted or outdated. */
  posting?: Promise<void>;
  /** Asks the server for the view's run with groups changed (or laid out the other way); settles once shown, outdated or failed. */
  relayout(change: (groups: Set<string>) => void, limit?: number, direction?: 'right' | 'down'): Promise<void>;
  /** The webview's last reported size (CSS pixels). */
  size?: { width: number; height: number };
  /** The re-layout a size change asked for, settled once shown. */
  redirected?: Promise<void>;
}

let current: Current | undefined;

function post(c: Current, m: HostToWebview): void {
  void c.panel.webview.postMessage(m);
}

/**
 * Nodes and links per `resultPart`: VS Code serializes a webview message synchronously (about
 * 100 ms per MB measured in code-server), and 250 links are about 130 KB.
 */
const partSize = 250;

/**
 * Posts the current view: its result in slices, yielding to the event loop between them, then the
 * view itself. A newer result stops the stream; the webview only draws a complete result.
 */
async function postView(c: Current): Promise<void> {
  const gen = c.generation;
  const view = c.view;
  if (!view) return;
  const { head, parts } = splitResult(view.result, partSize);
  for (let i = 0; i < parts.length; i++) {
    if (gen !== c.generation) return;
    post(c, { type: 'resultPart', runId: view.runId ?? '', index: i, ...parts[i] });
    await new Promise((r) => setTimeout(r, 0));
  }
  if (gen !== c.generation || !c.view) return;
  post(c, { type: 'showResult', view: { ...c.view, result: head }, parts: parts.length });
}

function setup(context: vscode.ExtensionContext, panel: vscode.WebviewPanel, handlers: PathPanelHandlers): Current {
  const roots = [vscode.Uri.joinPath(context.extensionUri, 'dist'), vscode.Uri.joinPath(context.extensionUri, 'media')];
  panel.webview.options = { enableScripts: true, localResourceRoots: roots };
  panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'pathview-icon.svg');
  panel.webview.html = pathPanelHtml({
    cspSource: panel.webview.cspSource,
    nonce: newNonce(),
    scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview.js')).toString(),
  });
  const relayout = async (change: (groups: Set<string>) => void, limit?: number, direction?: 'right' | 'down'): Promise<void> => {
    const view = c.view;
    if (!view) return;
    if (!view.runId) {
      post(c, { type: 'status', busy: false, message: 'This view cannot be laid out again: run the diagnosis again.' });
      return;
    }
    const groups = new Set(view.graph.expanded);
    change(groups);
    cancelPending(c);
    const pending = (c.pending = new vscode.CancellationTokenSource());
    const gen = c.generation;
    const stale = () => gen !== c.generation || c.pending !== pending || pending.token.isCancellationRequested;
    post(c, { type: 'status', busy: true, message: 'Laying out…' });
    const dir = direction ?? view.graph.direction ?? 'right';
    await c.handlers.layout({ runId: view.runId, expanded: [...groups].sort(), limit: limit ?? view.graph.limit, ...(dir === 'down' ? { direction: dir } : {}) }, pending.token).then(
      (graph) => {
        if (stale() || !c.view) return;
        c.view = { ...c.view, graph };
        post(c, { type: 'showGraph', runId: view.runId!, graph });
        post(c, { type: 'status', busy: false });
      },
      (e: Error) => {
        if (!stale()) post(c, { type: 'status', busy: false, message: `Layout failed: ${e.message}` });
      },
    ).then(() => {
      if (c.pending === pending) c.pending = undefined;
      pending.dispose();
    });
  };
  const c: Current = { panel, handlers, generation: 0, relayout };
  panel.webview.onDidReceiveMessage(
    (m: unknown) => {
      if (!isWebviewToHost(m)) return;
      switch (m.type) {
        case 'ready':
          c.posting = postView(c);
          break;
        case 'reveal':
          c.handlers.reveal(m.nodeId);
          break;
        case 'openEvidence':
          c.handlers.openEvidence(m.nodeId, m.suspicionIndex);
          break;
        case 'rerun':
          post(c, { type: 'status', busy: true, message: 'Running the diagnosis again…' });
          c.handlers.rerun();
          break;
        case 'expandGroup':
          void relayout((s) => s.add(m.groupId), m.limit);
          break;
        case 'collapseGroup':
          void relayout((s) => s.delete(m.groupId));
          break;
        case 'resize':
          c.size = { width: m.width, height: m.height };
          c.redirected = fitDirection(c);
          break;
      }
    },
    undefined,
    context.subscriptions,
  );
  panel.onDidDispose(() => {
    cancelPending(c);
    if (current === c) current = undefined;
  });
  return c;
}

/** Lays the view out the other way when the panel's width asks for it (narrow: top to bottom). */
function fitDirection(c: Current): Promise<void> {
  const view = c.view;
  if (!view?.runId || !c.size) return Promise.resolve();
  const shown = view.graph.direction ?? 'right';
  const want = directionFor(c.size.width, shown);
  return want === shown ? Promise.resolve() : c.relayout(() => {}, undefined, want);
}

function title(r: WireResult): string {
  return shown(`Link Path: ${r.request.src} → ${r.request.dst}:${r.request.port}`);
}

function cancelPending(c: Current): void {
  c.pending?.cancel();
  c.pending = undefined;
}

/** Shows a run in the link-path panel (created on first use, then re-used and revealed). */
export function showLinkPath(context: vscode.ExtensionContext, run: PathRun, handlers: PathPanelHandlers): void {
  const { result } = run;
  if (!current) {
    const panel = vscode.window.createWebviewPanel(pathPanelViewType, title(result), vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist'), vscode.Uri.joinPath(context.extensionUri, 'media')],
    });
    current = setup(context, panel, handlers);
  } else {
    current.handlers = handlers;
    current.panel.reveal(undefined, true);
  }
  const c = current;
  c.panel.title = title(result);
  c.generation++;
  cancelPending(c);
  c.view = { result, graph: run.graph, runId: run.runId, ranAt: (run.finishedAt ?? new Date()).toISOString() };
  post(c, { type: 'status', busy: false });
  // The diagnose result comes laid out left to right: a narrow panel asks for its own layout at once.
  c.posting = postView(c).then(() => {
    c.redirected = fitDirection(c);
  });
}

/** What the panel shows, and the webview's own layout requests: for tests and other extensions. */
export const linkPathApi = {
  view: (): PathView | undefined => current?.view,
  /** Settles once the view's result and graph were posted to the webview. */
  posted: (): Promise<void> => current?.posting ?? Promise.resolve(),
  /** As the webview's "Show next"/"Show all": resolves once the server's graph was forwarded (or outdated). */
  expandGroup: (groupId: string, limit?: number): Promise<void> => current?.relayout((s) => s.add(groupId), limit) ?? Promise.resolve(),
  collapseGroup: (groupId: string): Promise<void> => current?.relayout((s) => s.delete(groupId)) ?? Promise.resolve(),
  /** The webview's size as it last reported it. */
  size: (): { width: number; height: number } | undefined => current?.size,
  /** Settles once the layout the panel's width asked for (if any) is shown. */
  laidOutForWidth: (): Promise<void> => current?.redirected ?? Promise.resolve(),
};

/** Selects the node in the open panel (the tree selected it); no `reveal` comes back. */
export function revealInGraph(nodeId: string): void {
  if (current) post(current, { type: 'selectNode', nodeId });
}

/** Restores the panel after a window reload from the state the webview saved. */
export function registerPathPanelSerializer(context: vscode.ExtensionContext, handlers: PathPanelHandlers): vscode.Disposable {
  const d = vscode.window.registerWebviewPanelSerializer(pathPanelViewType, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
      current?.panel.dispose();
      const c = setup(context, panel, handlers);
      current = c;
      if (isWebviewState(state) && state.view) {
        c.view = state.view;
        panel.title = title(state.view.result);
      }
    },
  });
  context.subscriptions.push(d);
  return d;
}
