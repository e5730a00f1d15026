// Kubernetes objects of two snapshots compared by kind/namespace/name, with the field paths that
// changed. What the API server or kubelet rewrite on their own — resource versions, uids,
// generations, timestamps, heartbeats, container ids, restart counts — is not a change.
import type { K8sObject, SnapshotObjects } from '../snapshot/types';

export interface ObjectDifference {
  kind: string;
  namespace?: string;
  name: string;
  change: 'added' | 'removed' | 'changed';
  /** Changed field paths, e.g. `spec.ingress[0].from[0].podSelector.matchLabels.app` (at most 50). */
  fields: string[];
}

/** The lists compared and the kind each holds (`originalEndpointSlices` repeats `endpointSlices`). */
const lists: [keyof SnapshotObjects, string][] = [
  ['namespaces', 'Namespace'], ['nodes', 'Node'], ['pods', 'Pod'], ['services', 'Service'], ['endpointSlices', 'EndpointSlice'],
  ['endpoints', 'Endpoints'], ['networkPolicies', 'NetworkPolicy'], ['configMaps', 'ConfigMap'], ['ipPools', 'IPPool'], ['daemonSets', 'DaemonSet'],
];

const noiseKeys = new Set([
  'resourceVersion', 'uid', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'observedGeneration',
  'lastHeartbeatTime', 'lastTransitionTime', 'lastProbeTime', 'lastUpdateTime', 'startTime', 'startedAt', 'finishedAt',
  'containerID', 'imageID', 'restartCount', 'images', 'endpoints.kubernetes.io/last-change-trigger-time',
  'kubectl.kubernetes.io/last-applied-configuration', 'deprecated.daemonset.template.generation',
]);

const MAX_FIELDS = 50;

export function objectKey(kind: string, o: K8sObject): string {
  return `${kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** Index of every compared object by `Kind/namespace/name`. */
export function indexObjects(objects: SnapshotObjects): Map<string, { kind: string; o: K8sObject }> {
  const out = new Map<string, { kind: string; o: K8sObject }>();
  for (const [list, kind] of lists) for (const o of (objects[list] as K8sObject[] | undefined) ?? []) out.set(objectKey(kind, o), { kind, o });
  return out;
}

/** Differences of the objects (all of them, or only the keys given), sorted by kind, namespace, name. */
export function diffObjects(a: Map<string, { kind: string; o: K8sObject }>, b: Map<string, { kind: string; o: K8sObject }>, only?: Iterable<string>): ObjectDifference[] {
  const keys = only ? [...new Set(only)] : [...new Set([...a.keys(), ...b.keys()])];
  const out: ObjectDifference[] = [];
  for (const key of keys) {
    const x = a.get(key);
    const y = b.get(key);
    const ref = (x ?? y)!;
    if (!ref) continue;
    const base = { kind: ref.kind, ...(ref.o.metadata.namespace ? { namespace: ref.o.metadata.namespace } : {}), name: ref.o.metadata.name };
    if (!x) out.push({ ...base, change: 'added', fields: [] });
    else if (!y) out.push({ ...base, change: 'removed', fields: [] });
    else {
      const fields: string[] = [];
      compare(x.o, y.o, '', fields);
      if (fields.length) out.push({ ...base, change: 'changed', fields });
    }
  }
  return out.sort((p, q) => cmp(p.kind, q.kind) || cmp(p.namespace ?? '', q.namespace ?? '') || cmp(p.name, q.name));
}

function compare(x: unknown, y: unknown, path: string, out: string[]): void {
  if (out.length >= MAX_FIELDS) return;
  if (x === y) return;
  const isObj = (v: unknown) => v !== null && typeof v === 'object';
  if (Array.isArray(x) && Array.isArray(y)) {
    for (let i = 0; i < Math.max(x.length, y.length); i++) compare(x[i], y[i], `${path}[${i}]`, out);
    return;
  }
  if (isObj(x) && isObj(y) && !Array.isArray(x) && !Array.isArray(y)) {
    const xo = x as Record<string, unknown>;
    const yo = y as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(xo), ...Object.keys(yo)])].sort()) {
      if (noiseKeys.has(k)) continue;
      compare(xo[k], yo[k], fieldPath(path, k), out);
    }
    return;
  }
  if (isObj(x) || isObj(y) || x !== y) {
    // An object that appears or goes as a whole counts once, unless all it held was noise.
    if (x === undefined && isObj(y) && empty(y)) return;
    if (y === undefined && isObj(x) && empty(x)) return;
    out.push(path || '(whole object)');
  }
}

function empty(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (v && typeof v === 'object') return Object.entries(v).every(([k, x]) => noiseKeys.has(k) || empty(x));
  return false;
}

/** `metadata.labels["app.kubernetes.io/name"]` for keys that are not identifiers (JSON-quoted: hostile keys stay printable). */
function fieldPath(path: string, k: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(k)) return path ? `${path}.${k}` : k;
  return `${path}[${JSON.stringify(k)}]`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
