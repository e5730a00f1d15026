// The positioned graph as SVG: one focusable <g> per NetNode (or folded group) and per drawn
// edge, colours only through CSS classes bound to VS Code theme variables (pathview.css), pan
// with drag or arrow keys, zoom with the wheel or +/−, 0 fits. No inline styles: the CSP allows
// styles only from the extension's own stylesheet.
//
// Readable at any width: fitting never shrinks the graph below `minReadableZoom` (the smallest
// label, 11 px, stays 11 px on screen); a graph larger than the panel is panned instead, from the
// start of the path. (The user may still zoom out further by hand for an overview.)
import type { GraphEdge, GraphNode, PositionedGraph } from '../src/engine/report/graph';
import type { Selection } from '../src/shared/webview-protocol';
import { iconPath, severityIcon } from './icons';
// Names from the cluster: bidi controls would reorder SVG text too.
import { shown } from '../src/shared/display';

const ns = 'http://www.w3.org/2000/svg';

/** The smallest label font (port, edge and decision labels, pathview.css) is 11 px: below zoom 1 it would render smaller. */
export const minReadableZoom = 1;

export interface Viewport {
  x: number;
  y: number;
  k: number;
}

export interface GraphCallbacks {
  select(sel: Selection | undefined, byUser: boolean): void;
  viewportChanged(v: Viewport): void;
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, cls?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (cls) e.setAttribute('class', cls);
  return e;
}

function sevClass(level: string | null): string {
  return level ? `sev-${level.toLowerCase()}` : 'sev-none';
}

const typeNames: Record<string, string> = {
  pod: 'pod',
  node: 'node',
  external: 'external address',
  generic: 'address',
  infra: 'infrastructure',
  group: 'group of backends',
};

export function nodeAriaLabel(n: GraphNode): string {
  const what = `${typeNames[n.type] ?? n.type} ${n.label}${n.description ? `, ${n.description}` : ''}`;
  const findings = n.suspicionCount
    ? `, ${n.severity}, ${n.suspicionCount} suspicion${n.suspicionCount === 1 ? '' : 's'}`
    : ', no suspicions';
  const decision = n.decision ? `, decided by ${n.decision.check}: ${n.decision.text}` : '';
  return `${what}${findings}${decision}${n.examined ? '' : ', not examined'}`;
}

export class GraphView {
  readonly svg: SVGSVGElement;
  private readonly layer: SVGGElement;
  private graph: PositionedGraph | undefined;
  private viewport: Viewport = { x: 0, y: 0, k: 1 };
  private userMoved = false;
  private selected: Selection | undefined;
  private readonly nodeEls = new Map<string, SVGGElement>();
  private readonly edgeEls = new Map<string, SVGGElement>();

  constructor(private readonly host: HTMLElement, private readonly cb: GraphCallbacks) {
    this.svg = el('svg', { role: 'group', 'aria-label': 'Link path graph', tabindex: '-1' }, 'graph');
    const defs = el('defs');
    for (const kind of ['edge', 'reply', 'selected']) {
      const m = el('marker', { id: `arrow-${kind}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
      m.append(el('path', { d: 'M0 0L10 5L0 10z' }, `arrowhead arrowhead-${kind}`));
      defs.append(m);
    }
    this.layer = el('g', {}, 'viewport');
    this.svg.append(defs, this.layer);
    host.append(this.svg);
    // The canvas takes focus for keyboard pan/zoom; nodes and edges inside are tab stops.
    host.tabIndex = 0;
    host.setAttribute('aria-label', 'Link path graph: arrow keys pan, plus and minus zoom, 0 fits');
    this.wirePanZoom();
    // Until the user pans or zooms, the graph follows the panel's size.
    new ResizeObserver(() => {
      if (this.graph && !this.userMoved) this.fit(false);
    }).observe(host);
  }

  render(graph: PositionedGraph, viewport: Viewport | undefined, selected: Selection | undefined): void {
    this.graph = graph;
    this.layer.replaceChildren();
    this.nodeEls.clear();
    this.edgeEls.clear();
    const edges = el('g', {}, 'edges');
    const nodes = el('g', {}, 'nodes');
    const labels = el('g', {}, 'edge-labels');
    for (const e of graph.edges) edges.append(this.edgeEl(e, labels));
    for (const n of graph.nodes) nodes.append(this.nodeEl(n));
    // Labels last: above edges and nodes' borders where routes pass close by.
    this.layer.append(edges, nodes, labels);
    this.userMoved = !!viewport;
    if (viewport) this.setViewport(viewport, false);
    else this.fit(false);
    // Restoring: keep the saved viewport even if the selection is off-screen.
    this.select(selected, false, !viewport);
  }

  private edgeEl(e: GraphEdge, labels: SVGGElement): SVGGElement {
    const g = el('g', { 'data-edge-id': e.id, 'data-link-ids': e.links.join(' '), tabindex: '0', role: 'button' }, `edge type-${e.type}${e.reply ? ' reply' : ''}`);
    g.setAttribute('aria-label', `${e.reply ? 'reply ' : ''}link ${e.source} to ${e.target}: ${e.label.join(', ')}`);
    const d = e.points.map((p, i) => `${i ? 'L' : 'M'}${p.x} ${p.y}`).join(' ');
    g.append(el('path', { d }, 'edge-hit'), el('path', { d, 'marker-end': `url(#arrow-${e.reply ? 'reply' : 'edge'})` }, 'edge-line'));
    const pick = () => this.userSelect({ kind: 'edge', id: e.id });
    g.addEventListener('click', (ev) => {
      ev.stopPropagation();
      pick();
    });
    g.addEventListener('keydown', (ev) => activate(ev, pick));
    this.edgeEls.set(e.id, g);
    if (e.labelBox) {
      const lb = e.labelBox;
      const lg = el('g', { 'data-label-for': e.id }, `edge-label${e.reply ? ' reply' : ''}`);
      lg.append(el('rect', { x: lb.x, y: lb.y, width: lb.w, height: lb.h, rx: 3 }, 'edge-label-bg'));
      const t = el('text', { x: lb.x + 4, y: lb.y + 13 }, 'edge-label-text');
      e.label.forEach((line, i) => {
        const span = el('tspan', { x: lb.x + 4, dy: i ? 14 : 0 }, i === 0 ? 'first' : line.startsWith('DNAT') || line.startsWith('SNAT') || line.startsWith('MASQ') || line.startsWith('NAT') ? 'nat' : '');
        span.textContent = shown(line);
        t.append(span);
      });
      lg.append(t);
      lg.addEventListener('click', (ev) => {
        ev.stopPropagation();
        pick();
      });
      labels.append(lg);
    }
    return g;
  }

  private nodeEl(n: GraphNode): SVGGElement {
    const g = el('g', { transform: `translate(${n.x} ${n.y})`, 'data-node-id': n.id, 'data-type': n.type, tabindex: '0', role: 'button' },
      `node type-${n.type} ${sevClass(n.severity)}${n.examined ? '' : ' unexamined'}`);
    if (n.severity) g.setAttribute('data-severity', n.severity);
    g.setAttribute('aria-label', nodeAriaLabel(n));
    g.append(el('rect', { width: n.w, height: n.h, rx: 6 }, 'node-box'));
    if (n.type === 'group') g.append(el('rect', { x: 4, y: 4, width: n.w, height: n.h, rx: 6 }, 'node-stack'));
    // A top-to-bottom layout puts the names of the ports on the top edge above the header.
    const hy = n.headerY ?? 0;
    const ic = el('g', { transform: `translate(10 ${10 + hy})` }, 'node-icon');
    ic.append(el('path', { d: iconPath(n.type) }));
    const label = el('text', { x: 32, y: 23 + hy }, 'node-label');
    label.textContent = shown(n.label);
    const desc = el('text', { x: 32, y: 39 + hy }, 'node-desc');
    desc.textContent = shown(n.description || (n.examined ? '' : 'not examined'));
    g.append(ic, label, desc);
    if (n.decision) {
      // The rule that stopped the packet here, where it happened (full text in the details).
      const d = el('text', { x: 10, y: 46 + hy + 11 }, `node-decision ${sevClass(n.severity)}`);
      d.textContent = shown(`✕ ${n.decision.text}`);
      g.append(d);
    }
    if (n.suspicionCount) {
      const b = el('g', { transform: `translate(${n.w - 40} ${8 + hy})` }, `badge ${sevClass(n.severity)}`);
      b.append(el('rect', { width: 32, height: 18, rx: 9 }, 'badge-bg'));
      const bi = el('g', { transform: 'translate(3 2) scale(0.875)' }, 'badge-icon');
      bi.append(el('path', { d: iconPath(severityIcon(n.severity)) }));
      const bt = el('text', { x: 24, y: 13 }, 'badge-text');
      bt.textContent = String(n.suspicionCount);
      b.append(bi, bt);
      g.append(b);
    }
    for (const p of n.ports) {
      const px = p.x - n.x, py = p.y - n.y;
      g.append(el('rect', { x: px, y: py, width: p.w, height: p.h, rx: 1 }, 'port'));
      const at = p.side === 'west' ? { x: px + p.w + 5, y: py + p.h / 2 + 4 }
        : p.side === 'east' ? { x: px - 5, y: py + p.h / 2 + 4 }
        : p.side === 'north' ? { x: px + p.w + 3, y: py + p.h + 11 }
        : { x: px + p.w + 3, y: py - 3 };
      const t = el('text', at, `port-label ${p.side}`);
      t.textContent = shown(p.name);
      g.append(t);
    }
    const pick = () => this.userSelect({ kind: 'node', id: n.id });
    g.addEventListener('click', (ev) => {
      ev.stopPropagation();
      pick();
    });
    g.addEventListener('keydown', (ev) => activate(ev, pick));
    // Tabbing to a node off-screen (the graph is larger than the panel at a readable zoom) pans to it.
    g.addEventListener('focus', () => this.ensureVisible(n.id));
    this.nodeEls.set(n.id, g);
    return g;
  }

  private userSelect(sel: Selection): void {
    this.select(sel, true);
  }

  /** Marks the selection; `byUser` tells the callback whether to tell the host (reveal). */
  select(sel: Selection | undefined, byUser: boolean, scroll = true): void {
    if (sel && !(sel.kind === 'node' ? this.nodeEls : this.edgeEls).has(sel.id)) sel = undefined;
    for (const e of [...this.nodeEls.values(), ...this.edgeEls.values()]) {
      e.classList.remove('selected');
      e.removeAttribute('aria-pressed');
    }
    for (const e of this.nodeEls.values()) e.setAttribute('aria-pressed', 'false');
    this.selected = sel;
    if (sel) {
      const target = (sel.kind === 'node' ? this.nodeEls : this.edgeEls).get(sel.id)!;
      target.classList.add('selected');
      target.setAttribute('aria-pressed', 'true');
      if (sel.kind === 'edge') target.querySelector('.edge-line')?.setAttribute('marker-end', 'url(#arrow-selected)');
      if (!byUser && scroll && sel.kind === 'node') this.ensureVisible(sel.id);
    }
    for (const [id, e] of this.edgeEls)
      if (!(sel?.kind === 'edge' && sel.id === id)) e.querySelector('.edge-line')?.setAttribute('marker-end', `url(#arrow-${e.classList.contains('reply') ? 'reply' : 'edge'})`);
    this.cb.select(sel, byUser);
  }

  get selection(): Selection | undefined {
    return this.selected;
  }

  focusNode(id: string): void {
    this.nodeEls.get(id)?.focus();
  }

  private size(): { w: number; h: number } {
    const r = this.host.getBoundingClientRect();
    return { w: Math.max(r.width, 100), h: Math.max(r.height, 100) };
  }

  /**
   * The whole graph when it fits at a readable zoom; else readable, showing where the packet was
   * stopped (the first node of the worst severity), or the start of the path (pan for the rest).
   */
  fit(notify = true): void {
    if (!this.graph) return;
    const { w, h } = this.size();
    const k = Math.max(minReadableZoom, Math.min(w / this.graph.width, h / this.graph.height, 1.25));
    const gw = this.graph.width * k, gh = this.graph.height * k;
    const rank = (n: GraphNode) => (n.severity === 'FATAL' ? 2 : n.severity === 'CRITICAL' ? 1 : 0);
    const worst = this.graph.nodes.reduce<GraphNode | undefined>((best, n) => (rank(n) > (best ? rank(best) : 0) ? n : best), undefined);
    // Along each axis: centred when it fits, else the start — or, when the worst node would be
    // outside the panel from the start, that node centred (within the graph's bounds).
    const axis = (size: number, view: number, at?: number, len?: number) => {
      if (size <= view) return (view - size) / 2;
      if (at === undefined || len === undefined || (at + len) * k <= view) return 0;
      return Math.max(view - size, Math.min(0, view / 2 - (at + len / 2) * k));
    };
    this.setViewport({ k, x: axis(gw, w, worst?.x, worst?.w), y: axis(gh, h, worst?.y, worst?.h) }, notify);
    this.userMoved = false;
  }

  get zoom(): number {
    return this.viewport.k;
  }

  zoomBy(factor: number, cx?: number, cy?: number): void {
    const { w, h } = this.size();
    const px = cx ?? w / 2, py = cy ?? h / 2;
    const k = Math.min(4, Math.max(0.1, this.viewport.k * factor));
    const f = k / this.viewport.k;
    this.setViewport({ k, x: px - (px - this.viewport.x) * f, y: py - (py - this.viewport.y) * f });
  }

  panBy(dx: number, dy: number): void {
    this.setViewport({ ...this.viewport, x: this.viewport.x + dx, y: this.viewport.y + dy });
  }

  private ensureVisible(id: string): void {
    const n = this.graph?.nodes.find((x) => x.id === id);
    if (!n) return;
    const { w, h } = this.size();
    const { x, y, k } = this.viewport;
    const left = n.x * k + x, top = n.y * k + y;
    if (left >= 0 && top >= 0 && left + n.w * k <= w && top + n.h * k <= h) return;
    this.setViewport({ k, x: w / 2 - (n.x + n.w / 2) * k, y: h / 2 - (n.y + n.h / 2) * k });
  }

  private setViewport(v: Viewport, notify = true): void {
    // notify = a user action (or fit on request); a fit to the panel's size is not.
    if (notify) this.userMoved = true;
    this.viewport = { x: Math.round(v.x * 10) / 10, y: Math.round(v.y * 10) / 10, k: Math.round(v.k * 1000) / 1000 };
    this.layer.setAttribute('transform', `translate(${this.viewport.x} ${this.viewport.y}) scale(${this.viewport.k})`);
    if (notify) this.cb.viewportChanged(this.viewport);
  }

  private wirePanZoom(): void {
    let drag: { x: number; y: number; moved: boolean } | undefined;
    this.svg.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY, moved: false };
    });
    this.svg.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!drag.moved) this.svg.setPointerCapture(ev.pointerId);
      drag.moved = true;
      drag.x = ev.clientX;
      drag.y = ev.clientY;
      this.svg.classList.add('panning');
      this.panBy(dx, dy);
    });
    const end = (ev: PointerEvent) => {
      if (drag?.moved && this.svg.hasPointerCapture(ev.pointerId)) this.svg.releasePointerCapture(ev.pointerId);
      drag = undefined;
      this.svg.classList.remove('panning');
    };
    this.svg.addEventListener('pointerup', end);
    this.svg.addEventListener('pointercancel', end);
    // A click on empty canvas clears the selection (a drag does not).
    this.svg.addEventListener('click', () => this.select(undefined, true));
    this.svg.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const r = this.svg.getBoundingClientRect();
        this.zoomBy(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
      },
      { passive: false },
    );
    this.host.addEventListener('keydown', (ev) => {
      const step = 40;
      switch (ev.key) {
        case '+':
        case '=':
          this.zoomBy(1.2);
          break;
        case '-':
          this.zoomBy(1 / 1.2);
          break;
        case '0':
          this.fit();
          break;
        case 'ArrowLeft':
          this.panBy(step, 0);
          break;
        case 'ArrowRight':
          this.panBy(-step, 0);
          break;
        case 'ArrowUp':
          this.panBy(0, step);
          break;
        case 'ArrowDown':
          this.panBy(0, -step);
          break;
        case 'Escape':
          this.select(undefined, true);
          break;
        default:
          return;
      }
      ev.preventDefault();
    });
  }
}

function activate(ev: KeyboardEvent, fn: () => void): void {
  if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    ev.stopPropagation();
    fn();
  }
}
