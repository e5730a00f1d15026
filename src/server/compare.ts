// netpath/snapshotDiff: what changed between two snapshots (the engine's snapshot diff, as
// `netpath snapshot diff` computes it), answered in the server's worker for the editor's
// "Compare with Snapshot…". The answer is a report document with one item per difference pointing
// at its line, on-path differences first; an object difference also carries the object's YAML so
// the editor can open what it names.
import { isAbsolute } from 'node:path';
import { stringify } from 'yaml';
import { SnapshotDiff, type Difference, type PathDiff, type RestDiff, type StackDifference } from '../engine/diff/diff';
import { indexObjects, objectKey, type ObjectDifference } from '../engine/diff/objects';
import { printable } from '../engine/diff/printable';
import { objectLine, stackLines, whereOf } from '../engine/diff/report';
import { SnapshotError } from '../engine/snapshot/load';
import type { NetpathSnapshot } from '../engine/snapshot/types';
import { BadInputError } from '../shared/errors';
import type { RequestLimits } from '../shared/limits';
import { openSnapshotFile } from '../shared/snapshot-file';
import { SnapshotDiffRequest, type DiffItem, type SnapshotDiffParams, type SnapshotDiffResult } from '../shared/protocol';
import { bad, diagnosisRequest, limits, params, workDoneToken } from './params';
import type { Steps } from './steps';

const method = SnapshotDiffRequest.method;

export function snapshotDiffParams(p: unknown): SnapshotDiffParams {
  const o = params(method, p);
  for (const k of ['a', 'b'] as const) if (typeof o[k] !== 'string' || !isAbsolute(o[k] as string)) throw bad(method, `params.${k}`, 'an absolute snapshot file path', o[k]);
  const request = o.request !== undefined && o.request !== null ? diagnosisRequest(method, o.request) : undefined;
  return { a: o.a as string, b: o.b as string, ...(request ? { request } : {}), ...limits(method, o.limits), ...workDoneToken(method, o) };
}

/** Read whole, as the CLI does: a diff looks at every part of both files. */
function load(path: string, steps: Steps, limits?: RequestLimits): NetpathSnapshot {
  steps.step(`Reading ${path}`);
  try {
    return openSnapshotFile(path, true, limits);
  } catch (e) {
    if (e instanceof SnapshotError) throw new BadInputError(`${path}: ${e.message}`, 'source');
    throw e;
  }
}

export function snapshotDiffFor(p: SnapshotDiffParams, steps: Steps): SnapshotDiffResult {
  const a = load(p.a, steps, p.limits);
  steps.checkCancelled();
  const b = load(p.b, steps, p.limits);
  const diff = new SnapshotDiff(a, b);
  let path: PathDiff | undefined;
  if (p.request) {
    steps.step(`Diagnosing ${p.request.src} → ${p.request.dst}:${p.request.port} in both snapshots`);
    path = diff.path(p.request);
    if (path.before.error && path.after.error) throw new BadInputError(`the path means nothing in either snapshot: ${path.before.error}`, 'request');
  }
  steps.step('Comparing objects and network stacks');
  const rest = diff.rest();
  return render(p, path, rest, new ObjectYaml(a, b));
}

/** The objects of both snapshots as YAML, for the items that name one. */
class ObjectYaml {
  private readonly a;
  private readonly b;
  constructor(a: NetpathSnapshot, b: NetpathSnapshot) {
    this.a = indexObjects(a.objects);
    this.b = indexObjects(b.objects);
  }

  of(d: ObjectDifference): NonNullable<DiffItem['object']> {
    const o = { metadata: { name: d.name, ...(d.namespace ? { namespace: d.namespace } : {}) } };
    const key = objectKey(d.kind, o as never);
    const found = this.b.get(key) ?? this.a.get(key);
    const { apiVersion, kind, ...body } = (found?.o ?? {}) as Record<string, unknown>;
    // Snapshot lists may drop `kind`: put it back, first, as a manifest has it.
    const yaml = stringify({ ...(apiVersion ? { apiVersion } : {}), kind: kind ?? d.kind, ...body }, { lineWidth: 0 });
    // The line of `  name:` under metadata: where the editor puts the cursor.
    const lines = yaml.split('\n');
    const meta = lines.findIndex((l) => l === 'metadata:');
    const nameLine = lines.findIndex((l, i) => i > meta && /^ {2}name:/.test(l));
    return { kind: d.kind, ...(d.namespace ? { namespace: d.namespace } : {}), name: d.name, fields: d.fields, yaml, nameLine: Math.max(0, nameLine) };
  }
}

/** The report text with each difference's line, in the order the CLI prints them. */
function render(p: SnapshotDiffParams, path: PathDiff | undefined, rest: RestDiff, objects: ObjectYaml): SnapshotDiffResult {
  const out: string[] = [`Network Path: compare a = ${p.a}`, `                      b = ${p.b}`];
  const item = (d: Difference, why?: string): DiffItem => {
    const line = out.length;
    if (d.type === 'object') {
      out.push(`  ${objectLine(d)}`);
      if (why) out.push(`      (${why})`);
      return { type: 'object', change: d.change, title: objectLine(d), where: d.kind, ...(why ? { why } : {}), line, object: objects.of(d) };
    }
    const [first, ...more] = stackLines(d);
    out.push(`  ${whereOf(d)}: ${first}`, ...more.map((l) => `  ${l}`));
    if (why) out.push(`      (${why})`);
    return { type: 'stack', change: d.change, title: first, where: whereOf(d), ...(why ? { why } : {}), line };
  };
  let verdict: SnapshotDiffResult['verdict'];
  const onPath: DiffItem[] = [];
  if (path) {
    const r = path.request;
    const v = (x: PathDiff['before']) => (x.error ? `error (${x.error})` : x.verdict);
    verdict = { a: path.before.verdict, b: path.after.verdict, changed: path.before.verdict !== path.after.verdict, ...(path.before.error ? { aError: path.before.error } : {}), ...(path.after.error ? { bError: path.after.error } : {}) };
    out.push('', `Path ${r.src} -> ${r.dst}:${r.port}/${r.protocol}: ${v(path.before)} in a, ${v(path.after)} in b${verdict.changed ? '' : ' (unchanged)'}`, '', `On the path (${path.onPath.length}):`);
    if (!path.onPath.length) out.push('  none');
    for (const x of path.onPath) onPath.push(item(x.difference, x.why));
  }
  const n = rest.objects.length + rest.stacks.length;
  out.push('', path ? `Elsewhere (${n}):` : `Differences (${n}):`);
  if (!n) out.push('  none');
  const others: DiffItem[] = [];
  for (const d of rest.objects) others.push(item({ type: 'object', ...d }));
  for (const d of rest.stacks) others.push(item({ type: 'stack', ...(d as StackDifference) }));
  if (rest.dumpsOnlyIn.a.length) out.push(`  node dumps only in a: ${rest.dumpsOnlyIn.a.join(', ')}`);
  if (rest.dumpsOnlyIn.b.length) out.push(`  node dumps only in b: ${rest.dumpsOnlyIn.b.join(', ')}`);
  return {
    a: p.a,
    b: p.b,
    ...(path ? { request: path.request, verdict } : {}),
    onPath,
    rest: others,
    dumpsOnlyIn: rest.dumpsOnlyIn,
    // Names and rule text come from the snapshots: escaped as the CLI prints them.
    report: `${out.map(printable).join('\n')}\n`,
  };
}
