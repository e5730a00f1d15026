// The devices of ingress and egress base chains, read from `nft list ruleset`'s text. nft -j 1.0.6
// (Debian 12's and others') leaves `dev` out of its JSON for every netdev chain, while the text
// prints it on the chain's type line:
//
//   table netdev eg {
//   	chain out {
//   		type filter hook egress device "eth0" priority filter; policy accept;
//   		type filter hook ingress devices = { eth0, eth1 } priority filter; policy accept;
//
// Only those lines are read, at the indentation nft prints them; everything else (rules, sets,
// comments) is skipped by its indentation alone. Names are hostile (a comment may hold newlines and
// look like any line), so what is read is trusted only when the text's tables and chains are
// exactly the JSON's, each seen once, and a chain's devices only from its one type line, of the
// JSON's hook: a forged line can only add to what nft printed, and then something is seen twice or
// is not in the JSON. Anything unexpected leaves the devices unknown, as without the text — never
// a guessed device.
import type { NftRuleset } from './model';

const tableKey = (family: string, name: string) => `${family}\u0000${name}`;

/** A chain as the text shows it. */
export interface TextChain {
  /** Type lines seen in the chain (a base chain has exactly one). */
  typeLines: number;
  hook?: string;
  /** The devices of the type line, when it names them in a form read without doubt. */
  devices?: string[];
}

export interface TextTable {
  family: string;
  name: string;
  chains: Map<string, TextChain>;
  /** A chain header seen twice: the table's lines cannot be trusted. */
  duplicateChain: boolean;
}

const FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
// A table header, with the `# progname X` nft adds for owned tables (firewalld…).
const TABLE = /^table (\S+) (.+) \{(?: # progname .*)?$/;
const CHAIN = /^\tchain (.+) \{$/;
const TYPE = /^\t\ttype \S+ hook (\S+) (.*)$/;
// Interface names have no whitespace (the kernel's dev_valid_name) and at most 15 bytes: one
// device is `device "X"`, several `devices = { A, B }` unquoted (nft 1.0.6), ", "-separated.
const ONE = /^device "(\S+)" priority /;
const MANY = /^devices = \{ (\S+(?:, \S+)*) \} priority /;

/** A device name as read; undefined when it could be read more than one way (quotes, escapes) or is not an interface name. */
function deviceName(s: string): string | undefined {
  if (s.includes('"') || s.includes('\\')) return undefined;
  const bytes = new TextEncoder().encode(s).length;
  return bytes >= 1 && bytes <= 15 ? s : undefined;
}

function typeLineDevices(rest: string): string[] | undefined {
  const one = ONE.exec(rest);
  const names = one ? [one[1]] : MANY.exec(rest)?.[1].split(', ');
  if (!names) return undefined;
  const out = names.map(deviceName);
  return out.every((d): d is string => d !== undefined) ? out : undefined;
}

/**
 * The tables and chains of an `nft list ruleset` text with the devices of their type lines;
 * undefined when the text is not shaped as nft prints a rule set (a line where none can be, a
 * block left open, a table seen twice).
 */
export function readTextChains(text: string): TextTable[] | undefined {
  const tables: TextTable[] = [];
  const seen = new Set<string>();
  let table: TextTable | undefined;
  // Inside a table: the open block, a chain or another (set, map, flowtable, counter…).
  let block: 'chain' | 'other' | undefined;
  let chain: TextChain | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (!table) {
      if (line.startsWith('#')) continue;
      const m = TABLE.exec(line);
      if (!m || !FAMILIES.has(m[1])) return undefined;
      const key = tableKey(m[1], m[2]);
      if (seen.has(key)) return undefined;
      seen.add(key);
      table = { family: m[1], name: m[2], chains: new Map(), duplicateChain: false };
      tables.push(table);
    } else if (!block) {
      if (line === '}') table = undefined;
      else if (line === '\t}' || line.startsWith('\t\t') || !line.startsWith('\t')) return undefined;
      else if (line.endsWith(' {')) {
        const m = CHAIN.exec(line);
        block = m ? 'chain' : 'other';
        if (m) {
          if (table.chains.has(m[1])) table.duplicateChain = true;
          chain = { typeLines: 0 };
          table.chains.set(m[1], chain);
        }
      }
      // Else a table attribute (`comment "…"`, `flags dormant`).
    } else if (line === '\t}') {
      block = undefined;
      chain = undefined;
    } else if (!line.startsWith('\t\t')) {
      return undefined;
    } else if (chain && line.startsWith('\t\ttype ')) {
      const m = TYPE.exec(line);
      if (!m) continue;
      chain.typeLines++;
      chain.hook = m[1];
      chain.devices = typeLineDevices(m[2]);
    }
  }
  return table ? undefined : tables;
}

/**
 * Fills the devices of the ingress and egress base chains that the JSON left without, from the
 * text listing of the same rule set (`nftablesText` of the dump). Returns how many chains it
 * filled; none when the text and the JSON do not describe the same tables and chains.
 */
export function fillDevicesFromText(rs: NftRuleset, text: string): number {
  const wanting = rs.tables.some((t) => [...t.chains.values()].some((c) => (c.base?.hook === 'ingress' || c.base?.hook === 'egress') && !c.base.devices.length));
  if (!wanting) return 0;
  const read = readTextChains(text);
  if (!read || read.length !== rs.tables.length || read.some((t) => t.duplicateChain)) return 0;
  const byKey = new Map(read.map((t) => [tableKey(t.family, t.name), t]));
  // Same tables, and the same chains in each: a forged header adds one seen twice or not in the JSON.
  for (const t of rs.tables) {
    const tt = byKey.get(tableKey(t.family, t.name));
    if (!tt || tt.chains.size !== t.chains.size || [...t.chains.keys()].some((name) => !tt.chains.has(name))) return 0;
  }
  // A forged type line (a comment holding a newline) stays in its own chain: a base chain with two is left unknown.
  let filled = 0;
  for (const t of rs.tables) {
    const tt = byKey.get(tableKey(t.family, t.name))!;
    for (const c of t.chains.values()) {
      const tc = tt.chains.get(c.name)!;
      if (c.base && (c.base.hook === 'ingress' || c.base.hook === 'egress') && !c.base.devices.length && tc.typeLines === 1 && tc.hook === c.base.hook && tc.devices) {
        c.base.devices = [...tc.devices];
        filled++;
      }
    }
  }
  return filled;
}
