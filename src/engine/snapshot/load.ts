// Loading a snapshot: text in, a fully validated NetpathSnapshot out, or a SnapshotError whose
// message names each bad field as a path (`dumps.node1.netns[2].routes: must be array`). Pure:
// the caller reads the file. Nothing is returned unless everything checked out.
import Ajv, { type CodeOptions, type ErrorObject, type ValidateFunction } from 'ajv';
import type { NodeNetworkStackDump } from '../../shared/dump';
import { BadInputError } from '../../shared/errors';
import { echoed, shown } from '../../shared/display';
import { dumpSchema, snapshotSchema, validatedSchemas } from './schema';
import { kubernetesNames, snapshotFormats } from './formats';
import { precompiled } from './precompiled';
import type { K8sObject, NetpathSnapshot } from './types';
import { bytesOfText, checkSnapshotBytes, isSnapshotV2 } from './format';
import { engineLimits, limitNamed, type EngineLimits } from '../../shared/limits';
import { jsonDepthOver, segment } from './depth';

export { segment };

export interface SnapshotProblem {
  /** Dotted path of the bad field, `(root)` for the document itself. */
  path: string;
  message: string;
}

/**
 * Limits of loading a snapshot or a dump (src/shared/limits.ts): each names itself, its flag and
 * its setting in its error, and the caller can raise it. They keep a hostile or broken file from
 * costing unbounded time and memory before it is refused.
 */
export type SnapshotLimits = Pick<EngineLimits, 'maxSnapshotChars' | 'maxSnapshotProblems' | 'maxJsonDepth'>;

export const DEFAULT_SNAPSHOT_LIMITS: Required<SnapshotLimits> = {
  maxSnapshotChars: engineLimits.maxSnapshotChars.default,
  maxSnapshotProblems: engineLimits.maxSnapshotProblems.default,
  maxJsonDepth: engineLimits.maxJsonDepth.default,
};

/** The snapshot (or a dump in it) is not valid: bad input of the source. */
export class SnapshotError extends BadInputError {
  override name = 'SnapshotError';
  constructor(
    /** What was being read, e.g. `snapshot` or `dump node1 (n1.json)`. */
    readonly subject: string,
    readonly problems: SnapshotProblem[],
    /** More problems exist than `problems` lists (collection stopped at maxSnapshotProblems). */
    readonly truncated = false,
  ) {
    // Paths and messages quote the document's keys and values: one line each, whatever they hold.
    const listed = problems.slice(0, 5).map((p) => shown(`${p.path}: ${p.message}`));
    const hidden = problems.length - listed.length;
    const more = truncated
      ? `\n  … and more (${hidden ? `${hidden} more listed, ` : ''}collection stopped at ${limitNamed('maxSnapshotProblems', problems.length)})`
      : hidden > 0
        ? `\n  … and ${hidden} more`
        : '';
    super(`invalid ${shown(subject)}: ${listed.join('\n  ')}${more}`, 'source');
  }
}

/** Throws a SnapshotError when there are problems, listing at most `max` of them. */
export function refuse(subject: string, problems: SnapshotProblem[], max: number): void {
  if (problems.length === 0) return;
  if (problems.length > max) throw new SnapshotError(subject, problems.slice(0, max), true);
  throw new SnapshotError(subject, problems);
}

/**
 * The ajv every snapshot schema is compiled with. Compiling is on the path of every cold answer: the
 * schemas are fixed and tested, so they are not checked against the meta-schema again, and the
 * generated code is not optimised (either cost more CPU than the validations they would speed up).
 * `code` is for the standalone compilation at build time (scripts/standalone-validators.ts).
 */
export function snapshotAjv(code: CodeOptions = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, validateSchema: false, code: { optimize: false, ...code } });
  for (const [format, test] of Object.entries(snapshotFormats)) ajv.addFormat(format, test);
  return ajv;
}

let ajv: Ajv | undefined;
const compiled = new Map<object, ValidateFunction>();
const schemaNames = new Map<object, string>(Object.entries(validatedSchemas).map(([name, schema]) => [schema, name]));

/** The bundles carry every validatedSchemas validator compiled at build time; from source they are compiled here on first use. */
function validator(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    const name = schemaNames.get(schema);
    v = (name !== undefined ? precompiled?.[name] : undefined) ?? (ajv ??= snapshotAjv()).compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** `/dumps/node1/netns/2/routes` → `dumps.node1.netns[2].routes`, indexes told apart by the data. */
export function formatPath(pointer: string, data: unknown, prefix = ''): string {
  let out = prefix;
  let cur: unknown = data;
  if (pointer !== '') {
    for (const raw of pointer.slice(1).split('/')) {
      const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      out += segment(seg, Array.isArray(cur));
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function valueAt(pointer: string, data: unknown): unknown {
  let cur = data;
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return cur;
}


function describe(e: ErrorObject, data: unknown, prefix: string): SnapshotProblem {
  const at = formatPath(e.instancePath, data, prefix);
  const clean = (p: string) => (p.startsWith('.') ? p.slice(1) : p) || '(root)';
  switch (e.keyword) {
    case 'required':
      return { path: clean(at + segment(String(e.params.missingProperty), false)), message: 'required field is missing' };
    case 'additionalProperties':
      return { path: clean(at + segment(String(e.params.additionalProperty), false)), message: 'unknown field' };
    case 'const':
      return { path: clean(at), message: `must be ${JSON.stringify(e.params.allowedValue)}` };
    case 'enum':
      return { path: clean(at), message: `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'format': {
      const names = kubernetesNames[String(e.params.format)];
      // A key that breaks a rule (`propertyNames`) is reported at the key itself.
      if (names) {
        const value = e.propertyName ?? String(valueAt(e.instancePath, data));
        return { path: clean(e.propertyName === undefined ? at : at + segment(e.propertyName, false)), message: `"${echoed(value)}" ${names.message}` };
      }
      return { path: clean(at), message: `must be ${e.params.format === 'ip' ? 'an IP address' : e.params.format === 'cidr' ? 'a CIDR prefix (address/length)' : 'an ISO 8601 date-time'}` };
    }
    default:
      return { path: clean(at), message: e.message ?? e.keyword };
  }
}

/**
 * Schema problems of `data` (empty when valid). `prefix` is prepended to paths (e.g. `dumps.n1`).
 * Describes at most `max + 1` distinct problems: more than `max` means "… and more".
 */
export function schemaProblems(schema: object, data: unknown, prefix = '', max = DEFAULT_SNAPSHOT_LIMITS.maxSnapshotProblems): SnapshotProblem[] {
  const v = validator(schema);
  if (v(data)) return [];
  const seen = new Set<string>();
  const out: SnapshotProblem[] = [];
  for (const e of v.errors ?? []) {
    if (out.length > max) break;
    // `propertyNames` repeats the failure of its inner `format` check, which names the rule.
    if (e.keyword === 'propertyNames') continue;
    const p = describe(e, data, prefix);
    const key = `${p.path}\0${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}

/**
 * JSON.parse with the failure located by line and column; a leading UTF-8 BOM is accepted. The
 * nesting is checked right after parsing (`maxJsonDepth`): Kubernetes objects nest a few dozen
 * levels; far deeper documents exist only to break things (the structured clone to the server's
 * worker and recursive readers overflow the stack a few thousand levels down), so the CLI and the
 * server refuse the same documents.
 */
export function parseJsonDocument(text: string, subject: string, maxDepth = DEFAULT_SNAPSHOT_LIMITS.maxJsonDepth): unknown {
  // Editors on Windows save "UTF-8 with BOM"; the BOM is an encoding mark, not content.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    // V8 names the position for some errors only ("Unexpected token 'x', "…" is not valid JSON" has none).
    const m = /position (\d+)/.exec((e as Error).message);
    const offset = m ? Number(m[1]) : jsonErrorOffset(body);
    const before = body.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    throw new SnapshotError(subject, [{ path: '(root)', message: `not JSON (line ${line}, column ${column}): ${(e as Error).message.replace(/, ".*$/s, '').replace(/ (?:in JSON )?at position \d+.*$/s, '')}` }]);
  }
  checkDepth(value, subject, maxDepth);
  return value;
}

/** Throws a SnapshotError naming the path of a value nested deeper than `maxDepth` levels. */
export function checkDepth(value: unknown, subject: string, maxDepth: number): void {
  const depth = jsonDepthOver(value, maxDepth);
  if (depth) throw new SnapshotError(subject, [{ path: depth, message: `nested deeper than ${limitNamed('maxJsonDepth', maxDepth)}` }]);
}

/**
 * Offset of the first syntax error in `text` (which JSON.parse rejected), for the messages where V8
 * gives none. A scanner of JSON's grammar with an explicit stack (no recursion: the text may nest
 * arbitrarily deep); it only has to agree with JSON.parse on where the text stops being JSON.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const scalar = (): boolean => {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        const code = text.charCodeAt(i);
        if (code < 0x20) return false;
        if (text[i] === '\\') {
          const e = text[i + 1];
          if (e === 'u') {
            if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return false;
            i += 6;
          } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
          else return false;
        } else i++;
      }
      if (i >= text.length) return false;
      i++;
      return true;
    }
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!m) return false;
    i += m[0].length;
    return true;
  };
  // Each open container: '[' or '{'; `expect` says what may come next.
  const open: string[] = [];
  let expect: 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'commaOrClose' = 'value';
  for (;;) {
    ws();
    if (i >= text.length) return i;
    const c = text[i];
    const top = open[open.length - 1];
    switch (expect) {
      case 'valueOrClose':
      case 'value':
        if (expect === 'valueOrClose' && c === ']') {
          open.pop();
          i++;
          expect = 'commaOrClose';
        } else if (c === '[') {
          open.push('[');
          i++;
          expect = 'valueOrClose';
        } else if (c === '{') {
          open.push('{');
          i++;
          expect = 'keyOrClose';
        } else if (scalar()) expect = 'commaOrClose';
        else return i;
        break;
      case 'keyOrClose':
      case 'key':
        if (expect === 'keyOrClose' && c === '}') {
          open.pop();
          i++;
          expect = 'commaOrClose';
        } else if (c === '"' && scalar()) expect = 'colon';
        else return i;
        break;
      case 'colon':
        if (c !== ':') return i;
        i++;
        expect = 'value';
        break;
      case 'commaOrClose':
        if (top === undefined) return i; // text after the document
        if (c === ',') {
          i++;
          expect = top === '[' ? 'value' : 'key';
        } else if ((c === ']' && top === '[') || (c === '}' && top === '{')) {
          open.pop();
          i++;
        } else return i;
        break;
    }
  }
}

/** Checks a NodeNetworkStackDump value (e.g. one given to `snapshot assemble`). */
export function checkDump(value: unknown, subject: string, limits: SnapshotLimits = {}): NodeNetworkStackDump {
  const max = limits.maxSnapshotProblems ?? DEFAULT_SNAPSHOT_LIMITS.maxSnapshotProblems;
  const problems = schemaProblems(dumpSchema, value, '', max);
  if (problems.length === 0) problems.push(...dumpConsistency(value as NodeNetworkStackDump, ''));
  refuse(subject, problems, max);
  return value as NodeNetworkStackDump;
}

/**
 * Either version, everything validated. A version 2 text is checked part by part (every part: this
 * is the eager load); to read a large file lazily, use format.ts `openSnapshot` on its bytes.
 */
export function loadSnapshot(text: string, limits: SnapshotLimits = {}): NetpathSnapshot {
  const maxChars = limits.maxSnapshotChars ?? DEFAULT_SNAPSHOT_LIMITS.maxSnapshotChars;
  const max = limits.maxSnapshotProblems ?? DEFAULT_SNAPSHOT_LIMITS.maxSnapshotProblems;
  if (text.length > maxChars) {
    // Refused before JSON.parse, which would hold the whole document (several times its size).
    throw new SnapshotError('snapshot', [{ path: '(root)', message: `${text.length} characters is more than ${limitNamed('maxSnapshotChars', maxChars)}` }]);
  }
  if (isSnapshotV2(text)) return checkSnapshotBytes(bytesOfText(text), limits);
  const data = parseJsonDocument(text, 'snapshot', limits.maxJsonDepth);
  const problems = schemaProblems(snapshotSchema, data, '', max);
  if (problems.length === 0) problems.push(...snapshotConsistency(data as NetpathSnapshot));
  refuse('snapshot', problems, max);
  return data as NetpathSnapshot;
}

/** What the schema cannot say: unique objects and netns ids, dumps only for known nodes. */
export function snapshotConsistency(s: NetpathSnapshot): SnapshotProblem[] {
  const problems: SnapshotProblem[] = [];
  for (const [list, items] of Object.entries(s.objects) as [string, K8sObject[]][]) problems.push(...duplicateProblems(list, items));
  const nodes = new Set(s.objects.nodes.map((n) => n.metadata.name));
  for (const [name, dump] of Object.entries(s.dumps)) {
    const at = `dumps${segment(name, false)}`;
    if (!nodes.has(name)) problems.push({ path: at, message: `no Node object named "${name}" in objects.nodes` });
    problems.push(...dumpConsistency(dump, at));
  }
  return problems;
}

/** Objects of one list that share `namespace/name` with an earlier one. */
export function duplicateProblems(list: string, items: readonly K8sObject[]): SnapshotProblem[] {
  const problems: SnapshotProblem[] = [];
  const seen = new Map<string, number>();
  items.forEach((o, i) => {
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const first = seen.get(key);
    if (first !== undefined) problems.push({ path: `objects.${list}[${i}]`, message: `duplicate ${o.kind} ${objectName(o)} (also objects.${list}[${first}])` });
    else seen.set(key, i);
  });
  return problems;
}

export function dumpConsistency(d: NodeNetworkStackDump, at: string): SnapshotProblem[] {
  const problems: SnapshotProblem[] = [];
  const ids = new Map<number, string>([[d.node.id, `${at}.node`]]);
  d.netns.forEach((n, i) => {
    const where = `${at}.netns[${i}]`.replace(/^\./, '');
    const other = ids.get(n.id);
    if (other !== undefined) problems.push({ path: `${where}.id`, message: `duplicate netns id ${n.id} (also ${other.replace(/^\./, '')})` });
    else ids.set(n.id, where);
  });
  return problems;
}

export function objectName(o: K8sObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}
