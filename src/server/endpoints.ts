// What the pickers and the settings view need from a source: its pods, services, nodes and
// namespaces (netpath/listEndpoints) and its detected settings with overrides (netpath/clusterInfo).
import { createContext } from '../engine/context';
import { ClusterCache } from '../engine/k8s/cache';
import type { NetpathSnapshot, SnapshotSettings } from '../engine/snapshot/types';
import { detectPlugin } from '../engine/plugins/detect';
import { configuredProxyMode } from '../engine/service/proxy-mode';
import { EndpointError, FamilyError, resolveEndpoint } from '../engine/k8s/resolve';
import type { Family } from '../engine/netstack/ip';
import type { ClusterInfoResult, DetectedValue, ListEndpointsResult, SettingOverrides } from '../shared/protocol';

/**
 * The families `value` (what choosing the item sends: `ns/pod`, `svc/ns/name`, `node/name`)
 * resolves in, asked of the engine's own resolution so that the pickers offer exactly the
 * families a diagnosis accepts (a hostNetwork pod has its node's, a SingleStack service one).
 */
function familiesOf(cache: ClusterCache, value: string): Family[] {
  return ([4, 6] as const).filter((family) => {
    try {
      resolveEndpoint(cache, value, { family });
      return true;
    } catch (e) {
      // No address of that family, or none at all (headless, ExternalName, a pod without IP).
      if (e instanceof FamilyError || e instanceof EndpointError) return false;
      throw e;
    }
  });
}

export function listEndpoints(snapshot: NetpathSnapshot): ListEndpointsResult {
  const cache = new ClusterCache(snapshot.objects);
  return {
    pods: cache.pods.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      ips: p.ips,
      node: p.nodeName,
      phase: p.phase,
      hostNetwork: p.hostNetwork,
      ports: p.containerPorts.map((c) => ({ port: c.port, protocol: c.protocol, name: c.name })),
      families: familiesOf(cache, `${p.namespace}/${p.name}`),
    })),
    services: cache.services.map((s) => ({
      namespace: s.namespace,
      name: s.name,
      type: s.type,
      clusterIPs: s.clusterIPs,
      ports: s.ports.map((p) => ({ port: p.port, protocol: p.protocol, name: p.name || undefined })),
      families: familiesOf(cache, `svc/${s.namespace}/${s.name}`),
    })),
    nodes: cache.nodes.map((n) => ({ name: n.name, addresses: [...new Set(n.addresses.map((a) => a.address))], families: familiesOf(cache, `node/${n.name}`) })),
    namespaces: cache.namespaces.map((n) => n.name),
  };
}

/** The snapshot's settings with the user's overrides applied: the run's Context, as diagnoses build it. */
export function effectiveSettings(detected: SnapshotSettings, overrides: SettingOverrides | undefined): { effective: SnapshotSettings; overridden: string[] } {
  const context = createContext({ origin: 'snapshot', values: detected }, { origin: 'vscode', values: { ...overrides } });
  return { effective: { ...context.settings }, overridden: [...context.overridden] };
}

/** What detection finds with these settings, each value with how it was found (the engine's own detection). */
export function detection(snapshot: NetpathSnapshot): DetectedValue[] {
  const cfg = detectPlugin(snapshot);
  const out: DetectedValue[] = [{ setting: 'networkPlugin', value: cfg.plugin.value, source: cfg.plugin.source }];
  if (cfg.backend) out.push({ setting: 'backend', value: cfg.backend.value, source: cfg.backend.source });
  out.push({ setting: 'clusterCIDRs', value: cfg.clusterCIDRs.value.join(', '), source: cfg.clusterCIDRs.source });
  if (cfg.bridge) out.push({ setting: 'bridge', value: cfg.bridge.value, source: cfg.bridge.source });
  out.push({ setting: 'masquerade', value: String(cfg.masquerade.value), source: cfg.masquerade.source });
  const proxy = configuredProxyMode(snapshot);
  out.push(proxy ? { setting: 'proxyMode', value: proxy.value, source: proxy.source } : { setting: 'proxyMode', value: 'per node', source: 'no kube-proxy ConfigMap: read from each node\'s rules during the diagnosis' });
  for (const k of ['podCIDRs', 'serviceCIDRs', 'nodeUplink'] as const) {
    const v = snapshot.settings[k];
    if (v !== undefined) out.push({ setting: k, value: Array.isArray(v) ? v.join(', ') : String(v), source: `settings.${k}` });
  }
  return out;
}

export function clusterInfo(snapshot: NetpathSnapshot, label: string, overrides: SettingOverrides | undefined): ClusterInfoResult {
  const { effective, overridden } = effectiveSettings(snapshot.settings, overrides);
  const o = snapshot.objects;
  return {
    detection: detection({ ...snapshot, settings: effective }),
    sourceLabel: label,
    capturedAt: snapshot.capturedAt,
    detected: snapshot.settings,
    effective,
    overridden,
    counts: { nodes: o.nodes.length, pods: o.pods.length, services: o.services.length, networkPolicies: o.networkPolicies.length, dumps: Object.keys(snapshot.dumps).length },
    dumpedNodes: Object.keys(snapshot.dumps).sort(),
  };
}
