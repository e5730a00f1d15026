// Writes a Ruleset back as iptables-save text, in the canonical form iptables-save itself uses
// (same option order as the model, same quoting as `xtables_save_string`), so that
// print(parse(x)) reproduces a real dump up to its `#` comment lines, and parse(print(m)) equals m.
import { STRING_OPTIONS } from './known';
import type { Chain, Match, Rule, RuleOption, Ruleset, Table, Target } from './model';

const PLAIN = /^[A-Za-z0-9_-]+$/;
// Values iptables prints raw; anything else is quoted so that iptables-restore reads it back.
const RAW_SAFE = /^[^\s"'\\]+$/;

/** `xtables_save_string`: quote unless plain, escaping `"`, `\` and `'` with a backslash. */
export function quoteValue(v: string, stringOption: boolean): string {
  if (stringOption ? PLAIN.test(v) : RAW_SAFE.test(v) && v !== '!' && !/^-[-A-Za-z]/.test(v)) return v;
  return `"${v.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

function printOption(o: RuleOption, out: string[]): void {
  if (o.negated) out.push('!');
  out.push(o.name);
  const str = STRING_OPTIONS.has(o.name);
  for (const v of o.values) out.push(quoteValue(v, str));
}

function printMatch(m: Match, out: string[]): void {
  if (m.module !== '' && !m.implicit) out.push('-m', quoteValue(m.module, false));
  for (const o of m.options) printOption(o, out);
}

function printTarget(t: Target, out: string[]): void {
  out.push(t.goto ? '-g' : '-j', quoteValue(t.name, false));
  for (const o of t.options) printOption(o, out);
}

/** The rule as iptables-save prints it, without counters: `-A CHAIN ...`. */
export function formatRule(rule: Rule): string {
  const out: string[] = ['-A', rule.chain];
  for (const m of rule.matches) printMatch(m, out);
  if (rule.target) printTarget(rule.target, out);
  return out.join(' ');
}

function formatCounters(c: { packets: number; bytes: number } | undefined): string {
  return c ? `[${c.packets}:${c.bytes}]` : '[0:0]';
}

export function formatChainDeclaration(chain: Chain): string {
  return `:${chain.name} ${chain.policy ?? '-'} ${formatCounters(chain.counters)}`;
}

export interface PrintOptions {
  /** Print `[packets:bytes]` before each rule (`iptables-save -c`); default: when the model has any rule counters. */
  counters?: boolean;
}

export function printTable(table: Table, withCounters: boolean): string {
  const lines = [`*${table.name}`];
  for (const c of table.chains) if (c.declared) lines.push(formatChainDeclaration(c));
  for (const c of table.chains) {
    for (const r of c.rules) lines.push(withCounters ? `${formatCounters(r.counters)} ${formatRule(r)}` : formatRule(r));
  }
  lines.push('COMMIT');
  return lines.join('\n');
}

export function printIptablesSave(rs: Ruleset, opts: PrintOptions = {}): string {
  const withCounters = opts.counters ?? rs.tables.some((t) => t.chains.some((c) => c.rules.some((r) => r.counters)));
  const parts = rs.warnings.map((w) => `# Warning: ${w}`);
  for (const t of rs.tables) parts.push(printTable(t, withCounters));
  return parts.join('\n') + '\n';
}
