// Strings from the cluster (names, interface names, rule comments) are hostile: the terminal
// reports of diff, matrix and what-if show control characters escaped, never raw.

/** `text` with C0/C1 control characters and DEL as `\xNN` (backslashes doubled so the escape is unambiguous). */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
