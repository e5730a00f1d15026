// The neighbour (ARP / NDP) table from `ip -j neigh` (v4 and v6 in one list, or `ip -6 -j neigh`),
// and the question the assertions ask: will the kernel have a link-layer address for this
// next hop on this device, or is it stuck (FAILED / INCOMPLETE), or would it have to ARP first?
import type { Interface } from './interfaces-model';
import { type Family, parseIP } from './ip';
import { type ElementReader, parseJsonArray } from './iproute-json';

const SOURCE = 'ip -j neigh';

/** NUD states as iproute2 prints them. An entry may carry several (rare, e.g. during transitions). */
export type NeighbourState =
  | 'PERMANENT' | 'NOARP' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE' | 'FAILED' | 'INCOMPLETE' | 'NONE'
  | (string & {});

export interface Neighbour {
  family: Family;
  /** Neighbour address as printed (IPv4 or IPv6). */
  dst: string;
  /** Device name; undefined only when the dump was taken with `dev X` (iproute2 then omits it). */
  dev?: string;
  /** Link-layer address, absent for FAILED / INCOMPLETE entries. */
  lladdr?: string;
  states: NeighbourState[];
  /** IPv6 neighbour advertised itself as a router (NTF_ROUTER). */
  router: boolean;
  /** Proxy entry (`ip neigh add proxy …`). */
  proxy: boolean;
  /** Other boolean markers iproute2 printed (extern_learn, offload, managed…). */
  flags: string[];
}

/** States in which the kernel has a usable link-layer address and transmits without waiting. */
const USABLE = new Set(['PERMANENT', 'NOARP', 'REACHABLE', 'STALE', 'DELAY', 'PROBE']);
/** Fields that are data, not flag markers. */
const DATA_FIELDS = new Set(['dst', 'dev', 'lladdr', 'state', 'router', 'proxy', 'used', 'confirmed', 'updated', 'refcnt', 'probes', 'protocol', 'nhid']);

export function parseNeighbours(json: string): Neighbour[] {
  const arr = parseJsonArray(json, SOURCE);
  const out: Neighbour[] = [];
  for (let i = 0; i < arr.items.length; i++) {
    const el: ElementReader = arr.object(i);
    const dst = el.string('dst');
    const ip = parseIP(dst);
    if (!ip) el.fail('dst', `not an IP address: ${JSON.stringify(dst)}`);
    const n: Neighbour = {
      family: ip.family,
      dst,
      states: el.optStringArray('state') ?? [],
      // iproute2 prints these markers as `"router": null`: presence is the flag.
      router: Object.prototype.hasOwnProperty.call(el.obj, 'router'),
      proxy: Object.prototype.hasOwnProperty.call(el.obj, 'proxy'),
      flags: Object.keys(el.obj).filter((k) => !DATA_FIELDS.has(k) && (el.obj[k] === null || el.obj[k] === true)),
    };
    const dev = el.optString('dev');
    if (dev !== undefined) n.dev = dev;
    const lladdr = el.optString('lladdr');
    if (lladdr !== undefined) n.lladdr = lladdr.toLowerCase();
    out.push(n);
  }
  return out;
}

/**
 * Indexed neighbour table; addresses are compared by value, so `fd00::1` equals `fd00:0::1`.
 * Proxy entries (`ip -6 neigh add proxy ADDR dev IF`: answered by neighbour discovery on IF for
 * another host) are kept apart: they are not next hops. `ip neigh show` does not list them, the
 * collector asks `ip -6 neigh show proxy` separately; `proxiesKnown` is false for a dump without
 * that list (then whether an address is proxied is not known).
 */
export class NeighbourTable {
  private readonly byKey = new Map<string, Neighbour>();
  private readonly proxies = new Map<string, Neighbour>();
  constructor(readonly entries: readonly Neighbour[], readonly proxiesKnown = false) {
    for (const n of entries) {
      const ip = parseIP(n.dst);
      if (ip) (n.proxy ? this.proxies : this.byKey).set(key(ip.family, ip.value, n.dev ?? ''), n);
    }
  }

  lookup(ip: string, dev: string): Neighbour | undefined {
    const a = parseIP(ip);
    return a ? this.byKey.get(key(a.family, a.value, dev)) : undefined;
  }

  /** The proxy entry for `ip` on `dev` (pneigh_lookup: an entry without a device serves every device). */
  proxyFor(ip: string, dev: string): Neighbour | undefined {
    const a = parseIP(ip);
    return a ? this.proxies.get(key(a.family, a.value, dev)) ?? this.proxies.get(key(a.family, a.value, '')) : undefined;
  }
}

function key(family: Family, value: bigint, dev: string): string {
  return `${family}|${value}|${dev}`;
}

export type NeighbourResolution =
  /** The kernel has (or needs no) link-layer address: packets go out now. */
  | { status: 'usable'; entry?: Neighbour; lladdr?: string; reason: string }
  /** An entry exists but cannot be used: FAILED (nobody answered) or INCOMPLETE (still asking). */
  | { status: 'unusable'; entry: Neighbour; reason: string }
  /** No entry: the kernel would send ARP / neighbour solicitation first (outcome unknown). */
  | { status: 'absent'; reason: string };

/**
 * Resolution of next hop `ip` on device `dev`. Pass the interface when known: devices with
 * the NOARP flag (tun, ipip, lo, point-to-point) never resolve, so a missing entry is fine there.
 */
export function resolveNeighbour(
  table: NeighbourTable,
  ip: string,
  dev: string,
  iface?: Interface,
): NeighbourResolution {
  const entry = table.lookup(ip, dev);
  if (entry) {
    const usable = entry.states.find((s) => USABLE.has(s));
    if (usable) {
      const r: NeighbourResolution = { status: 'usable', entry, reason: `${ip} on ${dev} is ${usable}` };
      if (entry.lladdr !== undefined) r.lladdr = entry.lladdr;
      return r;
    }
    if (entry.states.length === 0 && iface?.flags.includes('NOARP')) {
      return { status: 'usable', entry, reason: `${dev} does not use ARP` };
    }
    const st = entry.states.join(',') || 'no state';
    const why = entry.states.includes('FAILED')
      ? 'resolution failed: nobody answered'
      : entry.states.includes('INCOMPLETE')
        ? 'resolution in progress: no answer yet'
        : 'no usable link-layer address';
    return { status: 'unusable', entry, reason: `${ip} on ${dev} is ${st}: ${why}` };
  }
  if (iface?.flags.includes('NOARP')) return { status: 'usable', reason: `${dev} does not use ARP` };
  const proto = parseIP(ip)?.family === 6 ? 'neighbour solicitation' : 'ARP';
  return { status: 'absent', reason: `no neighbour entry for ${ip} on ${dev}: the kernel would send ${proto} first` };
}

/** Convenience: whether the next hop resolves now (usable entry or a device that needs none). */
export function neighbourUsable(table: NeighbourTable, ip: string, dev: string, iface?: Interface): boolean {
  return resolveNeighbour(table, ip, dev, iface).status === 'usable';
}
