// The agreement rules between the engine and the kernel, shared by the committed-case test
// (test/engine/lab-agreement.test.ts) and the live lab (test/lab/lab.test.ts): the verdict must equal
// what real packets did, and for each broken probe a FATAL or CRITICAL finding must sit on the
// NetNode that holds the injected fault, with a check id of the fault's family.
import { Network } from '../../src/engine/network';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { SuspicionLevel, levelName } from '../../src/engine/model/suspicion';
import type { DiagnosisResult } from '../../src/engine/model/result';
import type { Probe } from './lab-cases';

/**
 * The lab names each fault by a family of its own; these are the engine's check ids that name the
 * same fault. Where the kernel enforces a cluster-level fault on a node (a NetworkPolicy becomes
 * the policy agent's DROP rule; a service without endpoints becomes kube-proxy's REJECT), the
 * node's finding that shows the enforcement is accepted too: see ENFORCED below.
 */
export const FAMILY: Record<string, string[]> = {
  'bridge.down': ['bridge.down', 'interface.down'],
  'bridge.port-missing': ['bridge.port-missing', 'bridge.no-port', 'bridge.port-down'],
  'interface.down': ['interface.down'],
  'interface.mtu': ['mtu.mismatch'],
  'iptables.drop': ['iptables.drop'],
  'iptables.reject': ['iptables.reject'],
  'iptables.masquerade-missing': ['nat.no-masquerade'],
  'kube-proxy.chain-missing': ['kube-proxy.chain-missing', 'kube-proxy.missing-endpoint'],
  // kube-proxy DNATs to a port the endpoint does not have (nftables mode: the endpoint chain's dnat)
  'kube-proxy.wrong-port': ['kube-proxy.stale-endpoint'],
  'neigh.missing': ['vxlan.no-neighbour', 'neighbour.failed', 'arp.no-answer'],
  'nftables.drop': ['nftables.drop'],
  // ICMPv6 neighbour solicitations dropped by ip6tables: the drop itself, or the neighbour it leaves unresolved
  'ndp.blocked': ['icmpv6.ndp-dropped', 'iptables.drop', 'neighbour.failed'],
  'policy.deny': ['policy.ingress-deny', 'policy.egress-deny'],
  'route.blackhole': ['route.blackhole'],
  // A calico node that loses a pod's /32 falls into the block's blackhole route.
  'route.missing': ['route.missing', 'route.no-route', 'route.leaves-cluster', 'route.invalid', 'route.unreachable', 'route.blackhole'],
  'route.wrong-gateway': ['route.invalid', 'route.leaves-cluster', 'arp.no-answer'],
  'service.no-endpoints': ['service.no-endpoints', 'service.no-ready-endpoints'],
  'service.target-port': ['socket.not-listening'],
  'socket.not-listening': ['socket.not-listening'],
  'sysctl.bridge-nf-call-iptables': ['bridge.nf-call-iptables-off'],
  'sysctl.forwarding': ['sysctl.forwarding-disabled'],
  'sysctl.ip_forward': ['sysctl.forwarding-disabled'],
  'sysctl.proxy_arp': ['arp.no-answer'],
  'sysctl.rp_filter': ['sysctl.rp-filter', 'route.invalid'],
  'veth.down': ['interface.down', 'bridge.port-down'],
  'vxlan.fdb-missing': ['vxlan.no-fdb'],
};

/** Cluster-level faults that the datapath enforces with rules on a node: that node's drop counts. */
export const ENFORCED: Record<string, string[]> = {
  'policy.deny': ['iptables.drop'],
  'service.no-endpoints': ['iptables.reject'],
};

export interface Finding {
  node: string;
  check: string;
  level: SuspicionLevel;
  message: string;
}

export function findings(r: DiagnosisResult): Finding[] {
  return [
    ...r.clusterSuspicions.map((s) => ({ node: 'cluster', check: s.check, level: s.level, message: s.message })),
    ...r.nodes.flatMap((n) => n.suspicions.map((s) => ({ node: n.id, check: s.check, level: s.level, message: s.message }))),
  ];
}

export interface Judgement { ok: boolean; why: string }

/** Diagnoses probe `p` on `network` (built from the case's snapshot) and judges it against the kernel's truth. */
export function judge(network: Network, p: Probe): Judgement {
  const r = network.diagnose({ src: p.src, dst: p.dst, port: p.port, protocol: p.protocol.toLowerCase(), ...(p.size ? { size: p.size } : {}), ...(p.family ? { family: p.family } : {}) });
  const want = p.outcome === 'reachable' ? 'reachable' : 'unreachable';
  const all = findings(r);
  const serious = all.filter((f) => f.level >= SuspicionLevel.CRITICAL);
  const shown = all.map((f) => `${f.node} [${levelName(f.level)}] ${f.check}: ${f.message}`).join('\n    ');
  if (r.verdict !== want) return { ok: false, why: `kernel: ${p.outcome}, netpath: ${r.verdict}\n    ${shown}` };
  if (!p.fault) return { ok: true, why: '' };
  const family = FAMILY[p.check ?? ''];
  if (!family) return { ok: false, why: `no engine check family known for lab check ${p.check}` };
  // a fault the kernel survives (the probe still got through): a finding of its family on its NetNode, at any level
  if (p.outcome === 'reachable') {
    if (all.some((f) => f.node === p.faultNode && family.includes(f.check))) return { ok: true, why: '' };
    return { ok: false, why: `fault ${p.fault} (${p.check}) on ${p.faultNode} left the path working: no ${family.join('|')} finding there\n    ${shown}` };
  }
  const onNode = serious.some((f) => f.node === p.faultNode && family.includes(f.check));
  const enforcedBy = ENFORCED[p.check ?? ''] ?? [];
  const enforced = enforcedBy.length > 0 && serious.some((f) => enforcedBy.includes(f.check));
  if (onNode || enforced) return { ok: true, why: '' };
  return { ok: false, why: `fault ${p.fault} (${p.check}) on ${p.faultNode}: no FATAL/CRITICAL ${family.join('|')} there\n    ${shown}` };
}

/**
 * Judges every probe of one case, each on a Network freshly loaded from the snapshot text (as one
 * `netpath diagnose` sees it); a disagreement is one line naming the case and probe, then the findings.
 */
export function judgeCase(name: string, snapshotText: string, probes: Probe[]): { agree: number; total: number; failures: string[] } {
  const failures: string[] = [];
  let agree = 0;
  for (const p of probes) {
    const j = judge(new Network(loadSnapshot(snapshotText)), p);
    if (j.ok) agree++;
    else failures.push(`${name} / ${p.probe} (${p.src} -> ${p.dst}:${p.port}/${p.protocol}${p.size ? `, ${p.size} bytes` : ''}${p.family ? `, IPv${p.family}` : ''}): ${j.why}`);
  }
  return { agree, total: probes.length, failures };
}
