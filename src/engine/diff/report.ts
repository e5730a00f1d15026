// The diff as the CLI prints it: JSON (documented in the README, deterministic) and text — the
// verdict change first, then the differences on the path, then the rest.
import type { ObjectDifference } from './objects';
import type { Difference, PathDiff, RestDiff, StackDifference } from './diff';
import { printable } from './printable';

function objectJson(d: ObjectDifference) {
  return { kind: d.kind, ...(d.namespace ? { namespace: d.namespace } : {}), name: d.name, change: d.change, fields: d.fields };
}

function stackJson(d: StackDifference) {
  return { node: d.node, netns: d.netns, area: d.area, change: d.change, key: d.key, ...(d.before !== undefined ? { before: d.before } : {}), ...(d.after !== undefined ? { after: d.after } : {}) };
}

function differenceJson(d: Difference) {
  return d.type === 'object' ? { type: 'object', ...objectJson(d) } : { type: 'stack', ...stackJson(d) };
}

export function diffJson(files: { a: string; b: string }, path: PathDiff | undefined, rest: RestDiff): unknown {
  return {
    a: files.a,
    b: files.b,
    ...(path ? {
      request: { src: path.request.src, dst: path.request.dst, port: path.request.port, protocol: path.request.protocol },
      verdict: { a: path.before.verdict, b: path.after.verdict, changed: path.before.verdict !== path.after.verdict, ...(path.before.error ? { aError: path.before.error } : {}), ...(path.after.error ? { bError: path.after.error } : {}) },
      onPath: path.onPath.map((p) => ({ ...differenceJson(p.difference), why: p.why })),
    } : {}),
    objects: rest.objects.map(objectJson),
    stacks: rest.stacks.map(stackJson),
    dumpsOnlyIn: rest.dumpsOnlyIn,
  };
}

const sign = { added: '+', removed: '-', changed: '~' } as const;

export function objectLine(d: ObjectDifference): string {
  return `${sign[d.change]} ${d.kind} ${d.namespace ? `${d.namespace}/` : ''}${d.name}${d.fields.length ? `: ${d.fields.join(', ')}` : ` ${d.change}`}`;
}

export function stackLines(d: StackDifference): string[] {
  if (d.change === 'changed') return [`~ ${d.area}: ${d.before}`, `    now: ${d.after}`];
  return [`${sign[d.change]} ${d.area}: ${d.change === 'added' ? d.after : d.before}`];
}

export function whereOf(d: StackDifference): string {
  return d.netns === 'host' ? `node ${d.node}` : `node ${d.node}, ${d.netns}`;
}

/** The text report in two parts, so the path part can be printed before the rest is computed. */
export function diffTextHead(files: { a: string; b: string }, path: PathDiff | undefined): string {
  const out = [`netpath snapshot diff: a = ${files.a}, b = ${files.b}`, ...(path ? pathText(path) : [])];
  return `${out.map(printable).join('\n')}\n`;
}

export function diffTextRest(rest: RestDiff, afterPath: boolean): string {
  const out: string[] = [];
  const n = rest.objects.length + rest.stacks.length;
  out.push('', afterPath ? `Elsewhere (${n}):` : `Differences (${n}):`);
  if (!n && !rest.dumpsOnlyIn.a.length && !rest.dumpsOnlyIn.b.length) out.push('  none');
  for (const d of rest.objects) out.push(`  ${objectLine(d)}`);
  let last = '';
  for (const d of rest.stacks) {
    const w = whereOf(d);
    if (w !== last) out.push(`  ${w}:`);
    last = w;
    for (const l of stackLines(d)) out.push(`    ${l}`);
  }
  if (rest.dumpsOnlyIn.a.length) out.push(`  node dumps only in a: ${rest.dumpsOnlyIn.a.join(', ')}`);
  if (rest.dumpsOnlyIn.b.length) out.push(`  node dumps only in b: ${rest.dumpsOnlyIn.b.join(', ')}`);
  return `${out.map(printable).join('\n')}\n`;
}

function pathText(path: PathDiff): string[] {
  const r = path.request;
  const v = (x: PathDiff['before']) => (x.error ? `error (${x.error})` : x.verdict);
  const out = ['', `Path ${r.src} -> ${r.dst}:${r.port}/${r.protocol}: ${v(path.before)} in a, ${v(path.after)} in b${path.before.verdict === path.after.verdict ? ' (unchanged)' : ''}`];
  out.push('', `On the path (${path.onPath.length}):`);
  if (!path.onPath.length) out.push('  none');
  for (const p of path.onPath) {
    const d = p.difference;
    if (d.type === 'object') out.push(`  ${objectLine(d)}`, `      (${p.why})`);
    else {
      const [first, ...more] = stackLines(d);
      out.push(`  ${whereOf(d)}: ${first}`, ...more.map((l) => `  ${l}`), `      (${p.why})`);
    }
  }
  return out;
}
