// Loading a snapshot: text in, a fully validated NetpathSnapshot out, or a SnapshotError whose
// message names each bad field as a path (`dumps.node1.netns[2].routes: must be array`). Pure:
// the caller reads the file. Nothing is returned unless everything checked out.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { NodeNetworkStackDump } from '../../shared/dump';
import { BadInputError } from '../../shared/errors';
import { echoed, shown } from '../../shared/display';
import { parsePrefix, parseIP } from '../netstack/ip';
import { dumpSchema, snapshotSchema } from './schema';
import type { K8sObject, NetpathSnapshot } from './types';
import { bytesOfText, checkSnapshotBytes, isSnapshotV2 } from './format';

export interface SnapshotProblem {
  /** Dotted path of the bad field, `(root)` for the document itself. */
  path: string;
  message: string;
}

/**
 * Limits of loading a snapshot; each names itself in its error and can be raised by the caller.
 * They keep a hostile or broken file from costing unbounded time and memory before it is refused.
 */
export interface SnapshotLimits {
  /** Longest snapshot text accepted, in characters (`maxSnapshotChars`). */
  maxSnapshotChars?: number;
  /** Most problems collected and reported; the rest is "… and more" (`maxSnapshotProblems`). */
  maxSnapshotProblems?: number;
}

export const DEFAULT_SNAPSHOT_LIMITS: Required<SnapshotLimits> = { maxSnapshotChars: 256 * 2 ** 20, maxSnapshotProblems: 100 };

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
      ? `\n  … and more (${hidden ? `${hidden} more listed, ` : ''}collection stopped at the limit maxSnapshotProblems = ${problems.length})`
      : hidden > 0
        ? `\n  … and ${hidden} more`
        : '';
    super(`invalid ${shown(subject)}: ${listed.join('\n  ')}${more}`, 'source');
  }
}

const labelName = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const dnsLabel = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
function isSubdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every((part) => dnsLabel.test(part));
}

/** Kubernetes' name rules (k8s.io/apimachinery validation), as schema formats with their messages. */
export const kubernetesNames: Record<string, { test: (s: string) => boolean; message: string }> = {
  'dns1123-subdomain': {
    test: isSubdomain,
    message: 'must be a DNS-1123 subdomain as Kubernetes requires (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters)',
  },
  'dns1123-label': {
    test: (s) => dnsLabel.test(s),
    message: 'must be a DNS-1123 label as Kubernetes requires (lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)',
  },
  'dns1035-label': {
    test: (s) => dnsLabel.test(s) && /^[a-z]/.test(s),
    message: 'must be a DNS-1035 label as Kubernetes requires of service names (lower-case letters, digits and "-", starting with a letter, ending with a letter or digit, at most 63 characters)',
  },
  'label-key': {
    test: (s) => {
      const slash = s.lastIndexOf('/');
      const prefix = slash < 0 ? undefined : s.slice(0, slash);
      return labelName.test(slash < 0 ? s : s.slice(slash + 1)) && (prefix === undefined || (prefix !== '' && isSubdomain(prefix)));
    },
    message: 'is not a valid label key as Kubernetes requires (an optional DNS-1123 subdomain and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)',
  },
  'label-value': {
    test: (s) => s === '' || labelName.test(s),
    message: 'must be a valid label value as Kubernetes requires (empty, or at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)',
  },
};

/** Throws a SnapshotError when there are problems, listing at most `max` of them. */
function refuse(subject: string, problems: SnapshotProblem[], max: number): void {
  if (problems.length === 0) return;
  if (problems.length > max) throw new SnapshotError(subject, problems.slice(0, max), true);
  throw new SnapshotError(subject, problems);
}

let ajv: Ajv | undefined;
const compiled = new Map<object, ValidateFunction>();

function validator(schema: object): ValidateFunction {
  if (!ajv) {
    // Compiling is on the path of every cold answer: the schemas are fixed and tested, so they are
    // not checked against the meta-schema again, and the generated code is not optimised (either
    // cost more CPU than the validations they would speed up).
    ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, validateSchema: false, code: { optimize: false } });
    ajv.addFormat('ip', (s: string) => parseIP(s) !== undefined);
    ajv.addFormat('cidr', (s: string) => s.includes('/') && parsePrefix(s) !== undefined);
    ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)));
    for (const [format, rule] of Object.entries(kubernetesNames)) ajv.addFormat(format, rule.test);
  }
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
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

export function segment(key: string, inArray: boolean): string {
  if (inArray) return `[${key}]`;
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
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
 * How deeply a snapshot may nest (objects and arrays). Kubernetes objects nest a few dozen levels;
 * far deeper documents exist only to break things: the structured clone to the server's worker and
 * recursive readers overflow the stack a few thousand levels down. Checked right after parsing, so
 * the CLI and the server accept the same documents.
 */
export const maxJsonDepth = 200;

/** JSON.parse with the failure located by line and column; a leading UTF-8 BOM is accepted. */
export function parseJsonDocument(text: string, subject: string): unknown {
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
  const depth = jsonDepthOver(value, maxJsonDepth);
  if (depth) throw new SnapshotError(subject, [{ path: depth, message: `nested deeper than the JSON depth limit (maxJsonDepth = ${maxJsonDepth} levels)` }]);
  return value;
}

/** The path of a value nested deeper than `limit`, or undefined. Iterative: depth is what it checks. */
function jsonDepthOver(root: unknown, limit: number): string | undefined {
  // Fast pass without paths (this runs on every snapshot part, most of it before the JIT has
  // optimized anything: plain loops, no closure call per value); the path only once one is too deep.
  if (root === null || typeof root !== 'object') return undefined;
  const values: object[] = [root];
  const depths: number[] = [0];
  let deep: object | undefined;
  while (values.length) {
    const v = values.pop()!;
    const depth = depths.pop()!;
    if (depth >= limit) {
      deep = v;
      break;
    }
    // (Object.values, not for…in: native, where a cold for…in steps through each key in bytecode.)
    const xs: unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      if (x !== null && typeof x === 'object') {
        values.push(x);
        depths.push(depth + 1);
      }
    }
  }
  return deep === undefined ? undefined : pathTo(root, deep, limit);
}

/** The path from `root` to `target` (found within `limit` levels). */
function pathTo(root: unknown, target: object, limit: number): string {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: root, depth: 0, path: '' }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (v === target) return echoed(path.replace(/^\./, ''), 120) || '(root)'; // 200 levels of `[0]` say no more than 120 characters
    if (v === null || typeof v !== 'object' || depth >= limit) continue;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth: depth + 1, path: `${path}[${i}]` }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, depth: depth + 1, path: path + segment(k, false) });
  }
  return '(root)';
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
    throw new SnapshotError('snapshot', [{ path: '(root)', message: `${text.length} characters is more than the limit maxSnapshotChars = ${maxChars}` }]);
  }
  if (isSnapshotV2(text)) return checkSnapshotBytes(bytesOfText(text));
  const data = parseJsonDocument(text, 'snapshot');
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
