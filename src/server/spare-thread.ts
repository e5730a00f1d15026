// One idle worker thread of a kind, kept for the next request: starting a worker costs a bundle
// load (and, for the layout worker, ELK's JIT warm-up), so a worker that answered is kept with
// what it has compiled and cached. Used for the diagnosis worker (worker.ts) and the layout
// worker (layout-thread.ts): a job takes the spare or starts a fresh worker, and gives it back
// when the worker answered, or stops it when it was cancelled or failed.
import type { Worker } from 'node:worker_threads';

export class SpareThread {
  private idle: Worker | undefined;

  /** `start(prewarm)`: a new worker; `prewarm` when it is started ahead of any request. */
  constructor(private readonly start: (prewarm: boolean) => Worker) {}

  /** Starts the spare ahead of the first request, so it loads while the user is still choosing. */
  prewarm(): void {
    this.idle ??= this.launch(true);
  }

  /** The spare if there is one, else a fresh worker (a second job at once gets its own). */
  take(): Worker {
    const w = this.idle ?? this.launch(false);
    this.idle = undefined;
    // A worker with a job keeps the process alive until it answers, like any pending I/O.
    w.ref();
    return w;
  }

  /** Gives back a worker whose job ended: kept if it answered and there is no spare yet, else stopped. */
  release(w: Worker, reusable: boolean): void {
    w.unref();
    if (reusable && !this.idle) this.idle = w;
    else void w.terminate();
  }

  private launch(prewarm: boolean): Worker {
    const w = this.start(prewarm);
    // An idle worker does not keep the process alive.
    w.unref();
    // A spare that dies while idle (e.g. its bundle failed to load) is forgotten, so the next job
    // starts a fresh one instead of waiting on a dead thread; the 'error' listener keeps an idle
    // worker's uncaught exception from being thrown in the server (a job's own listener reports it).
    w.on('error', () => {});
    w.once('exit', () => {
      if (this.idle === w) this.idle = undefined;
    });
    return w;
  }
}
