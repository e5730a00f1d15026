// The engine's one view of a cluster: its Kubernetes objects and each node's network stack dump.
// A snapshot answers every dump at once; a live cluster answers "collectable" until its
// CollectorManager has run a collector pod on the node. The NetNodeManager asks for a dump when the
// packet first reaches a node, so only the nodes on the path are ever collected or parsed.
import type { NodeNetworkStackDump } from '../shared/dump';
import type { NetpathSnapshot, SnapshotObjects, SnapshotSettings } from './snapshot/types';

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

export interface ClusterPort {
  readonly objects: SnapshotObjects;
  readonly dumps: DumpProvider;
  /** What the source itself states about the cluster (a snapshot's settings): a Context's first layer. */
  readonly settings?: SnapshotSettings;
}

/** A snapshot as a port: every dump it holds is at hand; any other node has none. */
export function snapshotPort(snapshot: Pick<NetpathSnapshot, 'objects' | 'dumps'> & Partial<Pick<NetpathSnapshot, 'settings'>>): ClusterPort {
  const names = Object.keys(snapshot.dumps).sort();
  return {
    objects: snapshot.objects,
    ...(snapshot.settings ? { settings: snapshot.settings } : {}),
    dumps: {
      state: (node) => Object.prototype.hasOwnProperty.call(snapshot.dumps, node)
        ? { dump: snapshot.dumps[node] }
        : { missing: `no network stack dump for node ${node}` },
      available: () => names,
    },
  };
}
