// The LSP custom protocol between the extension (vscode-languageclient) and the diagnosis server
// (vscode-languageserver). One definition for both sides: method names, params, results, error
// codes and the report URI scheme. Types only (plus tiny pure helpers), so the extension bundle
// never pulls the engine in through this file.
// The language client and server share vscode-languageserver-protocol's copy of vscode-jsonrpc.
import { RequestType } from 'vscode-languageserver-protocol';
import type { DiagnosisRequest, DiagnosisResult } from '../engine/model/result';
import type { PositionedGraph } from '../engine/report/graph';
import type { SnapshotSettings } from '../engine/snapshot/types';
import type { ConsentDetails } from '../cluster/errors';

export type { ConsentDetails };

/** Collector pod settings (`netpath.collector.*`); absent = the defaults. */
export interface CollectorOptions {
  image?: string;
  namespace?: string;
  timeoutSeconds?: number;
}

/**
 * A live cluster: a kubeconfig context (absent = the kubeconfig's current-context) and file
 * (absent = KUBECONFIG, then ~/.kube/config). `consent: true` means the user agreed to create the
 * collector namespace and privileged pods; without it a run that would create the namespace fails
 * with `ErrorCodes.ConsentRequired` (its `data` is a `ConsentDetails`) and creates nothing.
 */
export interface ClusterSpec {
  kind: 'cluster';
  context?: string;
  kubeconfig?: string;
  collector?: CollectorOptions;
  consent?: boolean;
}

/**
 * Where the cluster state comes from: a snapshot by path (the server reads it) or by text (an
 * unsaved editor), or a live cluster. The server resolves every kind through its `ClusterSource`.
 */
export type SourceSpec =
  | { kind: 'snapshot'; path: string }
  | { kind: 'snapshot'; text: string; name?: string }
  | ClusterSpec;

export function isClusterSpec(s: SourceSpec | undefined): s is ClusterSpec {
  return s?.kind === 'cluster';
}

/** Values the user set to override detection (settings `netpath.detected.*`); absent = detect. */
export interface SettingOverrides {
  networkPlugin?: string;
  backend?: string;
  proxyMode?: string;
  podCIDRs?: string[];
  serviceCIDRs?: string[];
  nodeUplink?: string;
}

// ---- netpath/diagnose ----
export const diagnoseMethod = 'netpath/diagnose';
export interface DiagnoseParams {
  source: SourceSpec;
  request: DiagnosisRequest;
  overrides?: SettingOverrides;
  /** Chosen by the client so it can name the run before the answer arrives; the server makes one when absent. */
  runId?: string;
}
/** Where one suspicion is shown in the report text (0-based lines). */
export interface FindingLocation {
  /** NetNode id, or undefined for a cluster suspicion. */
  node?: string;
  /** Index in that node's `suspicions` (or in `clusterSuspicions`). */
  index: number;
  line: number;
  /** One line per evidence item, in evidence order. */
  evidenceLines: number[];
}
export interface DiagnoseResult {
  runId: string;
  /** `netpath-report:/<runId>.txt`: the document the diagnostics were published on. */
  reportUri: string;
  report: string;
  findings: FindingLocation[];
  result: DiagnosisResult;
  /** What the source was, for the run's label: the snapshot file, "unsaved snapshot", or "context NAME (live)". */
  sourceLabel: string;
  durationMs: number;
  /** The link-path graph, laid out by the server with every fan-out folded (see netpath/layoutPath). */
  graph: PositionedGraph;
}

// ---- netpath/listEndpoints ----
export const listEndpointsMethod = 'netpath/listEndpoints';
export interface ListEndpointsParams {
  source: SourceSpec;
}
export interface PortInfo {
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  name?: string;
}
export interface PodEndpoint {
  namespace: string;
  name: string;
  ips: string[];
  node?: string;
  phase: string;
  hostNetwork: boolean;
  ports: PortInfo[];
}
export interface ServiceEndpoint {
  namespace: string;
  name: string;
  type: string;
  clusterIPs: string[];
  ports: PortInfo[];
}
export interface NodeEndpoint {
  name: string;
  addresses: string[];
}
export interface ListEndpointsResult {
  pods: PodEndpoint[];
  services: ServiceEndpoint[];
  nodes: NodeEndpoint[];
  namespaces: string[];
}

// ---- netpath/clusterInfo ----
export const clusterInfoMethod = 'netpath/clusterInfo';
export interface ClusterInfoParams {
  source: SourceSpec;
  overrides?: SettingOverrides;
}
export interface ClusterInfoResult {
  sourceLabel: string;
  capturedAt?: string;
  /** As recorded in the snapshot (detected at capture time). */
  detected: SnapshotSettings;
  /** What a diagnosis uses: detected values with the user's overrides applied. */
  effective: SnapshotSettings;
  /** Setting keys whose value comes from an override. */
  overridden: string[];
  counts: { nodes: number; pods: number; services: number; networkPolicies: number; dumps: number };
  /** Nodes whose network stack is in the source. */
  dumpedNodes: string[];
  /** Each detected value (from `effective`) with how it was found, e.g. "ConfigMap kube-flannel/kube-flannel-cfg net-conf.json". */
  detection: DetectedValue[];
  /** For a live cluster: where it was reached and what the user may not do there. */
  cluster?: { context: string; server: string; kubeconfig: string; missingPermissions: string[] };
}
export interface DetectedValue {
  setting: string;
  value: string;
  source: string;
}

// ---- netpath/captureSnapshot ----
export const captureSnapshotMethod = 'netpath/captureSnapshot';
export interface CaptureSnapshotParams {
  source: ClusterSpec;
  /** Absolute path of the snapshot file to write (`*.netpath.json`). */
  output: string;
  /** Nodes whose network stack to collect; default: every node. */
  nodes?: string[];
}
export interface CaptureSnapshotResult {
  /** The file written. */
  path: string;
  bytes: number;
  /** Nodes whose dump is in the snapshot. */
  collected: string[];
  /** Nodes that could not be collected, with why. */
  failed: { node: string; message: string }[];
}

// ---- netpath/clearRun ----
export const clearRunMethod = 'netpath/clearRun';
/** Clears the diagnostics of one run, or of every run when `runId` is absent. */
export interface ClearRunParams {
  runId?: string;
}
export interface ClearRunResult {
  cleared: string[];
}

// ---- netpath/layoutPath (the link-path graph of a run, laid out by the server) ----
// The extension host never runs the layout (elkjs): the diagnose result carries the folded graph,
// and unfolding a group of backends asks the server for a new positioned graph of the same run.
export const layoutPathMethod = 'netpath/layoutPath';
export interface LayoutPathParams {
  /** A run this server diagnosed (it keeps the last `keptRuns` results). */
  runId: string;
  /** Group node ids (`group:<parent>`) to unfold. */
  expanded: string[];
  /** Backends an unfolded group shows (default 200; the server caps what all groups add). */
  limit?: number;
}
export type LayoutPathResult = PositionedGraph;
export const layoutPathRequest = new RequestType<LayoutPathParams, LayoutPathResult, void>(layoutPathMethod);
/** How many runs' results the server keeps for netpath/layoutPath. */
export const keptRuns = 16;

/** Error codes of netpath responses (JSON-RPC server-defined range, plus the standard ones). */
export const ErrorCodes = {
  InvalidParams: -32602,
  RequestCancelled: -32800,
  /** The user's request names something the source does not have (unknown pod, service as source). */
  BadRequest: -32001,
  /** The snapshot cannot be read or is malformed. */
  BadSource: -32002,
  /** The feature exists in the protocol but not in this build. */
  NotAvailable: -32003,
  /** A live run would create the collector namespace and pods: ask the user, then resend with `consent: true`. `data`: ConsentDetails. */
  ConsentRequired: -32004,
  /** The live cluster cannot be reached or answered with an error (the message names the server and call). */
  ClusterFailed: -32005,
} as const;

export const reportScheme = 'netpath-report';

export function reportUri(runId: string): string {
  return `${reportScheme}:/${runId}.txt`;
}

/** The run id of a report URI, or undefined when it is not one. */
export function runIdOfReportUri(uri: string): string | undefined {
  const m = new RegExp(`^${reportScheme}:/([A-Za-z0-9._-]+)\\.txt$`).exec(uri);
  return m?.[1];
}
