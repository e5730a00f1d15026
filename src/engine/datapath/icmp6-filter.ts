// Whether ip6tables lets an ICMPv6 message through the hooks it passes in one namespace: the
// messages the IPv6 datapath needs besides the packet itself — neighbour solicitations and
// advertisements (NDP, types 135/136), router advertisements (134) and packet-too-big errors (2).
// Conntrack does not track NDP (nf_conntrack_icmpv6_error marks it UNTRACKED, so a
// `--ctstate ESTABLISHED,RELATED` accept does not let it in) while a packet-too-big about a
// tracked connection is RELATED. Rules netpath does not model are evaluated both ways, as on the
// packet's own path: when the ways disagree the answer is undecided, naming them; so is any native
// nftables chain on those hooks (not modelled).
import { SuspicionLevel, type Evidence, type Suspicion, type UndecidedElement } from '../model/suspicion';
import type { NetNS } from '../netstack/netns';
import type { Hook, NfPacket, NotUnderstood, TraceStep } from '../netstack/netfilter/packet';
import { traceHook } from '../netstack/netfilter/trace';
import { formatNativeChain, nativeChainsAt, nftBaseChains, type NativeChain } from '../netstack/netfilter/nft-native';
import type { Ruleset } from '../netstack/iptables/model';
import { decidingElements, enumerateWorlds } from '../netstack/netfilter/undecided';
import { netfilterEnv } from './netfilter-env';

export const ICMP6_NAMES: Record<number, string> = {
  2: 'packet-too-big',
  133: 'router-solicitation',
  134: 'router-advertisement',
  135: 'neighbour-solicitation',
  136: 'neighbour-advertisement',
};

export type Icmp6Fate =
  | { kind: 'passes' }
  | { kind: 'stopped'; step: TraceStep; verdict: string }
  | { kind: 'undecided'; elements: NotUnderstood[]; native?: NativeChain[] };

/** An ICMPv6 message of `type` through `hooks` (in order) of `ns`'s ip6tables, every backend. */
export function icmp6Fate(ns: NetNS, hooks: readonly Hook[], msg: { src: string; dst: string; type: number; code?: number; iif?: string; oif?: string; related: boolean }): Icmp6Fate {
  const rulesets = ns.rulesets(6) ?? [];
  const fate = iptablesFate(ns, rulesets, hooks, msg);
  if (fate.kind === 'stopped') return fate;
  // Native nftables chains on these hooks (not iptables-nft's own) are not modelled: what they do
  // with the message is not known.
  const chains = nftBaseChains(ns.info.nftables);
  const native = hooks.flatMap((h) => nativeChainsAt(chains, 6, h, msg.iif, rulesets));
  if (!native.length) return fate;
  return { kind: 'undecided', elements: fate.kind === 'undecided' ? fate.elements : [], native };
}

function iptablesFate(ns: NetNS, rulesets: Ruleset[], hooks: readonly Hook[], msg: Parameters<typeof icmp6Fate>[2]): Icmp6Fate {
  if (!rulesets.length) return { kind: 'passes' };
  const nf: NfPacket = {
    family: 6, src: msg.src, dst: msg.dst, proto: 'icmpv6', icmpType: msg.type, icmpCode: msg.code ?? 0, mark: 0, ttl: 255,
    ct: msg.related ? { state: 'RELATED' } : { state: 'UNTRACKED' },
  };
  if (msg.iif !== undefined) nf.iif = msg.iif;
  if (msg.oif !== undefined) nf.oif = msg.oif;
  const notUnderstood = new Map<string, NotUnderstood>();
  const ws = enumerateWorlds((assume) => {
    const met: string[] = [];
    const env = netfilterEnv(ns);
    for (const [k, rs] of rulesets.entries()) {
      for (const hook of hooks) {
        const outs = traceHook(rs, hook, nf, env, { assume: (key) => assume(`${k} ${key}`) });
        for (const o of outs) {
          for (const n of o.notUnderstood) {
            met.push(`${k} ${n.key}`);
            notUnderstood.set(`${k} ${n.key}`, n);
          }
        }
        const stop = outs.find((o) => o.verdict !== 'ACCEPT');
        if (stop?.decidedBy) return { result: { step: stop.decidedBy, verdict: stop.verdict }, met };
      }
    }
    return { result: undefined, met };
  });
  const first = ws.worlds[0].result;
  if (!ws.truncated && ws.worlds.every((w) => !w.result === !first)) return first ? { kind: 'stopped', ...first } : { kind: 'passes' };
  const deciding = decidingElements(ws, (r) => (r ? 'stop' : 'pass'));
  return { kind: 'undecided', elements: (deciding.length ? deciding : [...notUnderstood.keys()]).map((k) => notUnderstood.get(k)!) };
}

export function stepEvidence(ns: NetNS, s: TraceStep): Evidence {
  return { kind: 'iptables', text: s.text, where: `${ns.label} ip6tables ${s.hook} ${s.table}/${s.chain}${s.rule ? ` #${s.rule}` : ' policy'}` };
}

/**
 * The finding for an ICMPv6 message `what` the path needs that is stopped (level `level`) or may
 * be (undecided: a WARNING naming the rules not modelled); undefined when it passes.
 */
export function icmp6Finding(ns: NetNS, fate: Icmp6Fate, check: string, level: SuspicionLevel, what: string, consequence: string): Suspicion | undefined {
  if (fate.kind === 'passes') return undefined;
  if (fate.kind === 'stopped') {
    const s = fate.step;
    return {
      level,
      check,
      message: `${what} is ${fate.verdict === 'REJECT' ? 'rejected' : 'dropped'} by ip6tables on ${ns.label} (${s.hook} ${s.table}/${s.chain}${s.rule ? ` #${s.rule}` : ' policy'}): ${consequence}`,
      evidence: [stepEvidence(ns, s)],
    };
  }
  const native = fate.native ?? [];
  const undecided: UndecidedElement[] = [
    ...fate.elements.map((n) => ({ where: `${ns.label} ${n.table}/${n.chain} #${n.rule}`, reason: n.reason })),
    ...native.map((c) => ({ where: `${ns.label} nftables table ${c.family} ${c.table} chain ${c.chain}`, reason: 'native nftables chains are not modelled' })),
  ];
  const parts = [
    ...(fate.elements.length ? [`${fate.elements.length} ip6tables rule(s) netpath does not model`] : []),
    ...(native.length ? [`${native.length} native nftables chain(s) netpath does not model`] : []),
  ];
  return {
    level: Math.min(level, SuspicionLevel.WARNING),
    check,
    message: `whether ${what} gets through on ${ns.label} depends on ${parts.join(' and ')}; if it is stopped, ${consequence}`,
    evidence: [
      ...fate.elements.map((n): Evidence => ({ kind: 'iptables', text: n.text, where: `${ns.label} ${n.table}/${n.chain} #${n.rule} (${n.reason})` })),
      ...native.map((c): Evidence => ({ kind: 'nftables', text: formatNativeChain(c), where: ns.label })),
    ],
    undecided,
  };
}
