// The connectivity-matrix webview app: one row per source pod, one column per destination pod and
// port, each cell the verdict `diagnose` gives that pair (or, policy-only, what the NetworkPolicies
// say), a denied cell naming its deciding policy. An ARIA grid with one tab stop (arrow keys,
// Home/End, PageUp/PageDown move; Enter or a click diagnoses the pair). Colours only from VS Code's
// theme variables (matrixview.css); names from the cluster are shown escaped. The matrix and the
// query it answers stay in the webview state, so a reload draws it at once and the host can ask
// again; a matrix the host cannot restore is said so, with Run again.
import type { MatrixCellWire, MatrixResult } from '../src/shared/protocol';
import { isHostToMatrix, isMatrixState, type MatrixState, type MatrixToHost, type MatrixView } from '../src/shared/matrix-protocol';
import { shown } from '../src/shared/display';
import { icon } from './icons';
import { badge, button, registerToolkit } from './toolkit';
import { showStatus, toolbar } from './toolbar';
import type { VsCodeApi } from './vscode-api';

type Kind = 'ok' | 'bad' | 'unknown';

function kindOf(verdict: string): Kind {
  return verdict === 'reachable' || verdict === 'allowed' ? 'ok' : verdict === 'unreachable' || verdict === 'denied' ? 'bad' : 'unknown';
}

const mark: Record<Kind, string> = { ok: '✓', bad: '✕', unknown: '?' };

function portText(p: { port: number; protocol: string }): string {
  return p.protocol === 'tcp' ? String(p.port) : `${p.port}/${p.protocol}`;
}

/** A pod as the grid shows it: without its namespace when the matrix covers one namespace. */
function podText(m: MatrixResult, pod: string): string {
  return m.namespaces.length === 1 && pod.startsWith(`${m.namespaces[0]}/`) ? pod.slice(m.namespaces[0].length + 1) : pod;
}

/** A policy as a cell shows it: without the namespace the matrix is about. */
function policyText(m: MatrixResult, policy: string): string {
  return podText(m, policy);
}

/** The sentence a screen reader says, and the status line shows, for a cell. */
export function cellDescription(m: MatrixResult, c: MatrixCellWire): string {
  const pair = `${m.pods[c.src]} → ${m.pods[c.dst]} port ${portText(m.ports[c.port])}`;
  const why = c.policies?.length && kindOf(c.verdict) === 'bad'
    ? `, denied by NetworkPolicy ${c.policies.join(', ')}`
    : c.policies?.length ? `, allowed by ${c.policies.join(', ')}` : '';
  const checks = c.checks.length ? ` (${c.checks.join(', ')})` : '';
  return `${pair}: ${c.verdict}${why}${checks}`;
}

interface Column {
  dst: number;
  port: number;
}

export function startMatrixApp(vscode: VsCodeApi, root: HTMLElement): void {
  const post = (m: MatrixToHost) => vscode.postMessage(m);
  const saved = vscode.getState();
  let state: MatrixState = isMatrixState(saved) ? saved : { version: 1 };
  let describeEl: HTMLElement | undefined;
  /** The grid's cells by row (source) and column; absent where there is no cell (a pod and itself). */
  let grid: (HTMLElement | undefined)[][] = [];
  let focus = { row: 0, col: 0 };

  function save(patch: Partial<MatrixState>): void {
    state = { ...state, ...patch };
    vscode.setState(state);
  }

  function showEmpty(): void {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'No matrix to show yet.';
    root.replaceChildren(p);
  }

  function draw(view: MatrixView): void {
    registerToolkit();
    const m = view.matrix;
    root.replaceChildren();
    const app = document.createElement('div');
    app.className = 'app';

    const title = document.createElement('h1');
    title.className = 'title';
    title.textContent = shown(`Who can talk to whom: ${m.namespaces.join(', ')}`);
    const sub = document.createElement('span');
    sub.className = 'sub';
    sub.textContent = shown(`${m.sourceLabel} · ${m.policyOnly ? 'NetworkPolicies only' : 'datapath and NetworkPolicies'}`);
    const counts = document.createElement('span');
    counts.className = 'counts';
    const by: Record<Kind, number> = { ok: 0, bad: 0, unknown: 0 };
    for (const c of m.cells) by[kindOf(c.verdict)]++;
    const okWord = m.policyOnly ? 'allowed' : 'reachable', badWord = m.policyOnly ? 'denied' : 'unreachable';
    for (const [k, word] of [['ok', okWord], ['bad', badWord], ['unknown', 'unknown']] as const) {
      const b = badge(`${mark[k]} ${by[k]} ${word}`, `${by[k]} ${word}`);
      b.classList.add(`count-${k}`);
      counts.append(b);
    }
    const bar = toolbar('Connectivity matrix', [title, sub, counts], [
      button('Refresh', () => post({ type: 'refresh' }), { appearance: 'secondary', icon: icon('refresh'), title: 'Compute the matrix again' }),
    ]);

    const describe = (describeEl = document.createElement('div'));
    describe.className = 'describe';
    describe.setAttribute('aria-live', 'polite');

    const wrap = document.createElement('div');
    wrap.className = 'grid-wrap';
    if (m.cells.length) wrap.append(table(m));
    else {
      const p = document.createElement('p');
      p.className = 'empty';
      p.textContent = m.pods.length < 2 ? shown(`Fewer than two pods with an address in ${m.namespaces.join(', ')}: no pair to judge.`) : 'No port to try: the pods declare none.';
      wrap.append(p);
    }
    app.append(bar, describe, wrap);
    if (m.left.length) {
      const left = document.createElement('p');
      left.className = 'left';
      left.textContent = shown(`Left out: ${m.left.map((l) => `${l.pod} (${l.reason})`).join('; ')}`);
      app.append(left);
    }
    root.append(app);
  }

  function table(m: MatrixResult): HTMLTableElement {
    // Columns: each destination with the ports it is tried on, in the matrix's order.
    const portsOf = new Map<number, Set<number>>();
    const at = new Map<string, MatrixCellWire>();
    for (const c of m.cells) {
      if (!portsOf.has(c.dst)) portsOf.set(c.dst, new Set());
      portsOf.get(c.dst)!.add(c.port);
      at.set(`${c.src}|${c.dst}|${c.port}`, c);
    }
    const cols: Column[] = [...portsOf.keys()].sort((a, b) => a - b).flatMap((dst) => [...portsOf.get(dst)!].sort((a, b) => a - b).map((port) => ({ dst, port })));
    const rows = [...new Set(m.cells.map((c) => c.src))].sort((a, b) => a - b);

    const t = document.createElement('table');
    t.className = 'grid';
    t.setAttribute('role', 'grid');
    t.setAttribute('aria-label', shown(`Connectivity from each source pod (rows) to each destination pod and port (columns) in ${m.namespaces.join(', ')}`));
    t.setAttribute('aria-rowcount', String(rows.length + 2));
    t.setAttribute('aria-colcount', String(cols.length + 1));
    const head = t.createTHead();
    const h1 = head.insertRow();
    const corner = document.createElement('th');
    corner.className = 'corner';
    corner.rowSpan = 2;
    corner.textContent = 'from \\ to';
    h1.append(corner);
    for (let i = 0; i < cols.length; ) {
      const dst = cols[i].dst;
      let span = 0;
      while (i + span < cols.length && cols[i + span].dst === dst) span++;
      const th = document.createElement('th');
      th.className = 'dst';
      th.scope = 'colgroup';
      th.colSpan = span;
      th.textContent = shown(podText(m, m.pods[dst]));
      th.title = shown(m.pods[dst]);
      h1.append(th);
      i += span;
    }
    const h2 = head.insertRow();
    cols.forEach((c, i) => {
      const th = document.createElement('th');
      th.className = `port${i > 0 && cols[i - 1].dst !== c.dst ? ' first' : i === 0 ? ' first' : ''}`;
      th.scope = 'col';
      th.textContent = portText(m.ports[c.port]);
      h2.append(th);
    });

    const body = t.createTBody();
    grid = [];
    rows.forEach((src, r) => {
      const tr = body.insertRow();
      const th = document.createElement('th');
      th.className = 'src';
      th.scope = 'row';
      th.textContent = shown(podText(m, m.pods[src]));
      th.title = shown(m.pods[src]);
      tr.append(th);
      const line: (HTMLElement | undefined)[] = [];
      cols.forEach((col, ci) => {
        const td = document.createElement('td');
        const first = ci === 0 || cols[ci - 1].dst !== col.dst;
        const c = at.get(`${src}|${col.dst}|${col.port}`);
        if (!c) {
          td.className = `none${first ? ' first' : ''}`;
          td.textContent = '—';
          td.setAttribute('aria-label', 'no pair');
          line.push(undefined);
        } else {
          const k = kindOf(c.verdict);
          td.className = `cell ${k}${first ? ' first' : ''}`;
          td.setAttribute('role', 'gridcell');
          td.tabIndex = -1;
          td.dataset.src = m.pods[c.src];
          td.dataset.dst = m.pods[c.dst];
          td.dataset.port = String(m.ports[c.port].port);
          td.dataset.verdict = c.verdict;
          const text = cellDescription(m, c);
          td.setAttribute('aria-label', shown(text));
          td.title = shown(`${text}\nClick or press Enter to diagnose this pair.`);
          const sym = document.createElement('span');
          sym.className = 'mark';
          sym.setAttribute('aria-hidden', 'true');
          sym.textContent = mark[k];
          td.append(sym);
          if (k === 'bad' && c.policies?.length) {
            const pol = document.createElement('span');
            pol.className = 'policy';
            pol.textContent = shown(c.policies.map((p) => policyText(m, p)).join(', '));
            td.append(pol);
          } else if (k !== 'ok' && c.checks.length) {
            const chk = document.createElement('span');
            chk.className = 'check';
            chk.textContent = shown(c.checks[0]);
            td.append(chk);
          }
          const pick = () => {
            moveTo(r, ci);
            post({ type: 'diagnosePair', src: m.pods[c.src], dst: m.pods[c.dst], port: m.ports[c.port].port, protocol: m.ports[c.port].protocol });
          };
          td.addEventListener('click', pick);
          td.addEventListener('keydown', (ev) => {
            if (ev.key === 'Enter' || ev.key === ' ') {
              ev.preventDefault();
              pick();
            }
          });
          td.addEventListener('focus', () => {
            focus = { row: r, col: ci };
            if (describeEl) describeEl.textContent = shown(text);
            save({ focus: { src: c.src, dst: c.dst, port: c.port } });
          });
          line.push(td);
        }
        tr.append(td);
      });
      grid.push(line);
    });
    t.addEventListener('keydown', navigate);
    // One tab stop: the saved focus, else the first cell.
    const f = state.focus;
    const r0 = f ? rows.indexOf(f.src) : -1;
    const c0 = f ? cols.findIndex((c) => c.dst === f.dst && c.port === f.port) : -1;
    const start = r0 >= 0 && c0 >= 0 && grid[r0][c0] ? { row: r0, col: c0 } : firstCell();
    if (start) {
      focus = start;
      grid[start.row][start.col]!.tabIndex = 0;
    }
    return t;
  }

  function firstCell(): { row: number; col: number } | undefined {
    for (let r = 0; r < grid.length; r++) for (let c = 0; c < grid[r].length; c++) if (grid[r][c]) return { row: r, col: c };
    return undefined;
  }

  function moveTo(row: number, col: number): void {
    const target = grid[row]?.[col];
    if (!target) return;
    grid[focus.row]?.[focus.col]?.setAttribute('tabindex', '-1');
    target.tabIndex = 0;
    focus = { row, col };
    target.focus();
  }

  /** Arrow keys move to the next cell that exists in that direction (skipping a pod and itself). */
  function step(dr: number, dc: number, far = false): void {
    let { row, col } = focus;
    let best: { row: number; col: number } | undefined;
    for (;;) {
      row += dr;
      col += dc;
      if (row < 0 || row >= grid.length || col < 0 || col >= (grid[row]?.length ?? 0)) break;
      if (grid[row][col]) {
        best = { row, col };
        if (!far) break;
      }
    }
    if (best) moveTo(best.row, best.col);
  }

  function navigate(ev: KeyboardEvent): void {
    switch (ev.key) {
      case 'ArrowRight': step(0, 1); break;
      case 'ArrowLeft': step(0, -1); break;
      case 'ArrowDown': step(1, 0); break;
      case 'ArrowUp': step(-1, 0); break;
      case 'Home': step(0, -1, true); break;
      case 'End': step(0, 1, true); break;
      case 'PageUp': step(-1, 0, true); break;
      case 'PageDown': step(1, 0, true); break;
      default: return;
    }
    ev.preventDefault();
  }

  /** In place of a matrix the host could not restore or compute again: why, and Run again. */
  function showUnavailable(message: string): void {
    registerToolkit();
    const app = document.createElement('div');
    app.className = 'app';
    const title = document.createElement('h1');
    title.className = 'title';
    title.textContent = shown(state.query ? `Who can talk to whom: ${state.query.namespaces.join(', ')}` : 'Connectivity matrix');
    const bar = toolbar('Connectivity matrix', [title], [
      button('Run again', () => post({ type: 'refresh' }), { icon: icon('refresh'), title: 'Compute the matrix again' }),
    ]);
    const p = document.createElement('p');
    p.className = 'empty unavailable';
    p.textContent = shown(message);
    app.append(bar, p);
    root.replaceChildren(app);
  }

  window.addEventListener('message', (ev: MessageEvent) => {
    const m: unknown = ev.data;
    if (!isHostToMatrix(m)) return;
    switch (m.type) {
      case 'showMatrix': {
        const same = state.view && JSON.stringify(state.view.matrix.namespaces) === JSON.stringify(m.view.matrix.namespaces);
        save({ view: m.view, ...(same ? {} : { focus: undefined }) });
        draw(m.view);
        break;
      }
      case 'showQuery':
        save({ query: m.query });
        break;
      case 'unavailable':
        save({ view: undefined, focus: undefined });
        showUnavailable(m.message);
        break;
      case 'status':
        showStatus(root, m.busy, m.message);
        break;
    }
  });

  if (state.view) draw(state.view);
  else showEmpty();
  post({ type: 'ready' });
}
