// A what-if diagnosis explained: the same request diagnosed on the cluster view as it is (base)
// and with the overlay, then told apart — which findings rest on the overlay (new with it, or
// naming an object it touched), and where the datapath cannot reflect it: the node dumps were
// taken before the change, so kube-proxy has not programmed a new or changed Service, and a
// finding of the datapath that only the overlay brought about is a prediction about state the
// nodes do not have. Such findings are kept but lowered to WARNING and said to be unconfirmed,
// so the verdict does not pretend either way.
import type { DiagnosisResult, Verdict } from '../model/result';
import { SuspicionLevel, suspicionKey, type Suspicion } from '../model/suspicion';
import { verdictOf } from '../network';
import { refText, type AppliedOverlay, type OverlayChange } from './overlay';
import { printable } from '../diff/printable';

export interface RestingFinding {
  /** A node id, or `cluster` for the result's clusterSuspicions. */
  node: string;
  /** Index in that node's (or the cluster's) suspicions. */
  index: number;
  check: string;
  /** Why it rests on the overlay. */
  because: string;
}

export interface WhatIf {
  result: DiagnosisResult;
  /** The verdict without the overlay, or why the request means nothing without it (a Service it creates). */
  baseVerdict: Verdict | 'not-applicable';
  baseError?: string;
  changes: OverlayChange[];
  resting: RestingFinding[];
}

/** Kinds whose change only the nodes' agents can carry into the datapath (kube-proxy). */
const programmedKinds = new Set(['Service', 'EndpointSlice', 'Endpoints']);

/** `base` is the result without the overlay, or the message of the bad-input error it gave. */
export function explainWhatIf(applied: AppliedOverlay, base: DiagnosisResult | { error: string }, withOverlay: DiagnosisResult): WhatIf {
  const r = withOverlay;
  const baseFindings = 'error' in base ? [] : [...base.clusterSuspicions, ...base.nodes.flatMap((n) => n.suspicions)];
  const before = new Set(baseFindings.map(suspicionKey));
  const names = applied.changes.map((c) => ({ c, needles: needles(c) }));
  const unprogrammed = applied.changes.filter((c) => programmedKinds.has(c.kind));
  const notes: Suspicion[] = [];
  if (unprogrammed.length) {
    notes.push({
      level: SuspicionLevel.WARNING,
      check: 'overlay.not-programmed',
      message: `the overlay changes ${unprogrammed.map(refText).join(', ')}: the node dumps predate it, kube-proxy has not programmed the change, so datapath findings it alone brings about are not confirmed`,
      evidence: unprogrammed.map((c) => ({ kind: 'object' as const, text: `${c.action} (${c.source})`, where: refText(c).toLowerCase() })),
    });
  }
  if (applied.changes.some((c) => c.kind === 'NetworkPolicy' || c.kind === 'Pod' || c.kind === 'Namespace')) {
    notes.push({
      level: SuspicionLevel.INFO,
      check: 'overlay.api-level',
      message: 'NetworkPolicies are judged at the API level with the overlay\'s objects; in the node dumps, the CNI\'s rules for a policy the overlay replaces or removes are left out (found by its name in their comments), and a policy it creates has no rules there yet',
      evidence: [],
    });
  }
  const resting: RestingFinding[] = [];
  let unconfirmed = 0;
  const mark = (node: string, list: Suspicion[], datapath: boolean) => {
    list.forEach((s, index) => {
      const named = names.find(({ needles: ns }) => ns.some((x) => s.message.toLowerCase().includes(x) || s.evidence.some((e) => (e.where ?? '').toLowerCase().includes(x) || e.text.toLowerCase().includes(x))));
      // Without a base run (the request names an object only the overlay has), only what is worth a warning is new.
      const isNew = 'error' in base ? s.level >= SuspicionLevel.WARNING : !before.has(suspicionKey(s));
      if (!named && !isNew) return;
      if (datapath && unprogrammed.length && (isNew || named) && (s.level >= SuspicionLevel.CRITICAL || (named && programmedKinds.has(named.c.kind)))) {
        unconfirmed++;
        list[index] = { ...s, level: SuspicionLevel.WARNING, message: `not confirmed (the datapath has not programmed the overlay): ${s.message}` };
      }
      resting.push({ node, index, check: s.check, because: named ? `names ${refText(named.c)} (${named.c.action} by the overlay)` : 'absent without the overlay' });
    });
  };
  mark('cluster', r.clusterSuspicions, false);
  for (const n of r.nodes) mark(n.id, n.suspicions, true);
  r.clusterSuspicions.push(...notes);
  r.verdict = verdictOf(r.nodes, r.clusterSuspicions);
  // The path the dumps give is not the one the overlay would have: never call it reachable.
  if (unconfirmed && r.verdict === 'reachable') r.verdict = 'unknown';
  return { result: r, ...('error' in base ? { baseVerdict: 'not-applicable' as const, baseError: base.error } : { baseVerdict: base.verdict }), changes: applied.changes, resting };
}

/** How findings name an object: `networkpolicy ns/name`, `pod ns/name`, `service ns/name`, `ns/name`. */
function needles(c: OverlayChange): string[] {
  const id = `${c.namespace ? `${c.namespace}/` : ''}${c.name}`.toLowerCase();
  return [`${c.kind.toLowerCase()} ${id}`, ...(c.kind === 'NetworkPolicy' || c.kind === 'Service' ? [id] : [])];
}

export function whatIfJson(w: WhatIf): unknown {
  return {
    baseVerdict: w.baseVerdict,
    ...(w.baseError ? { baseError: w.baseError } : {}),
    verdictChanged: w.baseVerdict !== w.result.verdict,
    changes: w.changes.map((c) => ({ kind: c.kind, ...(c.namespace ? { namespace: c.namespace } : {}), name: c.name, action: c.action, source: c.source })),
    findings: w.resting,
  };
}

export function whatIfText(w: WhatIf): string {
  const lines = ['', `What-if: ${w.changes.length} object change(s); verdict without the overlay: ${w.baseError ? `none (${w.baseError})` : w.baseVerdict}${w.baseVerdict !== w.result.verdict ? ` → with it: ${w.result.verdict}` : ' (unchanged)'}`];
  for (const c of w.changes) lines.push(`  ${c.action.padEnd(8)} ${refText(c)}  (${c.source})`);
  if (w.resting.length) {
    lines.push('  findings that rest on the overlay:');
    for (const f of w.resting) lines.push(`    ${f.node}: ${f.check} — ${f.because}`);
  }
  return `${lines.map(printable).join('\n')}\n`;
}
