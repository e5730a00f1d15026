// Checks the params of every custom request before any work: a malformed request is bad input of
// its `params` (InvalidParams on the wire) naming the bad field and what was expected, and the
// server carries on.
import { isAbsolute } from 'node:path';
import type { ProgressToken } from 'vscode-languageserver/node';
import type { DiagnosisRequest } from '../engine/model/result';
import { BadInputError } from '../shared/errors';
import { echoed } from '../shared/display';
import { parsePrefix } from '../engine/netstack/ip';
import { limitValueProblem, requestLimitNames, type RequestLimits } from '../shared/limits';
import {
  CaptureSnapshotRequest, ClearRunRequest, ClusterInfoRequest, DiagnoseRequest, ListEndpointsRequest, WhatIfRequest,
  type CaptureSnapshotParams, type ClusterSpec, type ClearRunParams, type ClusterInfoParams, type DiagnoseParams,
  type ListEndpointsParams, type SettingOverrides, type SourceSpec, type WhatIfParams,
} from '../shared/protocol';

export function bad(method: string, field: string, expected: string, got: unknown): BadInputError {
  return new BadInputError(`${method}: ${field} must be ${expected}, got ${describe(got)}`, 'params');
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${echoed(v, 60)}"`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function params(method: string, p: unknown): Record<string, unknown> {
  if (!isObject(p)) throw bad(method, 'params', 'an object', p);
  return p;
}

/** The client's work-done progress token, when it sent one (the server reports progress on it). */
export function workDoneToken(method: string, o: Record<string, unknown>): { workDoneToken?: ProgressToken } {
  const t = o.workDoneToken;
  if (t === undefined) return {};
  if (typeof t === 'string' || (typeof t === 'number' && Number.isInteger(t))) return { workDoneToken: t };
  throw bad(method, 'params.workDoneToken', 'a string or an integer', t);
}

export function source(method: string, v: unknown): SourceSpec {
  if (!isObject(v)) throw bad(method, 'params.source', 'an object { kind: "snapshot", path }, { kind: "snapshot", text } or { kind: "cluster", context? }', v);
  if (v.kind === 'cluster') return cluster(method, v);
  if (v.kind !== 'snapshot') throw bad(method, 'params.source.kind', '"snapshot" or "cluster"', v.kind);
  if (typeof v.path === 'string') {
    if (!v.path) throw bad(method, 'params.source.path', 'a file path', v.path);
    return { kind: 'snapshot', path: v.path };
  }
  if (typeof v.text === 'string') {
    if (v.name !== undefined && typeof v.name !== 'string') throw bad(method, 'params.source.name', 'a string', v.name);
    return { kind: 'snapshot', text: v.text, name: v.name as string | undefined };
  }
  throw bad(method, 'params.source', 'a snapshot path (string "path") or snapshot text (string "text")', v);
}

const k8sName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function cluster(method: string, v: Record<string, unknown>): ClusterSpec {
  const out: ClusterSpec = { kind: 'cluster' };
  for (const k of ['context', 'kubeconfig'] as const) {
    if (v[k] === undefined || v[k] === null) continue;
    if (typeof v[k] !== 'string' || !v[k]) throw bad(method, `params.source.${k}`, 'a non-empty string', v[k]);
    out[k] = v[k] as string;
  }
  if (v.consent !== undefined && typeof v.consent !== 'boolean') throw bad(method, 'params.source.consent', 'a boolean', v.consent);
  out.consent = v.consent === true;
  const c = v.collector;
  if (c !== undefined && c !== null) {
    if (!isObject(c)) throw bad(method, 'params.source.collector', 'an object { image?, namespace?, timeoutSeconds? }', c);
    out.collector = {};
    if (c.image !== undefined) {
      if (typeof c.image !== 'string' || !c.image.trim()) throw bad(method, 'params.source.collector.image', 'an image reference', c.image);
      out.collector.image = c.image.trim();
    }
    if (c.namespace !== undefined) {
      if (typeof c.namespace !== 'string' || !k8sName.test(c.namespace)) throw bad(method, 'params.source.collector.namespace', 'a namespace name (lower-case letters, digits, "-")', c.namespace);
      out.collector.namespace = c.namespace;
    }
    if (c.timeoutSeconds !== undefined) {
      if (typeof c.timeoutSeconds !== 'number' || !(c.timeoutSeconds > 0)) throw bad(method, 'params.source.collector.timeoutSeconds', 'a positive number', c.timeoutSeconds);
      out.collector.timeoutSeconds = c.timeoutSeconds;
    }
  }
  return out;
}

export function overrides(method: string, v: unknown): SettingOverrides | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw bad(method, 'params.overrides', 'an object', v);
  const out: SettingOverrides = {};
  for (const k of ['networkPlugin', 'backend', 'proxyMode', 'nodeUplink'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'string') throw bad(method, `params.overrides.${k}`, 'a string', v[k]);
    out[k] = v[k] as string;
  }
  for (const k of ['podCIDRs', 'serviceCIDRs'] as const) {
    if (v[k] === undefined) continue;
    const list = v[k];
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw bad(method, `params.overrides.${k}`, 'an array of CIDR strings', list);
    // As the CLI's --pod-cidrs: an address without its length is a mistake, not a /32.
    list.forEach((c: string, i) => {
      if (!c.includes('/') || !parsePrefix(c)) throw bad(method, `params.overrides.${k}[${i}]`, 'a CIDR (address/length)', c);
    });
    out[k] = list as string[];
  }
  return out;
}

/** `params.limits`: each known limit a positive integer (src/shared/limits.ts); an unknown name is a mistake. */
export function limits(method: string, v: unknown): { limits?: RequestLimits } {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw bad(method, 'params.limits', `an object with any of ${requestLimitNames.join(', ')}`, v);
  const out: RequestLimits = {};
  for (const [k, x] of Object.entries(v)) {
    if (!(requestLimitNames as string[]).includes(k)) throw bad(method, `params.limits.${echoed(k, 60)}`, `absent (the limits are ${requestLimitNames.join(', ')})`, x);
    const problem = limitValueProblem(x);
    if (problem) throw bad(method, `params.limits.${k}`, problem, x);
    out[k as keyof RequestLimits] = x as number;
  }
  return { limits: out };
}

export function diagnosisRequest(m: string, r: unknown): DiagnosisRequest {
  if (!isObject(r)) throw bad(m, 'params.request', 'an object { src, dst, port, protocol }', r);
  for (const k of ['src', 'dst'] as const) {
    if (typeof r[k] !== 'string' || !(r[k] as string).trim()) throw bad(m, `params.request.${k}`, 'a non-empty string (ns/pod, svc/ns/name, node/name or an IP)', r[k]);
  }
  if (typeof r.port !== 'number' || !Number.isInteger(r.port) || r.port < 1 || r.port > 65535) throw bad(m, 'params.request.port', 'an integer from 1 to 65535', r.port);
  const protocol = r.protocol ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') throw bad(m, 'params.request.protocol', '"tcp", "udp" or "sctp"', r.protocol);
  if (r.family !== undefined && r.family !== 4 && r.family !== 6) throw bad(m, 'params.request.family', '4 or 6 (absent: the family of an IP given, else IPv4 when both ends have it)', r.family);
  return { src: (r.src as string).trim(), dst: (r.dst as string).trim(), port: r.port, protocol, ...(r.family !== undefined ? { family: r.family as 4 | 6 } : {}) };
}

export function diagnoseParams(p: unknown): DiagnoseParams {
  const m = DiagnoseRequest.method;
  const o = params(m, p);
  const request = diagnosisRequest(m, o.request);
  if (o.runId !== undefined && (typeof o.runId !== 'string' || !/^[A-Za-z0-9._-]{1,80}$/.test(o.runId))) {
    throw bad(m, 'params.runId', 'letters, digits, ".", "_" or "-" (at most 80)', o.runId);
  }
  return { source: source(m, o.source), request, overrides: overrides(m, o.overrides), ...limits(m, o.limits), runId: o.runId as string | undefined, ...workDoneToken(m, o) };
}

/** A what-if manifest is an editor's text: bounded like a snapshot given by text. */
const maxManifestChars = 8 * 1024 * 1024;
const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function whatIfParams(p: unknown): WhatIfParams {
  const m = WhatIfRequest.method;
  const o = params(m, p);
  const man = o.manifest;
  if (!isObject(man) || typeof man.text !== 'string' || typeof man.name !== 'string') throw bad(m, 'params.manifest', 'an object { name, text }', man);
  if (man.text.length > maxManifestChars) throw bad(m, 'params.manifest.text', `at most ${maxManifestChars} characters`, `${man.text.length} characters`);
  const namespaces = o.namespaces;
  if (namespaces !== undefined && (!Array.isArray(namespaces) || !namespaces.every((n) => typeof n === 'string' && namespaceName.test(n)))) {
    throw bad(m, 'params.namespaces', 'a list of namespace names', namespaces);
  }
  return {
    source: source(m, o.source),
    manifest: { name: man.name, text: man.text },
    ...(o.request !== undefined ? { request: diagnosisRequest(m, o.request) } : {}),
    ...(namespaces !== undefined ? { namespaces: namespaces as string[] } : {}),
    overrides: overrides(m, o.overrides),
    ...limits(m, o.limits),
    ...workDoneToken(m, o),
  };
}

export function listEndpointsParams(p: unknown): ListEndpointsParams {
  const m = ListEndpointsRequest.method;
  const o = params(m, p);
  return { source: source(m, o.source), ...limits(m, o.limits), ...workDoneToken(m, o) };
}

export function clusterInfoParams(p: unknown): ClusterInfoParams {
  const m = ClusterInfoRequest.method;
  const o = params(m, p);
  return { source: source(m, o.source), overrides: overrides(m, o.overrides), ...limits(m, o.limits), ...workDoneToken(m, o) };
}

export function captureSnapshotParams(p: unknown): CaptureSnapshotParams {
  const m = CaptureSnapshotRequest.method;
  const o = params(m, p ?? {});
  if (o.nodes !== undefined && (!Array.isArray(o.nodes) || !o.nodes.every((x) => typeof x === 'string' && x))) throw bad(m, 'params.nodes', 'an array of node names', o.nodes);
  const src = source(m, o.source);
  if (src.kind !== 'cluster') throw bad(m, 'params.source.kind', '"cluster" (a snapshot is captured from a live cluster)', src.kind);
  if (typeof o.output !== 'string' || !isAbsolute(o.output)) throw bad(m, 'params.output', 'an absolute file path', o.output);
  return { source: src, output: o.output, nodes: o.nodes as string[] | undefined, ...limits(m, o.limits), ...workDoneToken(m, o) };
}

export function clearRunParams(p: unknown): ClearRunParams {
  const m = ClearRunRequest.method;
  const o = params(m, p ?? {});
  if (o.runId !== undefined && typeof o.runId !== 'string') throw bad(m, 'params.runId', 'a string', o.runId);
  return { runId: o.runId as string | undefined };
}
