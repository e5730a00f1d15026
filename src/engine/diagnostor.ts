// The Diagnostor builds the path graph: the source NetNode's Send yields Transmissions, each
// next NetNode's Receive yields more, breadth first. Unlike the original it guarantees
// termination (a visited set on node + packet + ingress, and a depth bound) and never lets one
// failing branch hide the others: an error in one node's Receive becomes a suspicion there and
// the rest of the queue is still processed.
//
// It is a generator: when the packet reaches a node whose dump is not at hand but can be
// collected (a live cluster), it yields the node names and resumes once the caller has collected
// them. A snapshot never yields, so its drive is synchronous; a live drive awaits the collector.
import type { Endpoint } from './model/endpoint';
import type { Link } from './model/link';
import type { Hop, NetNode, Transmission } from './model/netnode';
import { formatPacket, type Protocol } from './model/packet';
import { SuspicionLevel } from './model/suspicion';
import type { NetNodeManager } from './nodemanager';

export interface DiagnostorOptions {
  /** Longest chain of hops followed from the source (a loop is caught earlier by the visited set). */
  maxDepth?: number;
  /** Upper bound on links in one graph (service fan-out included). */
  maxLinks?: number;
}

/** What the Diagnostor waits for: these nodes' dumps collected. */
export interface CollectRequest {
  collect: string[];
}

export interface PathGraph {
  origin: NetNode;
  /** Breadth-first order from the origin. */
  nodes: NetNode[];
  links: Link[];
}

interface Pending {
  transmission: Transmission;
  depth: number;
  /** The arrival that produced this transmission: a loop is a key repeated along this chain. */
  parent?: Arrival;
}

interface Arrival {
  key: string;
  parent?: Arrival;
}

export class Diagnostor {
  private readonly maxDepth: number;
  private readonly maxLinks: number;

  constructor(private readonly manager: NetNodeManager, opts: DiagnostorOptions = {}) {
    this.maxDepth = opts.maxDepth ?? 32;
    this.maxLinks = opts.maxLinks ?? 5000;
  }

  *diagnose(sourceHop: Hop, dst: Endpoint, protocol: Protocol): Generator<CollectRequest, PathGraph, void> {
    const first = this.manager.pending(sourceHop);
    if (first.length) yield { collect: first };
    const origin = this.manager.get(sourceHop);
    const order: NetNode[] = [origin.node];
    const inOrder = new Set<string>([origin.node.id]);
    const links: Link[] = [];
    const linkIds = new Map<string, number>();
    const visited = new Set<string>();

    const queue: Pending[] = [];
    const enqueue = (from: NetNode, ts: Transmission[], depth: number, input?: string, parent?: Arrival) => {
      // The action the node recorded for this input gets the ids of the links it produced.
      const action = from.actions.find((a) => a.input === input);
      for (const t of ts) {
        if (links.length >= this.maxLinks) {
          from.suspect({
            level: SuspicionLevel.WARNING,
            check: 'engine.too-many-links',
            message: `stopped following the path after ${this.maxLinks} links; the graph is incomplete`,
            evidence: [],
          });
          return;
        }
        t.link.source = from.id;
        t.link.destination = t.nextHop.id;
        t.link.id = uniqueId(linkIds, t.link);
        links.push(t.link);
        action?.outputs.push(t.link.id);
        queue.push({ transmission: t, depth, parent });
      }
    };

    enqueue(origin.node, this.guard(origin.node, () => origin.action.send(dst, protocol)), 1);

    for (let i = 0; i < queue.length; i++) {
      const { transmission: t, depth, parent } = queue[i];
      const need = this.manager.pending(t.nextHop);
      if (need.length) yield { collect: need };
      const next = this.manager.get(t.nextHop);
      if (!inOrder.has(next.node.id)) {
        inOrder.add(next.node.id);
        order.push(next.node);
      }
      const key = `${t.nextHop.type}/${t.nextHop.id}|${formatPacket(t.link.packet)}|${t.link.destinationAttributes.if ?? ''}`;
      if (visited.has(key)) {
        // Branches that merge (a service's backends replying to one client) deliver the same
        // packet the same way: already followed once, not a loop. A loop comes back on its own path.
        let onOwnPath = false;
        for (let a = parent; a && !onOwnPath; a = a.parent) onOwnPath = a.key === key;
        if (!onOwnPath) continue;
        next.node.suspect({
          level: SuspicionLevel.FATAL,
          check: 'path.loop',
          message: `the packet ${formatPacket(t.link.packet)} comes back to ${next.node.id} the way it came before: a forwarding loop`,
          evidence: [{ kind: 'dump', text: `link ${t.link.id}` }],
        });
        continue;
      }
      visited.add(key);
      if (depth > this.maxDepth) {
        next.node.suspect({
          level: SuspicionLevel.WARNING,
          check: 'path.too-long',
          message: `stopped after ${this.maxDepth} hops; the path is longer than any pod-to-pod path should be`,
          evidence: [],
        });
        continue;
      }
      enqueue(next.node, this.guard(next.node, () => next.action.receive(t.link)), depth + 1, t.link.id, { key, parent });
    }
    return { origin: origin.node, nodes: order, links };
  }

  /** A NetNode behaviour that throws ends its branch with a finding, not the whole diagnosis. */
  private guard(node: NetNode, fn: () => Transmission[]): Transmission[] {
    try {
      return fn();
    } catch (e) {
      node.examined = false;
      node.suspect({
        level: SuspicionLevel.WARNING,
        check: 'engine.error',
        message: `could not simulate this hop: ${e instanceof Error ? e.message : String(e)}`,
        evidence: [],
      });
      return [];
    }
  }
}

/** `veth:default/a->node1` and, for a second link with the same ends, `#2` appended. */
function uniqueId(seen: Map<string, number>, l: Link): string {
  const base = `${l.type}:${l.source}->${l.destination}`;
  const n = (seen.get(base) ?? 0) + 1;
  seen.set(base, n);
  return n === 1 ? base : `${base}#${n}`;
}
