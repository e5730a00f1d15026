// The link-path webview app (browser bundle). It draws a graph laid out by the host (never runs
// the layout itself), keeps the view, the selection and pan/zoom in the webview state so it
// redraws at once after being hidden or a reload, and talks to the host only through the typed
// contract of src/shared/webview-protocol.ts. Until a result arrives it says so.
import {
  isHostToWebview,
  isWebviewState,
  type PathView,
  type Selection,
  type WebviewState,
  type WebviewToHost,
} from '../src/shared/webview-protocol';
import { DetailsPanel } from './details';
import { GraphView, type Viewport } from './graph-view';
import { icon } from './icons';
import { badge, button, registerToolkit } from './toolkit';
import { shown } from '../src/shared/display';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: WebviewToHost) => vscode.postMessage(m);

// The stylesheet sits in media/ next to dist/: resolve it from this script's own URL, which is
// a webview resource URI in VS Code (allowed by the CSP's style-src cspSource).
const script = document.currentScript as HTMLScriptElement | null;
if (script?.src) {
  const css = document.createElement('link');
  css.rel = 'stylesheet';
  css.href = new URL('../media/pathview.css', script.src).href;
  document.head.append(css);
}

const root = document.getElementById('root') ?? document.body;
const saved = vscode.getState();
let state: WebviewState = isWebviewState(saved) ? saved : { version: 1 };
let graph: GraphView | undefined;
let details: DetailsPanel | undefined;
let statusEl: HTMLElement | undefined;

function save(patch: Partial<WebviewState>): void {
  state = { ...state, ...patch };
  vscode.setState(state);
}

function showEmpty(): void {
  root.replaceChildren();
  const p = document.createElement('p');
  p.className = 'empty';
  p.textContent = 'No diagnosis to show yet.';
  root.append(p);
}

function build(view: PathView): void {
  registerToolkit();
  root.replaceChildren();
  const app = document.createElement('div');
  app.className = 'app';
  const bar = document.createElement('header');
  bar.className = 'toolbar';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', 'Link path');
  const title = document.createElement('div');
  title.className = 'run-title';
  const verdict = badge(view.result.verdict, `verdict ${view.result.verdict}`);
  verdict.classList.add('verdict', `verdict-${view.result.verdict}`);
  const req = view.result.request;
  const text = document.createElement('span');
  text.className = 'request';
  text.textContent = shown(`${req.protocol} ${req.src} → ${req.dst}:${req.port}`);
  title.append(verdict, text);
  statusEl = document.createElement('span');
  statusEl.className = 'status';
  statusEl.setAttribute('role', 'status');
  const tools = document.createElement('div');
  tools.className = 'tools';
  tools.append(
    button('Zoom in', () => graph?.zoomBy(1.25), { appearance: 'icon', icon: icon('zoomIn') }),
    button('Zoom out', () => graph?.zoomBy(0.8), { appearance: 'icon', icon: icon('zoomOut') }),
    button('Fit to view', () => graph?.fit(), { appearance: 'icon', icon: icon('fit') }),
    button('Re-run', () => post({ type: 'rerun' }), { appearance: 'secondary', icon: icon('refresh'), title: 'Run the same diagnosis again' }),
  );
  bar.append(title, statusEl, tools);

  const main = document.createElement('div');
  main.className = 'main';
  const canvas = document.createElement('div');
  canvas.className = 'canvas';
  const aside = document.createElement('aside');
  aside.className = 'details';
  aside.setAttribute('aria-label', 'Details');
  aside.setAttribute('aria-live', 'polite');
  main.append(canvas, aside);
  app.append(bar, main);
  root.append(app);

  details = new DetailsPanel(aside, {
    openEvidence: (nodeId, suspicionIndex) => post({ type: 'openEvidence', nodeId, suspicionIndex }),
    expandGroup: (groupId) => post({ type: 'expandGroup', groupId }),
    collapseGroup: (groupId) => post({ type: 'collapseGroup', groupId }),
    select: (sel) => {
      graph?.select(sel, true);
      if (sel.kind === 'node') graph?.focusNode(sel.id);
    },
  });
  graph = new GraphView(canvas, {
    select: (sel: Selection | undefined, byUser: boolean) => {
      save({ selected: sel });
      details?.show(view, sel);
      // Groups are the view's own invention: the tree has nothing to reveal for them.
      if (byUser && sel?.kind === 'node' && !sel.id.startsWith('group:')) post({ type: 'reveal', nodeId: sel.id });
    },
    viewportChanged: (v: Viewport) => save({ viewport: v }),
  });
}

function show(view: PathView, keepViewport: boolean): void {
  const sameRun = state.view && JSON.stringify(state.view.result.request) === JSON.stringify(view.result.request);
  const viewport = keepViewport || sameRun ? state.viewport : undefined;
  const selected = state.selected;
  save({ view, viewport });
  build(view);
  graph!.render(view.graph, viewport, selected);
}

window.addEventListener('message', (ev: MessageEvent) => {
  const m: unknown = ev.data;
  if (!isHostToWebview(m)) return; // not ours, or malformed: ignore rather than half-draw
  switch (m.type) {
    case 'showResult':
      show(m.view, false);
      break;
    case 'selectNode':
      graph?.select({ kind: 'node', id: m.nodeId }, false);
      break;
    case 'status':
      if (statusEl) statusEl.textContent = m.message ?? (m.busy ? 'Working…' : '');
      root.classList.toggle('busy', m.busy);
      break;
  }
});

if (state.view) show(state.view, true);
else showEmpty();
post({ type: 'ready' });
