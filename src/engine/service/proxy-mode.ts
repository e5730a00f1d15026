// kube-proxy's mode on a node: `settings.proxyMode`, else the `kube-proxy` ConfigMap's
// `config.conf` `mode`, else what the node's own rules show (an IPVS table with virtual servers or
// a `kube-ipvs0` device → ipvs; a KUBE-SERVICES chain → iptables; nft table `kube-proxy` → nftables).
import { parse as parseYaml } from 'yaml';
import type { ClusterView } from '../snapshot/types';
import type { Ruleset } from '../netstack/iptables/model';
import type { NetNS } from '../netstack/netns';
import type { Found } from '../plugins/detect';

export type ProxyMode = 'iptables' | 'ipvs' | 'nftables' | 'unknown';

/** The cluster-wide mode, when the settings or the ConfigMap say it. */
export function configuredProxyMode(s: ClusterView): Found<ProxyMode> | undefined {
  const set = s.settings.proxyMode;
  if (typeof set === 'string' && set) return { value: norm(set), source: 'settings.proxyMode' };
  const cm = s.objects.configMaps.find((c) => c.metadata.name === 'kube-proxy' && c.metadata.namespace === 'kube-system');
  const text = (cm?.data as Record<string, unknown> | undefined)?.['config.conf'];
  if (typeof text !== 'string') return undefined;
  let mode: unknown;
  try {
    mode = (parseYaml(text) as { mode?: unknown } | null)?.mode;
  } catch {
    return undefined;
  }
  // An empty mode means the platform default: iptables on Linux.
  if (mode === '' || mode === undefined || mode === null) return { value: 'iptables', source: 'ConfigMap kube-system/kube-proxy config.conf (mode empty: the Linux default)' };
  return typeof mode === 'string' ? { value: norm(mode), source: 'ConfigMap kube-system/kube-proxy config.conf mode' } : undefined;
}

function norm(m: string): ProxyMode {
  const v = m.toLowerCase();
  return v === 'iptables' || v === 'ipvs' || v === 'nftables' ? v : 'unknown';
}

/** The mode a node's rules show. */
export function proxyModeFromRules(ns: NetNS): Found<ProxyMode> | undefined {
  const ipvs = ns.info.ipvs;
  if (typeof ipvs === 'string' && /^-A /m.test(ipvs)) return { value: 'ipvs', source: `${ns.label}: IPVS virtual servers in ipvsadm -Sn` };
  if (ns.interface('kube-ipvs0')) return { value: 'ipvs', source: `${ns.label}: kube-ipvs0 device` };
  // An IPv6-only node has kube-proxy's chains in ip6tables alone (asked only when dumped: a
  // missing ip6tables dump is no problem on an IPv4 node).
  const kubeServices = (rs: Ruleset[]) => rs.some((r) => r.tables.some((t) => t.name === 'nat' && t.chains.some((c) => c.name === 'KUBE-SERVICES')));
  if (kubeServices(ns.rulesets(4) ?? [])) return { value: 'iptables', source: `${ns.label}: nat/KUBE-SERVICES chain` };
  if (ns.info.ip6tables && kubeServices(ns.rulesets(6) ?? [])) return { value: 'iptables', source: `${ns.label}: ip6tables nat/KUBE-SERVICES chain` };
  const nft = JSON.stringify(ns.info.nftables ?? '');
  if (/"table"\s*:\s*\{[^}]*"name"\s*:\s*"kube-proxy"/.test(nft)) return { value: 'nftables', source: `${ns.label}: nftables table kube-proxy` };
  return undefined;
}
