// Network (seed): everything diagnoses of one cluster view share — the cluster cache, the
// per-node stacks (built lazily from the port's dumps), the plugin, the service processor and the
// provider. It holds no state of a diagnosis: each `diagnose` call makes its own DiagnosisRun
// (source, destination, conntrack, per-run plugin state), so the same request gives the same
// result however many other requests ran before it.
import type { NodeNetworkStackDump } from '../shared/dump';
import { BadInputError } from '../shared/errors';
import { createContext, type Context } from './context';
import { NetnsNode, ExternalNode } from './datapath/netns-node';
import { ConntrackTable } from './datapath/conntrack';
import { NodeStack } from './datapath/node-stack';
import type { Topology } from './datapath/topology';
import { Diagnostor, type CollectRequest, type DiagnostorOptions } from './diagnostor';
import { ClusterCache } from './k8s/cache';
import { otherFamily, resolvePair, type ResolvedEndpoint, type ResolvedPair } from './k8s/resolve';
import type { Endpoint } from './model/endpoint';
import { NetNode, type Hop } from './model/netnode';
import type { Packet } from './model/packet';
import type { DiagnosisRequest, DiagnosisResult, ResultNode, UnexaminedNode, Verdict } from './model/result';
import { SuspicionLevel, type Suspicion } from './model/suspicion';
import { canonicalIP, formatIP, parseIP } from './netstack/ip';
import type { NetNS, NetstackLimits } from './netstack/netns';
import { NetNodeManager, type ManagedNode } from './nodemanager';
import { snapshotPort, type ClusterPort } from './port';
import { mapPodsToNetns } from './snapshot/pod-netns';
import type { K8sObject, NetpathSnapshot } from './snapshot/types';
import { checkNetworkPolicies } from './policy/check';
import { findServiceHit } from './service/backends';
import { PolicySet } from './policy/evaluate';
import { detectPlugin, type PluginConfig } from './plugins/detect';
import { PluginChecks } from './plugins/checks';
import { ServiceProcessor } from './service/processor';
import { assertNode, assertPod } from './assertions/kubernetes';
import { assertNetns } from './assertions/netstack';
import { selectProvider, type Provider } from './infra/provider';
import type { InfraShim } from './infra/infrashim';

export interface NetworkOptions extends DiagnostorOptions {}

/** A diagnosis in progress: yields the nodes it needs collected, returns the result. */
export type DiagnosisSteps = Generator<CollectRequest, DiagnosisResult, void>;

export class Network {
  readonly cache: ClusterCache;
  readonly port: ClusterPort;
  readonly context: Context;
  private readonly stacks = new Map<string, NodeStack>();
  private readonly netnsLabels = new Map<string, Map<number, string>>();
  private readonly nodeOfAddress = new Map<string, string>();
  /** How many dumps `nodeOfAddress` covers: a live port adds dumps as it collects them. */
  private indexedDumps = -1;
  private pluginCfg?: PluginConfig;
  private service?: ServiceProcessor;
  private providerChoice?: { provider: Provider; notes: Suspicion[] };
  private policies?: PolicySet;

  /**
   * From a snapshot or any port; without a context, the source's own settings are the run's
   * settings. `limits` raise (or lower) what one dump may make the parsers build; they are the
   * caller's, never the source's (a hostile snapshot must not raise its own limits).
   */
  constructor(source: NetpathSnapshot | ClusterPort, context?: Context, private readonly limits: NetstackLimits = {}) {
    const isSnapshot = 'kind' in source;
    this.port = isSnapshot ? snapshotPort(source) : source;
    this.context = context ?? createContext({ origin: 'snapshot', values: source.settings ?? {} });
    this.cache = new ClusterCache(this.port.objects, this.port.index);
  }

  /** What the plugin and the proxy detection read: the objects with the run's settings. */
  private get view(): { objects: NetpathSnapshot['objects']; settings: NetpathSnapshot['settings'] } {
    return { objects: this.port.objects, settings: this.context.settings };
  }

  /** The node's namespaces, built once from its dump; undefined while it has none. */
  stack(node: string): NodeStack | undefined {
    let s = this.stacks.get(node);
    if (s) return s;
    const state = this.port.dumps.state(node);
    if (!('dump' in state)) return undefined;
    const labels = this.labelsOf(node, state.dump);
    s = new NodeStack(node, state.dump, (id) => labels.get(id), this.limits);
    this.stacks.set(node, s);
    return s;
  }

  /** Pod netns of one node, by inode → `namespace/name` (pods mapped by IP, see pod-netns.ts). */
  private labelsOf(node: string, dump: NodeNetworkStackDump): Map<number, string> {
    let m = this.netnsLabels.get(node);
    if (m) return m;
    m = new Map();
    for (const p of mapPodsToNetns(this.cache.podsOnNode(node).map((p) => p.object), { [node]: dump }).pods) if (!p.hostNetwork) m.set(p.netns, p.pod);
    this.netnsLabels.set(node, m);
    return m;
  }

  hopOfNetns(stack: NodeStack, ns: NetNS): Hop {
    if (ns === stack.host) return { type: 'node', id: stack.nodeName };
    const pod = this.netnsLabels.get(stack.nodeName)?.get(ns.info.id);
    return pod ? { type: 'pod', id: pod } : { type: 'generic', id: ns.label };
  }

  nodeWithIP(ip: string): string | undefined {
    const canon = canonical(ip);
    const n = this.cache.nodeByIP(canon);
    if (n) return n.name;
    // Node objects may not list every address (a second NIC): ask the dumps at hand.
    if (this.indexedDumps !== this.port.dumps.available().length) this.indexNodeAddresses();
    return this.nodeOfAddress.get(canon);
  }

  /**
   * Every dump's host addresses, read from the raw `ip -j addr` JSON: no interface parsing and no
   * NodeStack built (a miss must not cost a parse of 5,000 nodes' links). Same addresses as the
   * parsed interfaces give: not on `lo`, not scope host; on a clash the last node by name wins.
   */
  private indexNodeAddresses(): void {
    const names = this.port.dumps.available();
    this.nodeOfAddress.clear();
    for (const name of names) {
      const state = this.port.dumps.state(name);
      if (!('dump' in state)) continue;
      for (const link of state.dump.node.addresses ?? []) {
        const l = link as { ifname?: unknown; addr_info?: unknown };
        if (l.ifname === 'lo' || !Array.isArray(l.addr_info)) continue;
        for (const a of l.addr_info as { local?: unknown; scope?: unknown }[]) {
          if (!a || typeof a.local !== 'string' || a.scope === 'host') continue;
          const ip = parseIP(a.local);
          if (ip) this.nodeOfAddress.set(formatIP(ip), name);
        }
      }
    }
    this.indexedDumps = names.length;
  }

  expectedNodeFor(ip: string): string | undefined {
    const canon = canonical(ip);
    const pod = this.cache.podByIP(canon);
    if (pod?.nodeName) return pod.nodeName;
    return this.cache.nodeByIP(canon)?.name;
  }

  /** The CNI plugin and its configuration (detected from the objects, overridden by settings). */
  get pluginConfig(): PluginConfig {
    this.pluginCfg ??= detectPlugin(this.view);
    return this.pluginCfg;
  }

  serviceProcessor(): ServiceProcessor {
    this.service ??= new ServiceProcessor(this.view, this.cache);
    return this.service;
  }

  provider(): { provider: Provider; notes: Suspicion[] } {
    const cp = this.context.settings.cloudProvider;
    this.providerChoice ??= selectProvider(this.cache.nodeSummaries(), typeof cp === 'string' ? cp : undefined);
    return this.providerChoice;
  }

  policySet(): PolicySet {
    this.policies ??= new PolicySet(this.cache);
    return this.policies;
  }

  /** The cluster node whose dump a hop needs. */
  nodeOfHop(hop: Hop): string | undefined {
    if (hop.type === 'pod') return this.cache.pod(hop.id)?.nodeName || undefined;
    if (hop.type === 'node') return hop.id;
    return undefined;
  }

  /** Resolves the request (a bad one throws BadInputError before anything is collected). */
  resolve(request: DiagnosisRequest): ResolvedPair {
    // A bad request (unknown pod, malformed IP) is the resolver's EndpointError: bad input.
    const pair = resolvePair(this.cache, request.src, request.dst, request.port, request.family);
    if (pair.source.endpoint.type === 'service' || pair.source.endpoint.type === 'lb') {
      throw new BadInputError(`${request.src} is a service: a service never sends packets; use one of its pods as the source`, 'request');
    }
    return pair;
  }

  /** Addresses that serve the destination on its behalf: a service's endpoints, or a NodePort's. */
  serviceBackends(d: ResolvedEndpoint, protocol: string): Set<string> {
    const out = new Set<string>();
    let service = d.service;
    if (!service && d.endpoint.type === 'node') {
      const hit = findServiceHit(this.cache, d.endpoint.ip, d.endpoint.port, protocol);
      if (hit && 'hit' in hit) service = hit.hit.service;
    }
    if (!service) return out;
    for (const sl of this.cache.endpointSlicesOf(service)) for (const e of sl.endpoints) for (const a of e.addresses) out.add(canonical(a));
    return out;
  }

  /**
   * The diagnosis as steps: first the nodes the request certainly reaches (the source's, the
   * destination's or its backends') are asked for together, so a live cluster collects them in
   * parallel; then the Diagnostor asks for any further node the packet reaches.
   */
  *steps(request: DiagnosisRequest, opts: NetworkOptions = {}): DiagnosisSteps {
    const run = new DiagnosisRun(this, request, this.resolve(request));
    const first = run.certainNodes().filter((n) => 'collectable' in this.port.dumps.state(n));
    if (first.length) yield { collect: first };
    return yield* run.diagnose(opts);
  }

  /** The engine's entry point for a port whose dumps are all at hand (a snapshot). */
  diagnose(request: DiagnosisRequest, opts: NetworkOptions = {}): DiagnosisResult {
    const it = this.steps(request, opts);
    const r = it.next();
    if (!r.done) throw new Error(`this cluster view must collect ${r.value.collect.join(', ')} first: use diagnoseAsync`);
    return r.value;
  }

  /** The entry point for a port that collects (a live cluster): awaits each collection the path asks for. */
  async diagnoseAsync(request: DiagnosisRequest, opts: NetworkOptions = {}): Promise<DiagnosisResult> {
    const it = this.steps(request, opts);
    for (let r = it.next(); ; r = it.next()) {
      if (r.done) return r.value;
      if (!this.port.dumps.collect) throw new Error(`the cluster view cannot collect ${r.value.collect.join(', ')}`);
      await this.port.dumps.collect(r.value.collect);
    }
  }
}

/** One diagnosis: the per-request state the datapath reads through Topology. */
class DiagnosisRun implements Topology {
  readonly source: Endpoint;
  readonly destination: Endpoint;
  readonly conntrack = new ConntrackTable();
  readonly payloadSize?: number;
  readonly infra?: InfraShim;
  private readonly backendIPs: Set<string>;
  private readonly plugin: PluginChecks;
  private readonly notExamined = new Map<string, string>();

  constructor(private readonly net: Network, private readonly request: DiagnosisRequest, private readonly pair: ResolvedPair) {
    this.source = pair.source.endpoint;
    this.destination = pair.destination.endpoint;
    this.payloadSize = request.size;
    this.backendIPs = net.serviceBackends(pair.destination, request.protocol);
    this.infra = net.provider().provider.infraShim();
    this.plugin = new PluginChecks(net.pluginConfig, {
      cache: net.cache,
      stack: (node) => net.stack(node),
      destinationIsService: () => this.destination.type === 'service' || this.destination.type === 'lb' || (this.destination.type === 'node' && this.backendIPs.size > 0),
      isNodeAddress: (ip) => net.nodeWithIP(ip) !== undefined,
      isServiceAddress: (ip) => net.cache.servicesWithIP(canonical(ip)).length > 0,
    });
  }

  /** The nodes the request reaches for sure: the source's and the destination's (a service's backends'). */
  certainNodes(): string[] {
    const cache = this.net.cache;
    const out = new Set<string>();
    for (const side of [this.pair.source, this.pair.destination]) {
      if (side.pod?.nodeName) out.add(side.pod.nodeName);
      if (side.node) out.add(side.node.name);
    }
    for (const ip of this.backendIPs) {
      const p = cache.podByIP(ip);
      if (p?.nodeName) out.add(p.nodeName);
    }
    return [...out].filter((n) => cache.node(n) !== undefined).sort();
  }

  stack(node: string): NodeStack | undefined {
    return this.net.stack(node);
  }

  hopOfNetns(stack: NodeStack, ns: NetNS): Hop {
    return this.net.hopOfNetns(stack, ns);
  }

  nodeWithIP(ip: string): string | undefined {
    return this.net.nodeWithIP(ip);
  }

  expectedNodeFor(ip: string): string | undefined {
    return this.net.expectedNodeFor(ip);
  }

  isSource(hop: Hop): boolean {
    const s = this.source;
    return (s.type === 'pod' || s.type === 'node') ? hop.id === s.ref : hop.type === 'external' && hop.id === s.ip;
  }

  isDestination(hop: Hop, packet: Packet): boolean {
    const d = this.destination;
    switch (d.type) {
      case 'pod':
        return hop.type === 'pod' && hop.id === d.ref;
      case 'node':
        // A NodePort is served by the service's backends (kube-proxy DNAT) as well.
        return (hop.type === 'node' && hop.id === d.ref) || this.backendIPs.has(canonical(packet.dst));
      case 'service':
      case 'lb':
        return this.backendIPs.has(canonical(packet.dst)) || (hop.type === 'node' && this.net.cache.nodeByIP(canonical(packet.dst)) !== undefined);
      case 'external':
        return hop.type === 'external';
    }
  }

  pluginChecks(node: string, ns: NetNS, packet: Packet, oif: string, nexthop: string): Suspicion[] {
    return this.plugin.onExit(node, ns, packet, oif, nexthop);
  }

  receiveChecks(node: string, ns: NetNS, packet: Packet, iif: string): Suspicion[] {
    return this.plugin.onReceive(node, ns, packet, iif);
  }

  serviceChecks(node: string, ns: NetNS, packet: Packet): Suspicion[] {
    return this.net.serviceProcessor().checks(node, ns, packet);
  }

  private create(hop: Hop): ManagedNode {
    const cache = this.net.cache;
    if (hop.type === 'pod') {
      const pod = cache.pod(hop.id);
      const node = new NetNode('pod', hop.id, pod?.ips.join(', ') ?? '');
      if (!pod?.nodeName) return this.unexamined(node, undefined, `pod ${hop.id} is not scheduled on a node`);
      const stack = this.net.stack(pod.nodeName);
      if (!stack) return this.unexamined(node, pod.nodeName, `${this.missing(pod.nodeName)}, where pod ${hop.id} runs`);
      let ns: NetNS | undefined = pod.hostNetwork ? stack.host : undefined;
      if (!ns) for (const cand of stack.pods.values()) if (cand.label === hop.id) ns = cand;
      if (!ns) return this.unexamined(node, undefined, `the dump of node ${pod.nodeName} has no network namespace with the IP of pod ${hop.id} (${pod.ips.join(', ') || 'no IP'})`);
      for (const s of [...assertPod(pod), ...(pod.hostNetwork ? [] : assertNetns(ns))]) node.suspect(s);
      return { node, action: new NetnsNode(node, hop, stack, ns, this) };
    }
    if (hop.type === 'node') {
      const n = cache.node(hop.id);
      const node = new NetNode('node', hop.id, n?.addresses.map((a) => a.address).join(', ') ?? '');
      const stack = this.net.stack(hop.id);
      if (!stack) return this.unexamined(node, hop.id, this.missing(hop.id));
      for (const s of [...(n ? assertNode(n) : []), ...assertNetns(stack.host)]) node.suspect(s);
      return { node, action: new NetnsNode(node, hop, stack, stack.host, this) };
    }
    const node = new NetNode(hop.type === 'generic' ? 'generic' : 'external', hop.id, hop.id);
    return { node, action: new ExternalNode(node, this) };
  }

  private missing(node: string): string {
    const state = this.net.port.dumps.state(node);
    return 'missing' in state ? state.missing : `no network stack dump for node ${node}`;
  }

  /** A NetNode the engine could not look inside; its cluster node (if any) is named in the result. */
  private unexamined(node: NetNode, clusterNode: string | undefined, why: string): ManagedNode {
    node.examined = false;
    node.suspect({ level: SuspicionLevel.WARNING, check: 'dump.missing', message: `${why}: not examined`, evidence: [] });
    if (clusterNode !== undefined && !this.notExamined.has(clusterNode)) this.notExamined.set(clusterNode, why);
    return {
      node,
      action: {
        send: () => [],
        receive: (link) => {
          // Not a drop: nothing is known of what this node does with the packet.
          node.doAction({ type: 'unexamined', input: link.id, outputs: [] });
          return [];
        },
      },
    };
  }

  *diagnose(opts: NetworkOptions): DiagnosisSteps {
    const { request, pair, source } = this;
    const clusterSuspicions: Suspicion[] = [];
    for (const note of [...pair.source.notes, ...pair.destination.notes]) {
      clusterSuspicions.push({ level: SuspicionLevel.INFO, check: 'request.note', message: note, evidence: [] });
    }
    const o = otherFamily(this.net.cache, request.src, request.dst, request.port, pair);
    if (o) {
      const f = pair.family;
      clusterSuspicions.push({ level: SuspicionLevel.INFO, check: 'request.other-family', message: `diagnosed over IPv${f}; both ends have IPv${o} addresses too: ask for that path with family ${o} (--family ${o})`, evidence: [] });
    }
    const cfg = this.net.pluginConfig;
    clusterSuspicions.push({
      level: SuspicionLevel.INFO,
      check: 'plugin.detected',
      message: `network plugin ${cfg.plugin.value}${cfg.backend ? ` (${cfg.backend.value})` : ''}`,
      evidence: [
        { kind: 'object', text: `plugin ${cfg.plugin.value}`, where: cfg.plugin.source },
        ...(cfg.backend ? [{ kind: 'object' as const, text: `backend ${cfg.backend.value}`, where: cfg.backend.source }] : []),
        { kind: 'object', text: `cluster CIDRs ${cfg.clusterCIDRs.value.join(', ') || '(unknown)'}`, where: cfg.clusterCIDRs.source },
      ],
    });
    for (const note of cfg.notes) clusterSuspicions.push({ level: SuspicionLevel.INFO, check: 'plugin.note', message: note, evidence: [] });
    clusterSuspicions.push(...this.net.provider().notes);
    const policy = checkNetworkPolicies(this.net.policySet(), pair.source, pair.destination, request.protocol);
    clusterSuspicions.push(...policy.suspicions);
    for (const note of policy.notes) clusterSuspicions.push({ level: SuspicionLevel.INFO, check: 'policy.note', message: note, evidence: [] });

    const manager = new NetNodeManager((hop) => this.create(hop), this.net.port.dumps, (hop) => this.net.nodeOfHop(hop));
    const sourceHop: Hop =
      source.type === 'pod' ? { type: 'pod', id: source.ref! }
        : source.type === 'node' ? { type: 'node', id: source.ref! }
          : { type: 'external', id: source.ip };
    const graph = yield* new Diagnostor(manager, opts).diagnose(sourceHop, this.destination, request.protocol);

    const nodes: ResultNode[] = graph.nodes.map((n) => ({
      id: n.id,
      type: n.type,
      description: n.description,
      examined: n.examined,
      actions: n.actions,
      suspicions: n.suspicions,
    }));
    const unexamined: UnexaminedNode[] = [...this.notExamined].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([node, reason]) => ({ node, reason }));
    return {
      request,
      source,
      destination: this.destination,
      nodes,
      links: graph.links,
      clusterSuspicions,
      unexamined,
      verdict: verdictOf(nodes, clusterSuspicions),
    };
  }
}

/**
 * unreachable iff a FATAL or CRITICAL finding exists (a finding that holds only in some ways of
 * evaluating what netpath does not model is at most a WARNING, marked `undecided`); unknown when
 * such an element could decide the outcome (a finding marked `undecided`), when a node on the path
 * could not be examined, or when no branch reached the destination; else reachable — every
 * element on the path was understood.
 */
export function verdictOf(nodes: ResultNode[], cluster: Suspicion[]): Verdict {
  const all = [...cluster, ...nodes.flatMap((n) => n.suspicions)];
  if (all.some((s) => s.level >= SuspicionLevel.CRITICAL)) return 'unreachable';
  if (all.some((s) => s.undecided)) return 'unknown';
  if (nodes.some((n) => !n.examined)) return 'unknown';
  if (!nodes.some((n) => n.actions.some((a) => a.type === 'serve'))) return 'unknown';
  return 'reachable';
}

function canonical(ip: string): string {
  return canonicalIP(ip) ?? ip;
}
