// Loading a snapshot: text in, a fully validated NetpathSnapshot out, or a SnapshotError whose
// message names each bad field as a path (`dumps.node1.netns[2].routes: must be array`). Pure:
// the caller reads the file. Nothing is returned unless everything checked out.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { NodeNetworkStackDump } from '../../shared/dump';
import { BadInputError } from '../../shared/errors';
import { parsePrefix, parseIP } from '../netstack/ip';
import { dumpSchema, snapshotSchema } from './schema';
import type { K8sObject, NetpathSnapshot } from './types';

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
    const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`);
    const hidden = problems.length - shown.length;
    const more = truncated
      ? `\n  … and more (${hidden ? `${hidden} more listed, ` : ''}collection stopped at the limit maxSnapshotProblems = ${problems.length})`
      : hidden > 0
        ? `\n  … and ${hidden} more`
        : '';
    super(`invalid ${subject}: ${shown.join('\n  ')}${more}`, 'source');
  }
}

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
    ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addFormat('ip', (s: string) => parseIP(s) !== undefined);
    ajv.addFormat('cidr', (s: string) => s.includes('/') && parsePrefix(s) !== undefined);
    ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)));
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

function segment(key: string, inArray: boolean): string {
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
    case 'format':
      return { path: clean(at), message: `must be ${e.params.format === 'ip' ? 'an IP address' : e.params.format === 'cidr' ? 'a CIDR prefix (address/length)' : 'an ISO 8601 date-time'}` };
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
    const p = describe(e, data, prefix);
    const key = `${p.path}\0${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}

/** JSON.parse with the failure located by line and column. */
export function parseJsonDocument(text: string, subject: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const offset = m ? Number(m[1]) : text.length;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    throw new SnapshotError(subject, [{ path: '(root)', message: `not JSON (line ${line}, column ${column}): ${(e as Error).message.replace(/, ".*$/s, '').replace(/ in JSON at position \d+.*$/s, '')}` }]);
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

export function loadSnapshot(text: string, limits: SnapshotLimits = {}): NetpathSnapshot {
  const maxChars = limits.maxSnapshotChars ?? DEFAULT_SNAPSHOT_LIMITS.maxSnapshotChars;
  const max = limits.maxSnapshotProblems ?? DEFAULT_SNAPSHOT_LIMITS.maxSnapshotProblems;
  if (text.length > maxChars) {
    // Refused before JSON.parse, which would hold the whole document (several times its size).
    throw new SnapshotError('snapshot', [{ path: '(root)', message: `${text.length} characters is more than the limit maxSnapshotChars = ${maxChars}` }]);
  }
  const data = parseJsonDocument(text, 'snapshot');
  const problems = schemaProblems(snapshotSchema, data, '', max);
  if (problems.length === 0) problems.push(...snapshotConsistency(data as NetpathSnapshot));
  refuse('snapshot', problems, max);
  return data as NetpathSnapshot;
}

/** What the schema cannot say: unique objects and netns ids, dumps only for known nodes. */
export function snapshotConsistency(s: NetpathSnapshot): SnapshotProblem[] {
  const problems: SnapshotProblem[] = [];
  for (const [list, items] of Object.entries(s.objects) as [string, K8sObject[]][]) {
    const seen = new Map<string, number>();
    items.forEach((o, i) => {
      const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      const first = seen.get(key);
      if (first !== undefined) problems.push({ path: `objects.${list}[${i}]`, message: `duplicate ${o.kind} ${objectName(o)} (also objects.${list}[${first}])` });
      else seen.set(key, i);
    });
  }
  const nodes = new Set(s.objects.nodes.map((n) => n.metadata.name));
  for (const [name, dump] of Object.entries(s.dumps)) {
    const at = `dumps${segment(name, false)}`;
    if (!nodes.has(name)) problems.push({ path: at, message: `no Node object named "${name}" in objects.nodes` });
    problems.push(...dumpConsistency(dump, at));
  }
  return problems;
}

function dumpConsistency(d: NodeNetworkStackDump, at: string): SnapshotProblem[] {
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
