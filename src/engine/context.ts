// Context (seed): the settings of one run — what the snapshot or the live cluster states, and what
// the user overrode from the CLI or VS Code — with where each value came from. Every front end
// builds it through `createContext`, so an override means the same thing whichever way it
// arrives (a snapshot run and a live run with the same overrides see the same settings).
import type { SnapshotSettings } from './snapshot/types';

/** Who set a value: the snapshot (or the live cluster's objects), or the user. */
export type SettingOrigin = 'snapshot' | 'cli' | 'vscode';

export interface SettingsLayer {
  origin: SettingOrigin;
  values: Readonly<Record<string, unknown>>;
}

export interface Context {
  /** The effective settings the engine reads (detection treats each key as winning over what it finds). */
  readonly settings: Readonly<SnapshotSettings>;
  /** Per effective key, the layer that set it last. */
  readonly origins: Readonly<Record<string, SettingOrigin>>;
  /** Keys a user layer set, sorted (as the user named them). */
  readonly overridden: readonly string[];
}

/**
 * The engine's name(s) for a key as a front end names it. VS Code's `podCIDRs` override is the
 * pod network as a whole (the engine's `clusterCIDRs`) as well as the nodes' pod CIDRs, and its
 * `nodeUplink` is the engine's `uplink`; the CLI's flags already use the engine's names.
 */
const aliases: Readonly<Record<string, readonly string[]>> = {
  podCIDRs: ['podCIDRs', 'clusterCIDRs'],
  nodeUplink: ['nodeUplink', 'uplink'],
};

/** Layers applied in order, later ones winning; `undefined` values are "not set" and skipped. */
export function createContext(...layers: SettingsLayer[]): Context {
  const settings: SnapshotSettings = {};
  const origins: Record<string, SettingOrigin> = {};
  const overridden = new Set<string>();
  for (const layer of layers) {
    for (const key of Object.keys(layer.values).sort()) {
      const value = layer.values[key];
      if (value === undefined) continue;
      for (const k of layer.origin === 'snapshot' ? [key] : aliases[key] ?? [key]) {
        settings[k] = Array.isArray(value) ? [...value] : value;
        origins[k] = layer.origin;
      }
      if (layer.origin !== 'snapshot') overridden.add(key);
    }
  }
  return { settings, origins, overridden: [...overridden].sort() };
}
