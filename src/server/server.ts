// Request handlers of the diagnosis server: validate params, hand the work to the worker thread
// (worker.ts, pipeline.ts), report each step as work-done progress, honour cancellation, publish
// suspicions as diagnostics on the run's report document, and turn every failure into a JSON-RPC
// error with a clear message (the server stays up). The main thread only routes: nothing here
// parses a snapshot or runs the engine.
import {
  createConnection, ProposedFeatures, type CancellationToken, type WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import {
  captureSnapshotMethod, clearRunMethod, clusterInfoMethod, diagnoseMethod, listEndpointsMethod,
  type ClearRunResult, type DiagnoseResult,
} from '../shared/protocol';
import { version } from '../shared/version';
import * as check from './params';
import { asResponseError } from './response-error';
import { Steps } from './steps';
import { runInWorker } from './worker';

let runCounter = 0;

function newRunId(): string {
  return `run-${Date.now().toString(36)}-${(++runCounter).toString(36)}`;
}

export function startServer(): void {
  const connection = createConnection(ProposedFeatures.all);
  /** Runs whose diagnostics are published, by run id → report URI. */
  const runs = new Map<string, string>();
  const workerFile = __filename;
  const log = (message: string) => connection.console.error(message);

  async function progressFor(params: unknown, title: string): Promise<WorkDoneProgressReporter> {
    const p = params as { workDoneToken?: string | number };
    const reporter = p.workDoneToken !== undefined
      ? connection.languages.attachWorkDoneProgress(p as { workDoneToken: string | number })
      : await connection.window.createWorkDoneProgress();
    reporter.begin(title, 0, undefined, true);
    return reporter;
  }

  /** A request handler with params checking, progress, cancellation and error mapping. */
  function serve<P, R>(method: string, title: string, expectedSteps: number, parse: (raw: unknown) => P, run: (p: P, steps: Steps) => Promise<R>): void {
    connection.onRequest(method, async (raw: unknown, token: CancellationToken) => {
      let reporter: WorkDoneProgressReporter | undefined;
      try {
        const p = parse(raw);
        reporter = await progressFor(raw, title);
        const steps = new Steps(reporter, token, expectedSteps);
        const r = await run(p, steps);
        steps.checkCancelled();
        return r;
      } catch (e) {
        throw asResponseError(method, e, log);
      } finally {
        reporter?.done();
      }
    });
  }

  connection.onInitialize(() => ({
    capabilities: {},
    serverInfo: { name: 'netpath', version },
  }));

  serve(diagnoseMethod, 'Network Path: diagnosing', 7, check.diagnoseParams, async (p, steps): Promise<DiagnoseResult> => {
    const runId = p.runId ?? newRunId();
    const { result, diagnostics } = await runInWorker({ kind: 'diagnose', params: { ...p, runId } }, steps, workerFile, log);
    steps.step(`Publishing ${diagnostics.length} finding${diagnostics.length === 1 ? '' : 's'}`);
    runs.set(runId, result.reportUri);
    await connection.sendDiagnostics({ uri: result.reportUri, diagnostics });
    return result;
  });

  serve(listEndpointsMethod, 'Network Path: listing endpoints', 3, check.listEndpointsParams, (params, steps) =>
    runInWorker({ kind: 'listEndpoints', params }, steps, workerFile, log));

  serve(clusterInfoMethod, 'Network Path: reading cluster settings', 3, check.clusterInfoParams, (params, steps) =>
    runInWorker({ kind: 'clusterInfo', params }, steps, workerFile, log));

  serve(captureSnapshotMethod, 'Network Path: capturing a snapshot', 6, check.captureSnapshotParams, (params, steps) =>
    runInWorker({ kind: 'captureSnapshot', params }, steps, workerFile, log));

  connection.onRequest(clearRunMethod, async (raw: unknown): Promise<ClearRunResult> => {
    try {
      const p = check.clearRunParams(raw);
      const ids = p.runId === undefined ? [...runs.keys()] : runs.has(p.runId) ? [p.runId] : [];
      for (const id of ids) {
        await connection.sendDiagnostics({ uri: runs.get(id)!, diagnostics: [] });
        runs.delete(id);
      }
      return { cleared: ids };
    } catch (e) {
      throw asResponseError(clearRunMethod, e, log);
    }
  });

  connection.listen();
}
