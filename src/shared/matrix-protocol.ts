// The message contract between the connectivity-matrix webview (webview/matrix-app.ts) and its host
// (src/extension/matrixPanel.ts). Both sides import these types; what arrives from the other side
// is checked with the guards below before use (a webview is a separate trust domain). The matrix
// itself is the server's netpath/matrix answer, unchanged.
//
// After a window reload VS Code gives the host (its WebviewPanelSerializer) the state the app saved:
// the matrix drawn and the query it answers, so the panel is drawn again at once and can be asked
// again; without a matrix it is computed again, and failing that the app says so and offers Run again.
import type { MatrixResult, SourceSpec } from './protocol';

export interface MatrixView {
  matrix: MatrixResult;
  /** When it was computed (ISO time). */
  ranAt?: string;
}

/**
 * A source the panel's state may keep: a snapshot by path or a live cluster's context. An unsaved
 * snapshot's text is not kept (megabytes in the state): such a panel is asked for a source again.
 */
export type MatrixSource = { kind: 'snapshot'; path: string } | { kind: 'cluster'; context?: string; kubeconfig?: string };

/** What the panel computes: enough to ask the server again (Refresh, or after a window reload). */
export interface MatrixQuery {
  /** Absent: the source cannot be kept (an unsaved snapshot). */
  source?: MatrixSource;
  namespaces: string[];
  policyOnly: boolean;
}

/**
 * The query a panel keeps: the source rebuilt from a snapshot's path or a cluster's context and
 * kubeconfig alone (an unsaved snapshot's text is dropped, and so are consent and collector
 * settings, which the host sets on every request).
 */
export function matrixQuery(source: SourceSpec | undefined, namespaces: string[], policyOnly: boolean): MatrixQuery {
  const kept: MatrixSource | undefined = !source ? undefined
    : source.kind === 'cluster' ? { kind: 'cluster', ...(source.context ? { context: source.context } : {}), ...(source.kubeconfig ? { kubeconfig: source.kubeconfig } : {}) }
    : 'path' in source ? { kind: 'snapshot', path: source.path } : undefined;
  return { ...(kept ? { source: kept } : {}), namespaces: [...namespaces], policyOnly };
}

export type HostToMatrix =
  /** Draw this matrix (replaces the previous one; the focused cell is kept when it still exists). */
  | { type: 'showMatrix'; view: MatrixView }
  /** What this panel computes: the app keeps it with its state for a restore after a reload. */
  | { type: 'showQuery'; query: MatrixQuery }
  /** No matrix can be shown (the one saved was not restored, nor computed again): say why, offer Run again (`refresh`). */
  | { type: 'unavailable'; message: string }
  /** A refresh or a pair's diagnosis is in progress, or failed. */
  | { type: 'status'; busy: boolean; message?: string };

export type MatrixToHost =
  /** The app is listening: (re)send the matrix. */
  | { type: 'ready' }
  /** The user chose a cell: diagnose that pair and show the result as any diagnosis. */
  | { type: 'diagnosePair'; src: string; dst: string; port: number; protocol: 'tcp' | 'udp' | 'sctp' }
  /** Compute the matrix again (the snapshot or cluster may have changed); without a query to repeat, ask for one (the command's pickers). */
  | { type: 'refresh' };

/** What the app keeps with setState: the matrix and the focused cell, to redraw at once, and the query, to ask again. */
export interface MatrixState {
  version: 1;
  view?: MatrixView;
  query?: MatrixQuery;
  /** The focused cell as pods[src] → pods[dst] on ports[port]. */
  focus?: { src: number; dst: number; port: number };
}

function isObject(m: unknown): m is Record<string, unknown> {
  return typeof m === 'object' && m !== null;
}

const index = (v: unknown, length: number) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < length;

function isMatrixView(v: unknown): v is MatrixView {
  if (!isObject(v) || !isObject(v.matrix)) return false;
  const m = v.matrix;
  if (!Array.isArray(m.pods) || !m.pods.every((p) => typeof p === 'string')) return false;
  if (!Array.isArray(m.ports) || !m.ports.every((p) => isObject(p) && Number.isInteger(p.port) && typeof p.protocol === 'string')) return false;
  if (!Array.isArray(m.namespaces) || !Array.isArray(m.left) || typeof m.sourceLabel !== 'string' || typeof m.policyOnly !== 'boolean') return false;
  const pods = m.pods.length, ports = m.ports.length;
  return Array.isArray(m.cells) && m.cells.every((c) => isObject(c) && index(c.src, pods) && index(c.dst, pods) && index(c.port, ports)
    && typeof c.verdict === 'string' && Array.isArray(c.checks) && (c.policies === undefined || Array.isArray(c.policies)));
}

const optionalString = (v: unknown) => v === undefined || (typeof v === 'string' && v.length <= 4096);

function isMatrixSource(s: unknown): s is MatrixSource {
  if (!isObject(s)) return false;
  if (s.kind === 'snapshot') return typeof s.path === 'string' && s.path.length > 0 && s.path.length <= 4096;
  return s.kind === 'cluster' && optionalString(s.context) && optionalString(s.kubeconfig);
}

function isMatrixQuery(q: unknown): q is MatrixQuery {
  return isObject(q) && (q.source === undefined || isMatrixSource(q.source)) && typeof q.policyOnly === 'boolean'
    && Array.isArray(q.namespaces) && q.namespaces.length > 0 && q.namespaces.every((n) => typeof n === 'string' && n.length > 0 && n.length <= 253);
}

export function isHostToMatrix(m: unknown): m is HostToMatrix {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'showMatrix':
      return isMatrixView(m.view);
    case 'showQuery':
      return isMatrixQuery(m.query);
    case 'unavailable':
      return typeof m.message === 'string';
    case 'status':
      return typeof m.busy === 'boolean' && (m.message === undefined || typeof m.message === 'string');
    default:
      return false;
  }
}

export function isMatrixToHost(m: unknown): m is MatrixToHost {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'ready':
    case 'refresh':
      return true;
    case 'diagnosePair':
      return typeof m.src === 'string' && typeof m.dst === 'string' && m.src.length <= 300 && m.dst.length <= 300
        && Number.isInteger(m.port) && (m.port as number) >= 1 && (m.port as number) <= 65535
        && (m.protocol === 'tcp' || m.protocol === 'udp' || m.protocol === 'sctp');
    default:
      return false;
  }
}

export function isMatrixState(s: unknown): s is MatrixState {
  return isObject(s) && s.version === 1 && (s.view === undefined || isMatrixView(s.view)) && (s.query === undefined || isMatrixQuery(s.query));
}
