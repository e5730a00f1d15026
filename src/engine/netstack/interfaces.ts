// Interfaces of one network namespace from `ip -j -d link show` + `ip -j -d addr show`
// (without `-d` too), and the questions the router and the assertions ask of them:
// is it up, who is its veth peer, which ports does a bridge have, which source address.
import type { AddressScope, BridgeInfo, Interface, InterfaceAddress, TunnelInfo, VxlanInfo } from './interfaces-model';
import { type Family, type IP, contains, parseIP, parsePrefix } from './ip';
import { type ElementReader, type JsonArrayReader, parseJsonArray } from './iproute-json';

const LINK_SOURCE = 'ip -j -d link';
const ADDR_SOURCE = 'ip -j -d addr';

/** Tunnel kinds whose `info_data` carries local/remote/link/ttl. */
const TUNNEL_KINDS = new Set(['ipip', 'gre', 'gretap', 'ip6tnl', 'ip6gre', 'ip6gretap', 'sit', 'ip6ip6', 'erspan', 'ip6erspan', 'vti', 'vti6']);

/** iproute2 prints these address flags as boolean fields of an `addr_info` entry. */
const ADDRESS_FLAGS = [
  'temporary', 'nodad', 'optimistic', 'dadfailed', 'home', 'deprecated', 'tentative', 'dynamic',
  'mngtmpaddr', 'noprefixroute', 'autojoin', 'stable-privacy',
];

/**
 * Parses the two dumps into interfaces with their addresses. The link dump is authoritative
 * for which interfaces exist; an interface that only the address dump shows (created between
 * the two commands) is taken from the address dump, which carries the same link fields.
 */
export function parseInterfaces(linkJson: string, addrJson: string): Interface[] {
  const links = parseJsonArray(linkJson, LINK_SOURCE);
  const addrs = parseJsonArray(addrJson, ADDR_SOURCE);
  const out: Interface[] = [];
  const byIndex = new Map<number, Interface>();
  const linkDetailed = hasDetails(links);
  for (let i = 0; i < links.items.length; i++) {
    const el = links.object(i);
    const iface = readLink(el, linkDetailed);
    if (byIndex.has(iface.index)) el.fail('ifindex', `duplicate ifindex ${iface.index}`);
    byIndex.set(iface.index, iface);
    out.push(iface);
  }
  const addrDetailed = hasDetails(addrs);
  for (let i = 0; i < addrs.items.length; i++) {
    const el = addrs.object(i);
    const index = el.uint('ifindex');
    let iface = byIndex.get(index);
    if (!iface) {
      iface = readLink(el, addrDetailed);
      byIndex.set(index, iface);
      out.push(iface);
    } else if (iface.kind === 'unknown' && addrDetailed) {
      // Link dump without -d but address dump with -d: take the details from there.
      const detailed = readLink(el, true);
      Object.assign(iface, pickDetails(detailed));
    }
    for (const a of el.optObjectArray('addr_info') ?? []) {
      const addr = readAddress(a);
      if (addr) iface.addresses.push(addr);
    }
  }
  resolveNames(out);
  return out;
}

/** `-d` adds fields that a plain `ip -j link` never prints; `linkinfo` alone is not enough (NICs lack it). */
function hasDetails(arr: JsonArrayReader): boolean {
  return arr.items.some(
    (it) => it !== null && typeof it === 'object' && ('promiscuity' in it || 'min_mtu' in it || 'linkinfo' in it || 'inet6_addr_gen_mode' in it),
  );
}

function pickDetails(d: Interface): Partial<Interface> {
  const p: Partial<Interface> = { kind: d.kind };
  if (d.slaveKind !== undefined) p.slaveKind = d.slaveKind;
  if (d.bridgePortState !== undefined) p.bridgePortState = d.bridgePortState;
  if (d.vxlan) p.vxlan = d.vxlan;
  if (d.tunnel) p.tunnel = d.tunnel;
  if (d.mode !== undefined) p.mode = d.mode;
  if (d.bridge) p.bridge = d.bridge;
  return p;
}

function readLink(el: ElementReader, detailed: boolean): Interface {
  const index = el.uint('ifindex');
  if (index === 0) el.fail('ifindex', 'ifindex 0 is not a valid interface index');
  const name = el.string('ifname');
  const flags = el.optStringArray('flags') ?? [];
  const linkType = el.optString('link_type');
  const info = el.optObject('linkinfo');
  const infoKind = info?.optString('info_kind');
  let kind: string;
  if (infoKind) kind = infoKind;
  else if (linkType === 'loopback' || flags.includes('LOOPBACK')) kind = 'loopback';
  else kind = detailed ? 'device' : 'unknown';
  const iface: Interface = {
    index,
    name,
    kind,
    mtu: el.optUint('mtu') ?? 0,
    adminUp: flags.includes('UP'),
    lowerUp: flags.includes('LOWER_UP'),
    operState: el.optString('operstate') ?? 'UNKNOWN',
    flags: [...flags],
    addresses: [],
  };
  const mac = el.optString('address');
  if (mac !== undefined) iface.mac = mac;
  if (linkType !== undefined) iface.linkType = linkType;
  const master = el.optString('master');
  if (master !== undefined) iface.master = master;
  const linkIndex = el.optUint('link_index');
  if (linkIndex !== undefined) iface.linkIndex = linkIndex;
  const netnsId = el.optNumber('link_netnsid');
  if (netnsId !== undefined) {
    if (!Number.isInteger(netnsId)) el.fail('link_netnsid', `expected an integer, got ${netnsId}`);
    iface.linkNetnsId = netnsId;
  }
  // `link` is the peer/lower device by name when in this namespace; `null` prints as "NONE".
  const linkName = el.optString('link');
  if (linkName !== undefined) iface.linkName = linkName;
  if (info) readLinkInfo(info, iface);
  return iface;
}

function readLinkInfo(info: ElementReader, iface: Interface): void {
  const data = info.optObject('info_data');
  if (data) {
    if (iface.kind === 'vxlan') iface.vxlan = readVxlan(data);
    else if (iface.kind === 'bridge') iface.bridge = readBridge(data);
    else if (TUNNEL_KINDS.has(iface.kind)) iface.tunnel = readTunnel(data);
    else if (iface.kind === 'macvlan' || iface.kind === 'macvtap' || iface.kind === 'ipvlan' || iface.kind === 'ipvtap') {
      const mode = data.optString('mode');
      if (mode !== undefined) iface.mode = mode;
    }
  }
  const slaveKind = info.optString('info_slave_kind');
  if (slaveKind !== undefined) iface.slaveKind = slaveKind;
  const slave = info.optObject('info_slave_data');
  if (slave && slaveKind === 'bridge') {
    const state = slave.optString('state');
    if (state !== undefined) iface.bridgePortState = state;
  }
}

function readVxlan(d: ElementReader): VxlanInfo {
  const vni = d.optUint('id');
  if (vni === undefined) d.fail('id', 'missing VNI');
  const v: VxlanInfo = {
    vni,
    // The kernel resolves dstport 0 to its module default (udp_port, 8472) at creation time.
    port: d.optUint('port') || 8472,
    learning: d.optBool('learning') ?? true,
  };
  const local = ipField(d, 'local') ?? ipField(d, 'local6');
  if (local !== undefined) v.local = local;
  const remote = ipField(d, 'remote') ?? ipField(d, 'remote6') ?? ipField(d, 'group') ?? ipField(d, 'group6');
  if (remote !== undefined) v.remote = remote;
  const underlay = d.optString('link');
  if (underlay !== undefined) v.underlay = underlay;
  return v;
}

function readBridge(d: ElementReader): BridgeInfo {
  const b: BridgeInfo = {};
  const flag = (field: string) => {
    const v = d.optUint(field);
    return v === undefined ? undefined : v !== 0;
  };
  const vf = flag('vlan_filtering');
  if (vf !== undefined) b.vlanFiltering = vf;
  const stp = flag('stp_state');
  if (stp !== undefined) b.stp = stp;
  const nf4 = flag('nf_call_iptables');
  if (nf4 !== undefined) b.nfCallIptables = nf4;
  const nf6 = flag('nf_call_ip6tables');
  if (nf6 !== undefined) b.nfCallIp6tables = nf6;
  return b;
}

function readTunnel(d: ElementReader): TunnelInfo {
  const t: TunnelInfo = {};
  // `any` is how iproute2 prints an unset endpoint of a tunnel.
  const local = d.optString('local');
  if (local !== undefined && local !== 'any') t.local = local;
  const remote = d.optString('remote');
  if (remote !== undefined && remote !== 'any') t.remote = remote;
  const underlay = d.optString('link');
  if (underlay !== undefined) t.underlay = underlay;
  const ttl = d.optUint('ttl');
  if (ttl !== undefined) t.ttl = ttl;
  return t;
}

function ipField(d: ElementReader, field: string): string | undefined {
  const s = d.optString(field);
  if (s === undefined) return undefined;
  if (!parseIP(s)) d.fail(field, `not an IP address: ${JSON.stringify(s)}`);
  return s;
}

const FAMILIES: Record<string, Family> = { inet: 4, inet6: 6 };

function readAddress(a: ElementReader): InterfaceAddress | undefined {
  const familyName = a.optString('family');
  if (familyName === undefined) a.fail('family', 'missing');
  const family = FAMILIES[familyName];
  if (family === undefined) return undefined; // other families (e.g. mpls) carry no IP address
  const address = a.string('local');
  const ip = parseIP(address);
  if (!ip || ip.family !== family) a.fail('local', `not an ${familyName} address: ${JSON.stringify(address)}`);
  const prefixLen = a.uint('prefixlen');
  if (prefixLen > (family === 4 ? 32 : 128)) a.fail('prefixlen', `prefix length ${prefixLen} too long for ${familyName}`);
  const scopeText = a.optString('scope') ?? 'global';
  const scope: AddressScope = /^\d+$/.test(scopeText) ? Number(scopeText) : (scopeText as AddressScope);
  const flags: string[] = [];
  for (const f of ADDRESS_FLAGS) if (a.optBool(f) === true) flags.push(f);
  const out: InterfaceAddress = { family, address, prefixLen, scope, secondary: a.optBool('secondary') === true, flags };
  // For point-to-point addresses iproute2 prints the peer as `address`.
  const peer = a.optString('address');
  if (peer !== undefined) out.peer = peer;
  const broadcast = a.optString('broadcast');
  if (broadcast !== undefined) out.broadcast = broadcast;
  const label = a.optString('label');
  if (label !== undefined) out.label = label;
  return out;
}

/** Fills masterIndex and, for same-namespace links printed by name, linkIndex. */
function resolveNames(list: Interface[]): void {
  const byName = new Map(list.map((i) => [i.name, i]));
  for (const iface of list) {
    if (iface.master !== undefined) {
      const m = byName.get(iface.master);
      if (m) iface.masterIndex = m.index;
    }
    if (iface.linkIndex === undefined && iface.linkName !== undefined) {
      const peer = byName.get(iface.linkName);
      if (peer) iface.linkIndex = peer.index;
      else {
        // iproute2 prints `ifN` when the index has no name in the namespace it looked in.
        const m = /^if(\d+)$/.exec(iface.linkName);
        if (m) iface.linkIndex = Number(m[1]);
      }
    }
  }
}

// ---- lookups ----------------------------------------------------------------------------------

export function interfaceByName(list: readonly Interface[], name: string): Interface | undefined {
  return list.find((i) => i.name === name);
}

export function interfaceByIndex(list: readonly Interface[], index: number): Interface | undefined {
  return list.find((i) => i.index === index);
}

/** Interfaces enslaved to the bridge (by master index when known, else by name). */
export function bridgePorts(list: readonly Interface[], bridge: Interface): Interface[] {
  return list.filter((i) =>
    i.masterIndex !== undefined ? i.masterIndex === bridge.index : i.master === bridge.name,
  );
}

/**
 * Whether the interface passes packets: administratively up and with carrier. Interfaces
 * without a carrier notion report operstate UNKNOWN and still work when up — loopback, and
 * tun/tap with their reader attached (without one, the kernel clears carrier: NO-CARRIER).
 */
export function isUp(iface: Interface): boolean {
  return downReason(iface) === undefined;
}

/** Why `isUp` is false, in words for an assertion; undefined when up. */
export function downReason(iface: Interface): string | undefined {
  if (!iface.adminUp) return `${iface.name} is administratively down`;
  if (iface.lowerUp || iface.operState === 'UP') return undefined;
  if (iface.flags.includes('NO-CARRIER')) return `${iface.name} has no carrier (NO-CARRIER)`;
  if (iface.operState === 'UNKNOWN' && (iface.kind === 'loopback' || iface.kind === 'tun')) return undefined;
  return `${iface.name} is up but its link is down (operstate ${iface.operState}, no LOWER_UP)`;
}

/** Kernel scope numbers (rtnetlink RT_SCOPE_*): smaller means wider. */
export function scopeValue(scope: AddressScope): number {
  if (typeof scope === 'number') return scope;
  switch (scope) {
    case 'global': return 0;
    case 'site': return 200;
    case 'link': return 253;
    case 'host': return 254;
    case 'nowhere': return 255;
    default: return 0;
  }
}

export interface PrimaryAddressOptions {
  /**
   * Widest scope the caller can use (an address qualifies when its scope is at most this
   * wide... i.e. scopeValue(addr) <= scopeValue(maxScope)). Default `link`: anything but host.
   */
  maxScope?: AddressScope;
  /** Destination (or gateway): an address whose subnet contains it is preferred, as the kernel does. */
  dst?: string;
}

/**
 * The interface's address to use as source for `family`, following inet_select_addr for IPv4:
 * primary (non-secondary) addresses only, scope no narrower than allowed, the first whose subnet
 * contains `dst`, else the first. For IPv6 (a simplification of ipv6_dev_get_saddr): skips
 * tentative and dadfailed addresses, prefers one containing `dst`, then not deprecated.
 */
export function primaryAddress(
  iface: Interface,
  family: Family,
  opts: PrimaryAddressOptions = {},
): InterfaceAddress | undefined {
  const maxScope = scopeValue(opts.maxScope ?? 'link');
  const dst: IP | undefined = opts.dst !== undefined ? parseIP(opts.dst) : undefined;
  const inSubnet = (a: InterfaceAddress) => {
    if (!dst) return false;
    const p = parsePrefix(`${a.address}/${a.prefixLen}`);
    return p !== undefined && contains(p, dst);
  };
  const candidates = iface.addresses.filter(
    (a) =>
      a.family === family &&
      scopeValue(a.scope) <= maxScope &&
      (family === 4 ? !a.secondary : !a.flags.includes('tentative') && !a.flags.includes('dadfailed')),
  );
  if (candidates.length === 0) return undefined;
  if (family === 4) return candidates.find(inSubnet) ?? candidates[0];
  const rank = (a: InterfaceAddress) => (inSubnet(a) ? 0 : 2) + (a.flags.includes('deprecated') ? 1 : 0);
  let best = candidates[0];
  for (const a of candidates) if (rank(a) < rank(best)) best = a;
  return best;
}

// ---- veth peers across namespaces -------------------------------------------------------------

/** One namespace's interfaces, as the peer resolution needs them. */
export interface NamespaceView {
  /** Stable id of the namespace (name, or netns inode). */
  id: string;
  interfaces: readonly Interface[];
  /**
   * This namespace's netnsid → id of the namespace it denotes (from `ip -j netns list-id`
   * run inside it), when known. netnsids are local: the same peer namespace has a different
   * id (or none yet) in every other namespace, so they can only be read through this map.
   */
  netnsIds?: ReadonlyMap<number, string>;
}

export type PeerResolution =
  | { status: 'found'; namespace: string; peer: Interface; by: 'same-namespace' | 'netnsid' | 'ifindex' }
  | { status: 'ambiguous'; candidates: { namespace: string; peer: Interface }[]; reason: string }
  | { status: 'not-found'; reason: string };

/** `ip -j netns list-id` → netnsid → namespace name (ids without a known name are left out). */
export function parseNetnsIds(json: string): Map<number, string> {
  const arr = parseJsonArray(json, 'ip -j netns list-id');
  const out = new Map<number, string>();
  for (let i = 0; i < arr.items.length; i++) {
    const el: ElementReader = arr.object(i);
    const id = el.optNumber('nsid');
    if (id === undefined || !Number.isInteger(id)) el.fail('nsid', 'missing or not an integer');
    const name = el.optString('name');
    if (name !== undefined) out.set(id, name);
  }
  return out;
}

/**
 * Finds the other end of a veth (or the lower device of any link with `link_index`).
 * Same namespace when no netnsid is printed; through the namespace's netnsid map when it has
 * the id; otherwise by ifindex alone: an interface in another namespace whose ifindex is our
 * link index and whose own link index is our ifindex (a veth pair points both ways). ifindexes
 * repeat across namespaces, so more than one such interface is reported as ambiguous rather
 * than guessed.
 */
export function resolveVethPeer(namespaces: readonly NamespaceView[], nsId: string, iface: Interface, index = new PeerIndex(namespaces)): PeerResolution {
  const here = index.namespace(nsId);
  if (!here) return { status: 'not-found', reason: `namespace ${nsId} is not among those given` };
  if (iface.linkIndex === undefined) {
    return { status: 'not-found', reason: `${iface.name} has no link index (no peer, or iproute2 printed none)` };
  }
  if (iface.linkNetnsId === undefined) {
    const peer = index.byIfindex(here, iface.linkIndex);
    if (peer) return { status: 'found', namespace: nsId, peer, by: 'same-namespace' };
    return { status: 'not-found', reason: `${iface.name}'s peer ifindex ${iface.linkIndex} is not in namespace ${nsId}` };
  }
  const targetId = here.netnsIds?.get(iface.linkNetnsId);
  if (targetId !== undefined) {
    const target = index.namespace(targetId);
    if (!target) {
      return { status: 'not-found', reason: `${iface.name}'s peer is in namespace ${targetId} (netnsid ${iface.linkNetnsId}), which was not collected` };
    }
    const peer = index.byIfindex(target, iface.linkIndex);
    if (peer) return { status: 'found', namespace: targetId, peer, by: 'netnsid' };
    return { status: 'not-found', reason: `no ifindex ${iface.linkIndex} in namespace ${targetId} (peer of ${iface.name})` };
  }
  const candidates: { namespace: string; peer: Interface }[] = [];
  for (const { ns, i } of index.pointingBack(iface.linkIndex, iface.index)) {
    if (ns.id === nsId) continue;
    if (iface.kind !== 'unknown' && i.kind !== 'unknown' && i.kind !== iface.kind) continue;
    // If the candidate's namespace can name where its peer lives, it must be us.
    const back = ns.netnsIds?.get(i.linkNetnsId!);
    if (back !== undefined && back !== nsId) continue;
    candidates.push({ namespace: ns.id, peer: i });
  }
  if (candidates.length === 1) return { status: 'found', ...candidates[0], by: 'ifindex' };
  if (candidates.length === 0) {
    return { status: 'not-found', reason: `no interface with ifindex ${iface.linkIndex} pointing back to ${iface.name} (ifindex ${iface.index}) in the other namespaces` };
  }
  return {
    status: 'ambiguous',
    candidates,
    reason: `netnsid ${iface.linkNetnsId} of ${nsId} is unknown and ${candidates.length} namespaces have an ifindex ${iface.linkIndex} pointing back to ifindex ${iface.index}: ${candidates.map((c) => `${c.namespace}/${c.peer.name}`).join(', ')}`,
  };
}

/**
 * Lookups of resolveVethPeer by map instead of scans, built once for pairVeths: pairing a node's
 * veths was O(veths × interfaces). Each answer is what the scan found first (namespaces and
 * interfaces in their given order).
 */
export class PeerIndex {
  private readonly byId = new Map<string, NamespaceView>();
  private readonly ifindexes = new Map<NamespaceView, Map<number, Interface>>();
  /** ifindex → link index → the interfaces with both (and a link netnsid), in order. */
  private back?: Map<number, Map<number, { ns: NamespaceView; i: Interface }[]>>;

  constructor(private readonly namespaces: readonly NamespaceView[]) {
    for (const ns of namespaces) if (!this.byId.has(ns.id)) this.byId.set(ns.id, ns);
  }

  namespace(id: string): NamespaceView | undefined {
    return this.byId.get(id);
  }

  /** The first interface of `ns` with this ifindex. */
  byIfindex(ns: NamespaceView, ifindex: number): Interface | undefined {
    let m = this.ifindexes.get(ns);
    if (!m) {
      m = new Map();
      for (const i of ns.interfaces) if (!m.has(i.index)) m.set(i.index, i);
      this.ifindexes.set(ns, m);
    }
    return m.get(ifindex);
  }

  /** Interfaces (in any namespace) with this ifindex and link index and a link netnsid, in order. */
  pointingBack(ifindex: number, linkIndex: number | undefined): readonly { ns: NamespaceView; i: Interface }[] {
    if (!this.back) {
      this.back = new Map();
      for (const ns of this.namespaces) {
        for (const i of ns.interfaces) {
          if (i.linkIndex === undefined || i.linkNetnsId === undefined) continue;
          let byLink = this.back.get(i.index);
          if (!byLink) this.back.set(i.index, (byLink = new Map()));
          const list = byLink.get(i.linkIndex);
          if (list) list.push({ ns, i });
          else byLink.set(i.linkIndex, [{ ns, i }]);
        }
      }
    }
    return (linkIndex === undefined ? undefined : this.back.get(ifindex)?.get(linkIndex)) ?? [];
  }
}

export interface VethPair {
  a: { namespace: string; iface: Interface };
  b: { namespace: string; iface: Interface };
  by: 'same-namespace' | 'netnsid' | 'ifindex';
}

/** Pairs every veth of the given namespaces; what cannot be paired is listed with the reason. */
export function pairVeths(namespaces: readonly NamespaceView[]): {
  pairs: VethPair[];
  unresolved: { namespace: string; iface: Interface; resolution: PeerResolution }[];
} {
  const pairs: VethPair[] = [];
  const unresolved: { namespace: string; iface: Interface; resolution: PeerResolution }[] = [];
  const done = new Set<Interface>();
  const index = new PeerIndex(namespaces);
  for (const ns of namespaces) {
    for (const iface of ns.interfaces) {
      if (iface.kind !== 'veth' || done.has(iface)) continue;
      const r = resolveVethPeer(namespaces, ns.id, iface, index);
      if (r.status === 'found') {
        done.add(iface);
        done.add(r.peer);
        pairs.push({ a: { namespace: ns.id, iface }, b: { namespace: r.namespace, iface: r.peer }, by: r.by });
      } else unresolved.push({ namespace: ns.id, iface, resolution: r });
    }
  }
  return { pairs, unresolved };
}
