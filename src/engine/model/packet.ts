// The packet the Diagnostor pushes through the graph (seed: Packet). Addresses are strings as
// the user and the tools write them; the netstack simulators parse them where they compute.

export type Protocol = 'tcp' | 'udp' | 'icmp' | 'ipip' | (string & {});

export interface Packet {
  src: string;
  /** 0 = not chosen yet (the kernel picks an ephemeral port; no check depends on it). */
  sport: number;
  dst: string;
  dport: number;
  protocol: Protocol;
  /** When this is a tunnel's outer header (VXLAN, IPIP), the real packet inside. */
  encap?: Packet;
  /** VXLAN network identifier of an outer VXLAN packet. */
  vni?: number;
  /** The answer of the destination travelling back (conntrack ESTABLISHED, reply direction). */
  reply?: boolean;
  /** Payload bytes, when the user asked about a packet of that size (MTU problems). */
  size?: number;
  /** skb mark, as set by iptables MARK and read by policy rules and `-m mark`. */
  mark: number;
}

export function packet(p: Partial<Packet> & Pick<Packet, 'dst'>): Packet {
  return { src: '', sport: 0, dport: 0, protocol: 'tcp', mark: 0, ...p };
}

/** The reply direction of a packet (for return-path route and rp_filter checks). */
export function reply(p: Packet): Packet {
  return { src: p.dst, sport: p.dport, dst: p.src, dport: p.sport, protocol: p.protocol, mark: 0, reply: true };
}

// The one packet formatter lives with the wire contracts, so the extension and the webview print
// packets the same way without importing engine code.
export { formatAddressPort, formatPacket, type PacketFormat } from '../../shared/packet-format';
