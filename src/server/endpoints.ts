// What the pickers and the settings view need from a source: its pods, services, nodes and
// namespaces (netpath/listEndpoints) and its detected settings with overrides (netpath/clusterInfo).
import { ClusterCache } from '../engine/k8s/cache';
import type { NetpathSnapshot, SnapshotSettings } from '../engine/snapshot/types';
import type { ClusterInfoResult, ListEndpointsResult, SettingOverrides } from '../shared/protocol';

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
    })),
    services: cache.services.map((s) => ({
      namespace: s.namespace,
      name: s.name,
      type: s.type,
      clusterIPs: s.clusterIPs,
      ports: s.ports.map((p) => ({ port: p.port, protocol: p.protocol, name: p.name || undefined })),
    })),
    nodes: cache.nodes.map((n) => ({ name: n.name, addresses: [...new Set(n.addresses.map((a) => a.address))] })),
    namespaces: cache.namespaces.map((n) => n.name),
  };
}

/** The snapshot's settings with the user's overrides applied (a fresh object). */
export function effectiveSettings(detected: SnapshotSettings, overrides: SettingOverrides | undefined): { effective: SnapshotSettings; overridden: string[] } {
  const effective: SnapshotSettings = { ...detected };
  const overridden: string[] = [];
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === undefined) continue;
    effective[k] = v;
    overridden.push(k);
  }
  return { effective, overridden: overridden.sort() };
}

export function clusterInfo(snapshot: NetpathSnapshot, label: string, overrides: SettingOverrides | undefined): ClusterInfoResult {
  const { effective, overridden } = effectiveSettings(snapshot.settings, overrides);
  const o = snapshot.objects;
  return {
    sourceLabel: label,
    capturedAt: snapshot.capturedAt,
    detected: snapshot.settings,
    effective,
    overridden,
    counts: { nodes: o.nodes.length, pods: o.pods.length, services: o.services.length, networkPolicies: o.networkPolicies.length, dumps: Object.keys(snapshot.dumps).length },
    dumpedNodes: Object.keys(snapshot.dumps).sort(),
  };
}
