// Request handlers of the diagnosis server: validate params, resolve the source, report each step
// as work-done progress, honour cancellation, publish suspicions as diagnostics on the run's report
// document, and turn every failure into a JSON-RPC error with a clear message (the server stays up).
import {
  createConnection, ProposedFeatures, type CancellationToken, type Connection, type RequestType,
  type WorkDoneProgressParams, type WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import { formatTextWithFindings } from '../engine/report/text';
import type { NetpathSnapshot } from '../engine/snapshot/types';
import { RequestError } from '../engine/network';
import { BadInputError, NetpathError } from '../shared/errors';
import {
  CaptureSnapshotRequest, ClearRunRequest, ClusterInfoRequest, DiagnoseRequest, encodeError, ListEndpointsRequest,
  reportUri, type ClusterInfoResult, type DiagnoseResult, type NetpathErrorData,
} from '../shared/protocol';
import { toWireResult } from '../shared/severity';
import { version } from '../shared/version';
import { toDiagnostics } from './diagnostics';
import { clusterInfo, effectiveSettings, listEndpoints } from './endpoints';
import * as check from './params';
import { LiveClusterSource } from './live-source';
import { SimulationRequestError, simulate, type SimulationOutput } from './simulate';
import { SourceError, sourceFor } from './source';
import { Steps } from './steps';

let runCounter = 0;

function newRunId(): string {
  return `run-${Date.now().toString(36)}-${(++runCounter).toString(36)}`;
}

/**
 * TRANSITIONAL (issue 12): source.ts, simulate.ts and network.ts still throw their own Error
 * classes; this gives them their shared meaning until those throw sites use BadInputError. Delete
 * it (and its imports) with that switch.
 */
function sharedMeaning(e: unknown): unknown {
  if (e instanceof SourceError) return new BadInputError(e.message, 'source');
  if (e instanceof SimulationRequestError || e instanceof RequestError) return new BadInputError(e.message, 'request');
  return e;
}

/** A failure as its JSON-RPC error; an internal one is a bug, logged with its stack. */
function failure(method: string, thrown: unknown, connection: Connection) {
  const e = sharedMeaning(thrown);
  if (!(e instanceof NetpathError) || e.meaning === 'internal') connection.console.error(`${method} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  return encodeError(method, e);
}

export function startServer(): void {
  const connection = createConnection(ProposedFeatures.all);
  /** Runs whose diagnostics are published, by run id → report URI. */
  const runs = new Map<string, string>();
  const workerFile = __filename;

  async function progressFor(p: WorkDoneProgressParams, title: string): Promise<WorkDoneProgressReporter> {
    const reporter = p.workDoneToken !== undefined
      ? connection.languages.attachWorkDoneProgress(p)
      : await connection.window.createWorkDoneProgress();
    reporter.begin(title, 0, undefined, true);
    return reporter;
  }

  /** A request handler with params checking, progress, cancellation and error mapping. */
  function serve<P extends WorkDoneProgressParams, R>(type: RequestType<P, R, NetpathErrorData>, title: string, expectedSteps: number, parse: (raw: unknown) => P, run: (p: P, steps: Steps) => Promise<R>): void {
    // `raw` is whatever the client sent: `parse` checks it before any work.
    connection.onRequest(type, async (raw: unknown, token: CancellationToken) => {
      let reporter: WorkDoneProgressReporter | undefined;
      try {
        const p = parse(raw);
        reporter = await progressFor(p, title);
        const steps = new Steps(reporter, token, expectedSteps);
        const r = await run(p, steps);
        steps.checkCancelled();
        return r;
      } catch (e) {
        throw failure(type.method, e, connection);
      } finally {
        reporter?.done();
      }
    });
  }

  connection.onInitialize(() => ({
    capabilities: {},
    serverInfo: { name: 'netpath', version },
  }));

  serve(DiagnoseRequest, 'Network Path: diagnosing', 7, check.diagnoseParams, async (p, steps): Promise<DiagnoseResult> => {
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
    const runId = p.runId ?? newRunId();
    const uri = reportUri(runId);
    const result = toWireResult(out.result);
    const diagnostics = toDiagnostics(runId, uri, result, out.report, out.findings);
    steps.step(`Publishing ${diagnostics.length} finding${diagnostics.length === 1 ? '' : 's'}`);
    runs.set(runId, uri);
    await connection.sendDiagnostics({ uri, diagnostics });
    return { runId, reportUri: uri, report: out.report, findings: out.findings, result, sourceLabel: source.label, durationMs: Date.now() - t0 };
  });

  serve(ListEndpointsRequest, 'Network Path: listing endpoints', 3, check.listEndpointsParams, async (p, steps) => {
    const snapshot = await sourceFor(p.source).load(steps);
    steps.step('Listing pods, services and nodes');
    return listEndpoints(snapshot);
  });

  serve(ClusterInfoRequest, 'Network Path: reading cluster settings', 3, check.clusterInfoParams, async (p, steps): Promise<ClusterInfoResult> => {
    const source = sourceFor(p.source);
    const snapshot = await source.load(steps);
    steps.step('Reading detected settings');
    const info = clusterInfo(snapshot, source.label, p.overrides);
    return source instanceof LiveClusterSource ? { ...info, cluster: source.cluster } : info;
  });

  serve(CaptureSnapshotRequest, 'Network Path: capturing a snapshot', 6, check.captureSnapshotParams, async (p, steps) => {
    return new LiveClusterSource(p.source).capture(p.nodes, p.output, steps);
  });

  connection.onRequest(ClearRunRequest, async (raw: unknown) => {
    try {
      const p = check.clearRunParams(raw);
      const ids = p.runId === undefined ? [...runs.keys()] : runs.has(p.runId) ? [p.runId] : [];
      for (const id of ids) {
        await connection.sendDiagnostics({ uri: runs.get(id)!, diagnostics: [] });
        runs.delete(id);
      }
      return { cleared: ids };
    } catch (e) {
      throw failure(ClearRunRequest.method, e, connection);
    }
  });

  connection.listen();
}
