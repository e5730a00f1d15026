// The LSP custom protocol between the extension (vscode-languageclient) and the diagnosis server
// (vscode-languageserver). One definition for both sides: method names, params, results, error
// codes and the report URI scheme. Types only (plus tiny pure helpers), so the extension bundle
// never pulls the engine in through this file.
import type { DiagnosisRequest, DiagnosisResult } from '../engine/model/result';
import type { SnapshotSettings } from '../engine/snapshot/types';

/**
 * Where the cluster state comes from. A snapshot today, by path (the server reads it) or by text
 * (an unsaved editor). Live clusters (issue 5) add `{ kind: 'cluster', context, kubeconfig? }`;
 * the server resolves every kind through its `ClusterSource` interface.
 */
export type SourceSpec =
  | { kind: 'snapshot'; path: string }
  | { kind: 'snapshot'; text: string; name?: string };

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
  /** What the source was, for the run's label: the snapshot file or "unsaved snapshot". */
  sourceLabel: string;
  durationMs: number;
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
}

// ---- netpath/captureSnapshot ----
export const captureSnapshotMethod = 'netpath/captureSnapshot';
export interface CaptureSnapshotParams {
  context?: string;
  kubeconfig?: string;
  nodes?: string[];
}
export interface CaptureSnapshotResult {
  /** The snapshot as JSON text. */
  text: string;
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

/** Error codes of netpath responses (JSON-RPC server-defined range, plus the standard ones). */
export const ErrorCodes = {
  InvalidParams: -32602,
  RequestCancelled: -32800,
  /** The user's request names something the source does not have (unknown pod, service as source). */
  BadRequest: -32001,
  /** The snapshot cannot be read or is malformed. */
  BadSource: -32002,
  /** The feature exists in the protocol but not in this build (live clusters). */
  NotAvailable: -32003,
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
