// What-if on a manifest, as the worker runs it: the editor's text overlaid on the source's objects
// (src/engine/overlay), then either the request diagnosed without and with it (explainWhatIf says
// which findings rest on the overlay), or — with no request — the NetworkPolicy matrix of the
// namespaces the manifest touches, before and after, reduced to the pairs whose verdict changes.
import { createContext } from '../../engine/context';
import { buildMatrix, type Matrix } from '../../engine/matrix/matrix';
import { levelName } from '../../engine/model/suspicion';
import { Network } from '../../engine/network';
import { applyOverlay, OverlayError, overlayPort, refText, type AppliedOverlay } from '../../engine/overlay/overlay';
import { explainWhatIf } from '../../engine/overlay/what-if';
import { snapshotPort, type ClusterPort } from '../../engine/port';
import { printable } from '../../engine/diff/printable';
import { BadInputError } from '../../shared/errors';
import type { WhatIfPair, WhatIfParams, WhatIfResult } from '../../shared/protocol';
import { LiveClusterSource } from '../live-source';
import { sourceFor } from '../source';
import type { Steps } from '../steps';

/** Changed pairs listed at most (the count says how many there are). */
const maxPairs = 500;

function overlayOf(port: ClusterPort, p: WhatIfParams): AppliedOverlay {
  try {
    return applyOverlay(port.objects, [{ name: p.manifest.name, text: p.manifest.text }]);
  } catch (e) {
    if (e instanceof OverlayError) throw new BadInputError(`${p.manifest.name}: ${e.message}`, 'request');
    throw e;
  }
}

/** Verdicts of a matrix by `src dst port/protocol`, with the deciding policies. */
function cellsOf(m: Matrix): Map<string, { verdict: string; policies?: string[] }> {
  const out = new Map<string, { verdict: string; policies?: string[] }>();
  for (let i = 0; i < m.cells.length; i++) {
    const port = m.ports[m.cells.port[i]];
    const r = m.results[m.cells.result[i]];
    out.set(`${m.pods[m.cells.src[i]]} ${m.pods[m.cells.dst[i]]} ${port.port}/${port.protocol}`, { verdict: r.verdict, ...(r.policies ? { policies: r.policies } : {}) });
  }
  return out;
}

export async function whatIf(p: WhatIfParams, steps: Steps): Promise<WhatIfResult> {
  const source = sourceFor(p.source, p.limits);
  if (p.request && source instanceof LiveClusterSource) {
    throw new BadInputError('a what-if of one request needs a snapshot (a live cluster\'s dumps are collected per run: use `netpath diagnose --context … --with FILE`); without a request the policy matrix works live', 'request');
  }
  const snapshot = await source.load(steps);
  const port = snapshotPort(snapshot);
  const context = createContext({ origin: 'snapshot', values: snapshot.settings }, { origin: 'vscode', values: { ...p.overrides } });
  steps.step(`Overlaying ${p.manifest.name}`);
  const applied = overlayOf(port, p);
  const changes = applied.changes.map((c) => ({ kind: c.kind, ...(c.namespace ? { namespace: c.namespace } : {}), name: c.name, action: c.action, source: c.source === 'overlay' ? p.manifest.name : c.source }));
  const ignored = applied.ignored.map((i) => ({ kind: i.kind, name: i.name, reason: i.reason }));
  const lines = [`What if ${p.manifest.name} were applied to ${source.label}`, ''];
  const changeLines = ['Objects it changes:', ...changes.map((c) => `  ${c.action} ${refText(c)}`), ...ignored.map((i) => `  ignored ${i.kind} ${i.name}: ${i.reason}`)];

  if (p.request) {
    const req = p.request;
    steps.step(`Diagnosing ${req.src} → ${req.dst}:${req.port} without and with the manifest`);
    let base;
    try {
      base = new Network(port, context, p.limits).diagnose(req);
    } catch (e) {
      if (!(e instanceof BadInputError)) throw e;
      base = { error: e.message };
    }
    const explained = explainWhatIf(applied, base, new Network(overlayPort(port, applied), context, p.limits).diagnose(req));
    const r = explained.result;
    const suspicionOf = (node: string, index: number) => (node === 'cluster' ? r.clusterSuspicions : r.nodes.find((n) => n.id === node)?.suspicions ?? [])[index];
    const findings = explained.resting.map((f) => {
      const s = suspicionOf(f.node, f.index);
      return { node: f.node, check: f.check, level: s ? levelName(s.level) : 'INFO', message: s?.message ?? '', because: f.because };
    });
    lines.push(`${req.protocol.toUpperCase()} ${req.src} → ${req.dst}:${req.port}`, `  without it: ${explained.baseVerdict}${explained.baseError ? ` (${explained.baseError})` : ''}`,
      `  with it:    ${r.verdict}${explained.baseVerdict === r.verdict ? ' (unchanged)' : ''}`, '');
    if (findings.length) lines.push('Findings that rest on it:', ...findings.map((f) => `  ${f.level} ${f.node}: ${f.message} (${f.because})`), '');
    lines.push(...changeLines);
    return {
      changes, ignored,
      request: { request: req, before: explained.baseVerdict, ...(explained.baseError ? { beforeError: explained.baseError } : {}), after: r.verdict, findings },
      report: `${lines.map(printable).join('\n')}\n`,
    };
  }

  const touched = [...new Set(changes.map((c) => c.namespace).filter((n): n is string => !!n))].sort();
  const namespaces = p.namespaces?.length ? [...new Set(p.namespaces)].sort() : touched.length ? touched : ['default'];
  steps.step(`Policy matrix of ${namespaces.join(', ')} without and with the manifest`);
  const scope = { namespaces };
  const before = cellsOf(await buildMatrix(new Network(port, context, p.limits), scope, { policyOnly: true }));
  const afterMatrix = await buildMatrix(new Network(overlayPort(port, applied), context, p.limits), scope, { policyOnly: true });
  const after = cellsOf(afterMatrix);
  const changed: WhatIfPair[] = [];
  for (const [key, a] of after) {
    const b = before.get(key)?.verdict ?? 'absent';
    if (b === a.verdict) continue;
    const [src, dst, pp] = key.split(' ');
    const [portText, protocol] = pp.split('/');
    changed.push({ src, dst, port: Number(portText), protocol, before: b, after: a.verdict, ...(a.policies ? { policies: a.policies } : {}) });
  }
  for (const [key, b] of before) {
    if (after.has(key)) continue;
    const [src, dst, pp] = key.split(' ');
    const [portText, protocol] = pp.split('/');
    changed.push({ src, dst, port: Number(portText), protocol, before: b.verdict, after: 'absent' });
  }
  lines.push(`NetworkPolicy matrix of ${namespaces.join(', ')}: ${after.size} pod pair-ports, ${changed.length} change${changed.length === 1 ? '' : 's'}`);
  for (const c of changed.slice(0, maxPairs)) {
    lines.push(`  ${c.src} → ${c.dst} ${c.port}/${c.protocol}: ${c.before} → ${c.after}${c.policies?.length ? ` (${c.policies.join(', ')})` : ''}`);
  }
  if (changed.length > maxPairs) lines.push(`  … and ${changed.length - maxPairs} more`);
  lines.push('', ...changeLines);
  return {
    changes, ignored,
    matrix: { namespaces, pairs: after.size, changedCount: changed.length, changed: changed.slice(0, maxPairs) },
    report: `${lines.map(printable).join('\n')}\n`,
  };
}
