// NetworkPolicy enforcement for the lab, the way a policy agent (kube-router, calico-felix) does it:
// policies from the apiserver become iptables rules in each node netns, so a denied flow is a real
// drop counted on a real rule. Kubernetes semantics: a pod selected by any policy of a direction is
// isolated in that direction; a packet passes if ANY selecting policy allows it; replies pass
// (conntrack ESTABLISHED). Same-node bridged traffic reaches FORWARD through br_netfilter.
import { inNs } from './exec';
import { hashName, podKey, type BuiltPod, type Topology } from './topology';

interface LabelSelector { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }
interface Peer { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: { cidr: string; except?: string[] } }
interface PolicyPort { protocol?: string; port?: number | string; endPort?: number }
interface Rule { from?: Peer[]; to?: Peer[]; ports?: PolicyPort[] }
export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: { podSelector: LabelSelector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

export const POLICY_CHAIN = 'NETPATH-POLICY';

export function selects(sel: LabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = k(labels, e.key);
    const ok = e.operator === 'In' ? has && (e.values ?? []).includes(labels[e.key])
      : e.operator === 'NotIn' ? !has || !(e.values ?? []).includes(labels[e.key])
      : e.operator === 'Exists' ? has : e.operator === 'DoesNotExist' ? !has : false;
    if (!ok) return false;
  }
  return true;
}
function k(o: Record<string, string>, key: string): boolean { return Object.prototype.hasOwnProperty.call(o, key); }

function policyTypes(p: NetworkPolicy): string[] {
  return p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

/** source/destination match arguments for the peers of a rule ([] = any) */
function peerMatches(t: Topology, p: NetworkPolicy, peers: Peer[] | undefined, dir: '-s' | '-d', nsLabels: (ns: string) => Record<string, string>): string[][] {
  if (!peers || peers.length === 0) return [[]];
  const out: string[][] = [];
  for (const peer of peers) {
    if (peer.ipBlock) {
      // `except` needs a negation per CIDR: emit RETURNs first is not possible inside one rule, so the
      // lab only supports ipBlock without except (enough for its scenarios)
      if (peer.ipBlock.except?.length) throw new Error(`policy ${p.metadata.name}: ipBlock.except is not supported by the lab agent`);
      out.push([dir, peer.ipBlock.cidr]);
      continue;
    }
    const ns = p.metadata.namespace ?? 'default';
    for (const pod of t.pods) {
      const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, nsLabels(pod.namespace)) : pod.namespace === ns;
      if (nsOk && selects(peer.podSelector, pod.labels)) out.push([dir, `${pod.ip}/32`]);
    }
  }
  return out.length ? out : [[dir, '0.0.0.0/32', '-m', 'comment', '--comment', '"no peer selected"']];
}

function portMatches(ports: PolicyPort[] | undefined, target: BuiltPod | undefined): string[][] {
  if (!ports || ports.length === 0) return [[]];
  return ports.map((pp) => {
    const proto = (pp.protocol ?? 'TCP').toLowerCase();
    let port = pp.port;
    if (typeof port === 'string' && !/^\d+$/.test(port)) {
      port = target?.listen?.find((l) => l.name === port && l.protocol.toLowerCase() === proto)?.port ?? -1;
    }
    if (port === undefined) return ['-p', proto];
    if (port === -1) return ['-p', proto, '-m', proto, '--dport', '0']; // named port absent: matches nothing useful
    const range = pp.endPort ? `${port}:${pp.endPort}` : String(port);
    return ['-p', proto, '-m', proto, '--dport', range];
  });
}

/** iptables-restore input (filter table, --noflush) for one node. */
export function policyRules(t: Topology, node: string, policies: NetworkPolicy[], nsLabels: (ns: string) => Record<string, string>, existingChains: string[]): string {
  const lines: string[] = ['*filter', `:${POLICY_CHAIN} - [0:0]`];
  const body: string[] = [];
  const chains = new Set<string>();
  for (const pod of t.pods.filter((p) => p.node === node && !p.hostNetwork)) {
    for (const dir of ['Ingress', 'Egress'] as const) {
      const selecting = policies.filter((p) => (p.metadata.namespace ?? 'default') === pod.namespace && policyTypes(p).includes(dir) && selects(p.spec.podSelector, pod.labels));
      if (!selecting.length) continue;
      const chain = hashName(dir === 'Ingress' ? 'NETPATH-IN-' : 'NETPATH-OUT-', podKey(pod), 10);
      chains.add(chain);
      body.push(`-A ${POLICY_CHAIN} ${dir === 'Ingress' ? '-d' : '-s'} ${pod.ip}/32 -m comment --comment "${dir.toLowerCase()} of ${podKey(pod)}" -j ${chain}`);
      body.push(`-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
      for (const pol of selecting) {
        const rules = (dir === 'Ingress' ? pol.spec.ingress : pol.spec.egress) ?? [];
        for (const r of rules) {
          const peers = peerMatches(t, pol, dir === 'Ingress' ? r.from : r.to, dir === 'Ingress' ? '-s' : '-d', nsLabels);
          const dst = dir === 'Ingress' ? pod : undefined;
          for (const pm of peers) for (const po of portMatches(r.ports, dst)) {
            body.push(`-A ${chain} ${[...pm, ...po].join(' ')} -m comment --comment "allowed by ${pol.metadata.namespace ?? 'default'}/${pol.metadata.name}" -j ACCEPT`);
          }
        }
      }
      const names = selecting.map((p) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`).join(',');
      body.push(`-A ${chain} -m comment --comment "netpath-lab: ${dir.toLowerCase()} of ${podKey(pod)} denied by ${names}" -j DROP`);
    }
  }
  for (const c of chains) lines.push(`:${c} - [0:0]`);
  // chains of an earlier sync that are no longer needed: flush, then delete after the jumps are gone
  const stale = existingChains.filter((c) => c !== POLICY_CHAIN && !chains.has(c));
  for (const c of stale) lines.push(`:${c} - [0:0]`);
  lines.push(...body);
  for (const c of stale) lines.push(`-X ${c}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/** Program a node's policy rules (idempotent; hooks NETPATH-POLICY first in FORWARD). */
export function syncNodePolicies(t: Topology, node: string, policies: NetworkPolicy[], nsLabels: (ns: string) => Record<string, string>): void {
  const ns = t.node(node).netns;
  const saved = inNs(ns, 'iptables-save', ['-t', 'filter']);
  const existing = [...saved.matchAll(/^:(NETPATH-[A-Z]+[-0-9a-f]*) /gm)].map((m) => m[1]);
  inNs(ns, 'iptables-restore', ['--noflush'], { input: policyRules(t, node, policies, nsLabels, existing) });
  if (!/-A FORWARD .*-j NETPATH-POLICY/.test(saved)) {
    inNs(ns, 'iptables', ['-I', 'FORWARD', '1', '-m', 'comment', '--comment', 'netpath-lab network policies', '-j', POLICY_CHAIN]);
  }
}
