// `sysctl -a` text (also sysctl.conf-style `key=value`) and the kernel's rules for what a
// per-interface setting actually is. Linux keeps `conf.all.X` and `conf.<if>.X` side by side
// and combines them per key (include/linux/inetdevice.h: IN_DEV_MAXCONF / ORCONF / ANDCONF /
// plain per-device); `conf.default.X` only seeds interfaces created later, so it never enters
// the effective value of an existing interface. A key absent from the dump stays unknown.
import { ParseError } from './parse-error';

const SOURCE = 'sysctl -a';

export interface SysctlDump {
  /** key → raw value (inner whitespace kept, ends trimmed). Later duplicates win, as with sysctl -p. */
  values: Map<string, string>;
  /** Lines the tool printed about itself (`sysctl: permission denied on key …`) when stderr was merged. */
  diagnostics: string[];
}

const KEY_RE = /^[^\s=]+$/;

export function parseSysctl(text: string): SysctlDump {
  if (typeof text !== 'string') throw new ParseError(SOURCE, 'input is not text', 0, 0);
  const values = new Map<string, string>();
  const diagnostics: string[] = [];
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    const raw = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      if (end === text.length) break;
      continue;
    }
    if (trimmed.startsWith('sysctl: ')) {
      diagnostics.push(trimmed);
      if (end === text.length) break;
      continue;
    }
    const eq = raw.indexOf('=');
    if (eq < 0) throw new ParseError(SOURCE, `expected "key = value", found no "=" in ${JSON.stringify(clip(raw))}`, lineNo, 1);
    const key = raw.slice(0, eq).trim();
    if (key === '') throw new ParseError(SOURCE, 'empty key before "="', lineNo, eq + 1);
    if (!KEY_RE.test(key)) {
      const bad = raw.search(/\S/) + key.search(/\s/);
      throw new ParseError(SOURCE, `key ${JSON.stringify(clip(key))} contains whitespace`, lineNo, bad + 1);
    }
    values.set(key, raw.slice(eq + 1).trim());
    if (end === text.length) break;
  }
  return { values, diagnostics };
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Typed read access over a dump. */
export class Sysctls {
  readonly values: Map<string, string>;
  constructor(dump: SysctlDump | Map<string, string> | Record<string, string>) {
    if (dump instanceof Map) this.values = dump;
    else if ('values' in dump && dump.values instanceof Map) this.values = dump.values;
    else this.values = new Map(Object.entries(dump as Record<string, string>));
  }

  static parse(text: string): Sysctls {
    return new Sysctls(parseSysctl(text));
  }

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  /** The value as one integer; undefined when absent or not a single integer. */
  int(key: string): number | undefined {
    const v = this.values.get(key);
    return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
  }

  /** Whitespace-separated integers (`ip_local_port_range = 32768\t60999`); undefined if any is not one. */
  ints(key: string): number[] | undefined {
    const v = this.values.get(key);
    if (v === undefined || v === '') return undefined;
    const parts = v.split(/\s+/);
    return parts.every((p) => /^-?\d+$/.test(p)) ? parts.map(Number) : undefined;
  }

  bool(key: string): boolean | undefined {
    const n = this.int(key);
    return n === undefined ? undefined : n !== 0;
  }
}

/** Interface names containing `.` appear with `/` in sysctl keys (`eth0.100` → `eth0/100`). */
export function sysctlIfName(ifname: string): string {
  return ifname.replace(/\./g, '/');
}

/** How the kernel combines `conf.all.X` with `conf.<if>.X` for a key. */
export type ConfRule = 'max' | 'or' | 'and' | 'iface';

/** Per-key rules for net.ipv4.conf.* (include/linux/inetdevice.h). */
export const IPV4_CONF_RULES: Readonly<Record<string, ConfRule>> = {
  rp_filter: 'max',
  arp_ignore: 'max',
  arp_announce: 'max',
  arp_notify: 'max',
  arp_accept: 'max',
  accept_local: 'or',
  route_localnet: 'or',
  proxy_arp: 'or',
  proxy_arp_pvlan: 'or',
  log_martians: 'or',
  arp_filter: 'or',
  shared_media: 'or',
  send_redirects: 'or',
  secure_redirects: 'or',
  promote_secondaries: 'or',
  src_valid_mark: 'or',
  ignore_routes_with_linkdown: 'or',
  accept_source_route: 'and',
  bootp_relay: 'and',
  arp_evict_nocarrier: 'and',
  bc_forwarding: 'and',
  // The `all` write propagates to every interface at write time; afterwards the
  // interface's own value is what ip_route_input checks (on the incoming interface).
  forwarding: 'iface',
  mc_forwarding: 'iface',
  tag: 'iface',
  medium_id: 'iface',
};

export interface ConfResolution {
  key: string;
  ifname: string;
  rule: ConfRule;
  /** Effective value; undefined when the dump lacks what is needed to know it. */
  value: number | undefined;
  all?: number;
  iface?: number;
  /** `conf.default.X`: shown for context only — it does not affect existing interfaces. */
  default?: number;
  /** One line for evidence, e.g. `rp_filter on eth0 = max(all 1, eth0 2) = 2`. */
  explanation: string;
}

/**
 * Effective `net.ipv4.conf.<ifname>.<key>` as the kernel applies it. Keys not in
 * IPV4_CONF_RULES are treated as per-interface. `accept_redirects` has its own rule
 * (AND when the interface forwards, OR when it does not).
 */
export function ipv4Conf(s: Sysctls, ifname: string, key: string): ConfResolution {
  const dev = sysctlIfName(ifname);
  const all = s.int(`net.ipv4.conf.all.${key}`);
  const iface = s.int(`net.ipv4.conf.${dev}.${key}`);
  const def = s.int(`net.ipv4.conf.default.${key}`);
  let rule: ConfRule = IPV4_CONF_RULES[key] ?? 'iface';
  if (key === 'accept_redirects') {
    const fwd = ipv4Conf(s, ifname, 'forwarding').value;
    rule = fwd === undefined ? 'iface' : fwd ? 'and' : 'or';
    if (fwd === undefined) {
      return base(key, ifname, 'iface', undefined, all, iface, def,
        `${key} on ${ifname}: unknown (depends on forwarding of ${ifname}, not in the dump)`);
    }
  }
  const show = (v: number | undefined) => (v === undefined ? '?' : String(v));
  let value: number | undefined;
  let why: string;
  switch (rule) {
    case 'iface':
      value = iface;
      why = `${key} on ${ifname} = ${show(iface)} (per-interface value)`;
      break;
    case 'max':
      value = all !== undefined && iface !== undefined ? Math.max(all, iface) : undefined;
      why = `${key} on ${ifname} = max(all ${show(all)}, ${ifname} ${show(iface)}) = ${show(value)}`;
      break;
    case 'or':
      // One side non-zero settles it even if the other is missing from the dump.
      value = all !== undefined && iface !== undefined ? (all || iface ? 1 : 0) : all || iface ? 1 : undefined;
      why = `${key} on ${ifname} = all ${show(all)} OR ${ifname} ${show(iface)} = ${show(value)}`;
      break;
    case 'and':
      value = all !== undefined && iface !== undefined ? (all && iface ? 1 : 0) : all === 0 || iface === 0 ? 0 : undefined;
      why = `${key} on ${ifname} = all ${show(all)} AND ${ifname} ${show(iface)} = ${show(value)}`;
      break;
  }
  return base(key, ifname, rule, value, all, iface, def, why);
}

function base(
  key: string, ifname: string, rule: ConfRule, value: number | undefined,
  all: number | undefined, iface: number | undefined, def: number | undefined, explanation: string,
): ConfResolution {
  const r: ConfResolution = { key, ifname, rule, value, explanation };
  if (all !== undefined) r.all = all;
  if (iface !== undefined) r.iface = iface;
  if (def !== undefined) r.default = def;
  return r;
}

/** Effective reverse-path filter mode on an interface: 0 off, 1 strict, 2 loose. */
export function rpFilter(s: Sysctls, ifname: string): number | undefined {
  return ipv4Conf(s, ifname, 'rp_filter').value;
}

/** Whether IPv4 packets arriving on `ifname` may be forwarded (per-interface `forwarding`). */
export function ipv4Forwarding(s: Sysctls, ifname: string): boolean | undefined {
  const v = ipv4Conf(s, ifname, 'forwarding').value;
  return v === undefined ? undefined : v !== 0;
}

/** `net.ipv4.ip_forward` — the same switch as `net.ipv4.conf.all.forwarding`. */
export function ipForward(s: Sysctls): boolean | undefined {
  return s.bool('net.ipv4.ip_forward') ?? s.bool('net.ipv4.conf.all.forwarding');
}

/** Per-interface IPv6 conf value (no all/default combination in ipv6: devconf is per device). */
export function ipv6Conf(s: Sysctls, ifname: string, key: string): number | undefined {
  return s.int(`net.ipv6.conf.${sysctlIfName(ifname)}.${key}`);
}

/**
 * `net.bridge.bridge-nf-call-iptables`: bridged IPv4 frames traverse iptables. Exists only
 * when br_netfilter is loaded; a bridge's own `nf_call_iptables` option ORs with it.
 */
export function bridgeNfCallIptables(s: Sysctls): boolean | undefined {
  return s.bool('net.bridge.bridge-nf-call-iptables');
}

export function bridgeNfCallIp6tables(s: Sysctls): boolean | undefined {
  return s.bool('net.bridge.bridge-nf-call-ip6tables');
}

export function conntrackCount(s: Sysctls): number | undefined {
  return s.int('net.netfilter.nf_conntrack_count');
}

export function conntrackMax(s: Sysctls): number | undefined {
  return s.int('net.netfilter.nf_conntrack_max') ?? s.int('net.nf_conntrack_max');
}

/** `net.ipv4.ip_local_port_range` as [low, high]. */
export function localPortRange(s: Sysctls): [number, number] | undefined {
  const r = s.ints('net.ipv4.ip_local_port_range');
  return r && r.length === 2 ? [r[0], r[1]] : undefined;
}

/**
 * Whether the kernel forwards an IPv6 packet that arrived on `iif`. Unlike IPv4, ip6_forward
 * checks `net.ipv6.conf.all.forwarding` only; a per-interface `forwarding` changes how that
 * interface behaves as a host or router (accept_ra, router solicitations, proxy NDP), never
 * whether packets are forwarded. Kernels from 6.17 add a per-interface `force_forwarding`, which
 * forwards what arrives on that interface whatever `all` says.
 */
export function ipv6ForwardingOn(s: Sysctls, iif: string): { on: boolean | undefined; evidence: string[] } {
  const all = s.int('net.ipv6.conf.all.forwarding');
  const forceKey = `net.ipv6.conf.${sysctlIfName(iif)}.force_forwarding`;
  const force = s.int(forceKey);
  const evidence = [`net.ipv6.conf.all.forwarding = ${all ?? '? (not in the dump)'}`];
  if (force !== undefined) evidence.push(`${forceKey} = ${force}`);
  if (force) return { on: true, evidence };
  return { on: all === undefined ? undefined : all !== 0, evidence };
}

/** `net.ipv6.conf.<if>.disable_ipv6`: the interface has no IPv6 addresses or routes and drops IPv6 both ways. */
export function ipv6Disabled(s: Sysctls, ifname: string): boolean | undefined {
  return s.bool(`net.ipv6.conf.${sysctlIfName(ifname)}.disable_ipv6`);
}

/**
 * Whether router advertisements are accepted on `ifname` (addrconf.c ipv6_accept_ra): with the
 * interface's own `forwarding` on, only `accept_ra = 2` accepts them; off, any non-zero value.
 */
export function ipv6AcceptRa(s: Sysctls, ifname: string): { accepted: boolean | undefined; evidence: string[] } {
  const dev = sysctlIfName(ifname);
  const ra = s.int(`net.ipv6.conf.${dev}.accept_ra`);
  const fwd = s.int(`net.ipv6.conf.${dev}.forwarding`);
  const evidence = [`net.ipv6.conf.${dev}.accept_ra = ${ra ?? '?'}`, `net.ipv6.conf.${dev}.forwarding = ${fwd ?? '?'}`];
  if (ra === undefined || fwd === undefined) return { accepted: undefined, evidence };
  return { accepted: fwd ? ra === 2 : ra !== 0, evidence };
}

/**
 * Whether `ifname` answers neighbour solicitations for addresses in its proxy list (ndisc.c
 * ndisc_recv_ns): the interface must forward (its own `forwarding`) and `proxy_ndp` be on for
 * it or for `all`.
 */
export function ipv6ProxyNdp(s: Sysctls, ifname: string): { on: boolean | undefined; evidence: string[] } {
  const dev = sysctlIfName(ifname);
  const fwd = s.int(`net.ipv6.conf.${dev}.forwarding`);
  const all = s.int('net.ipv6.conf.all.proxy_ndp');
  const own = s.int(`net.ipv6.conf.${dev}.proxy_ndp`);
  const evidence = [`net.ipv6.conf.${dev}.forwarding = ${fwd ?? '?'}`, `net.ipv6.conf.all.proxy_ndp = ${all ?? '?'}`, `net.ipv6.conf.${dev}.proxy_ndp = ${own ?? '?'}`];
  if (fwd === 0 || (all === 0 && own === 0)) return { on: false, evidence };
  if (fwd === undefined || (all === undefined && !own) || (own === undefined && !all)) return { on: undefined, evidence };
  return { on: true, evidence };
}
