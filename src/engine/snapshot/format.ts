// Snapshot format version 2: the same snapshot, laid out so that a reader can take one object list,
// one pod, one EndpointSlice or one node's dump out of the file without parsing the rest (a 139 MB
// snapshot of 5,000 nodes is answered from a few MB). Version 1 (one JSON document) stays readable
// everywhere; writers write version 2.
//
// The file is still one JSON document (so editors and `jq` read it), written as lines:
//
//   {"kind":"NetpathSnapshot","version":2,"headerBytes":"0000004711","capturedAt":…,"settings":{…},"index":{…},
//   "parts":[
//   <part 0>,
//   <part 1>,
//   …
//   <part n-1>
//   ]}
//
// * Line 1 is the header: `headerBytes` (10 decimal digits, a string so that its width is fixed) is
//   the byte length of line 1 with its newline, so a reader finds the header without scanning.
// * Every part is one line of compact JSON (JSON text has no raw newline). `index.parts[i]` is the
//   UTF-8 byte length of part i; part 0 starts right after `"parts":[\n`, and each part is followed by
//   `,\n` (the last by `\n]}\n`), so offsets follow from the lengths.
// * `index.lists`: part number of each object list that is read whole (nodes, services,
//   networkPolicies, namespaces, configMaps, endpoints and, when present, ipPools, daemonSets,
//   originalEndpointSlices): a JSON array.
// * `index.pods`: pod j is part `first + j` (one Pod object); the columns `name`, `namespace` and
//   `node` (numbers: positions in the tables `namespaces` and `nodes`, where '' is "unscheduled";
//   150k repeated names were a third of the header) and `ips` (canonical IPs, space-separated)
//   are what lookups use.
// * `index.endpointSlices`: slice j is part `first + j`; columns `namespace`, `name`, `service`
//   (the `kubernetes.io/service-name` label, '' when none).
// * `index.services`: service j is part `first + j`; columns `namespace`, `name`, `ips` (its
//   cluster, external and load-balancer IPs, canonical, space-separated) and `nodePorts`
//   (`30080/TCP …`, NodePort and LoadBalancer services): a diagnosis reads the services it meets,
//   not 10,000 of them.
// * `index.nodes`: node j is part `first + j`; columns `name`, `ips` (its addresses), `podCIDRs`
//   and `providerID`, and `annotated` (annotation key → the first node carrying it, non-empty:
//   how plugins are detected). Files written before these two had `nodes` and `services` in
//   `index.lists` (read whole); readers take either.
// * `index.dumps`: the dump of `node[j]` is part `first + j` (a NodeNetworkStackDump).
//
// A reader validates the header when it opens the file and each part on its first use (its schema,
// and that it agrees with the index: a pod's name, node and IPs); `checkSnapshotBytes` validates all
// of it, including the layout. Parts are written in this order: lists, services, nodes, pods,
// slices, dumps.
import type { NodeNetworkStackDump } from '../../shared/dump';
import { registerObjectIndex, type NodeIndex, type NodeSummary, type ObjectIndex, type ServiceIndex } from '../port';
import { DEFAULT_SNAPSHOT_LIMITS, SnapshotError, checkDepth, dumpConsistency, duplicateProblems, parseJsonDocument, refuse, schemaProblems, segment, type SnapshotLimits, type SnapshotProblem } from './load';
import { readNode, readService } from '../k8s/objects';
import { podIPs } from './pod-netns';
import { dumpSchema, snapshotHeaderSchema, snapshotSchema } from './schema';
import { sortKeys } from './objects';
import { snapshotKind, type K8sObject, type NetpathSnapshot, type SnapshotObjects, type SnapshotSettings } from './types';

/** Byte ranges of a snapshot file, read as UTF-8 text (the caller does the I/O: fs, or bytes in memory). */
export interface SnapshotBytes {
  readonly size: number;
  read(offset: number, length: number): string;
}

const magic = '{"kind":"NetpathSnapshot","version":2,"headerBytes":"';
const digits = 10;
const partsOpen = '"parts":[\n';
const serviceNameLabel = 'kubernetes.io/service-name';

/** The lists read whole, in the order they are written (`nodes` and `services` only in older files). */
const wholeLists = ['nodes', 'services', 'networkPolicies', 'namespaces', 'configMaps', 'endpoints', 'ipPools', 'daemonSets', 'originalEndpointSlices'] as const;
type WholeList = (typeof wholeLists)[number];
/** Lists that are written item by item, with columns. */
const itemLists = ['services', 'nodes'] as const;

interface Columns { first: number }
/** `index.pods` as written: namespace and node as positions in name tables. */
interface PodColumnsOnDisk extends Columns { namespaces: string[]; nodes: string[]; namespace: number[]; name: string[]; node: number[]; ips: string[] }
/** The index as the reader uses it (pod namespaces and nodes as names). */
export interface SnapshotIndex {
  parts: number[];
  lists: Partial<Record<WholeList, number>>;
  pods: Columns & { namespace: string[]; name: string[]; node: string[]; ips: string[] };
  endpointSlices: Columns & { namespace: string[]; name: string[]; service: string[] };
  services?: ServiceColumns;
  nodes?: NodeColumns;
  dumps: Columns & { node: string[] };
}
interface ServiceColumns extends Columns { namespace: string[]; name: string[]; ips: string[]; nodePorts: string[] }
interface NodeColumns extends Columns { name: string[]; ips: string[]; podCIDRs: string[]; providerID: string[]; annotated: Record<string, number> }
const podColumnNames = ['namespace', 'name', 'node', 'ips'] as const;
const sliceColumnNames = ['namespace', 'name', 'service'] as const;
const serviceColumnNames = ['namespace', 'name', 'ips', 'nodePorts'] as const;
const nodeColumnNames = ['name', 'ips', 'podCIDRs', 'providerID'] as const;

/** A service's columns, computed alike by the writer and by the reader that checks them. */
function serviceColumns(o: K8sObject): string[] {
  const s = readService(o);
  const nodePorts = s.type === 'NodePort' || s.type === 'LoadBalancer' ? s.ports.flatMap((p) => (p.nodePort ? [`${p.nodePort}/${p.protocol}`] : [])) : [];
  return [s.namespace, s.name, [...new Set([...s.clusterIPs, ...s.externalIPs, ...s.loadBalancerIPs])].join(' '), [...new Set(nodePorts)].join(' ')];
}

function nodeColumns(o: K8sObject): string[] {
  const n = readNode(o);
  return [n.name, [...new Set(n.addresses.map((a) => a.address))].join(' '), n.podCIDRs.join(' '), n.providerID];
}

/** Annotation keys a node carries with a value (what a plugin's detection asks for). */
function annotatedKeys(o: K8sObject): string[] {
  const a = o.metadata.annotations;
  return a ? Object.entries(a).flatMap(([k, v]) => (v ? [k] : [])) : [];
}

/** Each annotation key → the position of the first node carrying it (`index.nodes.annotated`). */
function firstAnnotated(nodes: readonly K8sObject[]): Map<string, number> {
  const first = new Map<string, number>();
  nodes.forEach((n, j) => {
    for (const key of annotatedKeys(n)) if (!first.has(key)) first.set(key, j);
  });
  return first;
}

const words = (text: string): string[] => (text ? text.split(' ') : []);

interface Header {
  kind: typeof snapshotKind;
  version: 2;
  headerBytes: string;
  capturedAt: string;
  settings: SnapshotSettings;
  index: SnapshotIndex;
}
type HeaderOnDisk = Omit<Header, 'index'> & { index: Omit<SnapshotIndex, 'pods'> & { pods: PodColumnsOnDisk } };

/** Position of a name in a table that grows as names come. */
function tableOf(): { names: string[]; at(name: string): number } {
  const names: string[] = [];
  const pos = new Map<string, number>();
  return {
    names,
    at(name) {
      let i = pos.get(name);
      if (i === undefined) {
        pos.set(name, (i = names.length));
        names.push(name);
      }
      return i;
    },
  };
}

/** Does this text (the file's first bytes suffice) start a version 2 snapshot? */
export function isSnapshotV2(start: string): boolean {
  return start.startsWith(magic);
}

/** Bytes of text held in memory (an unsaved editor's snapshot, a test). */
export function bytesOfText(text: string): SnapshotBytes {
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder();
  return { size: bytes.length, read: (offset, length) => decoder.decode(bytes.subarray(offset, offset + length)) };
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

// ---- writing --------------------------------------------------------------------------------

/** The snapshot as a version 2 file (keys sorted as in version 1, so the same input gives the same bytes). */
export function encodeSnapshot(snapshot: Pick<NetpathSnapshot, 'capturedAt' | 'settings' | 'objects' | 'dumps'>): string {
  const parts: string[] = [];
  const o = snapshot.objects;
  const lists: Partial<Record<WholeList, number>> = {};
  for (const name of wholeLists) {
    const list = o[name];
    if (list === undefined || name === 'nodes' || name === 'services') continue;
    lists[name] = parts.length;
    parts.push(JSON.stringify(sortKeys(list)));
  }
  const services: ServiceColumns = { first: parts.length, namespace: [], name: [], ips: [], nodePorts: [] };
  for (const svc of o.services) {
    parts.push(JSON.stringify(sortKeys(svc)));
    serviceColumns(svc).forEach((v, k) => services[serviceColumnNames[k]].push(v));
  }
  const nodeCols: NodeColumns = { first: parts.length, name: [], ips: [], podCIDRs: [], providerID: [], annotated: {} };
  for (const n of o.nodes) {
    parts.push(JSON.stringify(sortKeys(n)));
    nodeColumns(n).forEach((v, k) => nodeCols[nodeColumnNames[k]].push(v));
  }
  // (fromEntries: a key such as "__proto__" is an own property, as JSON.parse will read it back.)
  nodeCols.annotated = Object.fromEntries([...firstAnnotated(o.nodes)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const namespaces = tableOf();
  const nodes = tableOf();
  const pods: PodColumnsOnDisk = { first: parts.length, namespaces: namespaces.names, nodes: nodes.names, namespace: [], name: [], node: [], ips: [] };
  for (const p of o.pods) {
    parts.push(JSON.stringify(sortKeys(p)));
    pods.namespace.push(namespaces.at(p.metadata.namespace ?? ''));
    pods.name.push(p.metadata.name);
    const node = (p.spec as { nodeName?: unknown } | undefined)?.nodeName;
    pods.node.push(nodes.at(typeof node === 'string' ? node : ''));
    pods.ips.push(podIPs(p).join(' '));
  }
  const slices: SnapshotIndex['endpointSlices'] = { first: parts.length, namespace: [], name: [], service: [] };
  for (const s of o.endpointSlices) {
    parts.push(JSON.stringify(sortKeys(s)));
    sliceColumns(s).forEach((v, k) => slices[sliceColumnNames[k]].push(v));
  }
  const dumps: SnapshotIndex['dumps'] = { first: parts.length, node: [] };
  for (const node of Object.keys(snapshot.dumps).sort()) {
    parts.push(JSON.stringify(sortKeys(snapshot.dumps[node])));
    dumps.node.push(node);
  }
  const index: HeaderOnDisk['index'] = { parts: parts.map(utf8Length), lists, services, nodes: nodeCols, pods, endpointSlices: slices, dumps };
  const rest = `,"capturedAt":${JSON.stringify(snapshot.capturedAt)},"settings":${JSON.stringify(sortKeys(snapshot.settings))},"index":${JSON.stringify(index)},\n`;
  const headerBytes = utf8Length(magic) + digits + 1 + utf8Length(rest);
  const header = `${magic}${String(headerBytes).padStart(digits, '0')}"${rest}`;
  return `${header}${partsOpen}${parts.join(',\n')}\n]}\n`;
}

// ---- reading --------------------------------------------------------------------------------

const listSchema = (name: string) => (snapshotSchema.properties.objects.properties as Record<string, object>)[name];
const podSchema = snapshotSchema.properties.objects.properties.pods.items;
const sliceSchema = snapshotSchema.properties.objects.properties.endpointSlices.items;
const itemSchemas = { services: snapshotSchema.properties.objects.properties.services.items, nodes: snapshotSchema.properties.objects.properties.nodes.items };

function fail(problems: SnapshotProblem[], max = Infinity): never {
  refuse('snapshot', problems, max);
  throw new SnapshotError('snapshot', problems);
}

/** The header of a version 2 file, checked: its schema, and that the index addresses every part once. */
function readHeader(bytes: SnapshotBytes, limits: Required<SnapshotLimits>): { header: Header; offsets: Float64Array } {
  const start = bytes.read(0, Math.min(bytes.size, magic.length + digits + 1));
  if (!isSnapshotV2(start)) fail([{ path: '(root)', message: 'not a version 2 snapshot' }]);
  const n = /^\d+$/.test(start.slice(magic.length, magic.length + digits)) ? Number(start.slice(magic.length, magic.length + digits)) : NaN;
  if (!(n > magic.length + digits) || n > bytes.size) fail([{ path: 'headerBytes', message: `must be the byte length of the first line (file has ${bytes.size} bytes)` }]);
  const line = bytes.read(0, n);
  if (!line.endsWith(',\n')) fail([{ path: 'headerBytes', message: 'does not end the first line' }]);
  const disk = parseJsonDocument(line.slice(0, -2) + '}', 'snapshot', limits.maxJsonDepth) as HeaderOnDisk;
  const problems = schemaProblems(snapshotHeaderSchema, disk, '', limits.maxSnapshotProblems);
  if (problems.length) fail(problems, limits.maxSnapshotProblems);
  const p = disk.index.pods;
  // (A plain loop: 150k entries per column, read once per process, before the JIT has warmed up.)
  const names = (at: string, table: string[], col: number[]) => {
    const out = new Array<string>(col.length);
    for (let j = 0; j < col.length; j++) {
      const i = col[j];
      if (i >= table.length) problems.push({ path: `${at}[${j}]`, message: `no entry ${i} in the table (${table.length} entries)` });
      out[j] = table[i];
    }
    return out;
  };
  const pods = { first: p.first, name: p.name, ips: p.ips, namespace: names('index.pods.namespace', p.namespaces, p.namespace), node: names('index.pods.node', p.nodes, p.node) };
  const header: Header = { ...disk, index: { ...disk.index, pods } };
  const ix = header.index;
  const count = ix.parts.length;
  const owner = new Uint8Array(count);
  const claim = (at: string, first: number, k: number) => {
    if (first + k > count) return problems.push({ path: at, message: `parts ${first}…${first + k - 1} are beyond the ${count} parts` });
    for (let i = first; i < first + k; i++) {
      if (owner[i]) return problems.push({ path: at, message: `part ${i} is claimed twice` });
      owner[i] = 1;
    }
  };
  for (const [name, part] of Object.entries(ix.lists)) claim(`index.lists.${name}`, part!, 1);
  const columns = (at: string, group: object, names: string[]) => {
    const cols = group as Record<string, unknown>;
    const k = (cols[names[0]] as unknown[]).length;
    for (const c of names.slice(1)) if ((cols[c] as unknown[]).length !== k) problems.push({ path: `${at}.${c}`, message: `must have as many entries as ${at}.${names[0]} (${k})` });
    claim(at, cols.first as number, k);
  };
  columns('index.pods', ix.pods, [...podColumnNames]);
  columns('index.endpointSlices', ix.endpointSlices, [...sliceColumnNames]);
  columns('index.dumps', ix.dumps, ['node']);
  if (ix.services) columns('index.services', ix.services, [...serviceColumnNames]);
  if (ix.nodes) {
    columns('index.nodes', ix.nodes, [...nodeColumnNames]);
    const count = ix.nodes.name.length;
    for (const [key, j] of Object.entries(ix.nodes.annotated)) {
      if (j >= count) problems.push({ path: `index.nodes.annotated${segment(key, false)}`, message: `is node ${j}, but there are ${count} nodes` });
    }
  }
  for (const name of ['networkPolicies', 'namespaces', 'configMaps', 'endpoints'] as const) {
    if (ix.lists[name] === undefined) problems.push({ path: `index.lists.${name}`, message: 'required field is missing' });
  }
  for (const name of itemLists) {
    const whole = ix.lists[name] !== undefined;
    if (whole === (ix[name] !== undefined)) problems.push({ path: `index.${name}`, message: whole ? `must not be given with index.lists.${name} (objects.${name} is read whole or item by item, not both)` : `required field is missing (or, in older files, index.lists.${name})` });
  }
  if (owner.includes(0)) problems.push({ path: 'index.parts', message: `part ${owner.indexOf(0)} belongs to nothing` });
  const offsets = new Float64Array(count + 1);
  offsets[0] = n + utf8Length(partsOpen);
  for (let i = 0; i < count; i++) offsets[i + 1] = offsets[i] + ix.parts[i] + 2;
  const end = count ? offsets[count] + 2 : offsets[0] + 4;
  if (end !== bytes.size) problems.push({ path: 'index.parts', message: `the parts' lengths give a ${end}-byte file, but it has ${bytes.size} bytes` });
  if (problems.length) fail(problems, limits.maxSnapshotProblems);
  return { header, offsets };
}

/** The parts of a file whose header checked out, by number. */
interface PartReader {
  header: Header;
  /** Part i as JSON, or a SnapshotError naming it by `at` (its path in the snapshot). */
  json(i: number, at: string): unknown;
  /** The bytes after part i: `,\n`, or `\n]}\n` after the last, when the lengths are right. */
  separator(i: number): string;
}

function partReader(bytes: SnapshotBytes, limits: Required<SnapshotLimits>): PartReader {
  const { header, offsets } = readHeader(bytes, limits);
  const count = header.index.parts.length;
  return {
    header,
    json(i, at) {
      const text = bytes.read(offsets[i], header.index.parts[i]);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return parseJsonDocument(text, `snapshot part ${at}`, limits.maxJsonDepth);
      }
      checkDepth(value, `snapshot part ${at}`, limits.maxJsonDepth);
      return value;
    },
    separator: (i) => bytes.read(offsets[i] + header.index.parts[i], i === count - 1 ? 4 : 2),
  };
}

/** One item's agreement with its index columns (a lie in the index would answer lookups wrongly). */
function agrees(kind: string, got: string[], ix: object, names: readonly string[], j: number, at: string): SnapshotProblem[] {
  const cols = ix as Record<string, string[]>;
  return got.flatMap((g, k) => (g === cols[names[k]][j] ? [] : [{ path: at, message: `does not match index.${kind}.${names[k]}[${j}] (${JSON.stringify(cols[names[k]][j])}, the ${kind === 'endpointSlices' ? 'slice' : kind.replace(/s$/, '')} has ${JSON.stringify(g)})` }]));
}


function podColumns(p: K8sObject): string[] {
  const node = (p.spec as { nodeName?: unknown } | undefined)?.nodeName;
  return [p.metadata.namespace ?? '', p.metadata.name, typeof node === 'string' ? node : '', podIPs(p).join(' ')];
}

function sliceColumns(s: K8sObject): string[] {
  const svc = s.metadata.labels?.[serviceNameLabel];
  return [s.metadata.namespace ?? '', s.metadata.name, typeof svc === 'string' ? svc : ''];
}

type ItemList = 'pods' | 'endpointSlices' | (typeof itemLists)[number];
type ItemReader = (j: number) => K8sObject;

// Single items of the lazy lists, without reading the whole list (the index knows them by position).
const itemReaders = new WeakMap<SnapshotObjects, Partial<Record<ItemList, ItemReader>>>();

/**
 * A version 2 snapshot read lazily: the header now, everything else on first use, each part
 * validated then (a bad part throws SnapshotError naming it, e.g. `dumps.node-7.routes: must be
 * array`). The result has the shape of a loaded snapshot — `objects.pods`, `dumps[node]` … are
 * getters — and comes with an ObjectIndex (port.ts) so that the cluster cache asks for single
 * pods, slices, services and nodes instead of the whole lists.
 */
export function openSnapshot(bytes: SnapshotBytes, limits: SnapshotLimits = {}): NetpathSnapshot {
  const lim = { ...DEFAULT_SNAPSHOT_LIMITS, ...defined(limits) };
  const max = lim.maxSnapshotProblems;
  const r = partReader(bytes, lim);
  const ix = r.header.index;
  const listCache = new Map<string, K8sObject[]>();
  const list = (name: WholeList): K8sObject[] => {
    let v = listCache.get(name);
    if (!v) {
      const at = `objects.${name}`;
      const data = r.json(ix.lists[name]!, at);
      const problems = schemaProblems(listSchema(name), data, at, max);
      if (!problems.length) problems.push(...duplicateProblems(name, data as K8sObject[]));
      if (problems.length) fail(problems, max);
      listCache.set(name, (v = data as K8sObject[]));
    }
    return v;
  };
  /** Item j of a list written item by item: read, validated and checked against its columns once. */
  const items = (kind: ItemList, group: Columns & object, schema: object, names: readonly string[], columnsOf: (o: K8sObject) => string[]): ItemReader => {
    const read: (K8sObject | undefined)[] = [];
    return (j) => {
      let o = read[j];
      if (!o) {
        const at = `objects.${kind}[${j}]`;
        const data = r.json(group.first + j, at);
        const problems = schemaProblems(schema, data, at, max);
        if (!problems.length) problems.push(...agrees(kind, columnsOf(data as K8sObject), group, names, j, at));
        if (problems.length) fail(problems, max);
        read[j] = o = data as K8sObject;
      }
      return o;
    };
  };
  const readers: Partial<Record<ItemList, ItemReader>> = {
    pods: items('pods', ix.pods, podSchema, podColumnNames, podColumns),
    endpointSlices: items('endpointSlices', ix.endpointSlices, sliceSchema, sliceColumnNames, sliceColumns),
    ...(ix.services ? { services: items('services', ix.services, itemSchemas.services, serviceColumnNames, serviceColumns) } : {}),
    ...(ix.nodes ? { nodes: items('nodes', ix.nodes, itemSchemas.nodes, nodeColumnNames, nodeColumns) } : {}),
  };
  const countOf = (kind: ItemList) => (kind === 'pods' ? ix.pods : kind === 'endpointSlices' ? ix.endpointSlices : ix[kind]!).name.length;
  let nodeNames: Set<string> | undefined;
  const dumpCache = new Map<number, NodeNetworkStackDump>();
  const dump = (j: number): NodeNetworkStackDump => {
    let d = dumpCache.get(j);
    if (!d) {
      const name = ix.dumps.node[j];
      const at = `dumps${segment(name, false)}`;
      const data = r.json(ix.dumps.first + j, at);
      const problems = schemaProblems(dumpSchema, data, at, max);
      if (!problems.length) problems.push(...dumpConsistency(data as NodeNetworkStackDump, at));
      nodeNames ??= new Set(ix.nodes ? ix.nodes.name : list('nodes').map((n) => n.metadata.name));
      if (!nodeNames.has(name)) problems.push({ path: at, message: `no Node object named "${name}" in objects.nodes` });
      if (problems.length) fail(problems, max);
      dumpCache.set(j, (d = data as NodeNetworkStackDump));
    }
    return d;
  };

  const objects = {} as SnapshotObjects;
  for (const name of wholeLists) {
    if (ix.lists[name] !== undefined) Object.defineProperty(objects, name, { enumerable: true, get: () => list(name) });
  }
  for (const [kind, read] of Object.entries(readers) as [ItemList, ItemReader][]) {
    let all: K8sObject[] | undefined;
    Object.defineProperty(objects, kind, { enumerable: true, get: () => (all ??= Array.from({ length: countOf(kind) }, (_, j) => read(j))) });
  }
  const dumps: Record<string, NodeNetworkStackDump> = {};
  ix.dumps.node.forEach((name, j) => {
    if (Object.prototype.hasOwnProperty.call(dumps, name)) fail([{ path: `index.dumps.node[${j}]`, message: `node "${name}" has two dumps` }]);
    Object.defineProperty(dumps, name, { enumerable: true, get: () => dump(j) });
  });
  registerObjectIndex(objects, objectIndex(ix, readers));
  itemReaders.set(objects, readers);
  return { kind: snapshotKind, version: 2, capturedAt: r.header.capturedAt, settings: r.header.settings, objects, dumps };
}

/**
 * Lookups answered from the index columns. A diagnosis asks about a handful of pods, so a lookup
 * first scans its column (150k string compares: about a millisecond); a column that is asked
 * often gets a map, built once. Building every map up front cost more than a whole diagnosis.
 */
function objectIndex(ix: SnapshotIndex, readers: Partial<Record<ItemList, ItemReader>>): ObjectIndex {
  const p = ix.pods;
  const s = ix.endpointSlices;
  const pod = readers.pods!;
  const slice = readers.endpointSlices!;
  const byKey = keyColumn(p);
  const byIP = wordColumn(p.ips);
  const byNode = column(p.name.length, (j) => p.node[j], (node) => (j) => p.node[j] === node);
  const byNamespace = column(p.name.length, (j) => p.namespace[j], (ns) => (j) => p.namespace[j] === ns);
  const bySlice = column(s.name.length, (j) => (s.service[j] ? `${s.namespace[j]}/${s.service[j]}` : []), (k) => (j) => !!s.service[j] && k === `${s.namespace[j]}/${s.service[j]}`);
  // The last one listed, as the in-memory index answers (a valid snapshot has no two).
  const last = (js: number[], read: ItemReader) => (js.length ? read(js[js.length - 1]) : undefined);
  return {
    pod: (key) => last(byKey(key), pod),
    podsWithIP: (ip) => (ip ? byIP(ip).map(pod) : []),
    podsOnNode: (node) => (node ? byNode(node).map(pod) : []),
    podsInNamespace: (namespace) => byNamespace(namespace).map(pod),
    podNamespaces: () => [...new Set(p.namespace)],
    endpointSlicesOf: (namespace, service) => bySlice(`${namespace}/${service}`).map(slice),
    ...(ix.services ? { services: serviceIndex(ix.services, readers.services!, last) } : {}),
    ...(ix.nodes ? { nodes: nodeIndex(ix.nodes, readers.nodes!, last) } : {}),
  };
}

function serviceIndex(sv: ServiceColumns, service: ItemReader, last: (js: number[], read: ItemReader) => K8sObject | undefined): ServiceIndex {
  const byKey = keyColumn(sv);
  const byIP = wordColumn(sv.ips);
  const byNodePort = wordColumn(sv.nodePorts);
  return {
    service: (key) => last(byKey(key), service),
    withIP: (ip) => (ip ? byIP(ip).map(service) : []),
    withNodePort: (nodePort, protocol) => byNodePort(`${nodePort}/${protocol}`).map(service),
    namespaces: () => [...new Set(sv.namespace)],
  };
}

function nodeIndex(nd: NodeColumns, node: ItemReader, last: (js: number[], read: ItemReader) => K8sObject | undefined): NodeIndex {
  const byName = column(nd.name.length, (j) => nd.name[j], (name) => (j) => nd.name[j] === name);
  const byIP = wordColumn(nd.ips);
  const annotated = new Map(Object.entries(nd.annotated));
  let summaries: NodeSummary[] | undefined;
  return {
    node: (name) => last(byName(name), node),
    withIP: (ip) => (ip ? byIP(ip).map(node) : []),
    summaries: () => (summaries ??= nd.name.map((name, j) => ({ name, podCIDRs: words(nd.podCIDRs[j]), providerID: nd.providerID[j] }))),
    firstAnnotated(key) {
      const j = annotated.get(key);
      if (j === undefined) return undefined;
      const o = node(j);
      if (!annotatedKeys(o).includes(key)) fail([{ path: `index.nodes.annotated${segment(key, false)}`, message: `names objects.nodes[${j}], which has no annotation ${JSON.stringify(key)}` }]);
      return o;
    },
  };
}

/** Positions of `namespace/name` in a group with those two columns. */
function keyColumn(g: { namespace: string[]; name: string[] }): (key: string) => number[] {
  return column(g.name.length, (j) => `${g.namespace[j]}/${g.name[j]}`, (key) => {
    const slash = key.indexOf('/');
    const [ns, name] = [key.slice(0, slash), key.slice(slash + 1)];
    return (j) => g.name[j] === name && g.namespace[j] === ns;
  });
}

/** Positions whose space-separated column holds the word. */
function wordColumn(col: string[]): (word: string) => number[] {
  const wordsOf = (j: number) => (col[j].includes(' ') ? col[j].split(' ') : col[j] ? [col[j]] : []);
  return column(col.length, wordsOf, (w) => (j) => col[j] === w || (col[j].includes(' ') && wordsOf(j).includes(w)));
}

/** Positions whose key is `k`: scanned while asked rarely, from a map once asked often. */
function column(count: number, keys: (j: number) => string | string[], matcher: (k: string) => (j: number) => boolean): (k: string) => number[] {
  let asked = 0;
  let map: Map<string, number[]> | undefined;
  return (k) => {
    if (!map && ++asked > 16) {
      map = new Map();
      for (let j = 0; j < count; j++) {
        const ks = keys(j);
        for (const key of typeof ks === 'string' ? [ks] : ks) {
          const l = map.get(key);
          if (l) l.push(j);
          else map.set(key, [j]);
        }
      }
    }
    if (map) return map.get(k) ?? [];
    const out: number[] = [];
    const match = matcher(k);
    for (let j = 0; j < count; j++) if (match(j)) out.push(j);
    return out;
  };
}

/**
 * Everything of a version 2 file checked — the header, every part and the layout between them —
 * and the snapshot as plain data. Problems of all parts are gathered, not just the first one's.
 */
export function checkSnapshotBytes(bytes: SnapshotBytes, limits: SnapshotLimits = {}): NetpathSnapshot {
  const lim = { ...DEFAULT_SNAPSHOT_LIMITS, ...defined(limits) };
  const lazy = openSnapshot(bytes, lim);
  const r = partReader(bytes, lim);
  const problems: SnapshotProblem[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof SnapshotError)) throw e;
      problems.push(...e.problems);
      return undefined;
    }
  };
  const count = r.header.index.parts.length;
  for (let i = 0; i < count; i++) {
    const sep = r.separator(i);
    const want = i === count - 1 ? '\n]}\n' : ',\n';
    if (sep !== want) problems.push({ path: `parts[${i}]`, message: `is not followed by ${JSON.stringify(want)} (index.parts[${i}] is not its length)` });
  }
  const objects = {} as Record<string, unknown>;
  const readers = itemReaders.get(lazy.objects)!;
  for (const name of [...wholeLists, 'pods', 'endpointSlices'] as const) {
    if (!(name in lazy.objects)) continue;
    const read = readers[name as ItemList];
    if (read) {
      const ix = r.header.index[name as ItemList]!;
      const items: K8sObject[] = [];
      for (let j = 0; j < ix.name.length; j++) {
        // One bad item must not hide the next one's problems: read each alone.
        const got = attempt(() => read(j));
        if (got) items.push(got);
      }
      objects[name] = items;
    } else objects[name] = attempt(() => lazy.objects[name]);
  }
  const dumps: Record<string, NodeNetworkStackDump> = {};
  for (const node of Object.keys(lazy.dumps)) {
    const d = attempt(() => lazy.dumps[node]);
    if (d) dumps[node] = d;
  }
  if (!problems.length) {
    const seen = new Map<string, number>();
    r.header.index.pods.name.forEach((n, j) => {
      const k = `${r.header.index.pods.namespace[j]}/${n}`;
      if (seen.has(k)) problems.push({ path: `objects.pods[${j}]`, message: `duplicate Pod ${k} (also objects.pods[${seen.get(k)}])` });
      else seen.set(k, j);
    });
    problems.push(...duplicateProblems('endpointSlices', objects.endpointSlices as K8sObject[]));
    for (const name of itemLists) if (r.header.index[name]) problems.push(...duplicateProblems(name, objects[name] as K8sObject[]));
    const nd = r.header.index.nodes;
    if (nd) problems.push(...annotatedProblems(nd.annotated, objects.nodes as K8sObject[]));
  }
  if (problems.length) fail(problems, lim.maxSnapshotProblems);
  return { kind: snapshotKind, version: 2, capturedAt: lazy.capturedAt, settings: lazy.settings, objects: objects as unknown as SnapshotObjects, dumps };
}

/** The limits given (an absent or undefined one keeps its default). */
function defined(limits: SnapshotLimits): SnapshotLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}

/** `index.nodes.annotated` against the nodes themselves: each key names the first node carrying it. */
function annotatedProblems(annotated: Record<string, number>, nodes: readonly K8sObject[]): SnapshotProblem[] {
  const want = firstAnnotated(nodes);
  const problems: SnapshotProblem[] = [];
  const given = new Map(Object.entries(annotated));
  for (const [key, j] of want) {
    if (given.get(key) !== j) problems.push({ path: `index.nodes.annotated${segment(key, false)}`, message: `must be ${j} (the first node annotated ${JSON.stringify(key)} is objects.nodes[${j}]), is ${given.has(key) ? given.get(key) : 'missing'}` });
  }
  for (const [key, j] of given) if (!want.has(key)) problems.push({ path: `index.nodes.annotated${segment(key, false)}`, message: `is ${j}, but no node has annotation ${JSON.stringify(key)}` });
  return problems;
}
