// NetNodeManager: creates each NetNode once, on first use, and caches it with its behaviour.
// Creating a node is where its node's dump is needed, so dumps are parsed lazily: only the
// nodes the packet reaches cost anything.
import type { Hop, NetNodeAction } from './model/netnode';
import { NetNode } from './model/netnode';

export interface ManagedNode {
  node: NetNode;
  action: NetNodeAction;
}

/** Builds the NetNode and its behaviour for a hop (the Network's plugin decides how). */
export type NetNodeFactory = (hop: Hop) => ManagedNode;

export class NetNodeManager {
  private readonly cache = new Map<string, ManagedNode>();

  constructor(private readonly factory: NetNodeFactory) {}

  get(hop: Hop): ManagedNode {
    const key = `${hop.type}/${hop.id}`;
    let m = this.cache.get(key);
    if (!m) {
      m = this.factory(hop);
      this.cache.set(key, m);
    }
    return m;
  }

  /** Every node created so far, in creation order. */
  nodes(): NetNode[] {
    return [...this.cache.values()].map((m) => m.node);
  }
}
