// Kubernetes manifests in YAML text, read with the `yaml` package's Document API so every node
// keeps its source offsets: multi-document files (Kustomize and Helm output), comments, anchors
// and aliases. A field path is found to its exact text range; what cannot be read is skipped
// (a manifest file may hold anything).
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Document, type Node } from 'yaml';

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

/** One Kubernetes object of a file: its document and identity. */
export interface ManifestObject {
  kind: string;
  name: string;
  namespace?: string;
  /** Index of its document in the file. */
  index: number;
  doc: Document.Parsed;
}

/** 0-based line starts, to turn string offsets (UTF-16, as LSP counts by default) into positions. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  position(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo] };
  }
  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(end) };
  }
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** The Kubernetes objects of a YAML text (documents without kind and metadata.name are not objects). */
export function manifestObjects(text: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { uniqueKeys: false }) as Document.Parsed[];
  } catch {
    return out;
  }
  if (!Array.isArray(docs)) return out; // an empty stream
  docs.forEach((doc, index) => {
    if (doc.errors.length) return;
    const kind = str(doc.get('kind'));
    const name = str(doc.getIn(['metadata', 'name']));
    if (!kind || !name) return;
    const namespace = str(doc.getIn(['metadata', 'namespace']));
    out.push({ kind, name, ...(namespace ? { namespace } : {}), index, doc });
  });
  return out;
}

/** The node an alias stands for; other nodes as they are. */
function resolved(doc: Document.Parsed, n: unknown): unknown {
  return isAlias(n) ? n.resolve(doc) : n;
}

/**
 * The text range of `path` in the document: a scalar's own range, or the key of the collection
 * the path ends at (the squiggle goes under `ingress:`, not over every rule). A path that goes
 * past what the document holds ends at the deepest key it does hold.
 */
export function locate(doc: Document.Parsed, path: readonly (string | number)[], lines: LineIndex): Range | undefined {
  let node: unknown = resolved(doc, doc.contents);
  let keyNode: Node | undefined;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) break;
      keyNode = pair.key as Node;
      node = resolved(doc, pair.value);
    } else if (isSeq(node) && typeof step === 'number' && step < node.items.length) {
      node = resolved(doc, node.items[step]);
      keyNode = undefined;
    } else {
      break;
    }
  }
  const target = isScalar(node) && node.range ? node : keyNode ?? (node as Node | undefined);
  const r = target?.range;
  if (!r) return undefined;
  return lines.range(r[0], r[1]);
}
