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
// * `index.dumps`: the dump of `node[j]` is part `first + j` (a NodeNetworkStackDump).
//
// A reader validates the header when it opens the file and each part on its first use (its schema,
// and that it agrees with the index: a pod's name, node and IPs); `checkSnapshotBytes` validates all
// of it, including the layout. Parts are written in this order: lists, pods, slices, dumps.
import type { NodeNetworkStackDump } from '../../shared/dump';
import { registerObjectIndex, type ObjectIndex } from '../port';
import { DEFAULT_SNAPSHOT_LIMITS, SnapshotError, checkDepth, dumpConsistency, duplicateProblems, parseJsonDocument, refuse, schemaProblems, segment, type SnapshotLimits, type SnapshotProblem } from './load';
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

/** The lists read whole, in the order they are written. */
const wholeLists = ['nodes', 'services', 'networkPolicies', 'namespaces', 'configMaps', 'endpoints', 'ipPools', 'daemonSets', 'originalEndpointSlices'] as const;
type WholeList = (typeof wholeLists)[number];

interface Columns { first: number }
/** `index.pods` as written: namespace and node as positions in name tables. */
interface PodColumnsOnDisk extends Columns { namespaces: string[]; nodes: string[]; namespace: number[]; name: string[]; node: number[]; ips: string[] }
/** The index as the reader uses it (pod namespaces and nodes as names). */
export interface SnapshotIndex {
  parts: number[];
  lists: Partial<Record<WholeList, number>>;
  pods: Columns & { namespace: string[]; name: string[]; node: string[]; ips: string[] };
  endpointSlices: Columns & { namespace: string[]; name: string[]; service: string[] };
  dumps: Columns & { node: string[] };
}

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
    if (list === undefined) continue;
    lists[name] = parts.length;
    parts.push(JSON.stringify(sortKeys(list)));
  }
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
    slices.namespace.push(s.metadata.namespace ?? '');
    slices.name.push(s.metadata.name);
    const svc = s.metadata.labels?.[serviceNameLabel];
    slices.service.push(typeof svc === 'string' ? svc : '');
  }
  const dumps: SnapshotIndex['dumps'] = { first: parts.length, node: [] };
  for (const node of Object.keys(snapshot.dumps).sort()) {
    parts.push(JSON.stringify(sortKeys(snapshot.dumps[node])));
    dumps.node.push(node);
  }
  const index: HeaderOnDisk['index'] = { parts: parts.map(utf8Length), lists, pods, endpointSlices: slices, dumps };
  const rest = `,"capturedAt":${JSON.stringify(snapshot.capturedAt)},"settings":${JSON.stringify(sortKeys(snapshot.settings))},"index":${JSON.stringify(index)},\n`;
  const headerBytes = utf8Length(magic) + digits + 1 + utf8Length(rest);
  const header = `${magic}${String(headerBytes).padStart(digits, '0')}"${rest}`;
  return `${header}${partsOpen}${parts.join(',\n')}\n]}\n`;
}

// ---- reading --------------------------------------------------------------------------------

const listSchema = (name: string) => (snapshotSchema.properties.objects.properties as Record<string, object>)[name];
const podSchema = snapshotSchema.properties.objects.properties.pods.items;
const sliceSchema = snapshotSchema.properties.objects.properties.endpointSlices.items;

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
  columns('index.pods', ix.pods, ['namespace', 'name', 'node', 'ips']);
  columns('index.endpointSlices', ix.endpointSlices, ['namespace', 'name', 'service']);
  columns('index.dumps', ix.dumps, ['node']);
  for (const name of ['nodes', 'services', 'networkPolicies', 'namespaces', 'configMaps', 'endpoints'] as const) {
    if (ix.lists[name] === undefined) problems.push({ path: `index.lists.${name}`, message: 'required field is missing' });
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

/** One pod's agreement with the index columns (a lie in the index would answer lookups wrongly). */
function podAgrees(p: K8sObject, ix: SnapshotIndex['pods'], j: number, at: string): SnapshotProblem[] {
  const node = (p.spec as { nodeName?: unknown } | undefined)?.nodeName;
  const got = [p.metadata.namespace ?? '', p.metadata.name, typeof node === 'string' ? node : '', podIPs(p).join(' ')];
  const want = [ix.namespace[j], ix.name[j], ix.node[j], ix.ips[j]];
  const cols = ['namespace', 'name', 'node', 'ips'];
  return got.flatMap((g, k) => (g === want[k] ? [] : [{ path: at, message: `does not match index.pods.${cols[k]}[${j}] (${JSON.stringify(want[k])}, the pod has ${JSON.stringify(g)})` }]));
}

function sliceAgrees(s: K8sObject, ix: SnapshotIndex['endpointSlices'], j: number, at: string): SnapshotProblem[] {
  const svc = s.metadata.labels?.[serviceNameLabel];
  const got = [s.metadata.namespace ?? '', s.metadata.name, typeof svc === 'string' ? svc : ''];
  const want = [ix.namespace[j], ix.name[j], ix.service[j]];
  const cols = ['namespace', 'name', 'service'];
  return got.flatMap((g, k) => (g === want[k] ? [] : [{ path: at, message: `does not match index.endpointSlices.${cols[k]}[${j}] (${JSON.stringify(want[k])}, the slice has ${JSON.stringify(g)})` }]));
}

// Single items of the lazy lists, without reading the whole list (the index knows them by position).
const itemReaders = new WeakMap<SnapshotObjects, { pod: (j: number) => K8sObject; slice: (j: number) => K8sObject }>();

/**
 * A version 2 snapshot read lazily: the header now, everything else on first use, each part
 * validated then (a bad part throws SnapshotError naming it, e.g. `dumps.node-7.routes: must be
 * array`). The result has the shape of a loaded snapshot — `objects.pods`, `dumps[node]` … are
 * getters — and comes with an ObjectIndex (port.ts) so that the cluster cache asks for single
 * pods and slices instead of the whole lists.
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
  const pods: (K8sObject | undefined)[] = new Array(ix.pods.name.length);
  const pod = (j: number): K8sObject => {
    let p = pods[j];
    if (!p) {
      const at = `objects.pods[${j}]`;
      const data = r.json(ix.pods.first + j, at);
      const problems = schemaProblems(podSchema, data, at, max);
      if (!problems.length) problems.push(...podAgrees(data as K8sObject, ix.pods, j, at));
      if (problems.length) fail(problems, max);
      pods[j] = p = data as K8sObject;
    }
    return p;
  };
  const slices: (K8sObject | undefined)[] = new Array(ix.endpointSlices.name.length);
  const slice = (j: number): K8sObject => {
    let s = slices[j];
    if (!s) {
      const at = `objects.endpointSlices[${j}]`;
      const data = r.json(ix.endpointSlices.first + j, at);
      const problems = schemaProblems(sliceSchema, data, at, max);
      if (!problems.length) problems.push(...sliceAgrees(data as K8sObject, ix.endpointSlices, j, at));
      if (problems.length) fail(problems, max);
      slices[j] = s = data as K8sObject;
    }
    return s;
  };
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
      nodeNames ??= new Set(list('nodes').map((n) => n.metadata.name));
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
  let allPods: K8sObject[] | undefined;
  let allSlices: K8sObject[] | undefined;
  Object.defineProperty(objects, 'pods', { enumerable: true, get: () => (allPods ??= Array.from(pods, (_, j) => pod(j))) });
  Object.defineProperty(objects, 'endpointSlices', { enumerable: true, get: () => (allSlices ??= Array.from(slices, (_, j) => slice(j))) });
  const dumps: Record<string, NodeNetworkStackDump> = {};
  ix.dumps.node.forEach((name, j) => {
    if (Object.prototype.hasOwnProperty.call(dumps, name)) fail([{ path: `index.dumps.node[${j}]`, message: `node "${name}" has two dumps` }]);
    Object.defineProperty(dumps, name, { enumerable: true, get: () => dump(j) });
  });
  registerObjectIndex(objects, podIndex(ix, pod, slice));
  itemReaders.set(objects, { pod, slice });
  return { kind: snapshotKind, version: 2, capturedAt: r.header.capturedAt, settings: r.header.settings, objects, dumps };
}

/**
 * Lookups answered from the index columns. A diagnosis asks about a handful of pods, so a lookup
 * first scans its column (150k string compares: about a millisecond); a column that is asked
 * often gets a map, built once. Building every map up front cost more than a whole diagnosis.
 */
function podIndex(ix: SnapshotIndex, pod: (j: number) => K8sObject, slice: (j: number) => K8sObject): ObjectIndex {
  const p = ix.pods;
  const s = ix.endpointSlices;
  const ipsOf = (j: number) => (p.ips[j].includes(' ') ? p.ips[j].split(' ') : [p.ips[j]]);
  const byKey = column(p.name.length, (j) => `${p.namespace[j]}/${p.name[j]}`, (key) => {
    const slash = key.indexOf('/');
    const [ns, name] = [key.slice(0, slash), key.slice(slash + 1)];
    return (j) => p.name[j] === name && p.namespace[j] === ns;
  });
  const byIP = column(p.name.length, ipsOf, (ip) => (j) => p.ips[j] === ip || (p.ips[j].includes(' ') && ipsOf(j).includes(ip)));
  const byNode = column(p.name.length, (j) => p.node[j], (node) => (j) => p.node[j] === node);
  const byNamespace = column(p.name.length, (j) => p.namespace[j], (ns) => (j) => p.namespace[j] === ns);
  const bySlice = column(s.name.length, (j) => (s.service[j] ? `${s.namespace[j]}/${s.service[j]}` : []), (k) => (j) => !!s.service[j] && k === `${s.namespace[j]}/${s.service[j]}`);
  return {
    pod(key) {
      const js = byKey(key);
      // The last one listed, as the in-memory index answers (a valid snapshot has no two).
      return js.length ? pod(js[js.length - 1]) : undefined;
    },
    podsWithIP: (ip) => (ip ? byIP(ip).map(pod) : []),
    podsOnNode: (node) => (node ? byNode(node).map(pod) : []),
    podsInNamespace: (namespace) => byNamespace(namespace).map(pod),
    podNamespaces: () => [...new Set(p.namespace)],
    endpointSlicesOf: (namespace, service) => bySlice(`${namespace}/${service}`).map(slice),
  };
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
  for (const name of [...wholeLists, 'pods', 'endpointSlices'] as const) {
    if (!(name in lazy.objects)) continue;
    if (name === 'pods' || name === 'endpointSlices') {
      const ix = name === 'pods' ? r.header.index.pods : r.header.index.endpointSlices;
      const items: K8sObject[] = [];
      for (let j = 0; j < ix.name.length; j++) {
        // One bad pod must not hide the next one's problems: read each through the lazy snapshot's getter alone.
        const got = attempt(() => (name === 'pods' ? podAt(lazy, j) : sliceAt(lazy, j)));
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
  }
  if (problems.length) fail(problems, lim.maxSnapshotProblems);
  return { kind: snapshotKind, version: 2, capturedAt: lazy.capturedAt, settings: lazy.settings, objects: objects as unknown as SnapshotObjects, dumps };
}

/** The limits given (an absent or undefined one keeps its default). */
function defined(limits: SnapshotLimits): SnapshotLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}

function podAt(s: NetpathSnapshot, j: number): K8sObject {
  return itemReaders.get(s.objects)!.pod(j);
}
function sliceAt(s: NetpathSnapshot, j: number): K8sObject {
  return itemReaders.get(s.objects)!.slice(j);
}
