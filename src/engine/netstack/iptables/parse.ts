// Parser of `iptables-save` / `ip6tables-save` text (nft and legacy flavours, with or without
// `-c` counters). It accepts exactly the grammar iptables-restore accepts for these lines and throws
// ParseError (line, column) for anything that is not that grammar. Modules and targets it does not
// model are kept as generic option lists and marked unknown — an unfamiliar extension is never a
// reason to reject a dump. Linear in the input size (100k-rule dumps are normal on big clusters).
import { parseIP as parseIPOf, type Family } from '../ip';
import { ParseError } from '../parse-error';
import { isBuiltinChain as isBuiltinChainOf, type Chain, type Counters, type Match, type Rule, type RuleOption, type Ruleset, type Table, type Target } from './model';
import { placeInserts } from '../insert-order';
import { isBlank as isBlankOf, isOtherSpace as isOtherSpaceOf, WordBuffer, words, type Token } from '../tokens';
import { KNOWN_MATCHES, KNOWN_TARGETS as KNOWN_TARGETS_OF, STRING_OPTIONS as STRING_OPTIONS_OF, VERDICTS as VERDICTS_OF } from './known';

// Local bindings of what the passes use on every line or word: compiled to CommonJS (tsx, the
// bench), a use through an import passes a getter each time (~4% of a 100k-rule pass).
const isBlank = isBlankOf;
const isOtherSpace = isOtherSpaceOf;
const STRING_OPTIONS = STRING_OPTIONS_OF;
const VERDICTS = VERDICTS_OF;
const KNOWN_TARGETS = KNOWN_TARGETS_OF;
const parseIP = parseIPOf;
const isBuiltinChain = isBuiltinChainOf;

export interface ParseOptions {
  /** 4 for iptables-save, 6 for ip6tables-save; guessed from the header when absent (else 4). */
  family?: Family;
  /** Name used in errors; defaults to `iptables-save` / `ip6tables-save`. */
  source?: string;
}

// The parser's vocabularies are switches and Maps, not lookups in plain objects: a word from the
// dump used as an object key costs a string-table probe per rule, and `constructor` or `__proto__`
// would find Object.prototype's members.

/** IP-header options that iptables evaluates itself: the number of words they take; -1 for any other option. */
function basicArity(name: string): number {
  switch (name) {
    case '-s': case '--source': case '--src':
    case '-d': case '--destination': case '--dst':
    case '-p': case '--protocol':
    case '-i': case '--in-interface':
    case '-o': case '--out-interface':
      return 1;
    case '-f': case '--fragment':
      return 0;
    default:
      return -1;
  }
}

/** Protocols whose match module iptables loads implicitly after `-p proto` (old syntax). */
const IMPLICIT_PROTO_MODULES = new Map<string, string>([
  ['tcp', 'tcp'], ['udp', 'udp'], ['sctp', 'sctp'], ['udplite', 'udplite'], ['dccp', 'dccp'], ['icmp', 'icmp'],
  ['icmpv6', 'icmp6'], ['ipv6-icmp', 'icmp6'], ['icmp6', 'icmp6'],
]);

/** Each known match module's name, to keep one copy of it (100k rules name `comment` 100k times). */
const MATCH_NAMES = new Map([...KNOWN_MATCHES].map((m) => [m, m]));

function isRuleCommand(word: string): boolean {
  return word === '-A' || word === '-I' || word === '--append' || word === '--insert';
}

const TABLE_NAME = /^[A-Za-z0-9_-]+$/;
const CHAIN_NAME = /^[^\s!"']+$/;
const COUNTERS = /^\[(\d+):(\d+)\]$/;

/**
 * Parses the whole dump, every rule of every chain, and throws the first ParseError. This is the
 * "parse everything" entry point: collection-time validation and `netpath snapshot validate` use
 * it so that a bad line anywhere is rejected up front.
 */
export function parseIptablesSave(text: string, opts: ParseOptions = {}): Ruleset {
  const rs = parseStructure(text, opts);
  for (const t of rs.tables) for (const c of t.chains) void c.rules;
  return rs;
}

/**
 * Parses the structure of the dump (tables, COMMIT, chain declarations, which chain each rule
 * line belongs to) and defers the rules themselves: a chain's rules are tokenized and parsed on
 * first access of `chain.rules`. A diagnosis visits a handful of chains of a 100k-rule dump, so it
 * pays for those only. Structural errors throw here, with the same line and column as
 * parseIptablesSave; an error inside a rule line throws from `chain.rules` (see
 * `chainRulesTolerant` for a reader that keeps going past a bad line).
 */
export function parseIptablesSaveLazy(text: string, opts: ParseOptions = {}): Ruleset {
  return parseStructure(text, opts);
}

/**
 * The words of the rule line being parsed (one line at a time: parseRuleLine keeps no token).
 * Cleared after each chain or single rule, so that it does not keep a dropped dump's text alive.
 */
const LINE_WORDS = new WordBuffer();

/**
 * What every lazy chain of one parse shares: the dump's text and where each line starts (offsets,
 * not 135k line strings: a line is sliced when its chain is read), where errors are reported.
 */
interface Doc {
  text: string;
  starts: number[];
  rs: Ruleset;
  source: string;
  /**
   * One copy of each option, module and target name of the rules parsed so far: 100k rules name
   * `--comment` 100k times, and each kept copy is heap the garbage collector copies and marks.
   */
  names: Map<string, string>;
}

/** The dump's one copy of `name`. */
function nameOf(doc: Doc, name: string): string {
  const known = doc.names.get(name);
  if (known !== undefined) return known;
  doc.names.set(name, name);
  return name;
}

/** Line `li` (0-based) of the dump, without its line break (`\n`, or `\r\n`). */
function lineOf(doc: Doc, li: number): string {
  const start = doc.starts[li];
  let end = li + 1 < doc.starts.length ? doc.starts[li + 1] - 1 : doc.text.length;
  if (end > start && doc.text.charCodeAt(end - 1) === 13) end--;
  return doc.text.slice(start, end);
}

/**
 * The rule lines of a chain not parsed yet, in dump order, as indexes into the dump's lines:
 * iptables-save lists a chain's rules together, so this is nearly always a run `first..first+n`
 * (two numbers, no array — a 100k-rule dump has 40k chains).
 */
class Pending {
  private n = 0;
  private idx?: number[];
  /** Some line is `-I`: positions depend on the lines before it. */
  inserts = false;
  constructor(
    readonly table: Table,
    readonly chain: Chain,
    readonly doc: Doc,
    private readonly first: number,
  ) {}
  add(lineIndex: number): void {
    if (!this.idx && lineIndex === this.first + this.n) this.n++;
    else {
      this.idx ??= Array.from({ length: this.n }, (_, k) => this.first + k);
      this.idx.push(lineIndex);
    }
  }
  get count(): number {
    return this.idx ? this.idx.length : this.n;
  }
  lineNo(k: number): number {
    return (this.idx ? this.idx[k] : this.first + k) + 1;
  }
  line(k: number): string {
    return lineOf(this.doc, this.lineNo(k) - 1);
  }
  parse(k: number, table = this.table, chain = this.chain): ParsedRule {
    return parseRuleLine(this.doc, table, LINE_WORDS.read(this.line(k), 'iptables', this.doc.source, this.lineNo(k)), this.lineNo(k), chain);
  }
}

/**
 * A chain whose rules are parsed on the first read of `rules` (a prototype getter: no per-chain
 * closure or property redefinition). Own enumerable properties are those of a plain Chain except
 * `rules`, which `toJSON` adds.
 */
class LazyChain implements Chain {
  declare policy?: string;
  declare counters?: Counters;
  #rules: Rule[] | undefined = [];
  #pending: Pending | undefined;
  #position = -1;

  constructor(
    public name: string,
    public builtin: boolean,
    public declared: boolean,
  ) {}

  get rules(): Rule[] {
    return this.#rules ?? this.materialize();
  }

  set rules(v: Rule[]) {
    this.#pending = undefined;
    this.#rules = v;
  }

  get pending(): Pending | undefined {
    return this.#pending;
  }

  /** Index in its table's `chains` (the structure pass looks for the next chain's rules after it). */
  get position(): number {
    return this.#position;
  }

  set position(k: number) {
    this.#position = k;
  }

  /** Records the rule line at `lineIndex` for later (the structure pass). */
  defer(table: Table, doc: Doc, lineIndex: number): Pending {
    if (!this.#pending) {
      this.#pending = new Pending(table, this, doc, lineIndex);
      this.#rules = undefined;
    }
    this.#pending.add(lineIndex);
    return this.#pending;
  }

  /** Parses the pending lines into `rules` (strict: the first bad line throws, the chain stays unparsed). */
  private materialize(): Rule[] {
    const p = this.#pending!;
    const parsed: Rule[] = [];
    const pos: number[] = [];
    try {
      for (let k = 0; k < p.count; k++) {
        // Throws at the first bad line (the chain stays unparsed and throws again on the next read).
        const r = p.parse(k);
        pos.push(insertPosition(r, k, p.doc.source));
        parsed.push(r.rule);
      }
    } finally {
      LINE_WORDS.clear();
    }
    const rules = placeInserts(parsed, pos);
    rules.forEach((r, i) => {
      r.num = i + 1;
      if (r.target) classifyTarget(p.table, r.target, p.doc);
    });
    this.#pending = undefined;
    this.#rules = rules;
    return rules;
  }

  toJSON(): unknown {
    return { ...this, rules: this.rules };
  }
}

function newChain(name: string, builtin: boolean, declared: boolean, policy?: string): Chain {
  const chain = new LazyChain(name, builtin, declared);
  if (policy !== undefined) chain.policy = policy;
  return chain;
}

/** Adds a new chain at the end of its table. */
function addChain(table: Table, chain: Chain): void {
  if (chain instanceof LazyChain) chain.position = table.chains.length;
  table.chains.push(chain);
  table.chainsByName.set(chain.name, chain);
}

function pendingOf(chain: Chain): Pending | undefined {
  return chain instanceof LazyChain ? chain.pending : undefined;
}

/** A rule line that does not parse, kept in place by chainRulesTolerant. */
export interface UnparsedRule {
  num: number;
  line: number;
  text: string;
  error: ParseError;
}

/**
 * The rules of a chain for a reader that must not stop at one bad line (the diagnosis): every line
 * that parses becomes a Rule, a line that does not becomes an UnparsedRule at its place. When all
 * lines parse this is exactly `chain.rules` (and materializes it).
 */
export function chainRulesTolerant(chain: Chain): (Rule | UnparsedRule)[] {
  const p = pendingOf(chain);
  if (!p) return chain.rules;
  try {
    return chain.rules;
  } catch {
    // Parse each line on its own: a line's meaning never depends on another line, except the
    // position an `-I` inserts at, which is taken among the lines before it.
  }
  const items: (Rule | UnparsedRule)[] = [];
  const pos: number[] = [];
  const scratch = newChain(chain.name, chain.builtin, chain.declared, chain.policy);
  const table: Table = { name: p.table.name, chains: [scratch], chainsByName: new Map([[chain.name, scratch]]) };
  for (let k = 0; k < p.count; k++) {
    const lineNo = p.lineNo(k);
    // Every line adds one item (a bad one at the end), so k items precede line k.
    try {
      const r = p.parse(k, table, scratch);
      if (r.rule.target) classifyTarget(p.table, r.rule.target, p.doc);
      pos.push(insertPosition(r, k, p.doc.source));
      items.push(r.rule);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      pos.push(k);
      items.push({ num: 0, line: lineNo, text: p.line(k).trim(), error: e });
    }
  }
  LINE_WORDS.clear();
  const out = placeInserts(items, pos);
  out.forEach((r, i) => (r.num = i + 1));
  return out;
}

/**
 * The not-yet-parsed rule lines of a chain, each parsable on its own: for a reader (the netfilter
 * compiler's destination index) that wants to look at a big chain's lines without parsing them
 * all. Undefined when the chain is already parsed, or when an `-I` makes positions depend on
 * other lines.
 */
export interface RuleLines {
  readonly count: number;
  readonly source: string;
  line(k: number): string;
  lineNo(k: number): number;
  /** Line k as the k+1-th rule of the chain (an UnparsedRule when it does not parse). */
  parse(k: number): Rule | UnparsedRule;
}

export function pendingRuleLines(chain: Chain): RuleLines | undefined {
  const p = pendingOf(chain);
  if (!p || p.inserts) return undefined;
  return {
    count: p.count,
    source: p.doc.source,
    line: (k) => p.line(k),
    lineNo: (k) => p.lineNo(k),
    parse(k) {
      try {
        const { rule } = p.parse(k);
        if (rule.target) classifyTarget(p.table, rule.target, p.doc);
        rule.num = k + 1;
        return rule;
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        return { num: k + 1, line: p.lineNo(k), text: p.line(k).trim(), error: e };
      } finally {
        LINE_WORDS.clear();
      }
    },
  };
}

export function isUnparsedRule(r: Rule | UnparsedRule): r is UnparsedRule {
  return 'error' in r;
}

function parseStructure(text: string, opts: ParseOptions): Ruleset {
  let family: Family | undefined = opts.family;
  let backend: 'nft' | 'legacy' | undefined;
  // Guess family/backend from the first header line without a second pass over the text.
  for (let pos = 0; pos < text.length; ) {
    const nl = text.indexOf('\n', pos);
    const l = text.slice(pos, nl < 0 ? text.length : nl);
    pos = nl < 0 ? text.length : nl + 1;
    if (!l.startsWith('#')) {
      if (l.trim() !== '') break;
      continue;
    }
    const m = /^# Generated by (ip6?)tables(-nft|-legacy)?-save\b.*?(\(nf_tables\))?( on |$)/.exec(l);
    if (m) {
      family ??= m[1] === 'ip6' ? 6 : 4;
      backend = m[3] || m[2] === '-nft' ? 'nft' : 'legacy';
      break;
    }
  }
  family ??= 4;
  const source = opts.source ?? (family === 6 ? 'ip6tables-save' : 'iptables-save');
  const rs: Ruleset = { family, tables: [], backend, hasCounters: false, warnings: [] };
  const reader = new StructureReader({ text, starts: [], rs, source, names: new Map() });
  reader.read();
  return rs;
}

/**
 * The structure pass. It reads the text in place: rule lines and chain declarations (nearly all of
 * a big dump) are checked by position, and a line string is made only for the rare others and for
 * errors. Runs of rule lines and of declarations each have a loop (a method) of their own: a
 * diagnosis runs this once per dump, mostly before the JIT has optimized it, and one loop over all
 * kinds of lines was optimized on the declarations, then thrown away at the first rule line.
 */
class StructureReader {
  private readonly text: string;
  private readonly countersOption: CountersOption;
  private table: Table | undefined;
  private tableLine = 0;
  /** Chains with a `-c` rule: parsed at the end of the pass, so that hasCounters is known. */
  private readonly eager = new Set<Chain>();
  private readonly tablesByName = new Map<string, Table>();
  private last: Pending | undefined;
  private lastName = '';
  private lastChain: LazyChain | undefined;
  // The current line: where it starts (`at`), its first non-blank character, where it ends
  // (before `\n` or `\r\n`), its 0-based index; `next` is where the following line starts.
  private at = 0;
  private first = 0;
  private end = 0;
  private li = -1;
  private next = 0;

  constructor(private readonly doc: Doc) {
    this.text = doc.text;
    this.countersOption = new CountersOption(doc.text);
  }

  read(): void {
    const text = this.text;
    let more = this.advance();
    while (more) {
      const c = text.charCodeAt(this.first);
      if (c === 91 /* [ */ || c === 45 /* - */) more = this.rules();
      else if (c === 58 /* : */) more = this.declarations();
      else {
        this.other(c);
        more = this.advance();
      }
    }
    if (this.table) this.fail(`table ${this.table.name} has no COMMIT`, this.tableLine, 1);
    for (const chain of this.eager) void chain.rules;
  }

  /** Moves to the next line that is not blank; false at the end of the text. */
  private advance(): boolean {
    const text = this.text;
    const starts = this.doc.starts;
    let pos = this.next;
    while (pos <= text.length) {
      const nl = text.indexOf('\n', pos);
      let end = nl < 0 ? text.length : nl;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      starts.push(pos);
      this.li++;
      let first = pos;
      while (first < end && isBlank(text.charCodeAt(first))) first++;
      const at = pos;
      pos = nl < 0 ? text.length + 1 : nl + 1;
      if (first < end) {
        this.at = at;
        this.first = first;
        this.end = end;
        this.next = pos;
        return true;
      }
    }
    this.next = pos;
    return false;
  }

  /** The current line and the rule lines after it; then the next line is current (false: none). */
  private rules(): boolean {
    const text = this.text;
    const table = this.table;
    if (!table) this.fail('rule outside a table (missing *table line)', this.li + 1, this.first - this.at + 1);
    let c: number;
    do {
      const { first, end } = this;
      // Fast paths for `-A CHAIN `, the name compared in place: the chain of the previous line (a
      // dump lists a chain's rules together), else one of the next few declared (iptables-save
      // lists the chains' rules in the order it declared them, skipping empty chains). Anything
      // else takes ruleHead (which reads the words and looks the chain up by name).
      const append = text.charCodeAt(first) === 45 && text.charCodeAt(first + 1) === 65 /* A */ && text.charCodeAt(first + 2) === 32;
      const last = this.last;
      if (append && last && last.table === table && isAt(text, first + 3, this.lastName) && wordEnds(text, first + 3 + this.lastName.length, end)) last.add(this.li);
      else this.firstOfChain(table!, append);
      // `-c`: the rule has counters, which hasCounters must know now.
      if (this.countersOption.in(first, end)) this.eager.add(this.lastChain!);
      if (!this.advance()) return false;
      c = text.charCodeAt(this.first);
    } while (c === 91 || c === 45);
    return true;
  }

  /** A rule line of another chain than the line before it. */
  private firstOfChain(table: Table, append: boolean): void {
    const text = this.text;
    const { first, end } = this;
    let chain: LazyChain | undefined;
    if (append) {
      const chains = table.chains;
      const from = this.last && this.last.table === table ? this.lastChain!.position + 1 : 0;
      for (let k = from; k < from + 4 && k < chains.length && !chain; k++) {
        const name = chains[k].name;
        const e = first + 3 + name.length;
        // (A quote in the next word: ruleHead reads the whole line's quoting; a name that
        // reads as an option is refused by ruleHead.)
        if (isAt(text, first + 3, name) && wordEnds(text, e, end) && !quotedWordAt(text, e, end) && name.charCodeAt(0) !== 45) chain = chains[k] as LazyChain;
      }
    }
    let insert = false;
    if (!chain) {
      const head = ruleHead(table, text.slice(this.at, end), first - this.at, this.li + 1, this.doc.source, this.doc.rs);
      chain = head.chain as LazyChain;
      insert = head.insert;
    }
    this.last = chain.defer(table, this.doc, this.li);
    // `-I` (a command word, never an option): positions depend on earlier lines.
    if (insert) this.last.inserts = true;
    this.lastName = chain.name;
    this.lastChain = chain;
  }

  /** The current line and the chain declarations after it; then the next line is current (false: none). */
  private declarations(): boolean {
    const text = this.text;
    const table = this.table;
    const { source, rs } = this.doc;
    if (!table) this.fail('chain declaration outside a table (missing *table line)', this.li + 1, this.first - this.at + 1);
    do {
      const { at, first, end } = this;
      if (first !== at || !declarePlainChain(table!, text, at, end, this.li + 1, source, rs)) declareChain(table!, text.slice(at, end), first - at, this.li + 1, source, rs);
      if (!this.advance()) return false;
    } while (text.charCodeAt(this.first) === 58);
    return true;
  }

  /** A comment, a table, COMMIT, or a line that is none of these. */
  private other(c: number): void {
    const { rs } = this.doc;
    const line = this.text.slice(this.at, this.end);
    const f = this.first - this.at;
    const lineNo = this.li + 1;
    if (c === 35 /* # */) {
      const w = /^#\s*Warning:\s*(.*)$/.exec(line.slice(f));
      if (w) rs.warnings.push(w[1]);
      // iptables-nft-save ≥ 1.8.8 ("contains incompatible base-chains") and older ("is incompatible").
      const inc = /^# Table [`'](.+)' (?:contains incompatible base-chains|is incompatible)/.exec(line.slice(f));
      if (inc) (rs.incompleteTables ??= []).push(inc[1]);
      return;
    }
    if (c === 42 /* * */) {
      if (this.table) this.fail(`table ${this.table.name} (line ${this.tableLine}) has no COMMIT before a new table starts`, lineNo, f + 1);
      const name = line.slice(f + 1).trim();
      if (!TABLE_NAME.test(name)) this.fail(`bad table name ${JSON.stringify(name)}`, lineNo, f + 2);
      let table = this.tablesByName.get(name);
      if (!table) {
        table = { name, chains: [], chainsByName: new Map() };
        rs.tables.push(table);
        this.tablesByName.set(name, table);
      }
      this.table = table;
      this.tableLine = lineNo;
      return;
    }
    if (c === 67 /* C */ && line.startsWith('COMMIT', f) && line.slice(f + 6).trimEnd() === '') {
      if (!this.table) this.fail('COMMIT outside a table', lineNo, f + 1);
      this.table = undefined;
      return;
    }
    this.fail(`not an iptables-save line: ${JSON.stringify(line.slice(f, f + 40))}`, lineNo, f + 1);
  }

  private fail(reason: string, line: number, column: number): never {
    throw new ParseError(this.doc.source, reason, line, column);
  }
}

/** Is `s` at `text[at]`? (String.prototype.startsWith with a position costs ~10× more on a 14 MB text.) */
function isAt(text: string, at: number, s: string): boolean {
  if (at + s.length > text.length) return false;
  for (let k = 0; k < s.length; k++) if (text.charCodeAt(at + k) !== s.charCodeAt(k)) return false;
  return true;
}

/** Does a word end at `e` (a blank, or the end of the line)? */
function wordEnds(text: string, e: number, end: number): boolean {
  return e === end || isBlank(text.charCodeAt(e));
}

/** Does the word after the blanks at text[from, end) have a quote in it? */
function quotedWordAt(text: string, from: number, end: number): boolean {
  let j = from;
  while (j < end && isBlank(text.charCodeAt(j))) j++;
  for (; j < end; j++) {
    const c = text.charCodeAt(j);
    if (isBlank(c)) return false;
    if (c === 34 || c === 39) return true;
  }
  return false;
}

/**
 * Finds the option words `-c` and `--set-counters` in the lines of a text read in order: a word
 * after a blank (space, tab, CR — what iptables-restore splits words on) and before white space or
 * the end of the line. One regular expression search over the whole text, its next match kept from
 * line to line: linear, and the 100k rule lines are not scanned character by character in
 * JavaScript (that was a third of the pass; two indexOf searches cost twice this one). A word
 * inside a quoted comment is a false alarm, which only costs laziness (the chain is parsed now).
 * (A `-c` at the start of a line is not a rule, which ruleHead rejects.)
 */
class CountersOption {
  private readonly re = /[ \t\r](?:-c|--set-counters)(?=\s|$)/gm;
  /** Where the next match starts, at or after the last line read; -1: none left, -2: not searched yet. */
  private next = -2;
  private nextEnd = 0;

  constructor(private readonly text: string) {}

  /** Does text[from, end) (a line, from its first non-blank) have one of the words? */
  in(from: number, end: number): boolean {
    if (this.next === -1 || (this.next >= end && this.next >= 0)) return false;
    let found = false;
    for (;;) {
      if (this.next < from) {
        this.re.lastIndex = from;
        const m = this.re.exec(this.text);
        if (!m) {
          this.next = -1;
          return found;
        }
        this.next = m.index;
        this.nextEnd = m.index + m[0].length;
      }
      if (this.next >= end) return found;
      if (this.nextEnd <= end) found = true;
      from = this.next + 1;
    }
  }
}

/** White space as `\s` matches it (the old regular expression's word boundary). */
function isSpace(c: number): boolean {
  return isBlank(c) || isOtherSpace(c);
}

/**
 * The structure pass's reading of a rule line: its optional `[packets:bytes]`, the command and the
 * chain, checked as parseRuleLine checks them (same messages and columns). The rest of the line
 * waits for the chain's first use.
 */
function ruleHead(table: Table, line: string, first: number, lineNo: number, source: string, rs: Ruleset): { chain: Chain; insert: boolean } {
  let head = words(line, 'iptables', source, lineNo, { from: first, max: 3 });
  // A quote among them: the whole line's quoting decides, as iptables-restore reads it (an
  // unbalanced quote further on is the error to report, not the odd chain name it leads to).
  if (head.some((t) => t.quoted)) head = words(line, 'iptables', source, lineNo).slice(0, 3);
  let i = 0;
  if (head[0] && !head[0].quoted && head[0].text.startsWith('[')) {
    const counters = parseCounters(head[0].text);
    if (!counters) ruleError(source, lineNo, `bad rule counters ${JSON.stringify(head[0].text)} (expected [packets:bytes])`, head[0]);
    if (counters!.packets || counters!.bytes) rs.hasCounters = true;
    i++;
  }
  const cmd = head[i];
  if (!cmd || cmd.quoted || !isRuleCommand(cmd.text)) ruleError(source, lineNo, `expected -A CHAIN, found ${JSON.stringify(cmd?.text ?? '')}`, cmd);
  const chainTok = head[i + 1];
  if (!chainTok || isOptionToken(chainTok) || isBang(chainTok)) ruleError(source, lineNo, `${cmd.text} without a chain name`, chainTok ?? cmd);
  return { chain: chainFor(table, chainTok, lineNo, source), insert: cmd.text === '-I' || cmd.text === '--insert' };
}

/** The chain a rule line appends to; a built-in chain may be used without its declaration. */
function chainFor(table: Table, chainTok: Token, lineNo: number, source: string): Chain {
  let chain = table.chainsByName.get(chainTok.text);
  if (!chain) {
    if (!isBuiltinChain(table.name, chainTok.text)) ruleError(source, lineNo, `chain ${chainTok.text} is not declared in table ${table.name}`, chainTok);
    // iptables-restore accepts rules for a built-in chain without its `:CHAIN` line.
    chain = newChain(chainTok.text, true, false, 'ACCEPT');
    addChain(table, chain);
  }
  return chain;
}

function parseCounters(text: string): Counters | undefined {
  const m = COUNTERS.exec(text);
  return m ? { packets: Number(m[1]), bytes: Number(m[2]) } : undefined;
}

/** A declaration as iptables-save writes it, up to its counters (sticky: matched at a line's start in the text). */
const PLAIN_DECLARATION = /:([^\s!"']+) ([A-Z-]+) \[(\d+):(\d+)\]/y;

/**
 * The form iptables-save writes (`:KUBE-SVC-X - [0:0]` at the start of the line, 40k of them in a
 * big dump), read in place: exactly what /^:([^\s!"']+) ([A-Z-]+) \[(\d+):(\d+)\]\s*$/ accepts on
 * the line. False for anything else (declareChain then reads the line's words). (A regular
 * expression, not a loop over characters: this runs once per dump, mostly before the JIT has
 * optimized anything, and the expression's native code is fast from the first line.)
 */
function declarePlainChain(table: Table, text: string, at: number, end: number, lineNo: number, source: string, rs: Ruleset): boolean {
  PLAIN_DECLARATION.lastIndex = at;
  const m = PLAIN_DECLARATION.exec(text);
  if (!m) return false;
  // (The name and policy cannot run past the line: a line break is white space.)
  for (let j = at + m[0].length; j < end; j++) if (!isSpace(text.charCodeAt(j))) return false;
  const counters = { packets: Number(m[3]), bytes: Number(m[4]) };
  if (counters.packets || counters.bytes) rs.hasCounters = true;
  defineChain(table, m[1], m[2], counters, 2, lineNo, source);
  return true;
}

/** A chain declaration in any other form (quoted name, other white space, a bad line): read from its words. */
function declareChain(table: Table, line: string, first: number, lineNo: number, source: string, rs: Ruleset): void {
  const toks = words(line, 'iptables', source, lineNo, { from: first + 1 });
  const [nameTok, policyTok, countersTok, extra] = toks;
  if (!nameTok || !CHAIN_NAME.test(nameTok.text)) throw new ParseError(source, 'chain declaration without a chain name', lineNo, first + 2);
  if (!policyTok) throw new ParseError(source, `chain ${nameTok.text}: missing policy (ACCEPT, DROP or -)`, lineNo, nameTok.column + nameTok.text.length);
  if (!/^[A-Z-]+$/.test(policyTok.text)) throw new ParseError(source, `chain ${nameTok.text}: bad policy ${JSON.stringify(policyTok.text)}`, lineNo, policyTok.column);
  let counters: Counters | undefined;
  if (countersTok) {
    counters = parseCounters(countersTok.text);
    if (!counters) throw new ParseError(source, `chain ${nameTok.text}: bad counters ${JSON.stringify(countersTok.text)} (expected [packets:bytes])`, lineNo, countersTok.column);
    if (counters.packets || counters.bytes) rs.hasCounters = true;
  }
  if (extra) throw new ParseError(source, `unexpected ${JSON.stringify(extra.text)} after chain declaration`, lineNo, extra.column);
  defineChain(table, nameTok.text, policyTok.text, counters, nameTok.column, lineNo, source);
}

function defineChain(table: Table, name: string, policy: string, counters: Counters | undefined, nameColumn: number, lineNo: number, source: string): void {
  const builtin = isBuiltinChain(table.name, name);
  const existing = table.chainsByName.get(name);
  if (existing) {
    if (existing.declared) throw new ParseError(source, `chain ${name} declared twice in table ${table.name}`, lineNo, nameColumn);
    existing.declared = true;
  }
  const chain: Chain = existing ?? newChain(name, builtin, true);
  if (policy !== '-') chain.policy = policy;
  else if (builtin) chain.policy = undefined;
  chain.counters = counters;
  if (!existing) addChain(table, chain);
}

function isOptionToken(t: Token | undefined): boolean {
  if (!t || t.quoted) return false;
  const s = t.text;
  if (s.length < 2 || s.charCodeAt(0) !== 45 /* - */) return false;
  const c = s.charCodeAt(1);
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c === 45 && s.length > 2);
}

function isBang(t: Token | undefined): boolean {
  return !!t && !t.quoted && t.text === '!';
}

interface ParsedRule {
  rule: Rule;
  chain: Chain;
  /** 1-based position for `-I` (undefined for `-A`). */
  insertAt?: number;
  /** Column of the `-A`/`-I` word (where an out-of-range `-I` is reported). */
  cmdColumn: number;
}

function parseRuleLine(doc: Doc, table: Table, buf: WordBuffer, lineNo: number, hint?: Chain): ParsedRule {
  const { source, rs } = doc;
  const toks = buf.tokens;
  const n = buf.count;
  // No closure per line (100k-rule dumps make every per-line allocation count): errors go
  // through ruleError(source, lineNo, reason, token). The rule's arrays are built at their exact
  // size (see `append`): a kept rule is ~9 small arrays, and an array grown by push keeps room
  // for 17 (a 100k-rule dump parsed in full held 173 MB of heap; 102 MB at exact sizes).
  let i = 0;
  let counters: Counters | undefined;
  const head = tok(toks, n, 0);
  if (head && !head.quoted && head.text.startsWith('[')) {
    counters = parseCounters(head.text);
    if (!counters) ruleError(source, lineNo, `bad rule counters ${JSON.stringify(head.text)} (expected [packets:bytes])`, head);
    i++;
  }
  const cmd = tok(toks, n, i);
  let insertAt: number | undefined;
  if (!cmd || cmd.quoted || !isRuleCommand(cmd.text)) {
    ruleError(source, lineNo, `expected -A CHAIN, found ${JSON.stringify(cmd?.text ?? '')}`, cmd);
  }
  const chainTok = tok(toks, n, i + 1);
  if (!chainTok || isOptionToken(chainTok) || isBang(chainTok)) ruleError(source, lineNo, `${cmd.text} without a chain name`, chainTok ?? cmd);
  i += 2;
  if (cmd.text === '-I' || cmd.text === '--insert') {
    const at = tok(toks, n, i);
    if (at && /^\d+$/.test(at.text) && !at.quoted) {
      insertAt = Number(at.text);
      i++;
    } else insertAt = 1;
  }
  // The structure pass already found the chain (`hint`): no second lookup, and the rule shares its name.
  const chain = hint && hint.name === chainTok.text ? hint : chainFor(table, chainTok, lineNo, source);

  let matches: Match[] = [];
  let target: Target | undefined;
  let ctx: { options: RuleOption[] } | undefined;
  let proto: string | undefined;
  let pendingNeg: Token | undefined;
  while (i < n) {
    const t = toks[i];
    if (isBang(t)) {
      if (pendingNeg) ruleError(source, lineNo, 'double negation "! !"', t);
      pendingNeg = t;
      i++;
      continue;
    }
    if (!isOptionToken(t)) ruleError(source, lineNo, `unexpected word ${JSON.stringify(t.text)} (expected an option)`, t);
    const name = nameOf(doc, t.text);
    i++;
    if (name === '-m' || name === '--match') {
      if (pendingNeg) ruleError(source, lineNo, '"!" cannot negate -m', pendingNeg);
      const mod = tok(toks, n, i);
      if (!mod || isOptionToken(mod) || isBang(mod)) ruleError(source, lineNo, '-m without a module name', t);
      i++;
      const known = MATCH_NAMES.get(mod.text);
      const m: Match = { module: known ?? nameOf(doc, mod.text), options: [], known: known !== undefined };
      matches = append(matches, m);
      ctx = m;
      continue;
    }
    if (name === '-j' || name === '--jump' || name === '-g' || name === '--goto') {
      if (pendingNeg) ruleError(source, lineNo, `"!" cannot negate ${name}`, pendingNeg);
      if (target) ruleError(source, lineNo, 'a rule has only one target', t);
      const tt = tok(toks, n, i);
      if (!tt || isOptionToken(tt) || isBang(tt)) ruleError(source, lineNo, `${name} without a target`, t);
      i++;
      target = { name: tt.text, goto: name === '-g' || name === '--goto', options: [], kind: 'unknown' };
      ctx = target;
      continue;
    }
    if (name === '-c' || name === '--set-counters') {
      const p = tok(toks, n, i);
      const b = tok(toks, n, i + 1);
      if (!p || !b || !/^\d+$/.test(p.text) || !/^\d+$/.test(b.text)) ruleError(source, lineNo, `${name} needs two numbers (packets bytes)`, t);
      counters = { packets: Number(p.text), bytes: Number(b.text) };
      i += 2;
      continue;
    }
    let negated = false;
    if (pendingNeg) {
      negated = true;
      pendingNeg = undefined;
    }
    const arity = basicArity(name);
    if (arity >= 0) {
      let values: string[] = [];
      if (arity === 1) {
        // Old syntax puts the `!` between the option and its value (`-s ! 10.0.0.0/8`).
        if (isBang(tok(toks, n, i)) && tok(toks, n, i + 1) && !isOptionToken(tok(toks, n, i + 1))) {
          negated = !negated;
          i++;
        }
        const v = tok(toks, n, i);
        if (!v || isOptionToken(v) || isBang(v)) ruleError(source, lineNo, `${name} needs a value`, t);
        values = [v.text];
        i++;
        if (name === '-p' || name === '--protocol') proto = v.text;
      }
      const opt: RuleOption = { name, values, negated };
      // Consecutive header options form one group; a module's context survives them
      // (`-m tcp --dport 1 -s x --sport 2` gives --sport to tcp, as iptables does).
      const last = matches[matches.length - 1];
      if (last && last.module === '') last.options = append(last.options, opt);
      else matches = append(matches, { module: '', options: [opt], known: true });
      continue;
    }
    if (!ctx) {
      // `-p tcp --dport 80` without `-m tcp`: iptables loads the protocol's module implicitly.
      const mod = proto ? IMPLICIT_PROTO_MODULES.get(proto.toLowerCase()) : undefined;
      if (!mod) ruleError(source, lineNo, `option ${name} does not belong to any match (-m) or target (-j)`, t);
      const m: Match = { module: mod!, options: [], implicit: true, known: KNOWN_MATCHES.has(mod!) };
      matches = append(matches, m);
      ctx = m;
    }
    let values: string[];
    const arg = tok(toks, n, i);
    if (STRING_OPTIONS.has(name) && arg && !isBang(arg)) {
      // String options take exactly one argument, whatever it looks like (getopt's required_argument;
      // iptables-save writes `--comment -x` unquoted since `-x` is plain).
      values = [arg.text];
      i++;
    } else {
      // Values: every following word up to the next option or `!` (a quoted word is always a value).
      if (isBang(arg) && tok(toks, n, i + 1) && !isOptionToken(tok(toks, n, i + 1)) && !isBang(tok(toks, n, i + 1))) {
        negated = !negated;
        i++;
      }
      let end = i;
      while (end < n && !isOptionToken(toks[end]) && !isBang(toks[end])) end++;
      values = end - i === 1 ? [toks[i].text] : toks.slice(i, end).map(tokenText);
      i = end;
    }
    ctx!.options = append(ctx!.options, { name, values, negated });
  }
  if (pendingNeg) ruleError(source, lineNo, '"!" at the end of a rule negates nothing', pendingNeg);
  const natOption = target && natAddressOption(target.name);
  if (natOption) checkNatAddresses(target!, natOption, rs.family, toks, n, lineNo, source);
  if (counters && (counters.packets || counters.bytes)) rs.hasCounters = true;
  const rule: Rule = { num: 0, chain: chain.name, matches, target, counters, line: lineNo };
  return { rule, chain, insertAt, cmdColumn: cmd.column };
}

const tokenText = (t: Token): string => t.text;

/** Word k of a WordBuffer's n words (undefined past the end: the entries there are stale). */
function tok(toks: Token[], n: number, k: number): Token | undefined {
  return k < n ? toks[k] : undefined;
}

/**
 * `list` with `item` added, as an array of exactly the new length while it is short (a copy of at
 * most 3 items); a longer one grows in place.
 */
function append<T>(list: T[], item: T): T[] {
  switch (list.length) {
    case 0:
      return [item];
    case 1:
      return [list[0], item];
    case 2:
      return [list[0], list[1], item];
    case 3:
      return [list[0], list[1], list[2], item];
    default:
      list.push(item);
      return list;
  }
}

/** The address option of a NAT target that iptables-restore checks when it loads the rule. */
function natAddressOption(target: string): string | undefined {
  return target === 'DNAT' ? '--to-destination' : target === 'SNAT' ? '--to-source' : undefined;
}

/**
 * iptables-restore rejects a DNAT/SNAT whose address does not parse (`--to-destination  --random`
 * from a corrupt dump: `Bad IP address ""`); reject it the same way, at the same line.
 */
function checkNatAddresses(target: Target, option: string, family: Family, toks: Token[], n: number, lineNo: number, source: string): void {
  for (const o of target.options) {
    if (o.name !== option) continue;
    let k = 0;
    while (k < n && (toks[k].quoted || toks[k].text !== option)) k++;
    const at = tok(toks, n, k);
    const next = tok(toks, n, k + 1);
    if (o.values.length === 0) {
      // getopt takes the next word as the argument; its address part (before any `-`) is empty.
      if (!next) ruleError(source, lineNo, `option "${option}" requires an argument`, at);
      ruleError(source, lineNo, 'Bad IP address ""', next);
    }
    const v = o.values[0];
    let addr = v;
    if (v.startsWith('[')) addr = v.slice(1, Math.max(1, v.indexOf(']')));
    else if (family === 4 && v.indexOf(':') === v.lastIndexOf(':')) addr = v.split(':')[0];
    if (addr === '') continue; // ports only (`:80`)
    // (An address of the other family is left to the simulator: without a header the family is a guess.)
    for (const a of addr.split(family === 4 && !v.startsWith('[') ? '-' : /-(?=[0-9a-fA-F:.]+$)/)) {
      if (!parseIP(a)) ruleError(source, lineNo, `Bad IP address ${JSON.stringify(a)}`, next ?? at);
    }
  }
}

/** 0-based place of a chain's rule line among the `before` rules ahead of it (`-A`: the end). */
function insertPosition({ rule, chain, insertAt, cmdColumn }: ParsedRule, before: number, source: string): number {
  if (insertAt === undefined) return before;
  if (insertAt < 1 || insertAt > before + 1) throw new ParseError(source, `-I ${chain.name} ${insertAt}: index out of range`, rule.line, cmdColumn);
  return insertAt - 1;
}

function ruleError(source: string, lineNo: number, reason: string, t: Token | undefined): never {
  throw new ParseError(source, reason, lineNo, t ? t.column : 1);
}

/** Sets the target's kind, and its name to the one copy of it (the chain's own, for a jump to a chain). */
function classifyTarget(table: Table, target: Target, doc: Doc): void {
  const name = target.name;
  const chain = VERDICTS.has(name) ? undefined : table.chainsByName.get(name);
  if (chain) {
    target.kind = 'chain';
    target.name = chain.name;
    return;
  }
  target.kind = VERDICTS.has(name) ? 'verdict' : KNOWN_TARGETS.has(name) ? 'extension' : 'unknown';
  target.name = nameOf(doc, name);
}
