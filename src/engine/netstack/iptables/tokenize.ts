// Splits one line of an iptables-save dump into words the way iptables-restore does
// (`add_param_to_argv`): blanks separate words; a double-quoted part may contain blanks and
// backslash escapes (`\"`, `\\`, `\'` — what `xtables_save_string` writes); adjacent quoted and
// plain parts join into one word. Single quotes are also accepted (shell-like, no escapes).
import { ParseError } from '../parse-error';

export interface Token {
  text: string;
  /** Some part of the word was quoted: it is then always a value, never an option or `!`. */
  quoted: boolean;
  /** 1-based column where the word starts. */
  column: number;
}

export function tokenizeLine(line: string, lineNo: number, source: string): Token[] {
  const out: Token[] = [];
  // Fast path: most rules have no quotes at all.
  if (line.indexOf('"') < 0 && line.indexOf("'") < 0) {
    let i = 0;
    const n = line.length;
    while (i < n) {
      while (i < n && isBlank(line.charCodeAt(i))) i++;
      if (i >= n) break;
      const start = i;
      while (i < n && !isBlank(line.charCodeAt(i))) i++;
      out.push({ text: line.slice(start, i), quoted: false, column: start + 1 });
    }
    return out;
  }
  // General path: words are joined from runs (plain, or quoted) copied with slice, not char by
  // char — kube-proxy quotes a comment in nearly every rule, so this is the common path too.
  let i = 0;
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
        if (!closed) throw new ParseError(source, `unbalanced ${c === 34 ? 'double' : 'single'} quote`, lineNo, open + 1);
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
    out.push({ text, quoted, column: start + 1 });
  }
  return out;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}
