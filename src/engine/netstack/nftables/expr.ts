// Evaluating nft expressions against a packet: the fields a rule reads (payload, meta, ct, numgen),
// bit operations, and constants, sets, prefixes, ranges and concatenations they are compared with.
// What is not modelled throws NotModelled with the reason, so the caller evaluates it both ways;
// what the packet does not carry (a tcp port of a UDP packet) simply does not match, as in nft.
import { parseIP } from '../ip';
import { isObj, type Json, type NftElement, type NftSet } from './model';

export class NotModelled extends Error {}

/** A choice the packet's fields do not decide (numgen, limit): the caller forks one way per option. */
export class Fork extends Error {
  constructor(readonly key: string, readonly options: { value: number; label: string }[]) {
    super(key);
  }
}

export type FieldType = 'addr4' | 'addr6' | 'port' | 'proto' | 'nfproto' | 'ifname' | 'int' | 'ctstate' | 'tcpflags' | 'fibtype' | 'ethertype'
  | 'icmptype' | 'icmpcode' | 'icmpv6type' | 'icmpv6code';
/** A field's value: a number, an address (bigint), an interface name, or a concatenation. */
export type Val = number | bigint | string | Val[];
export interface Typed {
  type: FieldType | FieldType[];
  v: Val;
}

export type CtState = 'new' | 'established' | 'related' | 'invalid' | 'untracked';

export interface NftPacket {
  family: 4 | 6;
  src: string;
  dst: string;
  /** `tcp`, `udp`, `icmp`, `icmpv6` or a protocol number. */
  proto: string;
  sport?: number;
  dport?: number;
  tcpFlags?: string[];
  /** ICMP / ICMPv6 packets: the message's type and code, when known. */
  icmpType?: number;
  icmpCode?: number;
  iif?: string;
  oif?: string;
  /** A bridged frame: the bridge's name (`iif`/`oif` are then its ports). */
  bridge?: string;
  mark: number;
  ct: { state: CtState; mark: number };
}

const PROTO: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132, udplite: 136, dccp: 33 };
const CTSTATE: Record<string, number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };
const TCPFLAG: Record<string, number> = { fin: 1, syn: 2, rst: 4, psh: 8, ack: 16, urg: 32, ecn: 64, cwr: 128 };
const NFPROTO: Record<string, number> = { ipv4: 2, ipv6: 10 };
const ETHERTYPE: Record<string, number> = { ip: 0x0800, arp: 0x0806, ip6: 0x86dd, '8021q': 0x8100, vlan: 0x8100, '8021ad': 0x88a8 };
// The symbolic constants of nft's icmp_type, icmp_code, icmpv6_type and icmpv6_code (`nft describe icmpv6 type`, nft 1.0.6).
const ICMP_TYPE: Record<string, number> = {
  'echo-reply': 0, 'destination-unreachable': 3, 'source-quench': 4, redirect: 5, 'echo-request': 8, 'router-advertisement': 9,
  'router-solicitation': 10, 'time-exceeded': 11, 'parameter-problem': 12, 'timestamp-request': 13, 'timestamp-reply': 14,
  'info-request': 15, 'info-reply': 16, 'address-mask-request': 17, 'address-mask-reply': 18,
};
const ICMP_CODE: Record<string, number> = {
  'net-unreachable': 0, 'host-unreachable': 1, 'prot-unreachable': 2, 'port-unreachable': 3, 'frag-needed': 4,
  'net-prohibited': 9, 'host-prohibited': 10, 'admin-prohibited': 13,
};
const ICMPV6_TYPE: Record<string, number> = {
  'destination-unreachable': 1, 'packet-too-big': 2, 'time-exceeded': 3, 'parameter-problem': 4, 'echo-request': 128, 'echo-reply': 129,
  'mld-listener-query': 130, 'mld-listener-report': 131, 'mld-listener-done': 132, 'mld-listener-reduction': 132, 'nd-router-solicit': 133,
  'nd-router-advert': 134, 'nd-neighbor-solicit': 135, 'nd-neighbor-advert': 136, 'nd-redirect': 137, 'router-renumbering': 138,
  'ind-neighbor-solicit': 141, 'ind-neighbor-advert': 142, 'mld2-listener-report': 143,
};
const ICMPV6_CODE: Record<string, number> = {
  'no-route': 0, 'admin-prohibited': 1, 'addr-unreachable': 3, 'port-unreachable': 4, 'policy-fail': 5, 'reject-route': 6,
};
const ICMP_NAMES: Partial<Record<FieldType, Record<string, number>>> = { icmptype: ICMP_TYPE, icmpcode: ICMP_CODE, icmpv6type: ICMPV6_TYPE, icmpv6code: ICMPV6_CODE };

/** The field type of `icmp|icmpv6 type|code`, undefined for any other expression. */
export function icmpField(e: Json): FieldType | undefined {
  if (!isObj(e) || !isObj(e.payload)) return undefined;
  const { protocol, field: f } = e.payload;
  return (protocol === 'icmp' || protocol === 'icmpv6') && (f === 'type' || f === 'code') ? (`${protocol}${f}` as FieldType) : undefined;
}

export const protoNumber = (p: string): number | undefined => PROTO[p] ?? (/^\d+$/.test(p) ? Number(p) : undefined);

/** What evaluation reads besides the packet: the rule set's named sets, and whether conntrack ran yet. */
export interface EvalContext {
  set(name: string): NftSet | undefined;
  /** false in chains before conntrack (priority < -200): nft sees no connection there. */
  tracked: boolean;
  /** numgen and limit values chosen so far, by key. */
  choice(key: string, options: { value: number; label: string }[]): number;
  /** Key prefix for choices: the rule and statement being evaluated. */
  at: string;
  /** The hook the chain runs at (`fib` looks up routes differently at some). */
  hook: string;
  /**
   * `fib … type`: the kernel's type of `addr` (inet_dev_addr_type: LOCAL, UNICAST, BROADCAST…),
   * restricted to `dev` when given; undefined when the dump cannot tell (no local routing table).
   */
  addressType?(addr: string, family: 4 | 6, dev?: string): string | undefined;
  /**
   * `fib … oif`: the route lookup nft_fib does (an output-style lookup to `dst`): the devices of
   * its nexthops, [] when there is no route or it is local; undefined when the dump cannot tell.
   */
  fibRoute?(q: FibQuery): string[] | undefined;
}

export interface FibQuery {
  family: 4 | 6;
  dst: string;
  src?: string;
  mark?: number;
  /** The lookup's input device (forward's `fib saddr . iif`: the output device), for policy rules' `iif`. */
  iif?: string;
}

/** Thrown for a field the packet does not have: the match fails (nft's NFT_BREAK). */
export class NoField extends Error {}

function ports(p: NftPacket): boolean {
  return p.proto === 'tcp' || p.proto === 'udp' || p.proto === 'sctp' || p.proto === 'udplite' || p.proto === 'dccp';
}

function addr(text: string, family: 4 | 6): bigint {
  const ip = parseIP(text);
  if (!ip || ip.family !== family) throw new NotModelled(`address ${JSON.stringify(text)} of another family`);
  return ip.value;
}

/** The value of a field-reading expression. */
export function field(e: Json, p: NftPacket, cx: EvalContext): Typed {
  if (!isObj(e)) throw new NotModelled(`expression ${JSON.stringify(e)}`);
  const [k] = Object.keys(e);
  const a = e[k];
  if (k === 'payload' && isObj(a)) {
    const proto = String(a.protocol);
    const f = String(a.field);
    if (proto === 'ip' || proto === 'ip6') {
      if ((proto === 'ip') !== (p.family === 4)) throw new NoField();
      const t: FieldType = p.family === 4 ? 'addr4' : 'addr6';
      if (f === 'saddr') return { type: t, v: addr(p.src, p.family) };
      if (f === 'daddr') return { type: t, v: addr(p.dst, p.family) };
      if (f === 'protocol' || f === 'nexthdr') return { type: 'proto', v: protoNumber(p.proto) ?? -1 };
    } else if (proto === 'tcp' || proto === 'udp' || proto === 'th' || proto === 'sctp') {
      if (proto === 'th' ? !ports(p) : p.proto !== proto) {
        if (proto === 'th') throw new NotModelled(`th ${f} of a ${p.proto} packet`);
        throw new NoField();
      }
      if (f === 'sport' && p.sport !== undefined) return { type: 'port', v: p.sport };
      if (f === 'dport' && p.dport !== undefined) return { type: 'port', v: p.dport };
      if (f === 'flags' && proto === 'tcp') return { type: 'tcpflags', v: (p.tcpFlags ?? []).reduce((m, x) => m | (TCPFLAG[x.toLowerCase()] ?? 0), 0) };
    } else if (proto === 'icmp' || proto === 'icmpv6') {
      // nft adds the dependency `meta nfproto ipv4|ipv6 meta l4proto icmp|ipv6-icmp`: another
      // packet does not match (NFT_BREAK), it is not undecided.
      const v6 = proto === 'icmpv6';
      if (protoNumber(p.proto) !== (v6 ? 58 : 1) || p.family !== (v6 ? 6 : 4)) throw new NoField();
      const type = icmpField(e);
      if (type) {
        const v = f === 'type' ? p.icmpType : p.icmpCode;
        if (v === undefined) throw new NotModelled(`${proto} ${f} of a packet whose ICMP ${f} is not known`);
        return { type, v };
      }
    }
    throw new NotModelled(`payload ${proto} ${f}`);
  }
  if (k === 'meta' && isObj(a)) {
    switch (a.key) {
      case 'l4proto': return { type: 'proto', v: protoNumber(p.proto) ?? -1 };
      case 'nfproto': return { type: 'nfproto', v: p.family === 4 ? 2 : 10 };
      case 'iifname': if (p.iif === undefined) throw new NoField(); return { type: 'ifname', v: p.iif };
      case 'oifname': if (p.oif === undefined) throw new NoField(); return { type: 'ifname', v: p.oif };
      case 'mark': return { type: 'int', v: p.mark };
      case 'protocol': return { type: 'ethertype', v: p.family === 4 ? 0x0800 : 0x86dd };
      case 'ibrname': case 'obrname': if (p.bridge === undefined) throw new NoField(); return { type: 'ifname', v: p.bridge };
    }
    throw new NotModelled(`meta ${String(a.key)}`);
  }
  // Whether a bridged frame has a connection yet depends on br_netfilter and nf_conntrack_bridge.
  if (k === 'ct' && p.bridge !== undefined) throw new NotModelled('ct in a bridge-family chain');
  if (k === 'ct' && isObj(a) && a.dir === undefined) {
    if (a.key === 'state') return { type: 'ctstate', v: cx.tracked ? CTSTATE[p.ct.state] : CTSTATE.invalid };
    if (a.key === 'mark') {
      if (!cx.tracked || p.ct.state === 'untracked') throw new NoField();
      return { type: 'int', v: p.ct.mark };
    }
    throw new NotModelled(`ct ${String(a.key)}`);
  }
  if (k === 'fib' && isObj(a)) return fib(a, p, cx);
  if (k === 'numgen' && isObj(a)) {
    const mod = Number(a.mod);
    const off = Number(a.offset ?? 0);
    if (!(mod >= 1 && mod <= 1024)) throw new NotModelled(`numgen mod ${String(a.mod)}`);
    const opts = Array.from({ length: mod }, (_, i) => ({ value: i + off, label: `numgen ${String(a.mode)} mod ${mod} = ${i + off}` }));
    return { type: 'int', v: cx.choice(`${cx.at}/numgen`, opts) };
  }
  if ((k === '&' || k === '|' || k === '^') && Array.isArray(a) && a.length === 2) {
    const l = field(a[0], p, cx);
    if (typeof l.v !== 'number' || Array.isArray(l.type)) throw new NotModelled(`${k} on ${JSON.stringify(a[0])}`);
    const r = constant(a[1], l.type);
    if (typeof r !== 'number') throw new NotModelled(`${k} with ${JSON.stringify(a[1])}`);
    const v = k === '&' ? l.v & r : k === '|' ? l.v | r : l.v ^ r;
    return { type: l.type, v: v >>> 0 };
  }
  if (k === 'map' && isObj(a)) {
    // A data map: the value the key maps to; no element for the key ends the rule (NFT_BREAK).
    const els = elementsOf(a.data ?? null, cx);
    if (!els) throw new NotModelled(`map ${JSON.stringify(a.data)}`);
    const hit = lookup(els, field(a.key ?? null, p, cx));
    if (hit?.data === undefined) throw new NoField();
    const named = typeof a.data === 'string' ? cx.set(a.data.slice(1)) : undefined;
    const type = dataType(named?.map, hit.data);
    return { type, v: constant(hit.data, type) };
  }
  if (k === 'concat' && Array.isArray(a)) {
    const parts = a.map((x) => field(x, p, cx));
    return { type: parts.map((x) => x.type as FieldType), v: parts.map((x) => x.v) };
  }
  throw new NotModelled(`expression ${k}`);
}

/** 0.0.0.0/8, multicast and limited broadcast: nft_fib's get_saddr leaves them out of the lookup. */
function lookupSource(text: string, family: 4 | 6): string | undefined {
  const ip = parseIP(text);
  if (!ip || ip.family !== family || ip.value === 0n) return undefined;
  if (family === 4 && (ip.value >> 24n === 0n || ip.value >> 28n === 0xen || ip.value === 0xffffffffn)) return undefined;
  if (family === 6 && ip.value >> 120n === 0xffn) return undefined;
  return text;
}

/**
 * `fib saddr|daddr [. iif|oif] [. mark] type|oif|oifname`, as nft_fib_ipv4/ipv6 compute it: `type`
 * is the address type from the local routing table (on the given device, if one is named); `oif` is
 * the device of the route to the address, nothing (0) when that route is local or there is none,
 * or — with `iif`/`oif` named — that device only if the route leaves by it.
 */
function fib(a: { [k: string]: Json }, p: NftPacket, cx: EvalContext): Typed {
  const flags = Array.isArray(a.flags) ? a.flags.map(String) : [String(a.flags)];
  const which = flags.includes('daddr') ? 'daddr' : flags.includes('saddr') ? 'saddr' : undefined;
  const devFlag = flags.includes('iif') ? 'iif' : flags.includes('oif') ? 'oif' : undefined;
  if (!which || flags.some((f) => !['daddr', 'saddr', 'iif', 'oif', 'mark'].includes(f))) throw new NotModelled(`fib ${flags.join(' . ')}`);
  const dev = devFlag === 'iif' ? p.iif : devFlag === 'oif' ? p.oif : undefined;
  if (devFlag && dev === undefined) throw new NotModelled(`fib ${devFlag} where the packet has none`);
  const addrText = which === 'daddr' ? p.dst : p.src;
  if (a.result === 'type') {
    if (flags.includes('mark')) throw new NotModelled('fib … mark type');
    const t = cx.addressType?.(addrText, p.family, dev);
    if (t === undefined) throw new NotModelled(`fib ${which} type: no local routing table in the dump`);
    return { type: 'fibtype', v: t };
  }
  if (a.result === 'oif' || a.result === 'oifname') {
    // The loopback short cut (prerouting from lo), the all-zero source of DHCP and link-local
    // scopes are lookups of another kind.
    const other = which === 'daddr' ? p.src : p.dst;
    const lo = parseIP(addrText);
    if (p.iif === 'lo' || (p.family === 4 && /^0\.0\.0\.0$/.test(p.src)) || (p.family === 6 && lo && lo.value >> 118n === 0x3fan)) {
      throw new NotModelled(`fib ${flags.join(' . ')} ${a.result} here`);
    }
    // In forward, `fib saddr . iif` looks the source up as if it came in by the output device (IPv4).
    const iif = cx.hook === 'forward' && devFlag === 'iif' && which === 'saddr' ? p.oif : undefined;
    if (iif !== undefined && p.family === 6) throw new NotModelled('fib saddr . iif oif in forward (IPv6)');
    const devs = cx.fibRoute?.({ family: p.family, dst: addrText, src: lookupSource(other, p.family), ...(flags.includes('mark') ? { mark: p.mark } : {}), ...(iif !== undefined ? { iif } : {}) });
    if (devs === undefined) throw new NotModelled(`fib ${which} ${a.result}: no routing table in the dump`);
    const found = dev !== undefined ? (devs.includes(dev) ? dev : '') : devs[0] ?? '';
    return { type: 'ifname', v: found };
  }
  throw new NotModelled(`fib … ${String(a.result)}`);
}

/** The field type of a map's data, from the map's declared type or (anonymous maps) the value itself. */
function dataType(declared: string | undefined, data: Json): FieldType {
  switch (declared) {
    case 'ipv4_addr': return 'addr4';
    case 'ipv6_addr': return 'addr6';
    case 'inet_service': return 'port';
    case 'inet_proto': return 'proto';
    case 'ifname': return 'ifname';
    case 'mark': case 'integer': case undefined: break;
    default: throw new NotModelled(`map data of type ${declared}`);
  }
  if (typeof data === 'string' && parseIP(data)) return parseIP(data)!.family === 4 ? 'addr4' : 'addr6';
  return 'int';
}

/** A constant written in a rule or set, as a value of `type`. */
export function constant(c: Json, type: FieldType): Val {
  if (Array.isArray(c) && (type === 'ctstate' || type === 'tcpflags')) return c.reduce<number>((m, x) => m | (constant(x, type) as number), 0);
  if (typeof c === 'number') return c;
  if (typeof c !== 'string') throw new NotModelled(`constant ${JSON.stringify(c)}`);
  switch (type) {
    case 'addr4': return addr(c, 4);
    case 'addr6': return addr(c, 6);
    case 'proto': { const n = protoNumber(c); if (n === undefined) throw new NotModelled(`protocol ${JSON.stringify(c)}`); return n; }
    case 'nfproto': { const n = NFPROTO[c]; if (n === undefined) throw new NotModelled(`nfproto ${JSON.stringify(c)}`); return n; }
    case 'ctstate': { const n = CTSTATE[c]; if (n === undefined) throw new NotModelled(`ct state ${JSON.stringify(c)}`); return n; }
    case 'tcpflags': { const n = TCPFLAG[c]; if (n === undefined) throw new NotModelled(`tcp flag ${JSON.stringify(c)}`); return n; }
    case 'ifname': return c;
    case 'fibtype': return c.toUpperCase();
    case 'ethertype': { const n = ETHERTYPE[c]; if (n === undefined) throw new NotModelled(`ether type ${JSON.stringify(c)}`); return n; }
    case 'icmptype': case 'icmpcode': case 'icmpv6type': case 'icmpv6code': {
      const names = ICMP_NAMES[type]!;
      if (Object.hasOwn(names, c)) return names[c];
      if (/^\d+$/.test(c)) return Number(c);
      throw new NotModelled(`${type} ${JSON.stringify(c)}`);
    }
    case 'port': case 'int': {
      if (/^(0x[0-9a-f]+|\d+)$/i.test(c)) return Number(c);
      throw new NotModelled(`${type} ${JSON.stringify(c)}`);
    }
  }
}

/** Does one element key (constant, prefix, range, concatenation of those) hold the value? */
export function keyHolds(key: Json, type: FieldType | FieldType[], v: Val): boolean {
  if (isObj(key) && isObj(key.elem)) return keyHolds(key.elem.val ?? null, type, v);
  if (Array.isArray(type)) {
    const parts = isObj(key) && Array.isArray(key.concat) ? key.concat : undefined;
    if (!parts || !Array.isArray(v) || parts.length !== type.length) throw new NotModelled(`element ${JSON.stringify(key)}`);
    return parts.every((k, i) => keyHolds(k, type[i], v[i]));
  }
  if (isObj(key) && isObj(key.prefix)) {
    const bits = type === 'addr4' ? 32n : type === 'addr6' ? 128n : 0n;
    if (!bits || typeof v !== 'bigint') throw new NotModelled(`prefix on ${type}`);
    const base = constant(key.prefix.addr ?? null, type) as bigint;
    const len = BigInt(Number(key.prefix.len));
    const m = ((1n << bits) - 1n) ^ ((1n << (bits - len)) - 1n);
    return (v & m) === (base & m);
  }
  if (isObj(key) && Array.isArray(key.range) && key.range.length === 2) {
    const lo = constant(key.range[0], type);
    const hi = constant(key.range[1], type);
    return (lo as number) <= (v as number) && (v as number) <= (hi as number);
  }
  return equal(constant(key, type), type, v);
}

/** Equality, where an interface name ending in `*` matches every name it begins (`"cali*"`). */
function equal(c: Val, type: FieldType, v: Val): boolean {
  if (type === 'ifname' && typeof c === 'string' && c.endsWith('*') && !c.endsWith('\\*')) return typeof v === 'string' && v.startsWith(c.slice(0, -1));
  return c === v;
}

/** The elements of an anonymous `{ set: [...] }` or a named `@set`. */
export function elementsOf(right: Json, cx: EvalContext): NftElement[] | undefined {
  if (typeof right === 'string' && right.startsWith('@')) {
    const s = cx.set(right.slice(1));
    if (!s) throw new NotModelled(`set ${JSON.stringify(right)} is not in the dump`);
    return s.elements;
  }
  if (isObj(right) && Array.isArray(right.set)) {
    return right.set.map((e) => (Array.isArray(e) && e.length === 2 ? { key: e[0], data: e[1] } : { key: e }));
  }
  return undefined;
}

/** The first element whose key holds the value (a map lookup), undefined when none does. */
export function lookup(elements: readonly NftElement[], t: Typed): NftElement | undefined {
  return elements.find((e) => keyHolds(e.key, t.type, t.v));
}

/** A `match` statement: does the packet pass it? */
export function matches(left: Json, op: string, right: Json, p: NftPacket, cx: EvalContext): boolean {
  let t: Typed;
  try {
    t = field(left, p, cx);
  } catch (e) {
    if (e instanceof NoField) return false;
    throw e;
  }
  // `exists` / `missing` (fib oif, …): a result of zero is missing.
  if (typeof right === 'boolean' && (op === '==' || op === '!=')) return (t.v !== '' && t.v !== 0 && t.v !== 0n) === (right === (op === '=='));
  const els = elementsOf(right, cx);
  if (els) {
    const hit = lookup(els, t) !== undefined;
    if (op === '==' || op === 'in') return hit;
    if (op === '!=') return !hit;
    throw new NotModelled(`operator ${op} with a set`);
  }
  if (Array.isArray(t.type)) {
    const hit = keyHolds(right, t.type, t.v);
    if (op === '==' || op === 'in') return hit;
    if (op === '!=') return !hit;
    throw new NotModelled(`operator ${op} on a concatenation`);
  }
  if ((t.type === 'ctstate' || t.type === 'tcpflags') && op === 'in') return ((t.v as number) & (constant(right, t.type) as number)) !== 0;
  if (isObj(right) && (isObj(right.prefix) || Array.isArray(right.range))) {
    const hit = keyHolds(right, t.type, t.v);
    if (op === '==' || op === 'in') return hit;
    if (op === '!=') return !hit;
    throw new NotModelled(`operator ${op} with ${JSON.stringify(right)}`);
  }
  const c = constant(right, t.type);
  const v = t.v;
  switch (op) {
    case '==': case 'in': return equal(c, t.type, v);
    case '!=': return !equal(c, t.type, v);
    case '<': return v < c;
    case '>': return v > c;
    case '<=': return v <= c;
    case '>=': return v >= c;
  }
  throw new NotModelled(`operator ${op}`);
}

/** A value written by `mark set` / `ct mark set`: a constant or a bit operation on a field. */
export function intValue(e: Json, p: NftPacket, cx: EvalContext): number {
  if (typeof e === 'number') return e >>> 0;
  if (typeof e === 'string') return Number(constant(e, 'int')) >>> 0;
  const t = field(e, p, cx);
  if (typeof t.v !== 'number') throw new NotModelled(`value ${JSON.stringify(e)}`);
  return t.v >>> 0;
}
