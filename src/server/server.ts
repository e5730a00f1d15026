// Request handlers of the diagnosis server: validate params, hand the work to the worker thread
// (worker.ts, pipeline.ts) and the link-path layouts to the layout worker (layout-thread.ts),
// report each step as work-done progress, honour cancellation, publish
// suspicions as diagnostics on the run's report document, and turn every failure into a JSON-RPC
// error with a clear message (the server stays up). The main thread only routes: nothing here
// parses a snapshot, runs the engine or lays out a graph.
import {
  CodeActionKind, createConnection, ProposedFeatures, TextDocumentSyncKind, type CancellationToken, type Connection, type InitializeParams,
  type RequestType, type WorkDoneProgressParams, type WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetpathError } from '../shared/errors';
import { constants, setPriority } from 'node:os';
import {
  CaptureSnapshotRequest, ClearRunRequest, ClusterInfoRequest, DiagnoseRequest, encodeError, keptRuns, LayoutPathRequest,
  ListEndpointsRequest, MatrixRequest, SnapshotDiffRequest, WhatIfRequest, type DiagnoseParams, type DiagnoseResult, type NetpathErrorData,
} from '../shared/protocol';
import { codeActions } from './manifests/actions';
import { PublishedManifests } from './manifests/published';
import { snapshotDiffParams } from './compare';
import { matrixParams } from './matrix';
import { version } from '../shared/version';
import { KeptResults, layoutPathParams, unknownRun } from './layout';
import { LayoutThread } from './layout-thread';
import * as check from './params';
import { Steps } from './steps';
import { prewarmWorker, runInWorker } from './worker';

let runCounter = 0;

function newRunId(): string {
  return `run-${Date.now().toString(36)}-${(++runCounter).toString(36)}`;
}

/** What a diagnosis asked, on what (a snapshot's text by its digest, a cluster by its kubeconfig and context). */
function requestKey(p: DiagnoseParams): string {
  const s = p.source;
  const source = s.kind === 'cluster' ? [s.kubeconfig ?? '', s.context ?? ''] : 'path' in s ? s.path : createHash('sha256').update(s.text).digest('hex');
  return JSON.stringify([source, p.request, p.overrides ?? {}]);
}

/** A failure as its JSON-RPC error; an internal one is a bug, logged with its stack. */
function failure(method: string, e: unknown, connection: Connection) {
  if (!(e instanceof NetpathError) || e.meaning === 'internal') connection.console.error(`${method} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  return encodeError(method, e);
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
  const log = (message: string) => connection.console.error(message);
  /** elkjs, in its own thread and bundle (dist/layout-worker.js, next to this one). */
  const layouts = new LayoutThread(join(__dirname, 'layout-worker.js'), log);
  /** Findings on the workspace's manifests (the client syncs its YAML documents: their unsaved text counts). */
  const manifests = new PublishedManifests((uri, diagnostics) => connection.sendDiagnostics({ uri, diagnostics }));
  let roots: string[] = [];
  let folderEvents = false;
  const open = new Map<string, { text: string; version: number }>();

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

  connection.onInitialize((init: InitializeParams) => {
    roots = init.workspaceFolders?.map((f) => f.uri) ?? (init.rootUri ? [init.rootUri] : []);
    folderEvents = init.capabilities.workspace?.workspaceFolders === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Full },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        ...(folderEvents ? { workspace: { workspaceFolders: { supported: true, changeNotifications: true } } } : {}),
      },
      serverInfo: { name: 'netpath', version },
    };
  });
  connection.onInitialized(() => {
    prewarmWorker(workerFile);
    layouts.prewarm();
    // Folder changes are only asked for from a client that can send them (the library throws otherwise).
    if (!folderEvents) return;
    connection.workspace.onDidChangeWorkspaceFolders((e) => {
      const gone = new Set(e.removed.map((f) => f.uri));
      roots = [...roots.filter((r) => !gone.has(r)), ...e.added.map((f) => f.uri)];
    });
  });
  connection.onDidOpenTextDocument((e) => {
    open.set(e.textDocument.uri, { text: e.textDocument.text, version: e.textDocument.version });
  });
  connection.onDidChangeTextDocument((e) => {
    const last = e.contentChanges[e.contentChanges.length - 1];
    if (!last || 'range' in last) return; // full sync: each change is the whole text
    open.set(e.textDocument.uri, { text: last.text, version: e.textDocument.version });
    void manifests.edited(e.textDocument.uri, last.text);
  });
  connection.onDidCloseTextDocument((e) => {
    open.delete(e.textDocument.uri);
  });
  connection.onCodeAction(async (p) => {
    if (!p.context.diagnostics.some((d) => d.source === 'netpath')) return [];
    const doc = open.get(p.textDocument.uri);
    if (doc) return codeActions(p, doc);
    if (!p.textDocument.uri.startsWith('file:')) return [];
    const text = await readFile(fileURLToPath(p.textDocument.uri), 'utf8').catch(() => undefined);
    return codeActions(p, text === undefined ? undefined : { text, version: null });
  });

  serve(DiagnoseRequest, 'Network Path: diagnosing', 7, check.diagnoseParams, async (p, steps): Promise<DiagnoseResult> => {
    const runId = p.runId ?? newRunId();
    const scope = { roots, open: [...open].map(([uri, d]) => ({ uri, text: d.text })) };
    const diagnosed = await runInWorker({ kind: 'diagnose', params: { ...p, runId }, manifests: scope }, steps, workerFile, log);
    const { diagnostics, manifests: onManifests } = diagnosed;
    steps.step('Laying out the path');
    const t0 = Date.now();
    const graph = await layouts.layout(diagnosed.result.result, {}, steps.token);
    // The run's time spans the diagnosis and its picture.
    const result: DiagnoseResult = { ...diagnosed.result, graph, durationMs: diagnosed.result.durationMs + Date.now() - t0 };
    steps.step(`Publishing ${diagnostics.length} finding${diagnostics.length === 1 ? '' : 's'}`);
    runs.set(runId, result.reportUri);
    results.set(runId, result.result);
    await connection.sendDiagnostics({ uri: result.reportUri, diagnostics });
    await manifests.setRun(runId, requestKey(p), onManifests);
    return result;
  });

  serve(WhatIfRequest, 'Network Path: what if', 5, check.whatIfParams, (params, steps) =>
    runInWorker({ kind: 'whatIf', params }, steps, workerFile, log));

  serve(ListEndpointsRequest, 'Network Path: listing endpoints', 3, check.listEndpointsParams, (params, steps) =>
    runInWorker({ kind: 'listEndpoints', params }, steps, workerFile, log));

  serve(ClusterInfoRequest, 'Network Path: reading cluster settings', 3, check.clusterInfoParams, (params, steps) =>
    runInWorker({ kind: 'clusterInfo', params }, steps, workerFile, log));

  serve(CaptureSnapshotRequest, 'Network Path: capturing a snapshot', 6, check.captureSnapshotParams, (params, steps) =>
    runInWorker({ kind: 'captureSnapshot', params }, steps, workerFile, log));

  serve(MatrixRequest, 'Network Path: connectivity matrix', 6, matrixParams, (params, steps) =>
    runInWorker({ kind: 'matrix', params }, steps, workerFile, log));

  serve(SnapshotDiffRequest, 'Network Path: comparing snapshots', 5, snapshotDiffParams, (params, steps) =>
    runInWorker({ kind: 'snapshotDiff', params }, steps, workerFile, log));

  connection.onRequest(ClearRunRequest, async (raw: unknown) => {
    try {
      const p = check.clearRunParams(raw);
      const ids = p.runId === undefined ? [...runs.keys()] : runs.has(p.runId) ? [p.runId] : [];
      for (const id of ids) {
        await connection.sendDiagnostics({ uri: runs.get(id)!, diagnostics: [] });
        await manifests.clearRun(id);
        runs.delete(id);
        results.delete(id);
      }
      return { cleared: ids };
    } catch (e) {
      throw failure(ClearRunRequest.method, e, connection);
    }
  });

  // In the layout worker too (elkjs on a few hundred nodes takes seconds); no progress UI: the
  // panel shows "Laying out…" itself.
  connection.onRequest(LayoutPathRequest, async (raw: unknown, token: CancellationToken) => {
    try {
      const { runId, ...options } = layoutPathParams(raw);
      const result = results.get(runId);
      if (!result) throw unknownRun(runId, keptRuns);
      return await layouts.layout(result, options, token);
    } catch (e) {
      throw failure(LayoutPathRequest.method, e, connection);
    }
  });

  connection.listen();
}
