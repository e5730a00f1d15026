// Reading the JSON that iproute2 prints (`ip -j …`, `bridge -j …`) with errors that name a
// line/column, or the element index and field, instead of surfacing a TypeError later.
// JSON.parse does the parsing; only when it fails do we scan the text ourselves, because
// V8's message carries a position for some errors only ("Unexpected token '}', …" has none).
import { ParseError, positionOf } from './parse-error';

export type JsonObject = Record<string, unknown>;

/**
 * Parses one iproute2 JSON document that must be an array of objects. Whitespace-only input is
 * an empty list: some iproute2 versions print nothing at all when there are no entries.
 */
export function parseJsonArray(text: string, source: string): JsonArrayReader {
  if (typeof text !== 'string') throw new ParseError(source, 'input is not text', 0, 0);
  if (text.trim() === '') return new JsonArrayReader([], text, source);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const offset = jsonErrorOffset(text);
    const { line, column } = positionOf(text, offset);
    const why = e instanceof Error ? e.message.replace(/, ".*$/s, '') : 'invalid JSON';
    throw new ParseError(source, `invalid JSON: ${why}`, line, column);
  }
  if (!Array.isArray(doc)) throw new ParseError(source, `expected a JSON array, got ${typeName(doc)}`, 1, 1);
  return new JsonArrayReader(doc, text, source);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Gives typed access to the elements of the top-level array, with errors that locate the element. */
export class JsonArrayReader {
  private starts?: number[];
  constructor(readonly items: unknown[], private readonly text: string, readonly source: string) {}

  /** Throws a ParseError located at the start of element `index`. */
  fail(index: number, reason: string): never {
    this.starts ??= topLevelElementOffsets(this.text);
    const off = this.starts[index];
    const { line, column } = off === undefined ? { line: 0, column: 0 } : positionOf(this.text, off);
    throw new ParseError(this.source, `element [${index}]: ${reason}`, line, column);
  }

  object(index: number): ElementReader {
    const v = this.items[index];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(index, `expected an object, got ${typeName(v)}`);
    return new ElementReader(this, index, v as JsonObject);
  }
}

/** Typed field access on one element (or a nested object of it); `path` names nested objects in errors. */
export class ElementReader {
  constructor(
    private readonly arr: JsonArrayReader,
    readonly index: number,
    readonly obj: JsonObject,
    private readonly path = '',
  ) {}

  fail(field: string, reason: string): never {
    return this.arr.fail(this.index, `field "${this.path}${field}": ${reason}`);
  }

  has(field: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.obj, field) && this.obj[field] !== undefined;
  }

  private get(field: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.obj, field) ? this.obj[field] : undefined;
  }

  optString(field: string): string | undefined {
    const v = this.get(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.fail(field, `expected a string, got ${typeName(v)}`);
    return v;
  }

  string(field: string): string {
    const v = this.optString(field);
    if (v === undefined) this.fail(field, 'missing');
    return v;
  }

  optNumber(field: string): number | undefined {
    const v = this.get(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, `expected a number, got ${typeName(v)}`);
    return v;
  }

  /** A non-negative integer (ifindex, MTU, prefix length, VNI, port…). */
  optUint(field: string): number | undefined {
    const v = this.optNumber(field);
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) this.fail(field, `expected a non-negative integer, got ${v}`);
    return v;
  }

  uint(field: string): number {
    const v = this.optUint(field);
    if (v === undefined) this.fail(field, 'missing');
    return v;
  }

  optBool(field: string): boolean | undefined {
    const v = this.get(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(field, `expected a boolean, got ${typeName(v)}`);
    return v;
  }

  optStringArray(field: string): string[] | undefined {
    const v = this.get(field);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(field, `expected an array, got ${typeName(v)}`);
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== 'string') this.fail(`${field}[${i}]`, `expected a string, got ${typeName(v[i])}`);
    }
    return v as string[];
  }

  optObject(field: string): ElementReader | undefined {
    const v = this.get(field);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(field, `expected an object, got ${typeName(v)}`);
    return new ElementReader(this.arr, this.index, v as JsonObject, `${this.path}${field}.`);
  }

  /** Array of objects (e.g. `addr_info`); each item gets a reader whose errors name `field[i]`. */
  optObjectArray(field: string): ElementReader[] | undefined {
    const v = this.get(field);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(field, `expected an array, got ${typeName(v)}`);
    return v.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        this.fail(`${field}[${i}]`, `expected an object, got ${typeName(item)}`);
      }
      return new ElementReader(this.arr, this.index, item as JsonObject, `${this.path}${field}[${i}].`);
    });
  }
}

// ---- error location -------------------------------------------------------------------------

/**
 * Offset of the first syntax error in `text`, found by a small JSON scanner (used only after
 * JSON.parse has already failed, so it need not build values). Returns text.length for
 * "unexpected end of input".
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  class Stop {
    constructor(readonly at: number) {}
  }
  const stop = (at: number): never => {
    throw new Stop(at);
  };
  const str = () => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c < 32) stop(i);
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          for (let k = i + 2; k < i + 6; k++) if (!/[0-9a-fA-F]/.test(text[k] ?? '')) stop(k);
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else stop(i + 1);
      } else i++;
    }
    stop(n);
  };
  // Character by character so the error lands where V8 puts it (after `-`, `.`, `e`, `e+`).
  const digits = () => {
    const from = i;
    while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    if (i === from) stop(i);
  };
  const num = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  // A broken literal fails at its first wrong character (the end of input, if cut short).
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++) if (text[i + k] !== word[k]) stop(i + k);
    i += word.length;
  };
  // Iterative over containers so deeply nested garbage cannot overflow the stack.
  const stack: string[] = [];
  const value = () => {
    ws();
    if (i >= n) stop(n);
    const c = text[i];
    if (c === '"') str();
    else if (c === '-' || (c >= '0' && c <= '9')) num();
    else if (c === 't' || c === 'f' || c === 'n') literal(c === 't' ? 'true' : c === 'f' ? 'false' : 'null');
    else if (c === '{' || c === '[') return c;
    else stop(i);
    return '';
  };
  try {
    let open = value();
    for (;;) {
      if (open === '[') {
        i++;
        ws();
        if (text[i] === ']') {
          i++;
          open = '';
        } else {
          stack.push('[');
          open = value();
          continue;
        }
      } else if (open === '{') {
        i++;
        ws();
        if (text[i] === '}') {
          i++;
          open = '';
        } else {
          if (text[i] !== '"') stop(i);
          str();
          ws();
          if (text[i] !== ':') stop(i);
          i++;
          stack.push('{');
          open = value();
          continue;
        }
      }
      // A value just finished: continue the enclosing container.
      const top = stack[stack.length - 1];
      if (top === undefined) break;
      ws();
      if (text[i] === ',') {
        i++;
        if (top === '{') {
          ws();
          if (text[i] !== '"') stop(i);
          str();
          ws();
          if (text[i] !== ':') stop(i);
          i++;
        }
        open = value();
      } else if ((top === '[' && text[i] === ']') || (top === '{' && text[i] === '}')) {
        i++;
        stack.pop();
        open = '';
      } else stop(i);
    }
    ws();
    return i < n ? i : n;
  } catch (e) {
    if (e instanceof Stop) return e.at;
    throw e;
  }
}

/** Start offsets of the elements of a top-level JSON array (text already known to be valid JSON). */
function topLevelElementOffsets(text: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let inStr = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') continue;
    if (expectElement && depth === 1 && c !== ']') {
      out.push(i);
      expectElement = false;
    }
    if (c === '"') inStr = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return out;
}
