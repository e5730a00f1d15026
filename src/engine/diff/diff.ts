// `netpath snapshot diff`: what changed between two snapshots — objects by kind/namespace/name
// and each node's network namespaces area by area — and, given a request, whether its verdict
// changed and which differences the packet met. Both snapshots are diagnosed; a difference lies
// on the path when it is in a namespace the packet crossed in either run, and it ranks by how
// directly the runs consulted it: named in the evidence of a finding that stopped the packet,
// in the area such a finding is about, named by another finding or by the links (the route
// taken, the interfaces, the NAT chains), or merely in a crossed namespace. The path part is
// computed from the path's nodes and objects alone, before the rest of the cluster is compared.
import type { NetNSInfo, NodeNetworkStackDump } from '../../shared/dump';
import type { DiagnosisRequest, DiagnosisResult, Verdict } from '../model/result';
import { SuspicionLevel, type Evidence, type Suspicion } from '../model/suspicion';
import { Network } from '../network';
import { BadInputError } from '../../shared/errors';
import { mapPodsToNetns } from '../snapshot/pod-netns';
import type { K8sObject, NetpathSnapshot } from '../snapshot/types';
import { diffObjects, indexObjects, objectKey, type ObjectDifference } from './objects';
import { areaFields, entriesOf, stackAreas, type StackArea } from './stack';

export interface StackDifference {
  node: string;
  /** `host`, the pod (`namespace/name`) whose namespace it is, or `netns <inode>`. */
  netns: string;
  area: StackArea;
  change: 'added' | 'removed' | 'changed';
  /** The entry's identity: the rule line, route, sysctl key, interface name … */
  key: string;
  before?: string;
  after?: string;
}

export type Difference = ({ type: 'object' } & ObjectDifference) | ({ type: 'stack' } & StackDifference);

export interface PathDifference {
  difference: Difference;
  /**
   * 5 named by a finding that stopped the packet, 4 in the area of such a finding, 3 an object of
   * the path (objects are what people change; the nodes' rules follow them), 2 named by another
   * finding or by the links (route taken, interfaces, NAT chains), 1 in a namespace it crossed.
   * Half a point more for an interface someone set down (not one that lost its carrier).
   */
  rank: number;
  why: string;
}

export interface RunVerdict {
  verdict: Verdict | 'error';
  error?: string;
}

export interface PathDiff {
  request: DiagnosisRequest;
  before: RunVerdict;
  after: RunVerdict;
  onPath: PathDifference[];
}

export interface RestDiff {
  objects: ObjectDifference[];
  stacks: StackDifference[];
  /** Nodes with a dump in only one of the snapshots. */
  dumpsOnlyIn: { a: string[]; b: string[] };
}

type Indexed = ReturnType<typeof indexObjects>;

export class SnapshotDiff {
  private readonly objA: Indexed;
  private readonly objB: Indexed;
  /** What the path part already covered, so the rest does not repeat it. */
  private readonly reported = new Set<string>();
  private readonly comparedNodes = new Set<string>();

  /** `networks`: the snapshots' Networks when the caller has built them already (they are built here otherwise). */
  constructor(readonly a: NetpathSnapshot, readonly b: NetpathSnapshot, private readonly networks?: { a: Network; b: Network }) {
    this.objA = indexObjects(a.objects);
    this.objB = indexObjects(b.objects);
  }

  /** Both snapshots diagnosed, the verdict change and the differences on the path, best first. */
  path(request: DiagnosisRequest): PathDiff {
    const runA = run(this.networks?.a ?? new Network(this.a), request);
    const runB = run(this.networks?.b ?? new Network(this.b), request);
    const results = [runA, runB].filter((r): r is DiagnosisResult => !('error' in r));
    const ctx = new PathContext(this.a, this.b, results);
    const out: PathDifference[] = [];
    for (const node of ctx.nodes()) {
      this.comparedNodes.add(node);
      for (const d of this.stackDifferences(node)) {
        const j = ctx.judgeStack(d);
        if (!j) continue;
        this.reported.add(stackId(d));
        out.push({ difference: { type: 'stack', ...d }, ...j });
      }
    }
    for (const d of diffObjects(this.objA, this.objB, ctx.objectKeys(this.objA, this.objB))) {
      const j = ctx.judgeObject(d);
      if (!j) continue;
      this.reported.add(objectId(d));
      out.push({ difference: { type: 'object', ...d }, ...j });
    }
    const order = (d: Difference) => ctx.position(d);
    out.sort((x, y) => y.rank - x.rank || order(x.difference) - order(y.difference) || cmp(sortKey(x.difference), sortKey(y.difference)));
    const verdictOf = (r: DiagnosisResult | { error: string }): RunVerdict => ('error' in r ? { verdict: 'error', error: r.error } : { verdict: r.verdict });
    return { request, before: verdictOf(runA), after: verdictOf(runB), onPath: out };
  }

  /** Every other difference (all of them when `path` was not asked). */
  rest(): RestDiff {
    const objects = diffObjects(this.objA, this.objB).filter((d) => !this.reported.has(objectId(d)));
    const stacks: StackDifference[] = [];
    const names = [...new Set([...Object.keys(this.a.dumps), ...Object.keys(this.b.dumps)])].sort();
    for (const node of names) {
      if (!has(this.a.dumps, node) || !has(this.b.dumps, node)) continue;
      for (const d of this.stackDifferences(node)) if (!this.reported.has(stackId(d))) stacks.push(d);
    }
    return {
      objects,
      stacks,
      dumpsOnlyIn: { a: names.filter((n) => !has(this.b.dumps, n)), b: names.filter((n) => !has(this.a.dumps, n)) },
    };
  }

  private readonly stackMemo = new Map<string, StackDifference[]>();

  /** The differences of one node's namespaces (matched by pod, else by inode), in a fixed order. */
  stackDifferences(node: string): StackDifference[] {
    const memo = this.stackMemo.get(node);
    if (memo) return memo;
    const out: StackDifference[] = [];
    const da = has(this.a.dumps, node) ? this.a.dumps[node] : undefined;
    const db = has(this.b.dumps, node) ? this.b.dumps[node] : undefined;
    if (da && db) {
      const na = namespacesOf(node, da, podsOn(this.a, node));
      const nb = namespacesOf(node, db, podsOn(this.b, node));
      for (const label of [...new Set([...na.keys(), ...nb.keys()])].sort(labelOrder)) {
        const x = na.get(label);
        const y = nb.get(label);
        for (const area of stackAreas) {
          if (x && y && areaFields[area].every((f) => same(x[f], y[f]))) continue;
          const ea = x ? entriesOf(x, area) : new Map<string, string>();
          const eb = y ? entriesOf(y, area) : new Map<string, string>();
          for (const [k, t] of ea) {
            const u = eb.get(k);
            if (u === undefined) out.push({ node, netns: label, area, change: 'removed', key: k, before: t });
            else if (u !== t) out.push({ node, netns: label, area, change: 'changed', key: k, before: t, after: u });
          }
          for (const [k, u] of eb) if (!ea.has(k)) out.push({ node, netns: label, area, change: 'added', key: k, after: u });
        }
      }
    }
    this.stackMemo.set(node, out);
    return out;
  }
}

function run(net: Network, request: DiagnosisRequest): DiagnosisResult | { error: string } {
  try {
    return net.diagnose(request);
  } catch (e) {
    if (e instanceof BadInputError) return { error: e.message };
    throw e;
  }
}

/** Which finding families are about which areas (a finding that stopped the packet points at its area). */
const familyAreas: [RegExp, StackArea[]][] = [
  [/^route\./, ['routes', 'rules']],
  [/^sysctl\./, ['sysctls']],
  [/^(interface|bridge|veth)\./, ['interfaces', 'addresses']],
  [/^neigh/, ['neighbours']],
  [/^vxlan\.fdb/, ['fdb']],
  [/^vxlan\./, ['fdb', 'neighbours', 'interfaces']],
  [/^(iptables|kube-proxy|nat)\./, ['iptables', 'ip6tables', 'nftables', 'ipsets']],
  [/^socket\./, ['sockets']],
  [/^ipvs\./, ['ipvs']],
];
const familyKinds: [RegExp, string[]][] = [
  [/^policy\./, ['NetworkPolicy', 'Namespace', 'Pod']],
  [/^service\./, ['Service', 'EndpointSlice', 'Endpoints', 'Pod']],
  [/^pod\./, ['Pod']],
  [/^node\./, ['Node']],
];

interface Located {
  s: Suspicion;
  /** `node|netns` where it sits; undefined for a cluster finding. */
  at?: string;
}

class PathContext {
  private readonly crossed = new Map<string, number>();
  private readonly findings: Located[] = [];
  /** `node|netns` → what the links say was used there. */
  private readonly used = new Map<string, { routes: Set<string>; ifaces: Set<string>; chains: Set<string> }>();
  private readonly podKeys = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly serviceKeys = new Set<string>();

  constructor(private readonly a: NetpathSnapshot, private readonly b: NetpathSnapshot, results: DiagnosisResult[]) {
    for (const r of results) {
      const where = new Map<string, string>();
      for (const n of r.nodes) {
        const at = this.locate(n.id, n.type);
        if (!at) continue;
        where.set(n.id, at);
        if (!this.crossed.has(at)) this.crossed.set(at, this.crossed.size);
        for (const s of n.suspicions) this.findings.push({ s, at });
      }
      for (const s of r.clusterSuspicions) this.findings.push({ s });
      for (const l of r.links) {
        const src = where.get(l.source);
        const dst = where.get(l.destination);
        if (src) {
          const u = this.use(src);
          if (l.sourceAttributes.route) u.routes.add(l.sourceAttributes.route);
          if (l.sourceAttributes.if) u.ifaces.add(l.sourceAttributes.if);
          for (const m of (l.sourceAttributes.nat ?? '').matchAll(/\((?:PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) (\S+) #\d+\)/g)) u.chains.add(m[1]);
        }
        if (dst && l.destinationAttributes.if) this.use(dst).ifaces.add(l.destinationAttributes.if);
      }
      for (const e of [r.source, r.destination]) {
        if (e.type === 'service' && e.ref) this.serviceKeys.add(e.ref);
      }
    }
  }

  private use(at: string) {
    let u = this.used.get(at);
    if (!u) this.used.set(at, (u = { routes: new Set(), ifaces: new Set(), chains: new Set() }));
    return u;
  }

  /** A NetNode as `node|netns`: nodes are their host netns, pods their own (or the host's with hostNetwork). */
  private locate(id: string, type: string): string | undefined {
    if (type === 'node') {
      this.nodeNames.add(id);
      return `${id}|host`;
    }
    if (type !== 'pod') return undefined;
    this.podKeys.add(id);
    const pod = podObject(this.a, id) ?? podObject(this.b, id);
    const spec = (pod?.spec ?? {}) as { nodeName?: string; hostNetwork?: boolean };
    if (!spec.nodeName) return undefined;
    this.nodeNames.add(spec.nodeName);
    return `${spec.nodeName}|${spec.hostNetwork ? 'host' : id}`;
  }

  nodes(): string[] {
    return [...new Set([...this.crossed.keys()].map((k) => k.split('|')[0]))].sort();
  }

  /** The objects a path involves: its pods, nodes, services and their slices, the namespaces and their policies. */
  objectKeys(a: Indexed, b: Indexed): string[] {
    const keys: string[] = [];
    const namespaces = new Set<string>();
    for (const p of this.podKeys) {
      const [ns, name] = p.split('/');
      keys.push(`Pod/${ns}/${name}`);
      namespaces.add(ns);
    }
    for (const n of this.nodeNames) keys.push(`Node//${n}`);
    for (const s of this.serviceKeys) {
      const [ns, name] = s.split('/');
      keys.push(`Service/${ns}/${name}`);
      namespaces.add(ns);
    }
    for (const idx of [a, b]) {
      for (const [k, { kind, o }] of idx) {
        const ns = o.metadata.namespace ?? '';
        if (kind === 'NetworkPolicy' && namespaces.has(ns)) keys.push(k);
        if ((kind === 'EndpointSlice' || kind === 'Endpoints') && this.serviceKeys.has(`${ns}/${kind === 'Endpoints' ? o.metadata.name : o.metadata.labels?.['kubernetes.io/service-name'] ?? ''}`)) keys.push(k);
        if (kind === 'Namespace' && namespaces.has(o.metadata.name)) keys.push(k);
      }
    }
    return keys;
  }

  position(d: Difference): number {
    // Objects first on a tie (the cause before the rules that follow it), by kind.
    if (d.type === 'object') return -kindOrder.length + Math.max(0, kindOrder.indexOf(d.kind));
    return this.crossed.get(`${d.node}|${d.netns}`) ?? this.crossed.size;
  }

  judgeStack(d: StackDifference): { rank: number; why: string } | undefined {
    const at = `${d.node}|${d.netns}`;
    if (!this.crossed.has(at)) return undefined;
    let best: { rank: number; why: string } = { rank: 1, why: `in ${where(d)}, which the packet crossed` };
    const better = (rank: number, why: string) => {
      if (rank > best.rank) best = { rank, why };
    };
    for (const { s, at: sat } of this.findings) {
      if (sat !== at) continue;
      const stopped = s.level >= SuspicionLevel.CRITICAL;
      if (s.evidence.some((e) => evidenceMatches(e, d))) better(stopped ? 5 : 2, `the evidence of ${s.check}${stopped ? ', which stopped the packet' : ''}`);
      else if (stopped && familyAreas.some(([re, areas]) => re.test(s.check) && areas.includes(d.area))) better(4, `the ${d.area} of ${where(d)}, where ${s.check} stopped the packet`);
    }
    if (best.rank >= 4 && d.area === 'interfaces' && adminDown(d)) best = { ...best, rank: best.rank + 0.5 };
    const u = this.used.get(at);
    if (u) {
      const text = d.after ?? d.before ?? '';
      if (d.area === 'routes' && [...u.routes].some((r) => text.endsWith(`: ${r}`))) better(2, 'the route the packet took');
      if ((d.area === 'interfaces' || d.area === 'addresses') && u.ifaces.has(d.key.split(' ')[0])) better(2, `interface ${d.key.split(' ')[0]}, which the packet used`);
      if ((d.area === 'iptables' || d.area === 'ip6tables') && [...u.chains].some((c) => d.key.includes(`/${c} `))) better(2, 'a NAT chain the packet went through');
    }
    return best;
  }

  judgeObject(d: ObjectDifference): { rank: number; why: string } | undefined {
    const name = `${d.kind.toLowerCase()} ${d.namespace ? `${d.namespace}/` : ''}${d.name}`;
    let best: { rank: number; why: string } = { rank: 3, why: 'an object of the path (its pods, nodes, service, namespaces and their policies)' };
    for (const { s } of this.findings) {
      const stopped = s.level >= SuspicionLevel.CRITICAL;
      const named = s.evidence.some((e) => (e.where ?? '').toLowerCase().includes(name)) || s.message.toLowerCase().includes(name);
      if (named && stopped && best.rank < 5) best = { rank: 5, why: `named by ${s.check}, which stopped the packet` };
      else if (stopped && best.rank < 4 && familyKinds.some(([re, kinds]) => re.test(s.check) && kinds.includes(d.kind))) {
        best = { rank: 4, why: `a ${d.kind}, the kind of object ${s.check} (which stopped the packet) is about` };
      }
    }
    return best;
  }
}

const kindOrder = ['NetworkPolicy', 'Service', 'Pod', 'Namespace', 'Node', 'EndpointSlice', 'Endpoints', 'ConfigMap', 'IPPool', 'DaemonSet'];

/** The interface was set down (its UP flag went), not merely left without carrier by something else. */
function adminDown(d: StackDifference): boolean {
  const up = (t: string | undefined) => /<([^>]*)>/.exec(t ?? '')?.[1].split(',').includes('UP') ?? false;
  return d.change === 'changed' && up(d.before) && !up(d.after);
}

function evidenceMatches(e: Evidence, d: StackDifference): boolean {
  const texts = [d.before, d.after].filter((t): t is string => t !== undefined);
  switch (d.area) {
    case 'iptables':
    case 'ip6tables':
      return e.kind === 'iptables' && (texts.includes(e.text) || (d.key.endsWith(' policy') && texts.some((t) => e.text.startsWith(t))));
    case 'routes':
      return e.kind === 'route' && texts.some((t) => t.endsWith(`: ${e.text}`));
    case 'rules':
      return e.kind === 'rule' && texts.some((t) => t.endsWith(` ${e.text}`));
    case 'sysctls':
      return e.kind === 'sysctl' && e.text.startsWith(`${d.key} =`);
    case 'interfaces':
      return e.kind === 'interface' && (e.text.startsWith(`${d.key}:`) || e.text.includes(`: ${d.key}:`) || e.text.includes(` ${d.key} `));
    case 'addresses':
      return e.kind === 'interface' && e.text.includes(`: ${d.key.split(' ')[0]}:`);
    case 'neighbours':
      return e.kind === 'neighbour' && e.text.startsWith(`${d.key.split(' ')[0]} `);
    case 'fdb':
      return e.kind === 'fdb' && e.text.includes(d.key.split(' ')[0]);
    case 'sockets':
      return e.kind === 'socket';
    case 'ipvs':
      return e.kind === 'ipvs' && texts.some((t) => t.includes(e.text) || e.text.includes(t));
    case 'ipsets':
      return e.kind === 'ipset' && texts.some((t) => t.includes(e.text) || e.text.includes(t));
    case 'nftables':
      return e.kind === 'nftables' && texts.some((t) => t.includes(e.text));
  }
}

/** The namespaces of one node's dump by label: `host`, a pod's key (mapped by IP), or `netns <inode>`. */
function namespacesOf(node: string, dump: NodeNetworkStackDump, here: readonly K8sObject[]): Map<string, NetNSInfo> {
  const out = new Map<string, NetNSInfo>([['host', dump.node]]);
  if (!dump.netns.length) return out;
  const label = new Map<number, string>();
  for (const p of mapPodsToNetns(here, { [node]: dump }).pods) if (!p.hostNetwork) label.set(p.netns, p.pod);
  for (const info of dump.netns) if (info.id !== dump.node.id) out.set(label.get(info.id) ?? `netns ${info.id}`, info);
  return out;
}

const podsByNode = new WeakMap<NetpathSnapshot, Map<string, K8sObject[]>>();

/** The snapshot's pods on a node (indexed once per snapshot). */
function podsOn(s: NetpathSnapshot, node: string): K8sObject[] {
  let m = podsByNode.get(s);
  if (!m) {
    m = new Map();
    for (const p of s.objects.pods) {
      const n = (p.spec as { nodeName?: unknown } | undefined)?.nodeName;
      if (typeof n !== 'string') continue;
      const list = m.get(n);
      if (list) list.push(p);
      else m.set(n, [p]);
    }
    podsByNode.set(s, m);
  }
  return m.get(node) ?? [];
}

function podObject(s: NetpathSnapshot, key: string): K8sObject | undefined {
  const [ns, name] = key.split('/');
  return s.objects.pods.find((p) => p.metadata.name === name && (p.metadata.namespace ?? 'default') === ns);
}

function where(d: StackDifference): string {
  return d.netns === 'host' ? `node ${d.node}` : `${d.netns} on ${d.node}`;
}

function same(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (x === undefined || y === undefined) return false;
  return JSON.stringify(x) === JSON.stringify(y);
}

function has(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

function labelOrder(a: string, b: string): number {
  return (a === 'host' ? 0 : 1) - (b === 'host' ? 0 : 1) || cmp(a, b);
}

function stackId(d: StackDifference): string {
  return JSON.stringify([d.node, d.netns, d.area, d.key]);
}

function objectId(d: ObjectDifference): string {
  return objectKey(d.kind, { apiVersion: '', kind: d.kind, metadata: { name: d.name, ...(d.namespace ? { namespace: d.namespace } : {}) } });
}

function sortKey(d: Difference): string {
  return d.type === 'object' ? `1 ${d.kind} ${d.namespace ?? ''} ${d.name}` : `0 ${d.node} ${d.netns} ${d.area} ${d.key}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
