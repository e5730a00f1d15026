// Service backends as kube-proxy computes them: what the ServiceProcessor checks the node's
// iptables/IPVS rules against, and what NetworkPolicy evaluates for a service destination.
// Semantics follow kube-proxy (pkg/proxy: endpointslicecache + CategorizeEndpoints):
// * EndpointSlices of the service (v1; v1beta1 and core Endpoints are normalized by the
//   snapshot loader) in the packet's address family; the first address of each endpoint;
// * the endpoint port is the slice port whose *name* equals the service port's name;
// * conditions default ready=true, serving=true, terminating=false when absent;
// * Cluster policy: ready endpoints, or, when none is ready anywhere, the serving+terminating ones;
//   Local policy: the same on this node's endpoints only;
// * internalTrafficPolicy governs ClusterIP hits, externalTrafficPolicy NodePort/LB/externalIP
//   hits — except that pods on the node reaching an external address of an ETP=Local service are
//   sent to the cluster-wide endpoints (kube-proxy short-circuits in-cluster traffic).
import type { ClusterCache } from '../k8s/cache';
import { isRunning } from '../k8s/cache';
import {
  type ClusterEndpointSlice, type ClusterPod, type ClusterService, type L4Protocol, type ServicePort,
  type SliceEndpoint,
} from '../k8s/objects';
import { selectorFromLabels } from '../k8s/selector';
import { canonicalIP, contains, parseIP, parsePrefix, type Family } from '../netstack/ip';
import type { Protocol } from '../model/packet';
import { SuspicionLevel, type Evidence, type ObjectCause, type Suspicion } from '../model/suspicion';
import { notReadyCauses, selectorCauses, targetPortCause } from './causes';

export type ServiceHitKind = 'clusterIP' | 'externalIP' | 'loadBalancer' | 'nodePort';

/** A packet's destination matched to a service port. */
export interface ServiceHit {
  service: ClusterService;
  port: ServicePort;
  kind: ServiceHitKind;
  /** The destination address that matched (ClusterIP, externalIP, LB IP or node IP). */
  ip: string;
}

export interface Backend {
  ip: string;
  port: number;
  protocol: L4Protocol;
  /** `namespace/name` of the pod behind it (targetRef, else found by IP). */
  pod?: string;
  node?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** `namespace/name` of the EndpointSlice. */
  slice: string;
  /** Where the port number came from: the slice (kube-proxy), or — the slice has no such port — the target port / the pod's container port. */
  portSource: 'slice' | 'targetPort' | 'containerPort';
}

export interface EndpointCandidate extends Omit<Backend, 'port'> {
  port?: number;
  used: boolean;
  /** Why it is not a backend. */
  reason?: string;
}

export interface ServiceBackends {
  service: string;
  port?: ServicePort;
  kind: ServiceHitKind;
  address: string;
  /** Which field decided: internal (ClusterIP) or external (NodePort/LB/externalIP) traffic. */
  trafficPolicy: { field: 'internalTrafficPolicy' | 'externalTrafficPolicy'; value: 'Cluster' | 'Local' };
  /** What kube-proxy load-balances to, sorted by IP then port. */
  backends: Backend[];
  /** Every endpoint considered, with the reason it is not used. */
  endpoints: EndpointCandidate[];
  /** No endpoint was ready, so serving+terminating ones are used (kube-proxy's fallback). */
  terminatingFallback: boolean;
  sessionAffinity?: { type: 'ClientIP'; timeoutSeconds: number };
  notes: string[];
  suspicions: Suspicion[];
}

export interface BackendOptions {
  /** The node whose kube-proxy handles the packet (needed for Local traffic policies). */
  node?: string;
  /** Packet source, for `loadBalancerSourceRanges`. */
  sourceIP?: string;
  /** The source is a pod on `node`, or `node` itself (kube-proxy sends it cluster-wide even for ETP=Local). */
  sourceIsLocalPod?: boolean;
}

export function l4(protocol: Protocol): L4Protocol | undefined {
  const p = protocol.toUpperCase();
  return p === 'TCP' || p === 'UDP' || p === 'SCTP' ? p : undefined;
}

function familyOf(ip: string): Family {
  return ip.includes(':') ? 6 : 4;
}

function svcEvidence(s: ClusterService, text: string): Evidence {
  return { kind: 'object', text, where: `service ${s.key}` };
}

export function formatServicePort(p: ServicePort): string {
  return `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol} -> ${p.targetPort}${p.nodePort ? ` (nodePort ${p.nodePort})` : ''}`;
}

export type HitLookup =
  | { hit: ServiceHit }
  /** The address belongs to a service but no service port serves the port. */
  | { service: ClusterService; suspicion: Suspicion };

/**
 * Which service port a packet to `ip:port` hits: a ClusterIP, externalIP or LB ingress IP with a
 * matching port, or a node address with a matching nodePort. Undefined: not a service address.
 */
export function findServiceHit(cache: ClusterCache, ip: string, port: number, protocol: Protocol): HitLookup | undefined {
  const addr = canonicalIP(ip);
  const proto = l4(protocol);
  if (!addr) return undefined;
  const owners = cache.servicesWithIP(addr);
  for (const o of owners) {
    const sp = proto && o.service.ports.find((p) => p.port === port && p.protocol === proto);
    if (sp) return { hit: { service: o.service, port: sp, kind: o.kind, ip: addr } };
  }
  if (owners.length) return { service: owners[0].service, suspicion: portNotFound(owners[0].service, port, protocol, addr) };
  if (proto && cache.nodeByIP(addr)) {
    const np = cache.servicesWithNodePort(port, proto)[0];
    if (np) return { hit: { service: np.service, port: np.port, kind: 'nodePort', ip: addr } };
  }
  return undefined;
}

function portNotFound(s: ClusterService, port: number, protocol: Protocol, ip: string): Suspicion {
  return {
    level: SuspicionLevel.FATAL,
    check: 'service.port-not-found',
    message: `service ${s.key} (${ip}) has no port ${port}/${protocol.toUpperCase()}; it serves ${s.ports.map((p) => `${p.port}/${p.protocol}`).join(', ') || 'no ports'}`,
    evidence: s.ports.map((p) => svcEvidence(s, `port ${formatServicePort(p)}`)),
  };
}

/** Backends of a service named by the user (`svc/ns/name`): the ClusterIP port serving `port`. */
export function serviceBackendsFor(cache: ClusterCache, service: ClusterService, port: number, protocol: Protocol, opts: BackendOptions = {}): ServiceBackends {
  const proto = l4(protocol);
  const sp = proto && service.ports.find((p) => p.port === port && p.protocol === proto);
  const address = service.clusterIPs[0] ?? '';
  if (!sp) {
    return {
      service: service.key, kind: 'clusterIP', address,
      trafficPolicy: { field: 'internalTrafficPolicy', value: service.internalTrafficPolicy },
      backends: [], endpoints: [], terminatingFallback: false, notes: [],
      suspicions: [portNotFound(service, port, protocol, address || service.key)],
    };
  }
  return serviceBackends(cache, { service, port: sp, kind: 'clusterIP', ip: address }, opts);
}

export function serviceBackends(cache: ClusterCache, hit: ServiceHit, opts: BackendOptions = {}): ServiceBackends {
  const { service: svc, port: sp } = hit;
  const external = hit.kind !== 'clusterIP';
  const field = external ? 'externalTrafficPolicy' : 'internalTrafficPolicy';
  const policy = external ? svc.externalTrafficPolicy : svc.internalTrafficPolicy;
  const out: ServiceBackends = {
    service: svc.key, port: sp, kind: hit.kind, address: hit.ip,
    trafficPolicy: { field, value: policy },
    backends: [], endpoints: [], terminatingFallback: false, notes: [], suspicions: [],
  };
  const suspect = (level: SuspicionLevel, check: string, message: string, evidence: Evidence[], objects: ObjectCause[] = []) =>
    out.suspicions.push({ level, check, message, evidence, ...(objects.length ? { objects } : {}) });

  if (svc.type === 'ExternalName') {
    suspect(SuspicionLevel.WARNING, 'service.external-name', `service ${svc.key} is an ExternalName service (DNS alias for ${svc.externalName ?? '?'}): it has no ClusterIP and kube-proxy does not forward it`, [svcEvidence(svc, `type: ExternalName, externalName: ${svc.externalName ?? ''}`)]);
    return out;
  }
  if (svc.headless) {
    suspect(SuspicionLevel.WARNING, 'service.headless', `service ${svc.key} is headless (clusterIP: None): it has no ClusterIP, kube-proxy programs nothing for it; clients connect to the pod IPs DNS returns`, [svcEvidence(svc, 'clusterIP: None')]);
  }
  if (svc.sessionAffinity === 'ClientIP') {
    out.sessionAffinity = { type: 'ClientIP', timeoutSeconds: svc.affinityTimeoutSeconds ?? 10800 };
    out.notes.push(`session affinity ClientIP (${out.sessionAffinity.timeoutSeconds}s): a client sticks to one backend`);
  }
  if (hit.kind === 'loadBalancer' && opts.sourceIP && svc.loadBalancerSourceRanges.length) {
    const src = parseIP(opts.sourceIP);
    if (src && !svc.loadBalancerSourceRanges.some((r) => { const p = parsePrefix(r); return p ? contains(p, src) : false; })) {
      suspect(SuspicionLevel.CRITICAL, 'service.source-range-deny', `source ${opts.sourceIP} is outside loadBalancerSourceRanges of service ${svc.key}: kube-proxy drops it`, [svcEvidence(svc, `loadBalancerSourceRanges: ${svc.loadBalancerSourceRanges.join(', ')}`)]);
    }
  }

  const family = familyOf(hit.ip || svc.clusterIPs[0] || '0.0.0.0');
  const addressType = family === 4 ? 'IPv4' : 'IPv6';
  const slices = cache.endpointSlicesOf(svc);
  const candidates: EndpointCandidate[] = [];
  const seen = new Map<string, EndpointCandidate>();
  for (const slice of slices) {
    if (slice.addressType !== addressType) {
      if (slice.addressType === 'FQDN') out.notes.push(`EndpointSlice ${slice.key} has FQDN addresses, which kube-proxy does not use`);
      continue;
    }
    const slicePort = slice.ports.find((p) => p.name === sp.name && p.protocol === sp.protocol);
    // (An empty slice has no ports either: the controller writes it that way; nothing to say.)
    if ((!slicePort || slicePort.port === undefined) && slice.endpoints.length) {
      suspect(SuspicionLevel.WARNING, 'service.slice-port-missing',
        `EndpointSlice ${slice.key} has no port named "${sp.name}" (${sp.protocol}) for service port ${sp.port}: kube-proxy programs none of its endpoints for it`,
        [{ kind: 'object', text: `ports: ${slice.ports.map((p) => `${p.name || '""'} ${p.port ?? '*'}/${p.protocol}`).join(', ') || '(none)'}`, where: `endpointslice ${slice.key}` }],
        [targetPortCause(cache, svc, sp)].filter((c) => c !== undefined));
    }
    for (const ep of slice.endpoints) {
      const c = candidate(cache, svc, sp, slice, ep, slicePort?.port);
      if (ep.addresses.length > 1) out.notes.push(`endpoint ${ep.addresses.join(', ')} in ${slice.key} has several addresses; kube-proxy uses only ${ep.addresses[0]}`);
      const key = `${c.ip}/${c.port ?? ''}`;
      const prev = seen.get(key);
      if (prev) {
        // The same endpoint in two slices (e.g. during a slice rewrite): keep the better state.
        out.notes.push(`endpoint ${c.ip} is listed in ${prev.slice} and ${c.slice}`);
        if (rank(c) <= rank(prev)) continue;
        candidates.splice(candidates.indexOf(prev), 1);
      }
      seen.set(key, c);
      candidates.push(c);
    }
  }
  candidates.sort((a, b) => cmpIP(a.ip, b.ip) || (a.port ?? 0) - (b.port ?? 0));
  out.endpoints = candidates;

  const usable = candidates.filter((c) => c.port !== undefined);
  for (const c of candidates) if (c.port === undefined) c.reason = c.reason ?? 'no port';
  if (!candidates.length) {
    suspect(SuspicionLevel.FATAL, 'service.no-endpoints', `service ${svc.key} has no endpoints${whyNoEndpoints(cache, svc, slices.length)}`, [
      svcEvidence(svc, svc.selector ? `selector: ${selectorFromLabels(svc.selector).text}` : 'no selector (endpoints are managed by hand)'),
      ...slices.map((s) => ({ kind: 'object' as const, text: `${s.endpoints.length} endpoints, addressType ${s.addressType}`, where: `endpointslice ${s.key}` })),
    ], selectorCauses(cache, svc));
    return out;
  }

  const pickSet = (pool: EndpointCandidate[]): { set: EndpointCandidate[]; fallback: boolean } => {
    const ready = pool.filter((c) => c.ready);
    if (ready.length) return { set: ready, fallback: false };
    return { set: pool.filter((c) => c.serving && c.terminating), fallback: true };
  };
  let chosen: { set: EndpointCandidate[]; fallback: boolean };
  const local = policy === 'Local' && !(external && opts.sourceIsLocalPod);
  if (policy === 'Local' && external && opts.sourceIsLocalPod) {
    out.notes.push(`externalTrafficPolicy Local does not apply to pods on the node (nor to the node itself): kube-proxy sends their traffic to all endpoints`);
  }
  if (local && opts.node === undefined) {
    out.notes.push(`${field} Local: the backends depend on the node; no node given, so every node's endpoints are listed`);
  }
  if (local && opts.node !== undefined) {
    chosen = pickSet(usable.filter((c) => c.node === opts.node));
    for (const c of usable) if (c.node !== opts.node) c.reason = `on node ${c.node ?? '(unknown)'}, not ${opts.node} (${field}: Local)`;
  } else {
    chosen = pickSet(usable);
  }
  for (const c of usable) {
    if (c.reason) continue;
    if (!chosen.set.includes(c)) c.reason = chosen.fallback ? 'not ready, and not serving while terminating' : 'not ready';
  }
  for (const c of chosen.set) c.used = true;
  out.terminatingFallback = chosen.fallback && chosen.set.length > 0;
  out.backends = chosen.set.map(({ used: _u, reason: _r, port, ...b }) => ({ ...b, port: port! }));

  const endpointLines = () => candidates.map((c): Evidence => ({
    kind: 'object',
    text: `${c.ip}${c.port !== undefined ? `:${c.port}` : ''} ready=${c.ready} serving=${c.serving} terminating=${c.terminating}${c.node ? ` node=${c.node}` : ''}${c.pod ? ` pod=${c.pod}` : ''}`,
    where: `endpointslice ${c.slice}`,
  }));
  if (!out.backends.length) {
    if (local && opts.node !== undefined && usable.some((c) => c.ready || (c.serving && c.terminating))) {
      suspect(SuspicionLevel.FATAL, 'service.no-local-endpoints',
        `service ${svc.key} has ${field} Local and no ready endpoint on node ${opts.node}: kube-proxy drops the traffic there (endpoints are on ${[...new Set(usable.map((c) => c.node ?? '(unknown)'))].join(', ')})`,
        [svcEvidence(svc, `${field}: Local`), ...endpointLines()]);
    } else if (usable.length) {
      suspect(SuspicionLevel.FATAL, 'service.no-ready-endpoints',
        `service ${svc.key} has ${usable.length} endpoint${usable.length > 1 ? 's' : ''} for port ${sp.port}/${sp.protocol} but none is ready (nor serving while terminating)`,
        endpointLines(), notReadyCauses(slices));
    } else {
      suspect(SuspicionLevel.FATAL, 'service.no-endpoints', `service ${svc.key} has no endpoints with a port for ${sp.name ? `"${sp.name}" ` : ''}${sp.port}/${sp.protocol}`, endpointLines(),
        [targetPortCause(cache, svc, sp)].filter((c) => c !== undefined));
    }
  } else if (out.terminatingFallback) {
    suspect(SuspicionLevel.WARNING, 'service.terminating-endpoints-only',
      `service ${svc.key}: no endpoint is ready, traffic goes to terminating endpoints that still serve (${out.backends.map((b) => b.ip).join(', ')})`,
      endpointLines());
  }
  for (const b of out.backends) {
    const pod = b.pod ? cache.pod(b.pod) : undefined;
    if (b.pod && !pod) out.notes.push(`backend ${b.ip} refers to pod ${b.pod}, which is not in the snapshot`);
    else if (pod && !isRunning(pod)) out.notes.push(`backend ${b.ip} is pod ${pod.key}, which is ${pod.phase}`);
  }
  return out;
}

function rank(c: EndpointCandidate): number {
  return c.ready ? 2 : c.serving && c.terminating ? 1 : 0;
}

function cmpIP(a: string, b: string): number {
  const x = parseIP(a);
  const y = parseIP(b);
  if (x && y) return x.family - y.family || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

function candidate(cache: ClusterCache, svc: ClusterService, sp: ServicePort, slice: ClusterEndpointSlice, ep: SliceEndpoint, slicePort: number | undefined): EndpointCandidate {
  const ip = ep.addresses[0];
  let pod: ClusterPod | undefined;
  if (ep.targetRef && ep.targetRef.kind === 'Pod') pod = cache.pod(`${ep.targetRef.namespace}/${ep.targetRef.name}`);
  pod ??= cache.podByIP(ip);
  const podRef = ep.targetRef?.kind === 'Pod' ? `${ep.targetRef.namespace}/${ep.targetRef.name}` : pod?.key;
  const node = ep.nodeName ?? pod?.nodeName;
  const base = {
    ip, protocol: sp.protocol, ...(podRef ? { pod: podRef } : {}), ...(node ? { node } : {}),
    ready: ep.ready, serving: ep.serving, terminating: ep.terminating, slice: slice.key, used: false,
  };
  if (slicePort !== undefined) return { ...base, port: slicePort, portSource: 'slice' };
  // The slice does not say: resolve the target port as the endpoints controller would.
  if (typeof sp.targetPort === 'number') return { ...base, port: sp.targetPort, portSource: 'targetPort' };
  const cp = pod?.containerPorts.find((p) => p.name === sp.targetPort && p.protocol === sp.protocol);
  if (cp) return { ...base, port: cp.port, portSource: 'containerPort' };
  return {
    ...base, portSource: 'containerPort',
    reason: pod ? `pod ${pod.key} has no container port named "${sp.targetPort}"` : `target port "${sp.targetPort}" is named and no pod is known for ${ip}`,
  };
}

function whyNoEndpoints(cache: ClusterCache, svc: ClusterService, sliceCount: number): string {
  if (!svc.selector) return sliceCount ? '' : ': it has no selector and no EndpointSlice was created for it by hand';
  const selected = cache.selectPods(svc.namespace, selectorFromLabels(svc.selector));
  const sel = selectorFromLabels(svc.selector).text;
  if (!selected.length) return `: its selector ${sel} matches no pod in namespace ${svc.namespace}`;
  const running = selected.filter(isRunning);
  if (!running.length) return `: its selector ${sel} matches ${selected.length} pod${selected.length > 1 ? 's' : ''}, none running (${selected.slice(0, 5).map((p) => `${p.key} ${p.phase}`).join(', ')})`;
  return `: its selector ${sel} matches ${running.length} running pod${running.length > 1 ? 's' : ''} (${running.slice(0, 5).map((p) => p.key).join(', ')}) but no EndpointSlice lists them`;
}
