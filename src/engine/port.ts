// The engine's one view of a cluster: its Kubernetes objects and each node's network stack dump.
// A snapshot answers every dump at once; a live cluster answers "collectable" until its
// CollectorManager has run a collector pod on the node. The NetNodeManager asks for a dump when the
// packet first reaches a node, so only the nodes on the path are ever collected or parsed.
import type { NodeNetworkStackDump } from '../shared/dump';
import type { K8sObject, NetpathSnapshot, SnapshotObjects, SnapshotSettings } from './snapshot/types';

export type DumpState =
  | { dump: NodeNetworkStackDump }
  /** Why the dump cannot be had (never collected, collection failed, no such node). */
  | { missing: string }
  /** Not at hand yet, but `collect` can fetch it. */
  | { collectable: true };

/** The seed's CollectorManager as the engine sees it. */
export interface DumpProvider {
  state(node: string): DumpState;
  /** Names of the nodes whose dump is at hand now, sorted. */
  available(): readonly string[];
  /**
   * Fetches the dumps of these (collectable) nodes, in parallel; afterwards `state` answers a dump
   * or the reason it is missing for each. Absent for sources that hold every dump already.
   */
  collect?(nodes: readonly string[]): Promise<void>;
}

/**
 * The pods and EndpointSlices a source can hand out a few at a time, so that a diagnosis reads the
 * objects it touches and not the 150k others (a v2 snapshot file answers from its index; see
 * snapshot/format.ts). Raw objects, each the same instance on every call; the cluster cache reads
 * and checks them. Without one, the cache indexes the object lists itself, on first use.
 */
export interface ObjectIndex {
  /** The pod `namespace/name` (the last one listed, should there be two). */
  pod(key: string): K8sObject | undefined;
  /** Pods whose status lists this canonical IP, in any phase. */
  podsWithIP(ip: string): readonly K8sObject[];
  podsOnNode(node: string): readonly K8sObject[];
  podsInNamespace(namespace: string): readonly K8sObject[];
  /** Namespaces that hold at least one pod. */
  podNamespaces(): readonly string[];
  /** EndpointSlices labelled `kubernetes.io/service-name: service` in the namespace. */
  endpointSlicesOf(namespace: string, service: string): readonly K8sObject[];
  /** Services one by one (absent: the cache reads and indexes the whole list). */
  services?: ServiceIndex;
  /** Nodes one by one (absent: the cache reads and indexes the whole list). */
  nodes?: NodeIndex;
}

export interface ServiceIndex {
  /** The service `namespace/name` (the last one listed, should there be two). */
  service(key: string): K8sObject | undefined;
  /** Services with this canonical IP as a cluster, external or load-balancer IP. */
  withIP(ip: string): readonly K8sObject[];
  /** NodePort and LoadBalancer services that have this node port. */
  withNodePort(nodePort: number, protocol: string): readonly K8sObject[];
  /** Namespaces that hold at least one service. */
  namespaces(): readonly string[];
}

/** What a diagnosis needs of every node without reading them all. */
export interface NodeSummary {
  name: string;
  /** Canonical prefixes. */
  podCIDRs: readonly string[];
  /** `spec.providerID`, '' when none. */
  providerID: string;
}

export interface NodeIndex {
  /** The node (the last one listed, should there be two). */
  node(name: string): K8sObject | undefined;
  /** Nodes with this canonical IP among their addresses. */
  withIP(ip: string): readonly K8sObject[];
  /** Every node, in the order listed. */
  summaries(): readonly NodeSummary[];
  /** The first node listed that carries the annotation with a value. */
  firstAnnotated(key: string): K8sObject | undefined;
}

export interface ClusterPort {
  readonly objects: SnapshotObjects;
  readonly dumps: DumpProvider;
  /** What the source itself states about the cluster (a snapshot's settings): a Context's first layer. */
  readonly settings?: SnapshotSettings;
  /** Absent: the cache indexes `objects` itself. */
  readonly index?: ObjectIndex;
}

/** Indexes that come with lazily read objects (registered by the snapshot reader that made them). */
const indexes = new WeakMap<SnapshotObjects, ObjectIndex>();

export function registerObjectIndex(objects: SnapshotObjects, index: ObjectIndex): void {
  indexes.set(objects, index);
}

/** The index that came with lazily read objects, if any. */
export function objectIndexOf(objects: SnapshotObjects): ObjectIndex | undefined {
  return indexes.get(objects);
}

/** A snapshot as a port: every dump it holds is at hand; any other node has none. */
export function snapshotPort(snapshot: Pick<NetpathSnapshot, 'objects' | 'dumps'> & Partial<Pick<NetpathSnapshot, 'settings'>>): ClusterPort {
  const names = Object.keys(snapshot.dumps).sort();
  const index = indexes.get(snapshot.objects);
  return {
    objects: snapshot.objects,
    ...(snapshot.settings ? { settings: snapshot.settings } : {}),
    // A lazily read snapshot parses and validates a node's dump here, on first use.
    dumps: {
      state: (node) => Object.prototype.hasOwnProperty.call(snapshot.dumps, node)
        ? { dump: snapshot.dumps[node] }
        : { missing: `no network stack dump for node ${node}` },
      available: () => names,
    },
    ...(index ? { index } : {}),
  };
}
