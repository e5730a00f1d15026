// What the netfilter simulator needs from the rest of one namespace's stack: ipsets, address
// types (from the local routing table, as inet_addr_type does), MASQUERADE's source choice and
// the routing decision (the router simulator) — wired from a NetNS.
import { contains, parseIP, type Family } from '../netstack/ip';
import type { NetNS } from '../netstack/netns';
import type { NetfilterEnv, NfPacket, RecentList, RouteDecision } from '../netstack/netfilter/packet';
import { parseXtRecent } from '../netstack/netfilter/recent';
import { primaryAddress } from '../netstack/interfaces';
import type { RouteResult } from '../netstack/router-model';

/** The router's answer behind each routing decision a trace took (keyed by the decision object). */
export type RouteLog = Map<RouteDecision, { pkt: NfPacket; result: RouteResult }>;

/**
 * `foreignSource`: the packet is sent from this host on behalf of another (IPVS forwarding a
 * client's packet to a real server): the output route is looked up by destination only.
 */
export function netfilterEnv(ns: NetNS, log?: RouteLog, foreignSource = false): NetfilterEnv {
  return {
    ipset: (name, flags, pkt) => ns.ipsetTest(name, flags, pkt),
    addressType: (addr, family, iface) => addressType(ns, addr, family, iface),
    localTable: (family) => (ns.routes ?? []).some((r) => r.family === family && r.table.id === 255),
    fibRoute: (q) => {
      const router = ns.router;
      if (!router) return undefined;
      // fib_lookup uses the flow's source for policy rules' `from` only; the router's output
      // lookup insists it is local, so another source is left out — unless a rule would read it.
      const src = q.src !== undefined && ns.ownsAddress(q.src) ? q.src : undefined;
      const rules = (ns.rules ?? []).filter((r) => r.family === q.family);
      if (q.src !== undefined && src === undefined && rules.some((r) => r.src)) return undefined;
      // In forward, `fib saddr . iif` looks up with the output device as the input one: only `iif` rules can tell.
      if (q.iif !== undefined && rules.some((r) => r.iif !== undefined)) return undefined;
      const r = router.lookup({ dst: q.dst, src, mark: q.mark ?? 0 });
      return r.ok && r.type !== 'local' ? r.nexthops.map((n) => n.dev) : [];
    },
    masqueradeSource: (oif, dst, family) => {
      const i = ns.interface(oif);
      return i ? primaryAddress(i, family, { dst, maxScope: 'global' })?.address : undefined;
    },
    interfaceAddress: (iface, family) => {
      const i = ns.interface(iface);
      return i ? primaryAddress(i, family, { maxScope: 'host' })?.address : undefined;
    },
    rpfilter: (pkt, opts) => {
      // The reverse lookup the rpfilter match does: route to the source from the input interface.
      const router = ns.router;
      if (!router || !pkt.iif) return true;
      const r = router.lookup({ dst: pkt.src, src: pkt.dst, oif: opts.loose ? undefined : pkt.iif, mark: opts.validmark ? pkt.mark : undefined });
      if (!r.ok) return false;
      if (r.type === 'local') return opts.acceptLocal;
      return opts.loose || r.dev === pkt.iif;
    },
    recent: (name) => {
      if (ns.info.xtRecent === undefined) return undefined;
      let lists = recentLists.get(ns.info);
      if (!lists) recentLists.set(ns.info, (lists = parseXtRecent(ns.info.xtRecent)));
      return lists.get(name) ?? new Map();
    },
    route: (pkt) => {
      const router = ns.router;
      if (!router) return { kind: 'unroutable', reason: `no routing table for ${ns.label}` };
      const r = router.lookup({
        dst: pkt.dst,
        src: !foreignSource && pkt.src && pkt.src !== '0.0.0.0' && pkt.src !== '::' ? pkt.src : undefined,
        iif: pkt.iif,
        mark: pkt.mark,
        ipproto: typeof pkt.proto === 'number' ? pkt.proto : IPPROTO[pkt.proto],
        sport: pkt.sport,
        dport: pkt.dport,
      });
      const d = decision(r, pkt.iif !== undefined);
      log?.set(d, { pkt, result: r });
      return d;
    },
  };
}

/** Parsed `-m recent` lists per dump netns (parsed on first use). */
const recentLists = new WeakMap<object, Map<string, RecentList>>();

const IPPROTO: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, ipip: 4, gre: 47 };

function decision(r: RouteResult, input: boolean): RouteDecision {
  if (!r.ok) return { kind: 'unroutable', reason: r.message };
  if (r.type === 'local' || r.input === 'local') return { kind: 'local' };
  return input ? { kind: 'forward', oif: r.dev } : { kind: 'output', oif: r.dev };
}

/** inet_addr_type: the type of the local-table route covering the address, else UNICAST. */
export function addressType(ns: NetNS, addr: string, family: Family, iface?: string): string {
  const ip = parseIP(addr);
  if (!ip || ip.family !== family) return 'UNSPEC';
  // __inet_dev_addr_type: 0.0.0.0/8 and 255.255.255.255 are broadcast before any table is read.
  if (family === 4 && (ip.value >> 24n === 0n || ip.value === 0xffffffffn)) return 'BROADCAST';
  if (family === 4 && ip.value >> 28n === 0xen) return 'MULTICAST';
  if (family === 6 && ip.value >> 120n === 0xffn) return 'MULTICAST';
  if (ip.value === 0n) return 'UNSPEC';
  // The longest match in the local table; with a device, its type counts only if it is on that device.
  let best: { len: number; type: string; dev?: string } | undefined;
  for (const r of ns.routes ?? []) {
    if (r.family !== family || r.table.id !== 255) continue;
    if (!contains(r.dst, ip)) continue;
    if (!best || r.dst.len > best.len) best = { len: r.dst.len, type: r.type.toUpperCase(), dev: r.dev };
  }
  if (!best || (iface !== undefined && best.dev !== iface)) return 'UNICAST';
  return best.type;
}
