// Quick fixes for manifest findings whose fix is certain (ObjectCause.remedy): the edit is made in
// the text, at the node the fix changes, so everything else (comments, anchors, quoting, the
// other documents of the file) stays as the user wrote it: a rule is appended to a block sequence
// of rules, a label to a block map of labels, a targetPort scalar replaced. Where the YAML is laid
// out otherwise (flow style, the field absent under a flow map), the object's contents are
// re-rendered through the `yaml` Document API, which keeps comments, and the edit is narrowed to
// the lines that changed.
import { Document, isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { Remedy } from '../../engine/model/suspicion';
import { shown } from '../../shared/display';
import type { ManifestTarget } from './findings';
import { LineIndex, manifestObjects, type Range } from './yaml';

export interface TextEditOut { range: Range; newText: string }

export interface Fix {
  title: string;
  edit: TextEditOut;
}

const render = (v: unknown, indentSeq: boolean) => new Document(v).toString({ indentSeq, lineWidth: 0, flowCollectionPadding: false });

/** Whether the file nests block sequences under their key (`key:\n  - a`) or not (`key:\n- a`, as kubectl writes). */
function indentsSequences(text: string): boolean {
  const m = /^( *)[^\s#-][^\n]*:[ \t]*\r?\n( *)- /m.exec(text);
  return m ? m[2].length > m[1].length : true;
}

/** The NetworkPolicy rule that allows exactly the peer's pods (by labels, in their namespace) on the port. */
function ruleFor(r: Extract<Remedy, { kind: 'allow-peer' }>): Record<string, unknown> {
  const peer = { podSelector: { matchLabels: r.peer.labels }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': r.peer.namespace } } };
  return { [r.direction === 'ingress' ? 'from' : 'to']: [peer], ports: [{ protocol: r.protocol, port: r.port }] };
}

/** The fix's title (plain text in the light-bulb menu: names and labels come from the cluster, so escaped). */
export function fixTitle(r: Remedy, target: ManifestTarget): string {
  return shown(titleText(r, target));
}

function titleText(r: Remedy, target: ManifestTarget): string {
  switch (r.kind) {
    case 'allow-peer': {
      const sel = Object.entries(r.peer.labels).map(([k, v]) => `${k}=${v}`).join(',');
      return `Allow ${r.direction} ${r.direction === 'ingress' ? 'from' : 'to'} pods ${sel} in ${r.peer.namespace} on ${r.port}/${r.protocol} in NetworkPolicy ${target.name}`;
    }
    case 'set-target-port':
      return `Set targetPort of ${target.kind} ${target.name} to ${r.value}`;
    case 'add-label':
      return `Add label ${r.key}=${r.value} to ${target.kind} ${target.name}${target.kind === 'Pod' ? '' : ' (pod template)'}`;
  }
}

const lineEnd = (text: string, offset: number) => {
  const nl = text.indexOf('\n', offset);
  return nl < 0 ? text.length : nl + 1;
};
const columnOf = (text: string, offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
const indent = (block: string, n: number) => block.replace(/\n$/, '').split('\n').map((l) => ' '.repeat(n) + l).join('\n') + '\n';

/** An insertion at `offset` of whole lines (a newline first when the file does not end with one). */
function insertLines(text: string, lines: LineIndex, offset: number, block: string): TextEditOut {
  const pos = lines.position(offset);
  const needsNewline = offset === text.length && text.length > 0 && !text.endsWith('\n');
  return { range: { start: pos, end: pos }, newText: (needsNewline ? '\n' : '') + block };
}

/** The fix's edit on the current text, or undefined when the object or its field is no longer there. */
export function fixEdit(text: string, target: ManifestTarget, remedy: Remedy): TextEditOut | undefined {
  const object = manifestObjects(text).find((o) => o.index === target.document && o.kind === target.kind && o.name === target.name);
  if (!object) return undefined;
  const doc = object.doc;
  const lines = new LineIndex(text);
  const seqIndent = indentsSequences(text);
  switch (remedy.kind) {
    case 'set-target-port': {
      const node = doc.getIn(target.field, true);
      if (!isScalar(node) || !node.range) return undefined;
      const value = typeof remedy.value === 'number' ? String(remedy.value) : render(remedy.value, seqIndent).trimEnd();
      return { range: lines.range(node.range[0], node.range[1]), newText: value };
    }
    case 'add-label': {
      const node = doc.getIn(target.field, true);
      if (isMap(node) && !node.flow && node.items.length) {
        const first = node.items[0].key as Node;
        const last = node.items[node.items.length - 1];
        const end = ((last.value as Node | null)?.range ?? (last.key as Node).range)![1];
        return insertLines(text, lines, lineEnd(text, end), indent(render({ [remedy.key]: remedy.value }, seqIndent), columnOf(text, first.range![0])));
      }
      return rerendered(text, lines, doc, (d) => {
        if (isMap(node)) {
          node.set(remedy.key, remedy.value);
        } else if (isAlias(node)) {
          // The labels are an alias (often of the workload's selector): editing the anchor would
          // change the selector too, so the alias becomes its own copy with the label.
          const shared = node.resolve(d);
          d.setIn(target.field, { ...(isMap(shared) ? (shared.toJSON() as Record<string, unknown>) : {}), [remedy.key]: remedy.value });
        } else {
          d.setIn(target.field, { [remedy.key]: remedy.value });
        }
      }, seqIndent);
    }
    case 'allow-peer': {
      const path = ['spec', remedy.direction];
      const rule = ruleFor(remedy);
      const seq = doc.getIn(path, true);
      if (isSeq(seq) && !seq.flow && seq.items.length) {
        const first = seq.items[0] as Node;
        const dash = text.lastIndexOf('-', first.range![0]);
        const lastItem = seq.items[seq.items.length - 1] as Node;
        return insertLines(text, lines, lineEnd(text, lastItem.range![1] - 1), indent(render([rule], false), columnOf(text, dash)));
      }
      const spec = doc.get('spec', true);
      if (seq === undefined && isMap(spec) && !spec.flow && spec.items.length) {
        const first = spec.items[0].key as Node;
        const last = spec.items[spec.items.length - 1];
        const end = ((last.value as Node | null)?.range ?? (last.key as Node).range)![1];
        const col = columnOf(text, first.range![0]);
        const block = `${remedy.direction}:\n${indent(render([rule], false), seqIndent ? 2 : 0)}`;
        return insertLines(text, lines, lineEnd(text, end - 1), indent(block, col));
      }
      return rerendered(text, lines, doc, (d) => {
        if (isSeq(seq)) {
          seq.items.push(d.createNode(rule));
          seq.flow = false;
        } else {
          d.setIn(path, [rule]);
        }
      }, seqIndent);
    }
  }
}

/**
 * The object's contents changed through the Document API and rendered again in place (comments
 * before the contents are outside their range and stay), narrowed to the lines that differ.
 */
function rerendered(text: string, lines: LineIndex, doc: Document.Parsed, change: (d: Document.Parsed) => void, seqIndent: boolean): TextEditOut | undefined {
  const contents = doc.contents as Node | null;
  if (!contents?.range) return undefined;
  change(doc);
  const only = new Document();
  only.contents = doc.contents;
  const rendered = only.toString({ indentSeq: seqIndent, lineWidth: 0, flowCollectionPadding: false });
  const [start, , end] = contents.range;
  const next = text.slice(0, start) + rendered + text.slice(lineEnd(text, Math.max(start, end - 1)));
  // Narrow to whole changed lines: common leading and trailing lines stay untouched.
  const a = text.split('\n');
  const b = next.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const from = { line: head, character: 0 };
  const oldEndLine = a.length - tail;
  const to = oldEndLine >= a.length ? lines.position(text.length) : { line: oldEndLine, character: 0 };
  const replaced = b.slice(head, b.length - tail).join('\n') + (oldEndLine >= a.length ? '' : '\n');
  return { range: { start: from, end: to }, newText: replaced };
}
