// The server's main-thread side of its layout worker (layout-worker.ts): the diagnose result's
// folded graph and netpath/layoutPath are laid out there. The worker is started at `initialized`
// and kept between layouts (ELK compiled and warm). Cancelling a layout terminates its worker at
// once (ELK cannot be interrupted); a worker that crashes or exits fails its layout with an error
// that says so; either way the next layout starts a fresh worker.
import { Worker } from 'node:worker_threads';
import type { CancellationToken } from 'vscode-languageserver/node';
import type { PositionedGraph } from '../engine/report/graph';
import { CancelledError, InternalError, reviveError } from '../shared/errors';
import type { WireResult } from '../shared/severity';
import type { FromLayoutWorker, LayoutRequestOptions, LayoutWorkerData, ToLayoutWorker } from './layout-messages';
import { SpareThread } from './spare-thread';

export class LayoutThread {
  private readonly spare: SpareThread;

  /** `workerFile`: the layout worker's bundle (dist/layout-worker.js); `log`: the server's log. */
  constructor(workerFile: string, log: (message: string) => void) {
    this.spare = new SpareThread((warm) => {
      const w = new Worker(workerFile, { workerData: { warm } satisfies LayoutWorkerData });
      // Its log lines (a bug's stack, a failed warm-up) arrive whether or not a layout is running.
      w.on('message', (m: FromLayoutWorker) => {
        if (m.type === 'log') log(m.message);
      });
      return w;
    });
  }

  /** Starts the worker and its ELK warm-up ahead of the first layout. */
  prewarm(): void {
    this.spare.prewarm();
  }

  /** `result` laid out as `options` say, in the worker; rejects with CancelledError when `token` is cancelled. */
  layout(result: WireResult, options: LayoutRequestOptions, token: CancellationToken): Promise<PositionedGraph> {
    if (token.isCancellationRequested) return Promise.reject(new CancelledError());
    const worker = this.spare.take();
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void, reusable: boolean) => {
        if (settled) return;
        settled = true;
        sub.dispose();
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        this.spare.release(worker, reusable);
        fn();
      };
      const sub = token.onCancellationRequested(() => finish(() => reject(new CancelledError()), false));
      const onMessage = (m: FromLayoutWorker) => {
        if (m.type === 'done') finish(() => resolve(m.graph), true);
        // The worker answered: it is reusable, whatever the error.
        else if (m.type === 'error') finish(() => reject(reviveError(m.error)), true);
      };
      const onError = (e: Error) => finish(() => reject(new InternalError(`the layout worker failed while laying out the path: ${e.message}`)), false);
      const onExit = (code: number) =>
        finish(() => reject(new InternalError(`the layout worker stopped (exit code ${code}) before it laid out the path; the next layout starts a new one`)), false);
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage({ type: 'layout', result, options } satisfies ToLayoutWorker);
    });
  }
}
