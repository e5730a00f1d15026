// The generic plugin: what netpath does for a CNI it has no module for. It recognises nothing
// (it is the registry's fallback), expects no particular route, bridge or tunnel — the kernel walk
// follows whatever routes, veths and bridges the dumps hold and every netstack check runs — and
// it can only assume that pod traffic leaving the cluster needs masquerading, hence a WARNING.
import { SuspicionLevel } from '../model/suspicion';
import type { Plugin } from './plugin';

export const generic: Plugin = {
  name: 'generic',
  read: () => ({
    runningAs: () => undefined,
    masquerade: { value: true, source: 'assumed: pod IPs are rarely routable outside the cluster (override with settings.masquerade)' },
  }),
  localRoute: () => undefined,
  remoteRoute: () => undefined,
  tunnel: () => undefined,
  unmasqueraded: SuspicionLevel.WARNING,
};

/** The note when `settings.networkPlugin` names a CNI no module covers. */
export function unknownPluginNote(requested: string): string {
  return `network plugin "${requested}" has no dedicated checks: the generic plugin follows routes, veths and bridges and runs every netstack check`;
}
