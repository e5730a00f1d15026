// The human report: the verdict first, then the path one hop per line, then findings grouped by
// node with their evidence indented — what the original printed as a Graphviz-ish edge list.
import { formatEndpoint } from '../model/endpoint';
import { formatPacket } from '../model/packet';
import type { DiagnosisResult } from '../model/result';
import { levelName, type Suspicion } from '../model/suspicion';
import { shown } from '../../shared/display';

const VERDICT: Record<DiagnosisResult['verdict'], string> = {
  reachable: 'REACHABLE: no fault found on the path',
  unreachable: 'UNREACHABLE: see the findings below',
  unknown: 'UNKNOWN: part of the path could not be examined',
};

/** An unknown verdict says which kind of unknown: a part not examined, or an element not modelled. */
function verdictLine(r: DiagnosisResult): string {
  const undecided = [...r.clusterSuspicions, ...r.nodes.flatMap((n) => n.suspicions)].some((s) => s.undecided);
  if (r.verdict === 'unknown' && undecided) return 'UNKNOWN: something netpath does not model could decide the outcome (see the WARNINGs below)';
  return VERDICT[r.verdict];
}

/** Where a suspicion appears in the text report (0-based lines), for editors that point at it. */
export interface TextFinding {
  /** NetNode id; undefined for a cluster suspicion. */
  node?: string;
  /** Index in the node's `suspicions` (or in `clusterSuspicions`). */
  index: number;
  line: number;
  evidenceLines: number[];
}

/**
 * The report's lines. Every line goes through `shown`: names, interface names and rule text come
 * from the cluster, and one with an ANSI sequence or a newline must neither repaint the verdict
 * nor add a line (finding locations, hence Problems-panel ranges, are line numbers).
 */
class Lines {
  readonly list: string[] = [];
  get length(): number {
    return this.list.length;
  }
  push(...lines: string[]): void {
    for (const l of lines) this.list.push(shown(l));
  }
}

function findings(lines: Lines, list: Suspicion[], node: string | undefined, out: TextFinding[]): void {
  // Worst first; Array.prototype.sort is stable, so equal levels keep their order.
  const order = list.map((s, index) => ({ s, index })).sort((a, b) => b.s.level - a.s.level);
  for (const { s, index } of order) {
    const f: TextFinding = { node, index, line: lines.length, evidenceLines: [] };
    lines.push(`  [${levelName(s.level)}] ${s.message}  (${s.check})`);
    for (const e of s.evidence) {
      f.evidenceLines.push(lines.length);
      lines.push(`      ${e.where ? `${e.where}: ` : ''}${e.text}`);
    }
    out.push(f);
  }
}

export function formatText(r: DiagnosisResult): string {
  return formatTextWithFindings(r).text;
}

/** The text report and the line of every suspicion and evidence item in it. */
export function formatTextWithFindings(r: DiagnosisResult): { text: string; findings: TextFinding[] } {
  const out: TextFinding[] = [];
  const lines = new Lines();
  lines.push(`netpath: ${formatEndpoint(r.source)} -> ${formatEndpoint(r.destination)} ${r.request.protocol}`);
  lines.push(verdictLine(r), '');
  lines.push('Path:');
  if (!r.links.length) lines.push(`  ${r.nodes[0]?.id ?? '(none)'} (the packet did not leave the source)`);
  const actionOf = new Map<string, string>();
  for (const n of r.nodes) for (const a of n.actions) if (a.input) actionOf.set(a.input, a.type);
  for (const l of r.links) {
    const oif = l.sourceAttributes.if ? ` ${l.sourceAttributes.if}` : '';
    const iif = l.destinationAttributes.if ? ` ${l.destinationAttributes.if}` : '';
    const extra = [l.sourceAttributes.tunnel && `tunnel ${l.sourceAttributes.tunnel}`, l.sourceAttributes.nat, l.sourceAttributes.probability && `p=${l.sourceAttributes.probability}`].filter(Boolean).join(', ');
    lines.push(`  ${l.source}${oif} --${l.type}--> ${l.destination}${iif}  [${formatPacket(l.packet)}]  ${actionOf.get(l.id) ?? ''}${extra ? `  (${extra})` : ''}`.trimEnd());
  }
  if (r.clusterSuspicions.length) {
    lines.push('', 'Cluster:');
    findings(lines, r.clusterSuspicions, undefined, out);
  }
  for (const n of r.nodes) {
    if (!n.suspicions.length) continue;
    lines.push('', `On ${n.type} ${n.id}${n.description ? ` (${n.description})` : ''}:`);
    findings(lines, n.suspicions, n.id, out);
  }
  return { text: `${lines.list.join('\n')}\n`, findings: out };
}
