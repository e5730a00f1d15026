// Calico: recognised by its IPPools, else by its node address annotation, else by the
// calico-config ConfigMap, else by a calico-node DaemonSet or pod. Routed, no bridge: a local pod
// is reached on a /32 route over its host-side veth; another node's block via that node's address
// on the uplink (BGP), on tunl0 (IPIP) or via its tunnel address on vxlan.calico (VXLAN), the
// pool's ipipMode/vxlanMode deciding per destination (CrossSubnet: only off the uplink's subnet).
import type { K8sObject } from '../snapshot/types';
import { contains, parseIP, parsePrefix } from '../netstack/ip';
import { SuspicionLevel } from '../model/suspicion';
import type { Found } from './config';
import type { CalicoMode } from './ippools';
import { annotations, internalIP, where, type ObjectView } from './objects';
import type { Plugin, PluginReading, Tunnel } from './plugin';

const IPV4 = 'projectcalico.org/IPv4Address';
const VXLAN_ADDR = 'projectcalico.org/IPv4VXLANTunnelAddr';
const IPIP_ADDR = 'projectcalico.org/IPv4IPIPTunnelAddr';
const VXLAN: Tunnel = { dev: 'vxlan.calico', overhead: 50 };
const IPIP: Tunnel = { dev: 'tunl0', overhead: 20 };

function read(objects: ObjectView): PluginReading {
  const pools = objects.calicoPools;
  const cm = objects.configMaps.find((c) => c.metadata.name === 'calico-config');
  const node = objects.nodeAnnotated(IPV4);
  return {
    configuredBy: pools.length ? pools[0].source : node ? `node ${node.metadata.name} annotation ${IPV4}` : cm ? where(cm) : undefined,
    runningAs: () => { const w = objects.workload(/calico-node/); return w && where(w); },
    backend: backend(objects, cm),
    ...(pools.length ? { clusterCIDRs: { value: pools.map((p) => p.cidr), source: pools.map((p) => p.source).join(', ') } } : {}),
    masquerade: pools.length
      ? { value: pools.some((p) => p.natOutgoing), source: `IPPool natOutgoing (${pools.map((p) => `${p.cidr}: ${p.natOutgoing}`).join(', ')})` }
      : { value: true, source: 'calico default (IPPool natOutgoing; override with settings.masquerade)' },
  };
}

/** The default (first) pool's mode, else the tunnel addresses nodes were given, else calico-config. */
function backend(objects: ObjectView, cm: K8sObject | undefined): Found<string> {
  const p = objects.calicoPools[0];
  if (p) return { value: p.vxlanMode !== 'Never' ? 'vxlan' : p.ipipMode !== 'Never' ? 'ipip' : 'bgp', source: `${p.source} ipipMode/vxlanMode` };
  const vx = objects.nodeAnnotated(VXLAN_ADDR);
  const ipip = objects.nodeAnnotated(IPIP_ADDR);
  const cb = (cm?.data as Record<string, string> | undefined)?.calico_backend;
  if (vx) return { value: 'vxlan', source: `node ${vx.metadata.name} annotation ${VXLAN_ADDR}` };
  if (ipip) return { value: 'ipip', source: `node ${ipip.metadata.name} annotation ${IPIP_ADDR}` };
  if (cb === 'vxlan') return { value: 'vxlan', source: `${where(cm!)} calico_backend` };
  return { value: 'bgp', source: cb ? `${where(cm!)} calico_backend ${cb}, no IPIP tunnel address on any node` : 'calico default (no IPPool, no tunnel address annotation)' };
}

/** A node's Calico address (`projectcalico.org/IPv4Address`, CIDR form) and VXLAN tunnel address. */
export function calicoNodeInfo(node: K8sObject): { ip?: Found<string>; vxlanTunnel?: Found<string> } {
  const a = annotations(node);
  const out: { ip?: Found<string>; vxlanTunnel?: Found<string> } = {};
  if (a[IPV4]) out.ip = { value: a[IPV4].split('/')[0], source: `node ${node.metadata.name} annotation ${IPV4}` };
  else {
    const internal = internalIP(node);
    if (internal) out.ip = { value: internal, source: `node ${node.metadata.name} InternalIP` };
  }
  if (a[VXLAN_ADDR]) out.vxlanTunnel = { value: a[VXLAN_ADDR], source: `node ${node.metadata.name} annotation ${VXLAN_ADDR}` };
  return out;
}

export const calico: Plugin = {
  name: 'calico',
  read,
  localRoute(_cfg, { dst, pod, hostVeth }) {
    const host = pod ? hostVeth(pod) : undefined;
    return host ? { prefix: `${dst}/32`, dev: host.name, why: `calico: a local pod's /32 route on its host-side veth` } : undefined;
  },
  remoteRoute(cfg, { dst, node, uplink, sameSubnet }) {
    const name = node.metadata.name;
    const info = calicoNodeInfo(node);
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
      return { gateway: info.vxlanTunnel.value, dev: VXLAN.dev, onlink: true, overhead: VXLAN.overhead, why: `calico VXLAN, ${src}: node ${name}'s block via its VXLAN tunnel address (${info.vxlanTunnel.source}) on vxlan.calico` };
    }
    if (ipip) return { gateway: nodeIP, dev: IPIP.dev, onlink: true, overhead: IPIP.overhead, why: `calico IPIP, ${src}: node ${name}'s block via its address (${info.ip!.source}) on tunl0` };
    return { gateway: nodeIP, dev: uplink, why: `calico BGP, ${src}: node ${name}'s block via its address (${info.ip!.source}) on the uplink` };
  },
  tunnel: (cfg) => (cfg.backend?.value === 'vxlan' ? VXLAN : cfg.backend?.value === 'ipip' ? IPIP : undefined),
  unmasqueraded: SuspicionLevel.CRITICAL,
};
