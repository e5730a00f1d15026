// A committed lab case (a real two-node cluster the kernel judged), changed in one place, for the
// honest-verdict tests: a rule, an nftables chain or a recent list added to a node's dump.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import type { NetpathSnapshot } from '../../src/engine/snapshot/types';
import type { NetNSInfo } from '../../src/shared/dump';
import type { DiagnosisResult } from '../../src/engine/model/result';
import type { Suspicion } from '../../src/engine/model/suspicion';

const cache = new Map<string, NetpathSnapshot>();

/** The case's snapshot (parsed once), deep-copied so each test changes its own. */
export function labSnapshot(name: string): NetpathSnapshot {
  let s = cache.get(name);
  if (!s) cache.set(name, (s = loadSnapshot(readFileSync(join(import.meta.dirname, '../fixtures/lab', name, 'snapshot.netpath.json'), 'utf8'))));
  return structuredClone(s);
}

/** The host netns dump of `node`. */
export function hostOf(s: NetpathSnapshot, node: string): NetNSInfo {
  return s.dumps[node].node;
}

/**
 * Adds filter-table rules at the top of FORWARD (and user chains) to the iptables-nft dump of
 * `node`: `rules` are full `-A` lines, placed before the table's first rule.
 */
export function addFilterRules(s: NetpathSnapshot, node: string, rules: string[], chains: string[] = []): void {
  const info = hostOf(s, node);
  const text = info.iptables!.nft!;
  const start = text.indexOf('*filter\n');
  const firstRule = text.indexOf('\n-A ', start) + 1;
  const decl = chains.map((c) => `:${c} - [0:0]\n`).join('');
  info.iptables!.nft = text.slice(0, start + 8) + decl + text.slice(start + 8, firstRule) + rules.map((r) => `${r}\n`).join('') + text.slice(firstRule);
}

export function diagnose(s: NetpathSnapshot, src: string, dst: string, port: number, protocol: 'tcp' | 'udp' = 'tcp'): DiagnosisResult {
  return new Network(s).diagnose({ src, dst, port, protocol });
}

export function findingsOf(r: DiagnosisResult, node: string): Suspicion[] {
  return r.nodes.filter((n) => n.id === node).flatMap((n) => n.suspicions);
}

/** client → web2 (node1 → node2), TCP 8080: reachable in every healthy case. */
export const WEB2 = { src: 'default/client', dst: 'default/web2', port: 8080 } as const;
export const WEB2_IP = '10.244.2.2';

/**
 * Appends to `node`'s nftables a table with one base chain whose one rule drops TCP to web2:8080
 * (as `nft -j` prints them; a netdev chain without its device, as nft 1.0.6 prints it).
 */
export function pushNftDrop(s: NetpathSnapshot, node: string, at: { family: string; table: string; chain: string; hook: string; tableHandle: number }): void {
  const nft = hostOf(s, node).nftables as { nftables: unknown[] };
  const { family, table, chain, hook } = at;
  nft.nftables.push(
    { table: { family, name: table, handle: at.tableHandle } },
    { chain: { family, table, name: chain, handle: 1, type: 'filter', hook, prio: 0, policy: 'accept' } },
    {
      rule: {
        family, table, chain, handle: 2,
        expr: [
          { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: WEB2_IP } },
          { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 8080 } },
          { drop: null },
        ],
      },
    },
  );
}
