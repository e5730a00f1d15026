// The contract between the server's main thread (layout-thread.ts) and its layout worker
// (layout-worker.ts, bundled alone as dist/layout-worker.js): plain data both ways, one job at a
// time per worker. Types only, so importing it pulls neither elkjs nor the engine into a bundle.
import type { PositionedGraph } from '../engine/report/graph';
import type { PlainError } from '../shared/errors';
import type { LayoutPathParams } from '../shared/protocol';
import type { WireResult } from '../shared/severity';

/** The worker's `workerData`. `warm`: lay out a small graph first, so ELK's code is compiled before the first real layout. */
export interface LayoutWorkerData {
  warm: boolean;
}

/** How to draw a result: the default picture is `{}` (every fan-out folded). */
export type LayoutRequestOptions = Partial<Omit<LayoutPathParams, 'runId'>>;

export type ToLayoutWorker = { type: 'layout'; result: WireResult; options: LayoutRequestOptions };

export type FromLayoutWorker =
  | { type: 'done'; graph: PositionedGraph }
  | { type: 'error'; error: PlainError }
  /** A bug's stack (only the worker has it), for the server's log. */
  | { type: 'log'; message: string };
