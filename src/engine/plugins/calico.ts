// Calico: recognised by its IPPools, else by its node address annotation, else by the
// calico-config ConfigMap, else by a calico-node DaemonSet or pod. Routed, no bridge: a local pod
// is reached on a /32 route over its host-side veth; another node's block via that node's address
// on the uplink (BGP), on tunl0 (IPIP) or via its tunnel address on vxlan.calico (VXLAN), the
// pool's ipipMode/vxlanMode deciding per destination (CrossSubnet: only off the uplink's subnet).
// IPv6 pools the same way with the node's IPv6 addresses: a local pod's /128, another node's block
// (the pool's blockSize, default /122) via its IPv6 address (BGP) or its IPv6 VXLAN tunnel address
// on vxlan-v6.calico; Calico has no IPv6 IPIP, so ipipMode routes IPv6 natively.
import type { K8sObject } from '../snapshot/types';
import { contains, formatPrefix, parseIP, parsePrefix, type Family } from '../netstack/ip';
import { SuspicionLevel } from '../model/suspicion';
import type { Found } from './config';
import type { ExpectedRoute } from './expected';
import type { CalicoMode, CalicoPool } from './ippools';
import { annotations, familyOf, internalIP, where, type ObjectView } from './objects';
import type { Plugin, PluginReading, Tunnel } from './plugin';

const IPV4 = 'projectcalico.org/IPv4Address';
const IPV6 = 'projectcalico.org/IPv6Address';
const VXLAN_ADDR = 'projectcalico.org/IPv4VXLANTunnelAddr';
const VXLAN6_ADDR = 'projectcalico.org/IPv6VXLANTunnelAddr';
/** IPv6 outer header (40) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
const VXLAN6: Tunnel = { dev: 'vxlan-v6.calico', overhead: 70 };
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

/**
 * A node's Calico address of a family (`projectcalico.org/IPv4Address` / `IPv6Address`, CIDR
 * form, else its InternalIP of that family) and its VXLAN tunnel address of that family.
 */
export function calicoNodeInfo(node: K8sObject, family: Family = 4): { ip?: Found<string>; vxlanTunnel?: Found<string> } {
  const a = annotations(node);
  const out: { ip?: Found<string>; vxlanTunnel?: Found<string> } = {};
  const addr = family === 6 ? IPV6 : IPV4;
  const vx = family === 6 ? VXLAN6_ADDR : VXLAN_ADDR;
  if (a[addr]) out.ip = { value: a[addr].split('/')[0], source: `node ${node.metadata.name} annotation ${addr}` };
  else {
    const internal = internalIP(node, family === 6 ? 6 : undefined);
    if (internal) out.ip = { value: internal, source: `node ${node.metadata.name} InternalIP` };
  }
  if (a[vx]) out.vxlanTunnel = { value: a[vx], source: `node ${node.metadata.name} annotation ${vx}` };
  return out;
}

/** The block of `pool` holding `dst` (the unit Calico routes between nodes). */
function blockOf(dst: string, pool: CalicoPool): string | undefined {
  const ip = parseIP(dst);
  if (!ip) return undefined;
  const p = parsePrefix(`${dst}/${pool.blockSize}`, ip.family);
  return p ? formatPrefix(p) : undefined;
}

export const calico: Plugin = {
  name: 'calico',
  read,
  localRoute(_cfg, { dst, pod, hostVeth }) {
    const host = pod ? hostVeth(pod) : undefined;
    const len = familyOf(dst) === 6 ? 128 : 32;
    return host ? { prefix: `${dst}/${len}`, dev: host.name, why: `calico: a local pod's /${len} route on its host-side veth` } : undefined;
  },
  remoteRoute(cfg, { dst, node, uplink, sameSubnet }) {
    const name = node.metadata.name;
    const family = familyOf(dst);
    const info = calicoNodeInfo(node, family);
    const pool = cfg.calicoPools.find((p) => { const x = parsePrefix(p.cidr, family); const ip = parseIP(dst); return !!x && !!ip && x.family === ip.family && contains(x, ip); });
    if (family === 6) return remote6(dst, name, info, pool, uplink, sameSubnet);
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

/**
 * Another node's IPv6 block: only with an IPv6 pool holding the address (Calico gives pods IPv6
 * addresses from its pools alone); VXLAN per the pool's vxlanMode, else native (BGP) — ipipMode
 * does not apply to IPv6.
 */
function remote6(dst: string, name: string, info: ReturnType<typeof calicoNodeInfo>, pool: CalicoPool | undefined, uplink: string, sameSubnet: (ip: string) => boolean): ExpectedRoute | undefined {
  if (!pool || !info.ip) return undefined;
  const prefix = blockOf(dst, pool);
  const src = `IPPool ${pool.cidr} (${pool.source})`;
  const vxlan = pool.vxlanMode === 'Always' || (pool.vxlanMode === 'CrossSubnet' && !sameSubnet(info.ip.value));
  if (vxlan) {
    if (!info.vxlanTunnel) return undefined;
    return { ...(prefix ? { prefix } : {}), gateway: info.vxlanTunnel.value, dev: VXLAN6.dev, onlink: true, overhead: VXLAN6.overhead, why: `calico IPv6 VXLAN, ${src}: node ${name}'s /${pool.blockSize} block via its IPv6 VXLAN tunnel address (${info.vxlanTunnel.source}) on ${VXLAN6.dev}` };
  }
  return { ...(prefix ? { prefix } : {}), gateway: info.ip.value, dev: uplink, why: `calico IPv6 BGP, ${src}: node ${name}'s /${pool.blockSize} block via its IPv6 address (${info.ip.source}) on the uplink` };
}
