// The message contract between the connectivity-matrix webview (webview/matrix-app.ts) and its host
// (src/extension/matrixPanel.ts). Both sides import these types; what arrives from the other side
// is checked with the guards below before use (a webview is a separate trust domain). The matrix
// itself is the server's netpath/matrix answer, unchanged.
import type { MatrixResult } from './protocol';

export interface MatrixView {
  matrix: MatrixResult;
  /** When it was computed (ISO time). */
  ranAt?: string;
}

export type HostToMatrix =
  /** Draw this matrix (replaces the previous one; the focused cell is kept when it still exists). */
  | { type: 'showMatrix'; view: MatrixView }
  /** A refresh or a pair's diagnosis is in progress, or failed. */
  | { type: 'status'; busy: boolean; message?: string };

export type MatrixToHost =
  /** The app is listening: (re)send the matrix. */
  | { type: 'ready' }
  /** The user chose a cell: diagnose that pair and show the result as any diagnosis. */
  | { type: 'diagnosePair'; src: string; dst: string; port: number; protocol: 'tcp' | 'udp' | 'sctp' }
  /** Compute the matrix again (the snapshot or cluster may have changed). */
  | { type: 'refresh' };

/** What the app keeps with setState: the matrix and the focused cell, to redraw at once. */
export interface MatrixState {
  version: 1;
  view?: MatrixView;
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

export function isHostToMatrix(m: unknown): m is HostToMatrix {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'showMatrix':
      return isMatrixView(m.view);
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
  return isObject(s) && s.version === 1 && (s.view === undefined || isMatrixView(s.view));
}
