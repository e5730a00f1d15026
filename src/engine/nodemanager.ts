// NetNodeManager (seed): creates each NetNode once, on first use, and caches it with its behaviour.
// Creating a node is where its node's dump is needed: the manager asks the CollectorManager (the
// port's DumpProvider) first, so only the nodes the packet reaches are collected and parsed.
import type { Hop, NetNodeAction } from './model/netnode';
import type { NetNode } from './model/netnode';
import type { DumpProvider } from './port';

export interface ManagedNode {
  node: NetNode;
  action: NetNodeAction;
}

/** Builds the NetNode and its behaviour for a hop (the Network's plugin decides how). */
export type NetNodeFactory = (hop: Hop) => ManagedNode;

export class NetNodeManager {
  private readonly cache = new Map<string, ManagedNode>();

  constructor(
    private readonly factory: NetNodeFactory,
    private readonly dumps: DumpProvider,
    /** The cluster node whose dump a hop needs (a pod's node, the node itself), if any. */
    private readonly nodeOf: (hop: Hop) => string | undefined,
  ) {}

  /** Nodes to collect before `get(hop)` can build the hop from real data (empty: build now). */
  pending(hop: Hop): string[] {
    if (this.cache.has(key(hop))) return [];
    const node = this.nodeOf(hop);
    return node !== undefined && 'collectable' in this.dumps.state(node) ? [node] : [];
  }

  get(hop: Hop): ManagedNode {
    const k = key(hop);
    let m = this.cache.get(k);
    if (!m) {
      m = this.factory(hop);
      this.cache.set(k, m);
    }
    return m;
  }
}

function key(hop: Hop): string {
  return `${hop.type}/${hop.id}`;
}
