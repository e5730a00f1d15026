// The one error type every netstack parser throws. Garbage input must never surface as
// anything else (a TypeError from deep inside a parser is a bug), so that callers can say
// precisely which tool output, line and column is bad.

export class ParseError extends Error {
  override name = 'ParseError';
  constructor(
    /** Which tool output was being read, e.g. `iptables-save`, `ip -j route`. */
    readonly source: string,
    readonly reason: string,
    /** 1-based line of the input; 0 when the input is one JSON document that failed as a whole. */
    readonly line: number,
    /** 1-based column; 0 when unknown. */
    readonly column: number,
  ) {
    super(`${source}: line ${line}${column ? `, column ${column}` : ''}: ${reason}`);
  }
}

/** 1-based line and column of a character offset in a text. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
