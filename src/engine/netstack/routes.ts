// Parsers of `ip -j route show table all` / `ip -6 -j route show table all` and
// `ip -j rule` / `ip -6 -j rule` into typed routes and policy rules for the router.
//
// Accepted input shapes (what collectors actually store): one JSON array, several arrays
// concatenated in one text (`ip -j route …; ip -6 -j route …`), or an array of such arrays.
// iproute2 ≥ 5.x already lists IPv6 routes in `ip -j route show table all` (AF_UNSPEC dump),
// so concatenating it with `ip -6 …` repeats them: identical elements are dropped.
import { formatIP, parseIP, parsePrefix, type Family, type Prefix } from './ip';
import { jsonErrorOffset } from './iproute-json';
import { ParseError, positionOf } from './parse-error';

export type RouteType =
  | 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable'
  | 'prohibit' | 'throw' | 'nat' | 'xresolve';

const ROUTE_TYPES: ReadonlySet<string> = new Set([
  'unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit',
  'throw', 'nat', 'xresolve',
]);

/** Well-known routing table ids (rt_tables). */
export const TABLE_LOCAL = 255;
export const TABLE_MAIN = 254;
export const TABLE_DEFAULT = 253;

/**
 * A table as the dump names it. `id` is known for numbers and the reserved names; a custom
 * name from `/etc/iproute2/rt_tables` keeps `id` undefined and is matched by name.
 */
export interface TableRef {
  id?: number;
  name: string;
  /** Identity used to group routes and to match rules: the id as text, else the name. */
  key: string;
}

/** A nexthop's gateway in another family (`via inet6 …` on an IPv4 route). */
export interface Via {
  family: Family;
  host: string;
}

export interface Nexthop {
  gateway?: string;
  via?: Via;
  dev?: string;
  /** ECMP weight (1 when iproute2 prints none). */
  weight: number;
  flags: string[];
}

export interface Route {
  family: Family;
  type: RouteType;
  dst: Prefix;
  /** Source-specific route selector (`from` on IPv6 routes). */
  from?: Prefix;
  table: TableRef;
  /** TOS/DSCP selector of the route (IPv4); 0 = any. */
  tos: number;
  gateway?: string;
  via?: Via;
  dev?: string;
  protocol?: string;
  /** Printed scope, default `global` (iproute2 omits universe). */
  scope: string;
  metric: number;
  prefsrc?: string;
  flags: string[];
  /** All nexthops: one for a single-path route (from gateway/dev), several for multipath. */
  nexthops: Nexthop[];
  multipath: boolean;
  pref?: string;
  mtu?: number;
  metrics?: Record<string, unknown>;
  expires?: number;
  /** Nexthop object id (`ip nexthop`) when the route uses one. */
  nhid?: number;
  /** Position of the element in the (deduplicated) input. */
  index: number;
  /** The route as `ip route` would print it: evidence text. */
  text: string;
}

export type RuleAction = 'lookup' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit' | 'nat';

export interface Rule {
  family: Family;
  priority: number;
  not: boolean;
  src?: Prefix;
  dst?: Prefix;
  iif?: string;
  iifDetached: boolean;
  oif?: string;
  oifDetached: boolean;
  fwmark?: number;
  /** Mask for fwmark; 0xffffffff when only a mark is printed. */
  fwmask?: number;
  tos?: number;
  /** IP protocol number. */
  ipproto?: number;
  sport?: [number, number];
  dport?: [number, number];
  uidrange?: [number, number];
  tunId?: number;
  action: RuleAction;
  table?: TableRef;
  goto?: number;
  /** Goto target missing (iproute2 prints `[unresolved]`). */
  unresolved: boolean;
  suppressPrefixlen?: number;
  suppressIfgroup?: string;
  l3mdev: boolean;
  protocol?: string;
  index: number;
  /** The rule as `ip rule` would print it: evidence text. */
  text: string;
}

// ---------------------------------------------------------------------------------------
// Reading concatenated JSON documents

interface Element {
  value: unknown;
  /** Index across all documents (after deduplication). */
  index: number;
  line: number;
  column: number;
}

/**
 * Splits a text holding one or more JSON documents and returns the elements of the arrays in
 * them (nested arrays are flattened one level, for `[[v4…],[v6…]]`). Linear in the text size.
 */
function readElements(source: string, input: unknown, dedupe: boolean): Element[] {
  const text = typeof input === 'string' ? input : '';
  const docs = typeof input === 'string' ? jsonDocuments(source, input) : [{ value: input, offset: 0 }];
  const out: Element[] = [];
  const seen = new Set<string>();
  const push = (value: unknown, offset: number) => {
    // Identical elements come from `ip -j route show table all` + `ip -6 …` (IPv6 twice).
    const key = dedupe ? JSON.stringify(value) : '';
    if (dedupe) {
      if (seen.has(key)) return;
      seen.add(key);
    }
    const p = text ? positionOf(text, offset) : { line: 0, column: 0 };
    out.push({ value, index: out.length, line: p.line, column: p.column });
  };
  for (const d of docs) {
    if (!Array.isArray(d.value)) {
      const p = text ? positionOf(text, d.offset) : { line: 0, column: 0 };
      throw new ParseError(source, `expected a JSON array, got ${describe(d.value)}`, p.line, p.column);
    }
    for (const v of d.value) {
      if (Array.isArray(v)) for (const w of v) push(w, d.offset);
      else push(v, d.offset);
    }
  }
  return out;
}

/**
 * The JSON documents of a text that holds several one after the other (`ip -j …; ip -6 -j …`,
 * `ip -j -batch`), with their offsets; a ParseError (line, column) for one that is not JSON.
 * Whitespace only gives none: some iproute2 versions print nothing when there is nothing to list.
 */
export function jsonDocuments(source: string, text: string): { value: unknown; offset: number }[] {
  const docs: { value: unknown; offset: number }[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    const start = i;
    const end = scanValueEnd(source, text, i);
    const chunk = text.slice(start, end);
    try {
      docs.push({ value: JSON.parse(chunk), offset: start });
    } catch (e) {
      const at = start + jsonErrorOffset(chunk);
      const p = positionOf(text, at);
      throw new ParseError(source, `invalid JSON: ${(e as Error).message}`, p.line, p.column);
    }
    i = end;
  }
  return docs;
}

/** End offset (exclusive) of the JSON value starting at `i`; strings and nesting respected. */
function scanValueEnd(source: string, text: string, i: number): number {
  const n = text.length;
  const first = text[i];
  if (first !== '[' && first !== '{') {
    // A scalar: up to the next whitespace or bracket; JSON.parse will judge it.
    let j = i;
    while (j < n && !/[\s[\]{}]/.test(text[j])) j++;
    return Math.max(j, i + 1);
  }
  let depth = 0;
  let inString = false;
  for (let j = i; j < n; j++) {
    const c = text[j];
    if (inString) {
      if (c === '\\') j++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) return j + 1;
      if (depth < 0) break;
    }
  }
  const p = positionOf(text, i);
  throw new ParseError(source, 'unterminated JSON document', p.line, p.column);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `string ${JSON.stringify(v).slice(0, 40)}` : typeof v;
}

/** Field accessors that throw a ParseError naming the element and field. */
class Fields {
  constructor(
    readonly source: string,
    readonly el: Element,
    readonly obj: Record<string, unknown>,
    /** Path of a nested object, e.g. `nexthops[1].`. */
    readonly prefix = '',
  ) {}
  fail(field: string, reason: string): never {
    throw new ParseError(this.source, `element ${this.el.index}: field "${this.prefix}${field}": ${reason}`, this.el.line, this.el.column);
  }
  has(k: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, k) && this.obj[k] !== undefined;
  }
  str(k: string): string | undefined {
    if (!this.has(k)) return undefined;
    const v = this.obj[k];
    if (typeof v !== 'string') this.fail(k, `expected a string, got ${describe(v)}`);
    return v;
  }
  uint(k: string, max = 0xffffffff): number | undefined {
    if (!this.has(k)) return undefined;
    return toUint(this, k, this.obj[k], max);
  }
  strList(k: string): string[] {
    if (!this.has(k)) return [];
    const v = this.obj[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.fail(k, 'expected an array of strings');
    return v as string[];
  }
  /** A hex (`0x10`) or decimal number printed as string or number. */
  num(k: string, max = 0xffffffff): number | undefined {
    if (!this.has(k)) return undefined;
    const v = this.obj[k];
    if (typeof v === 'number') return toUint(this, k, v, max);
    if (typeof v !== 'string' || !/^(0x[0-9a-fA-F]+|\d+)$/.test(v)) this.fail(k, `expected a number, got ${describe(v)}`);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n > max) this.fail(k, `out of range: ${v}`);
    return n;
  }
}

function toUint(f: Fields, k: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) f.fail(k, `expected an integer 0..${max}, got ${describe(v)}${typeof v === 'number' ? ` ${v}` : ''}`);
  return v;
}

function objectOf(source: string, el: Element): Fields {
  const v = el.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ParseError(source, `element ${el.index}: expected an object, got ${describe(v)}`, el.line, el.column);
  }
  return new Fields(source, el, v as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------
// Names iproute2 prints instead of numbers

const TABLE_NAMES: Record<string, number> = { unspec: 0, default: TABLE_DEFAULT, main: TABLE_MAIN, local: TABLE_LOCAL };

export function tableRef(nameOrId: string | number): TableRef | undefined {
  if (typeof nameOrId === 'number') {
    if (!Number.isInteger(nameOrId) || nameOrId < 0 || nameOrId > 0xffffffff) return undefined;
    return tableRef(String(nameOrId));
  }
  const s = nameOrId;
  if (s === '') return undefined;
  if (/^\d+$/.test(s)) {
    const id = Number(s);
    if (id > 0xffffffff) return undefined;
    const name = Object.keys(TABLE_NAMES).find((k) => TABLE_NAMES[k] === id) ?? String(id);
    return { id, name, key: String(id) };
  }
  if (s in TABLE_NAMES) return { id: TABLE_NAMES[s], name: s, key: String(TABLE_NAMES[s]) };
  return { name: s, key: s };
}

/** /etc/iproute2/rt_dsfield names iproute2 may print for `tos`. */
const DSFIELD_NAMES: Record<string, number> = {
  default: 0, AF11: 0x28, AF12: 0x30, AF13: 0x38, AF21: 0x48, AF22: 0x50, AF23: 0x58, AF31: 0x68,
  AF32: 0x70, AF33: 0x78, AF41: 0x88, AF42: 0x90, AF43: 0x98, CS1: 0x20, CS2: 0x40, CS3: 0x60,
  CS4: 0x80, CS5: 0xa0, CS6: 0xc0, CS7: 0xe0, EF: 0xb8,
};

/** /etc/protocols names iproute2 prints for `ipproto` (else `ipproto-N`). */
export const IP_PROTOCOLS: Record<string, number> = {
  ip: 0, hopopt: 0, icmp: 1, igmp: 2, ggp: 3, ipencap: 4, st: 5, tcp: 6, egp: 8, igp: 9, pup: 12,
  udp: 17, hmp: 20, 'xns-idp': 22, rdp: 27, 'iso-tp4': 29, dccp: 33, xtp: 36, ddp: 37,
  'idpr-cmtp': 38, ipv6: 41, 'ipv6-route': 43, 'ipv6-frag': 44, idrp: 45, rsvp: 46, gre: 47,
  esp: 50, ah: 51, skip: 57, 'ipv6-icmp': 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, rspf: 73,
  vmtp: 81, eigrp: 88, ospf: 89, 'ax.25': 93, ipip: 94, etherip: 97, encap: 98, pim: 103,
  ipcomp: 108, vrrp: 112, l2tp: 115, isis: 124, sctp: 132, fc: 133, 'mobility-header': 135,
  udplite: 136, 'mpls-in-ip': 137, manet: 138, hip: 139, shim6: 140, wesp: 141, rohc: 142,
  ethernet: 143, mptcp: 262,
};

function parseTos(f: Fields, k: string): number | undefined {
  const v = f.obj[k];
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v in DSFIELD_NAMES) return DSFIELD_NAMES[v];
  return f.num(k, 0xff);
}

/** Dotted IPv4 as the kernel prints it: already its own canonical text (most gateways and sources). */
const canonicalV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseAddr(f: Fields, k: string, family?: Family): string | undefined {
  const s = f.str(k);
  if (s === undefined) return undefined;
  // Fast path (a 5,000-node host-gw table is 5,000 gateways): the general parser gives the same text.
  if (family !== 6 && canonicalV4.test(s)) return s;
  const ip = parseIP(s);
  if (!ip) f.fail(k, `not an IP address: ${JSON.stringify(s)}`);
  if (family && ip.family !== family) f.fail(k, `IPv${ip.family} address in an IPv${family} entry: ${s}`);
  return formatIP(ip);
}

function parseVia(f: Fields, v: unknown): Via {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) f.fail('via', `expected an object, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  const fam = o.family;
  const host = o.host;
  if (typeof host !== 'string') f.fail('via', 'missing "host"');
  const ip = parseIP(host);
  if (!ip) f.fail('via', `not an IP address: ${JSON.stringify(host)}`);
  if (fam !== undefined && fam !== 'inet' && fam !== 'inet6') f.fail('via', `unknown family ${describe(fam)}`);
  if ((fam === 'inet' && ip.family !== 4) || (fam === 'inet6' && ip.family !== 6)) f.fail('via', `family ${fam} does not match ${host}`);
  return { family: ip.family, host: formatIP(ip) };
}

// ---------------------------------------------------------------------------------------
// Routes

export interface ParseOptions {
  /** Family of entries that carry no address at all (`unreachable default`); guessed otherwise. */
  family?: Family;
}

/** Parses `ip -j route show table all` (and/or `ip -6 -j …`) output or its parsed JSON. */
export function parseRoutes(input: unknown, options: ParseOptions = {}): Route[] {
  const source = 'ip -j route';
  return readElements(source, input, true).map((el) => parseRoute(source, el, options));
}

function familyOf(f: Fields, addrs: (string | undefined)[], hint?: Family): Family {
  for (const a of addrs) {
    if (a === undefined || a === 'default') continue;
    const p = parsePrefix(a);
    if (p) return p.family;
  }
  // IPv6 routes always carry RTA_PREF; iproute2 prints it as "pref".
  if (f.has('pref')) return 6;
  return hint ?? 4;
}

function parseRoute(source: string, el: Element, opts: ParseOptions): Route {
  const f: Fields = objectOf(source, el);
  const typeText = f.str('type') ?? 'unicast';
  if (!ROUTE_TYPES.has(typeText)) f.fail('type', `unknown route type ${JSON.stringify(typeText)}`);
  const type = typeText as RouteType;
  const dstText = f.str('dst');
  if (dstText === undefined) f.fail('dst', 'missing');
  const rawNexthops = f.has('nexthops') ? f.obj.nexthops : undefined;
  if (rawNexthops !== undefined && !Array.isArray(rawNexthops)) f.fail('nexthops', 'expected an array');
  const nhAddrs = (rawNexthops ?? []).map((n: unknown) =>
    n && typeof n === 'object' && typeof (n as Record<string, unknown>).gateway === 'string' ? ((n as Record<string, unknown>).gateway as string) : undefined,
  );
  // The destination usually tells the family: then it is parsed once, not once per question.
  const dstFirst = dstText === 'default' ? undefined : parsePrefix(dstText);
  const family = dstFirst?.family ?? familyOf(f, [typeof f.obj.gateway === 'string' ? f.obj.gateway : undefined, typeof f.obj.prefsrc === 'string' ? f.obj.prefsrc : undefined, ...nhAddrs], opts.family);
  const dst = dstFirst ?? parsePrefix(dstText, family);
  if (!dst) f.fail('dst', `not a prefix: ${JSON.stringify(dstText)}`);
  if (dst.family !== family) f.fail('dst', `IPv${dst.family} prefix in an IPv${family} route`);
  let from: Prefix | undefined;
  const fromText = f.str('from') ?? f.str('src');
  if (fromText !== undefined) {
    from = parsePrefix(fromText, family);
    if (!from || from.family !== family) f.fail('from', `not an IPv${family} prefix: ${JSON.stringify(fromText)}`);
  }
  const tableText = f.has('table') ? f.obj.table : 'main';
  const table = typeof tableText === 'string' || typeof tableText === 'number' ? tableRef(tableText) : undefined;
  if (!table) f.fail('table', `not a table: ${describe(tableText)}`);
  const gateway = parseAddr(f, 'gateway', family);
  const via = f.has('via') ? parseVia(f, f.obj.via) : undefined;
  const dev = f.str('dev');
  const protocol = f.has('protocol') ? String(typeof f.obj.protocol === 'number' ? f.uint('protocol', 255) : f.str('protocol')) : undefined;
  const scope = f.has('scope') ? String(typeof f.obj.scope === 'number' ? f.uint('scope', 255) : f.str('scope')) : 'global';
  const metric = f.uint('metric') ?? 0;
  const prefsrc = parseAddr(f, 'prefsrc', family);
  const flags = f.strList('flags');
  const tos = parseTos(f, 'tos') ?? 0;
  const pref = f.str('pref');
  const expires = f.has('expires') ? f.num('expires', Number.MAX_SAFE_INTEGER) : undefined;
  const nhid = f.uint('nhid');
  let metrics: Record<string, unknown> | undefined;
  let mtu: number | undefined;
  if (f.has('metrics')) {
    const m = f.obj.metrics;
    const list = Array.isArray(m) ? m : [m];
    metrics = {};
    for (const item of list) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) f.fail('metrics', 'expected objects');
      Object.assign(metrics, item);
    }
    const mv = metrics.mtu;
    // A locked metric prints as ["lock", 1400].
    const mn = Array.isArray(mv) ? mv.find((x) => typeof x === 'number') : mv;
    if (mn !== undefined) {
      if (typeof mn !== 'number' || !Number.isInteger(mn) || mn < 0) f.fail('metrics', `bad mtu ${describe(mv)}`);
      mtu = mn;
    }
  }
  let nexthops: Nexthop[];
  const multipath = rawNexthops !== undefined;
  if (rawNexthops) {
    nexthops = rawNexthops.map((n: unknown, i: number) => {
      if (n === null || typeof n !== 'object' || Array.isArray(n)) f.fail(`nexthops[${i}]`, `expected an object, got ${describe(n)}`);
      const nf = new Fields(source, el, n as Record<string, unknown>, `nexthops[${i}].`);
      return {
        gateway: parseAddr(nf, 'gateway', family),
        via: nf.has('via') ? parseVia(nf, nf.obj.via) : undefined,
        dev: nf.str('dev'),
        weight: nf.uint('weight', 256) ?? 1,
        flags: nf.strList('flags'),
      };
    });
  } else if (type === 'unicast' || type === 'local' || type === 'broadcast' || type === 'multicast' || type === 'anycast' || dev !== undefined || gateway !== undefined) {
    nexthops = [{ gateway, via, dev, weight: 1, flags }];
  } else {
    nexthops = [];
  }
  // Absent fields are left out, not set to undefined; built key by key in this order rather than
  // deleted afterwards (deleting turns each of thousands of routes into a slow dictionary object).
  const route = { family, type, dst } as Route;
  if (from !== undefined) route.from = from;
  route.table = table;
  route.tos = tos;
  if (gateway !== undefined) route.gateway = gateway;
  if (via !== undefined) route.via = via;
  if (dev !== undefined) route.dev = dev;
  if (protocol !== undefined) route.protocol = protocol;
  route.scope = scope;
  route.metric = metric;
  if (prefsrc !== undefined) route.prefsrc = prefsrc;
  route.flags = flags;
  route.nexthops = nexthops;
  route.multipath = multipath;
  if (pref !== undefined) route.pref = pref;
  if (mtu !== undefined) route.mtu = mtu;
  if (metrics !== undefined) route.metrics = metrics;
  if (expires !== undefined) route.expires = expires;
  if (nhid !== undefined) route.nhid = nhid;
  route.index = el.index;
  route.text = formatRoute(route, dstText);
  return route;
}

/** `ip route`-style one-line rendering, used as evidence. */
export function formatRoute(r: Route, dstText?: string): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(dstText ?? (r.dst.len === 0 ? 'default' : r.dst.len === (r.family === 4 ? 32 : 128) ? formatIP(r.dst) : `${formatIP(r.dst)}/${r.dst.len}`));
  if (r.from) parts.push('from', `${formatIP(r.from)}/${r.from.len}`);
  if (r.tos) parts.push('tos', `0x${r.tos.toString(16)}`);
  if (r.gateway) parts.push('via', r.gateway);
  if (r.via) parts.push('via', r.via.family === 6 ? 'inet6' : 'inet', r.via.host);
  if (r.dev) parts.push('dev', r.dev);
  if (r.table.key !== String(TABLE_MAIN)) parts.push('table', r.table.name);
  if (r.protocol) parts.push('proto', r.protocol);
  if (r.scope !== 'global') parts.push('scope', r.scope);
  if (r.prefsrc) parts.push('src', r.prefsrc);
  if (r.metric) parts.push('metric', String(r.metric));
  parts.push(...r.flags);
  if (r.mtu !== undefined) parts.push('mtu', String(r.mtu));
  if (r.multipath) {
    for (const n of r.nexthops) {
      parts.push('nexthop');
      if (n.gateway) parts.push('via', n.gateway);
      if (n.via) parts.push('via', n.via.family === 6 ? 'inet6' : 'inet', n.via.host);
      if (n.dev) parts.push('dev', n.dev);
      parts.push('weight', String(n.weight), ...n.flags);
    }
  }
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------
// Rules

/**
 * Parses `ip -j rule` or `ip -6 -j rule` output (or its parsed JSON). The two dumps must be
 * parsed separately with `family` set: rules like `from all lookup main` carry no address, and
 * identical v4/v6 rules are both real (so, unlike routes, nothing is deduplicated).
 */
export function parseRules(input: unknown, options: ParseOptions = {}): Rule[] {
  const source = 'ip -j rule';
  return readElements(source, input, false).map((el) => parseRule(source, el, options));
}

function parseSelector(f: Fields, k: 'src' | 'dst', family: Family): Prefix | undefined {
  const s = f.str(k);
  if (s === undefined || s === 'all') return undefined;
  const len = f.uint(`${k}len`, family === 4 ? 32 : 128);
  const p = parsePrefix(len === undefined ? s : `${s}/${len}`, family);
  if (!p || p.family !== family) f.fail(k, `not an IPv${family} prefix: ${JSON.stringify(s)}`);
  return p;
}

function portRange(f: Fields, k: 'sport' | 'dport' | 'uid'): [number, number] | undefined {
  const max = k === 'uid' ? 0xffffffff : 0xffff;
  const single = k === 'uid' ? undefined : f.uint(k, max);
  const start = f.uint(`${k}_start`, max);
  const end = f.uint(`${k}_end`, max);
  if (single !== undefined) return [single, single];
  if (start === undefined && end === undefined) return undefined;
  if (start === undefined || end === undefined) f.fail(`${k}_${start === undefined ? 'start' : 'end'}`, 'missing half of a range');
  if (start > end) f.fail(`${k}_start`, `range start ${start} > end ${end}`);
  return [start, end];
}

function parseRule(source: string, el: Element, opts: ParseOptions): Rule {
  const f: Fields = objectOf(source, el);
  const priority = f.uint('priority');
  if (priority === undefined) f.fail('priority', 'missing');
  const addrs = [f.obj.src, f.obj.dst].filter((x): x is string => typeof x === 'string' && x !== 'all');
  let family: Family = opts.family ?? 4;
  for (const a of addrs) {
    const p = parsePrefix(a);
    if (p) {
      family = p.family;
      break;
    }
  }
  const src = parseSelector(f, 'src', family);
  const dst = parseSelector(f, 'dst', family);
  let action: RuleAction = 'lookup';
  let table: TableRef | undefined;
  let gotoTarget: number | undefined;
  if (f.has('table')) {
    const t = f.obj.table;
    table = typeof t === 'string' || typeof t === 'number' ? tableRef(t) : undefined;
    if (!table) f.fail('table', `not a table: ${describe(t)}`);
  }
  if (f.has('goto')) {
    action = 'goto';
    gotoTarget = f.uint('goto');
  } else if (f.has('nop')) action = 'nop';
  else if (f.has('action')) {
    const a = f.str('action')!;
    if (a === 'blackhole' || a === 'unreachable' || a === 'prohibit' || a === 'nat') action = a;
    else if (a === 'unicast') action = 'lookup';
    else f.fail('action', `unknown rule action ${JSON.stringify(a)}`);
  }
  const l3mdev = f.has('l3mdev');
  if (action === 'lookup' && !table && !l3mdev) f.fail('table', 'missing (a lookup rule names a table)');
  let fwmark = f.num('fwmark');
  let fwmask = f.num('fwmask');
  if (fwmark !== undefined || fwmask !== undefined) {
    fwmark ??= 0;
    fwmask ??= 0xffffffff;
  }
  let ipproto: number | undefined;
  if (f.has('ipproto')) {
    const v = f.obj.ipproto;
    if (typeof v === 'number') ipproto = f.uint('ipproto', 255);
    else {
      const s = f.str('ipproto')!;
      const m = /^(?:ipproto-)?(\d+)$/.exec(s);
      ipproto = m ? Number(m[1]) : IP_PROTOCOLS[s];
      if (ipproto === undefined || ipproto > 255) f.fail('ipproto', `unknown protocol ${JSON.stringify(s)}`);
    }
  }
  const suppressIfgroup = f.has('suppress_ifgroup') ? String(typeof f.obj.suppress_ifgroup === 'number' ? f.uint('suppress_ifgroup') : f.str('suppress_ifgroup')) : undefined;
  const rule: Rule = {
    family,
    priority,
    not: f.has('not'),
    src,
    dst,
    iif: f.str('iif'),
    iifDetached: f.has('iif_detached'),
    oif: f.str('oif'),
    oifDetached: f.has('oif_detached'),
    fwmark,
    fwmask,
    tos: parseTos(f, 'tos'),
    ipproto,
    sport: portRange(f, 'sport'),
    dport: portRange(f, 'dport'),
    uidrange: portRange(f, 'uid'),
    tunId: f.num('tun_id', Number.MAX_SAFE_INTEGER),
    action,
    table,
    goto: gotoTarget,
    unresolved: f.has('unresolved'),
    suppressPrefixlen: f.has('suppress_prefixlen') ? suppressLen(f) : undefined,
    suppressIfgroup,
    l3mdev,
    protocol: f.has('protocol') ? String(typeof f.obj.protocol === 'number' ? f.uint('protocol', 255) : f.str('protocol')) : undefined,
    index: el.index,
    text: '',
  };
  for (const k of Object.keys(rule) as (keyof Rule)[]) if (rule[k] === undefined) delete rule[k];
  rule.text = formatRule(rule);
  return rule;
}

function suppressLen(f: Fields): number {
  const v = f.obj.suppress_prefixlen;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v > 128) f.fail('suppress_prefixlen', `expected -1..128, got ${describe(v)}`);
  return v;
}

/** `ip rule`-style rendering, used as evidence. */
export function formatRule(r: Rule): string {
  const p: string[] = [`${r.priority}:`];
  if (r.not) p.push('not');
  p.push('from', r.src ? prefixText(r.src) : 'all');
  if (r.dst) p.push('to', prefixText(r.dst));
  if (r.tos !== undefined) p.push('tos', `0x${r.tos.toString(16)}`);
  if (r.fwmark !== undefined) p.push('fwmark', `0x${r.fwmark.toString(16)}${r.fwmask !== 0xffffffff ? `/0x${r.fwmask!.toString(16)}` : ''}`);
  if (r.iif) p.push('iif', r.iif + (r.iifDetached ? ' [detached]' : ''));
  if (r.oif) p.push('oif', r.oif + (r.oifDetached ? ' [detached]' : ''));
  if (r.uidrange) p.push('uidrange', `${r.uidrange[0]}-${r.uidrange[1]}`);
  if (r.ipproto !== undefined) p.push('ipproto', String(r.ipproto));
  if (r.sport) p.push('sport', r.sport[0] === r.sport[1] ? String(r.sport[0]) : `${r.sport[0]}-${r.sport[1]}`);
  if (r.dport) p.push('dport', r.dport[0] === r.dport[1] ? String(r.dport[0]) : `${r.dport[0]}-${r.dport[1]}`);
  if (r.l3mdev) p.push('lookup [l3mdev-table]');
  if (r.table) p.push('lookup', r.table.name);
  if (r.suppressPrefixlen !== undefined && r.suppressPrefixlen !== -1) p.push('suppress_prefixlength', String(r.suppressPrefixlen));
  if (r.suppressIfgroup !== undefined) p.push('suppress_ifgroup', r.suppressIfgroup);
  if (r.action === 'goto') p.push('goto', String(r.goto) + (r.unresolved ? ' [unresolved]' : ''));
  else if (r.action === 'nop') p.push('nop');
  else if (r.action !== 'lookup') p.push(r.action);
  return p.join(' ');
}

function prefixText(p: Prefix): string {
  return p.len === (p.family === 4 ? 32 : 128) ? formatIP(p) : `${formatIP(p)}/${p.len}`;
}
