// Seeded random policy-routing topology for the router-vs-kernel test: one netns with six
// veths (peers in a second netns; one without carrier, one administratively down), several
// addresses per interface (v4 primaries and secondaries, v6 global and ULA), ≥ 500 routes per
// family over several tables with every route type, multipath, tos, metrics, prefsrc, and
// ≥ 50 rules per family with every selector and action. Plus random `ip route get` queries.

export { rng } from '../../support/random';

export class Rand {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export const IFACES = ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'];
/** v4: up but its peer is down (no carrier, routes flagged linkdown); v5: administratively down. */
export const UP_IFACES = ['v0', 'v1', 'v2', 'v3', 'v4'];
export const TABLES = ['100', '101', '102', '200', '250', 'main', 'default', '77'];
export const MARKS = [0, 1, 2, 3, 4, 5, 7, 8, 0x10, 0x15, 0x101];
export const TOS = [0, 0x04, 0x08, 0x10, 0x18, 0x1c, 0x20, 0x14];

/** Netns setup commands (run inside the main netns unless noted). */
export function setupCommands(peerNs: string): string[] {
  const c: string[] = [
    'sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0',
    'ip link set lo up',
    'ip addr add 192.168.100.1/32 dev lo',
    'ip -6 addr add 2001:db8:ffff::1/128 dev lo',
  ];
  IFACES.forEach((v, i) => {
    c.push(`ip link add ${v} type veth peer name p${i} netns ${peerNs}`);
    c.push(`ip addr add 10.${i}.0.1/24 dev ${v}`, `ip addr add 10.${i}.0.2/24 dev ${v}`, `ip addr add 10.${i}.1.1/24 dev ${v}`);
    if (i === 0) c.push(`ip addr add 169.254.0.1/16 scope link dev ${v}`);
    c.push(`ip -6 addr add 2001:db8:${i}::1/64 dev ${v} nodad`, `ip -6 addr add 2001:db8:${i}::2/64 dev ${v} nodad`);
    if (i % 2 === 0) c.push(`ip -6 addr add fd00:${i}::1/64 dev ${v} nodad`);
    if (i !== 5) c.push(`ip link set ${v} up`);
  });
  return c;
}

export function peerCommands(): string[] {
  // p4 stays down: v4 has no carrier.
  return ['ip link set lo up', ...['p0', 'p1', 'p2', 'p3', 'p5'].map((p) => `ip link set ${p} up`)];
}

export function sysctlCommands(r: Rand): string[] {
  const c: string[] = [];
  c.push(`sysctl -qw net.ipv4.conf.all.rp_filter=${r.pick([0, 0, 1, 2])}`);
  for (const v of IFACES) {
    c.push(`sysctl -qw net.ipv4.conf.${v}.forwarding=${r.pick([0, 1, 1])}`);
    c.push(`sysctl -qw net.ipv4.conf.${v}.rp_filter=${r.pick([0, 1, 2])}`);
    if (r.chance(0.3)) c.push(`sysctl -qw net.ipv4.conf.${v}.accept_local=1`);
    if (r.chance(0.3)) c.push(`sysctl -qw net.ipv4.conf.${v}.src_valid_mark=1`);
    if (r.chance(0.3)) c.push(`sysctl -qw net.ipv4.conf.${v}.send_redirects=0`);
  }
  return c;
}

const V4_BASES = ['10.50.0.0', '10.60.0.0', '172.16.0.0', '172.20.0.0', '192.168.0.0', '100.64.0.0', '198.18.0.0', '10.1.0.0', '10.2.0.0'];
const V6_BASES = ['2001:db8:100::', '2001:db8:200::', 'fd10::', '2001:db8:ff00::', '2a00:1::', '2001:db8:1::'];

function v4num(s: string): number {
  return s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
function v4str(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
export function v4prefix(r: Rand): string {
  const base = v4num(r.pick(V4_BASES));
  const len = r.pick([8, 12, 16, 16, 20, 22, 24, 24, 26, 28, 30, 32]);
  const host = r.pick([0, 1, 2, 5, 128]) * 256 + r.pick([0, 1, 10, 100, 255]);
  const n = base + host;
  const m = len === 0 ? 0 : Math.floor(n / 2 ** (32 - len)) * 2 ** (32 - len);
  return `${v4str(m)}/${len}`;
}
export function v4inside(r: Rand, prefix: string): string {
  const [a, l] = prefix.split('/');
  const len = Number(l);
  const size = 2 ** (32 - len);
  const off = size <= 1 ? 0 : r.pick([0, 1, size - 1, Math.floor(r.next() * size), 2, size >> 1]);
  return v4str(v4num(a) + off);
}

function v6big(s: string): bigint {
  const [h, t] = s.split('::');
  const hp = h ? h.split(':') : [];
  const tp = t !== undefined && t !== '' ? t.split(':') : [];
  const parts = [...hp, ...Array(8 - hp.length - tp.length).fill('0'), ...tp];
  return parts.reduce((a, p) => (a << 16n) | BigInt(parseInt(p || '0', 16)), 0n);
}
function v6str(n: bigint): string {
  const parts: string[] = [];
  for (let i = 7; i >= 0; i--) parts.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return parts.join(':');
}
export function v6prefix(r: Rand): string {
  const base = v6big(r.pick(V6_BASES));
  const len = r.pick([16, 32, 40, 44, 48, 48, 52, 56, 60, 64, 64, 80, 96, 112, 128]);
  const host = (BigInt(r.pick([0, 1, 2, 0x10, 0xff])) << 64n) | BigInt(r.pick([0, 1, 0x100, 0xffff]));
  const n = base | host;
  const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(128 - len);
  return `${v6str(n & mask)}/${len}`;
}
export function v6inside(r: Rand, prefix: string): string {
  const [a, l] = prefix.split('/');
  const len = Number(l);
  const bits = BigInt(128 - len);
  const size = 1n << bits;
  const off = bits === 0n ? 0n : r.pick([0n, 1n, size - 1n, BigInt(r.int(0, 0xffff)) % size, (size >> 1n) | 7n]);
  return v6str(v6big(a) + off);
}

const gw4 = (r: Rand, i: number) => `10.${i}.${r.pick([0, 0, 1])}.${r.pick([254, 253])}`;
const gw6 = (r: Rand, i: number) => r.pick([`2001:db8:${i}::fe`, `2001:db8:${i}::fd`, 'fe80::1']);

/** `ip -batch` lines adding the routes of one family. */
export function routeCommands(r: Rand, family: 4 | 6, count: number): { lines: string[]; prefixes: string[] } {
  const lines: string[] = [];
  const prefixes: string[] = [];
  const defaults = new Set<string>();
  const ip = 'route';
  for (let n = 0; n < count; n++) {
    const table = r.pick(TABLES.filter((t) => t !== '77'));
    let prefix = family === 4 ? v4prefix(r) : v6prefix(r);
    if (r.chance(0.03) && !defaults.has(table)) {
      defaults.add(table);
      prefix = 'default';
    }
    prefixes.push(prefix);
    const i = r.int(0, 4);
    const dev = `v${i}`;
    const metric = family === 4 ? r.pick([0, 0, 10, 100, 1024]) : r.pick([1024, 1024, 256, 100, 2000]);
    const tail = `table ${table} metric ${metric}`;
    const pref = family === 6 && r.chance(0.2) ? ` pref ${r.pick(['low', 'high'])}` : '';
    const k = r.next();
    const src = (d: number) => (family === 4 ? `10.${d}.${r.pick([0, 1])}.1` : `2001:db8:${d}::${r.pick([1, 2])}`);
    const gw = (d: number) => (family === 4 ? gw4(r, d) : gw6(r, d));
    if (k < 0.3) lines.push(`${ip} add ${prefix} via ${gw(i)} dev ${dev} ${tail}${r.chance(0.2) ? ` src ${src(i)}` : ''}${pref}`);
    else if (k < 0.45) lines.push(`${ip} add ${prefix} dev ${dev} ${tail}${r.chance(0.3) ? ` src ${src(i)}` : ''}${pref}`);
    else if (k < 0.55) {
      const j = r.int(0, 4);
      const w = r.int(1, 3);
      lines.push(`${ip} add ${prefix} ${tail} nexthop via ${gw(i)} dev ${dev} weight ${w} nexthop via ${gw(j)} dev v${j}`);
    } else if (k < 0.6) lines.push(family === 4 ? `${ip} add ${prefix} via 10.99.${i}.1 dev ${dev} onlink ${tail}` : `${ip} add ${prefix} via 2001:db8:99::1 dev ${dev} onlink ${tail}`);
    else if (k < 0.66) lines.push(`${ip} add unreachable ${prefix} ${tail}`);
    else if (k < 0.71) lines.push(`${ip} add prohibit ${prefix} ${tail}`);
    else if (k < 0.76) lines.push(`${ip} add blackhole ${prefix} ${tail}`);
    else if (k < 0.84) lines.push(`${ip} add throw ${prefix} ${tail}`);
    else if (k < 0.87) lines.push(`${ip} add local ${prefix} dev ${dev} ${tail}`);
    else if (k < 0.89 && family === 4) lines.push(`${ip} add broadcast ${prefix} dev ${dev} ${tail}`);
    else if (k < 0.91 && family === 4) lines.push(`${ip} add multicast 224.${r.int(1, 3)}.0.0/16 dev ${dev} ${tail}`);
    else if (k < 0.95 && family === 4) lines.push(`${ip} add ${prefix} tos ${r.pick(['0x04', '0x08', '0x10', '0x18'])} via ${gw(i)} dev ${dev} ${tail}`);
    else lines.push(`${ip} add ${prefix} via ${gw(i)} dev ${dev} ${tail}`);
  }
  // Routes via the down interface are refused for IPv4; IPv6 keeps them.
  if (family === 6) lines.push(`route add 2001:db8:5:1::/64 dev v5 table 100`);
  // IPv4 fixes a gateway's resolution when its route is added (fib_check_nh_v4_gw), through the
  // link and host scope routes that exist then; a dump does not say in which order routes came.
  // As on a node (addresses and connected routes first), routes without a gateway come first.
  if (family === 4) return { lines: [...lines.filter((l) => !l.includes(' via ')), ...lines.filter((l) => l.includes(' via '))], prefixes };
  return { lines, prefixes };
}

/** `ip -batch` lines adding ≥ count rules of one family. */
export function ruleCommands(r: Rand, family: 4 | 6, count: number, prefixes: string[]): string[] {
  const prios = new Set<number>();
  while (prios.size < count) prios.add(r.int(1, 32000));
  const sorted = [...prios].sort((a, b) => a - b);
  const lines: string[] = [];
  const ipr = 'rule';
  sorted.forEach((prio, idx) => {
    const sel: string[] = [];
    if (r.chance(0.1)) sel.push('not');
    if (r.chance(0.25)) {
      sel.push('from', family === 4 ? r.pick(['10.0.0.0/24', '10.1.0.0/16', '10.2.0.1', '10.3.1.0/24', '172.16.0.0/12', '192.168.100.1', '10.0.0.0/8']) : r.pick(['2001:db8:0::/64', '2001:db8:1::1', '2001:db8::/32', 'fd00::/16', '2001:db8:2::/48']));
    }
    if (r.chance(0.25)) sel.push('to', r.pick(prefixes.filter((p) => p !== 'default')));
    if (r.chance(0.15)) sel.push('iif', r.pick([...IFACES, 'lo']));
    if (r.chance(0.1)) sel.push('oif', r.pick(IFACES));
    if (r.chance(0.25)) sel.push('fwmark', r.pick(['0x1', '0x2', '0x5', '0x10', '0x1/0x7', '0x1/0xff', '0x100/0xf00']));
    if (family === 4 && r.chance(0.08)) sel.push('tos', r.pick(['0x04', '0x08', '0x10', '0x18']));
    if (r.chance(0.1)) {
      sel.push('ipproto', r.pick(['tcp', 'udp']));
      if (r.chance(0.5)) sel.push('sport', r.pick(['1000-2000', '53', '1024-65535']));
      if (r.chance(0.5)) sel.push('dport', r.pick(['80', '443', '1-1023']));
    }
    if (r.chance(0.03)) sel.push('uidrange', '1000-2000');
    const hasSel = sel.some((s) => s !== 'not');
    const k = r.next();
    let action: string;
    if (k < 0.08 && idx < sorted.length - 1) action = `goto ${sorted[r.int(idx + 1, Math.min(sorted.length - 1, idx + 8))]}`;
    else if (k < 0.12) action = 'nop';
    else if (k < 0.2 && hasSel) action = r.pick(['blackhole', 'unreachable', 'prohibit']);
    else {
      action = `lookup ${r.pick(TABLES)}`;
      if (r.chance(0.15)) action += ` suppress_prefixlength ${r.pick([0, 8, 16, 24, 48, 64])}`;
    }
    lines.push(`${ipr} add pref ${prio} ${sel.join(' ')} ${action}`.replace(/\s+/g, ' '));
  });
  return lines;
}

export interface Query {
  family: 4 | 6;
  dst: string;
  src?: string;
  iif?: string;
  oif?: string;
  mark?: number;
  tos?: number;
  ipproto?: 'tcp' | 'udp';
  sport?: number;
  dport?: number;
}

export function queryText(q: Query): string {
  const p = ['route get', q.dst];
  if (q.src) p.push('from', q.src);
  if (q.iif) p.push('iif', q.iif);
  if (q.oif) p.push('oif', q.oif);
  if (q.mark !== undefined) p.push('mark', `0x${q.mark.toString(16)}`);
  if (q.tos !== undefined) p.push('tos', `0x${q.tos.toString(16)}`);
  if (q.ipproto) p.push('ipproto', q.ipproto);
  if (q.sport !== undefined) p.push('sport', String(q.sport));
  if (q.dport !== undefined) p.push('dport', String(q.dport));
  return p.join(' ');
}

export function randomQueries(r: Rand, family: 4 | 6, n: number, prefixes: string[]): Query[] {
  const out: Query[] = [];
  const locals4 = ['10.0.0.1', '10.1.0.2', '10.2.1.1', '192.168.100.1', '10.4.0.1', '10.5.0.1', '169.254.0.1', '127.0.0.1'];
  const locals6 = ['2001:db8:0::1', '2001:db8:1::2', 'fd00:2::1', '2001:db8:ffff::1', '2001:db8:4::1', '2001:db8:5::1'];
  for (let i = 0; i < n; i++) {
    const q: Query = { family, dst: '' };
    const k = r.next();
    const pfx = prefixes.filter((p) => p !== 'default');
    if (family === 4) {
      if (k < 0.55) q.dst = v4inside(r, r.pick(pfx));
      else if (k < 0.7) q.dst = r.pick([...locals4, '10.0.0.255', '10.1.1.255', '10.3.0.77', '10.4.0.9', '10.99.1.1', '127.0.0.9']);
      else if (k < 0.75) q.dst = r.pick(['224.1.2.3', '224.2.0.9', '224.0.0.1', '224.0.0.5', '239.1.1.1', '255.255.255.255']);
      else q.dst = v4str(r.int(0x01000000, 0xdfffffff));
    } else {
      if (k < 0.6) q.dst = v6inside(r, r.pick(pfx));
      else if (k < 0.75) q.dst = r.pick([...locals6, '2001:db8:3::99', '2001:db8:5::9', 'fd00:4::5', '2001:db8:5:1::1', '::1']);
      else if (k < 0.8) q.dst = r.pick(['ff02::1', 'ff05::2', 'ff0e::1', 'fe80::9']);
      else q.dst = v6str((BigInt(r.int(0x2000, 0x3fff)) << 112n) | BigInt(r.int(0, 0xffffff)));
    }
    const input = r.chance(0.4);
    if (input) {
      q.iif = r.pick(IFACES);
      const peerSrc = family === 4 ? `10.${r.int(0, 5)}.0.${r.int(3, 250)}` : `2001:db8:${r.int(0, 5)}::${r.int(3, 250).toString(16)}`;
      const anySrc = family === 4 ? v4inside(r, r.pick(pfx)) : v6inside(r, r.pick(pfx));
      const local = r.pick(family === 4 ? locals4 : locals6);
      q.src = r.pick([peerSrc, peerSrc, anySrc, anySrc, local, family === 4 ? '127.0.0.5' : '::1']);
    } else {
      if (r.chance(0.4)) q.src = r.chance(0.85) ? r.pick(family === 4 ? locals4 : locals6) : family === 4 ? v4inside(r, r.pick(pfx)) : v6inside(r, r.pick(pfx));
      if (r.chance(0.2)) q.oif = r.pick(IFACES);
    }
    if (r.chance(0.4)) q.mark = r.pick(MARKS);
    if (family === 4 && r.chance(0.2)) q.tos = r.pick(TOS);
    if (r.chance(0.3)) {
      q.ipproto = r.pick(['tcp', 'udp']);
      q.sport = r.pick([53, 80, 1000, 1500, 2000, 2001, 40000]);
      q.dport = r.pick([22, 80, 443, 8080, 1023]);
    }
    out.push(q);
  }
  return out;
}
