// NetworkPolicy verdicts with Kubernetes semantics, per direction:
// * a pod is isolated for ingress (egress) iff some policy of its namespace selects it and has
//   Ingress (Egress) in its policyTypes; hostNetwork pods are never selected (as CNIs behave);
// * an isolated pod admits a flow iff ANY selecting policy has a rule that allows it (union);
// * a rule allows when one of its peers matches (no peers = all) AND one of its ports matches
//   (no ports = all); ports are matched against the destination port, named ports against the
//   destination pod's container ports (for ingress and egress alike), endPort makes a range;
// * a selector peer matches pods only: podSelector in the policy's namespace, namespaceSelector
//   by the pod's namespace labels (with `kubernetes.io/metadata.name`), both together = AND;
// * ipBlock/except matches IPs; whether it also matches pod IPs is implementation-defined
//   (Calico and the upstream e2e tests say yes, Cilium says no): `ipBlockMatchesPods`;
// * a pod can always reach itself, and traffic between a pod and its own node is always
//   allowed (Kubernetes documentation).
// These are the five points where the original got it wrong (reference §5.7 a–e).
import type { ClusterCache } from '../k8s/cache';
import type { ClusterPod } from '../k8s/objects';
import { firstMismatch, matches } from '../k8s/selector';
import { contains, parseIP } from '../netstack/ip';
import { compilePolicy, type CompiledPolicy, type Direction, type PolicyPeer, type PolicyPort, type PolicyRule } from './compile';

export interface PolicySettings {
  /** Whether ipBlock peers match pod IPs (true: Calico, kube-router, upstream e2e; false: Cilium). */
  ipBlockMatchesPods: boolean;
}

export const defaultPolicySettings: PolicySettings = { ipBlockMatchesPods: true };

/** The other side of a flow, as NetworkPolicy sees it. */
export interface PolicyPeerEndpoint {
  ip: string;
  /** A pod-network pod (never a hostNetwork one: those are their node). */
  pod?: ClusterPod;
  /** The node, when the IP is a node's (or a hostNetwork pod's). */
  node?: string;
}

export interface RuleVerdict {
  rule: number;
  allows: boolean;
  /** Why the peers or ports did (not) match. */
  explanation: string;
}

export interface PolicyVerdict {
  policy: string;
  allows: boolean;
  rules: RuleVerdict[];
  /** One line: why it allows or not. */
  summary: string;
}

export interface DirectionVerdict {
  direction: Direction;
  /** The pod whose policies apply (the source for egress, the destination for ingress). */
  pod: string;
  /** The other side, e.g. `10.244.1.2 (default/client)`. */
  peer: string;
  port: number;
  protocol: string;
  isolated: boolean;
  allowed: boolean;
  /** Policies allowing it (any one suffices). */
  allowedBy: string[];
  /** Every policy that selects the pod for this direction, with its reasoning. */
  policies: PolicyVerdict[];
  reason: string;
}

/** All NetworkPolicies of a cluster, compiled once and found by namespace. */
export class PolicySet {
  private readonly byNamespace = new Map<string, CompiledPolicy[]>();
  private readonly byKey = new Map<string, CompiledPolicy>();
  readonly policies: CompiledPolicy[];

  constructor(readonly cache: ClusterCache, readonly settings: PolicySettings = defaultPolicySettings) {
    this.policies = cache.networkPolicies.map(compilePolicy);
    for (const p of this.policies) {
      this.byKey.set(p.key, p);
      const list = this.byNamespace.get(p.namespace);
      if (list) list.push(p);
      else this.byNamespace.set(p.namespace, [p]);
    }
  }

  policy(key: string): CompiledPolicy | undefined {
    return this.byKey.get(key);
  }

  /** Policies selecting the pod that apply to the direction (sorted by key). */
  selecting(pod: ClusterPod, direction: Direction): CompiledPolicy[] {
    if (pod.hostNetwork) return [];
    return (this.byNamespace.get(pod.namespace) ?? []).filter((p) => p[direction] !== undefined && p.podSelector !== undefined && matches(p.podSelector, pod.labels));
  }

  /**
   * The verdict for one direction of a flow. `pod` is the subject (source for egress,
   * destination for ingress), `peer` the other side, `destinationPod` the pod named ports are
   * resolved against (for egress the destination, for ingress `pod` itself).
   */
  evaluate(direction: Direction, pod: ClusterPod, peer: PolicyPeerEndpoint, port: number, protocol: string, destinationPod: ClusterPod | undefined): DirectionVerdict {
    const base = { direction, pod: pod.key, peer: formatPeer(peer), port, protocol: protocol.toUpperCase() };
    const selecting = this.selecting(pod, direction);
    const done = (allowed: boolean, reason: string, policies: PolicyVerdict[] = [], allowedBy: string[] = []): DirectionVerdict =>
      ({ ...base, isolated: selecting.length > 0, allowed, allowedBy, policies, reason });
    if (pod.hostNetwork) return done(true, `${pod.key} uses the host network: NetworkPolicies do not select it`);
    if (!selecting.length) return done(true, `no NetworkPolicy selects ${pod.key} for ${direction}`);
    if (peer.pod === pod) return done(true, 'a pod can always reach itself');
    if (peer.node !== undefined && peer.node === pod.nodeName) {
      return done(true, `traffic between ${pod.key} and its own node ${peer.node} is always allowed`);
    }
    const verdicts = selecting.map((p) => this.evaluatePolicy(p, direction, peer, port, protocol, destinationPod));
    const allowedBy = verdicts.filter((v) => v.allows).map((v) => v.policy);
    if (allowedBy.length) return done(true, `allowed by ${allowedBy.join(', ')}`, verdicts, allowedBy);
    const why = selecting.length === 1
      ? `${selecting[0].key}, the only policy selecting ${pod.key} for ${direction}, does not allow it`
      : `none of the ${selecting.length} policies selecting ${pod.key} for ${direction} (${selecting.map((p) => p.key).join(', ')}) allows it`;
    return done(false, why, verdicts);
  }

  private evaluatePolicy(p: CompiledPolicy, direction: Direction, peer: PolicyPeerEndpoint, port: number, protocol: string, dst: ClusterPod | undefined): PolicyVerdict {
    const rules = p[direction]!;
    if (!rules.length) {
      return { policy: p.key, allows: false, rules: [], summary: `${p.key} has policyTypes ${p.policyTypes.join(',')} and no ${direction} rules: it denies all ${direction}` };
    }
    const verdicts = rules.map((r) => this.evaluateRule(p, r, direction, peer, port, protocol, dst));
    const allows = verdicts.some((v) => v.allows);
    const summary = allows
      ? `${p.key} ${direction} rule ${verdicts.find((v) => v.allows)!.rule} allows it`
      : `${p.key}: ${verdicts.map((v) => `${direction} rule ${v.rule}: ${v.explanation}`).join('; ')}`;
    return { policy: p.key, allows, rules: verdicts, summary };
  }

  private evaluateRule(p: CompiledPolicy, r: PolicyRule, direction: Direction, peer: PolicyPeerEndpoint, port: number, protocol: string, dst: ClusterPod | undefined): RuleVerdict {
    const portWhy = r.ports ? portsMatch(r.ports, port, protocol, dst) : undefined;
    if (portWhy && !portWhy.ok) return { rule: r.index, allows: false, explanation: portWhy.why };
    const peerWhy = r.peers ? this.peersMatch(p, r.peers, peer) : { ok: true, why: `all ${direction === 'ingress' ? 'sources' : 'destinations'}` };
    if (!peerWhy.ok) return { rule: r.index, allows: false, explanation: peerWhy.why };
    return { rule: r.index, allows: true, explanation: `${peerWhy.why}; ${portWhy ? portWhy.why : 'all ports'}` };
  }

  private peersMatch(p: CompiledPolicy, peers: PolicyPeer[], peer: PolicyPeerEndpoint): { ok: boolean; why: string } {
    const misses: string[] = [];
    for (const x of peers) {
      const m = this.peerMatches(p, x, peer);
      if (m.ok) return m;
      misses.push(m.why);
    }
    return { ok: false, why: misses.join(', ') };
  }

  private peerMatches(p: CompiledPolicy, x: PolicyPeer, peer: PolicyPeerEndpoint): { ok: boolean; why: string } {
    const who = formatPeer(peer);
    if (x.kind === 'invalid') return { ok: false, why: `${x.text} matches nothing` };
    if (x.kind === 'ipBlock') {
      if (peer.pod && !this.settings.ipBlockMatchesPods) return { ok: false, why: `${x.text}: ipBlocks do not match pods (setting ipBlockMatchesPods)` };
      const ip = parseIP(peer.ip);
      if (!ip || !contains(x.cidr, ip)) return { ok: false, why: `${x.text} does not contain ${peer.ip}` };
      const ex = x.except.find((e) => contains(e, ip));
      if (ex) return { ok: false, why: `${x.text}: ${peer.ip} is in the except list` };
      return { ok: true, why: `${x.text} contains ${peer.ip}` };
    }
    if (!peer.pod) return { ok: false, why: `${x.text} selects pods; ${who} is not a pod${peer.node ? ' (host network)' : ''}` };
    const pod = peer.pod;
    if (x.namespaceSelector) {
      const ns = this.cache.namespace(pod.namespace);
      if (!matches(x.namespaceSelector, ns.labels)) {
        const unknown = ns.known ? '' : ' (no Namespace object in the snapshot: only its name label is known)';
        return { ok: false, why: `namespaceSelector ${x.namespaceSelector.text} does not match namespace ${pod.namespace} (fails ${firstMismatch(x.namespaceSelector, ns.labels)})${unknown}` };
      }
    } else if (pod.namespace !== p.namespace) {
      return { ok: false, why: `${x.text} selects pods of namespace ${p.namespace} only; ${pod.key} is in ${pod.namespace}` };
    }
    if (x.podSelector && !matches(x.podSelector, pod.labels)) {
      return { ok: false, why: `podSelector ${x.podSelector.text} does not match ${pod.key} (fails ${firstMismatch(x.podSelector, pod.labels)})` };
    }
    return { ok: true, why: `${x.text} matches ${pod.key}` };
  }
}

export function portsMatch(ports: PolicyPort[], port: number, protocol: string, dst: ClusterPod | undefined): { ok: boolean; why: string } {
  const proto = protocol.toUpperCase();
  const want = `${port}/${proto}`;
  for (const p of ports) {
    if (p.protocol !== proto) continue;
    if (p.port === undefined) return { ok: true, why: `port ${p.text} matches ${want}` };
    if (typeof p.port === 'number') {
      const hi = p.endPort ?? p.port;
      if (port >= p.port && port <= hi) return { ok: true, why: `port ${p.text} matches ${want}` };
      continue;
    }
    // A named port means "the destination pod's container port of that name and protocol".
    const cp = dst?.containerPorts.find((c) => c.name === p.port && c.protocol === p.protocol);
    if (cp && cp.port === port) return { ok: true, why: `named port ${p.port} is ${cp.port}/${cp.protocol} on ${dst!.key}` };
  }
  const named = ports.filter((p) => typeof p.port === 'string' && p.port !== '' && p.protocol === proto);
  const namedWhy = named.length
    ? dst
      ? ` (on ${dst.key}: ${named.map((p) => { const cp = dst.containerPorts.find((c) => c.name === p.port && c.protocol === p.protocol); return cp ? `${p.port}=${cp.port}` : `no container port named ${p.port}`; }).join(', ')})`
      : ' (named ports match pods only; the destination is not a pod)'
    : '';
  return { ok: false, why: `ports ${ports.map((p) => p.text).join(', ')} do not include ${want}${namedWhy}` };
}

export function formatPeer(peer: PolicyPeerEndpoint): string {
  return peer.pod ? `${peer.ip} (${peer.pod.key})` : peer.node ? `${peer.ip} (node ${peer.node})` : peer.ip;
}
