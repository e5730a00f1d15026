// Loading a snapshot: text in, a fully validated NetpathSnapshot out, or a SnapshotError whose
// message names each bad field as a path (`dumps.node1.netns[2].routes: must be array`). Pure:
// the caller reads the file. Nothing is returned unless everything checked out.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { NodeNetworkStackDump } from '../../shared/dump';
import { BadInputError } from '../../shared/errors';
import { parsePrefix, parseIP } from '../netstack/ip';
import { dumpSchema, snapshotSchema } from './schema';
import type { K8sObject, NetpathSnapshot } from './types';
import { bytesOfText, checkSnapshotBytes, isSnapshotV2 } from './format';

export interface SnapshotProblem {
  /** Dotted path of the bad field, `(root)` for the document itself. */
  path: string;
  message: string;
}

/** The snapshot (or a dump in it) is not valid: bad input of the source. */
export class SnapshotError extends BadInputError {
  override name = 'SnapshotError';
  constructor(
    /** What was being read, e.g. `snapshot` or `dump node1 (n1.json)`. */
    readonly subject: string,
    readonly problems: SnapshotProblem[],
  ) {
    const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(`invalid ${subject}: ${shown.join('\n  ')}${more}`, 'source');
  }
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
    case 'format':
      return { path: clean(at), message: `must be ${e.params.format === 'ip' ? 'an IP address' : e.params.format === 'cidr' ? 'a CIDR prefix (address/length)' : 'an ISO 8601 date-time'}` };
    default:
      return { path: clean(at), message: e.message ?? e.keyword };
  }
}

/** Schema problems of `data` (empty when valid). `prefix` is prepended to paths (e.g. `dumps.n1`). */
export function schemaProblems(schema: object, data: unknown, prefix = ''): SnapshotProblem[] {
  const v = validator(schema);
  if (v(data)) return [];
  const seen = new Set<string>();
  const out: SnapshotProblem[] = [];
  for (const e of v.errors ?? []) {
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
export function checkDump(value: unknown, subject: string): NodeNetworkStackDump {
  const problems = schemaProblems(dumpSchema, value);
  if (problems.length === 0) problems.push(...dumpConsistency(value as NodeNetworkStackDump, ''));
  if (problems.length) throw new SnapshotError(subject, problems);
  return value as NodeNetworkStackDump;
}

/**
 * Either version, everything validated. A version 2 text is checked part by part (every part: this
 * is the eager load); to read a large file lazily, use format.ts `openSnapshot` on its bytes.
 */
export function loadSnapshot(text: string): NetpathSnapshot {
  if (isSnapshotV2(text)) return checkSnapshotBytes(bytesOfText(text));
  const data = parseJsonDocument(text, 'snapshot');
  const problems = schemaProblems(snapshotSchema, data);
  if (problems.length === 0) problems.push(...snapshotConsistency(data as NetpathSnapshot));
  if (problems.length) throw new SnapshotError('snapshot', problems);
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
