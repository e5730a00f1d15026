// The collector script's text, for `netpath collect` and for the collector pod's command.
// Bundles get it inlined by esbuild (scripts/build.mjs defines NETPATH_COLLECTOR_SCRIPT from
// collect.sh); from source (tsx, tests) it is read next to this file. One source of truth: collect.sh.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

declare const NETPATH_COLLECTOR_SCRIPT: string | undefined;

export function collectorScript(): string {
  if (typeof NETPATH_COLLECTOR_SCRIPT === 'string') return NETPATH_COLLECTOR_SCRIPT;
  return readFileSync(join(__dirname, 'collect.sh'), 'utf8');
}
