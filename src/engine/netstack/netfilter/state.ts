// The mutable per-branch state of a trace: the packet being rewritten, its marks and conntrack.
// A `statistic` fork clones it, so each outcome carries its own rewritten packet.
import { parseIP, type IP } from '../ip';
import type { CtState, Hook, NatRewrite, NfPacket, Tuple } from './packet';

export interface CtView {
  state: CtState;
  confirmed: boolean;
  natDst: boolean;
  natSrc: boolean;
  direction: 'ORIGINAL' | 'REPLY';
  status: string[];
  mark: number;
  orig: Tuple;
  reply: Tuple;
  helper?: string;
}

export interface State {
  pkt: NfPacket;
  src: IP;
  dst: IP;
  proto: number;
  mark: number;
  ct: CtView;
  hook: Hook;
  table: string;
  notes: string[];
  nat: NatRewrite[];
  /** `-m recent` lists as this trace changed them (--set, --update, --remove), by list and address. */
  recent?: Map<string, { fresh: number; removed: boolean }>;
}

export const PROTO_NUMBERS: Record<string, number> = {
  all: 0, ip: 0, icmp: 1, igmp: 2, ipencap: 4, ipip: 4, tcp: 6, egp: 8, udp: 17, dccp: 33, ipv6: 41,
  'ipv6-route': 43, 'ipv6-frag': 44, rsvp: 46, gre: 47, esp: 50, ah: 51, 'ipv6-icmp': 58, icmpv6: 58,
  icmp6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, ospf: 89, pim: 103, vrrp: 112, l2tp: 115, sctp: 132,
  udplite: 136, mh: 135, 'ipv6-mh': 135,
};

export function protoNumber(p: string | number): number | undefined {
  if (typeof p === 'number') return p;
  const s = p.toLowerCase();
  if (/^\d+$/.test(s)) return Number(s);
  return PROTO_NUMBERS[s];
}

export function protoName(n: number): string {
  switch (n) {
    case 6: return 'tcp';
    case 17: return 'udp';
    case 1: return 'icmp';
    case 58: return 'icmpv6';
    case 132: return 'sctp';
    default: return String(n);
  }
}

export class PacketError extends Error {}

/** Builds the initial state; throws PacketError naming the bad field of a malformed packet. */
export function initialState(pkt: NfPacket, hook: Hook): State {
  const src = parseIP(pkt.src);
  const dst = parseIP(pkt.dst);
  if (!src || src.family !== pkt.family) throw new PacketError(`packet src ${JSON.stringify(pkt.src)} is not an IPv${pkt.family} address`);
  if (!dst || dst.family !== pkt.family) throw new PacketError(`packet dst ${JSON.stringify(pkt.dst)} is not an IPv${pkt.family} address`);
  const proto = protoNumber(pkt.proto);
  if (proto === undefined) throw new PacketError(`unknown protocol ${JSON.stringify(pkt.proto)}`);
  const c = pkt.ct ?? { state: 'NEW' as CtState };
  const tuple: Tuple = { src: pkt.src, dst: pkt.dst, sport: pkt.sport, dport: pkt.dport };
  const orig = c.orig ?? (c.direction === 'REPLY' ? reverse(tuple) : tuple);
  const ct: CtView = {
    state: c.state,
    confirmed: c.confirmed ?? false,
    natDst: (c.confirmed ?? false) || !!c.natInitialized?.dst,
    natSrc: (c.confirmed ?? false) || !!c.natInitialized?.src,
    direction: c.direction ?? 'ORIGINAL',
    status: c.status ?? (c.state === 'ESTABLISHED' ? ['SEEN_REPLY', 'CONFIRMED'] : c.confirmed ? ['CONFIRMED'] : []),
    mark: c.mark ?? 0,
    orig: { ...orig },
    reply: c.reply ? { ...c.reply } : reverse(orig),
    helper: c.helper,
  };
  return { pkt: { ...pkt }, src, dst, proto, mark: pkt.mark ?? 0, ct, hook, table: '', notes: [], nat: [] };
}

export function reverse(t: Tuple): Tuple {
  return { src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
}

export function cloneState(s: State): State {
  return {
    ...s,
    pkt: { ...s.pkt },
    ct: { ...s.ct, status: [...s.ct.status], orig: { ...s.ct.orig }, reply: { ...s.ct.reply } },
    notes: [...s.notes],
    nat: [...s.nat],
    recent: s.recent && new Map([...s.recent].map(([k, v]) => [k, { ...v }])),
  };
}

/** The packet as the outside sees it: current addresses, marks and conntrack written back. */
export function packetOf(s: State): NfPacket {
  return {
    ...s.pkt,
    mark: s.mark,
    ct: {
      state: s.ct.state,
      confirmed: s.ct.confirmed,
      natInitialized: { dst: s.ct.natDst, src: s.ct.natSrc },
      direction: s.ct.direction,
      status: [...s.ct.status],
      mark: s.ct.mark,
      orig: { ...s.ct.orig },
      reply: { ...s.ct.reply },
      helper: s.ct.helper,
    },
  };
}

export function setDst(s: State, addr: string, port: number | undefined): void {
  const ip = parseIP(addr);
  if (ip) s.dst = ip;
  s.pkt.dst = addr;
  if (port !== undefined) s.pkt.dport = port;
}

export function setSrc(s: State, addr: string, port: number | undefined): void {
  const ip = parseIP(addr);
  if (ip) s.src = ip;
  s.pkt.src = addr;
  if (port !== undefined) s.pkt.sport = port;
}
