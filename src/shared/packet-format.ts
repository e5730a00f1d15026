// How a packet is written, everywhere: the engine's findings and reports, the tree, the graph and
// the webview's details. Pure and dependency-free, so every bundle can use it.

/** What formatPacket reads of a packet (the engine's Packet, or its JSON on a wire). */
export interface PacketLike {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  protocol: string;
  encap?: PacketLike;
  vni?: number;
  reply?: boolean;
  mark?: number;
}

/** How formatPacket writes a packet; the defaults are those of the text report and the findings. */
export interface PacketFormat {
  /** `->` in plain text (reports, findings, NAT notes); `→` in the graph, the tree and the details panel. */
  arrow?: '->' | '→';
  /** Leave out a port that is 0 (not chosen yet). The text report prints `:0` (its output is a contract of the README). */
  chosenPortsOnly?: boolean;
  /** Protocol, addresses and ports only: no reply flag, mark, VNI or inner packet (the graph shows those on lines of their own). */
  headOnly?: boolean;
}

/**
 * The one way a packet is printed: `reply tcp 10.244.2.2:8080 -> 10.244.1.2:0 mark 0x4000`, an
 * outer tunnel header with its VNI and the packet inside in brackets
 * (`udp 192.168.0.1:0 -> 192.168.0.2:8472 vni 1 [tcp …]`), an address not chosen yet as `?`.
 */
export function formatPacket(p: PacketLike, f: PacketFormat = {}): string {
  const ends = `${p.protocol} ${formatAddressPort(p.src, p.sport, f.chosenPortsOnly)} ${f.arrow ?? '->'} ${formatAddressPort(p.dst, p.dport, f.chosenPortsOnly)}`;
  if (f.headOnly) return ends;
  const mark = p.mark ? ` mark 0x${p.mark.toString(16)}` : '';
  const inner = p.encap ? `${p.vni !== undefined ? ` vni ${p.vni}` : ''} [${formatPacket(p.encap, f)}]` : '';
  return `${p.reply ? 'reply ' : ''}${ends}${mark}${inner}`;
}

/** One end of a packet or a translation: `10.0.0.1:80`, `[fd00::1]:80`; `?` for an address not chosen yet. */
export function formatAddressPort(ip: string, port: number, chosenPortOnly = false): string {
  const host = ip === '' ? '?' : ip.includes(':') ? `[${ip}]` : ip;
  return chosenPortOnly && !port ? host : `${host}:${port}`;
}
