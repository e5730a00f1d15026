// NetworkPolicy enforcement for the lab, the way a policy agent (kube-router, calico-felix) does it:
// policies from the apiserver become iptables rules in each node netns, so a denied flow is a real
// drop counted on a real rule. Kubernetes semantics: a pod selected by any policy of a direction is
// isolated in that direction; a packet passes if ANY selecting policy allows it; replies pass
// (conntrack ESTABLISHED). Same-node bridged traffic reaches FORWARD through br_netfilter.
// Both families, the same chains in iptables and ip6tables: a pod is isolated in both (a policy
// selects pods, not addresses), a pod peer matches by its address of the packet's family, and an
// ipBlock applies to its own family only (the other family's table never matches it), as CNIs do.
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

export type Family = 4 | 6;
const familyOf = (cidr: string): Family => (cidr.includes(':') ? 6 : 4);
/** a pod's address of the family (hostNetwork pods: their node's), or none */
const addressOf = (pod: BuiltPod, f: Family): string | undefined => (f === 4 ? pod.ip && `${pod.ip}/32` : pod.ip6 && `${pod.ip6}/128`);

/**
 * What a rule's peers match in one family: each entry is the address match and, for an ipBlock
 * with `except`, the CIDRs to exclude (done by a chain of its own: RETURN on each except, then ACCEPT,
 * since one iptables rule cannot negate several CIDRs). An empty peer list matches any address.
 */
interface PeerMatch { match: string[]; except?: string[] }
function peerMatches(t: Topology, p: NetworkPolicy, peers: Peer[] | undefined, dir: '-s' | '-d', nsLabels: (ns: string) => Record<string, string>, f: Family): PeerMatch[] {
  if (!peers || peers.length === 0) return [{ match: [] }];
  const out: PeerMatch[] = [];
  for (const peer of peers) {
    if (peer.ipBlock) {
      // a block of the other family does not match this family's packets
      if (familyOf(peer.ipBlock.cidr) !== f) continue;
      const except = peer.ipBlock.except ?? [];
      if (except.some((e) => familyOf(e) !== f)) throw new Error(`policy ${p.metadata.name}: ipBlock ${peer.ipBlock.cidr} has an except of the other family`);
      out.push({ match: [dir, peer.ipBlock.cidr], ...(except.length ? { except } : {}) });
      continue;
    }
    const ns = p.metadata.namespace ?? 'default';
    for (const pod of t.pods) {
      const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, nsLabels(pod.namespace)) : pod.namespace === ns;
      const addr = addressOf(pod, f);
      if (addr && nsOk && selects(peer.podSelector, pod.labels)) out.push({ match: [dir, addr] });
    }
  }
  return out.length ? out : [{ match: [dir, f === 4 ? '0.0.0.0/32' : '::/128', '-m', 'comment', '--comment', '"no peer selected"'] }];
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

/** iptables-restore (f = 4) or ip6tables-restore (f = 6) input (filter table, --noflush) for one node. */
export function policyRules(t: Topology, node: string, policies: NetworkPolicy[], nsLabels: (ns: string) => Record<string, string>, existingChains: string[], f: Family = 4): string {
  const lines: string[] = ['*filter', `:${POLICY_CHAIN} - [0:0]`];
  const body: string[] = [];
  const chains = new Set<string>();
  for (const pod of t.pods.filter((p) => p.node === node && !p.hostNetwork)) {
    const own = addressOf(pod, f);
    if (!own) continue;
    for (const dir of ['Ingress', 'Egress'] as const) {
      const selecting = policies.filter((p) => (p.metadata.namespace ?? 'default') === pod.namespace && policyTypes(p).includes(dir) && selects(p.spec.podSelector, pod.labels));
      if (!selecting.length) continue;
      const chain = hashName(dir === 'Ingress' ? 'NETPATH-IN-' : 'NETPATH-OUT-', podKey(pod), 10);
      chains.add(chain);
      body.push(`-A ${POLICY_CHAIN} ${dir === 'Ingress' ? '-d' : '-s'} ${own} -m comment --comment "${dir.toLowerCase()} of ${podKey(pod)}" -j ${chain}`);
      body.push(`-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
      for (const pol of selecting) {
        const rules = (dir === 'Ingress' ? pol.spec.ingress : pol.spec.egress) ?? [];
        const allowed = `-m comment --comment "allowed by ${pol.metadata.namespace ?? 'default'}/${pol.metadata.name}" -j ACCEPT`;
        for (const [ri, r] of rules.entries()) {
          const peers = peerMatches(t, pol, dir === 'Ingress' ? r.from : r.to, dir === 'Ingress' ? '-s' : '-d', nsLabels, f);
          const dst = dir === 'Ingress' ? pod : undefined;
          for (const [pi, pm] of peers.entries()) {
            // an ipBlock with except: its own chain returns on each except (the pod chain then goes on
            // to the other rules and its DROP) and accepts the rest
            const target = pm.except ? hashName('NETPATH-EXC-', `${chain}/${pol.metadata.namespace ?? 'default'}/${pol.metadata.name}/${ri}/${pi}`, 10) : undefined;
            if (target) {
              chains.add(target);
              for (const e of pm.except!) body.push(`-A ${target} ${pm.match[0]} ${e} -m comment --comment "except ${e}" -j RETURN`);
              body.push(`-A ${target} ${allowed}`);
            }
            for (const po of portMatches(r.ports, dst)) {
              body.push(`-A ${chain} ${[...pm.match, ...po].join(' ')} ${target ? `-j ${target}` : allowed}`);
            }
          }
        }
      }
      const names = selecting.map((p) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`).join(',');
      body.push(`-A ${chain} -m comment --comment "netpath-lab: ${dir.toLowerCase()} of ${podKey(pod)} denied by ${names}" -j DROP`);
    }
  }
  // NDP is IPv6's ARP (which iptables never sees): no NetworkPolicy governs it, and same-node pods'
  // solicitations and advertisements cross FORWARD through br_netfilter, untracked by conntrack
  if (f === 6 && chains.size) {
    for (const type of ['neighbour-solicitation', 'neighbour-advertisement']) {
      body.unshift(`-A ${POLICY_CHAIN} -p ipv6-icmp -m icmp6 --icmpv6-type ${type} -m comment --comment "NDP is not policed" -j ACCEPT`);
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

/**
 * Program a node's policy rules (idempotent; hooks NETPATH-POLICY first in FORWARD): iptables, and
 * ip6tables in a dual-stack topology.
 */
export function syncNodePolicies(t: Topology, node: string, policies: NetworkPolicy[], nsLabels: (ns: string) => Record<string, string>): void {
  const ns = t.node(node).netns;
  for (const f of t.spec.ipv6 ? [4, 6] as const : [4] as const) {
    const cmd = f === 4 ? 'iptables' : 'ip6tables';
    const saved = inNs(ns, `${cmd}-save`, ['-t', 'filter']);
    const existing = [...saved.matchAll(/^:(NETPATH-[A-Z]+[-0-9a-f]*) /gm)].map((m) => m[1]);
    inNs(ns, `${cmd}-restore`, ['--noflush'], { input: policyRules(t, node, policies, nsLabels, existing, f) });
    if (!/-A FORWARD .*-j NETPATH-POLICY/.test(saved)) {
      inNs(ns, cmd, ['-I', 'FORWARD', '1', '-m', 'comment', '--comment', 'netpath-lab network policies', '-j', POLICY_CHAIN]);
    }
  }
}
