// The live-cluster code (Kubernetes client, collector pods) is loaded on first use: bundled, it is
// initialised only when a command goes to a cluster, so a diagnosis of a snapshot file does not
// pay for it at startup.
type Live = typeof import('./live');

let live: Live | undefined;

export function liveModule(): Live {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (live ??= require('./live') as Live);
}
