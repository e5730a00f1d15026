// The NetworkPolicy verdict of a whole flow, for the result's `clusterSuspicions`: egress at the
// source pod and ingress at the destination pod. A service destination is evaluated at each
// backend after DNAT (backend IP and target port), which is what CNIs enforce; a NodePort on a
// node address is a service destination too. Except for egress to another node's NodePort: the
// source's node does not DNAT it (kube-proxy's NodePort rules match its own addresses only), so
// the policy enforced there sees that node's address and the nodePort (measured in the lab:
// flannel-host-gw-dual-policy--policy-egress-ipv6-except).
import type { ClusterCache } from '../k8s/cache';
import type { ClusterPod } from '../k8s/objects';
import { nodeIPs, type ResolvedEndpoint } from '../k8s/resolve';
import type { Protocol } from '../model/packet';
import { SuspicionLevel, type ObjectCause, type Remedy, type Suspicion } from '../model/suspicion';
import { findServiceHit, serviceBackends } from '../service/backends';
import type { Direction } from './compile';
import { portsMatch, type DirectionVerdict, type PolicyPeerEndpoint, type PolicySet } from './evaluate';
import { matches } from '../k8s/selector';
import { podCause } from '../service/causes';

export interface PolicyTarget {
  ip: string;
  port: number;
  /** `namespace/name` of the destination pod. */
  pod?: string;
  /** The service the target is a backend of. */
  service?: string;
}

export interface TargetVerdict {
  target: PolicyTarget;
  /** Absent when the source is not a pod (nothing to isolate). */
  egress?: DirectionVerdict;
  /** Absent when the target is not a pod. */
  ingress?: DirectionVerdict;
  allowed: boolean;
}

export interface PolicyCheck {
  targets: TargetVerdict[];
  /** Every target is allowed in both directions. */
  allowed: boolean;
  notes: string[];
  suspicions: Suspicion[];
}

function peerOf(cache: ClusterCache, ip: string, pod: ClusterPod | undefined, nodeName: string | undefined): PolicyPeerEndpoint {
  if (pod && !pod.hostNetwork) return { ip, pod };
  const node = nodeName ?? pod?.nodeName ?? cache.nodeByIP(ip)?.name;
  return node ? { ip, node } : { ip };
}

export function checkNetworkPolicies(policies: PolicySet, source: ResolvedEndpoint, destination: ResolvedEndpoint, protocol: Protocol): PolicyCheck {
  const cache = policies.cache;
  const out: PolicyCheck = { targets: [], allowed: true, notes: [], suspicions: [] };
  const src = source.endpoint;
  const srcPod = src.type === 'pod' ? source.pod : undefined;
  const srcPeer = peerOf(cache, src.ip, srcPod, src.type === 'node' ? src.ref : undefined);
  const srcNode = srcPod?.nodeName ?? srcPeer.node;

  const dst = destination.endpoint;
  const targets: { ip: string; port: number; pod?: ClusterPod; node?: string; service?: string }[] = [];
  // What the backend sees as the source: kube-proxy masquerades external-address traffic of
  // externalTrafficPolicy=Cluster services to the address of the node that handled it.
  let ingressPeer = srcPeer;
  // Egress judged before the DNAT (a NodePort of another node): one verdict for every backend.
  let preDnatEgress: { peer: PolicyPeerEndpoint; verdict?: DirectionVerdict } | undefined;
  const lookup = dst.type === 'service' || dst.type === 'lb' || dst.type === 'node' ? findServiceHit(cache, dst.ip, dst.port, protocol) : undefined;
  const hit = lookup && 'hit' in lookup && (dst.type !== 'node' || lookup.hit.kind === 'nodePort') ? lookup.hit : undefined;
  if (hit) {
    const b = serviceBackends(cache, hit, { ...(srcNode ? { node: srcNode } : {}), sourceIP: src.ip, sourceIsLocalPod: srcPod !== undefined });
    if (!b.backends.length) out.notes.push(`service ${b.service} has no backend for ${dst.port}/${protocol.toUpperCase()}: no NetworkPolicy to evaluate`);
    for (const be of b.backends) {
      const pod = be.pod ? cache.pod(be.pod) : cache.podByIP(be.ip);
      targets.push({ ip: be.ip, port: be.port, ...(pod ? { pod } : {}), ...(be.node ? { node: be.node } : {}), service: b.service });
    }
    const nodePortOf = hit.kind === 'nodePort' ? cache.nodeByIP(hit.ip) : undefined;
    if (srcPod && nodePortOf && nodePortOf.name !== srcNode) {
      preDnatEgress = { peer: { ip: hit.ip, node: nodePortOf.name } };
      out.notes.push(`node ${srcNode} does not translate nodePort ${hit.ip}:${dst.port} of node ${nodePortOf.name}: egress from ${srcPod.key} is judged for that address and port (the DNAT to a backend happens on ${nodePortOf.name})`);
    }
    if (hit.kind !== 'clusterIP' && b.trafficPolicy.value === 'Cluster') {
      const handler = hit.kind === 'nodePort' ? cache.nodeByIP(hit.ip) : srcNode ? cache.node(srcNode) : undefined;
      const family = dst.ip.includes(':') ? 6 : 4;
      const ip = handler && nodeIPs(handler).find((a) => (a.includes(':') ? 6 : 4) === family);
      if (handler && ip) {
        ingressPeer = { ip, node: handler.name };
        out.notes.push(`kube-proxy masquerades traffic to ${hit.kind} ${hit.ip} (externalTrafficPolicy Cluster): the backends see node ${handler.name} (${ip}) as the source`);
      } else {
        out.notes.push(`kube-proxy masquerades traffic to ${hit.kind} ${hit.ip} (externalTrafficPolicy Cluster); the node that handles it is not known, so ingress is judged for the original source`);
      }
    }
  } else if (dst.type === 'service' || dst.type === 'lb') {
    out.notes.push(`${dst.ip}:${dst.port} is not a service port: no backend to evaluate NetworkPolicies at`);
  } else {
    targets.push({ ip: dst.ip, port: dst.port, ...(dst.type === 'pod' && destination.pod ? { pod: destination.pod } : {}), ...(dst.type === 'node' && dst.ref ? { node: dst.ref } : {}) });
  }

  for (const t of targets) {
    const dstPeer = peerOf(cache, t.ip, t.pod, t.node);
    const podNetDst = dstPeer.pod;
    const v: TargetVerdict = {
      target: { ip: t.ip, port: t.port, ...(t.pod ? { pod: t.pod.key } : {}), ...(t.service ? { service: t.service } : {}) },
      allowed: true,
    };
    if (srcPeer.pod && preDnatEgress) {
      const first = !preDnatEgress.verdict;
      v.egress = preDnatEgress.verdict ??= policies.evaluate('egress', srcPeer.pod, preDnatEgress.peer, dst.port, protocol, undefined);
      if (first && !v.egress.allowed) out.suspicions.push(denySuspicion(policies, v.egress, preDnatEgress.peer, t.service && `nodePort of service ${t.service}`));
    } else if (srcPeer.pod) {
      v.egress = policies.evaluate('egress', srcPeer.pod, dstPeer, t.port, protocol, podNetDst);
      if (!v.egress.allowed) out.suspicions.push(denySuspicion(policies, v.egress, dstPeer, t.service && `backend of service ${t.service}`));
    }
    if (podNetDst) v.ingress = policies.evaluate('ingress', podNetDst, ingressPeer, t.port, protocol, podNetDst);
    v.allowed = (v.egress?.allowed ?? true) && (v.ingress?.allowed ?? true);
    out.allowed &&= v.allowed;
    out.targets.push(v);
    if (v.ingress && !v.ingress.allowed) out.suspicions.push(denySuspicion(policies, v.ingress, ingressPeer, t.service && `backend of service ${t.service}`));
  }

  // Policies that decided something but could not be read completely.
  const seen = new Set<string>();
  for (const v of out.targets) {
    for (const d of [v.egress, v.ingress]) {
      for (const pv of d?.policies ?? []) {
        const p = policies.policy(pv.policy);
        if (!p || !p.problems.length || seen.has(p.key)) continue;
        seen.add(p.key);
        out.suspicions.push({
          level: SuspicionLevel.WARNING,
          check: 'policy.invalid',
          message: `NetworkPolicy ${p.key} has parts the API server would reject; they are taken to allow nothing`,
          evidence: p.problems.map((text) => ({ kind: 'object', text, where: `networkpolicy ${p.key}` })),
        });
      }
    }
  }
  return out;
}

/** Labels a controller stamps on each pod it creates: never part of a rule that names the workload. */
const perPodLabels = new Set(['pod-template-hash', 'controller-revision-hash', 'statefulset.kubernetes.io/pod-name', 'apps.kubernetes.io/pod-index', 'controller-uid', 'batch.kubernetes.io/controller-uid']);

/**
 * The policies that deny, each at its rules for the direction (or its podSelector when it has
 * none), with the rule that allows exactly this peer and port when the peer is a pod with
 * workload labels (an IP peer, or a pod known only by per-pod labels, has no certain rule).
 */
function denyCauses(policies: PolicySet, d: DirectionVerdict, peer: PolicyPeerEndpoint): ObjectCause[] {
  const labels = Object.fromEntries(Object.entries(peer.pod?.labels ?? {}).filter(([k]) => !perPodLabels.has(k)));
  const remedy: Remedy | undefined = peer.pod && Object.keys(labels).length
    ? { kind: 'allow-peer', direction: d.direction, peer: { namespace: peer.pod.namespace, labels }, port: d.port, protocol: d.protocol.toUpperCase() }
    : undefined;
  const causes = d.policies.flatMap((pv): ObjectCause[] => {
    const p = policies.policy(pv.policy);
    if (!p) return [];
    const hasRules = Array.isArray(p[d.direction]) && p[d.direction]!.length > 0;
    return [{ kind: 'NetworkPolicy', namespace: p.namespace, name: p.name, field: hasRules ? ['spec', d.direction] : ['spec', 'podSelector'], ...(remedy ? { remedy } : {}) }];
  });
  return [...causes, ...missingLabelCauses(policies, d, peer)];
}

/**
 * The peer pod as a cause when a rule of a denying policy would admit it but for one label it
 * lacks (ports and namespace match, the podSelector fails only on an absent `key: value`): adding
 * that label is then a certain fix, one per distinct label.
 */
function missingLabelCauses(policies: PolicySet, d: DirectionVerdict, peer: PolicyPeerEndpoint): ObjectCause[] {
  const pod = peer.pod;
  if (!pod) return [];
  const dst = d.direction === 'ingress' ? policies.cache.pod(d.pod) : pod;
  const labels = new Map<string, string>();
  for (const pv of d.policies) {
    const p = policies.policy(pv.policy);
    for (const r of p?.[d.direction] ?? []) {
      if (r.ports && !portsMatch(r.ports, d.port, d.protocol, dst).ok) continue;
      for (const x of r.peers ?? []) {
        if (x.kind !== 'selector' || !x.podSelector) continue;
        if (x.namespaceSelector ? !matches(x.namespaceSelector, policies.cache.namespace(pod.namespace).labels) : pod.namespace !== p!.namespace) continue;
        const failing = x.podSelector.requirements.filter((q) => !matches({ requirements: [q], text: '' }, pod.labels));
        const [q] = failing;
        if (failing.length !== 1 || q.operator !== 'In' || q.values.length !== 1 || q.key in pod.labels) continue;
        if (matches(x.podSelector, { ...pod.labels, [q.key]: q.values[0] })) labels.set(`${q.key}=${q.values[0]}`, q.key);
      }
    }
  }
  return [...labels].map(([kv, key]) => podCause(pod, ['metadata', 'labels'], { kind: 'add-label', key, value: kv.slice(key.length + 1) }));
}

/** `via`: how the peer relates to the service the flow was sent to, e.g. `backend of service ns/name`. */
function denySuspicion(policies: PolicySet, d: DirectionVerdict, peer: PolicyPeerEndpoint, via: string | undefined): Suspicion {
  via = via ? ` (${via})` : '';
  const flow = d.direction === 'egress'
    ? `egress from ${d.pod} to ${d.peer}:${d.port}/${d.protocol}${via}`
    : `ingress to ${d.pod}${via} on ${d.port}/${d.protocol} from ${d.peer}`;
  return {
    level: SuspicionLevel.CRITICAL,
    check: `policy.${d.direction satisfies Direction}-deny`,
    message: `NetworkPolicy denies ${flow}: ${d.reason}`,
    evidence: d.policies.map((p) => ({ kind: 'object' as const, text: p.summary, where: `networkpolicy ${p.policy}` })),
    objects: denyCauses(policies, d, peer),
  };
}

