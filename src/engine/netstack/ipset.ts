// ipset: the model of `ipset save` output and set membership exactly as the kernel's
// `-m set --match-set NAME flags` evaluates it (net/netfilter/ipset/ip_set_core.c,
// ip_set_hash_gen.h and the per-type kadt functions). Points where the kernel is subtle:
// * a flag list shorter than the set's dimension never matches (ip_set_test: opt->dim <
//   set->type->dimension → 0); a longer one is fine, the extra flags are ignored;
// * the set family must equal the packet family (list:set and hash:mac are family-less);
// * hash:net* types try the prefix lengths present in the set from the most specific down, and
//   the first element found decides — a `nomatch` element there means "no match";
// * hash:net,iface stops at the first prefix length where the net exists at all, even when the
//   interface of that element differs (the `multi` flag of mtype_test_cidrs);
// * the port dimension carries the L4 protocol; ICMP "ports" are (type << 8) | code, other
//   protocols without ports are `proto:0`;
// * list:set tests its member sets in order with the same flags.
import { type IP, type Prefix, type Family, parseIP, parsePrefix, mask } from './ip';
import { ParseError } from './parse-error';
import { words, type Token } from './tokens';
import { engineLimits, limitNamed } from '../../shared/limits';

export type IpsetType =
  | 'hash:ip'
  | 'hash:mac'
  | 'hash:ip,mac'
  | 'hash:net'
  | 'hash:net,net'
  | 'hash:ip,port'
  | 'hash:net,port'
  | 'hash:ip,port,ip'
  | 'hash:ip,port,net'
  | 'hash:net,port,net'
  | 'hash:net,iface'
  | 'hash:ip,mark'
  | 'bitmap:ip'
  | 'bitmap:ip,mac'
  | 'bitmap:port'
  | 'list:set';

/** One dimension of an element, as the kernel stores it. */
export type DimKind = 'ip' | 'net' | 'port' | 'mac' | 'iface' | 'mark' | 'set';

/** Element dimensions of each type (the kernel's `dimension` is this length). */
export const IPSET_TYPE_DIMS: Record<IpsetType, DimKind[]> = {
  'hash:ip': ['ip'],
  'hash:mac': ['mac'],
  'hash:ip,mac': ['ip', 'mac'],
  'hash:net': ['net'],
  'hash:net,net': ['net', 'net'],
  'hash:ip,port': ['ip', 'port'],
  'hash:net,port': ['net', 'port'],
  'hash:ip,port,ip': ['ip', 'port', 'ip'],
  'hash:ip,port,net': ['ip', 'port', 'net'],
  'hash:net,port,net': ['net', 'port', 'net'],
  'hash:net,iface': ['net', 'iface'],
  'hash:ip,mark': ['ip', 'mark'],
  'bitmap:ip': ['ip'],
  'bitmap:ip,mac': ['ip', 'mac'],
  'bitmap:port': ['port'],
  'list:set': ['set'],
};

export function isIpsetType(t: string): t is IpsetType {
  return Object.prototype.hasOwnProperty.call(IPSET_TYPE_DIMS, t);
}

export interface IpsetCreateOptions {
  /** Absent for family-less types (hash:mac, list:set); bitmap:ip* are always inet. */
  family?: Family;
  hashsize?: number;
  maxelem?: number;
  bucketsize?: number;
  initval?: number;
  /** Default timeout of the set (elements then carry their remaining timeout). */
  timeout?: number;
  counters: boolean;
  comment: boolean;
  skbinfo: boolean;
  forceadd: boolean;
  /** hash:ip / bitmap:ip: elements are stored (and packets looked up) as ip & mask. */
  netmask?: number;
  /** hash:ip / hash:net,net (newer kernels): arbitrary mask instead of a prefix length. */
  bitmask?: IP;
  /** hash:ip,mark: packet mark & markmask is looked up. */
  markmask?: number;
  /** bitmap:ip range. */
  ipRange?: { from: IP; to: IP };
  /** bitmap:port range. */
  portRange?: { from: number; to: number };
  /** list:set size. */
  size?: number;
}

/** A port dimension value: protocol number plus port (ICMP: type << 8 | code). */
export interface ProtoPort {
  proto: number;
  port: number;
}

export interface IfaceValue {
  name: string;
  /** `add s 10.0.0.0/8,eth wildcard`: the element name is a prefix of the interface name. */
  wildcard: boolean;
  /** `physdev:eth0`: bridge port, not the L3 interface. */
  physdev: boolean;
}

export type DimValue =
  | { kind: 'ip'; ip: IP }
  | { kind: 'net'; net: Prefix }
  | { kind: 'port'; pp: ProtoPort }
  | { kind: 'mac'; mac: string | undefined }
  | { kind: 'iface'; iface: IfaceValue }
  | { kind: 'mark'; mark: number }
  | { kind: 'set'; name: string };

export interface IpsetEntry {
  /** The element text as it appeared on the `add` line (a range there yields several entries). */
  text: string;
  dims: DimValue[];
  nomatch: boolean;
  timeout?: number;
  packets?: bigint;
  bytes?: bigint;
  comment?: string;
  skbmark?: { value: number; mask: number };
  skbprio?: string;
  skbqueue?: number;
  /** 1-based line of the `add` line. */
  line: number;
}

export interface IpsetSet {
  name: string;
  type: IpsetType;
  options: IpsetCreateOptions;
  /** In insertion order (order matters for list:set). */
  entries: IpsetEntry[];
  /** 1-based line of the `create` line. */
  line: number;
  /** Lookup index, built once by `indexSet` (lazily by `matchSet` if absent). */
  index?: SetIndex;
}

export interface IpsetRegistry {
  sets: Map<string, IpsetSet>;
}

export interface SetQueryPacket {
  src: IP;
  dst: IP;
  proto: string /* 'tcp'|'udp'|'icmp'|'sctp'|... or a protocol number */;
  sport?: number;
  dport?: number;
  /** ICMP/ICMPv6 type and code: the "port" of ICMP in ipset. */
  icmpType?: number;
  icmpCode?: number;
  iif?: string;
  oif?: string;
  /** Bridge ports, for `physdev:` elements of hash:net,iface. */
  physIn?: string;
  physOut?: string;
  srcMac?: string;
  dstMac?: string;
  mark?: number;
}

export type SetFlag = 'src' | 'dst';

// ---------------------------------------------------------------------------------------------
// Protocols and ICMP names as ipset prints and parses them.

const PROTO_NUMBERS: Record<string, number> = {
  ip: 0, icmp: 1, igmp: 2, ggp: 3, ipencap: 4, st: 5, tcp: 6, egp: 8, igp: 9, pup: 12, udp: 17,
  hmp: 20, 'xns-idp': 22, rdp: 27, 'iso-tp4': 29, dccp: 33, xtp: 36, ddp: 37, 'idpr-cmtp': 38,
  ipv6: 41, 'ipv6-route': 43, 'ipv6-frag': 44, idrp: 45, rsvp: 46, gre: 47, esp: 50, ah: 51,
  skip: 57, 'ipv6-icmp': 58, icmpv6: 58, icmp6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, rspf: 73,
  vmtp: 81, eigrp: 88, ospf: 89, 'ax.25': 93, ipip: 94, etherip: 97, encap: 98, pim: 103,
  ipcomp: 108, vrrp: 112, l2tp: 115, isis: 124, sctp: 132, fc: 133, 'mobility-header': 135,
  udplite: 136, 'mpls-in-ip': 137, manet: 138, hip: 139, shim6: 140, wesp: 141, rohc: 142,
  ethernet: 143,
};

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_SCTP = 132;
const IPPROTO_UDPLITE = 136;

/** Protocol number of a name or number; undefined if unknown. */
export function protoNumber(p: string): number | undefined {
  const s = p.toLowerCase();
  if (/^\d{1,3}$/.test(s)) {
    const n = Number(s);
    return n <= 255 ? n : undefined;
  }
  return PROTO_NUMBERS[s];
}

// ipset's own tables (lib/icmp.c, lib/icmpv6.c); `ping`/`pong` are aliases.
const ICMP_NAMES: Record<string, number> = {
  'echo-reply': 0x0000, pong: 0x0000, 'network-unreachable': 0x0300, 'host-unreachable': 0x0301,
  'protocol-unreachable': 0x0302, 'port-unreachable': 0x0303, 'fragmentation-needed': 0x0304,
  'source-route-failed': 0x0305, 'network-unknown': 0x0306, 'host-unknown': 0x0307,
  'network-prohibited': 0x0309, 'host-prohibited': 0x030a, 'TOS-network-unreachable': 0x030b,
  'TOS-host-unreachable': 0x030c, 'communication-prohibited': 0x030d,
  'host-precedence-violation': 0x030e, 'precedence-cutoff': 0x030f, 'source-quench': 0x0400,
  'network-redirect': 0x0500, 'host-redirect': 0x0501, 'TOS-network-redirect': 0x0502,
  'TOS-host-redirect': 0x0503, 'echo-request': 0x0800, ping: 0x0800,
  'router-advertisement': 0x0900, 'router-solicitation': 0x0a00, 'ttl-zero-during-transit': 0x0b00,
  'ttl-zero-during-reassembly': 0x0b01, 'ip-header-bad': 0x0c00, 'required-option-missing': 0x0c01,
  'timestamp-request': 0x0d00, 'timestamp-reply': 0x0e00, 'address-mask-request': 0x1100,
  'address-mask-reply': 0x1200,
};
const ICMPV6_NAMES: Record<string, number> = {
  'no-route': 0x0100, 'communication-prohibited': 0x0101, 'address-unreachable': 0x0103,
  'port-unreachable': 0x0104, 'packet-too-big': 0x0200, 'ttl-zero-during-transit': 0x0300,
  'ttl-zero-during-reassembly': 0x0301, 'bad-header': 0x0400, 'unknown-header-type': 0x0401,
  'unknown-option': 0x0402, 'echo-request': 0x8000, ping: 0x8000, 'echo-reply': 0x8100,
  pong: 0x8100, 'router-solicitation': 0x8500, 'router-advertisement': 0x8600,
  'neighbour-solicitation': 0x8700, 'neigbour-solicitation': 0x8700,
  'neighbour-advertisement': 0x8800, 'neigbour-advertisement': 0x8800, redirect: 0x8900,
};

function lookupIcmpName(table: Record<string, number>, name: string): number | undefined {
  if (Object.prototype.hasOwnProperty.call(table, name)) return table[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(table)) if (k.toLowerCase() === lower) return table[k];
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Element parsing. Throws ElementError (converted to ParseError with a position by the parser).

export class ElementError extends Error {}

/** An element expands to more entries than the caller allowed (`maxCount`). */
export class TooManyElements extends ElementError {}

/** Normalises a MAC address to lower-case colon form; undefined if it is not one. */
export function normalizeMac(text: string): string | undefined {
  const m = /^([0-9a-fA-F]{1,2})([:-])([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})$/.exec(
    text,
  );
  if (!m) return undefined;
  return [m[1], m[3], m[4], m[5], m[6], m[7]].map((b) => b.toLowerCase().padStart(2, '0')).join(':');
}

function parsePortNumber(s: string): number {
  if (!/^\d{1,5}$/.test(s)) throw new ElementError(`bad port "${s}" (a number 0-65535 is expected)`);
  const n = Number(s);
  if (n > 65535) throw new ElementError(`port ${n} is out of range 0-65535`);
  return n;
}

/** `[proto:]port[-port]`, `icmp:name`, `icmp:type/code`, `proto:0` → list of (proto, port). */
export function parseProtoPorts(text: string, family: Family, maxCount: number): ProtoPort[] {
  let proto = IPPROTO_TCP; // a bare port means TCP (ipset's documented default)
  let rest = text;
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const pn = protoNumber(text.slice(0, colon));
    if (pn === undefined) throw new ElementError(`unknown protocol "${text.slice(0, colon)}"`);
    proto = pn;
    rest = text.slice(colon + 1);
  }
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    if (proto === IPPROTO_ICMP && family === 6) throw new ElementError('protocol icmp in an inet6 set (use icmpv6)');
    if (proto === IPPROTO_ICMPV6 && family === 4) throw new ElementError('protocol icmpv6 in an inet set (use icmp)');
    const tc = /^(\d{1,3})\/(\d{1,3})$/.exec(rest);
    if (tc) {
      const t = Number(tc[1]);
      const c = Number(tc[2]);
      if (t > 255 || c > 255) throw new ElementError(`ICMP type/code "${rest}" out of range`);
      return [{ proto, port: (t << 8) | c }];
    }
    const v = lookupIcmpName(proto === IPPROTO_ICMP ? ICMP_NAMES : ICMPV6_NAMES, rest);
    if (v === undefined) throw new ElementError(`unknown ICMP type "${rest}"`);
    return [{ proto, port: v }];
  }
  const withPorts = proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_UDPLITE;
  if (!withPorts) {
    if (rest !== '0') throw new ElementError(`protocol ${text.slice(0, colon)} has no ports: only ":0" is valid`);
    return [{ proto, port: 0 }];
  }
  const dash = rest.indexOf('-');
  if (dash < 0) return [{ proto, port: parsePortNumber(rest) }];
  let a = parsePortNumber(rest.slice(0, dash));
  let b = parsePortNumber(rest.slice(dash + 1));
  if (a > b) [a, b] = [b, a];
  if (b - a + 1 > maxCount) throw new TooManyElements(`port range ${rest} is too large`);
  const out: ProtoPort[] = [];
  for (let p = a; p <= b; p++) out.push({ proto, port: p });
  return out;
}

/** Largest number of elements one `add` line may expand to (the kernel's IPSET_MAX_RANGE). */
export const MAX_EXPANSION = 1 << 20;

function ipFamilyCheck(ip: IP, family: Family, text: string) {
  if (ip.family !== family) throw new ElementError(`address "${text}" is IPv${ip.family} but the set is inet${family === 6 ? '6' : ''}`);
}

/** `a-b` (dash at `dash`) as two addresses of the set's family, in order; ElementError otherwise. */
function addressRange(text: string, dash: number, family: Family): { from: bigint; to: bigint } {
  const a = parseIP(text.slice(0, dash));
  const b = parseIP(text.slice(dash + 1));
  if (!a || !b) throw new ElementError(`bad address range "${text}"`);
  ipFamilyCheck(a, family, text);
  ipFamilyCheck(b, family, text);
  if (a.value > b.value) throw new ElementError(`address range "${text}" goes backwards`);
  return { from: a.value, to: b.value };
}

/** Expands `a-b` or `a/len` (or a single address) into host addresses. */
function expandIPs(text: string, family: Family, maxCount: number, stepLen?: number): IP[] {
  const bitsN = family === 4 ? 32 : 128;
  const step = stepLen === undefined ? 1n : 1n << BigInt(bitsN - stepLen);
  const dash = text.indexOf('-');
  let from: bigint;
  let to: bigint;
  if (dash >= 0) {
    ({ from, to } = addressRange(text, dash, family));
  } else if (text.includes('/')) {
    const p = parsePrefix(text);
    if (!p || !/\/\d+$/.test(text)) throw new ElementError(`bad address/prefix "${text}"`);
    ipFamilyCheck({ family: p.family, value: p.value }, family, text);
    from = p.value;
    to = p.value | (~mask(family, p.len) & mask(family, bitsN));
  } else {
    const a = parseIP(text);
    if (!a) throw new ElementError(`bad address "${text}"`);
    ipFamilyCheck(a, family, text);
    return [a];
  }
  if (stepLen !== undefined) {
    const m = mask(family, stepLen);
    from &= m;
    to &= m;
  }
  if ((to - from) / step + 1n > BigInt(maxCount)) throw new TooManyElements(`address range "${text}" is too large`);
  const out: IP[] = [];
  for (let v = from; v <= to; v += step) out.push({ family, value: v });
  return out;
}

/** Splits an IPv4 range into the minimal list of CIDR blocks (what the kernel stores for hash:net). */
function rangeToPrefixes(from: bigint, to: bigint, family: Family, maxCount: number): Prefix[] {
  const bitsN = family === 4 ? 32 : 128;
  const out: Prefix[] = [];
  let cur = from;
  while (cur <= to) {
    let len = bitsN;
    while (len > 0) {
      const l = len - 1;
      const size = 1n << BigInt(bitsN - l);
      if ((cur & (size - 1n)) !== 0n || cur + size - 1n > to) break;
      len = l;
    }
    out.push({ family, value: cur, len });
    if (out.length > maxCount) throw new TooManyElements('address range expands to too many networks');
    cur += 1n << BigInt(bitsN - len);
  }
  return out;
}

function parseNets(text: string, family: Family, maxCount: number, allowZero: boolean): Prefix[] {
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const { from, to } = addressRange(text, dash, family);
    return rangeToPrefixes(from, to, family, maxCount);
  }
  const p = parsePrefix(text);
  if (!p || (text.includes('/') && !/\/\d+$/.test(text))) throw new ElementError(`bad network "${text}"`);
  ipFamilyCheck({ family: p.family, value: p.value }, family, text);
  if (p.len === 0 && !allowZero) throw new ElementError(`prefix length 0 is not allowed in this set type: "${text}"`);
  return [p];
}

function parseIface(text: string): IfaceValue {
  let s = text;
  let physdev = false;
  if (s.startsWith('physdev:')) {
    physdev = true;
    s = s.slice(8);
  }
  // Prefix matching is the separate `wildcard` add option; a `+` here is part of the name
  // (checked on the kernel: `10.0.0.0/8,veth+` does not match vethb0).
  if (s.length === 0 || s.length > 15 || /[\s/,]/.test(s)) throw new ElementError(`bad interface name "${text}"`);
  return { name: s, wildcard: false, physdev };
}

function parseMark(text: string): number {
  if (!/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(text)) throw new ElementError(`bad mark "${text}"`);
  const n = Number(text);
  if (n > 0xffffffff) throw new ElementError(`mark ${text} is larger than 32 bits`);
  return n;
}

function cartesian(lists: DimValue[][], maxCount: number): DimValue[][] {
  let out: DimValue[][] = [[]];
  for (const l of lists) {
    const next: DimValue[][] = [];
    for (const prefix of out) for (const v of l) next.push([...prefix, v]);
    if (next.length > maxCount) throw new TooManyElements('element expands to too many entries');
    out = next;
  }
  return out;
}

/**
 * Parses the element part of an `add` line for a set, expanding ranges like the kernel does.
 * Returns one dimension list per stored element.
 */
export function parseElement(set: IpsetSet, text: string, maxCount = MAX_EXPANSION): DimValue[][] {
  const dims = IPSET_TYPE_DIMS[set.type];
  const family: Family = set.options.family ?? 4;
  if (set.type === 'list:set') {
    if (!/^\S+$/.test(text) || text.length > 31) throw new ElementError(`bad set name "${text}"`);
    return [[{ kind: 'set', name: text }]];
  }
  const parts = text.split(',');
  // bitmap:ip,mac elements may omit the MAC (the kernel fills it from the first packet).
  if (set.type === 'bitmap:ip,mac' && parts.length === 1) parts.push('');
  if (parts.length !== dims.length) {
    throw new ElementError(`element "${text}" has ${parts.length} part(s) but ${set.type} needs ${dims.length}`);
  }
  const lists: DimValue[][] = dims.map((kind, i): DimValue[] => {
    const p = parts[i];
    switch (kind) {
      case 'ip': {
        if (set.type === 'bitmap:ip' || set.type === 'bitmap:ip,mac') {
          const r = set.options.ipRange;
          const nm = set.options.netmask;
          const ips = expandIPs(p, 4, maxCount, nm);
          for (const ip of ips) {
            if (r && (ip.value < (r.from.value & mask(4, nm ?? 32)) || ip.value > r.to.value)) {
              throw new ElementError(`address ${p} is outside the set range`);
            }
          }
          return ips.map((ip) => ({ kind: 'ip', ip }));
        }
        if (set.type === 'hash:ip' && (set.options.netmask !== undefined || set.options.bitmask)) {
          const m = ipMaskOf(set);
          const seen = new Set<bigint>();
          const out: DimValue[] = [];
          const stepLen = set.options.netmask;
          for (const ip of expandIPs(p, family, maxCount, stepLen)) {
            const v = ip.value & m;
            if (!seen.has(v)) {
              seen.add(v);
              out.push({ kind: 'ip', ip: { family, value: v } });
            }
          }
          return out;
        }
        return expandIPs(p, family, maxCount).map((ip) => ({ kind: 'ip', ip }));
      }
      case 'net':
        return parseNets(p, family, maxCount, set.type === 'hash:net,net' || set.type === 'hash:net,port,net').map((net) => ({
          kind: 'net',
          net,
        }));
      case 'port': {
        if (set.type === 'bitmap:port') {
          // bitmap:port stores bare port numbers; a protocol prefix is accepted and ignored.
          const pps = parseProtoPorts(p, family, maxCount);
          const r = set.options.portRange;
          for (const pp of pps) {
            if (r && (pp.port < r.from || pp.port > r.to)) throw new ElementError(`port ${pp.port} is outside the set range`);
          }
          return pps.map((pp) => ({ kind: 'port', pp: { proto: 0, port: pp.port } }));
        }
        return parseProtoPorts(p, family, maxCount).map((pp) => ({ kind: 'port', pp }));
      }
      case 'mac': {
        if (p === '' && set.type === 'bitmap:ip,mac') return [{ kind: 'mac', mac: undefined }];
        const mac = normalizeMac(p);
        if (!mac) throw new ElementError(`bad MAC address "${p}"`);
        return [{ kind: 'mac', mac }];
      }
      case 'iface':
        return [{ kind: 'iface', iface: parseIface(p) }];
      case 'mark':
        // Stored masked, as the kernel does (hash_ipmark: e.mark &= markmask).
        return [{ kind: 'mark', mark: (parseMark(p) & (set.options.markmask ?? 0xffffffff)) >>> 0 }];
      case 'set':
        return [{ kind: 'set', name: p }];
    }
  });
  return cartesian(lists, maxCount);
}

function ipMaskOf(set: IpsetSet): bigint {
  const family: Family = set.options.family ?? 4;
  if (set.options.bitmask) return set.options.bitmask.value;
  return mask(family, set.options.netmask ?? (family === 4 ? 32 : 128));
}

// ---------------------------------------------------------------------------------------------
// Index and lookup.

/** Key of one element (or query) in an exact-match map. */
type Key = string;

export interface SetIndex {
  /** Exact key (with the net prefix lengths of the entry) → entries (several for hash:net,iface). */
  byKey: Map<Key, IpsetEntry[]>;
  /** Per net dimension (in order of the net dims): prefix lengths present, most specific first. */
  netLens: number[][];
  /** list:set members in order. */
  members: string[];
}

function dimKey(v: DimValue, forNetiface = false): string {
  switch (v.kind) {
    case 'ip':
      return v.ip.value.toString(16);
    case 'net':
      return `${v.net.value.toString(16)}/${v.net.len}`;
    case 'port':
      return `${v.pp.proto}:${v.pp.port}`;
    case 'mac':
      return v.mac ?? '';
    case 'iface':
      return forNetiface ? '' : v.iface.name;
    case 'mark':
      return v.mark.toString(16);
    case 'set':
      return v.name;
  }
}

function entryKey(set: IpsetSet, dims: DimValue[]): Key {
  // bitmap:ip,mac and hash:net,iface keep the MAC / interface out of the key and check them
  // on the found entry (the kernel does the same: one slot per IP, resp. `multi` buckets).
  const parts: string[] = [];
  for (const d of dims) {
    if (set.type === 'bitmap:ip,mac' && d.kind === 'mac') continue;
    if (set.type === 'hash:net,iface' && d.kind === 'iface') continue;
    parts.push(dimKey(d));
  }
  return parts.join(',');
}

/** Builds (or rebuilds) the lookup index of a set. Linear in the number of entries. */
export function indexSet(set: IpsetSet): SetIndex {
  const byKey = new Map<Key, IpsetEntry[]>();
  const dims = IPSET_TYPE_DIMS[set.type];
  const netDims = dims.map((d, i) => (d === 'net' ? i : -1)).filter((i) => i >= 0);
  const lenSets = netDims.map(() => new Set<number>());
  const members: string[] = [];
  for (const e of set.entries) {
    const k = entryKey(set, e.dims);
    const list = byKey.get(k);
    if (list) list.push(e);
    else byKey.set(k, [e]);
    netDims.forEach((di, j) => {
      const d = e.dims[di];
      if (d.kind === 'net') lenSets[j].add(d.net.len);
    });
    if (set.type === 'list:set') {
      const d = e.dims[0];
      if (d.kind === 'set') members.push(d.name);
    }
  }
  const index: SetIndex = { byKey, netLens: lenSets.map((s) => [...s].sort((a, b) => b - a)), members };
  set.index = index;
  return index;
}

/** Packet fields of one dimension, by the flag for that dimension. */
function queryIP(pkt: SetQueryPacket, flag: SetFlag): IP {
  return flag === 'src' ? pkt.src : pkt.dst;
}

/**
 * The (proto, port) the kernel extracts for a port dimension (ip_set_get_ip{4,6}_port):
 * TCP/UDP/SCTP/UDPLITE → the port; ICMP/ICMPv6 → type<<8|code (whatever the flag);
 * any other protocol → port 0. Undefined when the packet lacks the needed field.
 */
function queryPort(pkt: SetQueryPacket, flag: SetFlag): ProtoPort | undefined {
  const proto = protoNumber(pkt.proto);
  if (proto === undefined) return undefined;
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_UDPLITE) {
    const port = flag === 'src' ? pkt.sport : pkt.dport;
    return port === undefined ? undefined : { proto, port };
  }
  // ICMP is only recognised in its own family (ICMP in an IPv6 packet is just "another protocol").
  if ((proto === IPPROTO_ICMP && pkt.src.family === 4) || (proto === IPPROTO_ICMPV6 && pkt.src.family === 6)) {
    if (pkt.icmpType === undefined) return undefined;
    return { proto, port: ((pkt.icmpType & 0xff) << 8) | ((pkt.icmpCode ?? 0) & 0xff) };
  }
  return { proto, port: 0 };
}

function macOf(pkt: SetQueryPacket, flag: SetFlag): string | undefined {
  const m = flag === 'src' ? pkt.srcMac : pkt.dstMac;
  if (m === undefined) return undefined;
  const n = normalizeMac(m);
  // The kernel refuses an all-zero MAC (no L2 header information).
  return n === '00:00:00:00:00:00' ? undefined : n;
}

function ifaceMatches(elem: IfaceValue, pkt: SetQueryPacket, flag: SetFlag): boolean {
  const name = elem.physdev ? (flag === 'src' ? pkt.physIn : pkt.physOut) : flag === 'src' ? pkt.iif : pkt.oif;
  if (name === undefined) return false;
  return elem.wildcard ? name.startsWith(elem.name) : name === elem.name;
}

/**
 * `-m set [!] --match-set NAME flags` as the kernel evaluates it. `flags` = e.g. ['src'],
 * ['dst','dst']. Returns undefined when the set does not exist (the caller reports that).
 */
export function matchSet(sets: IpsetRegistry, name: string, flags: SetFlag[], pkt: SetQueryPacket): boolean | undefined {
  const set = sets.sets.get(name);
  if (!set) return undefined;
  return testSet(sets, set, flags, pkt, 0);
}

function testSet(sets: IpsetRegistry, set: IpsetSet, flags: SetFlag[], pkt: SetQueryPacket, depth: number): boolean {
  const dims = IPSET_TYPE_DIMS[set.type];
  if (flags.length < dims.length) return false;
  const fam = setFamily(set);
  if (fam !== undefined && fam !== pkt.src.family) return false;
  const index = set.index ?? indexSet(set);
  if (set.type === 'list:set') {
    // The kernel forbids list:set inside list:set, so depth > 1 only arises from bad input.
    if (depth > 0) return false;
    for (const m of index.members) {
      const sub = sets.sets.get(m);
      if (sub && testSet(sets, sub, flags, pkt, depth + 1)) return true;
    }
    return false;
  }
  // Query values per dimension; a non-net dimension yields a fixed key part.
  const fixed: (string | undefined)[] = [];
  const netIPs: IP[] = [];
  for (let i = 0; i < dims.length; i++) {
    const flag = flags[i];
    switch (dims[i]) {
      case 'ip': {
        let ip = queryIP(pkt, flag);
        if (set.type === 'hash:ip' && (set.options.netmask !== undefined || set.options.bitmask)) {
          ip = { family: ip.family, value: ip.value & ipMaskOf(set) };
        } else if (set.type === 'bitmap:ip' || set.type === 'bitmap:ip,mac') {
          const r = set.options.ipRange;
          if (r && (ip.value < r.from.value || ip.value > r.to.value)) return false;
          if (set.options.netmask !== undefined) ip = { family: 4, value: ip.value & mask(4, set.options.netmask) };
        }
        fixed.push(ip.value.toString(16));
        break;
      }
      case 'net':
        fixed.push(undefined);
        netIPs.push(queryIP(pkt, flag));
        break;
      case 'port': {
        const pp = queryPort(pkt, flag);
        if (!pp) return false;
        if (set.type === 'bitmap:port') {
          // bitmap:port only looks at TCP and UDP packets (its own ip_set_get_ip_port).
          if (pp.proto !== IPPROTO_TCP && pp.proto !== IPPROTO_UDP) return false;
          const r = set.options.portRange;
          if (r && (pp.port < r.from || pp.port > r.to)) return false;
          fixed.push(`0:${pp.port}`);
        } else fixed.push(`${pp.proto}:${pp.port}`);
        break;
      }
      case 'mac': {
        const mac = macOf(pkt, flag);
        if (!mac) return false;
        fixed.push(set.type === 'bitmap:ip,mac' ? '' : mac);
        break;
      }
      case 'mark':
        // The mark dimension ignores its flag: it is always skb->mark & markmask.
        fixed.push((((pkt.mark ?? 0) & (set.options.markmask ?? 0xffffffff)) >>> 0).toString(16));
        break;
      case 'iface':
        fixed.push('');
        break;
      case 'set':
        return false;
    }
  }
  const keyFor = (lens: number[]): Key => {
    const parts: string[] = [];
    let n = 0;
    for (let i = 0; i < dims.length; i++) {
      if (dims[i] === 'net') {
        const ip = netIPs[n];
        const len = lens[n];
        parts.push(`${(ip.value & mask(ip.family, len)).toString(16)}/${len}`);
        n++;
      } else if (!(set.type === 'bitmap:ip,mac' && dims[i] === 'mac') && !(set.type === 'hash:net,iface' && dims[i] === 'iface')) {
        parts.push(fixed[i] as string);
      }
    }
    return parts.join(',');
  };
  const check = (found: IpsetEntry[]): boolean | 'multi' | undefined => {
    if (set.type === 'bitmap:ip,mac') {
      const e = found[0];
      const d = e.dims[1];
      const mac = macOf(pkt, flags[1]);
      // An entry without MAC matches any packet (the kernel then fills the MAC in).
      if (d.kind === 'mac' && d.mac !== undefined) return mac === d.mac;
      return true;
    }
    if (set.type === 'hash:net,iface') {
      const ifIdx = dims.indexOf('iface');
      for (const e of found) {
        const d = e.dims[ifIdx];
        if (d.kind === 'iface' && ifaceMatches(d.iface, pkt, flags[ifIdx])) return !e.nomatch;
      }
      return 'multi';
    }
    return !found[0].nomatch;
  };
  if (netIPs.length === 0) {
    const found = index.byKey.get(keyFor([]));
    if (!found) return false;
    return check(found) === true;
  }
  // Nets: most specific prefix length first, dimension by dimension (mtype_test_cidrs).
  const l0 = index.netLens[0];
  if (netIPs.length === 1) {
    for (const len of l0) {
      const found = index.byKey.get(keyFor([len]));
      if (!found) continue;
      const r = check(found);
      if (r === 'multi') return false;
      return r === true;
    }
    return false;
  }
  const l1 = index.netLens[1];
  for (const a of l0) {
    for (const b of l1) {
      const found = index.byKey.get(keyFor([a, b]));
      if (!found) continue;
      const r = check(found);
      if (r === 'multi') return false;
      return r === true;
    }
  }
  return false;
}

function setFamily(set: IpsetSet): Family | undefined {
  if (set.type === 'list:set' || set.type === 'hash:mac') return undefined;
  if (set.type.startsWith('bitmap:')) return 4;
  return set.options.family ?? 4;
}

// ---------------------------------------------------------------------------------------------
// `ipset save` parser.

const SOURCE = 'ipset save';

function parseUint(tok: Token | undefined, what: string, lineNo: number, prev: Token, max = 0xffffffff): number {
  if (!tok) throw new ParseError(SOURCE, `${what} needs a value`, lineNo, prev.column + prev.text.length);
  const t = tok.text;
  if (!/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(t)) throw new ParseError(SOURCE, `bad ${what} value "${t}"`, lineNo, tok.column);
  const n = Number(t);
  if (n > max) throw new ParseError(SOURCE, `${what} value ${t} is out of range`, lineNo, tok.column);
  return n;
}

function parseCounter(tok: Token | undefined, what: string, lineNo: number, prev: Token): bigint {
  if (!tok) throw new ParseError(SOURCE, `${what} needs a value`, lineNo, prev.column + prev.text.length);
  if (!/^\d{1,20}$/.test(tok.text)) throw new ParseError(SOURCE, `bad ${what} value "${tok.text}"`, lineNo, tok.column);
  return BigInt(tok.text);
}

function parseCreate(toks: Token[], lineNo: number): IpsetSet {
  const nameTok = toks[1];
  const typeTok = toks[2];
  if (!nameTok) throw new ParseError(SOURCE, 'create needs a set name', lineNo, toks[0].column + toks[0].text.length);
  if (nameTok.text.length > 31) throw new ParseError(SOURCE, `set name "${nameTok.text}" is longer than 31 characters`, lineNo, nameTok.column);
  if (!typeTok) throw new ParseError(SOURCE, `create ${nameTok.text} needs a set type`, lineNo, nameTok.column + nameTok.text.length);
  if (!isIpsetType(typeTok.text)) throw new ParseError(SOURCE, `unknown set type "${typeTok.text}"`, lineNo, typeTok.column);
  const type = typeTok.text;
  const o: IpsetCreateOptions = { counters: false, comment: false, skbinfo: false, forceadd: false };
  if (type !== 'list:set' && type !== 'hash:mac') o.family = 4;
  for (let i = 3; i < toks.length; i++) {
    const t = toks[i];
    const next = toks[i + 1];
    const need = () => {
      if (!next) throw new ParseError(SOURCE, `option ${t.text} needs a value`, lineNo, t.column + t.text.length);
      i++;
      return next;
    };
    switch (t.text) {
      case 'family': {
        const v = need();
        if (v.text !== 'inet' && v.text !== 'inet6') throw new ParseError(SOURCE, `bad family "${v.text}" (inet or inet6)`, lineNo, v.column);
        if (type.startsWith('bitmap:') && v.text === 'inet6') throw new ParseError(SOURCE, `${type} supports only family inet`, lineNo, v.column);
        o.family = v.text === 'inet' ? 4 : 6;
        break;
      }
      case 'inet':
      case 'inet6':
      case '-4':
      case '-6':
        o.family = t.text === 'inet' || t.text === '-4' ? 4 : 6;
        break;
      case 'hashsize':
      case 'maxelem':
      case 'bucketsize':
      case 'initval':
      case 'timeout':
      case 'size':
      case 'markmask':
        o[t.text] = parseUint(next, t.text, lineNo, t);
        i++;
        break;
      case 'netmask': {
        const max = type.startsWith('bitmap:') || o.family !== 6 ? 32 : 128;
        o.netmask = parseUint(next, t.text, lineNo, t, max);
        if (o.netmask === 0) throw new ParseError(SOURCE, 'netmask 0 is not valid', lineNo, next!.column);
        i++;
        break;
      }
      case 'bitmask': {
        const v = need();
        const ip = parseIP(v.text);
        if (!ip) throw new ParseError(SOURCE, `bad bitmask "${v.text}"`, lineNo, v.column);
        o.bitmask = ip;
        break;
      }
      case 'range': {
        const v = need();
        if (type === 'bitmap:port') {
          const m = /^(\d{1,5})-(\d{1,5})$/.exec(v.text);
          if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2])) {
            throw new ParseError(SOURCE, `bad port range "${v.text}"`, lineNo, v.column);
          }
          o.portRange = { from: Number(m[1]), to: Number(m[2]) };
        } else if (type === 'bitmap:ip' || type === 'bitmap:ip,mac') {
          let from: IP | undefined;
          let to: IP | undefined;
          const dash = v.text.indexOf('-');
          if (dash >= 0) {
            from = parseIP(v.text.slice(0, dash));
            to = parseIP(v.text.slice(dash + 1));
          } else {
            const p = /\/\d+$/.test(v.text) ? parsePrefix(v.text) : undefined;
            if (p) {
              from = { family: p.family, value: p.value };
              to = { family: p.family, value: p.value | (~mask(p.family, p.len) & mask(p.family, 32)) };
            }
          }
          if (!from || !to || from.family !== 4 || to.family !== 4 || from.value > to.value) {
            throw new ParseError(SOURCE, `bad IPv4 range "${v.text}"`, lineNo, v.column);
          }
          o.ipRange = { from, to };
        } else throw new ParseError(SOURCE, `option range is not valid for ${type}`, lineNo, t.column);
        break;
      }
      case 'counters':
        o.counters = true;
        break;
      case 'comment':
        o.comment = true;
        break;
      case 'skbinfo':
        o.skbinfo = true;
        break;
      case 'forceadd':
        o.forceadd = true;
        break;
      case '-exist':
      case '-!':
        break;
      default:
        throw new ParseError(SOURCE, `unknown create option "${t.text}" for ${type}`, lineNo, t.column);
    }
  }
  if (type.startsWith('bitmap:')) {
    if (type === 'bitmap:port' ? !o.portRange : !o.ipRange) {
      throw new ParseError(SOURCE, `${type} needs a range option`, lineNo, typeTok.column);
    }
  }
  if ((o.netmask !== undefined || o.bitmask) && !['hash:ip', 'hash:net,net', 'bitmap:ip'].includes(type)) {
    throw new ParseError(SOURCE, `netmask/bitmask is not valid for ${type}`, lineNo, typeTok.column);
  }
  if (o.bitmask && o.bitmask.family !== (o.family ?? 4)) {
    throw new ParseError(SOURCE, 'bitmask family differs from the set family', lineNo, typeTok.column);
  }
  return { name: nameTok.text, type, options: o, entries: [], line: lineNo };
}

/** What an `ipset save` text may make the parser build; each limit can be raised by the caller. */
export interface IpsetParseOptions {
  /** Most elements (ranges and CIDRs expanded) across all sets of the text. */
  ipsetElementBudget?: number;
}

/**
 * Default of `ipsetElementBudget` (src/shared/limits.ts, 500,000): more than seven sets full at the kernel's default maxelem. An
 * element costs ~700 bytes of heap here (1M hash:ip elements: 712 MB, 3.8 s), so this bounds one
 * dump's sets near 350 MB.
 */
export const DEFAULT_ELEMENT_BUDGET = engineLimits.ipsetElementBudget.default;

/** The kernel's maxelem of a hash set whose create line gives none. */
export const DEFAULT_MAXELEM = 65536;

/** A list:set's members while parsing: `before`/`after` put a member next to a named one in O(1). */
interface Member {
  entry: IpsetEntry;
  prev?: Member;
  next?: Member;
}

class MemberList {
  private head?: Member;
  private tail?: Member;
  /** Members by set name (the kernel keeps each member set once). */
  readonly byName = new Map<string, Member>();

  insert(entry: IpsetEntry, name: string, ref: Member | undefined, before: boolean): void {
    const m: Member = { entry };
    if (!ref) {
      m.prev = this.tail;
      if (this.tail) this.tail.next = m;
      else this.head = m;
      this.tail = m;
    } else if (before) {
      m.prev = ref.prev;
      m.next = ref;
      if (ref.prev) ref.prev.next = m;
      else this.head = m;
      ref.prev = m;
    } else {
      m.next = ref.next;
      m.prev = ref;
      if (ref.next) ref.next.prev = m;
      else this.tail = m;
      ref.next = m;
    }
    this.byName.set(name, m);
  }

  entries(): IpsetEntry[] {
    const out: IpsetEntry[] = [];
    for (let m = this.head; m; m = m.next) out.push(m.entry);
    return out;
  }
}

interface ParseState {
  sets: Map<string, IpsetSet>;
  lists: Map<IpsetSet, MemberList>;
  budget: number;
  /** Elements stored so far, all sets together. */
  used: number;
}

function sizeOf(set: IpsetSet, st: ParseState): number {
  return set.type === 'list:set' ? (st.lists.get(set)?.byName.size ?? 0) : set.entries.length;
}

/** The set's own element limit: a hash set's maxelem (bitmaps are bounded by their range). */
function maxelemOf(set: IpsetSet): number | undefined {
  return set.type.startsWith('hash:') ? (set.options.maxelem ?? DEFAULT_MAXELEM) : undefined;
}

/**
 * Expands the element of an `add` line within the room its set's maxelem and the dump's element
 * budget leave, so that one `add s 0.0.0.0/8` cannot make millions of entries first.
 */
function expandWithin(set: IpsetSet, elemTok: Token, lineNo: number, st: ParseState): DimValue[][] {
  const held = sizeOf(set, st);
  const maxelem = maxelemOf(set);
  const setRoom = maxelem === undefined ? Infinity : Math.max(0, maxelem - held);
  const budgetRoom = Math.max(0, st.budget - st.used);
  const room = Math.min(MAX_EXPANSION, setRoom, budgetRoom);
  const overLimit = (): never => {
    const what = `${set.name} (${set.type}): "${elemTok.text}" is too large:`;
    if (setRoom <= budgetRoom) {
      throw new ParseError(SOURCE, `${what} it takes the set past its maxelem ${maxelem} (it holds ${held}; the kernel refuses more: "Hash is full")`, lineNo, elemTok.column);
    }
    throw new ParseError(SOURCE, `${what} it exceeds the element budget of ${st.budget} across all sets of this dump (${st.used} stored; ${limitNamed('ipsetElementBudget', st.budget)})`, lineNo, elemTok.column);
  };
  let expanded: DimValue[][];
  try {
    expanded = parseElement(set, elemTok.text, room);
  } catch (e) {
    if (e instanceof TooManyElements && room < MAX_EXPANSION) overLimit();
    if (e instanceof ElementError) throw new ParseError(SOURCE, `${set.name} (${set.type}): ${e.message}`, lineNo, elemTok.column);
    throw e;
  }
  if (expanded.length > room) overLimit();
  return expanded;
}

function parseAdd(toks: Token[], lineNo: number, st: ParseState): void {
  const sets = st.sets;
  const nameTok = toks[1];
  const elemTok = toks[2];
  if (!nameTok) throw new ParseError(SOURCE, 'add needs a set name', lineNo, toks[0].column + toks[0].text.length);
  const set = sets.get(nameTok.text);
  if (!set) throw new ParseError(SOURCE, `add to set "${nameTok.text}" that was not created before`, lineNo, nameTok.column);
  if (!elemTok) throw new ParseError(SOURCE, `add ${nameTok.text} needs an element`, lineNo, nameTok.column + nameTok.text.length);
  const base: Omit<IpsetEntry, 'dims'> = { text: elemTok.text, nomatch: false, line: lineNo };
  let before: string | undefined;
  let after: string | undefined;
  let wildcard = false;
  let exist = false;
  for (let i = 3; i < toks.length; i++) {
    const t = toks[i];
    const next = toks[i + 1];
    switch (t.text) {
      case 'wildcard':
        if (set.type !== 'hash:net,iface') throw new ParseError(SOURCE, `wildcard is only valid in hash:net,iface sets`, lineNo, t.column);
        wildcard = true;
        break;
      case 'nomatch':
        if (!IPSET_TYPE_DIMS[set.type].includes('net')) {
          throw new ParseError(SOURCE, `nomatch is only valid in hash:net* sets, not ${set.type}`, lineNo, t.column);
        }
        base.nomatch = true;
        break;
      case 'timeout':
        base.timeout = parseUint(next, t.text, lineNo, t);
        i++;
        break;
      case 'packets':
        base.packets = parseCounter(next, t.text, lineNo, t);
        i++;
        break;
      case 'bytes':
        base.bytes = parseCounter(next, t.text, lineNo, t);
        i++;
        break;
      case 'comment':
        if (!next) throw new ParseError(SOURCE, 'comment needs a value', lineNo, t.column + t.text.length);
        base.comment = next.text;
        i++;
        break;
      case 'skbmark': {
        if (!next) throw new ParseError(SOURCE, 'skbmark needs a value', lineNo, t.column + t.text.length);
        const m = /^(0x[0-9a-fA-F]{1,8}|\d{1,10})(?:\/(0x[0-9a-fA-F]{1,8}|\d{1,10}))?$/.exec(next.text);
        if (!m || Number(m[1]) > 0xffffffff || (m[2] !== undefined && Number(m[2]) > 0xffffffff)) {
          throw new ParseError(SOURCE, `bad skbmark "${next.text}"`, lineNo, next.column);
        }
        base.skbmark = { value: Number(m[1]), mask: m[2] === undefined ? 0xffffffff : Number(m[2]) };
        i++;
        break;
      }
      case 'skbprio':
        if (!next || !/^[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}$/.test(next.text)) {
          throw new ParseError(SOURCE, `bad skbprio "${next?.text ?? ''}"`, lineNo, (next ?? t).column);
        }
        base.skbprio = next.text;
        i++;
        break;
      case 'skbqueue':
        base.skbqueue = parseUint(next, t.text, lineNo, t, 0xffff);
        i++;
        break;
      case 'before':
      case 'after':
        if (set.type !== 'list:set') throw new ParseError(SOURCE, `${t.text} is only valid for list:set`, lineNo, t.column);
        if (!next) throw new ParseError(SOURCE, `${t.text} needs a set name`, lineNo, t.column + t.text.length);
        if (t.text === 'before') before = next.text;
        else after = next.text;
        i++;
        break;
      case '-exist':
      case '-!':
        exist = true;
        break;
      default:
        throw new ParseError(SOURCE, `unknown add option "${t.text}"`, lineNo, t.column);
    }
  }
  const expanded = expandWithin(set, elemTok, lineNo, st);
  if (wildcard) {
    for (const dims of expanded) for (const d of dims) if (d.kind === 'iface') d.iface.wildcard = true;
  }
  const entries = expanded.map((dims): IpsetEntry => ({ ...base, dims }));
  if (set.type === 'list:set') {
    // One member per line (parseElement); kept in a linked list until the end of the parse.
    let list = st.lists.get(set);
    if (!list) st.lists.set(set, (list = new MemberList()));
    const ref = before ?? after;
    const refMember = ref === undefined ? undefined : list.byName.get(ref);
    if (ref !== undefined && !refMember) throw new ParseError(SOURCE, `set "${ref}" is not in list ${set.name}`, lineNo, elemTok.column);
    const existing = list.byName.get(elemTok.text);
    if (existing) {
      // The kernel keeps a member once (list_set_uadd): a re-add fails unless -exist, which only
      // renews its extensions (timeout, counters, comment) where it stands.
      if (!exist) throw new ParseError(SOURCE, `set "${elemTok.text}" is already in list ${set.name}`, lineNo, elemTok.column);
      existing.entry = entries[0];
      return;
    }
    list.insert(entries[0], elemTok.text, refMember, before !== undefined);
  } else {
    for (const e of entries) set.entries.push(e);
  }
  st.used += entries.length;
}

/**
 * Parses `ipset save` (a.k.a. `ipset restore` input without flush/destroy): `create` and `add`
 * lines. Throws ParseError naming line and column for anything else.
 */
export function parseIpsetSave(text: string, opts: IpsetParseOptions = {}): IpsetRegistry {
  const sets = new Map<string, IpsetSet>();
  const st: ParseState = { sets, lists: new Map(), budget: opts.ipsetElementBudget ?? DEFAULT_ELEMENT_BUDGET, used: 0 };
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const lineNo = li + 1;
    const line = lines[li];
    const toks = words(line, 'ipset', SOURCE, lineNo);
    if (toks.length === 0 || toks[0].text.startsWith('#')) continue;
    const cmd = toks[0].text;
    if (cmd === 'create' || cmd === '-N' || cmd === 'n') {
      const set = parseCreate(toks, lineNo);
      if (sets.has(set.name)) throw new ParseError(SOURCE, `set "${set.name}" is created twice`, lineNo, toks[1].column);
      sets.set(set.name, set);
    } else if (cmd === 'add' || cmd === '-A' || cmd === 'a') {
      parseAdd(toks, lineNo, st);
    } else if (cmd === 'COMMIT' && toks.length === 1) {
      continue;
    } else {
      throw new ParseError(SOURCE, `unknown command "${cmd}" (expected create or add)`, lineNo, toks[0].column);
    }
  }
  for (const [set, list] of st.lists) set.entries = list.entries();
  for (const set of sets.values()) indexSet(set);
  return { sets };
}
