// Pods as NetworkPolicy sees them, reduced to what the verdicts depend on (evaluate.ts): which
// policies select the pod for ingress and for egress, which policy peers (selectors, ipBlocks,
// in their policy's namespace) match it as the other side, and its named ports. Pods with the same
// reduction get the same verdicts; a direction's verdict is computed once per (selecting set,
// matching peers, named ports, port) and shared. hostNetwork pods are their node to a policy (the
// "own node" rule needs the other side's node), so they keep their node and address.
import type { ClusterPod } from '../k8s/objects';
import { matches } from '../k8s/selector';
import { contains, parseIP } from '../netstack/ip';
import type { PolicyPeer } from '../policy/compile';
import type { DirectionVerdict, PolicySet } from '../policy/evaluate';
import type { MatrixPort } from './scope';

export interface PolicyOutcome {
  allowed: boolean;
  checks: string[];
  policies: string[];
}

interface Reduced {
  ingress: number;
  egress: number;
  peer: number;
  named: number;
  /** Class id: every part above (and the node for hostNetwork pods). */
  id: number;
}

export class PolicyClasses {
  private readonly reduced: Reduced[];
  readonly count: number;
  private readonly directional = new Map<string, DirectionVerdict>();
  evaluations = 0;

  constructor(private readonly set: PolicySet, private readonly pods: ClusterPod[]) {
    const peers: { ns: string; peer: PolicyPeer }[] = [];
    for (const p of set.policies) for (const r of [...(p.ingress ?? []), ...(p.egress ?? [])]) for (const x of r.peers ?? []) peers.push({ ns: p.namespace, peer: x });
    const ids = new Map<string, number>();
    const intern = (kind: string, text: string) => {
      const k = `${kind}\u0000${text}`;
      let id = ids.get(k);
      if (id === undefined) ids.set(k, (id = ids.size));
      return id;
    };
    const classes = new Map<string, number>();
    this.reduced = pods.map((pod) => {
      const ingress = intern('i', set.selecting(pod, 'ingress').map((p) => p.key).join(','));
      const egress = intern('e', set.selecting(pod, 'egress').map((p) => p.key).join(','));
      const peer = intern('p', peers.map(({ ns, peer: x }) => (peerMatches(set, ns, x, pod) ? '1' : '0')).join(''));
      const named = intern('n', pod.containerPorts.filter((c) => c.name).map((c) => `${c.name}=${c.port}/${c.protocol}`).sort().join(','));
      const key = `${ingress}|${egress}|${peer}|${named}|${pod.hostNetwork ? `${pod.nodeName}|${pod.ips.join(',')}` : ''}`;
      let id = classes.get(key);
      if (id === undefined) classes.set(key, (id = classes.size));
      return { ingress, egress, peer, named, id };
    });
    this.count = classes.size;
  }

  /** The memo key of a pair for a whole-flow evaluation: both classes, and the nodes when the "own node" rule may apply. */
  pairKey(si: number, di: number): string {
    const s = this.pods[si];
    const d = this.pods[di];
    return `${this.reduced[si].id}|${this.reduced[di].id}|${s.hostNetwork ? d.nodeName ?? '' : ''}|${d.hostNetwork ? s.nodeName ?? '' : ''}`;
  }

  /**
   * What checkNetworkPolicies gives for pod → pod: egress at the source, ingress at the
   * destination, each direction computed once per reduced class. Undefined when the pair needs the
   * whole-flow evaluation (a hostNetwork side, or no address of one family on both).
   */
  outcome(si: number, di: number, port: MatrixPort): PolicyOutcome | undefined {
    const s = this.pods[si];
    const d = this.pods[di];
    if (s.hostNetwork || d.hostNetwork) return undefined;
    const sip = s.ips.find((ip) => !ip.includes(':'));
    const dip = d.ips.find((ip) => !ip.includes(':'));
    if (!sip || !dip) return undefined;
    const rs = this.reduced[si];
    const rd = this.reduced[di];
    const egress = this.direction('egress', rs.egress, rd.peer, rd.named, port, () => this.set.evaluate('egress', s, { ip: dip, pod: d }, port.port, port.protocol, d));
    const ingress = this.direction('ingress', rd.ingress, rs.peer, rd.named, port, () => this.set.evaluate('ingress', d, { ip: sip, pod: s }, port.port, port.protocol, d));
    const allowed = (egress?.allowed ?? true) && (ingress?.allowed ?? true);
    const checks = new Set<string>();
    const deciding = new Set<string>();
    for (const v of [egress, ingress]) {
      if (!v) continue;
      if (!v.allowed) checks.add(`policy.${v.direction}-deny`);
      if (v.policies.some((pv) => (this.set.policy(pv.policy)?.problems.length ?? 0) > 0)) checks.add('policy.invalid');
      if (!v.isolated) continue;
      if (allowed) for (const k of v.allowedBy) deciding.add(k);
      else if (!v.allowed) for (const pv of v.policies) deciding.add(pv.policy);
    }
    return { allowed, checks: [...checks].sort(), policies: [...deciding].sort() };
  }

  private direction(dir: 'ingress' | 'egress', selecting: number, peer: number, named: number, port: MatrixPort, evaluate: () => DirectionVerdict): DirectionVerdict | undefined {
    const key = `${dir}|${selecting}|${peer}|${named}|${port.port}/${port.protocol}`;
    let v = this.directional.get(key);
    if (!v) {
      this.evaluations++;
      v = evaluate();
      this.directional.set(key, v);
    }
    return v;
  }
}

/** Whether a policy peer (of a policy in namespace `ns`) matches the pod as the other side: evaluate.ts's rules. */
function peerMatches(set: PolicySet, ns: string, x: PolicyPeer, pod: ClusterPod): boolean {
  if (x.kind === 'invalid') return false;
  if (pod.hostNetwork) return false; // never reached: hostNetwork pairs take the whole-flow path
  if (x.kind === 'ipBlock') {
    if (!set.settings.ipBlockMatchesPods) return false;
    // The address a flow uses (IPv4 first, as the pair resolves it).
    const a = parseIP(pod.ips.find((ip) => !ip.includes(':')) ?? pod.ips[0] ?? '');
    return !!a && contains(x.cidr, a) && !x.except.some((e) => contains(e, a));
  }
  if (x.namespaceSelector) {
    if (!matches(x.namespaceSelector, set.cache.namespace(pod.namespace).labels)) return false;
  } else if (pod.namespace !== ns) return false;
  return !x.podSelector || matches(x.podSelector, pod.labels);
}
