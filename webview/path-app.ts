// The link-path webview app. It draws a graph laid out by the host (never runs
// the layout itself), keeps the view, the selection and pan/zoom in the webview state so it
// redraws at once after being hidden or a reload, and talks to the host only through the typed
// contract of src/shared/webview-protocol.ts. Until a result arrives it says so.
import {
  isHostToWebview,
  isWebviewState,
  joinResult,
  type ResultPart,
  type PathView,
  type Selection,
  type WebviewState,
  type WebviewToHost,
} from '../src/shared/webview-protocol';
import { capActions, capText } from './caps';
import { DetailsPanel } from './details';
import { GraphView, type Viewport } from './graph-view';
import { icon } from './icons';
import { badge, button, registerToolkit } from './toolkit';
import { showStatus, toolbar } from './toolbar';
import { shown } from '../src/shared/display';

import type { VsCodeApi } from './vscode-api';

/** Runs the link-path app in `root` (the page's view is `path`). */
export function startPathApp(vscode: VsCodeApi, root: HTMLElement): void {
  const post = (m: WebviewToHost) => vscode.postMessage(m);

  const saved = vscode.getState();
  let state: WebviewState = isWebviewState(saved) ? saved : { version: 1 };
  let graph: GraphView | undefined;
  let details: DetailsPanel | undefined;
  /** The slices of the result the next `showResult` of this run completes. */
  let incoming: { runId: string; parts: ResultPart[] } | undefined;

  let saveTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Keeps `patch` in the state. setState serializes the whole state, view included — megabytes for a
   * large fan-out — so pan, zoom and selection are written once they settle, a new view at once.
   */
  function save(patch: Partial<WebviewState>, now = false): void {
    state = { ...state, ...patch };
    if (saveTimer !== undefined) clearTimeout(saveTimer);
    saveTimer = undefined;
    if (now) vscode.setState(state);
    else saveTimer = setTimeout(flush, 250);
  }

  function flush(): void {
    if (saveTimer === undefined) return;
    clearTimeout(saveTimer);
    saveTimer = undefined;
    vscode.setState(state);
  }
  // Hiding the panel may discard the page: write what is pending first.
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && flush());
  window.addEventListener('pagehide', flush);

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
    const title = document.createElement('div');
    title.className = 'run-title';
    const verdict = badge(view.result.verdict, `verdict ${view.result.verdict}`);
    verdict.classList.add('verdict', `verdict-${view.result.verdict}`);
    const req = view.result.request;
    const text = document.createElement('span');
    text.className = 'request';
    text.textContent = shown(`${req.protocol} ${req.src} → ${req.dst}:${req.port}`);
    title.append(verdict, text);
    const bar = toolbar('Link path', [title], [
      button('Zoom in', () => graph?.zoomBy(1.25), { appearance: 'icon', icon: icon('zoomIn') }),
      button('Zoom out', () => graph?.zoomBy(0.8), { appearance: 'icon', icon: icon('zoomOut') }),
      button('Fit to view', () => graph?.fit(), { appearance: 'icon', icon: icon('fit') }),
      button('Re-run', () => post({ type: 'rerun' }), { appearance: 'secondary', icon: icon('refresh'), title: 'Run the same diagnosis again' }),
    ]);

    const caps = capBar(view);

    const main = document.createElement('div');
    main.className = 'main';
    const canvas = document.createElement('div');
    canvas.className = 'canvas';
    const aside = document.createElement('aside');
    aside.className = 'details';
    aside.setAttribute('aria-label', 'Details');
    aside.setAttribute('aria-live', 'polite');
    main.append(canvas, aside);
    app.append(bar, ...(caps ? [caps] : []), main);
    root.append(app);

    details = new DetailsPanel(aside, {
      openEvidence: (nodeId, suspicionIndex) => post({ type: 'openEvidence', nodeId, suspicionIndex }),
      expandGroup: (groupId, limit) => post({ type: 'expandGroup', groupId, ...(limit ? { limit } : {}) }),
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

  /** One line per capped fan-out: "node1: showing 200 of 1,000 backends", with Show next / Show all / Fold. */
  function capBar(view: PathView): HTMLElement | undefined {
    const groups = view.graph.nodes.filter((n) => n.group);
    if (!groups.length) return undefined;
    const bar = document.createElement('div');
    bar.className = 'caps';
    bar.setAttribute('role', 'region');
    bar.setAttribute('aria-label', 'Folded backends');
    for (const n of groups) {
      const line = document.createElement('div');
      line.className = 'cap';
      line.setAttribute('data-group-id', n.id);
      const text = document.createElement('span');
      text.className = 'cap-text';
      text.textContent = capText(n.group!);
      line.append(text);
      for (const a of capActions(view.graph, n.id, n.group!))
        line.append(button(a.label, () => post(a.limit === undefined ? { type: 'collapseGroup', groupId: n.id } : { type: 'expandGroup', groupId: n.id, limit: a.limit }), { appearance: 'secondary' }));
      bar.append(line);
    }
    return bar;
  }

  function show(view: PathView, keepViewport: boolean): void {
    const sameRun = state.view && JSON.stringify(state.view.result.request) === JSON.stringify(view.result.request);
    const viewport = keepViewport || sameRun ? state.viewport : undefined;
    const selected = state.selected;
    save({ view, viewport }, true);
    build(view);
    graph!.render(view.graph, viewport, selected);
  }

  window.addEventListener('message', (ev: MessageEvent) => {
    const m: unknown = ev.data;
    if (!isHostToWebview(m)) return; // not ours, or malformed: ignore rather than half-draw
    switch (m.type) {
      case 'resultPart':
        if (incoming?.runId !== m.runId) incoming = { runId: m.runId, parts: [] };
        incoming.parts[m.index] = { nodes: m.nodes, links: m.links };
        break;
      case 'showResult': {
        if (m.parts === undefined) {
          show(m.view, false);
          break;
        }
        const got = incoming?.runId === (m.view.runId ?? '') ? incoming.parts : [];
        const parts = Array.from({ length: m.parts }, (_, i) => got[i]);
        // Incomplete (a stream cut short by a newer result): wait for the complete one.
        if (parts.some((p) => p === undefined)) break;
        incoming = undefined;
        show({ ...m.view, result: joinResult(m.view.result, parts) }, false);
        break;
      }
      case 'showGraph':
        // A new layout of the run shown; one of another run (a late answer) is ignored.
        // Turned the other way (the panel's width changed): the old pan and zoom mean nothing there, fit again.
        if (state.view && state.view.runId === m.runId) {
          const turned = (state.view.graph.direction ?? 'right') !== (m.graph.direction ?? 'right');
          if (turned) save({ viewport: undefined });
          show({ ...state.view, graph: m.graph }, !turned);
        }
        break;
      case 'selectNode':
        graph?.select({ kind: 'node', id: m.nodeId }, false);
        break;
      case 'status':
        showStatus(root, m.busy, m.message);
        break;
    }
  });

  /** Tells the host the panel's size, which decides the layout's direction (narrow: top to bottom). */
  function watchSize(): void {
    let last = '';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const report = () => {
      const width = Math.round(window.innerWidth), height = Math.round(window.innerHeight);
      if (`${width}x${height}` === last) return;
      last = `${width}x${height}`;
      post({ type: 'resize', width, height });
    };
    new ResizeObserver(() => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(report, 120);
    }).observe(document.documentElement);
    report();
  }

  if (state.view) show(state.view, true);
  else showEmpty();
  post({ type: 'ready' });
  watchSize();
}
