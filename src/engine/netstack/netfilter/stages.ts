// What runs at one netfilter hook, in the kernel's order: the iptables tables of each backend
// (legacy and nft) and the native nftables base chains, by priority (raw −300, mangle −150, the
// NAT core at −100/100, filter 0, security 50, any custom priority). Every NAT user — the iptables
// nat table and native nat chains alike — runs inside the NAT core's hook, among themselves by
// priority, until one of them makes the connection's binding. A drop in any stage ends the
// packet; an accept only ends that stage (the next base chain still sees it). Netdev chains run
// the same way on a device: ingress ones before PREROUTING, egress ones after POSTROUTING.
//
// Of two stages with equal priority the kernel runs the one registered last first. Within one nft
// table the dump lists chains in the order they were added, so that order is known; between
// tables, or iptables-legacy and nftables, it is not: such a tie is an element the trace takes one
// way (the dump's order) unless told otherwise, and is listed as not understood so that a caller
// can evaluate it the other way too (undecided.ts).
import type { Family } from '../ip';
import type { Ruleset } from '../iptables/model';
import type { NftChain, NftRuleset } from '../nftables/model';
import { chainsAtHook } from '../nftables/simulate';
import { compiledChain } from './compile';
import { NFT_HOOK, nativeChainWhere, ownedByIptables, runNativeChain } from './nft-native';
import type { Hook, NetfilterEnv, NfPacket, NotUnderstood, TraceOutcome } from './packet';
import { HOOK_TABLES, newRun, toOutcome, traceTable, type Run, type TraceOptions } from './trace';

/** Everything that can act on a packet at a namespace's netfilter hooks. */
export interface NetfilterRules {
  /** iptables rule sets, one per backend with rules (from iptables-save). */
  iptables: readonly Ruleset[];
  /** The namespace's whole nftables rule set (`nft -j list ruleset`); the chains iptables-nft owns are left to `iptables`. */
  nft?: NftRuleset;
}

const IPT_PRIO: Record<string, number> = { raw: -300, mangle: -150, filter: 0, security: 50 };
/** Where the NAT core hooks in: destination NAT before routing / output, source NAT after. */
const NAT_PRIO: Partial<Record<Hook, number>> = { PREROUTING: -100, OUTPUT: -100, INPUT: 100, POSTROUTING: 100 };

interface Stage {
  prio: number;
  /** Who registered the hook: same owner = order known (an nft table's chains, in the dump's order). */
  owner: string;
  /** Position in the nft dump (later registered runs first at equal priority); -1 when not in it. */
  order: number;
  label: string;
  /** Cannot change anything (no rule, accepting policy): its place does not matter. */
  trivial: boolean;
  nat: boolean;
  /**
   * At OUTPUT, what change makes the kernel route the packet again: any of source, destination,
   * mark, TOS (iptables mangle, nft `type route`: ip_route_me_harder), or the destination (NAT).
   * Other tables and chain types (filter, raw) change the packet without re-routing it.
   */
  reroute?: 'any' | 'dst';
  run(runs: Run[], opts: TraceOptions, env: NetfilterEnv): Run[];
}

function iptablesStages(rules: NetfilterRules, hook: Hook): Stage[] {
  const out: Stage[] = [];
  rules.iptables.forEach((rs, k) => {
    const family = rs.family === 6 ? 'ip6' : 'ip';
    for (const table of HOOK_TABLES[hook]) {
      const cc = compiledChain(rs, table, hook);
      if (!cc) continue;
      const nat = table === 'nat';
      const legacy = rs.backend === 'legacy';
      const own = legacy ? undefined : rules.nft?.tables.find((t) => t.family === family && t.name === table)?.chains.get(hook);
      out.push({
        prio: nat ? NAT_PRIO[hook]! : IPT_PRIO[table],
        owner: legacy ? 'iptables-legacy' : `${family} ${table}`,
        order: own?.order ?? -1,
        label: `${rs.family === 6 ? 'ip6tables' : 'iptables'}${legacy ? '-legacy' : '-nft'} ${table} ${hook}`,
        trivial: cc.rules.length === 0 && (cc.chain.policy ?? 'ACCEPT') === 'ACCEPT',
        nat,
        reroute: table === 'mangle' ? 'any' : nat ? 'dst' : undefined,
        run: (runs, opts, env) => {
          // Keys of not-understood rules name the backend: two backends may hold the same rule.
          const prefix = `${k} `;
          const assume = opts.assume && ((key: string) => opts.assume!(prefix + key));
          const max = opts.maxOutcomes ?? 4096;
          const out: Run[] = [];
          // One run at a time, so that the rules it meets are known to be its own.
          for (const run of runs) {
            const n = run.notUnderstood.length;
            for (const r of traceTable(rs, hook, table, [run], env, { ...opts, assume, maxOutcomes: Math.max(1, max - out.length) }, false)) {
              if (r.notUnderstood.length > n) r.notUnderstood = r.notUnderstood.map((x, i) => (i >= n ? { ...x, key: prefix + x.key } : x));
              out.push(r);
            }
          }
          return out;
        },
      });
    }
  });
  return out;
}

function nativeStage(nft: NftRuleset, c: NftChain, hook: Hook | 'ingress' | 'egress'): Stage {
  const b = c.base!;
  return {
    prio: b.prio,
    owner: `${c.family} ${c.table}`,
    order: c.order,
    label: nativeChainWhere(c),
    trivial: c.rules.length === 0 && b.policy === 'accept',
    nat: b.type === 'nat' && hook !== 'ingress' && hook !== 'egress' && NAT_PRIO[hook] !== undefined,
    reroute: b.type === 'route' ? 'any' : b.type === 'nat' ? 'dst' : undefined,
    run: (runs, opts, env) => runs.flatMap((r) => (r.verdict && r.verdict !== 'ACCEPT' ? [r] : runNativeChain(nft, c, hook, r, env, opts.assume))),
  };
}

/** The native base chains a packet of `family` meets at `hook` (ingress: on entering by `iif`), without iptables-nft's. */
export function nativeChainsAt(rules: NetfilterRules, family: Family, hook: Hook | 'ingress', iif?: string): NftChain[] {
  if (!rules.nft) return [];
  const fam = rules.iptables.filter((rs) => rs.family === family);
  // Cached per rule set: a walk asks once per hook, world and branch, and kube-proxy's nftables
  // mode has thousands of chains. What iptables-nft owns is part of the key.
  const builtins = (t: Ruleset['tables'][number]) => BUILTIN.filter((h) => t.chainsByName.get(h)?.builtin).join(',');
  const owned = fam.filter((rs) => rs.backend !== 'legacy').map((rs) => [...rs.tables.map((t) => `${t.name}:${builtins(t)}`), '|', ...(rs.incompleteTables ?? [])].join(' '));
  const key = JSON.stringify([family, hook, iif ?? null, owned]);
  let m = nativeCache.get(rules.nft);
  if (!m) nativeCache.set(rules.nft, (m = new Map()));
  let chains = m.get(key);
  if (!chains) {
    chains = chainsAtHook(rules.nft, family, hook === 'ingress' ? 'ingress' : NFT_HOOK[hook], iif).filter((c) => !ownedByIptables(c, fam));
    m.set(key, chains);
  }
  return chains;
}

/**
 * The native egress chains on device `oif`, in the kernel's order (by priority; of equal ones in
 * one table, the one added last first — ties between tables are left to `order`). Only netdev
 * tables have them: Linux (6.18 too) refuses `hook egress` in an inet table.
 */
function egressChainsOn(nft: NftRuleset, oif: string): NftChain[] {
  const out: NftChain[] = [];
  for (const t of nft.tables) {
    if (t.family !== 'netdev') continue;
    for (const c of t.chains.values()) if (c.base?.hook === 'egress' && c.base.devices.includes(oif)) out.push(c);
  }
  return out.sort((a, b) => a.base!.prio - b.base!.prio || b.order - a.order);
}

/** Ingress (netdev, inet) or egress (netdev) chains that can change something, whose device the dump does not name. */
function deviceUnknown(nft: NftRuleset, hook: 'ingress' | 'egress'): NftChain[] {
  const out: NftChain[] = [];
  for (const t of nft.tables) {
    if (t.family !== 'netdev' && (hook === 'egress' || t.family !== 'inet')) continue;
    for (const c of t.chains.values()) if (c.base?.hook === hook && !c.base.devices.length && (c.rules.length || c.base.policy === 'drop')) out.push(c);
  }
  return out;
}

/**
 * Stages for the chains of `hook` on device `dev` (ingress: the arriving interface; egress: the
 * output one), and for each chain whose device the dump leaves out an element — is it on `dev`? —
 * taken as no unless `assume` says so (nft -j 1.0.6 leaves netdev chains' devices out).
 */
function deviceStages(rules: NetfilterRules & { nft: NftRuleset }, family: Family, hook: 'ingress' | 'egress', dev: string, at: Hook, assume: TraceOptions['assume']): { stages: Stage[]; unknown: NotUnderstood[] } {
  const chains = hook === 'ingress' ? nativeChainsAt(rules, family, 'ingress', dev) : egressChainsOn(rules.nft, dev);
  const stages = chains.map((c) => nativeStage(rules.nft, c, hook));
  const unknown: NotUnderstood[] = [];
  for (const c of deviceUnknown(rules.nft, hook)) {
    const key = `device ${c.family} ${c.table} ${c.name} ${dev}`;
    const on = assume?.(key) ?? false;
    unknown.push({
      hook: at, table: '', chain: '', rule: 0, kind: 'chain', key, assumed: on,
      text: `device of ${nativeChainWhere(c)}: ${dev}?`,
      reason: `the dump does not say which device this ${hook} chain is attached to (nft -j list ruleset leaves netdev chains' devices out, and the dump has no nft list ruleset text that names it)`,
    });
    if (on) stages.push(nativeStage(rules.nft, c, hook));
  }
  return { stages, unknown };
}

const BUILTIN = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];
const nativeCache = new WeakMap<NftRuleset, Map<string, NftChain[]>>();

/**
 * Sorts stages by priority; each group of equal priority whose order is not known becomes an
 * element: the dump's order by default, reversed when `assume` says so. Returns the order and the
 * elements met (only groups where at least two stages can change something).
 */
function order(stages: Stage[], hook: Hook, assume: TraceOptions['assume'], at: string = hook): { stages: Stage[]; ties: NotUnderstood[] } {
  const byPrio = new Map<number, Stage[]>();
  for (const s of stages) byPrio.set(s.prio, [...(byPrio.get(s.prio) ?? []), s]);
  const out: Stage[] = [];
  const ties: NotUnderstood[] = [];
  for (const prio of [...byPrio.keys()].sort((a, b) => a - b)) {
    // Registered last runs first; stages not in the dump (iptables-legacy) are taken as registered first.
    const group = byPrio.get(prio)!.sort((a, b) => b.order - a.order);
    const live = group.filter((s) => !s.trivial);
    if (new Set(live.map((s) => s.owner)).size > 1) {
      const names = live.map((s) => s.label);
      const key = `order ${at} ${prio} ${names.join(' | ')}`;
      const reversed = assume?.(key) ?? false;
      ties.push({
        hook, table: '', chain: '', rule: 0, kind: 'chain', key, assumed: reversed,
        text: `order of ${names.join(', ')} (equal priority ${prio} at ${at})`,
        reason: 'the kernel runs hooks of equal priority in the reverse order they were registered, which the dump does not show',
      });
      if (reversed) group.reverse();
    }
    out.push(...group);
  }
  return { stages: out, ties };
}

/**
 * Every outcome of the runs passing `hook` (ingress first, for a received packet at PREROUTING
 * when `ingress` is set): stages in the kernel's order, NAT users inside the NAT core.
 */
export function traceStages(rules: NetfilterRules, hook: Hook, runs: Run[], netfilterEnv: NetfilterEnv, opts: TraceOptions = {}, ingress?: string): Run[] {
  const family = runs[0]?.state.pkt.family ?? 4;
  for (const r of runs) r.state.hook = hook;
  if (ingress !== undefined && rules.nft) {
    const { stages, unknown } = deviceStages({ ...rules, nft: rules.nft }, family, 'ingress', ingress, hook, opts.assume);
    const ing = order(stages, hook, opts.assume);
    runs = runStages(ing.stages, runs, opts, netfilterEnv, [...unknown, ...ing.ties]);
  }
  const all = [...iptablesStages(rules, hook), ...(rules.nft ? nativeChainsAt(rules, family, hook).map((c) => nativeStage(rules.nft!, c, hook)) : [])];
  const natStages = all.filter((s) => s.nat);
  const outer = all.filter((s) => !s.nat);
  let core: Stage | undefined;
  if (natStages.length) {
    const inner = order(natStages, hook, opts.assume);
    const natKind = hook === 'PREROUTING' || hook === 'OUTPUT' ? 'natDst' : 'natSrc';
    core = {
      prio: NAT_PRIO[hook]!,
      owner: 'nat core',
      order: Math.max(...natStages.map((s) => s.order)),
      label: `NAT ${natKind === 'natDst' ? 'dstnat' : 'srcnat'} (${natStages.map((s) => s.label).join(', ')})`,
      trivial: natStages.every((s) => s.trivial),
      nat: true,
      run: (rs, oo, env) => {
        const res = runStages(inner.stages, rs, oo, env, inner.ties);
        // No NAT user made a binding: the NAT core makes a null one, and none runs again.
        for (const r of res) r.state.ct[natKind] = true;
        return res;
      },
    };
  }
  const top = order(core ? [...outer, core] : outer, hook, opts.assume);
  runs = runStages(top.stages, runs, opts, netfilterEnv, top.ties);
  for (const r of runs) r.verdict ??= 'ACCEPT';
  return runs;
}

/**
 * Every outcome of the runs being transmitted, after POSTROUTING (__dev_queue_xmit's
 * nf_hook_egress, before tc egress): the egress chains of each run's output interface, by
 * priority. A run without output interface, or already stopped, passes unchanged.
 */
export function traceEgress(rules: NetfilterRules, runs: Run[], netfilterEnv: NetfilterEnv, opts: TraceOptions = {}): Run[] {
  const nft = rules.nft;
  if (!nft || !nft.tables.some((t) => t.family === 'netdev')) return runs;
  return runs.flatMap((r) => {
    const oif = r.state.pkt.oif;
    if (oif === undefined || (r.verdict && r.verdict !== 'ACCEPT')) return [r];
    const { stages, unknown } = deviceStages({ ...rules, nft }, r.state.pkt.family, 'egress', oif, 'POSTROUTING', opts.assume);
    const eg = order(stages, 'POSTROUTING', opts.assume, `egress ${oif}`);
    return runStages(eg.stages, [r], opts, netfilterEnv, [...unknown, ...eg.ties]);
  });
}

/** Every outcome of one packet passing `hook` alone (a bridged packet's br_netfilter FORWARD). */
export function traceHookStages(rules: NetfilterRules, hook: Hook, packet: NfPacket, netfilterEnv: NetfilterEnv, opts: TraceOptions = {}): TraceOutcome[] {
  return traceStages(rules, hook, [newRun(packet, hook)], netfilterEnv, opts).map(toOutcome);
}

function runStages(stages: Stage[], runs: Run[], opts: TraceOptions, env: NetfilterEnv, ties: NotUnderstood[]): Run[] {
  if (ties.length) {
    for (const r of runs) {
      if (r.verdict && r.verdict !== 'ACCEPT') continue;
      for (const t of ties) if (!r.notUnderstood.some((n) => n.key === t.key)) r.notUnderstood.push(t);
    }
  }
  for (const s of stages) runs = s.reroute && runs[0]?.state.hook === 'OUTPUT' ? rerouting(s, runs, opts, env) : s.run(runs, opts, env);
  return runs;
}

/** Runs a stage that re-routes at OUTPUT, marking the runs it changed so (Run.reroute). */
function rerouting(s: Stage, runs: Run[], opts: TraceOptions, env: NetfilterEnv): Run[] {
  const key = (r: Run) => (s.reroute === 'dst' ? r.state.pkt.dst : `${r.state.pkt.src}|${r.state.pkt.dst}|${r.state.mark}|${r.state.pkt.tos ?? 0}`);
  return runs.flatMap((r) => {
    const k = key(r);
    return s.run([r], opts, env).map((x) => {
      if (key(x) !== k) x.reroute = true;
      return x;
    });
  });
}
