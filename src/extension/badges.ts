// Explorer badges: after a run, the Kubernetes explorer's pods and services that the run's FATAL
// or CRITICAL findings concern show an error icon, "netpath FATAL" beside their name and a tooltip
// naming the findings. Drawn by a node UI customizer (clusterExplorer v1_1) from the latest run;
// a change of the runs (a new run, Clear Results) refreshes the explorer so the marks follow.
import * as vscode from 'vscode';
import { isSevere, worstSeverity, type WireResult, type WireSuspicion } from '../shared/severity';
import { md } from '../shared/display';
import type { ClusterExplorerV1_1 } from 'vscode-kubernetes-tools-api';
import { explorer, targetOf } from './kubernetes';
import { requestLabel } from './labels';
import type { Run, RunStore } from './runs';

/** A severe finding and the NetNode it sits on (undefined: cluster-wide). */
export interface MarkedFinding {
  suspicion: WireSuspicion;
  node?: string;
}

/** `pod ns/name` or `service ns/name`: the explorer objects a run's findings can mark. */
export type ObjectKey = `${'pod' | 'service'} ${string}`;

/**
 * The run's FATAL/CRITICAL findings by the pod or service they concern:
 * - a finding on a pod's NetNode concerns that pod;
 * - a finding whose evidence is the object itself (`pod ns/name`, `service ns/name`) concerns it;
 * - when the verdict is unreachable, every severe finding concerns the request's source and
 *   destination (the pod and pod/service the user asked about), since it is why they cannot talk.
 */
export function severeByObject(result: WireResult): Map<ObjectKey, MarkedFinding[]> {
  const out = new Map<ObjectKey, MarkedFinding[]>();
  const add = (key: ObjectKey, f: MarkedFinding) => {
    const list = out.get(key) ?? [];
    if (!list.includes(f)) list.push(f);
    out.set(key, list);
  };
  const all: MarkedFinding[] = [
    ...result.nodes.flatMap((n) => n.suspicions.filter((s) => isSevere(s.level)).map((suspicion) => ({ suspicion, node: n.id }))),
    ...result.clusterSuspicions.filter((s) => isSevere(s.level)).map((suspicion) => ({ suspicion })),
  ];
  const podNodes = new Set(result.nodes.filter((n) => n.type === 'pod').map((n) => n.id));
  for (const f of all) {
    if (f.node !== undefined && podNodes.has(f.node)) add(`pod ${f.node}`, f);
    for (const ev of f.suspicion.evidence) {
      const m = ev.kind === 'object' ? /^(pod|service) (\S+\/\S+)$/.exec(ev.where ?? '') : null;
      if (m) add(`${m[1] as 'pod' | 'service'} ${m[2]}`, f);
    }
  }
  if (result.verdict === 'unreachable') {
    for (const e of [result.source, result.destination]) {
      if ((e.type === 'pod' || e.type === 'service') && e.ref) for (const f of all) add(`${e.type} ${e.ref}`, f);
    }
  }
  return out;
}

/** Decorates `item` with the findings: error icon, worst level beside the name, the findings in the tooltip. */
export function markTreeItem(item: vscode.TreeItem, findings: readonly MarkedFinding[], run: Run): void {
  const worst = worstSeverity(findings.map((f) => f.suspicion.level));
  if (!worst) return;
  item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
  const mark = `netpath ${worst}`;
  item.description = typeof item.description === 'string' && item.description ? `${item.description} · ${mark}` : mark;
  // The explorer's own tooltip first (its markdown as it is, a string as literal text), then ours.
  const before = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : typeof item.tooltip === 'string' ? md(item.tooltip) : '';
  const lines = findings.map((f) => `- **${md(f.suspicion.level)}** ${md(f.suspicion.message)} (${md(f.suspicion.check)}${f.node ? ` on ${md(f.node)}` : ''})`);
  const ours = `**Network Path**: ${md(run.result.verdict)} in the last run, ${md(requestLabel(run.result.request))} on ${md(run.sourceLabel)}\n\n${lines.join('\n')}`;
  const tip = new vscode.MarkdownString(before ? `${before}\n\n---\n\n${ours}` : ours, false);
  tip.isTrusted = false;
  tip.supportHtml = false;
  item.tooltip = tip;
}

/** The node UI customizer: marks what the latest run's severe findings concern, nothing without a run. */
export class ExplorerBadges {
  private cache?: { run: Run; byObject: Map<ObjectKey, MarkedFinding[]> };

  constructor(private readonly runs: RunStore) {}

  customize(node: unknown, item: vscode.TreeItem): void {
    const t = targetOf(node);
    const run = this.runs.latest;
    if (!t || !run) return;
    if (this.cache?.run !== run) this.cache = { run, byObject: severeByObject(run.result) };
    const findings = this.cache.byObject.get(`${t.kind} ${t.namespace}/${t.name}`);
    if (findings) markTreeItem(item, findings, run);
  }
}

/** The part of the explorer API the badges use (tests pass a stub). */
export type BadgeHost = Pick<ClusterExplorerV1_1, 'registerNodeUICustomizer' | 'refresh'>;

/**
 * Registers the badges with the Kubernetes explorer when that extension is there. Its API has no
 * way to unregister a customizer: after dispose this one marks nothing.
 */
export function registerExplorerBadges(runs: RunStore, host: () => Promise<BadgeHost | undefined> = explorer): vscode.Disposable & { badges: ExplorerBadges; ready: Promise<void> } {
  const badges = new ExplorerBadges(runs);
  let live = true;
  let refresh: (() => void) | undefined;
  const ready = host().then((api) => {
    if (!api || !live) return;
    api.registerNodeUICustomizer({ customize: (node, item) => (live ? badges.customize(node, item) : undefined) });
    refresh = () => api.refresh();
  });
  const sub = runs.onDidChange(() => refresh?.());
  return Object.assign(new vscode.Disposable(() => {
    live = false;
    sub.dispose();
    refresh?.();
  }), { badges, ready });
}
