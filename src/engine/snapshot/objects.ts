// Kubernetes objects for a snapshot, from what `kubectl get -o yaml` (a `kind: List`), the API
// (`PodList` …) or hand-written fixtures (multi-document YAML) give: sorted into the snapshot's
// lists, EndpointSlices normalized to `discovery.k8s.io/v1` (v1beta1 originals kept), and
// EndpointSlices derived from core Endpoints for services that have no slice (older clusters).
// Kinds the diagnosis does not read are reported back, never silently dropped — nor stored
// (a cluster-wide dump may hold Secrets).
import { Composer, LineCounter, Parser, type CST } from 'yaml';
import { engineLimits, limitNamed } from '../../shared/limits';
import { jsonDepthOver } from './depth';
import { parseIP } from '../netstack/ip';
import type { K8sObject, SnapshotObjects } from './types';

export interface ObjectSource {
  /** Shown in errors, e.g. the file name. */
  name: string;
  text: string;
}

/** Bad Kubernetes object input; the message names the source, document and item. */
export class ObjectsError extends Error {
  override name = 'ObjectsError';
}

export interface IgnoredObject {
  kind: string;
  name: string;
  source: string;
  reason: string;
}

export interface CollectedObjects {
  objects: SnapshotObjects;
  ignored: IgnoredObject[];
}

const listOf: Record<string, keyof SnapshotObjects> = {
  Node: 'nodes',
  Pod: 'pods',
  Service: 'services',
  EndpointSlice: 'endpointSlices',
  Endpoints: 'endpoints',
  NetworkPolicy: 'networkPolicies',
  Namespace: 'namespaces',
  ConfigMap: 'configMaps',
  IPPool: 'ipPools',
  DaemonSet: 'daemonSets',
};
const clusterScoped = new Set(['Node', 'Namespace', 'IPPool']);
/** ConfigMaps detection reads live in these namespaces (kube-proxy, flannel, calico config). */
const configMapNamespaces = new Set(['kube-system', 'kube-flannel', 'calico-system', 'tigera-operator']);

export const endpointSliceV1 = 'discovery.k8s.io/v1';
const endpointSliceV1beta1 = 'discovery.k8s.io/v1beta1';
const serviceNameLabel = 'kubernetes.io/service-name';

/**
 * The objects of `sources`. `maxJsonDepth` bounds how deeply a document may nest (the caller's
 * limit, src/shared/limits.ts): checked on the parser's tokens, before the YAML library builds the
 * document by recursion (a few thousand levels overflow the stack), and on the value (aliases).
 */
export function collectObjects(sources: ObjectSource[], limits: { maxJsonDepth?: number } = {}): CollectedObjects {
  const maxDepth = limits.maxJsonDepth ?? engineLimits.maxJsonDepth.default;
  const objects: SnapshotObjects = {
    nodes: [], pods: [], services: [], endpointSlices: [], endpoints: [], networkPolicies: [], namespaces: [], configMaps: [],
  };
  const ignored: IgnoredObject[] = [];
  const originals: K8sObject[] = [];
  const byKey = new Map<string, { obj: K8sObject; where: string }>();

  for (const src of sources) {
    const lines = new LineCounter();
    const tokens = Array.from(new Parser(lines.addNewLine).parse(src.text));
    const at = (offset: number) => {
      const pos = lines.linePos(offset);
      return `line ${pos.line}, column ${pos.col}`;
    };
    let di = 0;
    for (const t of tokens) {
      if (t.type !== 'document') continue;
      di++;
      const deep = yamlDeeperThan(t, maxDepth);
      if (deep !== undefined) throw new ObjectsError(`${src.name}: document ${di}: at ${at(deep)}: nested deeper than ${limitNamed('maxJsonDepth', maxDepth)}`);
    }
    const list = Array.from(new Composer().compose(tokens));
    // Syntax first: a broken file is reported as such, not by what its first document lacks.
    list.forEach((doc, di) => {
      if (!doc.errors.length) return;
      const e = doc.errors[0];
      // The library turns its own stack overflow into this code: only a raised maxJsonDepth gets here.
      if (e.code === 'RESOURCE_EXHAUSTION') throw new ObjectsError(`${src.name}: document ${di + 1}: at ${at(e.pos[0])}: ${tooDeepToRead(maxDepth)}`);
      throw new ObjectsError(`${src.name}: document ${di + 1}: YAML error at ${at(e.pos[0])}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
    });
    list.forEach((doc, di) => {
      const where = `${src.name}: document ${di + 1}`;
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 });
      } catch (e) {
        if (e instanceof RangeError) throw new ObjectsError(`${where}: ${tooDeepToRead(maxDepth)}`);
        throw e;
      }
      if (value === null || value === undefined) return; // empty document (e.g. after a trailing ---)
      // Aliases can nest a deep anchor inside another: the value itself is checked too.
      const path = jsonDepthOver(value, maxDepth);
      if (path !== undefined) throw new ObjectsError(`${where}: ${path} is nested deeper than ${limitNamed('maxJsonDepth', maxDepth)}`);
      for (const { item, at, defaults } of expand(value, where)) {
        const obj = checkObject(item, at, defaults);
        const kind = obj.kind;
        const target = listOf[kind];
        const name = obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
        if (!target) {
          ignored.push({ kind, name, source: at, reason: 'kind not read by the diagnosis' });
          continue;
        }
        if ((kind === 'ConfigMap' || kind === 'DaemonSet') && !configMapNamespaces.has(obj.metadata.namespace ?? '')) {
          ignored.push({ kind, name, source: at, reason: `${kind}s are kept only from ${[...configMapNamespaces].join(', ')}` });
          continue;
        }
        let stored = clean(obj);
        let original: K8sObject | undefined;
        if (kind === 'EndpointSlice') {
          if (stored.apiVersion === endpointSliceV1beta1) {
            original = stored;
            stored = sliceFromV1beta1(stored);
          } else if (stored.apiVersion !== endpointSliceV1) {
            throw new ObjectsError(`${at}: EndpointSlice ${name} has apiVersion ${stored.apiVersion}; expected ${endpointSliceV1} or ${endpointSliceV1beta1}`);
          }
          // The API serves `ports: null` (and `endpoints: null`) on a slice of a service whose
          // selector matches no pod: the same as empty lists.
          if (stored.ports === null) stored = { ...stored, ports: [] };
          if (stored.endpoints === null) stored = { ...stored, endpoints: [] };
        }
        const key = `${kind}/${name}`;
        const prev = byKey.get(key);
        if (prev) {
          if (JSON.stringify(sortKeys(prev.obj)) === JSON.stringify(sortKeys(stored))) continue; // same object given twice
          throw new ObjectsError(`${at}: ${kind} ${name} differs from the one in ${prev.where}; give each object once`);
        }
        byKey.set(key, { obj: stored, where: at });
        (objects[target] ??= []).push(stored);
        if (original) originals.push(original);
      }
    });
  }

  // Older clusters: services with Endpoints but no EndpointSlice get slices derived from them.
  const sliced = new Set(objects.endpointSlices.map((s) => `${s.metadata.namespace}/${s.metadata.labels?.[serviceNameLabel] ?? ''}`));
  for (const ep of objects.endpoints) {
    if (!sliced.has(`${ep.metadata.namespace}/${ep.metadata.name}`)) objects.endpointSlices.push(...slicesFromEndpoints(ep));
  }

  for (const key of Object.keys(objects) as (keyof SnapshotObjects)[]) objects[key]?.sort(byNamespaceName);
  if (originals.length) objects.originalEndpointSlices = originals.sort(byNamespaceName);
  ignored.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.name, b.name));
  return { objects, ignored };
}

function tooDeepToRead(maxDepth: number): string {
  const { flag, setting } = engineLimits.maxJsonDepth;
  return `nested too deeply for the YAML reader: it ran out of stack (the limit maxJsonDepth = ${maxDepth} allows more than it can read; keep ${flag} or ${setting} lower)`;
}

/**
 * The offset of the first collection of a parsed (not yet composed) YAML document that lies more
 * than `limit` collections deep, or undefined. Iterative over the parser's tokens.
 */
function yamlDeeperThan(doc: CST.Document, limit: number): number | undefined {
  const stack: [CST.Token | null | undefined, number][] = [[doc.value, 0]];
  while (stack.length) {
    const [t, depth] = stack.pop()!;
    if (!t || (t.type !== 'block-map' && t.type !== 'block-seq' && t.type !== 'flow-collection')) continue;
    if (depth >= limit) return t.offset;
    for (const item of t.items) {
      stack.push([item.value, depth + 1]);
      if (item.key) stack.push([item.key, depth + 1]);
    }
  }
  return undefined;
}

/** A document is one object or a list (`kind: List`, `PodList`, …); items of typed lists from the
 * API carry no kind/apiVersion and inherit them from the list. */
type Defaults = { kind?: string; apiVersion?: string };
function* expand(value: unknown, where: string, defaults: Defaults = {}): Generator<{ item: unknown; at: string; defaults: Defaults }> {
  const v = value as Record<string, unknown>;
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.kind === 'string' && v.kind.endsWith('List') && 'items' in v) {
    if (!Array.isArray(v.items)) throw new ObjectsError(`${where}: ${v.kind}.items is not a list`);
    const d: Defaults = v.kind === 'List' ? {} : { kind: v.kind.slice(0, -'List'.length), apiVersion: v.apiVersion as string | undefined };
    for (let i = 0; i < v.items.length; i++) yield* expand(v.items[i], `${where}, items[${i}]`, d);
    return;
  }
  yield { item: value, at: where, defaults };
}

function checkObject(item: unknown, at: string, defaults: Defaults): K8sObject {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new ObjectsError(`${at}: expected a Kubernetes object (a mapping), got ${Array.isArray(item) ? 'a list' : JSON.stringify(item)}`);
  let o = item as Record<string, unknown>;
  if (o.kind === undefined && defaults.kind) o = { ...o, kind: defaults.kind };
  if (o.apiVersion === undefined && defaults.apiVersion) o = { ...o, apiVersion: defaults.apiVersion };
  if (typeof o.kind !== 'string' || o.kind === '') throw new ObjectsError(`${at}: object has no kind`);
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') throw new ObjectsError(`${at}: ${o.kind} has no apiVersion`);
  const md = o.metadata as Record<string, unknown> | undefined;
  if (!md || typeof md !== 'object' || typeof md.name !== 'string' || md.name === '') throw new ObjectsError(`${at}: ${o.kind} has no metadata.name`);
  if (md.namespace !== undefined && typeof md.namespace !== 'string') throw new ObjectsError(`${at}: ${o.kind} ${md.name}: metadata.namespace is not a string`);
  const obj = o as unknown as K8sObject;
  if (listOf[o.kind] && !clusterScoped.has(o.kind) && !md.namespace) {
    // As `kubectl apply` would: a namespaced object without a namespace goes to "default".
    return { ...obj, metadata: { ...obj.metadata, namespace: 'default' } };
  }
  return obj;
}

/** Drops what only bloats a snapshot: server-side-apply bookkeeping, last-applied copies, image lists. */
function clean(o: K8sObject): K8sObject {
  const md = { ...o.metadata };
  delete md.managedFields;
  if (md.annotations && 'kubectl.kubernetes.io/last-applied-configuration' in md.annotations) {
    const { ['kubectl.kubernetes.io/last-applied-configuration']: _drop, ...rest } = md.annotations;
    md.annotations = rest;
  }
  const out: K8sObject = { ...o, metadata: md };
  if (o.kind === 'Node' && out.status && typeof out.status === 'object') {
    const { images: _images, ...status } = out.status as Record<string, unknown>;
    out.status = status;
  }
  return out;
}

/** v1beta1 → v1: `topology` becomes `nodeName` / `zone`, the other keys `deprecatedTopology`. */
export function sliceFromV1beta1(s: K8sObject): K8sObject {
  const endpoints = Array.isArray(s.endpoints) ? s.endpoints : [];
  return {
    ...s,
    apiVersion: endpointSliceV1,
    endpoints: endpoints.map((e: Record<string, unknown>) => {
      const { topology, ...rest } = e;
      if (!topology || typeof topology !== 'object') return rest;
      const t = { ...(topology as Record<string, string>) };
      const out: Record<string, unknown> = { ...rest };
      if (t['kubernetes.io/hostname'] !== undefined && out.nodeName === undefined) {
        out.nodeName = t['kubernetes.io/hostname'];
        delete t['kubernetes.io/hostname'];
      }
      const zone = t['topology.kubernetes.io/zone'] ?? t['failure-domain.beta.kubernetes.io/zone'];
      if (zone !== undefined) {
        out.zone = zone;
        delete t['topology.kubernetes.io/zone'];
        delete t['failure-domain.beta.kubernetes.io/zone'];
      }
      if (Object.keys(t).length) out.deprecatedTopology = t;
      return out;
    }),
  };
}

/** Core Endpoints → v1 EndpointSlices, one per subset and address family. */
export function slicesFromEndpoints(ep: K8sObject): K8sObject[] {
  const subsets = Array.isArray(ep.subsets) ? (ep.subsets as Record<string, unknown>[]) : [];
  const out: K8sObject[] = [];
  subsets.forEach((sub, si) => {
    const entries: { a: Record<string, unknown>; ready: boolean }[] = [
      ...((sub.addresses as Record<string, unknown>[] | undefined) ?? []).map((a) => ({ a, ready: true })),
      ...((sub.notReadyAddresses as Record<string, unknown>[] | undefined) ?? []).map((a) => ({ a, ready: false })),
    ];
    for (const family of [4, 6] as const) {
      const mine = entries.filter(({ a }) => parseIP(String(a.ip))?.family === family);
      if (!mine.length) continue;
      out.push({
        apiVersion: endpointSliceV1,
        kind: 'EndpointSlice',
        metadata: {
          name: `${ep.metadata.name}-from-endpoints-${si}-ipv${family}`,
          namespace: ep.metadata.namespace,
          labels: { [serviceNameLabel]: ep.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'netpath-from-endpoints' },
        },
        addressType: family === 4 ? 'IPv4' : 'IPv6',
        endpoints: mine.map(({ a, ready }) => {
          const e: Record<string, unknown> = { addresses: [a.ip], conditions: { ready } };
          if (a.nodeName !== undefined) e.nodeName = a.nodeName;
          if (a.hostname !== undefined) e.hostname = a.hostname;
          if (a.targetRef !== undefined) e.targetRef = a.targetRef;
          return e;
        }),
        ports: (sub.ports as unknown[] | undefined) ?? [],
      });
    }
  });
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byNamespaceName(a: K8sObject, b: K8sObject): number {
  return cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') || cmp(a.metadata.name, b.metadata.name);
}

/** A copy with object keys sorted at every level (arrays keep their order): deterministic JSON. */
export function sortKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(sortKeys) as T;
  if (v !== null && typeof v === 'object') {
    // fromEntries defines own properties: a key named `__proto__` stays a key, not a prototype.
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) as T;
  }
  return v;
}
