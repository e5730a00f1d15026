// The simulation runs in a worker thread: the engine is synchronous, so running it on the server's
// main thread would leave cancellation (and every other request) waiting until it finished.
// Cancelling terminates the worker — the run stops at once, whatever it was doing; a worker that
// answered is kept for the next run.
import { Worker, parentPort } from 'node:worker_threads';
import type { DiagnosisRequest, DiagnosisResult } from '../engine/model/result';
import { Network, RequestError } from '../engine/network';
import { formatTextWithFindings, type TextFinding } from '../engine/report/text';
import type { NetpathSnapshot } from '../engine/snapshot/types';
import { Cancelled, type Steps } from './steps';

export interface SimulationInput {
  snapshot: NetpathSnapshot;
  request: DiagnosisRequest;
}
export interface SimulationOutput {
  result: DiagnosisResult;
  report: string;
  findings: TextFinding[];
}
type WorkerMessage =
  | { type: 'step'; message: string }
  | { type: 'done'; output: SimulationOutput }
  | { type: 'error'; kind: 'request' | 'internal'; message: string };

/** The user's request names something the snapshot does not have (the engine's RequestError). */
export class SimulationRequestError extends Error {
  override name = 'SimulationRequestError';
}

/** One idle worker is kept warm: starting one costs ~100 ms (it loads the server bundle). */
let idle: Worker | undefined;

function takeWorker(workerFile: string): Worker {
  const w = idle;
  idle = undefined;
  if (w) return w;
  const fresh = new Worker(workerFile, { argv: ['--netpath-simulation-worker'] });
  fresh.unref();
  return fresh;
}

/** Main thread: runs one diagnosis in a worker (the server bundle itself, see main.ts). */
export function simulate(input: SimulationInput, steps: Steps, workerFile: string): Promise<SimulationOutput> {
  steps.checkCancelled();
  const worker = takeWorker(workerFile);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void, reusable: boolean) => {
      if (settled) return;
      settled = true;
      sub.dispose();
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (reusable && !idle) idle = worker;
      else void worker.terminate();
      fn();
    };
    const sub = steps.token.onCancellationRequested(() => finish(() => reject(new Cancelled()), false));
    const onMessage = (m: WorkerMessage) => {
      if (m.type === 'step') {
        try {
          steps.step(m.message);
        } catch (e) {
          finish(() => reject(e), false);
        }
      } else if (m.type === 'done') finish(() => resolve(m.output), true);
      else finish(() => reject(m.kind === 'request' ? new SimulationRequestError(m.message) : new Error(m.message)), m.kind === 'request');
    };
    const onError = (e: Error) => finish(() => reject(e), false);
    const onExit = (code: number) => finish(() => reject(new Error(`the simulation worker exited (code ${code}) without an answer`)), false);
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(input);
  });
}

/** Worker thread: the diagnosis itself. */
export function runSimulationWorker(): void {
  parentPort!.on('message', (input: SimulationInput) => run(input));
}

function run({ snapshot, request }: SimulationInput): void {
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  try {
    post({ type: 'step', message: `Resolving ${request.src} and ${request.dst}` });
    const network = new Network(snapshot);
    post({ type: 'step', message: `Simulating ${request.protocol} ${request.src} → ${request.dst}:${request.port} hop by hop` });
    const result = network.diagnose(request);
    post({ type: 'step', message: 'Writing the report' });
    const { text, findings } = formatTextWithFindings(result);
    post({ type: 'done', output: { result, report: text, findings } });
  } catch (e) {
    post({ type: 'error', kind: e instanceof RequestError ? 'request' : 'internal', message: e instanceof Error ? e.message : String(e) });
  }
}
