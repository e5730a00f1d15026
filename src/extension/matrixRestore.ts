// What a matrix panel restored after a window reload does with the state its app saved (the
// serializer in matrixPanel.ts carries it out). Pure, without `vscode`, so that unit tests check
// every case. The state comes from the webview, a separate trust domain: only what the guard
// accepts is used, and the source is rebuilt from the fields a panel keeps.
import { isMatrixState, matrixQuery, type MatrixQuery, type MatrixView } from '../shared/matrix-protocol';

export type MatrixRestore =
  /** Draw the matrix as it was (`query` absent: saved without one, so Refresh asks anew). */
  | { kind: 'draw'; view: MatrixView; query?: MatrixQuery }
  /** Saved before its matrix arrived, on a snapshot: ask the server again. */
  | { kind: 'compute'; query: MatrixQuery }
  /** Nothing to draw nor to compute unasked: say why, offer Run again. */
  | { kind: 'unavailable'; query?: MatrixQuery; message: string };

export function matrixRestore(state: unknown): MatrixRestore {
  const saved = isMatrixState(state) ? state : undefined;
  const q = saved?.query && matrixQuery(saved.query.source, saved.query.namespaces, saved.query.policyOnly);
  if (saved?.view) return { kind: 'draw', view: saved.view, ...(q ? { query: q } : {}) };
  if (q?.source?.kind === 'snapshot') return { kind: 'compute', query: q };
  // A live cluster is not collected again (privileged pods) until the user asks.
  if (q?.source) return { kind: 'unavailable', query: q, message: 'The matrix was not computed yet when the window reloaded: Run again to compute it on the live cluster.' };
  return { kind: 'unavailable', ...(q ? { query: q } : {}), message: 'This matrix could not be restored after the window reloaded: Run again to choose the source and namespace.' };
}
