// Hosts the link-path webview: one panel, re-used for each new result; messages both ways only
// through src/shared/webview-protocol.ts; state survives hiding (the app's setState) and reloads
// (the serializer below gets that state back and re-adopts the panel).
//
// Layout: the webview never runs elkjs. If the result arrives with a `layout` (computed by the
// server or CLI with `layoutResult`), it is used as is; otherwise — and to re-lay-out when a
// folded group of backends is expanded — this module loads dist/layout.js (the elkjs layout,
// ~3 MB) on first need with a runtime `require`, so it is never bundled into dist/extension.js.
import * as vscode from 'vscode';
import type { PositionedGraph } from '../engine/report/graph';
import type { LayoutOptions } from '../engine/report/layout';
import {
  isWebviewState,
  isWebviewToHost,
  type HostToWebview,
  type PathView,
  type ResultWithLayout,
} from '../shared/webview-protocol';
import type { WireResult } from '../shared/severity';
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
}

interface LayoutModule {
  layoutResult(result: WireResult, opts?: LayoutOptions): Promise<PositionedGraph>;
}

interface Current {
  panel: vscode.WebviewPanel;
  view?: PathView;
  expanded: Set<string>;
  handlers: PathPanelHandlers;
  /** Bumped per result so a slow layout of an older result never overwrites a newer one. */
  generation: number;
}

let current: Current | undefined;
let layoutModule: LayoutModule | undefined;

function loadLayout(context: vscode.ExtensionContext): LayoutModule {
  if (!layoutModule) {
    // A computed path keeps esbuild from bundling it: the layout stays in its own file.
    const file = context.asAbsolutePath('dist/layout.js');
    const req: (id: string) => unknown = require;
    layoutModule = req(file) as LayoutModule;
  }
  return layoutModule;
}

async function layout(context: vscode.ExtensionContext, result: ResultWithLayout, expanded: Set<string>): Promise<PositionedGraph> {
  if (result.layout && expanded.size === 0) return result.layout;
  return loadLayout(context).layoutResult(stripLayout(result), { expanded: [...expanded] });
}

function stripLayout(r: ResultWithLayout): WireResult {
  const { layout: _layout, ...rest } = r;
  return rest;
}

function post(c: Current, m: HostToWebview): void {
  void c.panel.webview.postMessage(m);
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
  const c: Current = { panel, expanded: new Set(), handlers, generation: 0 };
  const relayout = async (change: (s: Set<string>) => void) => {
    if (!c.view) return;
    change(c.expanded);
    const gen = c.generation;
    post(c, { type: 'status', busy: true, message: 'Laying out…' });
    try {
      const graph = await loadLayout(context).layoutResult(c.view.result, { expanded: [...c.expanded] });
      if (gen !== c.generation || !c.view) return;
      c.view = { ...c.view, graph };
      post(c, { type: 'showResult', view: c.view });
      post(c, { type: 'status', busy: false });
    } catch (e) {
      post(c, { type: 'status', busy: false, message: `Layout failed: ${(e as Error).message}` });
    }
  };
  panel.webview.onDidReceiveMessage(
    (m: unknown) => {
      if (!isWebviewToHost(m)) return;
      switch (m.type) {
        case 'ready':
          if (c.view) post(c, { type: 'showResult', view: c.view });
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
          void relayout((s) => s.add(m.groupId));
          break;
        case 'collapseGroup':
          void relayout((s) => s.delete(m.groupId));
          break;
      }
    },
    undefined,
    context.subscriptions,
  );
  panel.onDidDispose(() => {
    if (current === c) current = undefined;
  });
  return c;
}

function title(r: WireResult): string {
  return shown(`Link Path: ${r.request.src} → ${r.request.dst}:${r.request.port}`);
}

/** Shows `result` in the link-path panel (created on first use, then re-used and revealed). */
export function showLinkPath(context: vscode.ExtensionContext, result: WireResult, handlers: PathPanelHandlers): void {
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
  const gen = ++c.generation;
  c.expanded = new Set();
  layout(context, result as ResultWithLayout, c.expanded).then(
    (graph) => {
      if (gen !== c.generation) return;
      c.view = { result: stripLayout(result as ResultWithLayout), graph, ranAt: new Date().toISOString() };
      post(c, { type: 'showResult', view: c.view });
      post(c, { type: 'status', busy: false });
    },
    (e: Error) => {
      void vscode.window.showErrorMessage(`netpath: could not lay out the link path: ${e.message}`);
    },
  );
}

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
        c.expanded = new Set(state.view.graph.expanded);
        panel.title = title(state.view.result);
      }
    },
  });
  context.subscriptions.push(d);
  return d;
}
