// The server's worker thread, where every request that reads a snapshot or a cluster runs (see
// pipeline.ts): the engine is synchronous and a snapshot's JSON parse and validation can take
// seconds, so on the main thread they would hold up cancellation and every other request.
// Cancelling a snapshot job terminates its worker at once, whatever it was doing; a live job is
// asked to stop instead, so it can delete its collector pods before it answers. A worker that
// answered is kept for the next job with its caches (parsed snapshots, Networks).
import { Worker, parentPort } from 'node:worker_threads';
import { CancellationTokenSource, type WorkDoneProgressReporter } from 'vscode-languageserver/node';
import { CancelledError, asNetpathError, reviveError, type PlainError } from '../shared/errors';
import { isLiveJob, runJob, type Job, type JobResults } from './pipeline';
import { SpareThread } from './spare-thread';
import { Steps } from './steps';

type ToWorker = { type: 'job'; job: Job; expectedSteps: number } | { type: 'cancel' };
type FromWorker =
  | { type: 'progress'; percent?: number; message?: string }
  | { type: 'log'; message: string }
  | { type: 'done'; value: unknown }
  | { type: 'error'; error: PlainError };

/** How long a cancelled live job may take to delete its collector pods before its worker is stopped. */
const liveCancelGraceMs = 60_000;

/** One idle worker is kept warm: starting one costs ~100 ms (it loads the server bundle). */
let spare: SpareThread | undefined;

function spareFor(workerFile: string): SpareThread {
  return (spare ??= new SpareThread(() => new Worker(workerFile, { argv: ['--netpath-worker'] })));
}

/**
 * Starts the idle worker ahead of the first request (at `initialized`): it loads the server bundle
 * while the user is still choosing what to diagnose, instead of after they pressed Diagnose.
 */
export function prewarmWorker(workerFile: string): void {
  spareFor(workerFile).prewarm();
}

/** Main thread: runs one job in a worker, its progress reported through `steps`. */
export function runInWorker<K extends Job['kind']>(job: Extract<Job, { kind: K }>, steps: Steps, workerFile: string, log: (message: string) => void): Promise<JobResults[K]> {
  steps.checkCancelled();
  const pool = spareFor(workerFile);
  const worker = pool.take();
  return new Promise((resolve, reject) => {
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = (fn: () => void, reusable: boolean) => {
      if (settled) return;
      settled = true;
      sub.dispose();
      if (grace) clearTimeout(grace);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      pool.release(worker, reusable);
      fn();
    };
    const sub = steps.token.onCancellationRequested(() => {
      if (!isLiveJob(job)) return finish(() => reject(new CancelledError()), false);
      worker.postMessage({ type: 'cancel' } satisfies ToWorker);
      grace = setTimeout(() => finish(() => reject(new CancelledError()), false), liveCancelGraceMs);
    });
    const onMessage = (m: FromWorker) => {
      switch (m.type) {
        case 'progress':
          // Not a cancellation point: cancellation is handled above, and a live job still reports
          // its clean-up after a cancel.
          if (m.message !== undefined) steps.note(m.message);
          return;
        case 'log':
          return log(m.message);
        case 'done':
          return finish(() => resolve(m.value as JobResults[K]), true);
        case 'error':
          // The worker answered: it is reusable, whatever the error (its caches are intact).
          return finish(() => reject(reviveError(m.error)), true);
      }
    };
    const onError = (e: Error) => finish(() => reject(e), false);
    const onExit = (code: number) => finish(() => reject(new Error(`the diagnosis worker exited (code ${code}) without an answer`)), false);
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage({ type: 'job', job, expectedSteps: steps.expected } satisfies ToWorker);
  });
}

/** Worker thread: runs the jobs it is sent, one at a time. */
export function runWorker(): void {
  const port = parentPort!;
  const post = (m: FromWorker) => port.postMessage(m);
  let current: CancellationTokenSource | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'cancel') return current?.cancel();
    const cts = new CancellationTokenSource();
    current = cts;
    const reporter = {
      begin() {},
      report(a: number | string, b?: string) {
        post(typeof a === 'number' ? { type: 'progress', percent: a, message: b } : { type: 'progress', message: a });
      },
      done() {},
    } as WorkDoneProgressReporter;
    const steps = new Steps(reporter, cts.token, m.expectedSteps);
    runJob(m.job, steps).then(
      (value) => post({ type: 'done', value }),
      (e: unknown) => {
        const error = asNetpathError(e);
        // A bug: its stack is only here, so log it before it becomes plain data.
        if (error.meaning === 'internal') post({ type: 'log', message: `netpath/${m.job.kind} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}` });
        post({ type: 'error', error: error.plain() });
      },
    ).finally(() => {
      if (current === cts) current = undefined;
      cts.dispose();
    });
  });
}
