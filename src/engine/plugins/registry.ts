// The network plugins netpath knows, in detection precedence: when several are found, the first
// whose configuration is in the snapshot wins, then the first whose workload alone is. The
// fallback stands in when none is found or settings name an unknown CNI. Adding a CNI: one module
// implementing Plugin (plugin.ts) and one entry here.
import { calico } from './calico';
import { flannel } from './flannel';
import { generic, unknownPluginNote } from './generic';
import type { Plugin } from './plugin';

export class PluginRegistry {
  constructor(
    /** In precedence order. */
    readonly plugins: readonly Plugin[],
    readonly fallback: Plugin,
    /** The note when settings name a CNI no registered plugin covers. */
    readonly unknownNote: (requested: string) => string,
  ) {}

  /** Every plugin, the fallback last. */
  get all(): Plugin[] {
    return [...this.plugins, this.fallback];
  }

  /** The plugin called `name` (lower case), the fallback included. */
  byName(name: string): Plugin | undefined {
    return this.all.find((p) => p.name === name);
  }
}

export const plugins = new PluginRegistry([flannel, calico], generic, unknownPluginNote);
