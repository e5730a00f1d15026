// Per-ruleset compiled form (parsed addresses, closures), built lazily chain by chain and cached
// on the Ruleset object, plus a destination index for big chains: a chain like kube-proxy's
// KUBE-SERVICES holds one rule per service IP, so a trace only visits the rules whose `-d` host
// address equals the packet's destination (plus every rule that has no such exact `-d`).
import type { Family } from '../ip';
import { parsePrefix } from '../ip';
import type { Chain, Rule, Ruleset } from '../iptables/model';
import { formatRule } from '../iptables/print';
import { chainRulesTolerant, isUnparsedRule, pendingRuleLines, type RuleLines, type UnparsedRule } from '../iptables/parse';
import { STRING_OPTIONS } from '../iptables/known';
import { WordBuffer } from '../tokens';
import { compileMatch, type MatchFn } from './matches';
import { compileTarget, type TargetFn } from './targets';

export interface CompiledRule {
  rule: Rule;
  text: string;
  matches: (MatchFn | { unknown: string })[];
  target?: TargetFn | { unknown: string };
}

/**
 * A rule compiled on first use: a trace through a 20k-rule chain with a destination index looks
 * at a few rules, so the text and closures of the others are never built.
 */
class LazyCompiledRule implements CompiledRule {
  private m?: (MatchFn | { unknown: string })[];
  private t?: TargetFn | { unknown: string } | null;
  private s?: string;
  constructor(
    readonly rule: Rule,
    private readonly family: Family,
  ) {}
  get text(): string {
    return (this.s ??= formatRule(this.rule));
  }
  get matches(): (MatchFn | { unknown: string })[] {
    return (this.m ??= this.rule.matches.map((mm) => compileMatch(mm, this.family)));
  }
  get target(): TargetFn | { unknown: string } | undefined {
    if (this.t === undefined) this.t = this.rule.target ? compileTarget(this.rule.target, this.family) : null;
    return this.t ?? undefined;
  }
}

/**
 * A rule of a big chain read straight from its dump line: parsed (and compiled) only when a trace
 * visits it, which with the destination index is a handful of the chain's rules.
 */
class RawCompiledRule implements CompiledRule {
  private r?: Rule | UnparsedRule;
  private c?: CompiledRule;
  constructor(
    private readonly lines: RuleLines,
    private readonly k: number,
    private readonly chain: string,
    private readonly family: Family,
  ) {}
  private get compiled(): CompiledRule {
    if (!this.c) {
      const r = (this.r ??= this.lines.parse(this.k));
      this.c = isUnparsedRule(r) ? unparsedRule(r, this.chain) : new LazyCompiledRule(r, this.family);
    }
    return this.c;
  }
  get rule(): Rule {
    return this.compiled.rule;
  }
  get text(): string {
    return this.compiled.text;
  }
  get matches(): (MatchFn | { unknown: string })[] {
    return this.compiled.matches;
  }
  get target(): TargetFn | { unknown: string } | undefined {
    return this.compiled.target;
  }
}

/**
 * A rule line that does not parse (iptables-restore would reject the dump there): neither its
 * matches nor its target are known, so the trace reports it as not understood — one way it does
 * not match, the other it matches and stops the packet.
 */
function unparsedRule(u: UnparsedRule, chain: string): CompiledRule {
  const unknown = `line ${u.line} does not parse: ${u.error.message}`;
  return {
    rule: { num: u.num, chain, matches: [], line: u.line },
    text: u.text,
    matches: [{ unknown }],
    target: { unknown },
  };
}

export interface CompiledChain {
  chain: Chain;
  rules: CompiledRule[];
  /** Present for big chains: rule indexes by exact destination host, and the rest. */
  index?: DestinationIndex;
}

const INDEX_MIN_RULES = 64;

export class DestinationIndex {
  private byDst = new Map<bigint, number[]>();
  private others: number[] = [];
  private merged = new Map<bigint, number[]>();

  /** `keys[i]`: the exact destination rule i requires, or undefined (visited for every packet). */
  constructor(keys: (bigint | undefined)[]) {
    keys.forEach((key, i) => {
      if (key === undefined) this.others.push(i);
      else {
        let l = this.byDst.get(key);
        if (!l) this.byDst.set(key, (l = []));
        l.push(i);
      }
    });
  }

  /** Sorted indexes of the rules that can match a packet to `dst`. */
  candidates(dst: bigint): number[] {
    let m = this.merged.get(dst);
    if (m) return m;
    const a = this.byDst.get(dst) ?? [];
    const b = this.others;
    m = [];
    let i = 0, j = 0;
    while (i < a.length || j < b.length) m.push(j >= b.length || (i < a.length && a[i] < b[j]) ? a[i++] : b[j++]);
    if (this.merged.size > 4096) this.merged.clear();
    this.merged.set(dst, m);
    return m;
  }

  get indexedRules(): number {
    let n = 0;
    for (const l of this.byDst.values()) n += l.length;
    return n;
  }
}

/** The host address of a rule's single, non-negated, full-length `-d`, if it has one. */
function exactDestination(rule: Rule, family: Family): bigint | undefined {
  let found: bigint | undefined;
  for (const m of rule.matches) {
    if (m.module !== '') continue;
    for (const o of m.options) {
      if (o.name !== '-d' && o.name !== '--destination' && o.name !== '--dst') continue;
      if (o.negated || o.values.length !== 1 || o.values[0].includes(',') || found !== undefined) return undefined;
      const p = parsePrefix(o.values[0], family);
      if (!p || p.family !== family || p.len !== (family === 4 ? 32 : 128)) return undefined;
      found = p.value;
    }
  }
  return found;
}

const DESTINATION = new Set(['-d', '--destination', '--dst']);

/**
 * exactDestination read from a rule line's words. An unquoted `-d` is the header's destination
 * option unless it is the one argument of a string option (`--comment -d`): the parser reads it
 * that way or rejects the line. Anything unclear gives undefined — the rule is then visited for
 * every packet, which is always correct.
 */
function rawExactDestination(lines: RuleLines, k: number, family: Family, buf: WordBuffer): bigint | undefined {
  const line = lines.line(k);
  const quick = plainExactDestination(line, family);
  if (quick !== null) return quick;
  return wordsExactDestination(line, lines.source, lines.lineNo(k), family, buf);
}

/** rawExactDestination by the line's words (any line). Exported for the test that checks the quick reading against it. */
export function wordsExactDestination(line: string, source: string, lineNo: number, family: Family, buf: WordBuffer): bigint | undefined {
  try {
    buf.read(line, 'iptables', source, lineNo);
  } catch {
    return undefined;
  }
  const toks = buf.tokens;
  const n = buf.count;
  let found: bigint | undefined;
  for (let i = 0; i < n; i++) {
    const t = toks[i];
    if (t.quoted || !DESTINATION.has(t.text)) continue;
    const prev = i > 0 ? toks[i - 1] : undefined;
    if (prev && !prev.quoted && STRING_OPTIONS.has(prev.text)) return undefined;
    if (found !== undefined || (prev && !prev.quoted && prev.text === '!')) return undefined;
    // The buffer's entries past `count` are stale words of earlier lines.
    const v = i + 1 < n ? toks[i + 1] : undefined;
    const after = i + 2 < n ? toks[i + 2] : undefined;
    if (!v || v.text === '!' || v.text.includes(',') || (after && !after.quoted && !after.text.startsWith('-') && after.text !== '!')) return undefined;
    const p = parsePrefix(v.text, family);
    if (!p || p.family !== family || p.len !== (family === 4 ? 32 : 128)) return undefined;
    found = p.value;
  }
  return found;
}

/**
 * The same answer as wordsExactDestination for the lines kube-proxy writes by the ten thousand
 * (`-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "…" … -j KUBE-SVC-…`), read
 * without splitting the line into words (that was most of indexing a 10,000-service chain): one
 * ` -d ` word, everything before its value plain (no quote, backslash, tab or CR), no other
 * destination option, quote, tab or CR that could change the reading in the rest. null for any
 * other line: the word reader decides it.
 */
export function plainExactDestination(line: string, family: Family): bigint | undefined | null {
  const at = line.indexOf(' -d ');
  // (One space before it, so that the word before is the one the word reader sees.)
  if (at < 1 || line.charCodeAt(at - 1) === 32) return null;
  const end = line.indexOf(' ', at + 4);
  if (end <= at + 4) return null;
  for (let i = 0; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c === 34 || c === 39 || c === 92 || c === 9 || c === 13) return null;
  }
  // The rest: a second destination option (in any form, even inside a string), a single quote, a
  // backslash, a tab, a CR or an unbalanced double quote leave the line to the word reader.
  if (line.indexOf(' -d', end) >= 0 || line.indexOf('-destination') >= 0 || line.indexOf('--dst') >= 0) return null;
  if (line.indexOf("'", end) >= 0 || line.indexOf('\\', end) >= 0 || line.indexOf('\t', end) >= 0 || line.indexOf('\r', end) >= 0) return null;
  let quotes = 0;
  for (let q = line.indexOf('"', end); q >= 0; q = line.indexOf('"', q + 1)) quotes++;
  if (quotes % 2) return null;
  // The word after the value must be an option (the word reader's test, without its quoted case).
  let j = end;
  while (j < line.length && line.charCodeAt(j) === 32) j++;
  if (j < line.length && line.charCodeAt(j) !== 45 /* - */) return null;
  const prevStart = line.lastIndexOf(' ', at - 1) + 1;
  const prev = line.slice(prevStart, at);
  if (prev === '!' || STRING_OPTIONS.has(prev)) return undefined;
  const v = line.slice(at + 4, end);
  if (v === '!' || v.includes(',')) return undefined;
  const p = parsePrefix(v, family);
  return p && p.family === family && p.len === (family === 4 ? 32 : 128) ? p.value : undefined;
}

const cache = new WeakMap<Ruleset, Map<string, CompiledChain>>();

export function compiledChain(rs: Ruleset, table: string, chain: string): CompiledChain | undefined {
  let m = cache.get(rs);
  if (!m) cache.set(rs, (m = new Map()));
  const key = `${table}\u0000${chain}`;
  let cc = m.get(key);
  if (cc) return cc;
  const t = rs.tables.find((x) => x.name === table);
  const c = t?.chainsByName.get(chain);
  if (!c) return undefined;
  const raw = pendingRuleLines(c);
  if (raw && raw.count >= INDEX_MIN_RULES) {
    // A big chain not parsed yet (kube-proxy's KUBE-SERVICES): index its lines by destination
    // from their words alone, and parse a rule only when a packet's destination selects it.
    const rules: CompiledRule[] = [];
    const keys: (bigint | undefined)[] = [];
    // One word buffer for the whole chain: a Token per word per line was most of this pass's garbage.
    const buf = new WordBuffer();
    for (let k = 0; k < raw.count; k++) {
      rules.push(new RawCompiledRule(raw, k, c.name, rs.family));
      keys.push(rawExactDestination(raw, k, rs.family, buf));
    }
    buf.clear();
    cc = { chain: c, rules, index: new DestinationIndex(keys) };
  } else {
    // Rules are parsed here, on the chain's first visit; a line that does not parse stays in
    // place as a rule that never matches (reported as not understood) instead of failing the trace.
    const rules = chainRulesTolerant(c).map((r) => (isUnparsedRule(r) ? unparsedRule(r, c.name) : new LazyCompiledRule(r, rs.family)));
    cc = { chain: c, rules, index: rules.length >= INDEX_MIN_RULES ? new DestinationIndex(rules.map((cr) => exactDestination(cr.rule, rs.family))) : undefined };
  }
  m.set(key, cc);
  return cc;
}
