// The ServiceProcessor (seed): for a packet addressed to a service (ClusterIP, NodePort,
// externalIP, LB IP) entering a node's host netns, what kube-proxy on that node should do with it
// (the backends, from EndpointSlices via backends.ts) against what its rules really do (iptables
// chains, IPVS virtual servers or the nftables table kube-proxy, by the node's proxy mode).
import type { ClusterCache } from '../k8s/cache';
import type { Packet } from '../model/packet';
import { SuspicionLevel, type Suspicion } from '../model/suspicion';
import type { NetNS } from '../netstack/netns';
import type { ClusterView } from '../snapshot/types';
import type { Found } from '../plugins/detect';
import { findServiceHit, serviceBackends } from './backends';
import { checkIptablesProxy } from './iptables-proxy';
import { checkIpvsProxy } from './ipvs-proxy';
import { checkNftablesProxy } from './nftables-proxy';
import { configuredProxyMode, proxyModeFromRules, type ProxyMode } from './proxy-mode';

export class ServiceProcessor {
  private readonly configured?: Found<ProxyMode>;

  constructor(snapshot: ClusterView, private readonly cache: ClusterCache) {
    this.configured = configuredProxyMode(snapshot);
  }

  /** The proxy mode on a node: settings, else the ConfigMap, else the node's own rules. */
  mode(ns: NetNS): Found<ProxyMode> | undefined {
    if (this.configured?.source.startsWith('settings')) return this.configured;
    return this.configured ?? proxyModeFromRules(ns);
  }

  checks(node: string, ns: NetNS, packet: Packet): Suspicion[] {
    if (packet.reply || packet.encap || !packet.dport) return [];
    const lookup = findServiceHit(this.cache, packet.dst, packet.dport, packet.protocol);
    if (!lookup) return [];
    if (!('hit' in lookup)) return [lookup.suspicion];
    const hit = lookup.hit;
    // kube-proxy takes a NodePort only for the node's own addresses (KUBE-NODEPORTS is behind `--dst-type LOCAL`).
    if (hit.kind === 'nodePort' && !ns.ownsAddress(packet.dst)) return [];
    const local = !packet.src || ns.ownsAddress(packet.src);
    const srcPod = packet.src ? this.cache.podByIP(packet.src) : undefined;
    const sb = serviceBackends(this.cache, hit, {
      node,
      ...(packet.src ? { sourceIP: packet.src } : {}),
      // kube-proxy short-circuits its node's pods and the node itself (src-type LOCAL) past ETP=Local.
      sourceIsLocalPod: local || (!!srcPod && !srcPod.hostNetwork && srcPod.nodeName === node),
    });
    const out: Suspicion[] = [...sb.suspicions];
    for (const note of sb.notes) out.push({ level: SuspicionLevel.INFO, check: 'service.note', message: `${sb.service}: ${note}`, evidence: [] });
    const mode = this.mode(ns);
    const fromRules = proxyModeFromRules(ns);
    if (mode && fromRules && mode.value !== fromRules.value) {
      out.push({ level: SuspicionLevel.WARNING, check: 'kube-proxy.mode-mismatch', message: `kube-proxy mode is ${mode.value} (${mode.source}) but ${node}'s rules look like ${fromRules.value} (${fromRules.source})`, evidence: [] });
    }
    switch (mode?.value) {
      case 'iptables':
        out.push(...checkIptablesProxy(node, ns, packet, local, sb));
        break;
      case 'ipvs':
        out.push(...checkIpvsProxy(node, ns, packet, sb));
        break;
      case 'nftables':
        out.push(...checkNftablesProxy(node, ns, packet, local, sb));
        break;
      default:
        out.push({ level: SuspicionLevel.INFO, check: 'kube-proxy.not-checked', message: `kube-proxy mode on ${node} is ${mode ? `${mode.value} (${mode.source})` : 'unknown (no setting, no kube-proxy ConfigMap, no KUBE-SERVICES chain, IPVS table or nftables table kube-proxy)'}: its rules for ${sb.service} are not checked`, evidence: [] });
    }
    return out;
  }
}
