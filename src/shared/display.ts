// The one place where strings from outside (object and interface names, rule text, snapshot
// content, collector logs, user flags) are made safe to show. Any pod with NET_ADMIN can name an
// interface `e\e[2J`, and anyone can hand over a snapshot: shown raw, such a name clears a
// terminal, forges report lines, reorders text with bidi overrides or becomes a link in a VS Code
// notification. Every output point calls one of these; nothing else escapes by hand.
// Pure (no node:, no vscode): the engine's reports use it too.

/**
 * Characters that change how text is laid out rather than being text: C0 controls (newline and tab
 * included — a name must never add a line), DEL, C1 controls (0x9b is a one-byte CSI on some
 * terminals), the bidi embeddings/overrides/isolates and marks (Trojan Source), and the Unicode
 * line and paragraph separators (new lines in editors and JSON consumers).
 */
const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function hex(c: string, width: number): string {
  return c.charCodeAt(0).toString(16).padStart(width, '0');
}

const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `c` as visible escape text: `\n`, `\x1b`, `\u202e`. */
function escapeChar(c: string): string {
  return named[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`);
}

/** One line of plain text (terminal, log, report, tree label): every layout character escaped visibly. */
export function shown(s: string): string {
  return s.replace(unsafe, escapeChar);
}

/**
 * Text that netpath itself composed of several lines (a usage text, a list of schema problems)
 * but whose pieces may come from outside: escapes like `shown` except the line breaks. Use it only
 * where the lines are netpath's own; put outside strings through `shown` when composing them.
 */
export function shownLines(s: string): string {
  return s.split('\n').map(shown).join('\n');
}

/**
 * A JSON document made display-safe without changing its value: `JSON.stringify` escapes C0
 * controls but leaves DEL, C1 controls, bidi controls and U+2028/9 raw. These can occur only
 * inside JSON strings, so writing them as `\uXXXX` keeps the document equal when parsed.
 */
export function jsonShown(json: string): string {
  return json.replace(unsafeInJson, (c) => `\\u${hex(c, 4)}`);
}
/** `unsafe` less the C0 controls: JSON.stringify escapes those in strings, and its own line breaks are layout. */
const unsafeInJson = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** How many characters of an echoed input an error message repeats before cutting it. */
export const echoLimit = 200;

/**
 * An input echoed back in a message (`--src "…"`), cut to `echoLimit` characters with a marker
 * saying how long it was, and escaped: a 20 MB flag must not come back as a 20 MB error.
 */
export function echoed(s: string, limit = echoLimit): string {
  const cut = s.length > limit ? `${s.slice(0, limit)}… (${s.length} characters, cut)` : s;
  return shown(cut);
}

/**
 * Markdown that shows `s` as literal text (VS Code hovers and tooltips): layout characters escaped
 * as by `shown`, then every character markdown gives a meaning to backslash-escaped, so `![x](url)`
 * is neither an image nor a link, `<img>` is not HTML and `*` is not emphasis. Build the
 * MarkdownString with `isTrusted` false and `supportHtml` false as well.
 */
export function md(s: string): string {
  return shown(s).replace(/[\\`*_{}[\]()#+\-.!|<>~:&"'=@$]/g, '\\$&');
}

/**
 * Text in a VS Code widget that renders `$(name)` as an icon: quick-pick labels, descriptions and
 * details, the status bar. `shown`, then every `$(` written `\$(` (VS Code's escape), so a name
 * cannot draw a check mark or a spinner in front of a forged word.
 */
export function iconless(s: string): string {
  return shown(s).replace(/\$\(/g, '\\$(');
}

/**
 * A notification message (VS Code renders `[text](command:…)` and `[text](https://…)` in them as
 * links, with no way to escape). A toast is one paragraph: line breaks (netpath's own, between the
 * problems of a snapshot) become spaces; then `shown`, and a zero-width space between `]` and `(`
 * so no link can form; the text reads the same.
 */
export function notice(s: string): string {
  return shown(s.replace(/\s*\n\s*/g, ' ')).replace(/\](\s*)\(/g, ']\u200b$1(');
}
