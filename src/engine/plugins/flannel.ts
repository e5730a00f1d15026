// flannel: recognised by its kube-flannel-cfg ConfigMap (net-conf.json holds the pod network and
// the backend), else by its node annotations, else by a flannel DaemonSet or pod. Pods hang off
// the cni0 bridge; a node reaches another node's pod CIDR via that node's public IP on the uplink
// (host-gw), or via the CIDR's network address, the remote VTEP, on flannel.1 (vxlan). With
// `EnableIPv6` (and `IPv6Network`) in net-conf.json it does the same for each node's IPv6 pod
// CIDR: via its `public-ipv6` (host-gw), or on flannel-v6.1 (vxlan over IPv6).
import type { K8sObject } from '../snapshot/types';
import { formatPrefix, parsePrefix, type Family } from '../netstack/ip';
import { SuspicionLevel } from '../model/suspicion';
import type { Found, PluginConfig } from './config';
import type { ExpectedRoute } from './expected';
import { annotations, familyOf, internalIP, where, type ObjectView } from './objects';
import type { Plugin, PluginReading, Tunnel } from './plugin';

const BACKEND = 'flannel.alpha.coreos.com/backend-type';
const PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip';
const PUBLIC_IP6 = 'flannel.alpha.coreos.com/public-ipv6';
const VXLAN: Tunnel = { dev: 'flannel.1', overhead: 50 };
/** IPv6 outer header (40) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
const VXLAN6: Tunnel = { dev: 'flannel-v6.1', overhead: 70 };

interface NetConf {
  Network?: string;
  EnableIPv6?: boolean;
  IPv6Network?: string;
  Backend?: { Type?: string };
}

function configMap(objects: ObjectView): K8sObject | undefined {
  return objects.configMaps.find((c) => c.metadata.name === 'kube-flannel-cfg' && ['kube-flannel', 'kube-system'].includes(c.metadata.namespace ?? ''))
    ?? objects.configMaps.find((c) => c.metadata.name === 'kube-flannel-cfg');
}

function netConf(cm: K8sObject, notes: string[]): NetConf | undefined {
  const text = (cm.data as Record<string, string> | undefined)?.['net-conf.json'];
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as NetConf) : undefined;
  } catch (e) {
    notes.push(`${where(cm)}: net-conf.json is not JSON (${(e as Error).message}); flannel settings not read from it`);
    return undefined;
  }
}

function read(objects: ObjectView): PluginReading {
  const cm = configMap(objects);
  const conf = cm ? netConf(cm, objects.notes) : undefined;
  const node = objects.nodeAnnotated(BACKEND);
  const type = conf?.Backend?.Type;
  const backend: Found<string> = typeof type === 'string' && type ? { value: type.toLowerCase(), source: `${where(cm!)} net-conf.json Backend.Type` }
    : node ? { value: annotations(node)[BACKEND].toLowerCase(), source: `node ${node.metadata.name} annotation ${BACKEND}` }
      : { value: 'vxlan', source: 'flannel default (no Backend.Type found)' };
  const v6 = conf?.EnableIPv6 === true && typeof conf.IPv6Network === 'string' && parsePrefix(conf.IPv6Network, 6) ? conf.IPv6Network : undefined;
  const v4 = typeof conf?.Network === 'string' && parsePrefix(conf.Network) ? conf.Network : undefined;
  const cidrs = [...(v4 ? [v4] : []), ...(v6 ? [v6] : [])];
  const node6 = objects.nodeAnnotated(PUBLIC_IP6);
  const ipv6: Found<boolean> | undefined = conf && cm ? { value: conf.EnableIPv6 === true, source: `${where(cm)} net-conf.json EnableIPv6` }
    : node6 ? { value: true, source: `node ${node6.metadata.name} annotation ${PUBLIC_IP6}` } : undefined;
  return {
    configuredBy: cm ? where(cm) : node ? `node ${node.metadata.name} annotation ${BACKEND}` : undefined,
    runningAs: () => { const w = objects.workload(/flannel/); return w && where(w); },
    backend,
    ...(ipv6 ? { ipv6 } : {}),
    ...(cidrs.length ? { clusterCIDRs: { value: cidrs, source: `${where(cm!)} net-conf.json ${v4 && v6 ? 'Network, IPv6Network' : v6 ? 'IPv6Network' : 'Network'}` } } : {}),
    bridge: { value: 'cni0', source: 'flannel CNI default bridge name' },
    masquerade: { value: true, source: 'flannel default (flanneld --ip-masq; override with settings.masquerade)' },
  };
}

/**
 * A node's flannel backend and its public address of a family (annotations `public-ip` /
 * `public-ipv6`, falling back to the cluster backend and the InternalIP of that family).
 */
export function flannelNodeInfo(node: K8sObject, cfg: PluginConfig, family: Family = 4): { backend: Found<string>; publicIP?: Found<string> } {
  const a = annotations(node);
  const backend = a[BACKEND] && !cfg.backend?.source.startsWith('settings')
    ? { value: a[BACKEND].toLowerCase(), source: `node ${node.metadata.name} annotation ${BACKEND}` }
    : cfg.backend ?? { value: 'vxlan', source: 'flannel default' };
  const key = family === 6 ? PUBLIC_IP6 : PUBLIC_IP;
  const pub = a[key];
  if (pub) return { backend, publicIP: { value: pub, source: `node ${node.metadata.name} annotation ${key}` } };
  const internal = internalIP(node, family);
  return internal ? { backend, publicIP: { value: internal, source: `node ${node.metadata.name} InternalIP (no ${key} annotation)` } } : { backend };
}

function nodePodCIDR(node: K8sObject, family: Family): string | undefined {
  const spec = (node.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
  const all = [...(spec.podCIDRs ?? []), ...(spec.podCIDR ? [spec.podCIDR] : [])];
  return all.find((c) => c.includes(':') === (family === 6));
}

/** flannel programs IPv6 only with EnableIPv6 (or, without its ConfigMap, public-ipv6 annotations). */
function programs(cfg: PluginConfig, family: Family): boolean {
  return family === 4 || cfg.ipv6?.value === true;
}

export const flannel: Plugin = {
  name: 'flannel',
  read,
  localRoute(cfg, { dst, podCIDR }) {
    if (!cfg.bridge || !podCIDR || !programs(cfg, familyOf(dst))) return undefined;
    return { prefix: podCIDR, dev: cfg.bridge.value, why: `flannel: this node's pod CIDR on the bridge (${cfg.bridge.source})` };
  },
  remoteRoute(cfg, { dst, node, uplink }): ExpectedRoute | undefined {
    const family = familyOf(dst);
    if (!programs(cfg, family)) return undefined;
    const name = node.metadata.name;
    const cidr = nodePodCIDR(node, family);
    const info = flannelNodeInfo(node, cfg, family);
    if (!cidr) return undefined;
    const v6 = family === 6 ? ` (IPv6: ${cfg.ipv6!.source})` : '';
    if (info.backend.value === 'host-gw') {
      if (!info.publicIP) return undefined;
      return { prefix: cidr, gateway: info.publicIP.value, dev: uplink, why: `flannel host-gw (${info.backend.source})${v6}: node ${name}'s pod CIDR via its public IP (${info.publicIP.source}) on the uplink` };
    }
    if (info.backend.value === 'vxlan') {
      const p = parsePrefix(cidr, family);
      if (!p) return undefined;
      const vtep = formatPrefix(p).split('/')[0];
      const t = family === 6 ? VXLAN6 : VXLAN;
      return { prefix: cidr, gateway: vtep, dev: t.dev, onlink: true, overhead: t.overhead, why: `flannel vxlan (${info.backend.source})${v6}: node ${name}'s pod CIDR via its VTEP address (the CIDR's network address) on ${t.dev}` };
    }
    return undefined;
  },
  tunnel: (cfg) => (cfg.backend?.value === 'vxlan' ? VXLAN : undefined),
  unmasqueraded: SuspicionLevel.CRITICAL,
};
