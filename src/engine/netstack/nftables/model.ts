// The native nftables rule set as `nft -j list ruleset` describes it: tables of every family, their
// chains (base chains with type, hook, priority, policy), rules, named sets and maps. Rule
// expressions stay the JSON nft printed — that JSON is nft's own syntax tree, and keeping it whole
// means nothing is dropped: a statement this model does not know is listed in the rule's
// `notUnderstood` with its JSON, for the simulator to treat as undecided.

import { fillDevicesFromText } from './text-devices';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObj = { [k: string]: Json };

export const isObj = (v: unknown): v is JsonObj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface NftRuleset {
  /** nft's version from the dump's metainfo, when present. */
  version?: string;
  tables: NftTable[];
  /** Top-level objects of kinds this model does not read (flowtables, ct helpers…), as JSON. */
  other: Json[];
}

export interface NftTable {
  family: string;
  name: string;
  handle: number;
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
}

export interface BaseChainSpec {
  type: string;
  hook: string;
  prio: number;
  policy: 'accept' | 'drop';
  /** netdev chains: the devices they are attached to. */
  devices: string[];
}

export interface NftChain {
  family: string;
  table: string;
  name: string;
  handle: number;
  /** Present for base chains (chains with a hook). */
  base?: BaseChainSpec;
  rules: NftRule[];
  /** Position in the dump: the kernel keeps hooks of equal priority in the order they were added. */
  order: number;
}

export interface NotUnderstood {
  /** Index of the statement in the rule's expressions. */
  index: number;
  json: string;
}

export interface NftRule {
  family: string;
  table: string;
  chain: string;
  handle: number;
  expr: Json[];
  comment?: string;
  notUnderstood: NotUnderstood[];
}

export interface NftElement {
  key: Json;
  /** Maps: the value the key maps to (a verdict for verdict maps). */
  data?: Json;
  /** Seconds, as data: a dump is a moment, an element that expires later is still there. */
  timeout?: number;
  expires?: number;
}

export interface NftSet {
  family: string;
  table: string;
  name: string;
  kind: 'set' | 'map';
  /** Key type, one entry per concatenated field. */
  type: string[];
  /** Maps: the data type (`verdict`, `ipv4_addr . inet_service`…). */
  map?: string;
  flags: string[];
  elements: NftElement[];
}

/** Top-level statements (the keys of a rule's expression objects) the simulator evaluates. */
export const KNOWN_STATEMENTS = new Set([
  'match', 'counter', 'accept', 'drop', 'reject', 'jump', 'goto', 'return', 'continue', 'vmap',
  'dnat', 'snat', 'masquerade', 'redirect', 'mangle', 'log', 'limit', 'notrack',
]);

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v) || 0);

export const tableKey = (family: string, table: string) => `${family}\u0000${table}`;

/** One element of a set's `elem` list: a key, `[key, data]` for maps, either possibly `{elem: {val, timeout…}}`. */
function element(e: Json, isMap: boolean): NftElement {
  let key: Json = e;
  let data: Json | undefined;
  if (isMap && Array.isArray(e) && e.length === 2) [key, data] = e;
  const out: NftElement = { key };
  if (isObj(key) && isObj(key.elem)) {
    const el = key.elem;
    out.key = el.val ?? null;
    if (el.timeout !== undefined) out.timeout = num(el.timeout);
    if (el.expires !== undefined) out.expires = num(el.expires);
  }
  if (data !== undefined) out.data = data;
  return out;
}

/**
 * Reads an `nft -j list ruleset` value (`{ nftables: [...] }`). Anything else reads as an empty rule
 * set. `text`, the `nft list ruleset` listing of the same rule set, names the devices of ingress
 * and egress chains that the JSON leaves out (text-devices.ts).
 */
export function parseNftRuleset(dump: unknown, text?: string): NftRuleset {
  const list = isObj(dump) && Array.isArray(dump.nftables) ? dump.nftables : [];
  const rs: NftRuleset = { tables: [], other: [] };
  const tables = new Map<string, NftTable>();
  const table = (family: string, name: string): NftTable => {
    const k = tableKey(family, name);
    let t = tables.get(k);
    if (!t) {
      t = { family, name, handle: 0, chains: new Map(), sets: new Map() };
      tables.set(k, t);
      rs.tables.push(t);
    }
    return t;
  };
  let order = 0;
  const pending: JsonObj[] = [];
  for (const item of list) {
    if (!isObj(item)) continue;
    if (isObj(item.metainfo)) {
      rs.version = str(item.metainfo.version) || undefined;
    } else if (isObj(item.table)) {
      table(str(item.table.family), str(item.table.name)).handle = num(item.table.handle);
    } else if (isObj(item.chain)) {
      const c = item.chain;
      const t = table(str(c.family), str(c.table));
      const chain: NftChain = { family: t.family, table: t.name, name: str(c.name), handle: num(c.handle), rules: [], order: order++ };
      if (c.hook !== undefined) {
        const dev = c.dev ?? c.devices;
        chain.base = {
          type: str(c.type) || 'filter', hook: str(c.hook), prio: num(c.prio), policy: str(c.policy) === 'drop' ? 'drop' : 'accept',
          devices: Array.isArray(dev) ? dev.map(str) : dev !== undefined ? [str(dev)] : [],
        };
      }
      t.chains.set(chain.name, chain);
    } else if (isObj(item.set) || isObj(item.map)) {
      const isMap = isObj(item.map);
      const s = (isMap ? item.map : item.set) as JsonObj;
      const t = table(str(s.family), str(s.table));
      const type = Array.isArray(s.type) ? s.type.map(str) : [str(s.type)];
      t.sets.set(str(s.name), {
        family: t.family, table: t.name, name: str(s.name), kind: isMap ? 'map' : 'set', type,
        ...(isMap ? { map: Array.isArray(s.map) ? s.map.map(str).join(' . ') : str(s.map) } : {}),
        flags: Array.isArray(s.flags) ? s.flags.map(str) : s.flags !== undefined ? [str(s.flags)] : [],
        elements: Array.isArray(s.elem) ? s.elem.map((e) => element(e, isMap)) : [],
      });
    } else if (isObj(item.rule)) {
      pending.push(item.rule);
    } else {
      rs.other.push(item);
    }
  }
  // Rules after every chain is known: a dump lists them in order anyway, but a hand-made one may not.
  for (const r of pending) {
    const t = table(str(r.family), str(r.table));
    const name = str(r.chain);
    let chain = t.chains.get(name);
    if (!chain) {
      chain = { family: t.family, table: t.name, name, handle: 0, rules: [], order: order++ };
      t.chains.set(name, chain);
    }
    const expr = Array.isArray(r.expr) ? r.expr : [];
    const notUnderstood: NotUnderstood[] = [];
    expr.forEach((e, index) => {
      const k = isObj(e) ? Object.keys(e) : [];
      if (k.length !== 1 || !KNOWN_STATEMENTS.has(k[0])) notUnderstood.push({ index, json: JSON.stringify(e) });
    });
    chain.rules.push({
      family: t.family, table: t.name, chain: name, handle: num(r.handle), expr,
      ...(typeof r.comment === 'string' ? { comment: r.comment } : {}), notUnderstood,
    });
  }
  if (text !== undefined) fillDevicesFromText(rs, text);
  return rs;
}

/** A table's set or map by the name a rule refers to (`@name`). */
export function findSet(rs: NftRuleset, family: string, table: string, name: string): NftSet | undefined {
  return rs.tables.find((t) => t.family === family && t.name === table)?.sets.get(name);
}
