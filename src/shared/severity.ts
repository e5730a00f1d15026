// Severity on the wire. Every wire carries a suspicion's level as its upper-case name ('FATAL',
// 'CRITICAL', 'WARNING', 'INFO'): the CLI's JSON report (DESIGN.md: `level` is the upper-case
// name), the LSP results and the webview messages. This module is the one mapping: the engine's
// SuspicionLevel to the name (and a result to its wire form), and the name to its order, to the
// Problems panel's DiagnosticSeverity and to the icon kind the tree and the webview draw.
// Pure and tiny (the engine enum and types only), so the extension and the webview bundle it.
import type { DiagnosticSeverity } from 'vscode-languageserver-protocol';
import type { DiagnosisResult, ResultNode } from '../engine/model/result';
import { levelName, SuspicionLevel, type LevelName, type Suspicion } from '../engine/model/suspicion';

export type Severity = LevelName;

/** A suspicion as every wire carries it. */
export interface WireSuspicion extends Omit<Suspicion, 'level'> {
  level: Severity;
}
export interface WireNode extends Omit<ResultNode, 'suspicions'> {
  suspicions: WireSuspicion[];
}
/** A DiagnosisResult as the server sends it and the extension and webview use it. */
export interface WireResult extends Omit<DiagnosisResult, 'nodes' | 'clusterSuspicions'> {
  nodes: WireNode[];
  clusterSuspicions: WireSuspicion[];
}

export function toWireSuspicion(s: Suspicion): WireSuspicion {
  return { ...s, level: levelName(s.level) };
}

export function toWireResult(r: DiagnosisResult): WireResult {
  return {
    ...r,
    nodes: r.nodes.map((n) => ({ ...n, suspicions: n.suspicions.map(toWireSuspicion) })),
    clusterSuspicions: r.clusterSuspicions.map(toWireSuspicion),
  };
}

/** Higher is worse (the engine's order). */
export function severityRank(s: Severity): number {
  return SuspicionLevel[s];
}

/** The worst of `levels`, undefined when there are none. */
export function worstSeverity(levels: Iterable<Severity>): Severity | undefined {
  let worst: Severity | undefined;
  for (const l of levels) if (worst === undefined || severityRank(l) > severityRank(worst)) worst = l;
  return worst;
}

/** FATAL and CRITICAL: the findings that make a path unreachable. */
export function isSevere(s: Severity): boolean {
  return severityRank(s) >= SuspicionLevel.CRITICAL;
}

/** How a severity is drawn: the codicon (and theme colour family) of the Problems panel. */
export type SeverityKind = 'error' | 'warning' | 'info';

export function severityKind(s: Severity): SeverityKind {
  return isSevere(s) ? 'error' : s === 'WARNING' ? 'warning' : 'info';
}

// Values of the protocol's DiagnosticSeverity, checked against its types (a runtime import would
// pull the protocol package into the webview bundle).
const diagnosticSeverities: { error: typeof DiagnosticSeverity.Error; warning: typeof DiagnosticSeverity.Warning; info: typeof DiagnosticSeverity.Information } =
  { error: 1, warning: 2, info: 3 };

/** The Problems panel's severity: FATAL/CRITICAL → Error, WARNING → Warning, INFO → Information. */
export function diagnosticSeverity(s: Severity): DiagnosticSeverity {
  return diagnosticSeverities[severityKind(s)];
}
