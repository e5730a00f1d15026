// Which CNI plugin runs the cluster and how it is configured, found from the snapshot's objects
// (ConfigMaps, node annotations, DaemonSets/pods, Calico IPPool CRDs) — every value with how it
// was found, and `snapshot.settings` overriding each detected value. Pure: no dump is read here
// except where a value can only come from a node (the uplink, see uplink.ts).
import { parse as parseYaml } from 'yaml';
import type { ClusterView, K8sObject } from '../snapshot/types';
import { parsePrefix } from '../netstack/ip';

export type PluginName = 'flannel' | 'calico' | 'generic';

/** A configuration value and how it was found (`settings.backend`, `ConfigMap kube-flannel/kube-flannel-cfg net-conf.json`). */
export interface Found<T> {
  value: T;
  source: string;
}

export type CalicoMode = 'Always' | 'CrossSubnet' | 'Never';

export interface CalicoPool {
  cidr: string;
  ipipMode: CalicoMode;
  vxlanMode: CalicoMode;
  natOutgoing: boolean;
  source: string;
}

export interface PluginConfig {
  plugin: Found<PluginName>;
  /** flannel: host-gw | vxlan | …; calico: bgp | ipip | vxlan (the default pool's mode); generic: none. */
  backend?: Found<string>;
  /** The pod network as a whole (flannel `Network`, kube-proxy `clusterCIDR`, Calico pools, node podCIDRs). */
  clusterCIDRs: Found<string[]>;
  /** The bridge pods hang off (flannel `cni0`); undefined for routed CNIs. */
  bridge?: Found<string>;
  /** Does the plugin masquerade pod traffic leaving the cluster? */
  masquerade: Found<boolean>;
  /** Per-node uplink overrides (`settings.uplink`: a name, or node → name). */
  uplinkOverride?: Found<string | Record<string, string>>;
  calicoPools: CalicoPool[];
  notes: string[];
}

const FLANNEL_BACKEND = 'flannel.alpha.coreos.com/backend-type';
export const FLANNEL_PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip';
export const CALICO_IPV4 = 'projectcalico.org/IPv4Address';
export const CALICO_VXLAN_ADDR = 'projectcalico.org/IPv4VXLANTunnelAddr';
export const CALICO_IPIP_ADDR = 'projectcalico.org/IPv4IPIPTunnelAddr';

function annotations(o: K8sObject): Record<string, string> {
  return o.metadata.annotations ?? {};
}

function where(o: K8sObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** Every object of the snapshot, whatever list it sits in (IPPools and DaemonSets have no list of their own). */
function allObjects(s: ClusterView): K8sObject[] {
  const out: K8sObject[] = [];
  // No spread: a 150k-pod list as call arguments overflows the stack.
  for (const list of Object.values(s.objects)) if (Array.isArray(list)) for (const o of list as K8sObject[]) out.push(o);
  return out;
}

function flannelConfigMap(s: ClusterView): K8sObject | undefined {
  return s.objects.configMaps.find((c) => c.metadata.name === 'kube-flannel-cfg' && ['kube-flannel', 'kube-system'].includes(c.metadata.namespace ?? ''))
    ?? s.objects.configMaps.find((c) => c.metadata.name === 'kube-flannel-cfg');
}

interface FlannelNetConf {
  Network?: string;
  Backend?: { Type?: string };
}

function flannelNetConf(cm: K8sObject, notes: string[]): FlannelNetConf | undefined {
  const text = (cm.data as Record<string, string> | undefined)?.['net-conf.json'];
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as FlannelNetConf) : undefined;
  } catch (e) {
    notes.push(`${where(cm)}: net-conf.json is not JSON (${(e as Error).message}); flannel settings not read from it`);
    return undefined;
  }
}

function calicoMode(v: unknown): CalicoMode {
  return v === 'Always' || v === 'CrossSubnet' ? v : 'Never';
}

/** IPPools: `settings.calicoIPPools` (objects or `{cidr, ipipMode, vxlanMode, natOutgoing}`), else CRDs found among the objects. */
function calicoPools(s: ClusterView, objects: K8sObject[]): CalicoPool[] {
  const fromSpec = (spec: Record<string, unknown>, source: string): CalicoPool | undefined => {
    const cidr = typeof spec.cidr === 'string' && parsePrefix(spec.cidr) ? spec.cidr : undefined;
    if (!cidr) return undefined;
    return { cidr, ipipMode: calicoMode(spec.ipipMode), vxlanMode: calicoMode(spec.vxlanMode), natOutgoing: spec.natOutgoing === true, source };
  };
  const set = s.settings.calicoIPPools;
  if (Array.isArray(set)) {
    return set.flatMap((p, i) => {
      const o = p as Record<string, unknown>;
      const spec = (o.spec && typeof o.spec === 'object' ? o.spec : o) as Record<string, unknown>;
      const pool = fromSpec(spec, `settings.calicoIPPools[${i}]`);
      return pool ? [pool] : [];
    });
  }
  return objects
    .filter((o) => o.kind === 'IPPool' && /^(crd\.)?projectcalico\.org\//.test(o.apiVersion))
    .flatMap((o) => {
      const pool = fromSpec((o.spec ?? {}) as Record<string, unknown>, where(o));
      return pool ? [pool] : [];
    });
}

function kubeProxyClusterCIDR(s: ClusterView): Found<string[]> | undefined {
  const cm = s.objects.configMaps.find((c) => c.metadata.name === 'kube-proxy' && c.metadata.namespace === 'kube-system');
  const text = (cm?.data as Record<string, string> | undefined)?.['config.conf'];
  if (!cm || typeof text !== 'string') return undefined;
  try {
    const conf = parseYaml(text) as { clusterCIDR?: unknown } | null;
    const cidrs = typeof conf?.clusterCIDR === 'string' ? conf.clusterCIDR.split(',').map((x) => x.trim()).filter((x) => parsePrefix(x)) : [];
    return cidrs.length ? { value: cidrs, source: `${where(cm)} config.conf clusterCIDR` } : undefined;
  } catch {
    return undefined;
  }
}

function stringList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return v.split(',').map((x) => x.trim()).filter(Boolean);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

/** The plugin and its settings. `snapshot.settings` wins over everything detected. */
export function detectPlugin(s: ClusterView): PluginConfig {
  const notes: string[] = [];
  const objects = allObjects(s);
  const nodes = s.objects.nodes;
  const flannelCm = flannelConfigMap(s);
  const netConf = flannelCm ? flannelNetConf(flannelCm, notes) : undefined;
  const pools = calicoPools(s, objects);
  const calicoCm = s.objects.configMaps.find((c) => c.metadata.name === 'calico-config');
  const named = (re: RegExp, kinds: string[]) => objects.find((o) => kinds.includes(o.kind) && re.test(o.metadata.name));

  // ---- which plugin
  let plugin: Found<PluginName> | undefined;
  const setPlugin = s.settings.networkPlugin;
  if (typeof setPlugin === 'string' && setPlugin) {
    const v = setPlugin.toLowerCase();
    plugin = { value: v === 'flannel' || v === 'calico' ? v : 'generic', source: 'settings.networkPlugin' };
    if (plugin.value === 'generic' && v !== 'generic') notes.push(`network plugin "${setPlugin}" has no dedicated checks: the generic plugin follows routes, veths and bridges and runs every netstack check`);
  }
  const flannelNode = nodes.find((n) => annotations(n)[FLANNEL_BACKEND]);
  const calicoNode = nodes.find((n) => annotations(n)[CALICO_IPV4]);
  plugin ??= flannelCm ? { value: 'flannel', source: where(flannelCm) }
    : flannelNode ? { value: 'flannel', source: `node ${flannelNode.metadata.name} annotation ${FLANNEL_BACKEND}` }
      : pools.length ? { value: 'calico', source: pools[0].source }
        : calicoNode ? { value: 'calico', source: `node ${calicoNode.metadata.name} annotation ${CALICO_IPV4}` }
          : calicoCm ? { value: 'calico', source: where(calicoCm) }
            : undefined;
  if (!plugin) {
    const ds = named(/flannel/, ['DaemonSet', 'Pod']) ?? named(/calico-node/, ['DaemonSet', 'Pod']);
    if (ds) plugin = { value: /flannel/.test(ds.metadata.name) ? 'flannel' : 'calico', source: where(ds) };
  }
  plugin ??= { value: 'generic', source: 'no flannel or calico configuration, annotation or DaemonSet in the snapshot' };

  // ---- backend
  let backend: Found<string> | undefined;
  if (typeof s.settings.backend === 'string' && s.settings.backend) backend = { value: s.settings.backend.toLowerCase(), source: 'settings.backend' };
  if (!backend && plugin.value === 'flannel') {
    const t = netConf?.Backend?.Type;
    if (typeof t === 'string' && t) backend = { value: t.toLowerCase(), source: `${where(flannelCm!)} net-conf.json Backend.Type` };
    else if (flannelNode) backend = { value: annotations(flannelNode)[FLANNEL_BACKEND].toLowerCase(), source: `node ${flannelNode.metadata.name} annotation ${FLANNEL_BACKEND}` };
    else backend = { value: 'vxlan', source: 'flannel default (no Backend.Type found)' };
  }
  if (!backend && plugin.value === 'calico') {
    const p = pools[0];
    if (p) backend = { value: p.vxlanMode !== 'Never' ? 'vxlan' : p.ipipMode !== 'Never' ? 'ipip' : 'bgp', source: `${p.source} ipipMode/vxlanMode` };
    else {
      const vx = nodes.find((n) => annotations(n)[CALICO_VXLAN_ADDR]);
      const ipip = nodes.find((n) => annotations(n)[CALICO_IPIP_ADDR]);
      const cb = (calicoCm?.data as Record<string, string> | undefined)?.calico_backend;
      if (vx) backend = { value: 'vxlan', source: `node ${vx.metadata.name} annotation ${CALICO_VXLAN_ADDR}` };
      else if (ipip) backend = { value: 'ipip', source: `node ${ipip.metadata.name} annotation ${CALICO_IPIP_ADDR}` };
      else if (cb === 'vxlan') backend = { value: 'vxlan', source: `${where(calicoCm!)} calico_backend` };
      else backend = { value: 'bgp', source: cb ? `${where(calicoCm!)} calico_backend ${cb}, no IPIP tunnel address on any node` : 'calico default (no IPPool, no tunnel address annotation)' };
    }
  }

  // ---- cluster CIDRs
  let clusterCIDRs: Found<string[]> | undefined;
  const setCidrs = stringList(s.settings.clusterCIDRs) ?? stringList(s.settings.clusterCIDR);
  if (setCidrs?.length) clusterCIDRs = { value: setCidrs, source: s.settings.clusterCIDRs !== undefined ? 'settings.clusterCIDRs' : 'settings.clusterCIDR' };
  if (!clusterCIDRs && plugin.value === 'flannel' && typeof netConf?.Network === 'string' && parsePrefix(netConf.Network)) {
    clusterCIDRs = { value: [netConf.Network], source: `${where(flannelCm!)} net-conf.json Network` };
  }
  if (!clusterCIDRs && plugin.value === 'calico' && pools.length) clusterCIDRs = { value: pools.map((p) => p.cidr), source: pools.map((p) => p.source).join(', ') };
  clusterCIDRs ??= kubeProxyClusterCIDR(s);
  if (!clusterCIDRs && s.settings.podCIDRs?.length) clusterCIDRs = { value: [...s.settings.podCIDRs], source: 'settings.podCIDRs (the nodes\' pod CIDRs)' };
  clusterCIDRs ??= { value: [], source: 'not found' };

  // ---- bridge
  let bridge: Found<string> | undefined;
  if (typeof s.settings.bridge === 'string' && s.settings.bridge) bridge = { value: s.settings.bridge, source: 'settings.bridge' };
  else if (plugin.value === 'flannel') bridge = { value: 'cni0', source: 'flannel CNI default bridge name' };

  // ---- masquerade
  let masquerade: Found<boolean>;
  if (typeof s.settings.masquerade === 'boolean') masquerade = { value: s.settings.masquerade, source: 'settings.masquerade' };
  else if (plugin.value === 'calico' && pools.length) {
    masquerade = { value: pools.some((p) => p.natOutgoing), source: `IPPool natOutgoing (${pools.map((p) => `${p.cidr}: ${p.natOutgoing}`).join(', ')})` };
  } else if (plugin.value === 'generic') {
    masquerade = { value: true, source: 'assumed: pod IPs are rarely routable outside the cluster (override with settings.masquerade)' };
  } else {
    masquerade = { value: true, source: `${plugin.value} default (${plugin.value === 'flannel' ? 'flanneld --ip-masq' : 'IPPool natOutgoing'}; override with settings.masquerade)` };
  }

  const up = s.settings.uplink;
  const uplinkOverride = typeof up === 'string' || (up && typeof up === 'object' && !Array.isArray(up))
    ? { value: up as string | Record<string, string>, source: 'settings.uplink' } : undefined;

  return { plugin, ...(backend ? { backend } : {}), clusterCIDRs, ...(bridge ? { bridge } : {}), masquerade, ...(uplinkOverride ? { uplinkOverride } : {}), calicoPools: pools, notes };
}

/** A node's flannel backend and VTEP address (annotations, falling back to the cluster backend and the InternalIP). */
export function flannelNodeInfo(node: K8sObject, cfg: PluginConfig): { backend: Found<string>; publicIP?: Found<string> } {
  const a = annotations(node);
  const backend = a[FLANNEL_BACKEND] && !cfg.backend?.source.startsWith('settings')
    ? { value: a[FLANNEL_BACKEND].toLowerCase(), source: `node ${node.metadata.name} annotation ${FLANNEL_BACKEND}` }
    : cfg.backend ?? { value: 'vxlan', source: 'flannel default' };
  const pub = a[FLANNEL_PUBLIC_IP];
  if (pub) return { backend, publicIP: { value: pub, source: `node ${node.metadata.name} annotation ${FLANNEL_PUBLIC_IP}` } };
  const internal = internalIP(node);
  return internal ? { backend, publicIP: { value: internal, source: `node ${node.metadata.name} InternalIP (no ${FLANNEL_PUBLIC_IP} annotation)` } } : { backend };
}

export function internalIP(node: K8sObject): string | undefined {
  const addrs = ((node.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? []);
  return addrs.find((x) => x.type === 'InternalIP')?.address;
}

/** A node's Calico address (`projectcalico.org/IPv4Address`, CIDR form) and VXLAN tunnel address. */
export function calicoNodeInfo(node: K8sObject): { ip?: Found<string>; vxlanTunnel?: Found<string> } {
  const a = annotations(node);
  const out: { ip?: Found<string>; vxlanTunnel?: Found<string> } = {};
  if (a[CALICO_IPV4]) out.ip = { value: a[CALICO_IPV4].split('/')[0], source: `node ${node.metadata.name} annotation ${CALICO_IPV4}` };
  else {
    const internal = internalIP(node);
    if (internal) out.ip = { value: internal, source: `node ${node.metadata.name} InternalIP` };
  }
  if (a[CALICO_VXLAN_ADDR]) out.vxlanTunnel = { value: a[CALICO_VXLAN_ADDR], source: `node ${node.metadata.name} annotation ${CALICO_VXLAN_ADDR}` };
  return out;
}
