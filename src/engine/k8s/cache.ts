// The cluster cache: the Kubernetes objects read into typed views and indexed by IP, by
// `namespace/name`, by node and by labels, so that every lookup a diagnosis makes is a map access.
// Every index is built on its first use, and pods and EndpointSlices come through an ObjectIndex
// (port.ts): a v2 snapshot hands out only the pods a diagnosis asks about, and an in-memory list is
// indexed by one pass over raw fields, without reading the 150k pods it is not asked about. Unlike
// the original IP cache, a duplicate IP is never "first wins, logged": the choice is deterministic
// and recorded in `notes`, and non-running pods keep their (possibly reused) IPs out of the running
// index.
import type { NodeSummary, ObjectIndex } from '../port';
import { podIPs } from '../snapshot/pod-netns';
import type { K8sObject, SnapshotObjects } from '../snapshot/types';
import {
  readEndpointSlice, readNamespace, readNode, readPod, readService, serviceNameLabel, unknownNamespace,
  type ClusterEndpointSlice, type ClusterNamespace, type ClusterNode, type ClusterPod, type ClusterService,
  type L4Protocol, type ServicePort,
} from './objects';
import { canonicalIP } from '../netstack/ip';
import { LabelIndex, type Selector } from './selector';

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
const byNameOf = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const rawKey = (o: K8sObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** Running and not being replaced: the pods whose IPs are live on the network. */
export function isRunning(p: ClusterPod): boolean {
  return p.phase === 'Running';
}

/** Running holders first, not-terminating before terminating, then by key: the IP's owner is [0]. */
function byOwnership(a: ClusterPod, b: ClusterPod): number {
  return Number(a.terminating) - Number(b.terminating) || byKey(a, b);
}

/** The ObjectIndex of object lists held in memory: each map made by one pass over raw fields, on first use. */
export function listIndex(objects: SnapshotObjects): ObjectIndex {
  let byKeyMap: Map<string, K8sObject> | undefined;
  let byIP: Map<string, K8sObject[]> | undefined;
  let byNode: Map<string, K8sObject[]> | undefined;
  let byNamespace: Map<string, K8sObject[]> | undefined;
  let slices: Map<string, K8sObject[]> | undefined;
  return {
    pod(key) {
      if (!byKeyMap) {
        byKeyMap = new Map();
        for (const p of objects.pods) byKeyMap.set(rawKey(p), p);
      }
      return byKeyMap.get(key);
    },
    podsWithIP(ip) {
      if (!byIP) {
        byIP = new Map();
        for (const p of objects.pods) for (const a of podIPs(p)) push(byIP, a, p);
      }
      return byIP.get(ip) ?? [];
    },
    podsOnNode(node) {
      if (!byNode) {
        byNode = new Map();
        for (const p of objects.pods) {
          const n = (p.spec as { nodeName?: unknown } | undefined)?.nodeName;
          if (typeof n === 'string' && n) push(byNode, n, p);
        }
      }
      return byNode.get(node) ?? [];
    },
    podsInNamespace(namespace) {
      byNamespace ??= namespaces(objects.pods);
      return byNamespace.get(namespace) ?? [];
    },
    podNamespaces() {
      byNamespace ??= namespaces(objects.pods);
      return [...byNamespace.keys()];
    },
    endpointSlicesOf(namespace, service) {
      if (!slices) {
        slices = new Map();
        for (const s of objects.endpointSlices) {
          const svc = s.metadata.labels?.[serviceNameLabel];
          if (typeof svc === 'string' && svc) push(slices, `${s.metadata.namespace ?? ''}/${svc}`, s);
        }
      }
      return slices.get(`${namespace}/${service}`) ?? [];
    },
  };
}

function namespaces(pods: readonly K8sObject[]): Map<string, K8sObject[]> {
  const m = new Map<string, K8sObject[]>();
  for (const p of pods) push(m, p.metadata.namespace ?? '', p);
  return m;
}

export class ClusterCache {
  private readonly index: ObjectIndex;
  /** Typed views by raw object: a pod is read once and is the same ClusterPod on every lookup. */
  private readonly podViews = new Map<K8sObject, ClusterPod>();
  private readonly podLists = new Map<string, readonly ClusterPod[]>();
  /** Answers of `pod(key)`, misses included (a diagnosis asks about the same few pods many times). */
  private readonly podByKey = new Map<string, ClusterPod | undefined>();
  /** Label indexes are built per namespace on its first selection (most namespaces are never selected in a diagnosis). */
  private readonly podLabels = new Map<string, LabelIndex<ClusterPod>>();
  private allPods?: readonly ClusterPod[];
  private nodeList?: readonly ClusterNode[];
  private nodeByName?: Map<string, ClusterNode>;
  private nodesByIP?: Map<string, ClusterNode[]>;
  private serviceList?: readonly ClusterService[];
  private serviceByKey?: Map<string, ClusterService>;
  private servicesByIP?: Map<string, ServiceAddress[]>;
  private nodePorts?: Map<string, NodePortOwner[]>;
  /** Typed views of services and nodes read one by one (an index that has them), by raw object. */
  private readonly views = new Map<K8sObject, ClusterService | ClusterNode>();
  /** Answers of lookups through the index's services and nodes, by lookup. */
  private readonly looked = new Map<string, unknown>();
  private summaries?: readonly NodeSummary[];
  private namespaceObjects?: Map<string, ClusterNamespace>;
  private readonly slicesByService = new Map<string, readonly ClusterEndpointSlice[]>();
  private sliceList?: readonly ClusterEndpointSlice[];
  private policyList?: readonly K8sObject[];
  private policiesByNamespace?: Map<string, K8sObject[]>;
  private namespaceByName?: Map<string, ClusterNamespace>;
  private namespaceList?: readonly ClusterNamespace[];
  private namespaceIndex?: LabelIndex<ClusterNamespace>;
  private noteList?: string[];

  constructor(private readonly objects: SnapshotObjects, index?: ObjectIndex) {
    this.index = index ?? listIndex(objects);
  }

  /** Every pod, sorted by key (reads them all: for listings, not for a diagnosis). */
  get pods(): readonly ClusterPod[] {
    this.allPods ??= this.objects.pods.map((o) => this.podView(o)).sort(byKey);
    return this.allPods;
  }

  get nodes(): readonly ClusterNode[] {
    this.nodeList ??= this.objects.nodes.map(readNode).sort(byNameOf);
    return this.nodeList;
  }

  get services(): readonly ClusterService[] {
    this.serviceList ??= this.objects.services.map(readService).sort(byKey);
    return this.serviceList;
  }

  get endpointSlices(): readonly ClusterEndpointSlice[] {
    this.sliceList ??= this.objects.endpointSlices.map(readEndpointSlice).sort(byKey);
    return this.sliceList;
  }

  /** As served, sorted by key; the policy module compiles them. */
  get networkPolicies(): readonly K8sObject[] {
    this.policyList ??= [...this.objects.networkPolicies].sort((a, b) => byKey({ key: rawKey(a) }, { key: rawKey(b) }));
    return this.policyList;
  }

  /** Namespace objects, and a synthesized one for each name a pod, service or policy uses without one. */
  get namespaces(): readonly ClusterNamespace[] {
    if (!this.namespaceList) {
      const byName = new Map<string, ClusterNamespace>();
      for (const o of this.objects.namespaces) {
        const ns = readNamespace(o);
        byName.set(ns.name, ns);
      }
      const names = new Set<string>(this.index.podNamespaces());
      for (const n of this.index.services?.namespaces() ?? this.services.map((s) => s.namespace)) names.add(n);
      for (const o of this.networkPolicies) names.add(o.metadata.namespace ?? '');
      for (const n of [...names].sort()) if (n && !byName.has(n)) byName.set(n, unknownNamespace(n));
      this.namespaceByName = byName;
      this.namespaceList = [...byName.values()].sort(byNameOf);
    }
    return this.namespaceList;
  }

  /** What the cache had to decide about the whole cluster (duplicate IPs …), sorted. Reads every pod. */
  get notes(): string[] {
    if (!this.noteList) {
      const notes: string[] = [];
      const running = new Map<string, ClusterPod[]>();
      for (const p of this.pods) if (isRunning(p) && !p.hostNetwork) for (const ip of p.ips) push(running, ip, p);
      for (const [ip, list] of running) {
        if (list.length < 2) continue;
        list.sort(byOwnership);
        notes.push(`IP ${ip} is held by several running pods (${list.map((p) => p.key).join(', ')}); it is taken as ${list[0].key}`);
      }
      for (const [ip, list] of this.nodeIPs()) {
        if (list.length > 1) notes.push(`IP ${ip} is an address of several nodes (${list.map((n) => n.name).join(', ')}); it is taken as ${list[0].name}`);
      }
      this.noteList = notes.sort();
    }
    return this.noteList;
  }

  // ---- pods ----

  private podView(o: K8sObject): ClusterPod {
    let p = this.podViews.get(o);
    if (!p) this.podViews.set(o, (p = readPod(o)));
    return p;
  }

  /** Typed pods of one index answer, sorted by key; memoized so that every caller gets the same list. */
  private podList(kind: string, arg: string, raw: () => readonly K8sObject[]): readonly ClusterPod[] {
    const k = `${kind}\0${arg}`;
    let list = this.podLists.get(k);
    if (!list) this.podLists.set(k, (list = raw().map((o) => this.podView(o)).sort(byKey)));
    return list;
  }

  pod(key: string): ClusterPod | undefined {
    if (this.podByKey.has(key)) return this.podByKey.get(key);
    const o = this.index.pod(key);
    const p = o ? this.podView(o) : undefined;
    this.podByKey.set(key, p);
    return p;
  }

  /** The running, non-hostNetwork pod that owns the IP (hostNetwork pods are their node). */
  podByIP(ip: string): ClusterPod | undefined {
    return this.runningPodsWithIP(ip)[0];
  }

  /** All running, non-hostNetwork pods claiming the IP; more than one means a stale status. */
  runningPodsWithIP(ip: string): readonly ClusterPod[] {
    const c = canonicalIP(ip);
    if (!c) return [];
    const k = `running\0${c}`;
    let list = this.podLists.get(k);
    if (!list) this.podLists.set(k, (list = this.podsWithIP(c).filter((p) => isRunning(p) && !p.hostNetwork).sort(byOwnership)));
    return list;
  }

  /** Every pod whose status lists the IP, in any phase, sorted by key. */
  podsWithIP(ip: string): readonly ClusterPod[] {
    const c = canonicalIP(ip);
    // The index is a lookup aid: the pod's own status is the judge of its IPs.
    return c ? this.podList('ip', c, () => this.index.podsWithIP(c).filter((o) => this.podView(o).ips.includes(c))) : [];
  }

  podsOnNode(node: string): readonly ClusterPod[] {
    return this.podList('node', node, () => this.index.podsOnNode(node).filter((o) => this.podView(o).nodeName === node));
  }

  /** Pods of one namespace selected by the selector (all phases; callers filter). */
  selectPods(namespace: string, selector: Selector): ClusterPod[] {
    let idx = this.podLabels.get(namespace);
    if (!idx) {
      const pods = this.podList('namespace', namespace, () => this.index.podsInNamespace(namespace).filter((o) => this.podView(o).namespace === namespace));
      if (!pods.length) return [];
      idx = new LabelIndex();
      for (const p of pods) idx.add(p, p.labels);
      this.podLabels.set(namespace, idx);
    }
    return idx.select(selector);
  }

  // ---- nodes ----

  node(name: string): ClusterNode | undefined {
    const nx = this.index.nodes;
    if (nx) return this.lookup(`node\0${name}`, () => this.viewOf(nx.node(name), readNode));
    if (!this.nodeByName) {
      this.nodeByName = new Map();
      for (const n of this.nodes) this.nodeByName.set(n.name, n);
    }
    return this.nodeByName.get(name);
  }

  private nodeIPs(): Map<string, ClusterNode[]> {
    if (!this.nodesByIP) {
      this.nodesByIP = new Map();
      for (const n of this.nodes) for (const a of new Set(n.addresses.map((x) => x.address))) push(this.nodesByIP, a, n);
    }
    return this.nodesByIP;
  }

  nodeByIP(ip: string): ClusterNode | undefined {
    const c = canonicalIP(ip);
    if (!c) return undefined;
    const nx = this.index.nodes;
    if (nx) return this.lookup(`nodeIP\0${c}`, () => nx.withIP(c).map((o) => this.viewOf(o, readNode)!).sort(byNameOf)[0]);
    return this.nodeIPs().get(c)?.[0];
  }

  /** Every node's name, pod CIDRs and provider id, sorted by name, without reading the nodes when the index has them. */
  nodeSummaries(): readonly NodeSummary[] {
    this.summaries ??= this.index.nodes
      ? [...this.index.nodes.summaries()].sort(byNameOf)
      : this.nodes.map((n) => ({ name: n.name, podCIDRs: n.podCIDRs, providerID: n.providerID }));
    return this.summaries;
  }

  /** One typed view per raw object. */
  private viewOf<T extends ClusterService | ClusterNode>(o: K8sObject | undefined, read: (o: K8sObject) => T): T | undefined {
    if (!o) return undefined;
    let v = this.views.get(o) as T | undefined;
    if (!v) this.views.set(o, (v = read(o)));
    return v;
  }

  /** A lookup through the index, answered once. */
  private lookup<T>(key: string, answer: () => T): T {
    if (this.looked.has(key)) return this.looked.get(key) as T;
    const v = answer();
    this.looked.set(key, v);
    return v;
  }

  // ---- services ----

  /** Typed views of raw services, sorted by key. */
  private viewsSorted(objects: readonly K8sObject[]): ClusterService[] {
    return objects.map((o) => this.viewOf(o, readService)!).sort(byKey);
  }

  private indexServices(): void {
    this.serviceByKey = new Map();
    this.servicesByIP = new Map();
    this.nodePorts = new Map();
    for (const s of this.services) {
      this.serviceByKey.set(s.key, s);
      for (const ip of s.clusterIPs) push(this.servicesByIP, ip, { service: s, kind: 'clusterIP' });
      for (const ip of s.externalIPs) push(this.servicesByIP, ip, { service: s, kind: 'externalIP' });
      for (const ip of s.loadBalancerIPs) push(this.servicesByIP, ip, { service: s, kind: 'loadBalancer' });
      if (s.type === 'NodePort' || s.type === 'LoadBalancer') {
        for (const port of s.ports) if (port.nodePort) push(this.nodePorts, `${port.nodePort}/${port.protocol}`, { service: s, port });
      }
    }
  }

  service(key: string): ClusterService | undefined {
    const sx = this.index.services;
    if (sx) return this.lookup(`service\0${key}`, () => this.viewOf(sx.service(key), readService));
    if (!this.serviceByKey) this.indexServices();
    return this.serviceByKey!.get(key);
  }

  /** Services that own the IP, sorted by service key (several may share an externalIP on different ports). */
  servicesWithIP(ip: string): readonly ServiceAddress[] {
    const sx = this.index.services;
    if (sx) {
      const c = canonicalIP(ip);
      return c ? this.lookup(`serviceIP\0${c}`, () => {
        const out: ServiceAddress[] = [];
        for (const s of this.viewsSorted(sx.withIP(c))) {
          for (const [kind, ips] of [['clusterIP', s.clusterIPs], ['externalIP', s.externalIPs], ['loadBalancer', s.loadBalancerIPs]] as const) {
            for (const a of ips) if (a === c) out.push({ service: s, kind });
          }
        }
        return out;
      }) : [];
    }
    if (!this.servicesByIP) this.indexServices();
    const c = canonicalIP(ip);
    return (c && this.servicesByIP!.get(c)) || [];
  }

  servicesWithNodePort(nodePort: number, protocol: L4Protocol): readonly NodePortOwner[] {
    const sx = this.index.services;
    if (sx) {
      return this.lookup(`nodePort\0${nodePort}/${protocol}`, () => {
        const out: NodePortOwner[] = [];
        for (const s of this.viewsSorted(sx.withNodePort(nodePort, protocol))) {
          if (s.type !== 'NodePort' && s.type !== 'LoadBalancer') continue;
          for (const port of s.ports) if (port.nodePort === nodePort && port.protocol === protocol) out.push({ service: s, port });
        }
        return out;
      });
    }
    if (!this.nodePorts) this.indexServices();
    return this.nodePorts!.get(`${nodePort}/${protocol}`) ?? [];
  }

  /** EndpointSlices labelled for the service (sorted by slice key). */
  endpointSlicesOf(service: ClusterService): readonly ClusterEndpointSlice[] {
    let list = this.slicesByService.get(service.key);
    if (!list) {
      list = this.index.endpointSlicesOf(service.namespace, service.name).map(readEndpointSlice)
        .filter((s) => s.namespace === service.namespace && s.serviceName === service.name).sort(byKey);
      this.slicesByService.set(service.key, list);
    }
    return list;
  }

  // ---- namespaces and policies ----

  /** The namespace, synthesized from its name when the snapshot has no object for it. */
  namespace(name: string): ClusterNamespace {
    // Only the Namespace objects are read: listing the synthesized ones reads every service.
    if (!this.namespaceObjects) {
      this.namespaceObjects = new Map();
      for (const o of this.objects.namespaces) {
        const ns = readNamespace(o);
        this.namespaceObjects.set(ns.name, ns);
      }
    }
    let ns = this.namespaceObjects.get(name);
    if (!ns) this.namespaceObjects.set(name, (ns = this.namespaceByName?.get(name) ?? unknownNamespace(name)));
    return ns;
  }

  selectNamespaces(selector: Selector): ClusterNamespace[] {
    if (!this.namespaceIndex) {
      this.namespaceIndex = new LabelIndex();
      for (const ns of this.namespaces) this.namespaceIndex.add(ns, ns.labels);
    }
    return this.namespaceIndex.select(selector);
  }

  networkPoliciesIn(namespace: string): readonly K8sObject[] {
    if (!this.policiesByNamespace) {
      this.policiesByNamespace = new Map();
      for (const o of this.networkPolicies) push(this.policiesByNamespace, o.metadata.namespace ?? '', o);
    }
    return this.policiesByNamespace.get(namespace) ?? [];
  }
}


