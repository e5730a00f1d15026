// Request handlers of the diagnosis server: validate params, resolve the source, report each step
// as work-done progress, honour cancellation, publish suspicions as diagnostics on the run's report
// document, and turn every failure into a JSON-RPC error with a clear message (the server stays up).
import {
  createConnection, ProposedFeatures, ResponseError, type CancellationToken, type Connection,
  type WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import { CancelledError, ClusterApiError, ClusterInputError, ClusterUnreachableError, CollectionError, ConsentRequiredError } from '../cluster/errors';
import { constants, setPriority } from 'node:os';
import { RequestError } from '../engine/network';
import { formatTextWithFindings } from '../engine/report/text';
import { SnapshotError } from '../engine/snapshot/load';
import type { NetpathSnapshot } from '../engine/snapshot/types';
import {
  captureSnapshotMethod, clearRunMethod, clusterInfoMethod, diagnoseMethod, ErrorCodes, listEndpointsMethod,
  reportUri, type CaptureSnapshotResult, type ClearRunResult, type ClusterInfoResult, type DiagnoseResult,
} from '../shared/protocol';
import { keptRuns, layoutPathMethod, layoutPathRequest } from '../shared/protocol';
import { version } from '../shared/version';
import { toDiagnostics } from './diagnostics';
import { clusterInfo, effectiveSettings, listEndpoints } from './endpoints';
import * as check from './params';
import { LiveClusterSource } from './live-source';
import { KeptResults, layoutPathFor, layoutPathParams, positionedFor, unknownRun } from './layout';
import { SimulationRequestError, simulate, type SimulationOutput } from './simulate';
import { SourceError, sourceFor } from './source';
import { Cancelled, Steps } from './steps';

let runCounter = 0;

function newRunId(): string {
  return `run-${Date.now().toString(36)}-${(++runCounter).toString(36)}`;
}

/** Every failure as a JSON-RPC error with a message a user can act on. */
function asResponseError(method: string, e: unknown, connection: Connection): ResponseError<unknown> {
  if (e instanceof ResponseError) return e;
  if (e instanceof Cancelled || e instanceof CancelledError) return new ResponseError(ErrorCodes.RequestCancelled, `${method} was cancelled`);
  if (e instanceof SourceError || e instanceof SnapshotError) return new ResponseError(ErrorCodes.BadSource, e.message);
  if (e instanceof SimulationRequestError || e instanceof RequestError) return new ResponseError(ErrorCodes.BadRequest, e.message);
  // Live clusters: the client asks the user and resends with consent; the data says what would be created.
  if (e instanceof ConsentRequiredError) return new ResponseError(ErrorCodes.ConsentRequired, e.message, e.details);
  if (e instanceof ClusterInputError) return new ResponseError(ErrorCodes.BadSource, e.message);
  if (e instanceof ClusterUnreachableError || e instanceof ClusterApiError || e instanceof CollectionError) return new ResponseError(ErrorCodes.ClusterFailed, e.message);
  const err = e instanceof Error ? e : new Error(String(e));
  connection.console.error(`${method} failed: ${err.stack ?? err.message}`);
  return new ResponseError(-32603, `${method} failed inside netpath: ${err.message}`);
}

export function startServer(): void {
  // Diagnosis and layout are background work: below-normal priority (inherited by the worker
  // threads) keeps the editor's own processes responsive while elkjs or the engine runs.
  try {
    setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // not permitted on this system: run at normal priority
  }
  const connection = createConnection(ProposedFeatures.all);
  /** Runs whose diagnostics are published, by run id → report URI. */
  const runs = new Map<string, string>();
  /** The last runs' results, by run id, for netpath/layoutPath. */
  const results = new KeptResults(keptRuns);
  const workerFile = __filename;

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
        throw asResponseError(method, e, connection);
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
    const t0 = Date.now();
    const source = sourceFor(p.source);
    let out: SimulationOutput;
    if (source instanceof LiveClusterSource) {
      // Collection decides which nodes to read from the path itself, so live.ts runs the engine.
      const result = await source.diagnose(p.request, p.overrides, steps);
      steps.step('Writing the report');
      const { text, findings } = formatTextWithFindings(result);
      out = { result, report: text, findings };
    } else {
      const loaded = await source.load(steps);
      const snapshot: NetpathSnapshot = { ...loaded, settings: effectiveSettings(loaded.settings, p.overrides).effective };
      out = await simulate({ snapshot, request: p.request }, steps, workerFile);
    }
    const graph = await positionedFor(out.result);
    const runId = p.runId ?? newRunId();
    const uri = reportUri(runId);
    const diagnostics = toDiagnostics(runId, uri, out.result, out.report, out.findings);
    steps.step(`Publishing ${diagnostics.length} finding${diagnostics.length === 1 ? '' : 's'}`);
    runs.set(runId, uri);
    results.set(runId, out.result);
    await connection.sendDiagnostics({ uri, diagnostics });
    return { runId, reportUri: uri, report: out.report, findings: out.findings, result: out.result, sourceLabel: source.label, durationMs: Date.now() - t0, graph };
  });

  serve(listEndpointsMethod, 'Network Path: listing endpoints', 3, check.listEndpointsParams, async (p, steps) => {
    const snapshot = await sourceFor(p.source).load(steps);
    steps.step('Listing pods, services and nodes');
    return listEndpoints(snapshot);
  });

  serve(clusterInfoMethod, 'Network Path: reading cluster settings', 3, check.clusterInfoParams, async (p, steps): Promise<ClusterInfoResult> => {
    const source = sourceFor(p.source);
    const snapshot = await source.load(steps);
    steps.step('Reading detected settings');
    const info = clusterInfo(snapshot, source.label, p.overrides);
    return source instanceof LiveClusterSource ? { ...info, cluster: source.cluster } : info;
  });

  serve(captureSnapshotMethod, 'Network Path: capturing a snapshot', 6, check.captureSnapshotParams, async (p, steps): Promise<CaptureSnapshotResult> => {
    return new LiveClusterSource(p.source).capture(p.nodes, p.output, steps);
  });

  connection.onRequest(clearRunMethod, async (raw: unknown): Promise<ClearRunResult> => {
    try {
      const p = check.clearRunParams(raw);
      const ids = p.runId === undefined ? [...runs.keys()] : runs.has(p.runId) ? [p.runId] : [];
      for (const id of ids) {
        await connection.sendDiagnostics({ uri: runs.get(id)!, diagnostics: [] });
        runs.delete(id);
        results.delete(id);
      }
      return { cleared: ids };
    } catch (e) {
      throw asResponseError(clearRunMethod, e, connection);
    }
  });

  connection.onRequest(layoutPathRequest, async (raw: unknown) => {
    try {
      const p = layoutPathParams(raw);
      const result = results.get(p.runId);
      if (!result) throw unknownRun(p.runId, keptRuns);
      return await layoutPathFor(result, p);
    } catch (e) {
      throw asResponseError(layoutPathMethod, e, connection);
    }
  });

  connection.listen();
}
