// Runs the netstack parsers (src/engine/netstack/) over each field of a converted netns, so
// that a dump the engine cannot read is reported at collection time — naming tool and line —
// instead of at diagnosis time. Fields without a parser yet are checked only for shape (JSON
// array/object), which convert.ts already did.
import type { CollectorError, NetNSInfo } from '../shared/dump';
import { ParseError } from '../engine/netstack/parse-error';
import { parseInterfaces } from '../engine/netstack/interfaces';
import { parseNeighbours } from '../engine/netstack/neighbour';
import { parseFdb } from '../engine/netstack/fdb';
import { parseSysctl } from '../engine/netstack/sysctl';
import { parseIptablesSave } from '../engine/netstack/iptables/parse';
import { parseIpsetSave } from '../engine/netstack/ipset';

type Check = { tool: string; run: () => unknown };

/**
 * Tool outputs as the tools printed them, by frame name (`ip-link`, `sysctl`…), so that errors
 * give the tool's own line numbers; without them (a dump read from a file) JSON fields are
 * re-serialized one element per line.
 */
export type RawTexts = Record<string, string>;

export function validateNetns(info: NetNSInfo, raw: RawTexts = {}): Omit<CollectorError, 'netns'>[] {
  const json = (v: unknown, frame: string) => raw[frame] ?? `[\n${(v as unknown[]).map((x) => JSON.stringify(x)).join(',\n')}\n]`;
  const checks: Check[] = [];
  if (info.links && info.addresses) {
    const links = json(info.links, 'ip-link');
    const addrs = json(info.addresses, 'ip-addr');
    checks.push({ tool: 'ip -j -d link show / ip -j -d addr show', run: () => parseInterfaces(links, addrs) });
  }
  if (info.neighbours) checks.push({ tool: 'ip -4 -j neigh show', run: () => parseNeighbours(json(info.neighbours, 'ip-neigh')) });
  if (info.neighbours6) checks.push({ tool: 'ip -6 -j neigh show', run: () => parseNeighbours(json(info.neighbours6, 'ip6-neigh')) });
  if (info.neighbours6Proxy) checks.push({ tool: 'ip -6 -j neigh show proxy', run: () => parseNeighbours(json(info.neighbours6Proxy, 'ip6-neigh-proxy')) });
  if (info.fdb) checks.push({ tool: 'bridge -j fdb show', run: () => parseFdb(json(info.fdb, 'bridge-fdb')) });
  if (info.sysctls) {
    const text = raw.sysctl ?? Object.entries(info.sysctls).map(([k, v]) => `${k} = ${v}`).join('\n');
    checks.push({ tool: 'sysctl net', run: () => parseSysctl(text) });
  }
  for (const fam of ['iptables', 'ip6tables'] as const) {
    for (const backend of ['nft', 'legacy'] as const) {
      const text = info[fam]?.[backend];
      if (text === undefined) continue;
      const tool = `${fam}-${backend}-save`;
      // parseIptablesSave reads every rule of every chain (the engine's own reading is lazy, per chain).
      checks.push({ tool, run: () => parseIptablesSave(text, { family: fam === 'iptables' ? 4 : 6, source: tool }) });
    }
  }
  if (info.ipsets !== undefined) {
    const text = info.ipsets;
    checks.push({ tool: 'ipset save', run: () => parseIpsetSave(text) });
  }

  const errors: Omit<CollectorError, 'netns'>[] = [];
  for (const c of checks) {
    try {
      c.run();
    } catch (e) {
      if (e instanceof ParseError) {
        errors.push({ tool: c.tool, line: e.line, column: e.column, message: `${c.tool}: the netstack parser rejects it: ${e.message}` });
      } else {
        // A parser that crashes on real output is a parser bug; report it rather than crash.
        errors.push({ tool: c.tool, message: `${c.tool}: the netstack parser failed unexpectedly: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
  }
  return errors;
}
