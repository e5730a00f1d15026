// The extension's settings: keys and defaults in one place, read by the extension and checked
// against package.json's `contributes.configuration` by the in-VS Code suite.
import type { SettingOverrides } from './protocol';
import { limitDefaults, limitValueProblem, requestLimitNames, type RequestLimits } from './limits';

export const section = 'netpath';

export interface NetpathSettings {
  /** Overrides of detected values; empty/absent = use what was detected. */
  detected: SettingOverrides;
  collector: { image: string; namespace: string; timeoutSeconds: number };
  /** Overrides KUBECONFIG / the Kubernetes extension's kubeconfig. */
  kubeconfig: string;
  /** How many recent choices the pickers keep first. */
  recentLimit: number;
  /** Limits raised (or lowered) from their defaults (`netpath.limits.*`, application scope), sent with each request. */
  limits: RequestLimits;
}

export const defaults: NetpathSettings = {
  detected: {},
  collector: { image: 'nicolaka/netshoot:v0.13@sha256:a20c2531bf35436ed3766cd6cfe89d352b050ccc4d7005ce6400adf97503da1b', namespace: 'netpath-system', timeoutSeconds: 120 },
  kubeconfig: '',
  recentLimit: 8,
  limits: {},
};

/** Reads the settings through a `get(key)` (VS Code's WorkspaceConfiguration fits). */
export function readSettings(get: <T>(key: string) => T | undefined): NetpathSettings {
  const str = (k: string) => {
    const v = get<string>(k);
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  const list = (k: string) => {
    const v = get<string[]>(k);
    return Array.isArray(v) && v.length ? v.filter((x) => typeof x === 'string' && x.trim()).map((x) => x.trim()) : undefined;
  };
  const detected: SettingOverrides = {};
  const plugin = str('detected.networkPlugin');
  if (plugin) detected.networkPlugin = plugin;
  const backend = str('detected.backend');
  if (backend) detected.backend = backend;
  const proxy = str('detected.proxyMode');
  if (proxy) detected.proxyMode = proxy;
  const pod = list('detected.podCIDRs');
  if (pod) detected.podCIDRs = pod;
  const svc = list('detected.serviceCIDRs');
  if (svc) detected.serviceCIDRs = svc;
  const uplink = str('detected.nodeUplink');
  if (uplink) detected.nodeUplink = uplink;
  const limits: RequestLimits = {};
  for (const name of requestLimitNames) {
    const v = get<number>(`limits.${name}`);
    // A default is the engine's (or the cluster reader's) own: only a changed value travels; an invalid one is ignored.
    if (!limitValueProblem(v) && v !== limitDefaults[name]) limits[name] = v;
  }
  const timeout = get<number>('collector.timeoutSeconds');
  const recent = get<number>('recentLimit');
  return {
    detected,
    collector: {
      image: str('collector.image') ?? defaults.collector.image,
      namespace: str('collector.namespace') ?? defaults.collector.namespace,
      timeoutSeconds: typeof timeout === 'number' && timeout > 0 ? timeout : defaults.collector.timeoutSeconds,
    },
    kubeconfig: str('kubeconfig') ?? '',
    recentLimit: typeof recent === 'number' && recent >= 0 ? Math.floor(recent) : defaults.recentLimit,
    limits,
  };
}
