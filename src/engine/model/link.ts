// A hop of the packet between two NetNodes (seed: Link, LinkAttribute).
import type { Packet } from './packet';

export type LinkType =
  | 'external' | 'infra' | 'vpc' | 'veth' | 'ipvlan' | 'macvlan' | 'local' | 'tunnel' | 'bridge';

/**
 * Key/value facts about one end of a link: `if` (interface name), `ip`, `peer_id` (veth peer
 * ifindex), `mac`, `tunnel` (e.g. `vxlan vni 1`), `nat` (rewrite done on this node).
 */
export type LinkAttribute = Record<string, string>;

export interface Link {
  /** Unique and deterministic within a result: `<type>:<src>-><dst>:<packet>#n`. */
  id: string;
  type: LinkType;
  /** NetNode ids. */
  source: string;
  destination: string;
  packet: Packet;
  sourceAttributes: LinkAttribute;
  destinationAttributes: LinkAttribute;
}
