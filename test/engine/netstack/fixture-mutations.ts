// fast-check arbitraries that damage real fixture text, for the "parse or ParseError, nothing
// else" property of the netstack parsers: character edits, truncation, and — for JSON — field
// values swapped for other JSON types, fields dropped, and whole random JSON documents.
import fc from 'fast-check';
import { ParseError } from '../../../src/engine/netstack/parse-error';

const NOISE = fc.oneof(
  fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', '\n', '\t', ' ', '=', '.', '/', '-', '0', '9', 'e', 'null', 'true', '1e999', '-0', '\u0000', '\u2028', '\ud800'),
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 3 }),
);

/** One to three character-level edits, or a truncation, of `text`. */
export function textMutation(text: string): fc.Arbitrary<string> {
  const n = text.length;
  const edit = fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(n), len: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(n), s: NOISE }),
    fc.record({ op: fc.constant('replace' as const), at: fc.nat(n), s: NOISE }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat(n) }),
    fc.record({ op: fc.constant('dup' as const), at: fc.nat(n), len: fc.integer({ min: 1, max: 200 }) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
    let t = text;
    for (const e of edits) {
      const at = Math.min(e.at, t.length);
      switch (e.op) {
        case 'delete': t = t.slice(0, at) + t.slice(at + e.len); break;
        case 'insert': t = t.slice(0, at) + e.s + t.slice(at); break;
        case 'replace': t = t.slice(0, at) + e.s + t.slice(at + 1); break;
        case 'truncate': t = t.slice(0, at); break;
        case 'dup': t = t.slice(0, at) + t.slice(at, at + e.len) + t.slice(at); break;
      }
    }
    return t;
  });
}

/** Paths to every value inside a JSON document (arrays by index, objects by key). */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (out.length > 5000) return out;
  if (Array.isArray(v)) v.forEach((x, i) => { out.push([...prefix, i]); paths(x, [...prefix, i], out); });
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) { out.push([...prefix, k]); paths(x, [...prefix, k], out); }
  }
  return out;
}

const WEIRD_VALUES = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, '', 'x', '300.1.1.1', '::g', [], {}, ['UP'], [1], { a: 1 }),
);

/** Parsed `text`, with one to three values replaced by other JSON (types change) or deleted. */
export function jsonMutation(text: string): fc.Arbitrary<string> {
  const doc = JSON.parse(text);
  const all = paths(doc);
  if (all.length === 0) return fc.jsonValue().map((v) => JSON.stringify(v));
  const change = fc.record({ path: fc.constantFrom(...all), del: fc.boolean(), value: WEIRD_VALUES });
  return fc.array(change, { minLength: 1, maxLength: 3 }).map((changes) => {
    const d = structuredClone(doc);
    for (const c of changes) {
      let parent: any = d;
      for (const k of c.path.slice(0, -1)) {
        if (parent === null || typeof parent !== 'object') break;
        parent = parent[k];
      }
      if (parent === null || typeof parent !== 'object') continue;
      const last = c.path[c.path.length - 1];
      if (c.del) {
        if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
        else delete parent[last];
      } else parent[last] = structuredClone(c.value); // fresh copy: a shared object could form a cycle
    }
    return JSON.stringify(d);
  });
}

/** Mutated variants of several fixtures, plus entirely random JSON documents. */
export function jsonInputs(fixtures: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(...fixtures.map(textMutation)) },
    { weight: 4, arbitrary: fc.oneof(...fixtures.map(jsonMutation)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.array(fc.dictionary(fc.constantFrom('ifindex', 'ifname', 'dst', 'dev', 'mac', 'flags', 'state', 'addr_info', 'linkinfo', 'lladdr', 'link_index'), WEIRD_VALUES)).map((v) => JSON.stringify(v)) },
  );
}

/** Tally of outcomes, so a test can show its mutations reach both paths. */
export const outcomes = { parsed: 0, parseError: 0 };

/** Runs `parse`; passes when it returns or throws a ParseError, rethrows anything else. */
export function parsesOrParseError(parse: () => unknown): void {
  try {
    parse();
    outcomes.parsed++;
  } catch (e) {
    if (e instanceof ParseError) {
      if (!Number.isInteger(e.line) || !Number.isInteger(e.column) || e.line < 0 || e.column < 0) {
        throw new Error(`ParseError with bad position ${e.line}:${e.column}`);
      }
      outcomes.parseError++;
      return;
    }
    throw e;
  }
}

/** `12 parsed, 9988 ParseError` since the last call. */
export function takeOutcomes(): string {
  const r = `${outcomes.parsed} parsed, ${outcomes.parseError} ParseError`;
  outcomes.parsed = 0;
  outcomes.parseError = 0;
  return r;
}
