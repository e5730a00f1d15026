// Suspicions as LSP diagnostics on the run's report document: one per suspicion, on the report
// line that shows it, with each evidence line as related information; the severity as
// src/shared/severity.ts maps it.
import type { Diagnostic } from 'vscode-languageserver/node';
import type { FindingLocation } from '../shared/protocol';
import { diagnosticSeverity, type WireResult, type WireSuspicion } from '../shared/severity';
import { shown } from '../shared/display';

/** What a diagnostic carries in `data`, so a client can find the suspicion in the result. */
export interface DiagnosticData {
  runId: string;
  node?: string;
  index: number;
}

export function toDiagnostics(runId: string, uri: string, r: WireResult, report: string, findings: FindingLocation[]): Diagnostic[] {
  const lines = report.split('\n');
  const nodes = new Map(r.nodes.map((n) => [n.id, n]));
  const lineRange = (line: number) => {
    const text = lines[line] ?? '';
    const start = text.length - text.trimStart().length;
    return { start: { line, character: start }, end: { line, character: text.length } };
  };
  const out: Diagnostic[] = [];
  for (const f of findings) {
    const node = f.node === undefined ? undefined : nodes.get(f.node);
    const s: WireSuspicion | undefined = node ? node.suspicions[f.index] : f.node === undefined ? r.clusterSuspicions[f.index] : undefined;
    if (!s) continue;
    const where = node ? `${node.type} ${node.id}` : 'cluster';
    const data: DiagnosticData = { runId, node: f.node, index: f.index };
    out.push({
      range: lineRange(f.line),
      severity: diagnosticSeverity(s.level),
      source: 'netpath',
      code: shown(s.check),
      // The Problems panel shows messages as plain text: escaped as the report shows them.
      message: shown(`${where}: ${s.message}`),
      relatedInformation: s.evidence.map((e, i) => ({
        location: { uri, range: lineRange(f.evidenceLines[i] ?? f.line) },
        message: shown(`evidence (${e.kind}${e.where ? `, ${e.where}` : ''}): ${e.text}`),
      })),
      data,
    });
  }
  return out;
}
