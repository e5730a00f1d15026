// One network namespace as the simulators see it (seed: netstack NetNS), built lazily from the
// collector's NetNSInfo: each tool's output is parsed on first use, so a node the packet never
// reaches costs nothing. A field the collector could not read, or that does not parse, is
// recorded as a problem and yields `undefined` — the checks then say "not checked" instead of
// assuming an empty table.
import type { NetNSInfo } from '../../shared/dump';
import { Fdb, parseFdb } from './fdb';
import { parseInterfaces } from './interfaces';
import type { Interface } from './interfaces-model';
import { parseIP, sameIP, type Family } from './ip';
import { parseIpsetSave, matchSet, type IpsetRegistry } from './ipset';
import { parseIpvsadmSave, type IpvsTable } from './ipvs';
import { parseIptablesSaveLazy } from './iptables/parse';
import type { Ruleset } from './iptables/model';
import { parseNftRuleset, type NftRuleset } from './nftables/model';
import { NeighbourTable, parseNeighbours, type Neighbour } from './neighbour';
import { ParseError } from './parse-error';
import { Router } from './router';
import type { KernelProfile } from './router-kernel-profile';
import { parseRoutes, parseRules, type Route, type Rule } from './routes';
import { parseProcNet, parseSs, type Socket } from './sockets';
import { Sysctls } from './sysctl';

/** Something in the dump that could not be used, and what that means for the diagnosis. */
export interface NetnsProblem {
  /** Dump field, e.g. `iptables`, `routes`. */
  field: string;
  message: string;
}

/**
 * Limits on what one namespace's dump may make the parsers build, raisable by the engine's caller
 * (`new Network(source, context, limits)`); each names itself in its error.
 */
export interface NetstackLimits {
  /** Most ipset elements (ranges and CIDRs expanded) across all sets of one `ipset save`; default ipset.ts DEFAULT_ELEMENT_BUDGET. */
  ipsetElementBudget?: number;
}

export class NetNS {
  readonly problems: NetnsProblem[] = [];
  private readonly memo = new Map<string, unknown>();

  constructor(
    readonly info: NetNSInfo,
    /** Who this netns is, for messages: the node name or `namespace/pod`. */
    readonly label: string,
    /** The node's kernel (from the dump), for the router; absent = the newest behaviour. */
    readonly kernel?: KernelProfile,
    readonly limits: NetstackLimits = {},
  ) {}

  /** Parses one field once; a ParseError becomes a problem and the value is undefined. */
  private lazy<T>(field: string, build: () => T | undefined): T | undefined {
    if (this.memo.has(field)) return this.memo.get(field) as T | undefined;
    let v: T | undefined;
    try {
      v = build();
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.problems.push({ field, message: `${field} of ${this.label} does not parse (${e.message}); not checked` });
      v = undefined;
    }
    this.memo.set(field, v);
    return v;
  }

  private missing(field: string, what: string): undefined {
    this.problems.push({ field, message: `no ${what} in the dump of ${this.label}; not checked` });
    return undefined;
  }

  get interfaces(): Interface[] | undefined {
    return this.lazy('links', () => {
      if (!this.info.links) return this.missing('links', 'interface list (ip -j -d link)');
      return parseInterfaces(JSON.stringify(this.info.links), JSON.stringify(this.info.addresses ?? []));
    });
  }

  interface(name: string): Interface | undefined {
    return this.interfaces?.find((i) => i.name === name);
  }

  get sysctls(): Sysctls | undefined {
    return this.lazy('sysctls', () => (this.info.sysctls ? new Sysctls(this.info.sysctls) : this.missing('sysctls', 'sysctls')));
  }

  get routes(): Route[] | undefined {
    return this.lazy('routes', () => {
      if (!this.info.routes && !this.info.routes6) return this.missing('routes', 'routing table (ip -j route show table all)');
      return [...parseRoutes(this.info.routes ?? [], { family: 4 }), ...parseRoutes(this.info.routes6 ?? [], { family: 6 })];
    });
  }

  get rules(): Rule[] | undefined {
    return this.lazy('rules', () => {
      if (!this.info.rules && !this.info.rules6) return this.missing('rules', 'policy rules (ip -j rule)');
      return [...parseRules(this.info.rules ?? [], { family: 4 }), ...parseRules(this.info.rules6 ?? [], { family: 6 })];
    });
  }

  /** The router, when routes and interfaces are known (rules default to the kernel's three). */
  get router(): Router | undefined {
    return this.lazy('router', () => {
      const routes = this.routes;
      const interfaces = this.interfaces;
      if (!routes || !interfaces) return undefined;
      return new Router(routes, this.rules ?? defaultRules(), interfaces, { sysctls: this.sysctls, kernel: this.kernel });
    });
  }

  /**
   * The iptables rule sets that hold rules for a family, one per backend (legacy and nft may both
   * be active); undefined when the dump has none for that family.
   */
  rulesets(family: Family): Ruleset[] | undefined {
    const field = family === 4 ? 'iptables' : 'ip6tables';
    return this.lazy(field, () => {
      const saved = family === 4 ? this.info.iptables : this.info.ip6tables;
      if (!saved) return this.missing(field, `${field}-save output`);
      const out: Ruleset[] = [];
      for (const backend of ['legacy', 'nft'] as const) {
        const text = saved[backend];
        if (text !== undefined) out.push(parseIptablesSaveLazy(text, { family, source: `${field}-save (${backend})` }));
      }
      return out;
    });
  }

  /** The native nftables rule set (`nft -j list ruleset`, devices the JSON leaves out from `nft list ruleset`); undefined when the dump has none (nft not installed). */
  get nftables(): NftRuleset | undefined {
    return this.lazy('nftables', () => (this.info.nftables !== undefined ? parseNftRuleset(this.info.nftables, this.info.nftablesText) : undefined));
  }

  get ipsets(): IpsetRegistry | undefined {
    return this.lazy('ipsets', () => (this.info.ipsets !== undefined ? parseIpsetSave(this.info.ipsets, { ipsetElementBudget: this.limits.ipsetElementBudget }) : this.missing('ipsets', 'ipset list')));
  }

  get neighbours(): NeighbourTable | undefined {
    return this.lazy('neighbours', () => {
      if (!this.info.neighbours && !this.info.neighbours6) return this.missing('neighbours', 'neighbour table (ip -j neigh)');
      const all: Neighbour[] = [
        ...parseNeighbours(JSON.stringify(this.info.neighbours ?? [])),
        ...parseNeighbours(JSON.stringify(this.info.neighbours6 ?? [])),
        ...parseNeighbours(JSON.stringify(this.info.neighbours6Proxy ?? [])).map((n) => ({ ...n, proxy: true })),
      ];
      return new NeighbourTable(all, this.info.neighbours6Proxy !== undefined);
    });
  }

  get fdb(): Fdb | undefined {
    return this.lazy('fdb', () => (this.info.fdb ? new Fdb(parseFdb(JSON.stringify(this.info.fdb))) : this.missing('fdb', 'bridge FDB (bridge -j fdb)')));
  }

  /** IPVS virtual servers (`ipvsadm -Sn`); empty when the ip_vs module is not loaded. */
  get ipvs(): IpvsTable | undefined {
    return this.lazy('ipvs', () => (this.info.ipvs !== undefined ? parseIpvsadmSave(this.info.ipvs) : undefined));
  }

  /** Sockets from `ss -Htuln`, or from /proc/net when ss was missing. */
  get sockets(): Socket[] | undefined {
    return this.lazy('sockets', () => {
      if (this.info.sockets !== undefined) return parseSs(this.info.sockets);
      const p = this.info.procNet;
      if (!p) return this.missing('sockets', 'socket list (ss -Htuln)');
      return [
        ...(p.tcp ? parseProcNet(p.tcp, 'tcp') : []),
        ...(p.tcp6 ? parseProcNet(p.tcp6, 'tcp') : []),
        ...(p.udp ? parseProcNet(p.udp, 'udp') : []),
        ...(p.udp6 ? parseProcNet(p.udp6, 'udp') : []),
      ];
    });
  }

  /** Is `ip` one of this namespace's own addresses? */
  ownsAddress(ip: string): boolean {
    const a = parseIP(ip);
    if (!a) return false;
    return (this.interfaces ?? []).some((i) => i.addresses.some((x) => sameIP(x.address, a)));
  }

  /** ipset membership for the netfilter simulator. */
  ipsetTest(name: string, flags: ('src' | 'dst')[], pkt: Parameters<typeof matchSet>[3]): boolean | undefined {
    const sets = this.ipsets;
    return sets ? matchSet(sets, name, flags, pkt) : undefined;
  }
}

/** What a namespace has when `ip rule` was not dumped: the kernel's default rules. */
function defaultRules(): Rule[] {
  return [
    ...parseRules([
      { priority: 0, src: 'all', table: 'local' },
      { priority: 32766, src: 'all', table: 'main' },
      { priority: 32767, src: 'all', table: 'default' },
    ], { family: 4 }),
    ...parseRules([
      { priority: 0, src: 'all', table: 'local' },
      { priority: 32766, src: 'all', table: 'main' },
    ], { family: 6 }),
  ];
}
