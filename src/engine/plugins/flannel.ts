// flannel: recognised by its kube-flannel-cfg ConfigMap (net-conf.json holds the pod network and
// the backend), else by its node annotations, else by a flannel DaemonSet or pod. Pods hang off
// the cni0 bridge; a node reaches another node's pod CIDR via that node's public IP on the uplink
// (host-gw), or via the CIDR's network address, the remote VTEP, on flannel.1 (vxlan).
import type { K8sObject } from '../snapshot/types';
import { formatPrefix, parsePrefix } from '../netstack/ip';
import { SuspicionLevel } from '../model/suspicion';
import type { Found, PluginConfig } from './config';
import type { ExpectedRoute } from './expected';
import { annotations, internalIP, where, type ObjectView } from './objects';
import type { Plugin, PluginReading, Tunnel } from './plugin';

const BACKEND = 'flannel.alpha.coreos.com/backend-type';
const PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip';
const VXLAN: Tunnel = { dev: 'flannel.1', overhead: 50 };

interface NetConf {
  Network?: string;
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
  return {
    configuredBy: cm ? where(cm) : node ? `node ${node.metadata.name} annotation ${BACKEND}` : undefined,
    runningAs: () => { const w = objects.workload(/flannel/); return w && where(w); },
    backend,
    ...(typeof conf?.Network === 'string' && parsePrefix(conf.Network) ? { clusterCIDRs: { value: [conf.Network], source: `${where(cm!)} net-conf.json Network` } } : {}),
    bridge: { value: 'cni0', source: 'flannel CNI default bridge name' },
    masquerade: { value: true, source: 'flannel default (flanneld --ip-masq; override with settings.masquerade)' },
  };
}

/** A node's flannel backend and VTEP address (annotations, falling back to the cluster backend and the InternalIP). */
export function flannelNodeInfo(node: K8sObject, cfg: PluginConfig): { backend: Found<string>; publicIP?: Found<string> } {
  const a = annotations(node);
  const backend = a[BACKEND] && !cfg.backend?.source.startsWith('settings')
    ? { value: a[BACKEND].toLowerCase(), source: `node ${node.metadata.name} annotation ${BACKEND}` }
    : cfg.backend ?? { value: 'vxlan', source: 'flannel default' };
  const pub = a[PUBLIC_IP];
  if (pub) return { backend, publicIP: { value: pub, source: `node ${node.metadata.name} annotation ${PUBLIC_IP}` } };
  const internal = internalIP(node);
  return internal ? { backend, publicIP: { value: internal, source: `node ${node.metadata.name} InternalIP (no ${PUBLIC_IP} annotation)` } } : { backend };
}

function nodePodCIDR(node: K8sObject): string | undefined {
  const spec = (node.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
  return spec.podCIDRs?.find((c) => !c.includes(':')) ?? spec.podCIDR;
}

export const flannel: Plugin = {
  name: 'flannel',
  read,
  localRoute(cfg, { podCIDR }) {
    if (!cfg.bridge || !podCIDR) return undefined;
    return { prefix: podCIDR, dev: cfg.bridge.value, why: `flannel: this node's pod CIDR on the bridge (${cfg.bridge.source})` };
  },
  remoteRoute(cfg, { node, uplink }): ExpectedRoute | undefined {
    const name = node.metadata.name;
    const cidr = nodePodCIDR(node);
    const info = flannelNodeInfo(node, cfg);
    if (!cidr) return undefined;
    if (info.backend.value === 'host-gw') {
      if (!info.publicIP) return undefined;
      return { prefix: cidr, gateway: info.publicIP.value, dev: uplink, why: `flannel host-gw (${info.backend.source}): node ${name}'s pod CIDR via its public IP (${info.publicIP.source}) on the uplink` };
    }
    if (info.backend.value === 'vxlan') {
      const p = parsePrefix(cidr);
      if (!p) return undefined;
      const vtep = formatPrefix(p).split('/')[0];
      return { prefix: cidr, gateway: vtep, dev: VXLAN.dev, onlink: true, overhead: VXLAN.overhead, why: `flannel vxlan (${info.backend.source}): node ${name}'s pod CIDR via its VTEP address (the CIDR's network address) on flannel.1` };
    }
    return undefined;
  },
  tunnel: (cfg) => (cfg.backend?.value === 'vxlan' ? VXLAN : undefined),
  unmasqueraded: SuspicionLevel.CRITICAL,
};
