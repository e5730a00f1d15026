// What-if overlays: manifests applied on top of a cluster view's objects (create or replace by
// kind/namespace/name, or remove), as a ClusterPort wrapper — the dumps stay those of the cluster
// as it is, so the same wrapper serves snapshots and live clusters. What the API server and its
// controllers would do at once is done here too: a Service whose selector or ports change, or
// whose pods' labels change, gets its EndpointSlice recomputed as the endpoints controller would.
// What only the nodes' agents could do (kube-proxy programming a Service, the CNI enforcing a
// policy in its datapath) is not pretended: `changes` says which objects the datapath has not seen.
import type { ClusterPort, DumpState } from '../port';
import type { NetNSInfo, NodeNetworkStackDump } from '../../shared/dump';
import type { K8sObject, SnapshotObjects } from '../snapshot/types';
import { collectObjects, endpointSliceV1, type IgnoredObject, type ObjectSource } from '../snapshot/objects';
import { compileSelector, matches, SelectorError } from '../k8s/selector';
import { podIPs } from '../snapshot/pod-netns';

/** Which list of SnapshotObjects holds a kind (the kinds a diagnosis reads). */
const listOf: Record<string, keyof SnapshotObjects> = {
  Node: 'nodes', Pod: 'pods', Service: 'services', EndpointSlice: 'endpointSlices', Endpoints: 'endpoints',
  NetworkPolicy: 'networkPolicies', Namespace: 'namespaces', ConfigMap: 'configMaps', IPPool: 'ipPools', DaemonSet: 'daemonSets',
};
const clusterScoped = new Set(['Node', 'Namespace', 'IPPool']);
const serviceNameLabel = 'kubernetes.io/service-name';

export class OverlayError extends Error {
  override name = 'OverlayError';
}

/** `KIND/NAMESPACE/NAME` (or `KIND/NAME` for cluster-scoped kinds), kind in any case. */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

export interface OverlayChange extends ObjectRef {
  action: 'created' | 'replaced' | 'removed' | 'derived';
  /** The file and document it came from, `--without`, or why netpath derived it. */
  source: string;
}

export interface AppliedOverlay {
  objects: SnapshotObjects;
  /** Sorted by kind, namespace, name. */
  changes: OverlayChange[];
  /** Kinds in the manifests the diagnosis does not read (not applied). */
  ignored: IgnoredObject[];
}

export function refText(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/** Parses `KIND/NS/NAME` or `KIND/NAME`; the kind is matched case-insensitively (plural accepted). */
export function parseObjectRef(text: string): ObjectRef {
  const parts = text.split('/');
  const kindText = parts[0] ?? '';
  const kind = Object.keys(listOf).find((k) => [k.toLowerCase(), `${k.toLowerCase()}s`, k.toLowerCase() === 'networkpolicy' ? 'networkpolicies' : ''].includes(kindText.toLowerCase()));
  if (!kind) throw new OverlayError(`"${text}": unknown kind "${kindText}" (one of ${Object.keys(listOf).join(', ')})`);
  if (clusterScoped.has(kind)) {
    if (parts.length !== 2 || !parts[1]) throw new OverlayError(`"${text}": a ${kind} is cluster-scoped: give ${kind}/NAME`);
    return { kind, name: parts[1] };
  }
  if (parts.length !== 3 || !parts[1] || !parts[2]) throw new OverlayError(`"${text}": give ${kind}/NAMESPACE/NAME`);
  return { kind, namespace: parts[1], name: parts[2] };
}

const keyOf = (kind: string, o: K8sObject) => `${kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * The objects with the manifests applied (each replaces the object of its kind/namespace/name, or
 * is created) and `without` removed. Throws OverlayError for bad manifests and for a `without`
 * that names no object.
 */
export function applyOverlay(base: SnapshotObjects, manifests: ObjectSource[], without: ObjectRef[] = [], limits: { maxJsonDepth?: number } = {}): AppliedOverlay {
  let collected;
  try {
    collected = collectObjects(manifests, limits);
  } catch (e) {
    throw new OverlayError((e as Error).message);
  }
  const objects: SnapshotObjects = { ...base };
  const changes: OverlayChange[] = [];
  const touchedServices = new Set<string>();
  const touchedPods: K8sObject[] = [];
  const removedSlicesOf = new Set<string>();
  const providedSlicesOf = new Set<string>();

  for (const [kind, list] of Object.entries(listOf)) {
    const add = (collected.objects[list] as K8sObject[] | undefined) ?? [];
    if (!add.length) continue;
    const cur = [...((objects[list] as K8sObject[] | undefined) ?? [])];
    const index = new Map(cur.map((o, i) => [keyOf(kind, o), i]));
    for (const o of add) {
      if (o.kind !== kind) continue; // Endpoints-derived slices are recomputed below, not taken as given
      const i = index.get(keyOf(kind, o));
      const ref = { kind, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name };
      if (i === undefined) {
        index.set(keyOf(kind, o), cur.length);
        cur.push(o);
        changes.push({ ...ref, action: 'created', source: 'overlay' });
      } else {
        if (kind === 'Pod') touchedPods.push(cur[i]);
        cur[i] = o;
        changes.push({ ...ref, action: 'replaced', source: 'overlay' });
      }
      if (kind === 'Service') touchedServices.add(`${o.metadata.namespace}/${o.metadata.name}`);
      if (kind === 'Pod') touchedPods.push(o);
      if (kind === 'EndpointSlice') providedSlicesOf.add(`${o.metadata.namespace}/${o.metadata.labels?.[serviceNameLabel] ?? ''}`);
    }
    (objects as unknown as Record<string, K8sObject[]>)[list] = cur;
  }

  for (const r of without) {
    const list = listOf[r.kind];
    const cur = (objects[list] as K8sObject[] | undefined) ?? [];
    const i = cur.findIndex((o) => o.metadata.name === r.name && (clusterScoped.has(r.kind) || (o.metadata.namespace ?? 'default') === r.namespace));
    if (i < 0) throw new OverlayError(`--without ${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}: no such object in the cluster view`);
    const [gone] = [cur[i]];
    (objects as unknown as Record<string, K8sObject[]>)[list] = cur.filter((_, k) => k !== i);
    changes.push({ ...r, action: 'removed', source: '--without' });
    if (r.kind === 'Service') removedSlicesOf.add(`${r.namespace}/${r.name}`);
    if (r.kind === 'Pod') touchedPods.push(gone);
  }

  // The endpoints controller: services whose selector, ports or pods changed get fresh slices.
  for (const s of objects.services) {
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    if (providedSlicesOf.has(key) || touchedServices.has(key)) continue;
    const sel = selectorOf(s);
    if (sel && touchedPods.some((p) => p.metadata.namespace === s.metadata.namespace && matches(sel, p.metadata.labels ?? {}))) touchedServices.add(key);
  }
  if (touchedServices.size || removedSlicesOf.size) {
    const drop = new Set([...touchedServices, ...removedSlicesOf].filter((k) => !providedSlicesOf.has(k)));
    const slices = objects.endpointSlices.filter((sl) => !drop.has(`${sl.metadata.namespace}/${sl.metadata.labels?.[serviceNameLabel] ?? ''}`));
    for (const s of objects.services) {
      const key = `${s.metadata.namespace}/${s.metadata.name}`;
      if (!drop.has(key)) continue;
      const slice = deriveSlice(s, objects.pods);
      if (!slice) continue;
      slices.push(slice);
      changes.push({ kind: 'EndpointSlice', namespace: slice.metadata.namespace, name: slice.metadata.name, action: 'derived', source: `recomputed for Service ${key}, as the endpoints controller would` });
    }
    objects.endpointSlices = slices;
  }

  changes.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.namespace ?? '', b.namespace ?? '') || cmp(a.name, b.name) || cmp(a.action, b.action));
  // A Pod replaced is recorded once (the touchedPods bookkeeping needs both versions, the report one line).
  const seen = new Set<string>();
  const unique = changes.filter((c) => {
    const k = `${c.kind}/${c.namespace ?? ''}/${c.name}/${c.action}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { objects, changes: unique, ignored: collected.ignored };
}

/**
 * A ClusterPort that answers the overlay's objects and the underlying port's dumps — less the
 * iptables rules by which the CNI enforces a NetworkPolicy the overlay replaces or removes (found
 * by the policy's `namespace/name` in the rule's comment, as Calico and the lab's enforcer write
 * it): the CNI would reprogram them, and their new effect is what the API-level evaluation says.
 */
export function overlayPort(base: ClusterPort, applied: AppliedOverlay): ClusterPort {
  const policies = applied.changes.filter((c) => c.kind === 'NetworkPolicy' && (c.action === 'replaced' || c.action === 'removed'));
  const settings = base.settings ? { settings: base.settings } : {};
  if (!policies.length) return { objects: applied.objects, dumps: base.dumps, ...settings };
  const names = policies.map((c) => [`${c.namespace}/${c.name}`, `${c.namespace}/knp.default.${c.name}`]).flat();
  const cache = new Map<string, DumpState>();
  const state = (node: string): DumpState => {
    const cached = cache.get(node);
    if (cached) return cached;
    const s = base.dumps.state(node);
    if (!('dump' in s)) return s; // not cached: a live port may collect it later
    const out: DumpState = { dump: withoutPolicyRules(s.dump, names) };
    cache.set(node, out);
    return out;
  };
  return {
    ...settings,
    objects: applied.objects,
    dumps: { state, available: () => base.dumps.available(), ...(base.dumps.collect ? { collect: (n: readonly string[]) => base.dumps.collect!(n) } : {}) },
  };
}

function withoutPolicyRules(dump: NodeNetworkStackDump, names: string[]): NodeNetworkStackDump {
  const names_ = names.map((n) => new RegExp(`(^|[^A-Za-z0-9._/-])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9._/-])`));
  const strip = (text: string | undefined) => text?.split('\n').filter((line) => {
    if (!line.startsWith('-A ')) return true;
    const m = /--comment\s+("(?:[^"\\]|\\.)*"|\S+)/.exec(line);
    return !(m && names_.some((re) => re.test(m[1].replace(/^"|"$/g, ''))));
  }).join('\n');
  const save = (x: NetNSInfo['iptables']) => x && Object.fromEntries(Object.entries(x).map(([k, v]) => [k, strip(v)]));
  const ns = (info: NetNSInfo): NetNSInfo => ({ ...info, ...(info.iptables ? { iptables: save(info.iptables) } : {}), ...(info.ip6tables ? { ip6tables: save(info.ip6tables) } : {}) });
  return { ...dump, node: ns(dump.node), netns: dump.netns.map(ns) };
}

function selectorOf(s: K8sObject): ReturnType<typeof compileSelector> | undefined {
  const raw = (s.spec as { selector?: unknown } | undefined)?.selector;
  if (!raw || typeof raw !== 'object' || !Object.keys(raw).length) return undefined;
  try {
    return compileSelector({ matchLabels: raw });
  } catch (e) {
    if (e instanceof SelectorError) return undefined;
    throw e;
  }
}

/** The EndpointSlice the endpoints controller would write for a selector Service (IPv4 and IPv6 pods in one, by the first IP). */
function deriveSlice(s: K8sObject, pods: readonly K8sObject[]): K8sObject | undefined {
  const sel = selectorOf(s);
  if (!sel) return undefined;
  const ns = s.metadata.namespace ?? 'default';
  const members = pods.filter((p) => (p.metadata.namespace ?? 'default') === ns && matches(sel, p.metadata.labels ?? {}) && podIPs(p).length);
  const specPorts = Array.isArray((s.spec as { ports?: unknown }).ports) ? ((s.spec as { ports: Record<string, unknown>[] }).ports) : [];
  const containerPort = (p: K8sObject, name: string, protocol: string): number | undefined => {
    for (const c of ((p.spec as { containers?: { ports?: { name?: string; containerPort?: number; protocol?: string }[] }[] } | undefined)?.containers ?? [])) {
      for (const cp of c.ports ?? []) if (cp.name === name && (cp.protocol ?? 'TCP') === protocol) return cp.containerPort;
    }
    return undefined;
  };
  const ports = specPorts.map((sp) => {
    const protocol = typeof sp.protocol === 'string' ? sp.protocol : 'TCP';
    const tp = sp.targetPort ?? sp.port;
    const port = typeof tp === 'number' ? tp : typeof tp === 'string' && /^\d+$/.test(tp) ? Number(tp) : members.map((p) => containerPort(p, String(tp), protocol)).find((x) => x !== undefined);
    return { ...(typeof sp.name === 'string' ? { name: sp.name } : {}), protocol, ...(port !== undefined ? { port } : {}) };
  });
  const ready = (p: K8sObject) => {
    const conds = (p.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
    return conds.some((c) => c.type === 'Ready' && c.status === 'True') && !p.metadata.deletionTimestamp;
  };
  const family = members.length && podIPs(members[0])[0]?.includes(':') ? 'IPv6' : 'IPv4';
  return {
    apiVersion: endpointSliceV1,
    kind: 'EndpointSlice',
    metadata: { name: `${s.metadata.name}-netpath-overlay`, namespace: ns, labels: { [serviceNameLabel]: s.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'netpath-overlay' } },
    addressType: family,
    endpoints: members
      .filter((p) => podIPs(p).some((ip) => ip.includes(':') === (family === 'IPv6')))
      .map((p) => ({
        addresses: [podIPs(p).find((ip) => ip.includes(':') === (family === 'IPv6'))!],
        conditions: { ready: ready(p) },
        ...(typeof (p.spec as { nodeName?: unknown })?.nodeName === 'string' ? { nodeName: (p.spec as { nodeName: string }).nodeName } : {}),
        targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name },
      })),
    ports,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
