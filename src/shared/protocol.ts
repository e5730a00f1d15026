// The LSP custom protocol between the extension (vscode-languageclient) and the diagnosis server
// (vscode-languageserver). One definition for both sides: every request as a typed `RequestType`
// (method name, params, result, error data), the error codes with the one encoder (server) and
// decoder (client) of netpath's failures, and the report URI scheme. At runtime it imports only
// ./errors and the LSP protocol package the language client and server already bundle, so the
// extension never pulls the engine in through this file.
import {
  ErrorCodes as JsonRpcErrorCodes, LSPErrorCodes, RequestType, ResponseError, type WorkDoneProgressParams,
} from 'vscode-languageserver-protocol';
import type { DiagnosisRequest } from '../engine/model/result';
import type { PositionedGraph } from '../engine/report/graph';
import type { SnapshotSettings } from '../engine/snapshot/types';
import {
  asNetpathError, BadInputError, CancelledError, ClusterFailedError, ConsentRequiredError, InternalError,
  type ClusterFailure, type ClusterFailureData, type ConsentDetails, type InputPart, type NetpathError,
} from './errors';
import type { WireResult } from './severity';
import type { RequestLimits } from './limits';

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
 * collector namespace and privileged pods (the extension remembers that per API server, namespace
 * and image); without it a run that would create collector pods fails with ConsentRequiredError
 * (its `details` say what would be created) and creates nothing.
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
export interface DiagnoseParams extends WorkDoneProgressParams {
  source: SourceSpec;
  request: DiagnosisRequest;
  overrides?: SettingOverrides;
  /** Raised (or lowered) limits on the input and on what a live cluster sends (src/shared/limits.ts; VS Code's netpath.limits.*). */
  limits?: RequestLimits;
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
  /** Severities as names (src/shared/severity.ts). */
  result: WireResult;
  /** What the source was, for the run's label: the snapshot file, "unsaved snapshot", or "context NAME (live)". */
  sourceLabel: string;
  durationMs: number;
  /** The link-path graph, laid out by the server with every fan-out folded (see netpath/layoutPath). */
  graph: PositionedGraph;
}

// ---- netpath/listEndpoints ----
export interface ListEndpointsParams extends WorkDoneProgressParams {
  source: SourceSpec;
  limits?: RequestLimits;
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
  /** Address families a diagnosis can use for this end (`request.family`), as the server resolves the name. */
  families: (4 | 6)[];
}
export interface ServiceEndpoint {
  namespace: string;
  name: string;
  type: string;
  clusterIPs: string[];
  ports: PortInfo[];
  /** By `spec.ipFamilies` and `clusterIPs`; none for a headless or ExternalName service. */
  families: (4 | 6)[];
}
export interface NodeEndpoint {
  name: string;
  addresses: string[];
  /** Families of its IP addresses (InternalIP first, as a path takes them). */
  families: (4 | 6)[];
}
export interface ListEndpointsResult {
  pods: PodEndpoint[];
  services: ServiceEndpoint[];
  nodes: NodeEndpoint[];
  namespaces: string[];
}

// ---- netpath/clusterInfo ----
export interface ClusterInfoParams extends WorkDoneProgressParams {
  source: SourceSpec;
  overrides?: SettingOverrides;
  limits?: RequestLimits;
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
export interface CaptureSnapshotParams extends WorkDoneProgressParams {
  source: ClusterSpec;
  /** Absolute path of the snapshot file to write (`*.netpath.json`). */
  output: string;
  /** Nodes whose network stack to collect; default: every node. */
  nodes?: string[];
  limits?: RequestLimits;
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
export interface LayoutPathParams {
  /** A run this server diagnosed (it keeps the last `keptRuns` results). */
  runId: string;
  /** Group node ids (`group:<parent>`) to unfold. */
  expanded: string[];
  /** Backends an unfolded group shows (default 200; the server caps what all groups add). */
  limit?: number;
  /** `down` lays the path out top to bottom (a narrow panel); default `right`. */
  direction?: 'right' | 'down';
}
export type LayoutPathResult = PositionedGraph;
export const LayoutPathRequest = new RequestType<LayoutPathParams, LayoutPathResult, NetpathErrorData>('netpath/layoutPath');
/** How many runs' results the server keeps for netpath/layoutPath. */
export const keptRuns = 16;

// ---- netpath/whatIf (a manifest, saved or not, overlaid on the source: what changes) ----
export interface WhatIfParams extends WorkDoneProgressParams {
  source: SourceSpec;
  /** The manifest text (one or more YAML/JSON documents) overlaid on the source's objects. */
  manifest: { name: string; text: string };
  /** Diagnosed with and without the manifest; absent: the pod matrix of `namespaces` instead. */
  request?: DiagnosisRequest;
  /** The matrix's namespaces (default: those of the manifest's objects, else `default`). */
  namespaces?: string[];
  overrides?: SettingOverrides;
  /** As on DiagnoseParams (src/shared/limits.ts). */
  limits?: RequestLimits;
}
/** An object the overlay creates, replaces or removes, or one netpath derives (an EndpointSlice). */
export interface WhatIfChange {
  kind: string;
  namespace?: string;
  name: string;
  action: 'created' | 'replaced' | 'removed' | 'derived';
  source: string;
}
/** A pod pair and port whose verdict the manifest changes. */
export interface WhatIfPair {
  src: string;
  dst: string;
  port: number;
  protocol: string;
  before: string;
  after: string;
  /** The policies deciding it with the manifest (policy-only matrix). */
  policies?: string[];
}
export interface WhatIfResult {
  changes: WhatIfChange[];
  /** Objects of the manifest the diagnosis does not read, and why. */
  ignored: { kind: string; name: string; reason: string }[];
  /** With a request: its verdict without and with the manifest, and the findings that rest on it. */
  request?: {
    request: DiagnosisRequest;
    before: string;
    beforeError?: string;
    after: string;
    findings: { node: string; check: string; level: string; message: string; because: string }[];
  };
  /**
   * Without a request: the policy matrix of `namespaces` before and after. `pairs`: its pod
   * pair-ports; `changed`: those whose verdict changes (the first 500 of `changedCount`).
   */
  matrix?: { namespaces: string[]; pairs: number; changedCount: number; changed: WhatIfPair[] };
  /** The whole answer as text, for a read-only document. */
  report: string;
}

// ---- netpath/matrix (who can talk to whom in a namespace; engine src/engine/matrix) ----
export interface MatrixParams extends WorkDoneProgressParams {
  source: SourceSpec;
  /** Namespaces in scope (at least one). */
  namespaces: string[];
  /** Ports tried on every destination; absent = each destination's own (container ports, policy ports). */
  ports?: { port: number; protocol: 'tcp' | 'udp' | 'sctp' }[];
  /** NetworkPolicies alone (allowed/denied) instead of the datapath's verdict. */
  policyOnly?: boolean;
  overrides?: SettingOverrides;
  /** As on DiagnoseParams (src/shared/limits.ts). */
  limits?: RequestLimits;
}
/** One cell: pods[src] → pods[dst] on ports[port]. */
export interface MatrixCellWire {
  src: number;
  dst: number;
  port: number;
  /** reachable | unreachable | unknown, or (policy-only) allowed | denied. */
  verdict: string;
  /** Check ids of the findings at WARNING or above. */
  checks: string[];
  /** The deciding NetworkPolicies (`ns/name`): for a denied cell those selecting the destination (or source) and allowing nothing. */
  policies?: string[];
}
export interface MatrixResult {
  sourceLabel: string;
  namespaces: string[];
  policyOnly: boolean;
  pods: string[];
  ports: { port: number; protocol: 'tcp' | 'udp' | 'sctp' }[];
  /** Pods in scope left out (no address, finished), with why. */
  left: { pod: string; reason: string }[];
  cells: MatrixCellWire[];
}
/** The most cells a matrix request answers (the view draws each one); larger scopes are refused with the CLI to use. */
export const maxMatrixCells = 20_000;

// ---- netpath/snapshotDiff (what changed between two snapshots; engine src/engine/diff) ----
export interface SnapshotDiffParams extends WorkDoneProgressParams {
  /** Absolute paths of the two snapshot files: a (before) and b (after). */
  a: string;
  b: string;
  /** With a request both snapshots are diagnosed and the differences on its path come first. */
  request?: DiagnosisRequest;
  /** As on DiagnoseParams (src/shared/limits.ts). */
  limits?: RequestLimits;
}
export interface DiffItem {
  type: 'object' | 'stack';
  change: 'added' | 'removed' | 'changed';
  /** One line: `+ iptables: -A FORWARD … -j DROP`, `~ NetworkPolicy default/deny: spec.ingress`. */
  title: string;
  /** Where: `node node2`, `node node2, default/web`, or the object's kind. */
  where: string;
  /** On the path: why it ranks there ("the evidence of iptables.drop, which stopped the packet"). */
  why?: string;
  /** 0-based line of the item in the compare report (`report`). */
  line: number;
  /** An object difference: the object as YAML (from b; from a when it was removed) and the line of its name. */
  object?: { kind: string; namespace?: string; name: string; fields: string[]; yaml: string; nameLine: number };
}
export interface SnapshotDiffResult {
  a: string;
  b: string;
  request?: DiagnosisRequest;
  verdict?: { a: string; b: string; changed: boolean; aError?: string; bError?: string };
  onPath: DiffItem[];
  rest: DiffItem[];
  dumpsOnlyIn: { a: string[]; b: string[] };
  /** The compare report as text (the items point into it by line). */
  report: string;
}

// ---- the requests ----
// Method names are a contract (DESIGN.md "LSP custom protocol"): tests and other clients send them.

export const DiagnoseRequest = new RequestType<DiagnoseParams, DiagnoseResult, NetpathErrorData>('netpath/diagnose');
export const ListEndpointsRequest = new RequestType<ListEndpointsParams, ListEndpointsResult, NetpathErrorData>('netpath/listEndpoints');
export const ClusterInfoRequest = new RequestType<ClusterInfoParams, ClusterInfoResult, NetpathErrorData>('netpath/clusterInfo');
export const CaptureSnapshotRequest = new RequestType<CaptureSnapshotParams, CaptureSnapshotResult, NetpathErrorData>('netpath/captureSnapshot');
export const ClearRunRequest = new RequestType<ClearRunParams, ClearRunResult, NetpathErrorData>('netpath/clearRun');
export const WhatIfRequest = new RequestType<WhatIfParams, WhatIfResult, NetpathErrorData>('netpath/whatIf');
export const MatrixRequest = new RequestType<MatrixParams, MatrixResult, NetpathErrorData>('netpath/matrix');
export const SnapshotDiffRequest = new RequestType<SnapshotDiffParams, SnapshotDiffResult, NetpathErrorData>('netpath/snapshotDiff');

// ---- errors on the wire ----

/**
 * The code of each failure meaning (src/shared/errors.ts). Bad input has one code per part of the
 * input; the JSON-RPC and LSP codes come from the protocol package. (-32001/-32002 predate this
 * table and sit in JSON-RPC's reserved range; clients already rely on them.)
 */
export const ErrorCodes = {
  /** Bad input, `params`: the request is malformed (names the field and what was expected). */
  InvalidParams: JsonRpcErrorCodes.InvalidParams,
  /** Bad input, `request`: it names something the source does not have (unknown pod, a service as source). */
  BadRequest: -32001,
  /** Bad input, `source`: the snapshot cannot be read or is invalid; kubeconfig, context or permissions cannot work. */
  BadSource: -32002,
  /** Consent required: `data` is the ConsentDetails to show; resend with `consent: true`. */
  ConsentRequired: -32004,
  /** The live cluster is unreachable, refused (`denied`) or failed: `data` is a ClusterFailureData. */
  ClusterFailed: -32005,
  RequestCancelled: LSPErrorCodes.RequestCancelled,
  InternalError: JsonRpcErrorCodes.InternalError,
} as const;

/** The `data` of a netpath error response: ConsentDetails (ConsentRequired), ClusterFailureData (ClusterFailed), else none. */
export type NetpathErrorData = ConsentDetails | ClusterFailureData | undefined;

const inputCode: Record<InputPart, number> = { params: ErrorCodes.InvalidParams, request: ErrorCodes.BadRequest, source: ErrorCodes.BadSource };

/** Server side: any failure of `method` as the JSON-RPC error of its meaning (anything not a NetpathError is internal). */
export function encodeError(method: string, e: unknown): ResponseError<NetpathErrorData> {
  const p = asNetpathError(e).plain();
  switch (p.meaning) {
    case 'badInput':
      return new ResponseError(inputCode[p.part], p.message);
    case 'cancelled':
      return new ResponseError(ErrorCodes.RequestCancelled, `${method} was cancelled`);
    case 'consentRequired':
      return new ResponseError(ErrorCodes.ConsentRequired, p.message, p.details);
    case 'clusterFailed':
      return new ResponseError(ErrorCodes.ClusterFailed, p.message, { failure: p.failure, ...(p.status !== undefined ? { status: p.status } : {}) });
    case 'internal':
      return new ResponseError(ErrorCodes.InternalError, `${method} failed inside netpath: ${p.message}`);
  }
}

const clusterFailures: readonly ClusterFailure[] = ['unreachable', 'denied', 'api', 'collection'];

/**
 * Client side: a failed request as the NetpathError of its meaning. Codes netpath does not send
 * (the connection closed, method not found) and anything that is not a response error are internal.
 */
export function decodeError(e: unknown): NetpathError {
  if (!(e instanceof ResponseError)) return asNetpathError(e);
  const data: unknown = e.data;
  switch (e.code) {
    case ErrorCodes.InvalidParams:
      return new BadInputError(e.message, 'params');
    case ErrorCodes.BadRequest:
      return new BadInputError(e.message, 'request');
    case ErrorCodes.BadSource:
      return new BadInputError(e.message, 'source');
    case ErrorCodes.RequestCancelled:
      return new CancelledError(e.message);
    case ErrorCodes.ConsentRequired:
      if (isRecord(data) && typeof data.namespace === 'string') return new ConsentRequiredError(e.message, data as unknown as ConsentDetails);
      return new InternalError(`${e.message} (the server sent no consent details)`);
    case ErrorCodes.ClusterFailed: {
      const failure = isRecord(data) && clusterFailures.includes(data.failure as ClusterFailure) ? data.failure as ClusterFailure : 'api';
      const status = isRecord(data) && typeof data.status === 'number' ? data.status : undefined;
      return new ClusterFailedError(e.message, failure, status);
    }
    default:
      return new InternalError(e.message);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const reportScheme = 'netpath-report';

export function reportUri(runId: string): string {
  return `${reportScheme}:/${runId}.txt`;
}

/** The run id of a report URI, or undefined when it is not one. */
export function runIdOfReportUri(uri: string): string | undefined {
  const m = new RegExp(`^${reportScheme}:/([A-Za-z0-9._-]+)\\.txt$`).exec(uri);
  return m?.[1];
}
