// The side panel: what the selection is and what is wrong with it. A node shows its findings
// (each one opens the report at its diagnostic), its actions and its interfaces; a link shows
// every packet it carried with interfaces, route, tunnel and NAT; with nothing selected, the
// run's verdict and the cluster-level findings.
import type { Link } from '../src/engine/model/link';
import type { Packet } from '../src/engine/model/packet';
import { formatPacket } from '../src/shared/packet-format';
import type { GraphEdge, GraphNode } from '../src/engine/report/graph';
import type { WireNode, WireSuspicion } from '../src/shared/severity';
import { clusterScope, type PathView, type Selection } from '../src/shared/webview-protocol';
import { capActions, capNote, capText } from './caps';
import { icon, severityIcon } from './icons';
import { badge, button, divider, tag } from './toolkit';
import { shown } from '../src/shared/display';

export interface DetailsCallbacks {
  openEvidence(nodeId: string, suspicionIndex: number): void;
  expandGroup(groupId: string, limit?: number): void;
  collapseGroup(groupId: string): void;
  select(sel: Selection): void;
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  // Strings are names and rule text from the cluster: as text, and with bidi/control characters visible.
  e.append(...children.map((c) => (typeof c === 'string' ? shown(c) : c)));
  return e;
}

function packetText(p: Packet): string {
  return formatPacket(p, { arrow: '→', chosenPortsOnly: true });
}

function field(name: string, value: string, mono = true): HTMLElement {
  return h('div', 'field', h('span', 'field-name', name), h(mono ? 'code' : 'span', 'field-value', value));
}

export class DetailsPanel {
  constructor(private readonly root: HTMLElement, private readonly cb: DetailsCallbacks) {}

  show(view: PathView, sel: Selection | undefined): void {
    this.root.replaceChildren();
    if (sel?.kind === 'node') {
      const g = view.graph.nodes.find((n) => n.id === sel.id);
      if (g?.group) return this.group(view, g);
      const n = view.result.nodes.find((x) => x.id === sel.id);
      if (g && n) return this.node(view, g, n);
    }
    if (sel?.kind === 'edge') {
      const e = view.graph.edges.find((x) => x.id === sel.id);
      if (e) return this.edge(view, e);
    }
    this.summary(view);
  }

  private heading(iconName: string, title: string, ...extra: (Node | string)[]): HTMLElement {
    return h('h2', 'details-title', icon(iconName), h('span', 'title-text', title), ...extra);
  }

  private summary(view: PathView): void {
    const r = view.result;
    const count = r.nodes.reduce((s, n) => s + n.suspicions.length, 0) + r.clusterSuspicions.length;
    this.root.append(
      this.heading(r.verdict === 'reachable' ? 'info' : r.verdict === 'unreachable' ? 'error' : 'warning', `Verdict: ${r.verdict}`),
      field('request', `${r.request.protocol} ${r.request.src} → ${r.request.dst}:${r.request.port}`),
      field('path', `${r.nodes.length} nodes, ${r.links.length} links, ${count} suspicion${count === 1 ? '' : 's'}`, false),
    );
    if (r.clusterSuspicions.length) {
      this.root.append(divider(), h('h3', '', 'Cluster findings'), this.suspicionList(clusterScope, r.clusterSuspicions));
    }
    const faulty = view.graph.nodes.filter((n) => n.suspicionCount && n.type !== 'group');
    if (faulty.length) {
      const list = h('ul', 'jump-list');
      for (const n of faulty) {
        const a = h('a', `jump sev-${n.severity?.toLowerCase()}`, icon(severityIcon(n.severity)), `${n.label} — ${n.suspicionCount} ${n.severity}`);
        a.href = '#';
        a.addEventListener('click', (ev) => {
          ev.preventDefault();
          this.cb.select({ kind: 'node', id: n.id });
        });
        list.append(h('li', '', a));
      }
      this.root.append(divider(), h('h3', '', 'Nodes with findings'), list);
    }
    this.root.append(h('p', 'hint', 'Select a node or a link to see its details. Drag to pan, wheel or +/− to zoom, 0 to fit.'));
  }

  private node(view: PathView, g: GraphNode, n: WireNode): void {
    const title = this.heading(g.type, n.id, tag(n.type));
    this.root.append(title);
    if (n.description) this.root.append(field(n.type === 'node' ? 'address' : 'IP', n.description));
    if (!n.examined) this.root.append(h('p', 'note sev-warning', 'Not examined: no network stack dump for this node, so nothing on it was checked.'));
    this.root.append(divider(), h('h3', '', 'Suspicions ', badge(String(n.suspicions.length), `${n.suspicions.length} suspicions`)));
    if (n.suspicions.length) this.root.append(this.suspicionList(n.id, n.suspicions));
    else this.root.append(h('p', 'muted', 'No findings on this node.'));
    if (n.actions.length) {
      const list = h('ul', 'actions');
      for (const a of n.actions) {
        const line = h('li', '', h('strong', '', a.type));
        if (a.input) line.append(' ', this.linkRef(view, a.input, 'from'));
        for (const o of a.outputs) line.append(' ', this.linkRef(view, o, 'to'));
        list.append(line);
      }
      this.root.append(divider(), h('h3', '', 'What it did'), list);
    }
    const ports = g.ports.map((p) => `${p.name} (${p.side === 'west' ? 'in' : 'out'})`);
    if (ports.length) this.root.append(field('interfaces', [...new Set(ports)].join(', ')));
    const groupOf = `group:${n.id}`;
    if (view.graph.expanded.includes(groupOf))
      this.root.append(button('Fold backends', () => this.cb.collapseGroup(groupOf), { appearance: 'secondary', icon: icon('collapse') }));
  }

  private linkRef(view: PathView, linkId: string, dir: 'from' | 'to'): HTMLElement {
    const edge = view.graph.edges.find((e) => e.links.includes(linkId));
    const l = view.result.links.find((x) => x.id === linkId);
    const text = l ? `${dir} ${dir === 'from' ? l.source : l.destination} (${l.type})` : `${dir} ${linkId}`;
    const a = h('a', 'link-ref', text);
    a.href = '#';
    a.title = shown(linkId);
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      if (edge) this.cb.select({ kind: 'edge', id: edge.id });
    });
    return a;
  }

  private suspicionList(nodeId: string, suspicions: readonly WireSuspicion[]): HTMLElement {
    const list = h('ol', 'suspicions');
    suspicions.forEach((s, i) => {
      const level = s.level;
      const item = h('li', `suspicion sev-${level.toLowerCase()}`);
      const open = h('a', 'suspicion-open', icon(severityIcon(level), 'icon sev-icon'), h('span', 'level', level), h('span', 'message', s.message));
      open.href = '#';
      open.setAttribute('role', 'button');
      open.setAttribute('data-suspicion-index', String(i));
      open.title = 'Open the report at this finding';
      open.addEventListener('click', (ev) => {
        ev.preventDefault();
        this.cb.openEvidence(nodeId, i);
      });
      item.append(open, h('div', 'check', h('code', '', s.check)));
      for (const e of s.evidence) {
        const ev = h('div', 'evidence', h('span', 'evidence-kind', e.kind), h('code', 'evidence-text', e.text));
        if (e.where) ev.append(h('div', 'evidence-where', e.where));
        item.append(ev);
      }
      list.append(item);
    });
    return list;
  }

  private edge(view: PathView, e: GraphEdge): void {
    this.root.append(this.heading('external', `${e.source} → ${e.target}`, tag(e.type)));
    if (e.reply) this.root.append(h('p', 'muted', 'Reply direction.'));
    const links = e.links.map((id) => view.result.links.find((l) => l.id === id)).filter((l): l is Link => !!l);
    for (const l of links) {
      this.root.append(divider(), h('h3', 'link-id', l.id));
      this.root.append(field('packet', packetText(l.packet)));
      this.root.append(field('out of', `${l.source} ${l.sourceAttributes.if ?? '?'}`), field('into', `${l.destination} ${l.destinationAttributes.if ?? '?'}`));
      const shown = new Set(['if', 'direction']);
      for (const [k, v] of Object.entries(l.sourceAttributes).sort(([a], [b]) => a.localeCompare(b)))
        if (!shown.has(k)) this.root.append(field(k === 'nat' ? 'NAT (on ' + l.source + ')' : k, v));
      for (const [k, v] of Object.entries(l.destinationAttributes).sort(([a], [b]) => a.localeCompare(b)))
        if (!shown.has(k)) this.root.append(field(`${k} (at ${l.destination})`, v));
      const to = view.result.nodes.find((n) => n.id === l.destination)?.actions.find((a) => a.input === l.id);
      if (to) this.root.append(field('then', `${l.destination}: ${to.type}`, false));
    }
  }

  private group(view: PathView, g: GraphNode): void {
    const grp = g.group!;
    const members = grp.members;
    this.root.append(this.heading('group', g.label, tag('group')));
    this.root.append(h('p', 'cap-text', `${capText(grp)}; the other ${(grp.total - grp.shown).toLocaleString('en-US')} are folded here to keep the graph readable.`));
    const actions = h('div', 'cap-actions');
    for (const a of capActions(view.graph, g.id, grp))
      actions.append(a.limit === undefined
        ? button(a.label, () => this.cb.collapseGroup(g.id), { appearance: 'secondary', icon: icon('collapse') })
        : button(a.label, () => this.cb.expandGroup(g.id, a.limit), { icon: icon('expand') }));
    this.root.append(actions);
    const note = capNote(grp);
    if (note) this.root.append(h('p', 'muted', note));
    const byId = new Map(view.result.nodes.map((n) => [n.id, n]));
    const withFindings = members.filter((m) => byId.get(m)?.suspicions.length);
    if (withFindings.length) {
      this.root.append(divider(), h('h3', '', 'Backends with findings'));
      for (const m of withFindings) this.root.append(h('h4', '', m), this.suspicionList(m, byId.get(m)!.suspicions));
    }
    const list = h('ul', 'members');
    for (const m of members) list.append(h('li', '', h('code', '', m), byId.get(m)?.description ? ` ${byId.get(m)!.description}` : ''));
    this.root.append(divider(), h('h3', '', 'Members'), list);
  }
}
