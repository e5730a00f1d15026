// The diagnosis pipeline, as it runs inside the server's worker thread: read the source (a snapshot
// file is read, parsed and validated here, never on the server's main thread), build the run's
// Context from the snapshot's settings and the user's overrides, let the engine ask for the dumps it
// needs (a snapshot answers at once, a live cluster through collector pods), and write the report
// and the diagnostics. One path for snapshots and live clusters alike. The link-path graph is not
// laid out here but in the server's layout worker (layout-thread.ts): elkjs is not in this bundle.
import type { Diagnostic } from 'vscode-languageserver/node';
import { createContext } from '../engine/context';
import { Network } from '../engine/network';
import { snapshotPort } from '../engine/port';
import { formatTextWithFindings } from '../engine/report/text';
import type { NetpathSnapshot } from '../engine/snapshot/types';
import type {
  CaptureSnapshotParams, CaptureSnapshotResult, ClusterInfoParams, ClusterInfoResult, DiagnoseParams, DiagnoseResult,
  ListEndpointsParams, ListEndpointsResult, MatrixParams, MatrixResult, SettingOverrides,
  SnapshotDiffParams, SnapshotDiffResult, WhatIfParams, WhatIfResult,
} from '../shared/protocol';
import { reportUri } from '../shared/protocol';
import { toWireResult } from '../shared/severity';
import { toDiagnostics } from './diagnostics';
import { clusterInfo, listEndpoints } from './endpoints';
import { LiveClusterSource } from './live-source';
import { manifestDiagnostics } from './manifests/findings';
import { whatIf } from './manifests/what-if';
import { workspaceManifests, type ManifestScope } from './manifests/workspace';
import { matrixFor } from './matrix';
import { snapshotDiffFor } from './compare';
import { sourceFor } from './source';
import type { RequestLimits } from '../shared/limits';
import type { Steps } from './steps';

/** Work the server hands to its worker: one kind per request that reads a cluster or a snapshot. */
export type Job =
  | { kind: 'diagnose'; params: DiagnoseParams & { runId: string }; manifests: ManifestScope }
  | { kind: 'listEndpoints'; params: ListEndpointsParams }
  | { kind: 'clusterInfo'; params: ClusterInfoParams }
  | { kind: 'captureSnapshot'; params: CaptureSnapshotParams }
  | { kind: 'whatIf'; params: WhatIfParams }
  | { kind: 'matrix'; params: MatrixParams }
  | { kind: 'snapshotDiff'; params: SnapshotDiffParams };

export interface JobResults {
  /** `manifests`: the findings on the workspace's manifests, by file URI. `result` lacks the
   * graph: the main thread has the layout worker draw it. */
  diagnose: { result: Omit<DiagnoseResult, 'graph'>; diagnostics: Diagnostic[]; manifests: [string, Diagnostic[]][] };
  listEndpoints: ListEndpointsResult;
  clusterInfo: ClusterInfoResult;
  captureSnapshot: CaptureSnapshotResult;
  whatIf: WhatIfResult;
  matrix: MatrixResult;
  snapshotDiff: SnapshotDiffResult;
}

/** Live jobs must be allowed to delete their collector pods when cancelled (no hard stop). */
export function isLiveJob(job: Job): boolean {
  return 'source' in job.params && job.params.source.kind === 'cluster';
}

/**
 * Networks by snapshot and overrides: a second diagnosis of the same snapshot reuses the parsed
 * stacks and indexes (a Network holds no per-diagnosis state, so this is safe).
 */
const networks = new WeakMap<NetpathSnapshot, Map<string, Network>>();

function networkFor(snapshot: NetpathSnapshot, overrides: SettingOverrides | undefined, limits: RequestLimits = {}): Network {
  const key = JSON.stringify([overrides ?? {}, limits]);
  let byOverrides = networks.get(snapshot);
  if (!byOverrides) networks.set(snapshot, (byOverrides = new Map()));
  let net = byOverrides.get(key);
  if (!net) {
    const context = createContext({ origin: 'snapshot', values: snapshot.settings }, { origin: 'vscode', values: { ...overrides } });
    net = new Network(snapshotPort(snapshot), context, limits);
    byOverrides.set(key, net);
  }
  return net;
}

export async function runJob(job: Job, steps: Steps): Promise<JobResults[Job['kind']]> {
  switch (job.kind) {
    case 'diagnose':
      return diagnose(job.params, job.manifests, steps);
    case 'listEndpoints': {
      const snapshot = await sourceFor(job.params.source, job.params.limits).load(steps);
      steps.step('Listing pods, services and nodes');
      return listEndpoints(snapshot);
    }
    case 'clusterInfo': {
      const source = sourceFor(job.params.source, job.params.limits);
      const snapshot = await source.load(steps);
      steps.step('Reading detected settings');
      const info = clusterInfo(snapshot, source.label, job.params.overrides);
      return source instanceof LiveClusterSource ? { ...info, cluster: source.cluster } : info;
    }
    case 'captureSnapshot':
      return new LiveClusterSource(job.params.source, job.params.limits).capture(job.params.nodes, job.params.output, steps);
    case 'whatIf':
      return whatIf(job.params, steps);
    case 'matrix':
      return matrixFor(job.params, steps, networkFor);
    case 'snapshotDiff':
      return snapshotDiffFor(job.params, steps);
  }
}

async function diagnose(p: DiagnoseParams & { runId: string }, scope: ManifestScope, steps: Steps): Promise<JobResults['diagnose']> {
  const t0 = Date.now();
  const source = sourceFor(p.source, p.limits);
  let result;
  if (source instanceof LiveClusterSource) {
    result = await source.diagnose(p.request, p.overrides, steps);
  } else {
    const snapshot = await source.load(steps);
    steps.step(`Resolving ${p.request.src} and ${p.request.dst}`);
    const network = networkFor(snapshot, p.overrides, p.limits);
    steps.step(`Simulating ${p.request.protocol} ${p.request.src} → ${p.request.dst}:${p.request.port} hop by hop`);
    result = network.diagnose(p.request);
  }
  steps.step('Writing the report');
  const { text, findings } = formatTextWithFindings(result);
  const uri = reportUri(p.runId);
  const wire = toWireResult(result);
  const diagnostics = toDiagnostics(p.runId, uri, wire, text, findings);
  // Only findings that name objects send the worker through the workspace's YAML.
  const named = [...wire.clusterSuspicions, ...wire.nodes.flatMap((n) => n.suspicions)].some((s) => s.objects?.length);
  const manifests = named ? [...manifestDiagnostics(wire, uri, diagnostics, workspaceManifests(scope))] : [];
  return {
    result: { runId: p.runId, reportUri: uri, report: text, findings, result: wire, sourceLabel: source.label, durationMs: Date.now() - t0 },
    diagnostics,
    manifests,
  };
}
