// The packet's passage through one network namespace, the way the kernel does it: netfilter
// hooks (with NAT rewriting the packet and statistic branches enumerated), the routing decision
// by the router simulator, then the output interface and next hop. The result is where the
// packet can go next (exits, each with its probability) and what stopped it (findings with the
// rule, route or interface as evidence). The path therefore follows the simulated kernel: a wrong
// route sends the packet the wrong way, and the walk shows it.
import { formatAddressPort, formatPacket, type Packet } from '../model/packet';
import { SuspicionLevel, suspicionKey, type Evidence, type Suspicion, type UndecidedElement } from '../model/suspicion';
import { formatIP, type Family } from '../netstack/ip';
import { isUp, downReason } from '../netstack/interfaces';
import type { Ruleset } from '../netstack/iptables/model';
import { traceReceive, traceSend, type PathOutcome } from '../netstack/netfilter/sequence';
import type { Hook, NatRewrite, NfPacket, NotUnderstood, TraceStep } from '../netstack/netfilter/packet';
import { HOOK_TABLES } from '../netstack/netfilter/trace';
import { decidingElements, enumerateWorlds, MAX_WORLDS } from '../netstack/netfilter/undecided';
import type { NetfilterRules } from '../netstack/netfilter/stages';
import { resolveNeighbour } from '../netstack/neighbour';
import type { NetNS } from '../netstack/netns';
import type { RouteFailure, RouteResult, RouteSuccess } from '../netstack/router-model';
import { formatRoute, formatRule } from '../netstack/routes';
import { netfilterEnv, type RouteLog } from './netfilter-env';
import { ipv6Hop } from './ipv6-hop';

/** Where the packet can go after this namespace. */
export type Exit = (
  | { kind: 'deliver'; packet: Packet; probability: number; nat: string[] }
  | { kind: 'out'; packet: Packet; probability: number; nat: string[]; oif: string; nexthop: string; route: RouteSuccess }
) & {
  /** The exit exists only in some ways of evaluating these elements (not modelled): what follows is not certain. */
  undecided?: UndecidedElement[];
};

export interface Walk {
  exits: Exit[];
  findings: Suspicion[];
  /** False when the namespace lacked what the walk needed (no routes): the verdict is unknown. */
  complete: boolean;
}

/** The tool whose rules act on a packet of `family`: IPv6 rules are ip6tables', as the user lists them. */
export const xtables = (family: Family): string => (family === 6 ? 'ip6tables' : 'iptables');

export function familyOf(ip: string): Family {
  return ip.includes(':') ? 6 : 4;
}

/** A packet the namespace itself sends (a pod or a host process). */
export function walkSend(ns: NetNS, packet: Packet): Walk {
  return walk(ns, packet, undefined);
}

/** A packet the host sends on behalf of another (IPVS): output path, routed by destination only. */
export function walkRelay(ns: NetNS, packet: Packet): Walk {
  return walk(ns, packet, undefined, true);
}

/** A packet arriving on interface `iif`. */
export function walkReceive(ns: NetNS, packet: Packet, iif: string): Walk {
  const findings: Suspicion[] = [];
  const i = ns.interface(iif);
  if (i && !isUp(i)) {
    findings.push({
      level: SuspicionLevel.FATAL,
      check: 'interface.down',
      message: `${iif} on ${ns.label}, where the packet arrives, is down (${downReason(i) ?? i.operState})`,
      evidence: [interfaceEvidence(ns, iif)],
    });
    return { exits: [], findings, complete: true };
  }
  const w = walk(ns, packet, iif);
  return { ...w, findings: [...findings, ...w.findings] };
}

function walk(ns: NetNS, packet: Packet, iif: string | undefined, foreignSource = false): Walk {
  const router = ns.router;
  if (!router) {
    return { exits: [], findings: problems(ns), complete: false };
  }
  const family = familyOf(packet.dst);
  const rules = netfilterRules(ns, family);
  const all = rules.iptables;
  const nf: NfPacket = toNf(packet, family, iif);
  const notUnderstood = new Map<string, NotUnderstood>();
  // Every combination of ways the elements netpath does not model can go (undecided.ts); the
  // first world takes them all as not matching.
  const ws = enumerateWorlds((assume) => {
    const log: RouteLog = new Map();
    const env = netfilterEnv(ns, log, foreignSource);
    const met: string[] = [];
    const outs = iif === undefined ? traceSend(rules, nf, env, { assume }) : traceReceive(rules, nf, env, { assume });
    for (const o of outs) {
      for (const n of o.notUnderstood) {
        met.push(n.key);
        notUnderstood.set(n.key, n);
      }
    }
    return { result: judge(ns, router, packet, iif, foreignSource, outs, log), met };
  });

  const base = ws.worlds[0].result;
  const findings = [...base.findings];
  let exits = base.exits;
  if (notUnderstood.size) {
    const baseSignature = signature(base);
    const deciding = decidingElements(ws, signature);
    if (!ws.truncated && ws.worlds.every((w) => signature(w.result) === baseSignature)) {
      // Rules only: an order of equal priorities or an ingress chain's device that changes nothing
      // would otherwise be a line on every hop of a cluster mixing iptables-nft and nftables.
      const rulesMet = [...notUnderstood.values()].filter((n) => n.kind !== 'chain');
      const k = kindOf(rulesMet, family);
      if (rulesMet.length) {
        findings.push({
          level: SuspicionLevel.INFO,
          check: `${k.check}.not-understood`,
          message: `${rulesMet.length} ${k.what} on ${ns.label} ${k.check === 'iptables' ? 'use matches or targets' : 'hold what'} netpath does not model; evaluated both ways (matching and not), they do not change what happens to this packet`,
          evidence: rulesMet.map(nuEvidence),
        });
      }
    } else {
      const elements = (deciding.length ? deciding : [...notUnderstood.keys()]).map((k) => notUnderstood.get(k)!);
      const undecided: UndecidedElement[] = elements.map((n) => undecidedOf(ns, n));
      const k = kindOf(elements, family);
      const merged = mergeWorlds(ws.worlds.map((w) => w.result), undecided, `${k.check}.undecided`);
      findings.length = 0;
      findings.push(...merged.findings);
      exits = merged.exits;
      const fates = [...new Set(ws.worlds.map((w) => fateOf(w.result)))];
      findings.push({
        level: SuspicionLevel.WARNING,
        check: `${k.check}.undecided`,
        message:
          `what happens to the packet on ${ns.label} depends on ${elements.length} ${k.what} netpath does not model: ` +
          `evaluated both ways (matching and not), the packet ${fates.join('; or it ')}` +
          (ws.truncated ? ` (more than ${MAX_WORLDS} combinations: not all were evaluated)` : ''),
        evidence: elements.map(nuEvidence),
        undecided,
      });
    }
  }
  findings.push(...incompleteTables(ns, all, new Set(ws.worlds.flatMap((w) => w.result.hooks))));
  return { exits: mergeExits(exits), findings, complete: true };
}

/** What one world of a hop gives: exits and findings as the walk reports them, and the hooks passed. */
interface HopResult {
  exits: Exit[];
  findings: Suspicion[];
  hooks: Hook[];
}

/** The packet's fate in every outcome of a trace: exits, and findings for what stopped it. */
function judge(
  ns: NetNS,
  router: NonNullable<NetNS['router']>,
  packet: Packet,
  iif: string | undefined,
  foreignSource: boolean,
  outcomes: PathOutcome[],
  log: RouteLog,
): HopResult {
  const findings: Suspicion[] = [];
  const exits: Exit[] = [];
  const dropped: { o: PathOutcome; step?: TraceStep }[] = [];
  const hooks = new Set<Hook>();
  for (const o of outcomes) for (const h of o.hooks) hooks.add(h);
  for (const o of outcomes) {
    const after = fromNf(o.packet, packet);
    const nat = o.nat.map(formatNat);
    if (o.fate === 'filtered') {
      dropped.push({ o, step: o.decidedBy });
      continue;
    }
    // The router's answer at the moment of the routing decision (before POSTROUTING's SNAT).
    const routed = o.route ? log.get(o.route) : undefined;
    const r = routed?.result ?? router.lookup({ ...query(o.packet, iif), ...(foreignSource ? { src: undefined } : {}) });
    const v6 = familyOf(packet.dst) === 6 ? ipv6Hop(ns, r, iif, after) : undefined;
    if (v6) findings.push(...v6.findings);
    if (v6?.stop) continue;
    if (!r.ok) {
      findings.push(routeFinding(ns, r, routed ? fromNf(routed.pkt, packet) : after, iif));
      continue;
    }
    if (o.route?.kind === 'local' || r.type === 'local') {
      exits.push({ kind: 'deliver', packet: after, probability: o.probability, nat });
      continue;
    }
    if (iif === undefined && !after.src && r.src) after.src = r.src;
    const oif = r.dev;
    const out = ns.interface(oif);
    // A bridge without carrier, or a veth whose other end is down, is explained by the link
    // layer: the fault is on the far side, and the namespace there reports it.
    const farSide = out && (out.kind === 'bridge' || (out.kind === 'veth' && out.adminUp));
    if (out && !isUp(out) && !farSide) {
      findings.push({
        level: SuspicionLevel.FATAL,
        check: 'interface.down',
        message: `the route sends the packet out of ${oif} on ${ns.label}, which is down (${downReason(out) ?? out.operState})`,
        evidence: [interfaceEvidence(ns, oif), routeEvidence(r)],
      });
      continue;
    }
    const nexthop = r.gateway ?? r.nexthops[0]?.gateway ?? after.dst;
    const neigh = ns.neighbours ? resolveNeighbour(ns.neighbours, nexthop, oif, out) : undefined;
    if (neigh?.status === 'unusable') {
      // A failed entry is history: the next packet asks again. Whether anyone can answer is
      // decided on the other side of the link (it must own the address or proxy ARP for it).
      findings.push({
        level: SuspicionLevel.WARNING,
        check: 'neighbour.failed',
        message: `next hop ${nexthop} on ${oif} did not resolve on ${ns.label} when the dump was taken: ${neigh.reason}`,
        evidence: [{ kind: 'neighbour', text: `${nexthop} dev ${oif} ${neigh.entry.states.join(' ')}`, where: ns.label }, routeEvidence(r)],
      });
    }
    exits.push({ kind: 'out', packet: after, probability: o.probability, nat, oif, nexthop, route: r });
  }
  findings.push(...dropFindings(ns, dropped, familyOf(packet.dst)));
  return { exits: mergeExits(exits), findings, hooks: [...hooks] };
}

/**
 * Sums up a world's outcome at this hop: where the packet can go, and whether something stops
 * it. Worlds that differ only in which rule drops, or in the statistic shares, agree.
 */
function signature(r: HopResult): string {
  return JSON.stringify([[...new Set(r.exits.map(exitKey))].sort(), r.findings.some((f) => f.level >= SuspicionLevel.CRITICAL)]);
}

/** One world's outcome in words, for the undecided finding. */
function fateOf(r: HopResult): string {
  const stops = r.findings.filter((f) => f.level >= SuspicionLevel.CRITICAL).map((f) => f.message);
  const where = [...new Set(r.exits.map((e) => `${e.kind === 'deliver' ? 'is delivered here' : `leaves by ${e.oif}`} as ${e.packet.src || '?'} -> ${e.packet.dst}:${e.packet.dport}`))];
  if (!where.length) return stops.length ? `is stopped: ${stops.join('; ')}` : 'goes nowhere';
  return stops.length ? `${where.join(' or ')}, or is stopped: ${stops.join('; ')}` : where.join(' or ');
}

/**
 * The worlds of a hop whose outcome an undecided element decides: every exit any world has is
 * followed (the packet may go there), a finding every world has stands, and a finding only some
 * worlds have is conditional — at most a WARNING, marked with the undecided elements.
 */
function mergeWorlds(results: HopResult[], undecided: UndecidedElement[], check: string): { exits: Exit[]; findings: Suspicion[] } {
  const exits = new Map<string, Exit>();
  const worldsWith = new Map<string, number>();
  for (const r of results) {
    for (const k of new Set(r.exits.map(exitKey))) worldsWith.set(k, (worldsWith.get(k) ?? 0) + 1);
    for (const e of r.exits) {
      const prev = exits.get(exitKey(e));
      if (!prev || prev.probability < e.probability) exits.set(exitKey(e), e);
    }
  }
  for (const [k, e] of exits) if (worldsWith.get(k)! < results.length) exits.set(k, { ...e, undecided });
  const seen = new Map<string, { f: Suspicion; n: number }>();
  for (const r of results) {
    for (const [k, f] of new Map(r.findings.map((x) => [suspicionKey(x), x]))) {
      const prev = seen.get(k);
      if (prev) prev.n++;
      else seen.set(k, { f, n: 1 });
    }
  }
  const findings: Suspicion[] = [];
  for (const { f, n } of seen.values()) {
    if (n === results.length) findings.push(f);
    else {
      findings.push({
        ...f,
        level: Math.min(f.level, SuspicionLevel.WARNING),
        message: `${f.message} — only in some ways of evaluating the rules netpath does not model (see ${check})`,
        undecided,
      });
    }
  }
  return { exits: [...exits.values()], findings };
}

/**
 * Everything that acts on a packet of `family` at this namespace's hooks: both iptables backends
 * (legacy and nft may both be active) and the native nftables chains, which the trace interleaves
 * at each hook by priority as the kernel runs them.
 */
export function netfilterRules(ns: NetNS, family: Family): NetfilterRules & { iptables: Ruleset[] } {
  const rulesets = ns.rulesets(family) ?? [];
  return { iptables: rulesets.length ? rulesets : [{ family, tables: [], hasCounters: false, warnings: [] }], nft: ns.nftables };
}

/** Evidence for an element netpath does not model: an iptables rule, a native nftables rule, a fact about base chains. */
export function nuEvidence(n: NotUnderstood): Evidence {
  if (n.kind === 'nftables') return { kind: 'nftables', text: n.text, where: `table ${n.table} chain ${n.chain} handle ${n.rule} (${n.reason})` };
  if (n.kind === 'chain') return { kind: 'nftables', text: n.text, where: n.reason };
  return { kind: 'iptables', text: n.text, where: `${n.table}/${n.chain} #${n.rule} (${n.reason})` };
}

export function undecidedOf(ns: NetNS, n: NotUnderstood): UndecidedElement {
  if (n.kind === 'nftables') return { where: `${ns.label} nftables table ${n.table} chain ${n.chain} handle ${n.rule}`, reason: n.reason };
  if (n.kind === 'chain') return { where: `${ns.label} ${n.text}`, reason: n.reason };
  return { where: `${ns.label} ${n.table}/${n.chain} #${n.rule}`, reason: n.reason };
}

/** Which findings elements not modelled make: iptables rules alone keep their iptables names. */
function kindOf(elements: NotUnderstood[], family: Family): { check: string; what: string } {
  if (elements.every((n) => !n.kind)) return { check: 'iptables', what: `${xtables(family)} rule(s)` };
  if (elements.every((n) => n.kind === 'nftables')) return { check: 'nftables', what: 'nftables rule(s)' };
  if (elements.every((n) => n.kind === 'chain')) return { check: 'nftables', what: 'fact(s) about base chains (order of equal priorities, device)' };
  return { check: 'nftables', what: `netfilter element(s) (${xtables(family)} or nftables rules, facts about base chains)` };
}

const HOOK_ORDER: readonly Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/**
 * Tables iptables-nft-save could not print whole, on hooks the packet passes (routed, or bridged
 * through br_netfilter FORWARD): rules netpath cannot see, each making the hop undecided.
 */
export function incompleteTables(ns: NetNS, rulesets: Ruleset[], hooks: Set<Hook>): Suspicion[] {
  const out: Suspicion[] = [];
  for (const rs of rulesets) {
    for (const table of rs.incompleteTables ?? []) {
      const at = HOOK_ORDER.filter((h) => hooks.has(h) && HOOK_TABLES[h].includes(table));
      if (!at.length) continue;
      out.push({
        level: SuspicionLevel.WARNING,
        check: 'iptables.incomplete-table',
        message: `${xtables(rs.family)}-nft-save on ${ns.label} could not print table ${table} whole (it contains incompatible base chains); the packet passes ${table} at ${at.join(', ')}, where rules netpath cannot see may act on it`,
        evidence: [{ kind: 'iptables', text: `# Table \`${table}' contains incompatible base-chains, use 'nft' tool to list them.`, where: ns.label }],
        undecided: [{ where: `${ns.label} ${xtables(rs.family)} table ${table}`, reason: `${xtables(rs.family)}-nft-save could not print the table whole` }],
      });
    }
  }
  return out;
}

function query(p: NfPacket, iif: string | undefined) {
  return {
    dst: p.dst,
    src: p.src && p.src !== '0.0.0.0' && p.src !== '::' ? p.src : undefined,
    iif,
    mark: p.mark,
    ipproto: typeof p.proto === 'number' ? p.proto : ({ tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132 } as Record<string, number>)[p.proto],
    sport: p.sport,
    dport: p.dport,
  };
}

export function toNf(p: Packet, family: Family, iif: string | undefined): NfPacket {
  // The first packet of a connection is NEW; the reply belongs to a confirmed connection.
  const ct: NfPacket['ct'] = p.reply ? { state: 'ESTABLISHED', confirmed: true, direction: 'REPLY', status: ['SEEN_REPLY', 'CONFIRMED'] } : { state: 'NEW' };
  const nf: NfPacket = { family, src: p.src || (family === 4 ? '0.0.0.0' : '::'), dst: p.dst, proto: p.protocol, mark: p.mark, ct };
  if (p.sport) nf.sport = p.sport;
  if (p.dport) nf.dport = p.dport;
  if (iif !== undefined) nf.iif = iif;
  return nf;
}

function fromNf(nf: NfPacket, before: Packet): Packet {
  const src = nf.src === '0.0.0.0' || nf.src === '::' ? '' : nf.src;
  const p: Packet = { src, sport: nf.sport ?? before.sport, dst: nf.dst, dport: nf.dport ?? before.dport, protocol: before.protocol, mark: nf.mark ?? 0 };
  if (before.encap) p.encap = before.encap;
  if (before.reply) p.reply = true;
  if (before.size) p.size = before.size;
  return p;
}

function formatNat(n: NatRewrite): string {
  const t = (x: { src: string; dst: string; sport?: number; dport?: number }, side: 'src' | 'dst') =>
    side === 'dst' ? formatAddressPort(x.dst, x.dport ?? 0, true) : formatAddressPort(x.src, x.sport ?? 0, true);
  const side = n.kind === 'DNAT' || n.kind === 'REDIRECT' ? 'dst' : 'src';
  return `${n.kind} ${t(n.before, side)} -> ${t(n.after, side)} (${n.native ? `nftables ${n.native}` : `${n.hook} ${n.chain} #${n.rule}`})`;
}

function exitKey(e: Exit): string {
  return `${e.kind}|${e.packet.src}|${e.packet.dst}|${e.packet.dport}|${e.packet.mark}|${e.kind === 'out' ? `${e.oif}|${e.nexthop}` : ''}`;
}

function mergeExits(exits: Exit[]): Exit[] {
  const byKey = new Map<string, Exit>();
  for (const e of exits) {
    const key = exitKey(e);
    const prev = byKey.get(key);
    if (prev) {
      prev.probability += e.probability;
      if (prev.undecided && !e.undecided) delete prev.undecided;
    } else byKey.set(key, { ...e, nat: [...e.nat] });
  }
  return [...byKey.values()];
}

function dropFindings(ns: NetNS, dropped: { o: PathOutcome; step?: TraceStep }[], family: Family): Suspicion[] {
  // One finding per deciding rule, with the share of packets it stops.
  const byRule = new Map<string, { step?: TraceStep; verdict: string; p: number; with?: string }>();
  for (const d of dropped) {
    const key = d.step ? `${d.step.table}/${d.step.chain}#${d.step.rule}` : 'policy';
    const prev = byRule.get(key);
    if (prev) prev.p += d.o.probability;
    else byRule.set(key, { step: d.step, verdict: d.o.verdict, p: d.o.probability, with: d.o.rejectWith });
  }
  const out: Suspicion[] = [];
  for (const { step, verdict, p, with: rejectWith } of byRule.values()) {
    const share = p >= 0.9999 ? '' : ` (${Math.round(p * 100)}% of new connections, by kube-proxy-style random choice)`;
    if (step?.native) {
      out.push({
        level: p >= 0.9999 ? SuspicionLevel.FATAL : SuspicionLevel.CRITICAL,
        check: verdict === 'REJECT' ? 'nftables.reject' : 'nftables.drop',
        message: `the packet is ${verdict === 'REJECT' ? `rejected${rejectWith ? ` (${rejectWith})` : ''}` : 'dropped'} by nftables on ${ns.label} in ${step.native}${share.replace('kube-proxy-style random choice', 'numgen or limit')}`,
        evidence: [{ kind: 'nftables', text: step.text, where: `${ns.label} ${step.native}` }],
      });
      continue;
    }
    const where = step ? `${step.table}/${step.chain}${step.rule ? ` #${step.rule}` : ' policy'}` : 'netfilter';
    const what = verdict === 'REJECT' ? `rejected${rejectWith ? ` (${rejectWith})` : ''}` : 'dropped';
    out.push({
      level: p >= 0.9999 ? SuspicionLevel.FATAL : SuspicionLevel.CRITICAL,
      check: verdict === 'REJECT' ? 'iptables.reject' : 'iptables.drop',
      message: `the packet is ${what} by ${xtables(family)} on ${ns.label} in ${step?.hook ?? ''} ${where}${share}`.replace(/\s+/g, ' '),
      evidence: step ? [{ kind: 'iptables', text: step.text, where: `${ns.label} ${family === 6 ? 'ip6tables ' : ''}${step.hook} ${where}` }] : [],
    });
  }
  return out;
}

const ROUTE_CHECK: Record<RouteFailure['kind'], { check: string; level: SuspicionLevel }> = {
  'no-route': { check: 'route.no-route', level: SuspicionLevel.FATAL },
  unreachable: { check: 'route.unreachable', level: SuspicionLevel.FATAL },
  prohibit: { check: 'route.prohibit', level: SuspicionLevel.FATAL },
  blackhole: { check: 'route.blackhole', level: SuspicionLevel.FATAL },
  'forwarding-disabled': { check: 'sysctl.forwarding-disabled', level: SuspicionLevel.FATAL },
  'martian-source': { check: 'route.martian-source', level: SuspicionLevel.FATAL },
  'martian-destination': { check: 'route.martian-destination', level: SuspicionLevel.FATAL },
  'rp-filter': { check: 'sysctl.rp-filter', level: SuspicionLevel.FATAL },
  'source-not-local': { check: 'route.source-not-local', level: SuspicionLevel.FATAL },
  'invalid-source': { check: 'route.invalid-source', level: SuspicionLevel.FATAL },
  'no-device': { check: 'interface.missing', level: SuspicionLevel.FATAL },
  'device-down': { check: 'interface.down', level: SuspicionLevel.FATAL },
  'multicast-input': { check: 'route.multicast', level: SuspicionLevel.WARNING },
};

function routeFinding(ns: NetNS, r: RouteResult, p: Packet, iif: string | undefined): Suspicion {
  if (r.ok) {
    return { level: SuspicionLevel.WARNING, check: 'route.inconsistent', message: `netfilter could not route the packet on ${ns.label}, but the router can`, evidence: [routeEvidence(r)] };
  }
  const { check, level } = ROUTE_CHECK[r.kind];
  const from = iif ? ` arriving on ${iif}` : '';
  const evidence: Evidence[] = [];
  if (r.route) evidence.push({ kind: 'route', text: formatRoute(r.route), where: `${ns.label} table ${r.route.table.name}` });
  if (r.rule) evidence.push({ kind: 'rule', text: formatRule(r.rule), where: ns.label });
  if (r.kind === 'forwarding-disabled' || r.kind === 'rp-filter') {
    for (const key of sysctlKeys(r.kind, iif)) {
      const v = ns.sysctls?.get(key);
      if (v !== undefined) evidence.push({ kind: 'sysctl', text: `${key} = ${v}`, where: ns.label });
    }
  }
  if (!evidence.length) evidence.push({ kind: 'route', text: r.why.join('; '), where: ns.label });
  return { level, check, message: `${ns.label} cannot route ${formatPacket(p, { chosenPortsOnly: true })}${from}: ${r.message}`, evidence };
}

function sysctlKeys(kind: string, iif: string | undefined): string[] {
  const dev = iif?.replace(/\./g, '/');
  if (kind === 'forwarding-disabled') return ['net.ipv4.ip_forward', ...(dev ? [`net.ipv4.conf.${dev}.forwarding`] : [])];
  return ['net.ipv4.conf.all.rp_filter', ...(dev ? [`net.ipv4.conf.${dev}.rp_filter`] : [])];
}

export function routeEvidence(r: RouteSuccess): Evidence {
  const where = r.table ? `table ${r.table.name}` : undefined;
  const text = r.route ? formatRoute(r.route) : r.why.join('; ');
  return where ? { kind: 'route', text, where } : { kind: 'route', text };
}

export function interfaceEvidence(ns: NetNS, name: string): Evidence {
  const i = ns.interface(name);
  if (!i) return { kind: 'interface', text: `${name}: not present`, where: ns.label };
  return { kind: 'interface', text: `${i.index}: ${i.name}: <${i.flags.join(',')}> mtu ${i.mtu} state ${i.operState}${i.master ? ` master ${i.master}` : ''}`, where: ns.label };
}

/** Dump problems of a namespace as findings: what could not be checked there. */
export function problems(ns: NetNS): Suspicion[] {
  return ns.problems.map((p) => ({ level: SuspicionLevel.INFO, check: 'dump.not-checked', message: p.message, evidence: [] }));
}

export { formatIP };
