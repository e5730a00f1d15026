// Which CNI plugin runs the cluster and how it is configured: every registered plugin reads its
// own objects (plugin modules, registry.ts), the registry's precedence picks one, and
// `snapshot.settings` overrides the pick and each value. Values no plugin provides come from
// kube-proxy's clusterCIDR and the nodes' pod CIDRs. Pure: no dump is read here (the uplink, the
// one value only a node can tell, is uplink.ts).
import { parse as parseYaml } from 'yaml';
import { parsePrefix } from '../netstack/ip';
import type { Found, PluginConfig } from './config';
import { ObjectView, where, type DetectionInput } from './objects';
import type { Plugin, PluginReading } from './plugin';
import { plugins, type PluginRegistry } from './registry';

export type { Found, PluginConfig } from './config';

function kubeProxyClusterCIDR(objects: ObjectView): Found<string[]> | undefined {
  const cm = objects.configMaps.find((c) => c.metadata.name === 'kube-proxy' && c.metadata.namespace === 'kube-system');
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

/** "a", "a or b", "a, b or c". */
function either(names: string[]): string {
  return names.length < 3 ? names.join(' or ') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/** The plugin settings name, else the first configured, else the first running, else the fallback. */
function choose(s: DetectionInput, registry: PluginRegistry, readings: Map<Plugin, PluginReading>, notes: string[]): { plugin: Plugin; source: string } {
  const set = s.settings.networkPlugin;
  if (typeof set === 'string' && set) {
    const known = registry.byName(set.toLowerCase());
    if (!known) notes.push(registry.unknownNote(set));
    return { plugin: known ?? registry.fallback, source: 'settings.networkPlugin' };
  }
  for (const p of registry.plugins) {
    const by = readings.get(p)!.configuredBy;
    if (by) return { plugin: p, source: by };
  }
  for (const p of registry.plugins) {
    const by = readings.get(p)!.runningAs();
    if (by) return { plugin: p, source: by };
  }
  return { plugin: registry.fallback, source: `no ${either(registry.plugins.map((p) => p.name))} configuration, annotation or DaemonSet in the snapshot` };
}

/** The plugin and its settings. `snapshot.settings` wins over everything detected. */
export function detectPlugin(s: DetectionInput, registry: PluginRegistry = plugins): PluginConfig {
  const notes: string[] = [];
  const objects = new ObjectView(s, notes);
  // Every plugin reads, even when settings pick one: what a reading notes (an unparsable
  // ConfigMap) is worth showing whichever plugin runs, and in registry order.
  const readings = new Map(registry.all.map((p) => [p, p.read(objects)] as const));
  const chosen = choose(s, registry, readings, notes);
  const reading = readings.get(chosen.plugin)!;
  const set = s.settings;

  const backend = typeof set.backend === 'string' && set.backend ? { value: set.backend.toLowerCase(), source: 'settings.backend' } : reading.backend;

  const setCidrs = stringList(set.clusterCIDRs) ?? stringList(set.clusterCIDR);
  const clusterCIDRs = (setCidrs?.length ? { value: setCidrs, source: set.clusterCIDRs !== undefined ? 'settings.clusterCIDRs' : 'settings.clusterCIDR' } : undefined)
    ?? reading.clusterCIDRs
    ?? kubeProxyClusterCIDR(objects)
    ?? (set.podCIDRs?.length ? { value: [...set.podCIDRs], source: 'settings.podCIDRs (the nodes\' pod CIDRs)' } : undefined)
    ?? { value: [], source: 'not found' };

  const bridge = typeof set.bridge === 'string' && set.bridge ? { value: set.bridge, source: 'settings.bridge' } : reading.bridge;
  const masquerade = typeof set.masquerade === 'boolean' ? { value: set.masquerade, source: 'settings.masquerade' } : reading.masquerade;

  const up = set.uplink;
  const uplinkOverride = typeof up === 'string' || (up && typeof up === 'object' && !Array.isArray(up))
    ? { value: up as string | Record<string, string>, source: 'settings.uplink' } : undefined;

  return {
    plugin: { value: chosen.plugin.name, source: chosen.source },
    ...(backend ? { backend } : {}),
    clusterCIDRs,
    ...(bridge ? { bridge } : {}),
    masquerade,
    ...(reading.ipv6 ? { ipv6: reading.ipv6 } : {}),
    ...(uplinkOverride ? { uplinkOverride } : {}),
    calicoPools: objects.calicoPools,
    notes,
  };
}
