// The Network Path view: runs (newest first) → NetNodes in path order → links in/out and
// suspicions. Selecting a suspicion reveals its line in the run's report document.
import * as vscode from 'vscode';
import type { Link } from '../engine/model/link';
import type { Packet } from '../engine/model/packet';
import { formatPacket } from '../shared/packet-format';
import { severityKind, severityRank, worstSeverity, type Severity, type SeverityKind, type WireNode, type WireSuspicion } from '../shared/severity';
import type { Run, RunStore } from './runs';
import { requestLabel } from './labels';
import { md, shown } from '../shared/display';

export type Element =
  | { kind: 'run'; run: Run }
  | { kind: 'node'; run: Run; node: WireNode | undefined /* undefined = cluster-level findings */ }
  | { kind: 'link'; run: Run; link: Link; direction: 'in' | 'out'; nodeId: string }
  | { kind: 'suspicion'; run: Run; nodeId: string | undefined; index: number; suspicion: WireSuspicion };

/** The Problems panel's icon colours, so the tree reads like it. */
const themeColor: Record<SeverityKind, string> = { error: 'problemsErrorIcon.foreground', warning: 'problemsWarningIcon.foreground', info: 'problemsInfoIcon.foreground' };
const severityColor = (s: Severity) => new vscode.ThemeColor(themeColor[severityKind(s)]);

function levelIcon(s: Severity | undefined): vscode.ThemeIcon {
  if (s === undefined) return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
  return new vscode.ThemeIcon(severityKind(s), severityColor(s));
}

const worst = (list: readonly WireSuspicion[]) => worstSeverity(list.map((s) => s.level));

const typeIcon: Record<string, string> = { pod: 'package', node: 'server', external: 'globe', generic: 'circle-outline', infra: 'cloud' };

function packetText(p: Packet): string {
  return formatPacket(p, { arrow: '→' });
}

export class RunTree implements vscode.TreeDataProvider<Element>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Element | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly runs: RunStore) {
    this.sub = runs.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(e?: Element): Element[] {
    if (!e) return this.runs.all.map((run) => ({ kind: 'run', run }));
    if (e.kind === 'run') {
      const r = e.run.result;
      const out: Element[] = [];
      if (r.clusterSuspicions.length) out.push({ kind: 'node', run: e.run, node: undefined });
      for (const node of r.nodes) out.push({ kind: 'node', run: e.run, node });
      return out;
    }
    if (e.kind === 'node') {
      const r = e.run.result;
      const id = e.node?.id;
      const list = e.node ? e.node.suspicions : r.clusterSuspicions;
      const out: Element[] = list.map((suspicion, index) => ({ kind: 'suspicion', run: e.run, nodeId: id, index, suspicion }));
      out.sort((a, b) => severityRank((b as { suspicion: WireSuspicion }).suspicion.level) - severityRank((a as { suspicion: WireSuspicion }).suspicion.level));
      if (id !== undefined) {
        for (const link of r.links) if (link.destination === id) out.push({ kind: 'link', run: e.run, link, direction: 'in', nodeId: id });
        for (const link of r.links) if (link.source === id) out.push({ kind: 'link', run: e.run, link, direction: 'out', nodeId: id });
      }
      return out;
    }
    return [];
  }

  getParent(e: Element): Element | undefined {
    if (e.kind === 'run') return undefined;
    if (e.kind === 'node') return { kind: 'run', run: e.run };
    const node = e.nodeId === undefined ? undefined : e.run.result.nodes.find((n) => n.id === e.nodeId);
    return { kind: 'node', run: e.run, node };
  }

  getTreeItem(e: Element): vscode.TreeItem {
    switch (e.kind) {
      case 'run': {
        const r = e.run.result;
        const all = [...r.clusterSuspicions, ...r.nodes.flatMap((n) => n.suspicions)];
        const item = new vscode.TreeItem(requestLabel(r.request), e.run === this.runs.latest ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        item.id = e.run.runId;
        item.description = shown(`${r.verdict} · ${e.run.sourceLabel} · ${e.run.finishedAt.toLocaleTimeString()}`);
        item.iconPath = r.verdict === 'reachable' ? levelIcon(undefined) : r.verdict === 'unknown' ? new vscode.ThemeIcon('question') : levelIcon(worst(all));
        item.tooltip = tooltip(`**${md(r.verdict.toUpperCase())}** — ${md(requestLabel(r.request))}\n\n${all.length} suspicion(s), ${r.nodes.length} NetNodes, ${r.links.length} links\n\nsource: ${md(e.run.sourceLabel)}`);
        item.contextValue = 'netpath.run';
        return item;
      }
      case 'node': {
        const list = e.node ? e.node.suspicions : e.run.result.clusterSuspicions;
        const w = worst(list);
        const label = e.node ? e.node.id : 'cluster';
        const item = new vscode.TreeItem(shown(label), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `${e.run.runId}/node/${label}`;
        item.iconPath = new vscode.ThemeIcon(e.node ? typeIcon[e.node.type] ?? 'circle-outline' : 'organization', w && severityColor(w));
        const counts = w ? ` · ${list.length} suspicion${list.length === 1 ? '' : 's'} (worst ${w})` : '';
        item.description = shown(`${e.node ? `${e.node.type}${e.node.description ? ` ${e.node.description}` : ''}` : 'cluster-wide'}${e.node && !e.node.examined ? ' · not examined' : ''}${counts}`);
        item.tooltip = shown(`${label}${counts}`);
        item.contextValue = 'netpath.node';
        return item;
      }
      case 'link': {
        const l = e.link;
        const other = e.direction === 'in' ? l.source : l.destination;
        const ifs = [l.sourceAttributes.if, l.destinationAttributes.if].map((x) => x ?? '?').join(' → ');
        const item = new vscode.TreeItem(shown(`${e.direction === 'in' ? '← from' : '→ to'} ${other}`), vscode.TreeItemCollapsibleState.None);
        item.id = `${e.run.runId}/link/${e.direction}/${l.id}`;
        item.description = shown(`${l.type} ${ifs} · ${packetText(l.packet)}`);
        item.iconPath = new vscode.ThemeIcon(e.direction === 'in' ? 'arrow-left' : 'arrow-right');
        item.tooltip = tooltip(`**${md(l.type)}** ${md(l.source)} → ${md(l.destination)}\n\n${md(packetText(l.packet))}\n\n${Object.entries({ ...l.sourceAttributes }).map(([k, v]) => `- source ${md(k)}: ${md(v)}`).join('\n')}\n${Object.entries({ ...l.destinationAttributes }).map(([k, v]) => `- destination ${md(k)}: ${md(v)}`).join('\n')}`);
        item.contextValue = 'netpath.link';
        return item;
      }
      case 'suspicion': {
        const s = e.suspicion;
        const item = new vscode.TreeItem(shown(s.message), vscode.TreeItemCollapsibleState.None);
        item.id = `${e.run.runId}/suspicion/${e.nodeId ?? ''}/${e.index}`;
        item.description = shown(`${s.level} · ${s.check}`);
        item.iconPath = levelIcon(s.level);
        const tip = tooltip(`**${md(s.level)}** ${md(s.message)} (${md(s.check)})\n\n`);
        // appendCodeblock fences the text itself; `shown` keeps a rule with a newline on its line.
        for (const ev of s.evidence) tip.appendMarkdown(`- ${md(ev.kind)}${ev.where ? ` — ${md(ev.where)}` : ''}\n`).appendCodeblock(shown(ev.text), 'text');
        item.tooltip = tip;
        item.contextValue = 'netpath.suspicion';
        item.command = { command: 'netpath.revealFinding', title: 'Reveal in Report', arguments: [e.run.runId, e.nodeId ?? null, e.index] };
        return item;
      }
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}

/**
 * A tooltip from markdown whose outside pieces went through `md`: untrusted (no command links),
 * no HTML, so no remote image or script can come from a name.
 */
function tooltip(markdown: string): vscode.MarkdownString {
  const m = new vscode.MarkdownString(markdown, false);
  m.isTrusted = false;
  m.supportHtml = false;
  return m;
}
