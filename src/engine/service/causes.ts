// The objects behind a Service's findings, for an editor to show them on the manifests: the
// Service's selector when it selects nothing (and the pods that lack exactly one of its labels),
// the port whose targetPort names no container port of its pods, the EndpointSlice entries that
// are not ready. A fix is attached only where it is certain.
import type { ClusterCache } from '../k8s/cache';
import type { ClusterEndpointSlice, ClusterPod, ClusterService, ServicePort } from '../k8s/objects';
import { selectorFromLabels } from '../k8s/selector';
import type { ObjectCause } from '../model/suspicion';

/** The pod's controlling owner, so a workload's pod template can stand for the pod. */
export function ownerOf(pod: ClusterPod): { kind: string; name: string } | undefined {
  const refs = (pod.object.metadata as { ownerReferences?: unknown }).ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  const c = refs.find((r): r is { kind: string; name: string } => !!r && typeof r === 'object' && (r as { controller?: unknown }).controller === true
    && typeof (r as { kind?: unknown }).kind === 'string' && typeof (r as { name?: unknown }).name === 'string');
  return c ? { kind: c.kind, name: c.name } : undefined;
}

export function podCause(pod: ClusterPod, field: (string | number)[], remedy?: ObjectCause['remedy']): ObjectCause {
  const owner = ownerOf(pod);
  return { kind: 'Pod', namespace: pod.namespace, name: pod.name, field, ...(owner ? { owner } : {}), ...(remedy ? { remedy } : {}) };
}

/**
 * A selector that matches no pod: the Service's selector, and each pod of its namespace that has
 * every label of it but one, which it lacks (a different value is not certain to be wrong: that
 * pod may belong to another workload on purpose).
 */
export function selectorCauses(cache: ClusterCache, svc: ClusterService): ObjectCause[] {
  if (!svc.selector || cache.selectPods(svc.namespace, selectorFromLabels(svc.selector)).length) return [];
  const out: ObjectCause[] = [{ kind: 'Service', namespace: svc.namespace, name: svc.name, field: ['spec', 'selector'] }];
  const wanted = Object.entries(svc.selector);
  if (wanted.length < 2) return out; // one label: every pod lacks it, none is the one
  for (const pod of cache.pods) {
    if (pod.namespace !== svc.namespace) continue;
    const missing = wanted.filter(([k]) => !(k in pod.labels));
    const differ = wanted.filter(([k, v]) => k in pod.labels && pod.labels[k] !== v);
    if (missing.length !== 1 || differ.length) continue;
    const [key, value] = missing[0];
    out.push(podCause(pod, ['metadata', 'labels'], { kind: 'add-label', key, value }));
  }
  return out;
}

/**
 * A named targetPort that no selected pod declares for the port's protocol: the Service's port,
 * with the fix when the selected pods declare exactly one port of that protocol between them.
 */
export function targetPortCause(cache: ClusterCache, svc: ClusterService, sp: ServicePort): ObjectCause | undefined {
  if (typeof sp.targetPort !== 'string' || /^\d+$/.test(sp.targetPort) || !svc.selector) return undefined;
  const pods = cache.selectPods(svc.namespace, selectorFromLabels(svc.selector));
  if (!pods.length) return undefined;
  const ports = pods.flatMap((p) => p.containerPorts.filter((cp) => cp.protocol === sp.protocol));
  if (ports.some((cp) => cp.name === sp.targetPort)) return undefined;
  const raw = (svc.object.spec as { ports?: unknown } | undefined)?.ports;
  const index = Array.isArray(raw) ? raw.findIndex((r) => !!r && typeof r === 'object' && (r as { port?: unknown }).port === sp.port && ((r as { protocol?: unknown }).protocol ?? 'TCP') === sp.protocol) : -1;
  if (index < 0) return undefined;
  const distinct = new Set(ports.map((cp) => `${cp.name ?? ''}/${cp.port}`));
  const only = distinct.size === 1 ? ports[0] : undefined;
  return {
    kind: 'Service', namespace: svc.namespace, name: svc.name, field: ['spec', 'ports', index, 'targetPort'],
    ...(only ? { remedy: { kind: 'set-target-port' as const, portIndex: index, value: only.name ?? only.port } } : {}),
  };
}

/** The slice entries that are not ready (the pod's readiness, as the endpoints controller wrote it). */
export function notReadyCauses(slices: readonly ClusterEndpointSlice[]): ObjectCause[] {
  return slices.flatMap((s) => s.endpoints.flatMap((ep, i): ObjectCause[] => ep.ready ? [] : [{ kind: 'EndpointSlice', namespace: s.namespace, name: s.name, field: ['endpoints', i, 'conditions', 'ready'] }]));
}
