// Native nftables base chains: what `nft -j list ruleset` holds besides the tables iptables-nft
// made for iptables rules. The simulator models iptables rules only, so a native base chain on a
// hook the packet passes (a `table inet guard` with a forward chain, kube-proxy's nftables mode)
// is an element it cannot evaluate: whoever traces a packet must say so instead of trusting the
// iptables rules alone.
import type { Family } from '../ip';
import type { Ruleset } from '../iptables/model';
import type { Hook } from './packet';

export interface NativeChain {
  family: string;
  table: string;
  chain: string;
  type: string;
  hook: string;
  priority: string;
  policy: string;
  /** netdev chains: the devices they are attached to. */
  devices: string[];
  rules: number;
}

const HOOK_NAMES: Record<Hook, string> = {
  PREROUTING: 'prerouting', INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output', POSTROUTING: 'postrouting',
};

type Obj = { [k: string]: unknown };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Every base chain (a chain with a hook) of an `nft -j list ruleset` value, with its rule count. */
export function nftBaseChains(nftables: unknown): NativeChain[] {
  const list = isObj(nftables) && Array.isArray(nftables.nftables) ? nftables.nftables : [];
  const chains: NativeChain[] = [];
  const rules = new Map<string, number>();
  const id = (f: string, t: string, c: string) => JSON.stringify([f, t, c]);
  for (const item of list) {
    if (!isObj(item)) continue;
    const c = item.chain;
    if (isObj(c) && c.hook !== undefined) {
      const dev = c.dev ?? c.devices;
      chains.push({
        family: str(c.family), table: str(c.table), chain: str(c.name), type: str(c.type) || 'filter',
        hook: str(c.hook), priority: str(c.prio), policy: str(c.policy) || 'accept',
        devices: Array.isArray(dev) ? dev.map(str) : dev !== undefined ? [str(dev)] : [],
        rules: 0,
      });
    }
    const r = item.rule;
    if (isObj(r)) {
      const k = id(str(r.family), str(r.table), str(r.chain));
      rules.set(k, (rules.get(k) ?? 0) + 1);
    }
  }
  for (const c of chains) c.rules = rules.get(id(c.family, c.table, c.chain)) ?? 0;
  return chains;
}

/**
 * The native base chains a packet of `family` meets at `hook` (ip/ip6/inet chains), or on entering
 * through `iif` (netdev ingress). Left out: the chains iptables-nft owns — a table of the packet's
 * family that the iptables-nft dump lists with that built-in chain, which the iptables
 * simulation already covers — and chains that cannot change anything (no rule, policy accept).
 * Bridge-family chains see only bridged frames and are not listed here.
 */
export function nativeChainsAt(chains: readonly NativeChain[], family: Family, hook: Hook | 'ingress', iif: string | undefined, iptables: readonly Ruleset[]): NativeChain[] {
  const ipFamily = family === 4 ? 'ip' : 'ip6';
  const owned = (c: NativeChain) =>
    c.family === ipFamily &&
    iptables.some((rs) => rs.family === family && rs.backend !== 'legacy' && rs.tables.some((t) => t.name === c.table && t.chainsByName.get(c.chain)?.builtin === true));
  return chains.filter((c) => {
    if (c.rules === 0 && c.policy === 'accept') return false;
    if (hook === 'ingress') return c.family === 'netdev' && c.hook === 'ingress' && iif !== undefined && c.devices.includes(iif);
    if (c.family !== ipFamily && c.family !== 'inet') return false;
    return c.hook === HOOK_NAMES[hook] && !owned(c);
  });
}

/** `table inet guard { chain gate { type filter hook forward priority 0; policy accept; } }`, as nft prints it. */
export function formatNativeChain(c: NativeChain): string {
  const dev = c.devices.length ? ` devices = { ${c.devices.join(', ')} }` : '';
  return `table ${c.family} ${c.table} { chain ${c.chain} { type ${c.type} hook ${c.hook}${dev} priority ${c.priority}; policy ${c.policy}; } } (${c.rules} rule${c.rules === 1 ? '' : 's'})`;
}
