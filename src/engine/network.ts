// Network (seed): everything one diagnosis needs, wired from a snapshot — the cluster cache,
// the per-node stacks (lazy), the NetNodeManager whose factory makes pods, nodes and externals,
// and the Diagnostor. `diagnose` is the engine's entry point: request in, DiagnosisResult out,
// pure and deterministic.
import type { NodeNetworkStackDump } from '../shared/dump';
import { NetnsNode, ExternalNode } from './datapath/netns-node';
import { ConntrackTable } from './datapath/conntrack';
import { NodeStack } from './datapath/node-stack';
import type { Topology } from './datapath/topology';
import { Diagnostor, type DiagnostorOptions } from './diagnostor';
import { ClusterCache } from './k8s/cache';
import { EndpointError, resolvePair, type ResolvedEndpoint } from './k8s/resolve';
import type { Endpoint } from './model/endpoint';
import { NetNode, type Hop } from './model/netnode';
import type { Packet } from './model/packet';
import type { DiagnosisRequest, DiagnosisResult, ResultNode, Verdict } from './model/result';
import { SuspicionLevel, type Suspicion } from './model/suspicion';
import { formatIP, parseIP } from './netstack/ip';
import type { NetNS } from './netstack/netns';
import { NetNodeManager, type ManagedNode } from './nodemanager';
import { mapPodsToNetns } from './snapshot/pod-netns';
import type { NetpathSnapshot } from './snapshot/types';
import { checkNetworkPolicies } from './policy/check';
import { findServiceHit } from './service/backends';
import { PolicySet } from './policy/evaluate';
import { detectPlugin, type PluginConfig } from './plugins/detect';
import { PluginChecks } from './plugins/checks';
import { ServiceProcessor } from './service/processor';
import { assertNode, assertPod } from './assertions/kubernetes';
import { assertNetns } from './assertions/netstack';
import { selectProvider } from './infra/provider';
import type { InfraShim } from './infra/infrashim';

/** Bad request (unknown pod, malformed IP, a service as source): the CLI's exit code 2. */
export class RequestError extends Error {
  override name = 'RequestError';
}

export interface NetworkOptions extends DiagnostorOptions {}

export class Network implements Topology {
  readonly cache: ClusterCache;
  private readonly stacks = new Map<string, NodeStack | undefined>();
  private readonly netnsLabel = new Map<string, string>();
  private readonly nodeOfAddress = new Map<string, string>();
  destination!: Endpoint;
  private source?: Endpoint;
  /** Per run: where this run's request was NATed (reset by each diagnose). */
  conntrack = new ConntrackTable();
  payloadSize?: number;
  /** The cloud provider's checks of its own network (none for the generic provider). */
  infra?: InfraShim;
  private destinationInfo?: ResolvedEndpoint;
  private backendIPs = new Set<string>();
  private pluginImpl?: PluginChecks;
  private serviceImpl?: ServiceProcessor;

  constructor(readonly snapshot: NetpathSnapshot) {
    this.cache = new ClusterCache(snapshot.objects);
    const mapping = mapPodsToNetns(snapshot.objects.pods, snapshot.dumps);
    for (const p of mapping.pods) if (!p.hostNetwork) this.netnsLabel.set(`${p.node}|${p.netns}`, p.pod);
  }

  private dumpOf(node: string): NodeNetworkStackDump | undefined {
    return Object.prototype.hasOwnProperty.call(this.snapshot.dumps, node) ? this.snapshot.dumps[node] : undefined;
  }

  stack(node: string): NodeStack | undefined {
    if (!this.stacks.has(node)) {
      const dump = this.dumpOf(node);
      this.stacks.set(node, dump ? new NodeStack(node, dump, (id) => this.netnsLabel.get(`${node}|${id}`)) : undefined);
    }
    return this.stacks.get(node);
  }

  hopOfNetns(stack: NodeStack, ns: NetNS): Hop {
    if (ns === stack.host) return { type: 'node', id: stack.nodeName };
    const pod = this.netnsLabel.get(`${stack.nodeName}|${ns.info.id}`);
    return pod ? { type: 'pod', id: pod } : { type: 'generic', id: ns.label };
  }

  nodeWithIP(ip: string): string | undefined {
    const canon = canonical(ip);
    const n = this.cache.nodeByIP(canon);
    if (n) return n.name;
    // Node objects may not list every address (a second NIC): ask the dumps.
    if (!this.nodeOfAddress.size) this.indexNodeAddresses();
    return this.nodeOfAddress.get(canon);
  }

  /**
   * Every dump's host addresses, read from the raw `ip -j addr` JSON: no interface parsing and no
   * NodeStack built (a miss must not cost a parse of 5,000 nodes' links). Same addresses as the
   * parsed interfaces give: not on `lo`, not scope host; on a clash the last node by name wins.
   */
  private indexNodeAddresses(): void {
    for (const name of Object.keys(this.snapshot.dumps).sort()) {
      for (const link of this.snapshot.dumps[name].node.addresses ?? []) {
        const l = link as { ifname?: unknown; addr_info?: unknown };
        if (l.ifname === 'lo' || !Array.isArray(l.addr_info)) continue;
        for (const a of l.addr_info as { local?: unknown; scope?: unknown }[]) {
          if (!a || typeof a.local !== 'string' || a.scope === 'host') continue;
          const ip = parseIP(a.local);
          if (ip) this.nodeOfAddress.set(formatIP(ip), name);
        }
      }
    }
  }

  expectedNodeFor(ip: string): string | undefined {
    const canon = canonical(ip);
    const pod = this.cache.podByIP(canon);
    if (pod?.nodeName) return pod.nodeName;
    return this.cache.nodeByIP(canon)?.name;
  }

  isSource(hop: Hop): boolean {
    const s = this.source;
    if (!s) return false;
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
        return this.backendIPs.has(canonical(packet.dst)) || (hop.type === 'node' && this.cache.nodeByIP(canonical(packet.dst)) !== undefined);
      case 'external':
        return hop.type === 'external';
    }
  }

  /** The CNI plugin and its configuration (detected from the objects, overridden by settings). */
  get pluginConfig(): PluginConfig {
    return this.plugin.cfg;
  }

  private get plugin(): PluginChecks {
    this.pluginImpl ??= new PluginChecks(detectPlugin(this.snapshot), {
      cache: this.cache,
      stack: (node) => this.stack(node),
      destinationIsService: () => this.destination?.type === 'service' || this.destination?.type === 'lb' || (this.destination?.type === 'node' && this.backendIPs.size > 0),
      isNodeAddress: (ip) => this.nodeWithIP(ip) !== undefined,
      isServiceAddress: (ip) => this.cache.servicesWithIP(canonical(ip)).length > 0,
    });
    return this.pluginImpl;
  }

  pluginChecks(node: string, ns: NetNS, packet: Packet, oif: string, nexthop: string): Suspicion[] {
    return this.plugin.onExit(node, ns, packet, oif, nexthop);
  }

  receiveChecks(node: string, ns: NetNS, packet: Packet, iif: string): Suspicion[] {
    return this.plugin.onReceive(node, ns, packet, iif);
  }

  serviceChecks(node: string, ns: NetNS, packet: Packet): Suspicion[] {
    this.serviceImpl ??= new ServiceProcessor(this.snapshot, this.cache);
    return this.serviceImpl.checks(node, ns, packet);
  }

  private create(hop: Hop): ManagedNode {
    if (hop.type === 'pod') {
      const pod = this.cache.pod(hop.id);
      const node = new NetNode('pod', hop.id, pod?.ips.join(', ') ?? '');
      if (!pod?.nodeName) return unexamined(node, `pod ${hop.id} is not scheduled on a node`);
      const stack = this.stack(pod.nodeName);
      if (!stack) return unexamined(node, `no network stack dump for node ${pod.nodeName}, where pod ${hop.id} runs`);
      let ns: NetNS | undefined = pod.hostNetwork ? stack.host : undefined;
      if (!ns) for (const cand of stack.pods.values()) if (cand.label === hop.id) ns = cand;
      if (!ns) return unexamined(node, `the dump of node ${pod.nodeName} has no network namespace with the IP of pod ${hop.id} (${pod.ips.join(', ') || 'no IP'})`);
      for (const s of [...assertPod(pod), ...(pod.hostNetwork ? [] : assertNetns(ns))]) node.suspect(s);
      return { node, action: new NetnsNode(node, hop, stack, ns, this) };
    }
    if (hop.type === 'node') {
      const n = this.cache.node(hop.id);
      const node = new NetNode('node', hop.id, n?.addresses.map((a) => a.address).join(', ') ?? '');
      const stack = this.stack(hop.id);
      if (!stack) return unexamined(node, `no network stack dump for node ${hop.id}`);
      for (const s of [...(n ? assertNode(n) : []), ...assertNetns(stack.host)]) node.suspect(s);
      return { node, action: new NetnsNode(node, hop, stack, stack.host, this) };
    }
    const node = new NetNode(hop.type === 'generic' ? 'generic' : 'external', hop.id, hop.id);
    return { node, action: new ExternalNode(node, this) };
  }

  diagnose(request: DiagnosisRequest, opts: NetworkOptions = {}): DiagnosisResult {
    let pair;
    try {
      pair = resolvePair(this.cache, request.src, request.dst, request.port);
    } catch (e) {
      if (e instanceof EndpointError) throw new RequestError(e.message);
      throw e;
    }
    const source = pair.source.endpoint;
    this.source = source;
    this.conntrack = new ConntrackTable();
    this.payloadSize = request.size;
    this.destination = pair.destination.endpoint;
    this.destinationInfo = pair.destination;
    this.backendIPs = this.serviceBackends(pair.destination, request.protocol);
    if (source.type === 'service' || source.type === 'lb') {
      throw new RequestError(`${request.src} is a service: a service never sends packets; use one of its pods as the source`);
    }
    const clusterSuspicions: Suspicion[] = [];
    for (const note of [...pair.source.notes, ...pair.destination.notes]) {
      clusterSuspicions.push({ level: SuspicionLevel.INFO, check: 'request.note', message: note, evidence: [] });
    }
    const cfg = this.pluginConfig;
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
    const { provider, notes: providerNotes } = selectProvider(this.cache.nodes, typeof this.snapshot.settings.cloudProvider === 'string' ? this.snapshot.settings.cloudProvider : undefined);
    this.infra = provider.infraShim();
    clusterSuspicions.push(...providerNotes);
    const policy = checkNetworkPolicies(new PolicySet(this.cache), pair.source, pair.destination, request.protocol);
    clusterSuspicions.push(...policy.suspicions);
    for (const note of policy.notes) clusterSuspicions.push({ level: SuspicionLevel.INFO, check: 'policy.note', message: note, evidence: [] });

    const manager = new NetNodeManager((hop) => this.create(hop));
    const sourceHop: Hop =
      source.type === 'pod' ? { type: 'pod', id: source.ref! }
        : source.type === 'node' ? { type: 'node', id: source.ref! }
          : { type: 'external', id: source.ip };
    const graph = new Diagnostor(manager, opts).diagnose(sourceHop, this.destination, request.protocol);

    const nodes: ResultNode[] = graph.nodes.map((n) => ({
      id: n.id,
      type: n.type,
      description: n.description,
      examined: n.examined,
      actions: n.actions,
      suspicions: n.suspicions,
    }));
    return {
      request,
      source,
      destination: this.destination,
      nodes,
      links: graph.links,
      clusterSuspicions,
      verdict: verdictOf(nodes, clusterSuspicions),
    };
  }

  /** Addresses that serve the destination on its behalf: a service's endpoints, or a NodePort's. */
  private serviceBackends(d: ResolvedEndpoint, protocol: string): Set<string> {
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
}

function unexamined(node: NetNode, why: string): ManagedNode {
  node.examined = false;
  node.suspect({ level: SuspicionLevel.WARNING, check: 'dump.missing', message: `${why}: not examined`, evidence: [] });
  return {
    node,
    action: {
      send: () => [],
      receive: (link) => {
        node.doAction({ type: 'drop', input: link.id, outputs: [] });
        return [];
      },
    },
  };
}

/**
 * unreachable iff a FATAL or CRITICAL finding exists; unknown when a node on the path could not
 * be examined or no branch reached the destination; else reachable.
 */
export function verdictOf(nodes: ResultNode[], cluster: Suspicion[]): Verdict {
  const all = [...cluster, ...nodes.flatMap((n) => n.suspicions)];
  if (all.some((s) => s.level >= SuspicionLevel.CRITICAL)) return 'unreachable';
  if (nodes.some((n) => !n.examined)) return 'unknown';
  if (!nodes.some((n) => n.actions.some((a) => a.type === 'serve'))) return 'unknown';
  return 'reachable';
}

function canonical(ip: string): string {
  const p = parseIP(ip);
  return p ? formatIP(p) : ip;
}

/** The engine's entry point. */
export function diagnose(snapshot: NetpathSnapshot, request: DiagnosisRequest, opts: NetworkOptions = {}): DiagnosisResult {
  return new Network(snapshot).diagnose(request, opts);
}
