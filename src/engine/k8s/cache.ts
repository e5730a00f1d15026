// The cluster cache: the snapshot's Kubernetes objects read once into typed views and indexed by
// IP, by `namespace/name`, by node and by labels, so that every lookup a diagnosis makes is a map
// access (the cache must stay fast at 150k pods / 10k services). Unlike the original IP cache,
// a duplicate IP is never "first wins, logged": the choice is deterministic and recorded in
// `notes`, and non-running pods keep their (possibly reused) IPs out of the running index.
import type { SnapshotObjects } from '../snapshot/types';
import {
  readEndpointSlice, readNamespace, readNode, readPod, readService, unknownNamespace,
  type ClusterEndpointSlice, type ClusterNamespace, type ClusterNode, type ClusterPod, type ClusterService,
  type L4Protocol, type ServicePort,
} from './objects';
import { canonicalIP } from '../netstack/ip';
import { LabelIndex, type Selector } from './selector';
import type { K8sObject } from '../snapshot/types';

/** How a service owns an address. */
export type ServiceAddressKind = 'clusterIP' | 'externalIP' | 'loadBalancer';

export interface ServiceAddress {
  service: ClusterService;
  kind: ServiceAddressKind;
}

export interface NodePortOwner {
  service: ClusterService;
  port: ServicePort;
}

const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/**
 * A map whose values are mostly single: one pod per IP is the rule, so the list is made only for
 * the second holder (150k one-element arrays were a good part of the cache's build time and GC).
 */
type MultiMap<V> = Map<string, V | V[]>;

function add<V extends object>(m: MultiMap<V>, k: string, v: V): void {
  const cur = m.get(k);
  if (cur === undefined) m.set(k, v);
  else if (Array.isArray(cur)) cur.push(v);
  else m.set(k, [cur, v]);
}

function firstOf<V extends object>(m: MultiMap<V>, k: string): V | undefined {
  const cur = m.get(k);
  return Array.isArray(cur) ? cur[0] : cur;
}

function allOf<V extends object>(m: MultiMap<V>, k: string): readonly V[] {
  const cur = m.get(k);
  return cur === undefined ? [] : Array.isArray(cur) ? cur : [cur];
}

/** Running and not being replaced: the pods whose IPs are live on the network. */
export function isRunning(p: ClusterPod): boolean {
  return p.phase === 'Running';
}

export class ClusterCache {
  readonly pods: readonly ClusterPod[];
  readonly nodes: readonly ClusterNode[];
  readonly services: readonly ClusterService[];
  readonly endpointSlices: readonly ClusterEndpointSlice[];
  /** As served; the policy module compiles them. */
  readonly networkPolicies: readonly K8sObject[];
  readonly namespaces: readonly ClusterNamespace[];
  /** What the cache had to decide while indexing (duplicate IPs …), sorted. */
  readonly notes: string[] = [];

  private readonly podByKey = new Map<string, ClusterPod>();
  /** Running, non-hostNetwork pods by IP; the chosen one first. */
  private readonly runningPodsByIP: MultiMap<ClusterPod> = new Map();
  /** Every pod that lists the IP, whatever its phase (for explanations). */
  private readonly anyPodsByIP: MultiMap<ClusterPod> = new Map();
  private readonly podsByNode = new Map<string, ClusterPod[]>();
  /** Label indexes are built per namespace on its first selection (most namespaces are never selected in a diagnosis). */
  private readonly podLabels = new Map<string, LabelIndex<ClusterPod>>();
  private readonly podsByNamespace = new Map<string, ClusterPod[]>();
  private readonly nodeByName = new Map<string, ClusterNode>();
  private readonly nodesByIP = new Map<string, ClusterNode[]>();
  private readonly serviceByKey = new Map<string, ClusterService>();
  private readonly servicesByIP = new Map<string, ServiceAddress[]>();
  private readonly nodePorts = new Map<string, NodePortOwner[]>();
  private readonly slicesByService = new Map<string, ClusterEndpointSlice[]>();
  private readonly namespaceByName = new Map<string, ClusterNamespace>();
  private readonly namespaceIndex = new LabelIndex<ClusterNamespace>();
  private readonly policiesByNamespace = new Map<string, K8sObject[]>();

  constructor(objects: SnapshotObjects) {
    this.pods = objects.pods.map(readPod).sort(byKey);
    this.nodes = objects.nodes.map(readNode).sort(byName);
    this.services = objects.services.map(readService).sort(byKey);
    this.endpointSlices = objects.endpointSlices.map(readEndpointSlice).sort(byKey);
    this.networkPolicies = [...objects.networkPolicies].sort((a, b) => byKey({ key: `${a.metadata.namespace}/${a.metadata.name}` }, { key: `${b.metadata.namespace}/${b.metadata.name}` }));

    const nsNames = new Set<string>();
    for (const o of objects.namespaces) {
      const ns = readNamespace(o);
      this.namespaceByName.set(ns.name, ns);
    }
    for (const p of this.pods) nsNames.add(p.namespace);
    for (const s of this.services) nsNames.add(s.namespace);
    for (const o of this.networkPolicies) nsNames.add(o.metadata.namespace ?? '');
    for (const n of [...nsNames].sort()) if (n && !this.namespaceByName.has(n)) this.namespaceByName.set(n, unknownNamespace(n));
    this.namespaces = [...this.namespaceByName.values()].sort(byName);
    for (const ns of this.namespaces) this.namespaceIndex.add(ns, ns.labels);

    for (const p of this.pods) {
      this.podByKey.set(p.key, p);
      if (p.nodeName) push(this.podsByNode, p.nodeName, p);
      push(this.podsByNamespace, p.namespace, p);
      for (const ip of p.ips) {
        add(this.anyPodsByIP, ip, p);
        if (isRunning(p) && !p.hostNetwork) add(this.runningPodsByIP, ip, p);
      }
    }
    for (const [ip, list] of this.runningPodsByIP) {
      if (!Array.isArray(list)) continue;
      // Prefer a pod that is not being deleted (its replacement may already hold the IP), then
      // the sorted key: deterministic whatever order the API listed them in.
      list.sort((a, b) => Number(a.terminating) - Number(b.terminating) || byKey(a, b));
      this.notes.push(`IP ${ip} is held by several running pods (${list.map((p) => p.key).join(', ')}); it is taken as ${list[0].key}`);
    }

    for (const n of this.nodes) {
      this.nodeByName.set(n.name, n);
      for (const a of new Set(n.addresses.map((x) => x.address))) push(this.nodesByIP, a, n);
    }
    for (const [ip, list] of this.nodesByIP) {
      if (list.length > 1) this.notes.push(`IP ${ip} is an address of several nodes (${list.map((n) => n.name).join(', ')}); it is taken as ${list[0].name}`);
    }

    for (const s of this.services) {
      this.serviceByKey.set(s.key, s);
      for (const ip of s.clusterIPs) push(this.servicesByIP, ip, { service: s, kind: 'clusterIP' });
      for (const ip of s.externalIPs) push(this.servicesByIP, ip, { service: s, kind: 'externalIP' });
      for (const ip of s.loadBalancerIPs) push(this.servicesByIP, ip, { service: s, kind: 'loadBalancer' });
      if (s.type === 'NodePort' || s.type === 'LoadBalancer') {
        for (const port of s.ports) if (port.nodePort) push(this.nodePorts, `${port.nodePort}/${port.protocol}`, { service: s, port });
      }
    }
    for (const sl of this.endpointSlices) if (sl.serviceName) push(this.slicesByService, `${sl.namespace}/${sl.serviceName}`, sl);
    for (const o of this.networkPolicies) push(this.policiesByNamespace, o.metadata.namespace ?? '', o);
    this.notes.sort();
  }

  // ---- pods ----

  pod(key: string): ClusterPod | undefined {
    return this.podByKey.get(key);
  }

  /** The running, non-hostNetwork pod that owns the IP (hostNetwork pods are their node). */
  podByIP(ip: string): ClusterPod | undefined {
    const c = canonicalIP(ip);
    return c ? firstOf(this.runningPodsByIP, c) : undefined;
  }

  /** All running, non-hostNetwork pods claiming the IP; more than one means a stale status. */
  runningPodsWithIP(ip: string): readonly ClusterPod[] {
    const c = canonicalIP(ip);
    return c ? allOf(this.runningPodsByIP, c) : [];
  }

  /** Every pod whose status lists the IP, in any phase. */
  podsWithIP(ip: string): readonly ClusterPod[] {
    const c = canonicalIP(ip);
    return c ? allOf(this.anyPodsByIP, c) : [];
  }

  podsOnNode(node: string): readonly ClusterPod[] {
    return this.podsByNode.get(node) ?? [];
  }

  /** Pods of one namespace selected by the selector (all phases; callers filter). */
  selectPods(namespace: string, selector: Selector): ClusterPod[] {
    let idx = this.podLabels.get(namespace);
    if (!idx) {
      const pods = this.podsByNamespace.get(namespace);
      if (!pods) return [];
      idx = new LabelIndex();
      for (const p of pods) idx.add(p, p.labels);
      this.podLabels.set(namespace, idx);
    }
    return idx.select(selector);
  }

  // ---- nodes ----

  node(name: string): ClusterNode | undefined {
    return this.nodeByName.get(name);
  }

  nodeByIP(ip: string): ClusterNode | undefined {
    const c = canonicalIP(ip);
    return c ? this.nodesByIP.get(c)?.[0] : undefined;
  }

  // ---- services ----

  service(key: string): ClusterService | undefined {
    return this.serviceByKey.get(key);
  }

  /** Services that own the IP, sorted by service key (several may share an externalIP on different ports). */
  servicesWithIP(ip: string): readonly ServiceAddress[] {
    const c = canonicalIP(ip);
    return (c && this.servicesByIP.get(c)) || [];
  }

  servicesWithNodePort(nodePort: number, protocol: L4Protocol): readonly NodePortOwner[] {
    return this.nodePorts.get(`${nodePort}/${protocol}`) ?? [];
  }

  /** EndpointSlices labelled for the service (sorted by slice key). */
  endpointSlicesOf(service: ClusterService): readonly ClusterEndpointSlice[] {
    return this.slicesByService.get(service.key) ?? [];
  }

  // ---- namespaces and policies ----

  /** The namespace, synthesized from its name when the snapshot has no object for it. */
  namespace(name: string): ClusterNamespace {
    return this.namespaceByName.get(name) ?? unknownNamespace(name);
  }

  selectNamespaces(selector: Selector): ClusterNamespace[] {
    return this.namespaceIndex.select(selector);
  }

  networkPoliciesIn(namespace: string): readonly K8sObject[] {
    return this.policiesByNamespace.get(namespace) ?? [];
  }
}
