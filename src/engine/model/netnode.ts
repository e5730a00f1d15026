// Graph nodes and how they hand packets on (seed: NetNode, NetNodeAction, Hop, Transmission).
import type { Action } from './action';
import type { Endpoint } from './endpoint';
import type { Link } from './link';
import type { Protocol } from './packet';
import { suspicionKey, type Suspicion } from './suspicion';

export type NetNodeType = 'pod' | 'node' | 'external' | 'generic' | 'infra';

/** How the Diagnostor finds the next NetNode: a pod by `namespace/name`, a node by name, else an IP. */
export interface Hop {
  type: NetNodeType;
  id: string;
}

/** One packet handed on: to whom, over which link. */
export interface Transmission {
  nextHop: Hop;
  link: Link;
}

/** The behaviour every NetNode kind implements (pods, nodes, externals, cloud resources). */
export interface NetNodeAction {
  /** Originate a packet towards `dst`. */
  send(dst: Endpoint, protocol: Protocol): Transmission[];
  /** Take the packet arriving over `link` and pass it on (or serve/drop it). */
  receive(link: Link): Transmission[];
}

/** The recorded state of a node in the graph: its actions and its findings. */
export class NetNode {
  readonly actions: Action[] = [];
  readonly suspicions: Suspicion[] = [];
  private readonly seen = new Set<string>();
  /** False when the node could not be examined (no dump, collection failed): verdict unknown. */
  examined = true;

  constructor(
    readonly type: NetNodeType,
    readonly id: string,
    /** IP or node name shown next to the id. */
    readonly description = '',
  ) {}

  /** Records a finding once, however often the packet passes the check. */
  suspect(s: Suspicion): void {
    const key = suspicionKey(s);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.suspicions.push(s);
  }

  doAction(a: Action): void {
    this.actions.push(a);
  }
}
