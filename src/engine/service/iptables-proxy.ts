// kube-proxy in iptables mode, checked against the Kubernetes objects: the service packet is traced
// through the node's real nat rules (KUBE-SERVICES → KUBE-SVC/KUBE-EXT → KUBE-SEP, statistic
// branches enumerated with their probabilities), and the DNAT branches found are judged against
// the ready endpoints (dnat-branches.ts).
import { formatAddressPort, type Packet } from '../model/packet';
import { SuspicionLevel, type Evidence, type Suspicion } from '../model/suspicion';
import type { NetNS } from '../netstack/netns';
import { traceHook } from '../netstack/netfilter/trace';
import { chainRulesTolerant } from '../netstack/iptables/parse';
import type { NotUnderstood, TraceStep } from '../netstack/netfilter/packet';
import { netfilterEnv } from '../datapath/netfilter-env';
import { toNf } from '../datapath/walk';
import type { ServiceBackends } from './backends';
import { endpointKey, judgeBranches } from './dnat-branches';

export interface DnatBranch {
  /** `ip:port` the packet is DNATed to. */
  target: string;
  probability: number;
  /** The nat rules the branch passed (KUBE-SERVICES, KUBE-SVC, KUBE-SEP ... DNAT). */
  path: TraceStep[];
}

export interface IptablesTrace {
  branches: DnatBranch[];
  /** Probability that the packet is not DNATed (no rule, an empty chain, or a chain that RETURNs). */
  undnatted: number;
  /** nat rules matched by the undnatted share (evidence of where the service chain ended). */
  undnattedPath: TraceStep[];
  /** Probability that netfilter drops/rejects it on this hook (kube-proxy's REJECT for services without endpoints, a DROP). */
  filtered: number;
  hook: 'PREROUTING' | 'OUTPUT';
  /** Rules on the way netpath does not model (taken as not matching). */
  notUnderstood: NotUnderstood[];
}

/** Where the node's nat rules send a packet for a service address. */
export function traceServicePacket(ns: NetNS, packet: Packet, local: boolean): IptablesTrace | undefined {
  const family = packet.dst.includes(':') ? 6 : 4;
  const rs = ns.rulesets(family)?.[0];
  const hook = local ? 'OUTPUT' : 'PREROUTING';
  if (!rs) return undefined;
  const nf = toNf(packet, family, local ? undefined : '');
  if (!local) delete nf.iif;
  const outcomes = traceHook(rs, hook, nf, netfilterEnv(ns));
  const byTarget = new Map<string, DnatBranch>();
  const out: IptablesTrace = { branches: [], undnatted: 0, undnattedPath: [], filtered: 0, hook, notUnderstood: outcomes.flatMap((o) => o.notUnderstood) };
  for (const o of outcomes) {
    if (o.verdict !== 'ACCEPT') {
      out.filtered += o.probability;
      continue;
    }
    const dnat = o.nat.filter((n) => n.kind === 'DNAT').at(-1);
    if (!dnat) {
      out.undnatted += o.probability;
      if (!out.undnattedPath.length) out.undnattedPath = o.path.filter((s) => s.table === 'nat');
      continue;
    }
    const target = endpointKey(dnat.after.dst, dnat.after.dport ?? packet.dport);
    const prev = byTarget.get(target);
    if (prev) prev.probability += o.probability;
    else byTarget.set(target, { target, probability: o.probability, path: o.path.filter((s) => s.table === 'nat') });
  }
  out.branches = [...byTarget.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  return out;
}

function stepEv(node: string, s: TraceStep): Evidence {
  return { kind: 'iptables', text: s.text, where: `${node} ${s.table}/${s.chain}${s.rule ? ` #${s.rule}` : ' policy'}` };
}

/**
 * kube-proxy's programmed branches against the service's backends. Where the trace met rules
 * netpath does not model, what it concludes may not hold: such findings are at most a WARNING,
 * marked undecided (the walk through the node evaluates those rules both ways and says more).
 */
export function checkIptablesProxy(node: string, ns: NetNS, packet: Packet, local: boolean, sb: ServiceBackends): Suspicion[] {
  const t = traceServicePacket(ns, packet, local);
  if (!t) return [];
  const rs = ns.rulesets(packet.dst.includes(':') ? 6 : 4)?.[0];
  const nat = rs?.tables.find((x) => x.name === 'nat');
  const found = judgeBranches(node, packet, {
    branches: t.branches.map((b) => ({
      target: b.target, probability: b.probability,
      evidence: b.path.map((s) => stepEv(node, s)),
      choice: b.path.filter((s) => /statistic|DNAT|recent/.test(s.text)).map((s) => stepEv(node, s)),
    })),
    undnatted: t.undnatted,
    undnattedEvidence: t.undnattedPath.map((s) => stepEv(node, s)),
    filtered: t.filtered,
  }, sb, {
    kind: 'iptables',
    where: `${node} nat`,
    branchText: (b) => `DNAT --to-destination ${b.target}`,
    affinityRules: t.branches.some((b) => b.path.some((s) => /-m recent/.test(s.text))),
    affinityRulesText: '-m recent rules',
    whyNoDnat: () => {
      const evidence: Evidence[] = [];
      // The chains the packet jumped into and found empty: what a flush leaves behind.
      for (const s of t.undnattedPath) {
        const chain = nat?.chainsByName.get(s.effect);
        if (chain && !chain.builtin && chainRulesTolerant(chain).length === 0) evidence.push({ kind: 'iptables', text: `:${chain.name} - (no rules)`, where: `${node} nat/${chain.name}` });
      }
      if (!nat?.chainsByName.has('KUBE-SERVICES')) evidence.push({ kind: 'iptables', text: 'no nat/KUBE-SERVICES chain: kube-proxy has programmed nothing', where: `${node} nat` });
      else if (!t.undnattedPath.some((s) => s.chain === 'KUBE-SERVICES' && /KUBE-(SVC|EXT|FW|NODEPORTS)/.test(s.effect))) {
        evidence.push({ kind: 'iptables', text: `no rule in nat/KUBE-SERVICES matches ${packet.protocol} ${formatAddressPort(sb.address, packet.dport)}`, where: `${node} nat/KUBE-SERVICES` });
      }
      return evidence;
    },
  });
  if (!t.notUnderstood.length) return found;
  const undecided = t.notUnderstood.map((n) => ({ where: `${node} ${n.table}/${n.chain} #${n.rule}`, reason: n.reason }));
  return found.map((f) => ({ ...f, level: Math.min(f.level, SuspicionLevel.WARNING), undecided }));
}
