// Flags that override what netpath detects (network plugin, backend, kube-proxy mode, CIDRs,
// uplink, …): each becomes a key of the snapshot's `settings`, which wins over detection.
import { parsePrefix } from '../engine/netstack/ip';
import { plugins } from '../engine/plugins/registry';
import { UsageError } from './command';
import { echoed } from '../shared/display';

export const settingsFlagOptions = {
  'network-plugin': { type: 'string' },
  backend: { type: 'string' },
  'proxy-mode': { type: 'string' },
  'cluster-cidr': { type: 'string' },
  'service-cidr': { type: 'string' },
  uplink: { type: 'string' },
  bridge: { type: 'string' },
  masquerade: { type: 'string' },
  'cloud-provider': { type: 'string' },
} as const;

const pluginNames = plugins.all.map((p) => p.name);

export const settingsFlagsUsage = `  --network-plugin P    ${pluginNames.slice(0, -1).join(', ')} or ${pluginNames.at(-1)} (default: detected)
  --backend B           plugin backend: host-gw, vxlan (flannel); bgp, ipip, vxlan (calico)
  --proxy-mode M        kube-proxy mode: iptables, ipvs or nftables (default: detected)
  --cluster-cidr C[,C]  pod CIDRs of the cluster; --service-cidr C[,C] the service CIDRs
  --uplink IF           the nodes' uplink interface (default: the one holding the node's InternalIP)
  --bridge NAME         the CNI bridge (flannel: cni0)
  --masquerade BOOL     whether pod traffic leaving the cluster is masqueraded (true/false)
  --cloud-provider P    where the cluster runs (default: from the nodes' spec.providerID)`;

const ENUMS: Record<string, readonly string[]> = {
  'network-plugin': pluginNames,
  'proxy-mode': ['iptables', 'ipvs', 'nftables'],
  masquerade: ['true', 'false'],
};

function cidrs(flag: string, v: string): string[] {
  const list = v.split(',').map((x) => x.trim()).filter(Boolean);
  for (const c of list) if (!c.includes('/') || !parsePrefix(c)) throw new UsageError(`--${flag}: "${echoed(c)}" is not a CIDR (address/length)`);
  if (!list.length) throw new UsageError(`--${flag} needs at least one CIDR`);
  return list;
}

/** The overrides the flags ask for, as snapshot settings. */
export function settingsOverrides(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, allowed] of Object.entries(ENUMS)) {
    const v = values[flag];
    if (v !== undefined && !allowed.includes(String(v).toLowerCase())) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, not "${echoed(String(v))}"`);
  }
  const str = (flag: string) => (values[flag] === undefined ? undefined : String(values[flag]));
  if (str('network-plugin')) out.networkPlugin = str('network-plugin')!.toLowerCase();
  if (str('backend')) out.backend = str('backend')!.toLowerCase();
  if (str('proxy-mode')) out.proxyMode = str('proxy-mode')!.toLowerCase();
  if (str('cluster-cidr')) out.clusterCIDRs = cidrs('cluster-cidr', str('cluster-cidr')!);
  if (str('service-cidr')) out.serviceCIDRs = cidrs('service-cidr', str('service-cidr')!);
  if (str('uplink')) out.uplink = str('uplink');
  if (str('bridge')) out.bridge = str('bridge');
  if (str('masquerade')) out.masquerade = str('masquerade')!.toLowerCase() === 'true';
  if (str('cloud-provider')) out.cloudProvider = str('cloud-provider')!.toLowerCase();
  return out;
}
