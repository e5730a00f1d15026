// IPv4/IPv6 addresses and prefixes as bigint values, so that v4 and v6 share one code path
// for containment, longest-prefix match and range checks. Parsing and formatting go
// through ipaddr.js.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface IP {
  family: Family;
  value: bigint;
}

export interface Prefix {
  family: Family;
  /** Network address (host bits cleared). */
  value: bigint;
  len: number;
}

const bits = (f: Family) => (f === 4 ? 32 : 128);

const DOTTED_QUAD = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Parses a literal IPv4/IPv6 address; undefined if it is not one (no throwing). */
export function parseIP(text: string): IP | undefined {
  const s = text.trim();
  // Fast path for the common case (every pod/node IP of a 150k-pod snapshot): plain dotted quad,
  // exactly what isValidFourPartDecimal accepts (no leading zeros, each part ≤ 255).
  const q = DOTTED_QUAD.exec(s);
  if (q) {
    const a = +q[1], b = +q[2], c = +q[3], d = +q[4];
    if (a <= 255 && b <= 255 && c <= 255 && d <= 255) return { family: 4, value: BigInt(((a << 24) >>> 0) + (b << 16) + (c << 8) + d) };
    return undefined;
  }
  if (!ipaddr.isValid(s)) return undefined;
  // ipaddr.js accepts legacy IPv4 forms ("10", "0x0a.1"); the kernel tools never print them.
  if (!s.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(s)) return undefined;
  let a = ipaddr.parse(s.replace(/%.*$/, ''));
  const bytes = a.toByteArray();
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return { family: a.kind() === 'ipv4' ? 4 : 6, value };
}

/** Formats an address the way iproute2 prints it (RFC 5952 for IPv6). */
export function formatIP(ip: IP): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const n = 16;
  const bytes: number[] = [];
  let v = ip.value;
  for (let i = 0; i < n; i++) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  if (ip.family === 6 && embedsIPv4(ip.value)) {
    // glibc's inet_ntop (and so iproute2) prints IPv4-mapped/-compatible addresses dotted.
    const v4 = bytes.slice(12).join('.');
    return (ip.value >> 32n) === 0xffffn ? `::ffff:${v4}` : `::${v4}`;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** The cases where inet_ntop writes the low 32 bits as a dotted quad (not `::` or `::1`). */
function embedsIPv4(v: bigint): boolean {
  const high = v >> 32n;
  if (high === 0xffffn) return true;
  return high === 0n && v > 0xffffn;
}

export function mask(family: Family, len: number): bigint {
  const b = bits(family);
  if (len <= 0) return 0n;
  return ((1n << BigInt(len)) - 1n) << BigInt(b - len);
}

/**
 * Parses `a.b.c.d/len`, `a.b.c.d` (host prefix), `default`/`any`/`all` (the family is then
 * taken from `defaultFamily`), and IPv6 forms. Host bits are cleared, as the kernel does.
 */
export function parsePrefix(text: string, defaultFamily: Family = 4): Prefix | undefined {
  const s = text.trim();
  if (s === 'default' || s === 'any' || s === 'all') return { family: defaultFamily, value: 0n, len: 0 };
  const slash = s.indexOf('/');
  const ip = parseIP(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return undefined;
  const max = bits(ip.family);
  let len = max;
  if (slash >= 0) {
    const lenText = s.slice(slash + 1);
    if (/^\d+$/.test(lenText)) len = Number(lenText);
    else {
      // iptables may print IPv4 netmasks in dotted form (`-s 10.0.0.0/255.0.0.0`).
      const m = parseIP(lenText);
      if (!m || m.family !== ip.family) return undefined;
      len = prefixLenOfMask(m);
      if (len < 0) return undefined;
    }
    if (len > max) return undefined;
  }
  return { family: ip.family, value: ip.value & mask(ip.family, len), len };
}

function prefixLenOfMask(m: IP): number {
  const b = bits(m.family);
  let len = 0;
  while (len < b && ((m.value >> BigInt(b - 1 - len)) & 1n) === 1n) len++;
  return (m.value & ~mask(m.family, len)) === 0n ? len : -1;
}

export function contains(p: Prefix, ip: IP): boolean {
  return p.family === ip.family && (ip.value & mask(p.family, p.len)) === p.value;
}

export function formatPrefix(p: Prefix): string {
  return `${formatIP({ family: p.family, value: p.value })}/${p.len}`;
}

/**
 * Do a and b denote the same address? Texts are parsed (`fd00::0:1` is `fd00::1`); the families
 * must agree (`::ffff:10.0.0.1` is not `10.0.0.1`). Text that is not an address equals nothing,
 * not even itself.
 */
export function sameIP(a: IP | string, b: IP | string): boolean {
  const x = typeof a === 'string' ? parseIP(a) : a;
  const y = typeof b === 'string' ? parseIP(b) : b;
  return x !== undefined && y !== undefined && x.family === y.family && x.value === y.value;
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const CANONICAL_V4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/**
 * The text iproute2 prints for an address (RFC 5952 for IPv6), so that comparing two such texts
 * compares the addresses; undefined when `text` is not an address.
 */
export function canonicalIP(text: string): string | undefined {
  // Fast path for the common case (150k pod IPs): dotted IPv4 already in canonical form.
  if (CANONICAL_V4.test(text)) return text;
  const ip = parseIP(text);
  return ip ? formatIP(ip) : undefined;
}
