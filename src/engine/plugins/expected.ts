// The routes each plugin programs, as expectations: for a pod address, which device and next hop
// the node's route must use. flannel host-gw: `<podCIDR> via <public-ip> dev <uplink>`; flannel
// vxlan: `<podCIDR> via <podCIDR>.0 dev flannel.1 onlink`; calico BGP: `via <node IP> dev <uplink>`,
// IPIP: `via <node IP> dev tunl0`, VXLAN: `via <tunnel addr> dev vxlan.calico onlink`; a pod on the
// node: the bridge (flannel) or the pod's own host veth (calico). Generic: no remote expectation.
import type { K8sObject } from '../snapshot/types';
import { formatPrefix, parseIP, parsePrefix, contains } from '../netstack/ip';
import { calicoNodeInfo, flannelNodeInfo, type CalicoMode, type PluginConfig } from './detect';

export interface ExpectedRoute {
  /** Prefix the route should cover (the node's pod CIDR); undefined when the plugin's block size is not known (calico). */
  prefix?: string;
  dev: string;
  /** Next hop; undefined = on-link to the destination itself. */
  gateway?: string;
  onlink?: boolean;
  /** Why this is expected, for the evidence. */
  why: string;
}

export function formatExpected(e: ExpectedRoute, dst: string): string {
  return `${e.prefix ?? dst}${e.gateway ? ` via ${e.gateway}` : ''} dev ${e.dev}${e.onlink ? ' onlink' : ''}`;
}

export const TUNNEL_OVERHEAD: Record<string, number> = { 'flannel.1': 50, 'vxlan.calico': 50, tunl0: 20 };

/** Encapsulation overhead of the plugin's backend (bytes the tunnel adds to each packet). */
export function backendOverhead(cfg: PluginConfig): { dev?: string; overhead: number } {
  const b = cfg.backend?.value;
  if (cfg.plugin.value === 'flannel' && b === 'vxlan') return { dev: 'flannel.1', overhead: 50 };
  if (cfg.plugin.value === 'calico' && b === 'vxlan') return { dev: 'vxlan.calico', overhead: 50 };
  if (cfg.plugin.value === 'calico' && b === 'ipip') return { dev: 'tunl0', overhead: 20 };
  return { overhead: 0 };
}

function nodePodCIDR(node: K8sObject): string | undefined {
  const spec = (node.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
  return spec.podCIDRs?.find((c) => !c.includes(':')) ?? spec.podCIDR;
}

/** Route a node should have towards a pod on another node. */
export function expectedRemoteRoute(cfg: PluginConfig, remote: K8sObject, uplink: string, sameSubnet: (ip: string) => boolean, dst: string): ExpectedRoute | undefined {
  const name = remote.metadata.name;
  if (cfg.plugin.value === 'flannel') {
    const cidr = nodePodCIDR(remote);
    const info = flannelNodeInfo(remote, cfg);
    if (!cidr) return undefined;
    if (info.backend.value === 'host-gw') {
      if (!info.publicIP) return undefined;
      return { prefix: cidr, gateway: info.publicIP.value, dev: uplink, why: `flannel host-gw (${info.backend.source}): node ${name}'s pod CIDR via its public IP (${info.publicIP.source}) on the uplink` };
    }
    if (info.backend.value === 'vxlan') {
      const p = parsePrefix(cidr);
      if (!p) return undefined;
      const vtep = formatPrefix(p).split('/')[0];
      return { prefix: cidr, gateway: vtep, dev: 'flannel.1', onlink: true, why: `flannel vxlan (${info.backend.source}): node ${name}'s pod CIDR via its VTEP address (the CIDR's network address) on flannel.1` };
    }
    return undefined;
  }
  if (cfg.plugin.value === 'calico') {
    const info = calicoNodeInfo(remote);
    const pool = cfg.calicoPools.find((p) => { const x = parsePrefix(p.cidr); const ip = parseIP(dst); return !!x && !!ip && contains(x, ip); });
    const mode = (m: CalicoMode, nodeIP: string) => m === 'Always' || (m === 'CrossSubnet' && !sameSubnet(nodeIP));
    const backend = cfg.backend?.value ?? 'bgp';
    const nodeIP = info.ip?.value;
    if (!nodeIP) return undefined;
    const vxlan = pool ? mode(pool.vxlanMode, nodeIP) : backend === 'vxlan';
    const ipip = pool ? mode(pool.ipipMode, nodeIP) : backend === 'ipip';
    const src = pool ? `IPPool ${pool.cidr} (${pool.source})` : `calico backend ${backend} (${cfg.backend?.source ?? 'default'})`;
    if (vxlan) {
      if (!info.vxlanTunnel) return undefined;
      return { gateway: info.vxlanTunnel.value, dev: 'vxlan.calico', onlink: true, why: `calico VXLAN, ${src}: node ${name}'s block via its VXLAN tunnel address (${info.vxlanTunnel.source}) on vxlan.calico` };
    }
    if (ipip) return { gateway: nodeIP, dev: 'tunl0', onlink: true, why: `calico IPIP, ${src}: node ${name}'s block via its address (${info.ip!.source}) on tunl0` };
    return { gateway: nodeIP, dev: uplink, why: `calico BGP, ${src}: node ${name}'s block via its address (${info.ip!.source}) on the uplink` };
  }
  return undefined;
}
