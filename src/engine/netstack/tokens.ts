// The words of one line of a tool's text output, for every netstack parser of a line-oriented
// dump. The tools differ in two things only — which characters separate words and how a word is
// quoted — so each is a Dialect here rather than a tokenizer of its own:
//
// * 'iptables' (iptables-save): splits as iptables-restore does (`add_param_to_argv`): blanks are
//   space, tab and CR; a double-quoted part may contain blanks and backslash escapes (`\"`, `\\`,
//   `\'` — what `xtables_save_string` writes); a single-quoted part is literal (shell-like); quoted
//   and plain parts next to each other join into one word.
// * 'ipset' (ipset save): the same blanks; a word that starts with `"` runs to the next `"`, with no
//   escapes (a comment: ipset refuses a `"` inside one); a quote anywhere else is a plain character.
// * 'columns' (ipvsadm -Sn, ss, /proc/net): columns printed for people, no quoting at all (ss's
//   process column prints quotes of its own); any white space separates them.
import { ParseError } from './parse-error';

export interface Token {
  text: string;
  /** Some part of the word was quoted: it is then always a value, never an option or `!`. */
  quoted: boolean;
  /** 1-based column where the word starts. */
  column: number;
}

export type Dialect = 'iptables' | 'ipset' | 'columns';

export interface Span {
  /** Index in the line where reading starts (columns stay those of the whole line). */
  from?: number;
  /** Stop after this many words; the rest of the line is not read (so not checked either). */
  max?: number;
}

/**
 * The words of `line`. An unterminated quote throws a ParseError at the opening quote;
 * `source` and `lineNo` only name the place.
 */
export function words(line: string, dialect: Dialect, source: string, lineNo: number, span?: Span): Token[] {
  const out: Sink = { tokens: [], count: 0, reuse: false };
  read(out, line, dialect, source, lineNo, span);
  return out.tokens;
}

/** Where a tokenizer puts the words: a new array, or a WordBuffer's reused tokens. */
interface Sink {
  tokens: Token[];
  count: number;
  /** Overwrite the Token objects already in `tokens` (a WordBuffer) instead of allocating. */
  reuse: boolean;
}

/**
 * Storage for the words of one line at a time, reused from line to line: a parser that reads 100k
 * lines (iptables rules) otherwise allocates an object per word per line, most of its garbage.
 * After `read`, tokens[0..count) are the line's words; they stay valid until the next read, and
 * the entries past `count` are stale.
 */
export class WordBuffer implements Sink {
  readonly tokens: Token[] = [];
  count = 0;
  readonly reuse = true;

  read(line: string, dialect: Dialect, source: string, lineNo: number, span?: Span): this {
    this.count = 0;
    read(this, line, dialect, source, lineNo, span);
    return this;
  }

  /** Drops the words read (a long word is a slice that keeps the whole text it came from alive). */
  clear(): void {
    for (const t of this.tokens) t.text = '';
    this.count = 0;
  }
}

function read(out: Sink, line: string, dialect: Dialect, source: string, lineNo: number, span?: Span): void {
  const from = span ? span.from ?? 0 : 0;
  const max = span ? span.max ?? Infinity : Infinity;
  if (max < 1) return;
  if (dialect === 'iptables') {
    // No quote in the line: plain words. A bounded read skips that look at the whole line.
    const plain = max === Infinity && line.indexOf('"', from) < 0 && line.indexOf("'", from) < 0;
    if (plain) plainWords(out, line, false, from, max);
    else shellWords(out, line, source, lineNo, from, max);
  } else if (dialect === 'ipset') {
    if (line.indexOf('"', from) < 0) plainWords(out, line, false, from, max);
    else ipsetWords(out, line, source, lineNo, from, max);
  } else plainWords(out, line, true, from, max);
}

/** Adds a word; returns how many the sink holds. */
function put(out: Sink, text: string, quoted: boolean, column: number): number {
  const t = out.reuse ? out.tokens[out.count] : undefined;
  if (t) {
    t.text = text;
    t.quoted = quoted;
    t.column = column;
  } else out.tokens[out.count] = { text, quoted, column };
  return ++out.count;
}

/** A word separator of the C tools' own readers: space, tab, CR. */
export function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

/** Index of the first character that is not isBlank, or -1 for a blank line. */
export function firstNonBlank(line: string): number {
  for (let i = 0; i < line.length; i++) if (!isBlank(line.charCodeAt(i))) return i;
  return -1;
}

/** What `\s` matches besides isBlank: LF, VT, FF and the Unicode spaces. */
export function isOtherSpace(c: number): boolean {
  if (c < 0xa0) return c === 10 || c === 11 || c === 12;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function plainWords(out: Sink, line: string, any: boolean, from: number, max: number): void {
  let i = from;
  const n = line.length;
  while (i < n) {
    // Two loops rather than one test with `any` in it: this is the iptables hot path.
    if (any) while (i < n && (isBlank(line.charCodeAt(i)) || isOtherSpace(line.charCodeAt(i)))) i++;
    else while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    if (any) while (i < n && !isBlank(line.charCodeAt(i)) && !isOtherSpace(line.charCodeAt(i))) i++;
    else while (i < n && !isBlank(line.charCodeAt(i))) i++;
    if (put(out, line.slice(start, i), false, start + 1) === max) break;
  }
}

// Words are joined from runs (plain, or quoted) copied with slice, not char by char — kube-proxy
// quotes a comment in nearly every rule, so this is a hot path too.
function shellWords(out: Sink, line: string, source: string, lineNo: number, from: number, max: number): void {
  let i = from;
  const n = line.length;
  while (i < n) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const start = i;
    let text = '';
    let quoted = false;
    while (i < n && !isBlank(line.charCodeAt(i))) {
      const c = line.charCodeAt(i);
      if (c === 34 /* " */ || c === 39 /* ' */) {
        quoted = true;
        const open = i;
        i++;
        let closed = false;
        let run = i;
        while (i < n) {
          const d = line.charCodeAt(i);
          if (d === c) {
            text += line.slice(run, i);
            closed = true;
            i++;
            break;
          }
          if (c === 34 && d === 92 /* \ */ && i + 1 < n) {
            text += line.slice(run, i) + line[i + 1];
            i += 2;
            run = i;
            continue;
          }
          i++;
        }
        if (!closed) throw unterminated(source, lineNo, open, c);
      } else {
        const run = i;
        while (i < n) {
          const d = line.charCodeAt(i);
          if (isBlank(d) || d === 34 || d === 39) break;
          i++;
        }
        text += line.slice(run, i);
      }
    }
    if (put(out, text, quoted, start + 1) === max) break;
  }
}

function ipsetWords(out: Sink, line: string, source: string, lineNo: number, from: number, max: number): void {
  let i = from;
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (isBlank(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === 34) {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw unterminated(source, lineNo, start, c);
      if (put(out, line.slice(i + 1, end), true, start + 1) === max) break;
      i = end + 1;
      continue;
    }
    while (i < n && !isBlank(line.charCodeAt(i))) i++;
    if (put(out, line.slice(start, i), false, start + 1) === max) break;
  }
}

function unterminated(source: string, lineNo: number, at: number, quote: number): ParseError {
  return new ParseError(source, `unterminated string: unbalanced ${quote === 34 ? 'double' : 'single'} quote`, lineNo, at + 1);
}
