// What kube-proxy's rules do with a new connection to a service (the DNAT branches a trace found,
// each with its probability) against what they should do (the service's ready endpoints). Shared
// by the iptables and the nftables mode: the rules differ, the judgement does not — every ready
// endpoint must have a branch, every branch must lead to a ready endpoint, and a service with
// endpoints must be DNATed at all.
import { formatAddressPort, type Packet } from '../model/packet';
import { SuspicionLevel, type Evidence, type EvidenceKind, type Suspicion } from '../model/suspicion';
import { canonicalIP } from '../netstack/ip';
import type { ServiceBackends } from './backends';

export interface ProxyBranch {
  /** `ip:port` the packet is DNATed to. */
  target: string;
  probability: number;
  /** The rules the branch passed, as evidence. */
  evidence: Evidence[];
  /** The rules that pick this branch (statistic / numgen / affinity and the DNAT). */
  choice: Evidence[];
}

export interface ProxyTrace {
  branches: ProxyBranch[];
  /** Probability that the packet is not DNATed (no rule, an empty chain, no map element). */
  undnatted: number;
  /** The rules the undnatted share passed. */
  undnattedEvidence: Evidence[];
  /** Probability that kube-proxy's rules drop or reject it on the way traced. */
  filtered: number;
}

export interface ProxyDialect {
  kind: EvidenceKind;
  /** How one DNAT branch is written in this mode's terms, for the missing-endpoint evidence. */
  branchText(b: ProxyBranch): string;
  /** Where the DNAT rules live on the node (`node1 nat`, `node1 table ip kube-proxy`). */
  where: string;
  /** Why nothing DNATs at all: the empty chains, the absent element (mode-specific). */
  whyNoDnat(): Evidence[];
  /** Whether the rules carry the client affinity kube-proxy writes for sessionAffinity ClientIP. */
  affinityRules: boolean;
  affinityRulesText: string;
}

export function endpointKey(ip: string, port: number): string {
  return formatAddressPort(canonicalIP(ip) ?? ip, port);
}

function pct(p: number): string {
  return `${Math.round(p * 1000) / 10}%`;
}

export function judgeBranches(node: string, packet: Packet, t: ProxyTrace, sb: ServiceBackends, d: ProxyDialect): Suspicion[] {
  const out: Suspicion[] = [];
  const where = `${sb.service} ${packet.protocol.toUpperCase()} ${formatAddressPort(sb.address, packet.dport)}`;
  const expected = new Map(sb.backends.map((b) => [endpointKey(b.ip, b.port), b]));

  if (!t.branches.length) {
    if (!expected.size || t.filtered >= 0.9999) return out; // no endpoints: backends.ts says so; a REJECT/DROP: the walk says so
    out.push({
      level: SuspicionLevel.FATAL,
      check: 'kube-proxy.chain-missing',
      message: `kube-proxy on ${node} does not DNAT ${where} to any of its ${expected.size} ready endpoint${expected.size > 1 ? 's' : ''} (${[...expected.keys()].join(', ')}): the service chain is missing or empty (kube-proxy out of sync)`,
      evidence: [...t.undnattedEvidence, ...d.whyNoDnat()],
    });
    return out;
  }

  const stale = t.branches.filter((b) => !expected.has(b.target));
  const missing = [...expected.keys()].filter((k) => !t.branches.some((b) => b.target === k));
  for (const b of stale) {
    out.push({
      level: SuspicionLevel.CRITICAL,
      check: 'kube-proxy.stale-endpoint',
      message: `kube-proxy on ${node} sends ${pct(b.probability)} of new connections to ${where} to ${b.target}, which is not a ready endpoint of the service${expected.size ? ` (ready: ${[...expected.keys()].join(', ')})` : ' (it has none)'}`,
      evidence: b.evidence,
    });
  }
  for (const k of missing) {
    const b = expected.get(k)!;
    out.push({
      level: SuspicionLevel.WARNING,
      check: 'kube-proxy.missing-endpoint',
      message: `kube-proxy on ${node} has no DNAT branch for ready endpoint ${k}${b.pod ? ` (pod ${b.pod})` : ''} of ${where}: it gets no traffic from this node`,
      evidence: [
        { kind: 'object', text: `${k} ready=${b.ready}${b.node ? ` node=${b.node}` : ''}`, where: `endpointslice ${b.slice}` },
        ...t.branches.map((x) => ({ kind: d.kind, text: `${d.branchText(x)} (${pct(x.probability)})`, where: d.where })),
      ],
    });
  }
  if (t.undnatted > 0.0001) {
    out.push({
      level: SuspicionLevel.CRITICAL,
      check: 'kube-proxy.chain-missing',
      message: `kube-proxy on ${node} leaves ${pct(t.undnatted)} of new connections to ${where} un-DNATed`,
      evidence: t.undnattedEvidence,
    });
  }
  if (t.branches.length > 1 || sb.sessionAffinity) {
    out.push({
      level: SuspicionLevel.INFO,
      check: 'kube-proxy.branches',
      message: `kube-proxy on ${node} balances ${where}: ${t.branches.map((b) => `${b.target} ${pct(b.probability)}`).join(', ')}${sb.sessionAffinity ? `; session affinity ClientIP ${sb.sessionAffinity.timeoutSeconds}s${d.affinityRules ? ` (${d.affinityRulesText} present)` : ` (no ${d.affinityRulesText} found)`}: a client sticks to its first backend` : ''}`,
      evidence: t.branches.flatMap((b) => b.choice),
    });
  }
  return out;
}
