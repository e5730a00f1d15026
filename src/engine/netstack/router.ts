// Linux policy routing, IPv4 and IPv6, as `ip route get` answers it. The algorithm follows the
// kernel (net/core/fib_rules.c, net/ipv4/{route.c,fib_trie.c,fib_frontend.c,fib_semantics.c},
// net/ipv6/{route.c,fib6_rules.c,addrconf.c}) closely enough that the router-vs-kernel test
// agrees on every packet it generates; where the kernel's choice depends on state a dump does
// not carry (multipath flow hash, neighbour reachability), every possible answer is returned.
//
// Input path (`iif`): IPv4 source validation (martians, rp_filter, accept_local, forwarding,
// route_localnet, src_valid_mark, send_redirects, bc_forwarding) is modelled from the sysctls
// given in RouterOptions (kernel defaults of a fresh netns when absent, said in `why`).
import type { Interface, InterfaceAddress } from './interfaces-model';
import { contains, formatIP, mask, parseIP, parsePrefix, type Family, type IP, type Prefix } from './ip';
import { ERRNO_TEXT, type NexthopChoice, type RouteErrno, type RouteFailure, type RouteFailureKind, type RouteQuery, type RouteResult, type RouteSuccess } from './router-model';
import { TABLE_DEFAULT, TABLE_LOCAL, TABLE_MAIN, type Nexthop, type Route, type Rule, type TableRef } from './routes';
import { ipv4Conf, ipv6Conf, type Sysctls } from './sysctl';
import { selectSourceV6 } from './router-source6';
import { kernelProfile, type KernelProfile } from './router-kernel-profile';

export type { RouteQuery, RouteResult } from './router-model';

export interface RouterOptions {
  /** Sysctls of the namespace (`sysctl -a`), for the input-path checks and linkdown handling. */
  sysctls?: Sysctls;
  /** The node's kernel, where lookups differ between kernels (default: the newest behaviour). */
  kernel?: KernelProfile;
}

/** Outcome of one table lookup. `again` = fall through to the next rule (no match or throw). */
type TableResult =
  | { kind: 'ok'; route: Route; candidates: number[]; plen: number }
  | { kind: 'error'; route: Route; errno: RouteErrno; failure: RouteFailureKind; plen: number }
  | { kind: 'again'; route?: Route };

type RulesResult =
  | { kind: 'ok'; rule?: Rule; table: TableRef; route: Route; candidates: number[] }
  | { kind: 'error'; rule?: Rule; table?: TableRef; route?: Route; errno: RouteErrno; failure: RouteFailureKind }
  | { kind: 'none' };

interface Flow {
  family: Family;
  dst: IP;
  /** Undefined = no source yet (0.0.0.0 / ::). */
  src?: IP;
  /** Input interface name (`lo` for locally generated packets). */
  iif: string;
  oif?: string;
  mark: number;
  tos: number;
  proto: number;
  sport: number;
  dport: number;
  uid: number;
}

interface Table {
  ref: TableRef;
  /** Prefix lengths present, longest first. */
  lens: number[];
  byLen: Map<number, Map<bigint, Route[]>>;
}

const REJECT: Record<string, { errno: RouteErrno; failure: RouteFailureKind } | undefined> = {
  unreachable: { errno: 'EHOSTUNREACH', failure: 'unreachable' },
  prohibit: { errno: 'EACCES', failure: 'prohibit' },
  blackhole: { errno: 'EINVAL', failure: 'blackhole' },
};

const SCOPE_NUM: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };
function routeScope(r: Route): number {
  return SCOPE_NUM[r.scope] ?? (/^\d+$/.test(r.scope) ? Number(r.scope) : 0);
}
function addrScope(a: InterfaceAddress): number {
  return typeof a.scope === 'number' ? a.scope : SCOPE_NUM[a.scope] ?? 0;
}

const V4 = (s: string) => parseIP(s)!;
const isMulticast4 = (ip: IP) => ip.value >> 28n === 0xen;
const isLbcast4 = (ip: IP) => ip.value === 0xffffffffn;
const isZeronet4 = (ip: IP) => ip.value >> 24n === 0n;
const isLoopback4 = (ip: IP) => ip.value >> 24n === 127n;
const isLocalMulticast4 = (ip: IP) => ip.value >> 8n === 0xe00000n;

export class Router {
  private readonly tables = new Map<Family, Map<string, Table>>([[4, new Map()], [6, new Map()]]);
  private readonly rules = new Map<Family, Rule[]>();
  private readonly ifByName = new Map<string, Interface>();
  private readonly sysctls?: Sysctls;
  private readonly kernel: KernelProfile;
  /** The kernel skips some fast paths once any rule or local route was added by hand. */
  private readonly customRules4: boolean;
  private readonly customLocalRoutes4: boolean;
  /** Nexthops whose gateway resolves to a local route (memo of gatewayIsLocal4). */
  private readonly gwLocal = new WeakMap<Nexthop, boolean>();

  constructor(
    routes: readonly Route[],
    rules: readonly Rule[],
    readonly interfaces: readonly Interface[],
    options: RouterOptions = {},
  ) {
    this.sysctls = options.sysctls;
    this.kernel = options.kernel ?? kernelProfile();
    for (const i of interfaces) this.ifByName.set(i.name, i);
    for (const r of routes) this.addRoute(r);
    for (const t of [...this.tables.values()].flatMap((m) => [...m.values()])) {
      t.lens.sort((a, b) => b - a);
      // Kernel order inside one prefix: TOS descending, then metric (IPv4 fib aliases; IPv6
      // leaves are metric-ordered). The dump is already in that order; the sort is stable.
      for (const m of t.byLen.values()) for (const list of m.values()) list.sort((a, b) => b.tos - a.tos || a.metric - b.metric);
    }
    for (const f of [4, 6] as Family[]) {
      this.rules.set(f, rules.filter((r) => r.family === f).map((r, i) => ({ r, i })).sort((a, b) => a.r.priority - b.r.priority || a.i - b.i).map((x) => x.r));
    }
    const rules4 = this.rules.get(4)!;
    this.customRules4 = !(rules4.length === 3 && rules4[0].priority === 0 && rules4[0].table?.id === TABLE_LOCAL && rules4[1].table?.id === TABLE_MAIN && rules4[2].table?.id === TABLE_DEFAULT && rules4.every((r) => !r.src && !r.dst && !r.iif && !r.oif && r.fwmark === undefined && r.action === 'lookup'));
    this.customLocalRoutes4 = routes.some((r) => r.family === 4 && r.type === 'local' && r.protocol !== 'kernel');
  }

  private addRoute(r: Route): void {
    const byTable = this.tables.get(r.family)!;
    let t = byTable.get(r.table.key);
    if (!t) {
      t = { ref: r.table, lens: [], byLen: new Map() };
      byTable.set(r.table.key, t);
    }
    let m = t.byLen.get(r.dst.len);
    if (!m) {
      m = new Map();
      t.byLen.set(r.dst.len, m);
      t.lens.push(r.dst.len);
    }
    const list = m.get(r.dst.value);
    if (list) list.push(r);
    else m.set(r.dst.value, [r]);
  }

  /** `ip route get` for one query. Never throws for a well-formed query; bad addresses are a failure. */
  lookup(q: RouteQuery): RouteResult {
    const dst = parseIP(q.dst);
    if (!dst) throw new TypeError(`not an IP address: ${q.dst}`);
    const src = q.src !== undefined ? parseIP(q.src) : undefined;
    if (q.src !== undefined && (!src || src.family !== dst.family)) throw new TypeError(`source ${q.src} is not an IPv${dst.family} address`);
    const zero = (ip?: IP) => (ip && ip.value !== 0n ? ip : undefined);
    const flow: Flow = {
      family: dst.family,
      dst,
      src: zero(src),
      iif: q.iif ?? 'lo',
      oif: q.oif,
      mark: q.mark ?? 0,
      tos: q.tos ?? 0,
      proto: q.ipproto ?? 0,
      sport: q.sport ?? 0,
      dport: q.dport ?? 0,
      uid: q.uid ?? 0,
    };
    if (q.iif !== undefined) return dst.family === 4 ? this.input4(flow) : this.input6(flow);
    return dst.family === 4 ? this.output4(flow) : this.output6(flow);
  }

  // ---- rules ------------------------------------------------------------------------------

  private ruleMatches(rule: Rule, f: Flow, hasSaddr: boolean): boolean {
    const m = (): boolean => {
      if (rule.iif !== undefined && (rule.iifDetached || rule.iif !== f.iif)) return false;
      if (rule.oif !== undefined && (rule.oifDetached || rule.oif !== f.oif)) return false;
      if (rule.fwmark !== undefined && ((rule.fwmark ^ f.mark) & (rule.fwmask ?? 0xffffffff)) >>> 0 !== 0) return false;
      if (rule.tunId) return false; // no tunnel metadata on these lookups
      if (rule.l3mdev) return false; // no VRF: the flow has no l3mdev
      if (rule.uidrange && (f.uid < rule.uidrange[0] || f.uid > rule.uidrange[1])) return false;
      if (f.family === 4) {
        const s = f.src ?? { family: 4 as Family, value: 0n };
        if (rule.src && !contains(rule.src, s)) return false;
        if (rule.dst && !contains(rule.dst, f.dst)) return false;
        // Legacy `tos` selectors compare the TOS bits 0x1c only (fib_dscp_masked_match).
        if (rule.tos && rule.tos !== (f.tos & 0x1c)) return false;
      } else {
        if (rule.dst && rule.dst.len && !contains(rule.dst, f.dst)) return false;
        // Without a source the kernel skips source rules (no FIB_RULE_FIND_SADDR from iproute2).
        if (rule.src && rule.src.len && (!hasSaddr || !f.src || !contains(rule.src, f.src))) return false;
        if (rule.tos && rule.tos !== (f.tos & 0xfc)) return false;
      }
      if (rule.ipproto && rule.ipproto !== f.proto) return false;
      if (rule.sport && (f.sport < rule.sport[0] || f.sport > rule.sport[1])) return false;
      if (rule.dport && (f.dport < rule.dport[0] || f.dport > rule.dport[1])) return false;
      return true;
    };
    return rule.not ? !m() : m();
  }

  /**
   * fib_rules_lookup: rules by priority; goto jumps; nop continues; a table without a match
   * (or a throw route) falls through; suppress_prefixlength rejects too-short results. In IPv4 it
   * reads only a result that is a route (the kernel asks `!err && suppress`): a reject route or a
   * reject rule ends the lookup with its error whatever the rule's suppress_prefixlength.
   */
  private rulesLookup(f: Flow, why: string[], table: (t: Table, rule: Rule) => TableResult, hasSaddr: boolean): RulesResult {
    const rules = this.rules.get(f.family)!;
    for (let i = 0; i < rules.length; i++) {
      let rule = rules[i];
      if (!this.ruleMatches(rule, f, hasSaddr)) continue;
      if (rule.action === 'goto') {
        const target = rules.findIndex((r) => r.priority === rule.goto);
        if (target < 0) {
          why.push(`rule ${rule.text}: goto target missing, next rule`);
          continue;
        }
        why.push(`rule ${rule.text}: jump`);
        i = target - 1; // the loop's i++ lands on the target, which must match in turn
        continue;
      }
      if (rule.action === 'nop') continue;
      let res: TableResult;
      let tableRef: TableRef | undefined;
      if (rule.action === 'lookup') {
        const t = rule.table ? this.tables.get(f.family)!.get(rule.table.key) : undefined;
        tableRef = rule.table;
        if (!t) {
          why.push(`rule ${rule.text}: table ${rule.table?.name ?? '?'} is empty`);
          continue;
        }
        res = table(t, rule);
        if (res.kind === 'again') {
          why.push(res.route ? `rule ${rule.text}: table ${t.ref.name}: throw route ${res.route.text}, next rule` : `rule ${rule.text}: table ${t.ref.name}: no route to ${formatIP(f.dst)}, next rule`);
          continue;
        }
      } else if (rule.action === 'nat') {
        continue;
      } else {
        const e = REJECT[rule.action]!;
        // An `unreachable` rule answers ENETUNREACH (an unreachable route: EHOSTUNREACH).
        const errno = rule.action === 'unreachable' ? 'ENETUNREACH' : e.errno;
        res = { kind: 'error', route: undefined as unknown as Route, errno, failure: e.failure, plen: 0 };
      }
      const suppressible = res.kind === 'ok' || f.family === 6;
      if (suppressible && rule.suppressPrefixlen !== undefined && rule.suppressPrefixlen >= 0 && res.plen <= rule.suppressPrefixlen) {
        why.push(`rule ${rule.text}: result /${res.plen}${res.kind === 'ok' ? ` (${res.route.text})` : ''} suppressed (suppress_prefixlength ${rule.suppressPrefixlen}), next rule`);
        continue;
      }
      if (res.kind === 'ok') {
        why.push(`rule ${rule.text}`, `table ${tableRef!.name}: ${res.route.text}`);
        return { kind: 'ok', rule, table: tableRef!, route: res.route, candidates: res.candidates };
      }
      if (res.route) why.push(`rule ${rule.text}`, `table ${tableRef!.name}: ${res.route.text}`);
      else why.push(`rule ${rule.text}`);
      return { kind: 'error', rule, table: tableRef, route: res.route, errno: res.errno, failure: res.failure };
    }
    why.push(`no rule found a route to ${formatIP(f.dst)}`);
    return { kind: 'none' };
  }

  // ---- IPv4 -------------------------------------------------------------------------------

  private conf4(ifname: string, key: string, dflt: number, why?: string[]): number {
    if (!this.sysctls) return dflt;
    const r = ipv4Conf(this.sysctls, ifname, key);
    if (r.value === undefined) {
      why?.push(`${key} on ${ifname}: not in the dump, assuming ${dflt}`);
      return dflt;
    }
    return r.value;
  }

  private nhUsable4(nh: Nexthop, f: Flow, ignoreLinkstate: boolean): boolean {
    if (nh.flags.includes('dead')) return false;
    if (!ignoreLinkstate && nh.flags.includes('linkdown') && nh.dev && this.conf4(nh.dev, 'ignore_routes_with_linkdown', 0)) return false;
    if (f.oif !== undefined && nh.dev !== f.oif) return false;
    return true;
  }

  /** fib_table_lookup: longest prefix; per prefix TOS then metric; reject types stop; bad nexthops are skipped. */
  private table4(t: Table, f: Flow, ignoreLinkstate = false, minScope = 0): TableResult {
    for (const len of t.lens) {
      const list = t.byLen.get(len)!.get(f.dst.value & mask(4, len));
      if (!list) continue;
      for (const r of list) {
        if (r.tos && r.tos !== (f.tos & 0x1c)) continue;
        if (routeScope(r) < minScope) continue;
        if (r.type === 'throw') return { kind: 'again', route: r };
        const rej = REJECT[r.type];
        if (rej) return { kind: 'error', route: r, errno: rej.errno, failure: rej.failure, plen: len };
        if (r.nhid !== undefined && r.nexthops.every((n) => !n.dev)) continue; // nexthop object not in the dump
        const good = r.nexthops.map((n, i) => (this.nhUsable4(n, f, ignoreLinkstate) ? i : -1)).filter((i) => i >= 0);
        if (good.length === 0) continue;
        return { kind: 'ok', route: r, candidates: good, plen: len };
      }
    }
    return { kind: 'again' };
  }

  private lookup4(f: Flow, why: string[], ignoreLinkstate = false, minScope = 0): RulesResult {
    return this.rulesLookup(f, why, (t) => this.table4(t, f, ignoreLinkstate, minScope), true);
  }

  /**
   * fib_check_nh_v4_gw: the kernel resolves a nexthop's gateway when the route is added (in
   * the route's table, then, on no match or an error there, through the rules; via the
   * nexthop's device; scope above the route's and at least link), and the result is fixed at
   * that moment. A gateway that resolves to a local route gets host scope and is then not used:
   * packets go straight to the destination on that device. Resolved here against the dump, which
   * assumes the link and host scope routes it shows were there when the gateway route was added
   * (addresses and connected routes come first on a node; the order of later ones is not dumped).
   */
  private gatewayIsLocal4(r: Route, nh: Nexthop): boolean {
    if (!nh.gateway || nh.flags.includes('onlink') || !nh.dev) return false;
    const f: Flow = { family: 4, dst: V4(nh.gateway), iif: 'lo', oif: nh.dev, mark: 0, tos: 0, proto: 0, sport: 0, dport: 0, uid: 0 };
    const minScope = Math.max(routeScope(r) + 1, SCOPE_NUM.link);
    let res: TableResult | RulesResult = { kind: 'again' };
    const t = r.table.id !== TABLE_MAIN ? this.tables.get(4)!.get(r.table.key) : undefined;
    if (t) res = this.table4(t, f, true, minScope);
    if (res.kind === 'error') res = { kind: 'again' };
    // Then fib_lookup. Which rules existed when the route was added is not in a dump; this
    // assumes the standard ones (local, main, default), as when routes precede custom rules.
    for (const id of [TABLE_LOCAL, TABLE_MAIN, TABLE_DEFAULT]) {
      if (res.kind === 'ok' || res.kind === 'error') break;
      const std = this.tables.get(4)!.get(String(id));
      if (std) res = this.table4(std, f, true, minScope);
    }
    return res.kind === 'ok' && res.route.type === 'local';
  }

  private usesGateway(r: Route, nh: Nexthop): boolean {
    if (!nh.gateway) return false;
    let v = this.gwLocal.get(nh);
    if (v === undefined) {
      v = r.family === 4 && this.gatewayIsLocal4(r, nh);
      this.gwLocal.set(nh, v);
    }
    return !v;
  }

  private v4Addresses(i: Interface): InterfaceAddress[] {
    return i.addresses.filter((a) => a.family === 4);
  }

  /** inet_select_addr: a primary address of `dev` in scope (one whose subnet holds `dst` first), else any interface's. */
  private selectAddr4(devName: string | undefined, dst: IP | undefined, scope: number): string | undefined {
    const dev = devName !== undefined ? this.ifByName.get(devName) : undefined;
    const localnet = dev && this.conf4(dev.name, 'route_localnet', 0) ? 253 : 254;
    let addr: string | undefined;
    if (dev) {
      for (const a of this.v4Addresses(dev)) {
        if (a.secondary) continue;
        if (Math.min(addrScope(a), localnet) > scope) continue;
        const p = parsePrefix(`${a.address}/${a.prefixLen}`)!;
        if (!dst || contains(p, dst)) return a.address;
        addr ??= a.address;
      }
      if (addr) return addr;
    }
    // Any interface, loopback first (the kernel's device list starts with lo).
    for (const i of [...this.interfaces].sort((a, b) => a.index - b.index)) {
      for (const a of this.v4Addresses(i)) {
        if (a.secondary) continue;
        if (addrScope(a) !== 253 && addrScope(a) <= scope) return a.address;
      }
    }
    return undefined;
  }

  private isLocalAddress4(ip: IP): Interface | undefined {
    const s = formatIP(ip);
    return this.interfaces.find((i) => i.addresses.some((a) => a.family === 4 && a.address === s));
  }

  private nexthopSrc4(r: Route, nh: Nexthop): string | undefined {
    if (r.prefsrc) return r.prefsrc;
    return this.selectAddr4(nh.dev, nh.gateway ? V4(nh.gateway) : undefined, routeScope(r));
  }

  private fail(family: Family, errno: RouteErrno, kind: RouteFailureKind, why: string[], extra: Partial<RouteFailure> = {}): RouteFailure {
    return { ok: false, family, errno, kind, message: ERRNO_TEXT[errno], why, ...extra };
  }

  private fromRulesFailure(f: Flow, r: RulesResult & { kind: 'error' | 'none' }, why: string[]): RouteFailure {
    if (r.kind === 'none') return this.fail(f.family, 'ENETUNREACH', 'no-route', why);
    return this.fail(f.family, r.errno, r.failure, why, { rule: r.rule, table: r.table, route: r.route });
  }

  /** ip_route_output_key_hash_rcu. */
  private output4(f: Flow): RouteResult {
    const why: string[] = [];
    let oifDev: Interface | undefined;
    if (f.src) {
      if (isMulticast4(f.src) || isLbcast4(f.src) || isZeronet4(f.src)) return this.fail(4, 'EINVAL', 'invalid-source', [...why, `source ${formatIP(f.src)} cannot be used`]);
      const owner = this.isLocalAddress4(f.src);
      if (!f.oif && (isMulticast4(f.dst) || isLbcast4(f.dst))) {
        if (!owner) return this.fail(4, 'ENETUNREACH', 'source-not-local', [...why, `source ${formatIP(f.src)} is not a local address`]);
        why.push(`multicast/broadcast from ${formatIP(f.src)}: sent on ${owner.name}, the interface holding that address`);
        return this.makeOutput4(f, owner.name, 'unicast', undefined, undefined, [], why);
      }
      if (!owner) return this.fail(4, 'ENETUNREACH', 'source-not-local', [...why, `source ${formatIP(f.src)} is not a local address`]);
    }
    let src = f.src ? formatIP(f.src) : undefined;
    if (f.oif !== undefined) {
      oifDev = this.ifByName.get(f.oif);
      if (!oifDev) return this.fail(4, 'ENODEV', 'no-device', [...why, `no interface ${f.oif}`]);
      if (!oifDev.adminUp) return this.fail(4, 'ENETUNREACH', 'device-down', [...why, `${f.oif} is down`]);
      if (isLocalMulticast4(f.dst) || isLbcast4(f.dst)) {
        src ??= this.selectAddr4(f.oif, undefined, 253);
        return this.makeOutput4({ ...f, src: src ? V4(src) : undefined }, f.oif, 'unicast', undefined, undefined, [], why, src);
      }
      if (!src && isMulticast4(f.dst)) src = this.selectAddr4(f.oif, undefined, 0);
    }
    const r = this.lookup4(f, why);
    if (r.kind !== 'ok') {
      if (f.oif !== undefined) {
        // "Apparently, routing tables are wrong. Assume, that the destination is on link."
        why.push(`no usable route; with oif ${f.oif} the kernel assumes ${formatIP(f.dst)} is on-link`);
        src ??= this.selectAddr4(f.oif, undefined, 253);
        return this.makeOutput4(f, f.oif, 'unicast', undefined, undefined, [], why, src);
      }
      return this.fromRulesFailure(f, r, why);
    }
    const route = r.route;
    if (route.type === 'local') {
      src ??= route.prefsrc ?? formatIP(f.dst);
      return this.makeOutput4(f, 'lo', 'local', r, route, [], why, src);
    }
    let cand = r.candidates;
    if (f.oif === undefined && route.nexthops.length > 1) {
      // fib_select_multipath: flow hash over live nexthops, preferring ones whose source is ours.
      // Since Linux 6.15 nexthops whose source is the flow's are preferred; none → plain hash.
      if (f.src && this.kernel.multipathPrefersSource) {
        const s = formatIP(f.src);
        const match = cand.filter((i) => this.nexthopSrc4(route, route.nexthops[i]) === s);
        if (match.length && match.length < cand.length) why.push(`${this.kernel.name} prefers the nexthops whose source is ${s}`, ...this.assumed('release'));
        if (match.length) cand = match;
      }
    } else cand = [cand[0]];
    const choices: NexthopChoice[] = cand.map((i) => {
      const nh = route.nexthops[i];
      const c: NexthopChoice = { dev: nh.dev ?? '', weight: nh.weight, src: src ?? this.nexthopSrc4(route, nh) };
      if (this.usesGateway(route, nh)) c.gateway = nh.gateway;
      else if (nh.gateway) why.push(`gateway ${nh.gateway} is a local address (resolves to a local route): not used, ${formatIP(f.dst)} treated as on-link on ${nh.dev}`);
      if (nh.via) c.via = nh.via;
      return c;
    });
    const type = route.type === 'broadcast' ? 'broadcast' : route.type === 'multicast' ? 'multicast' : 'unicast';
    return this.makeOutput4(f, choices[0].dev, type, r, route, choices, why, choices[0].src);
  }

  /** __mkroute_output: final type from the destination, loopback-source check. */
  private makeOutput4(
    f: Flow, dev: string, type: 'unicast' | 'local' | 'broadcast' | 'multicast', r: (RulesResult & { kind: 'ok' }) | undefined,
    route: Route | undefined, choices: NexthopChoice[], why: string[], src?: string,
  ): RouteResult {
    const s = src ? V4(src) : f.src;
    if (s && isLoopback4(s) && dev !== 'lo' && this.ifByName.get(dev)?.kind !== 'loopback') {
      return this.fail(4, 'EINVAL', 'invalid-source', [...why, `loopback source ${formatIP(s)} on ${dev}`]);
    }
    let t = type;
    if (isLbcast4(f.dst)) t = 'broadcast';
    else if (isMulticast4(f.dst)) t = 'multicast';
    else if (isZeronet4(f.dst)) return this.fail(4, 'EINVAL', 'martian-destination', [...why, `destination ${formatIP(f.dst)} is in 0.0.0.0/8`]);
    // The route's nexthop is dropped (fi = NULL) for a broadcast, and for a multicast found by a
    // route shorter than /4 ("use default one, but do not gateway in this case"): no gateway.
    if (route && (t === 'broadcast' || (t === 'multicast' && route.dst.len < 4)) && choices.some((c) => c.gateway || c.via)) {
      why.push(`${t} ${formatIP(f.dst)} by ${route.dst.len < 4 ? 'a route shorter than /4' : 'the route'}: sent on ${dev} without its gateway`);
      choices = choices.map(({ gateway: _g, via: _v, ...c }) => c);
    }
    if (choices.length === 0) choices = [{ dev, weight: 1, src }];
    const ok: RouteSuccess = {
      ok: true, family: 4, type: t, table: r?.table, rule: r?.rule, route, nexthops: choices,
      hashed: choices.length > 1, dev: choices[0].dev, src: src ?? choices[0].src, why,
    };
    if (choices[0].gateway) ok.gateway = choices[0].gateway;
    if (choices.length > 1) why.push(`multipath: the kernel picks one of ${choices.length} nexthops by flow hash`);
    return clean(ok);
  }

  /** ip_route_input_slow (+ ip_route_input_rcu's multicast branch). */
  private input4(f: Flow): RouteResult {
    const why: string[] = [];
    const dev = this.ifByName.get(f.iif);
    if (!dev) return this.fail(4, 'ENODEV', 'no-device', [`no interface ${f.iif}`]);
    const saddr = f.src ?? { family: 4 as Family, value: 0n };
    const fwd = this.conf4(dev.name, 'forwarding', 0, why);
    if (isMulticast4(f.dst)) {
      // Group membership is not in the dump; a multicast destination is routed only when the
      // host joined the group (ip_check_mc_rcu): all-hosts 224.0.0.1 is joined on every up device.
      if (f.dst.value !== 0xe0000001n || !dev.adminUp) return this.fail(4, 'EINVAL', 'martian-destination', [...why, `multicast ${formatIP(f.dst)}: group membership unknown, treated as not joined`]);
      // ip_mc_validate_source
      if (isMulticast4(saddr) || isLbcast4(saddr)) return this.fail(4, 'EINVAL', 'martian-source', [...why, `martian source ${formatIP(saddr)}`]);
      if (isLoopback4(saddr) && !this.conf4(dev.name, 'route_localnet', 0)) return this.fail(4, 'EINVAL', 'martian-source', [...why, `loopback source arriving on ${dev.name}`]);
      if (isZeronet4(saddr)) {
        if (!isLocalMulticast4(f.dst) && f.proto !== 2) return this.fail(4, 'EINVAL', 'invalid-source', [...why, `source 0.0.0.0 to ${formatIP(f.dst)}`]);
      } else {
        const v = this.validateSource4(f, saddr, undefined, undefined, dev, why);
        if (v) return v;
      }
      return clean({ ok: true, family: 4, type: 'multicast', input: 'local', nexthops: [{ dev: 'lo', weight: 1 }], hashed: false, dev: 'lo', why } as RouteSuccess);
    }
    if (isMulticast4(saddr) || isLbcast4(saddr)) return this.fail(4, 'EINVAL', 'martian-source', [...why, `martian source ${formatIP(saddr)}`]);
    const localnet = this.conf4(dev.name, 'route_localnet', 0);
    const brd = (table?: TableRef, rule?: Rule, route?: Route): RouteResult => {
      if (!isZeronet4(saddr)) {
        const v = this.validateSource4(f, saddr, undefined, undefined, dev, why);
        if (v) return v;
      }
      return clean({ ok: true, family: 4, type: 'broadcast', input: 'broadcast', table, rule, route, nexthops: [{ dev: 'lo', weight: 1 }], hashed: false, dev: 'lo', why } as RouteSuccess);
    };
    if (isLbcast4(f.dst) || (saddr.value === 0n && f.dst.value === 0n)) return brd();
    if (isZeronet4(saddr)) return this.fail(4, 'EINVAL', 'martian-source', [...why, `martian source ${formatIP(saddr)}`]);
    if (isZeronet4(f.dst)) return this.fail(4, 'EINVAL', 'martian-destination', [...why, `martian destination ${formatIP(f.dst)}`]);
    if (isLoopback4(f.dst)) {
      if (!localnet) return this.fail(4, 'EINVAL', 'martian-destination', [...why, `loopback destination arriving on ${dev.name} (route_localnet off)`]);
    } else if (isLoopback4(saddr) && !localnet) return this.fail(4, 'EINVAL', 'martian-source', [...why, `loopback source arriving on ${dev.name} (route_localnet off)`]);
    const inFlow: Flow = { ...f, oif: undefined, src: saddr };
    const r = this.lookup4(inFlow, why);
    if (r.kind !== 'ok') {
      if (!fwd) {
        why.push(`forwarding is disabled on ${dev.name}`);
        return this.fail(4, 'EHOSTUNREACH', 'forwarding-disabled', why, r.kind === 'error' ? { rule: r.rule, table: r.table, route: r.route } : {});
      }
      return this.fromRulesFailure(f, r, why);
    }
    const route = r.route;
    if (route.type === 'broadcast') {
      if (this.conf4(dev.name, 'bc_forwarding', 0)) return this.forward4(f, saddr, dev, r, why);
      return brd(r.table, r.rule, route);
    }
    if (route.type === 'local') {
      const v = this.validateSource4(f, saddr, f.dst, undefined, dev, why);
      if (v) return v;
      why.push(`delivered locally`);
      return clean({ ok: true, family: 4, type: 'local', input: 'local', table: r.table, rule: r.rule, route, nexthops: [{ dev: 'lo', weight: 1 }], hashed: false, dev: 'lo', why } as RouteSuccess);
    }
    if (!fwd) {
      why.push(`forwarding is disabled on ${dev.name}`);
      return this.fail(4, 'EHOSTUNREACH', 'forwarding-disabled', why, { rule: r.rule, table: r.table, route });
    }
    if (route.type !== 'unicast') return this.fail(4, 'EINVAL', 'martian-destination', [...why, `${route.type} route cannot forward`], { rule: r.rule, table: r.table, route });
    return this.forward4(f, saddr, dev, r, why);
  }

  private forward4(f: Flow, saddr: IP, dev: Interface, r: RulesResult & { kind: 'ok' }, why: string[]): RouteResult {
    const route = r.route;
    const cand = route.nexthops.length > 1 ? r.candidates : [r.candidates[0]];
    const choices: NexthopChoice[] = [];
    let firstFail: RouteFailure | undefined;
    for (const i of cand) {
      const nh = route.nexthops[i];
      const sub: string[] = [];
      const v = this.validateSource4(f, saddr, f.dst, nh.dev, dev, sub);
      if (v) {
        firstFail ??= { ...v, why: [...why, ...v.why] };
        continue;
      }
      const c: NexthopChoice = { dev: nh.dev ?? '', weight: nh.weight };
      if (this.usesGateway(route, nh)) c.gateway = nh.gateway;
      if (nh.via) c.via = nh.via;
      choices.push(c);
    }
    if (choices.length === 0) return { ...firstFail!, rule: r.rule, table: r.table, route };
    if (choices.length < cand.length) why.push(`some multipath nexthops fail source validation`);
    why.push(`forwarded`);
    if (choices.length > 1) why.push(`multipath: the kernel picks one of ${choices.length} nexthops by flow hash`);
    const ok: RouteSuccess = { ok: true, family: 4, type: 'unicast', input: 'forward', table: r.table, rule: r.rule, route, nexthops: choices, hashed: choices.length > 1, dev: choices[0].dev, why };
    if (choices[0].gateway) ok.gateway = choices[0].gateway;
    return clean(ok);
  }

  /**
   * fib_validate_source: martian (own address as source), rp_filter strict/loose via a reverse
   * lookup with source and destination swapped. Returns a failure, or undefined when valid.
   */
  private validateSource4(f: Flow, src: IP, dst: IP | undefined, oif: string | undefined, dev: Interface, why: string[]): RouteFailure | undefined {
    const rpf = this.conf4(dev.name, 'rp_filter', 0, why);
    const acceptLocal = this.conf4(dev.name, 'accept_local', 0);
    const txRedirects = this.conf4(dev.name, 'send_redirects', 1);
    const martian = (msg: string) => this.fail(4, 'EINVAL', 'martian-source', [...why, msg]);
    if (!rpf && (dev.name !== oif || !txRedirects)) {
      if (acceptLocal) return undefined;
      if (!this.customLocalRoutes4 && !this.customRules4) {
        if (this.isLocalAddress4(src)) return martian(`source ${formatIP(src)} is one of our addresses (martian)`);
        return undefined;
      }
    }
    const rev: Flow = {
      family: 4, dst: src, src: dst, iif: oif ?? 'lo', mark: this.conf4(dev.name, 'src_valid_mark', 0) ? f.mark : 0,
      tos: f.tos, proto: f.proto, sport: f.dport, dport: f.sport, uid: 0,
    };
    const sub: string[] = [];
    const r = this.lookup4(rev, sub);
    const noAddr = this.v4Addresses(dev).length === 0;
    if (r.kind !== 'ok') {
      if (rpf) return this.rpFilterFailure([...why, `rp_filter ${rpf} on ${dev.name}: no route back to ${formatIP(src)}`]);
      return undefined;
    }
    if (r.route.type !== 'unicast' && (r.route.type !== 'local' || !acceptLocal)) return martian(`source ${formatIP(src)} routes back as ${r.route.type} (${r.route.text}): martian source`);
    if (r.route.nexthops.some((n) => n.dev === dev.name) || (r.route.type === 'local' && dev.kind === 'loopback')) return undefined;
    if (noAddr) {
      if (rpf) return this.rpFilterFailure([...why, `rp_filter on ${dev.name} (no address)`]);
      return undefined;
    }
    if (rpf === 1) return this.rpFilterFailure([...why, `rp_filter 1 on ${dev.name}: the route back to ${formatIP(src)} leaves by ${r.route.nexthops.map((n) => n.dev).join(',')} (${r.route.text})`]);
    return undefined;
  }

  /** What the kernel profile assumed for one behaviour (the dump did not say), for `why`. */
  private assumed(what: keyof KernelProfile['assumed']): string[] {
    const a = this.kernel.assumed[what];
    return a ? [a] : [];
  }

  /** A failed reverse-path check: its errno depends on the kernel version (KernelProfile.rpFilterErrno). */
  private rpFilterFailure(why: string[]): RouteFailure {
    const k = this.kernel;
    return this.fail(4, k.rpFilterErrno, 'rp-filter', [...why, `${k.name} answers ${k.rpFilterErrno} for it`, ...this.assumed('release')]);
  }

  // ---- IPv6 -------------------------------------------------------------------------------

  /** rt6_score_route (+find_match's dead/linkdown checks); -1 = unusable. */
  private score6(r: Route, nh: Nexthop, oif: string | undefined, strict: boolean, ignoreLinkstate: boolean): number {
    if (nh.flags.includes('dead')) return -1;
    if (!ignoreLinkstate && nh.flags.includes('linkdown') && nh.dev && this.sysctls && ipv6Conf(this.sysctls, nh.dev, 'ignore_routes_with_linkdown')) return -1;
    const devScore = !oif || nh.dev === oif ? 2 : 0;
    if (!devScore && strict) return -1;
    const pref = r.pref === 'high' ? 3 : r.pref === 'low' ? 1 : 2;
    return devScore | (pref << 2);
  }

  /** fib6_table_lookup + rt6_select: longest prefix, first metric group by score, then the rest; backtrack. */
  private table6(t: Table, f: Flow, oif: string | undefined, strict: boolean): TableResult {
    for (const len of t.lens) {
      const list = t.byLen.get(len)!.get(f.dst.value & mask(6, len));
      if (!list) continue;
      const routes = list.filter((r) => !r.from || (r.from.len === 0 ? true : f.src !== undefined && contains(r.from, f.src)));
      if (routes.length === 0) continue;
      const scoreOf = (r: Route) => Math.max(-1, ...(r.nexthops.length ? r.nexthops : [{ dev: 'lo', weight: 1, flags: [] } as Nexthop]).map((n) => this.score6(r, n, oif, strict, false)));
      const pick = (group: Route[]) => {
        let best: Route | undefined;
        let bestScore = -1;
        for (const r of group) {
          const s = scoreOf(r);
          if (s > bestScore) {
            best = r;
            bestScore = s;
          }
        }
        return best;
      };
      const metric = routes[0].metric;
      const best = pick(routes.filter((r) => r.metric === metric)) ?? pick(routes.filter((r) => r.metric !== metric));
      if (!best) continue;
      if (best.type === 'throw') return { kind: 'again', route: best };
      const rej = REJECT[best.type];
      // A reject route's result is not suppressed by suppress_prefixlength (seen on 6.18: the
      // dst the kernel builds for it does not carry the route's prefix length); 128 models that.
      if (rej) return { kind: 'error', route: best, errno: rej.errno, failure: rej.failure, plen: 128 };
      const good = best.nexthops.map((n, i) => (this.score6(best, n, oif, strict, false) >= 0 ? i : -1)).filter((i) => i >= 0);
      return { kind: 'ok', route: best, candidates: good.length ? good : [0], plen: len };
    }
    return { kind: 'again' };
  }

  private needStrict6(ip: IP): boolean {
    const top = ip.value >> 112n;
    return top >> 8n === 0xffn || (top & 0xffc0n) === 0xfe80n || ip.value === 1n;
  }

  private output6(f: Flow): RouteResult {
    const why: string[] = [];
    const hasSaddr = f.src !== undefined;
    const strict = this.needStrict6(f.dst) || (f.oif !== undefined && !hasSaddr);
    const r = this.rulesLookup(f, why, (t) => this.table6(t, f, f.oif, strict), hasSaddr);
    return this.finish6(f, r, why, false);
  }

  private input6(f: Flow): RouteResult {
    const why: string[] = [];
    const dev = this.ifByName.get(f.iif);
    if (!dev) return this.fail(6, 'ENODEV', 'no-device', [`no interface ${f.iif}`]);
    const hasSaddr = f.src !== undefined;
    const strict = this.needStrict6(f.dst);
    // ip6_pol_route_input scores routes against the input interface as if it were the oif.
    const r = this.rulesLookup({ ...f, oif: undefined }, why, (t) => this.table6(t, f, f.iif, strict), hasSaddr);
    return this.finish6(f, r, why, true);
  }

  private finish6(f: Flow, r: RulesResult, why: string[], input: boolean): RouteResult {
    if (r.kind !== 'ok') return this.fromRulesFailure(f, r, why);
    const multicastInput = input && r.route.dst.len >= 8 && r.route.dst.value >> 120n === 0xffn;
    if (multicastInput && this.kernel.ipv6MulticastRouting) {
      // rt6_fill_node asks the multicast routing cache (ip6mr) about an input route whose
      // prefix is multicast and, without an entry, the kernel answers EMSGSIZE. Only kernels
      // built with CONFIG_IPV6_MROUTE do (KernelProfile.ipv6MulticastRouting).
      return this.fail(6, 'EMSGSIZE', 'multicast-input', [...why, `IPv6 multicast input: no multicast forwarding cache entry (${this.kernel.name} has IPv6 multicast routing)`, ...this.assumed('ipv6MulticastRouting')], { rule: r.rule, table: r.table, route: r.route });
    }
    const route = r.route;
    const type = route.type === 'local' ? 'local' : route.type === 'multicast' ? 'multicast' : route.type === 'broadcast' ? 'broadcast' : 'unicast';
    const cand = route.nexthops.length > 1 ? r.candidates : [r.candidates[0]];
    const choices: NexthopChoice[] = cand.map((i) => {
      const nh = route.nexthops[i];
      const c: NexthopChoice = { dev: type === 'local' ? 'lo' : nh.dev ?? '', weight: nh.weight };
      if (nh.gateway) c.gateway = nh.gateway;
      if (nh.via) c.via = nh.via;
      // rt6_fill_node prints a preferred source for output lookups even when one was given.
      if (!input) c.src = route.prefsrc ?? selectSourceV6(this.interfaces, nh.dev, f.dst);
      return c;
    });
    if (multicastInput) why.push(`IPv6 multicast input: the route itself is the answer (${this.kernel.name} has no IPv6 multicast routing)`);
    else if (input) why.push(type === 'local' ? 'delivered locally' : 'forwarded');
    if (choices.length > 1) why.push(`multipath: the kernel picks one of ${choices.length} nexthops by flow hash`);
    const ok: RouteSuccess = {
      ok: true, family: 6, type, table: r.table, rule: r.rule, route, nexthops: choices, hashed: choices.length > 1,
      dev: choices[0].dev, src: choices[0].src, why,
    };
    // Without multicast routing a multicast packet is only delivered here (ip6_mc_input).
    if (input) ok.input = type === 'local' || multicastInput ? 'local' : 'forward';
    if (choices[0].gateway) ok.gateway = choices[0].gateway;
    return clean(ok);
  }
}

function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Convenience: the router of one namespace's dump. */
export function routerOf(routes: readonly Route[], rules: readonly Rule[], interfaces: readonly Interface[], options?: RouterOptions): Router {
  return new Router(routes, rules, interfaces, options);
}

export type { Prefix };
