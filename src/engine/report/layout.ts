// Lays a result (its wire form: severities as names) out as a positioned graph for the link-path webview: elkjs layered
// layout, left to right (or top to bottom for a narrow panel), one port per interface (packets
// enter on the west side, leave on the east side; north and south top to bottom), edge labels
// placed by ELK so they never sit on a node. A node where a FATAL/CRITICAL finding stopped the
// packet carries the deciding rule (its evidence) as a line of its own. Only the diagnosis server
// runs it (src/server/layout.ts): the webview's CSP forbids eval and the bundle would be huge, and
// in the extension host a large layout froze VS Code.
//
// Bounded: elkjs's cost grows much faster than the node count (a 500-node graph took 18 s), so a
// fan-out (a service's backends) shows `defaultGroupThreshold` backends and folds the rest into one
// group node; an expanded group shows `limit` more, and all expanded groups together add at most
// `maxExpandedNodes` nodes.
//
// Deterministic: ELK's layered algorithm with a fixed random seed and model-order tie-breaking,
// fed in the result's own (breadth-first) order, gives the same coordinates for the same result.
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkLabel, ElkNode, ElkPort } from 'elkjs/lib/elk-api';
import type { Link } from '../model/link';
import { formatPacket, type Packet } from '../model/packet';
import { isSevere, severityRank, worstSeverity, type Severity, type WireNode, type WireResult, type WireSuspicion } from '../../shared/severity';
import {
  defaultGroupThreshold, expandStep, groupId, maxExpandedNodes, type GraphEdge, type GraphGroup, type GraphNode, type GraphPort, type LayoutDirection, type PositionedGraph,
} from './graph';

export * from './graph';

export interface LayoutOptions {
  /**
   * How many backends (branches) a fan-out shows before the rest are folded into one expandable
   * group node. Backends with findings are shown first.
   */
  groupThreshold?: number;
  /** Group node ids (`group:<parent>`) to show unfolded, up to `limit` backends each. */
  expanded?: readonly string[];
  /** Backends an expanded group shows (default `expandStep`); clamped to 1…`maxExpandedNodes`. */
  limit?: number;
  /** Default `right`. */
  direction?: LayoutDirection;
}

// Text metrics the webview's CSS matches (pathview.css): node labels 13px sans-serif, edge labels
// 11px monospace. Estimates err wide so text never overflows its box.
const nodeCharW = 7.6;
const monoCharW = 6.8;
const edgeLineH = 14;
const headerH = 46;
const portStep = 18;
const portSize = 8;
const maxLabelChars = 52;
/** The decision line under the header, and the row of port names above/below it in a `down` layout. */
const decisionH = 16;
const portRowH = 16;

interface DrawNode {
  id: string;
  type: GraphNode['type'];
  label: string;
  description: string;
  level: Severity | undefined;
  suspicionCount: number;
  examined: boolean;
  group?: GraphGroup;
  decision?: { check: string; text: string };
}

interface DrawEdge {
  source: string;
  target: string;
  sourceIf?: string;
  targetIf?: string;
  /** Reply-direction links (attribute `direction: reply`) run right to left, back along the path. */
  reply: boolean;
  links: Link[];
}

export async function layoutResult(result: WireResult, opts: LayoutOptions = {}): Promise<PositionedGraph> {
  const threshold = Math.max(1, Math.floor(opts.groupThreshold ?? defaultGroupThreshold));
  const limit = clampLimit(opts.limit);
  const expanded = new Set(opts.expanded ?? []);
  const down = opts.direction === 'down';
  // Where requests enter and leave a node; replies the other way round.
  const inSide = down ? 'north' : 'west';
  const outSide = down ? 'south' : 'east';
  type Side = GraphPort['side'];

  const nodes = drawableNodes(result);
  const { folded, groups } = foldBackends(result, nodes, threshold, expanded, limit);
  const drawn = (id: string) => folded.get(id) ?? id;

  const edges = bundleLinks(result.links, drawn, replyLinks(result));
  const order = [...nodes.values()].filter((n) => !folded.has(n.id));
  for (const g of groupNodes(nodes, groups)) order.splice(order.findIndex((n) => n.id === g.group!.parent) + 1, 0, g);

  const portsOf = new Map<string, { id: string; name: string; side: Side }[]>();
  const portId = (node: string, side: Side, name: string) => {
    const id = `${node}|${side}|${name}`;
    const list = portsOf.get(node) ?? [];
    if (!list.some((p) => p.id === id)) list.push({ id, name, side });
    portsOf.set(node, list);
    return id;
  };
  const elkEdges: ElkExtendedEdge[] = [];
  const labels = new Map<string, string[]>();
  const edgeIds: string[] = [];
  const ports = new Map<string, { sourcePort?: string; targetPort?: string }>();
  for (const e of edges) {
    const id = e.links.length === 1 ? e.links[0].id : `${e.links[0].id} +${e.links.length - 1}`;
    edgeIds.push(id);
    const label = edgeLabel(e.links);
    labels.set(id, label);
    // Requests leave by the east side and enter by the west; replies the other way round, so
    // an interface used both ways is one port and the reply path runs back under the request.
    const sourcePort = e.sourceIf !== undefined ? portId(e.source, e.reply ? inSide : outSide, e.sourceIf) : undefined;
    const targetPort = e.targetIf !== undefined ? portId(e.target, e.reply ? outSide : inSide, e.targetIf) : undefined;
    ports.set(id, { sourcePort, targetPort });
    const elkLabel: ElkLabel = {
      text: label.join('\n'),
      width: Math.ceil(Math.max(...label.map((l) => l.length)) * monoCharW + 8),
      height: label.length * edgeLineH + 4,
      layoutOptions: { 'elk.edgeLabels.placement': 'CENTER' },
    };
    const from = sourcePort ?? e.source;
    const to = targetPort ?? e.target;
    // ELK layers along edge direction: replies are given reversed and their route turned back.
    elkEdges.push({ id, sources: [e.reply ? to : from], targets: [e.reply ? from : to], labels: [elkLabel] });
  }

  const headerY = new Map<string, number>();
  const children: ElkNode[] = order.map((n) => {
    const nodePorts = portsOf.get(n.id) ?? [];
    const header = 16 + 8 + Math.max(n.label.length * nodeCharW, n.description.length * nodeCharW * 0.92) + 8 + 30 + 12;
    const decision = n.decision ? (n.decision.text.length + 2) * monoCharW + 24 : 0;
    const below = headerH + (n.decision ? decisionH : 0);
    const side = (s: Side) => nodePorts.filter((p) => p.side === s);
    const elkSide = { west: 'WEST', east: 'EAST', north: 'NORTH', south: 'SOUTH' } as const;
    let w: number, h: number, ports: ElkPort[];
    if (down) {
      // Ports along the top and bottom edges, each name in a row inside the node next to its port.
      const north = side('north');
      const south = side('south');
      const slot = (p: { name: string }) => Math.max(portStep, p.name.length * monoCharW + 14);
      const row = (ps: typeof nodePorts) => ps.reduce((sum, p) => sum + slot(p), 0) + 16;
      w = Math.ceil(Math.max(150, header, decision, row(north), row(south)));
      const top = north.length ? portRowH : 0;
      h = top + below + (south.length ? portRowH : 0) + 6;
      headerY.set(n.id, top);
      const place = (ps: typeof nodePorts, y: number): ElkPort[] => {
        let x = 12;
        return ps.map((p) => {
          const port = { id: p.id, width: portSize, height: portSize, x, y, layoutOptions: { 'elk.port.side': elkSide[p.side] } };
          x += slot(p);
          return port;
        });
      };
      ports = [...place(north, -portSize), ...place(south, h)];
    } else {
      const west = side('west');
      const east = side('east');
      const widest = (ps: typeof nodePorts) => Math.max(0, ...ps.map((p) => p.name.length)) * monoCharW;
      w = Math.ceil(Math.max(150, header, decision, widest(west) + widest(east) + 48));
      h = Math.max(below + 18, below + Math.max(west.length, east.length) * portStep + 6);
      // Ports at fixed places below the header, in first-use order (the result's path order), so
      // interface names never cover the node's own label and the picture does not reshuffle.
      const place = (ps: typeof nodePorts, x: number): ElkPort[] =>
        ps.map((p, i) => ({ id: p.id, width: portSize, height: portSize, x, y: below + i * portStep, layoutOptions: { 'elk.port.side': elkSide[p.side] } }));
      ports = [...place(west, -portSize), ...place(east, w)];
    }
    return { id: n.id, width: w, height: h, ports, layoutOptions: { 'elk.portConstraints': 'FIXED_POS' } };
  });

  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': down ? 'DOWN' : 'RIGHT',
      'elk.randomSeed': '1',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.spacing.nodeNodeBetweenLayers': '70',
      'elk.layered.spacing.edgeNodeBetweenLayers': '24',
      'elk.spacing.nodeNode': '40',
      'elk.spacing.edgeNode': '24',
      'elk.spacing.edgeEdge': '16',
      'elk.spacing.edgeLabel': '6',
      'elk.padding': '[top=24,left=24,bottom=24,right=24]',
    },
    children,
    edges: elkEdges,
  };
  const out = await new ELK().layout(graph);

  const byId = new Map(order.map((n) => [n.id, n]));
  const gNodes: GraphNode[] = (out.children ?? []).map((c) => {
    const n = byId.get(c.id)!;
    const x = r(c.x), y = r(c.y);
    const names = new Map((portsOf.get(n.id) ?? []).map((p) => [p.id, p]));
    const ports: GraphPort[] = (c.ports ?? []).map((p) => {
      const meta = names.get(p.id)!;
      return { id: p.id, name: meta.name, side: meta.side, x: r(x + (p.x ?? 0)), y: r(y + (p.y ?? 0)), w: r(p.width), h: r(p.height) };
    });
    const node: GraphNode = {
      id: n.id,
      type: n.type,
      label: n.label,
      description: n.description,
      x,
      y,
      w: r(c.width),
      h: r(c.height),
      severity: n.level ?? null,
      suspicionCount: n.suspicionCount,
      examined: n.examined,
      ports,
    };
    if (n.group) node.group = n.group;
    if (headerY.get(n.id)) node.headerY = headerY.get(n.id);
    if (n.decision) node.decision = n.decision;
    return node;
  });
  const elkById = new Map((out.edges ?? []).map((e) => [e.id, e]));
  const gEdges: GraphEdge[] = edges.map((e, i) => {
    const id = edgeIds[i];
    const laid = elkById.get(id)!;
    const route = (laid.sections ?? []).flatMap((s, k) => [
      ...(k === 0 ? [s.startPoint] : []),
      ...(s.bendPoints ?? []),
      s.endPoint,
    ]).map((p) => ({ x: r(p.x), y: r(p.y) }));
    const points = e.reply ? route.reverse() : route;
    const types = new Set(e.links.map((l) => l.type));
    const edge: GraphEdge = {
      id,
      type: types.size === 1 ? e.links[0].type : 'mixed',
      source: e.source,
      target: e.target,
      links: e.links.map((l) => l.id),
      points,
      label: labels.get(id)!,
    };
    const { sourcePort, targetPort } = ports.get(id)!;
    if (sourcePort) edge.sourcePort = sourcePort;
    if (targetPort) edge.targetPort = targetPort;
    if (e.reply) edge.reply = true;
    const lb = laid.labels?.[0];
    if (lb) edge.labelBox = { x: r(lb.x), y: r(lb.y), w: r(lb.width), h: r(lb.height) };
    return edge;
  });
  const graphOut: PositionedGraph = { width: r(out.width), height: r(out.height), nodes: gNodes, edges: gEdges, expanded: [...expanded].filter((g) => g.startsWith(groupPrefix) && byId.has(g.slice(groupPrefix.length))).sort(), limit };
  if (down) graphOut.direction = 'down';
  return graphOut;
}

const groupPrefix = groupId('');

/** The request's limit as the layout applies it: a whole number of backends, 1…maxExpandedNodes. */
export function clampLimit(limit: number | undefined): number {
  const n = limit === undefined || !Number.isFinite(limit) ? expandStep : Math.floor(limit);
  return Math.min(maxExpandedNodes, Math.max(1, n));
}

function r(v: number | undefined): number {
  return Math.round((v ?? 0) * 10) / 10;
}

function drawableNodes(result: WireResult): Map<string, DrawNode> {
  const nodes = new Map<string, DrawNode>();
  const add = (n: WireNode, extra: readonly WireSuspicion[] = []) => {
    const d: DrawNode = {
      id: n.id,
      type: n.type,
      label: n.id,
      description: n.description === n.id ? '' : n.description,
      level: worstSeverity(n.suspicions.map((s) => s.level)),
      suspicionCount: n.suspicions.length,
      examined: n.examined,
    };
    const decision = decisionOf([...n.suspicions, ...extra]);
    if (decision) d.decision = decision;
    nodes.set(n.id, d);
  };
  // A NetworkPolicy denies at an end of the flow: its ingress at the destination pod (or, when the
  // path stops before it, the last node reached), its egress at the source. Those findings are
  // the cluster's, but the decision is drawn where it applies.
  const ids = new Set(result.nodes.map((n) => n.id));
  const ingressAt = ids.has(result.request.dst) ? result.request.dst : result.nodes.at(-1)?.id;
  const deny = (dir: string) => result.clusterSuspicions.filter((s) => s.check === `policy.${dir}-deny`);
  for (const n of result.nodes) add(n, [...(n.id === ingressAt ? deny('ingress') : []), ...(n.id === result.request.src ? deny('egress') : [])]);
  // A link to a node the result does not list cannot be dropped from the picture (every link is
  // drawn); show its end as an unexamined generic node rather than fail.
  for (const l of result.links)
    for (const id of [l.source, l.destination])
      if (!nodes.has(id)) add({ id, type: 'generic', description: '', examined: false, actions: [], suspicions: [] });
  return nodes;
}

interface Folding {
  /** Folded NetNode id → its group node id. */
  folded: Map<string, string>;
  groups: GraphGroup[];
}

/**
 * Folds fan-outs. A backend of a node P is a branch: a connected part of the graph that touches the
 * rest only through P and does not hold the origin (a backend pod, or a node with pods behind it).
 * A node with more than `threshold` branches shows the first `threshold` (those with findings
 * first, then in result order) and folds the rest into its group node; an expanded group shows up
 * to `limit`, within a budget of `maxExpandedNodes` nodes for all expanded groups. Fan-outs are
 * visited nearest the origin first, so a folded branch takes its inner fan-outs with it.
 */
function foldBackends(result: WireResult, nodes: Map<string, DrawNode>, threshold: number, expanded: Set<string>, limit: number): Folding {
  const neighbours = new Map<string, Set<string>>();
  const touch = (a: string, b: string) => {
    if (a !== b) neighbours.set(a, (neighbours.get(a) ?? new Set<string>()).add(b));
  };
  for (const l of result.links) {
    touch(l.source, l.destination);
    touch(l.destination, l.source);
  }
  const rank = new Map([...nodes.keys()].map((id, i) => [id, i]));
  const origin = result.nodes[0]?.id;
  // Nearest the origin first (breadth-first over links either way), then result order.
  const distance = new Map<string, number>();
  if (origin !== undefined) {
    distance.set(origin, 0);
    const queue = [origin];
    for (let i = 0; i < queue.length; i++)
      for (const n of neighbours.get(queue[i]) ?? [])
        if (!distance.has(n)) (distance.set(n, distance.get(queue[i])! + 1), queue.push(n));
  }
  const far = Number.MAX_SAFE_INTEGER;
  const parents = [...nodes.keys()]
    .filter((id) => (neighbours.get(id)?.size ?? 0) > threshold)
    .sort((a, b) => (distance.get(a) ?? far) - (distance.get(b) ?? far) || rank.get(a)! - rank.get(b)!);

  const folded = new Map<string, string>();
  const groups: GraphGroup[] = [];
  let budget = maxExpandedNodes;
  for (const parent of parents) {
    if (folded.has(parent)) continue;
    const branches = branchesOf(parent, neighbours, origin, rank);
    const open = expanded.has(groupId(parent));
    if (branches.length <= (open ? 0 : threshold)) continue;
    const level = new Map(branches.map((b) => [b, b.reduce((m, id) => Math.max(m, order(nodes.get(id)?.level)), -1)]));
    const ordered = branches.sort((a, b) => level.get(b)! - level.get(a)! || rank.get(a[0])! - rank.get(b[0])!);
    let shown = Math.min(threshold, ordered.length);
    if (open) {
      // The folded view's backends always stay; more only within the limit and the shared budget.
      let added = 0;
      for (shown = 0; shown < ordered.length && shown < Math.max(limit, threshold); shown++) {
        const size = ordered[shown].length;
        if (shown >= threshold && added + size > budget) break;
        added += size;
      }
      budget = Math.max(0, budget - added);
    }
    if (shown >= ordered.length) continue;
    const members = ordered.slice(shown).flat().sort((a, b) => rank.get(a)! - rank.get(b)!);
    for (const id of members) folded.set(id, groupId(parent));
    groups.push({ parent, members, total: ordered.length, shown });
  }
  return { folded, groups };
}

/** The branches hanging off `parent`, each its node ids in result order, in order of first neighbour. */
function branchesOf(parent: string, neighbours: Map<string, Set<string>>, origin: string | undefined, rank: Map<string, number>): string[][] {
  const seen = new Set<string>([parent]);
  const branches: string[][] = [];
  const starts = [...(neighbours.get(parent) ?? [])].sort((a, b) => rank.get(a)! - rank.get(b)!);
  for (const start of starts) {
    if (seen.has(start)) continue;
    const part = [start];
    seen.add(start);
    for (let i = 0; i < part.length; i++)
      for (const n of neighbours.get(part[i]) ?? [])
        if (!seen.has(n)) (seen.add(n), part.push(n));
    if (origin === undefined || !part.includes(origin)) branches.push(part.sort((a, b) => rank.get(a)! - rank.get(b)!));
  }
  return branches;
}

/** The deciding rule of the worst FATAL/CRITICAL finding: its first evidence (else its message), clipped in the middle so the verdict (`-j DROP`) stays. */
function decisionOf(suspicions: readonly WireSuspicion[]): DrawNode['decision'] {
  const severe = suspicions.filter((s) => isSevere(s.level)).sort((a, b) => severityRank(b.level) - severityRank(a.level))[0];
  if (!severe) return undefined;
  const e = severe.evidence[0];
  const text = e ? (e.kind === 'object' && e.where ? e.where : e.text) : severe.message;
  return { check: severe.check, text: clipMiddle(text.replace(/\s+/g, ' ').trim()) };
}

function clipMiddle(s: string): string {
  if (s.length <= maxLabelChars) return s;
  const head = Math.ceil((maxLabelChars - 1) * 0.6);
  return `${s.slice(0, head)}…${s.slice(s.length - (maxLabelChars - 1 - head))}`;
}

/** Clean nodes after any with a suspicion. */
const order = (l: Severity | undefined) => (l === undefined ? -1 : severityRank(l));

function groupNodes(nodes: Map<string, DrawNode>, groups: GraphGroup[]): DrawNode[] {
  return groups.map((group) => {
    const inner = group.members.map((m) => nodes.get(m)!);
    const more = group.total - group.shown;
    return {
      id: groupId(group.parent),
      type: 'group' as const,
      label: `${more} more backend${more === 1 ? '' : 's'}`,
      description: `from ${group.parent}`,
      level: worstSeverity(inner.flatMap((n) => n.level ?? [])),
      suspicionCount: inner.reduce((s, n) => s + n.suspicionCount, 0),
      examined: inner.every((n) => n.examined),
      group,
    };
  });
}

/**
 * Links of the reply direction: the engine marks the first one (`direction: reply`, where the
 * destination answers); everything a node passes on from a reply link is part of the reply too.
 */
export function replyLinks(result: WireResult): Set<string> {
  const next = new Map<string, string[]>();
  for (const n of result.nodes) for (const a of n.actions) if (a.input) next.set(a.input, [...(next.get(a.input) ?? []), ...a.outputs]);
  const reply = new Set<string>();
  const queue = result.links.filter((l) => l.sourceAttributes.direction === 'reply').map((l) => l.id);
  while (queue.length) {
    const id = queue.pop()!;
    if (reply.has(id)) continue;
    reply.add(id);
    queue.push(...(next.get(id) ?? []));
  }
  return reply;
}

/** Parallel links (same drawn ends, type and interfaces) become one edge; order is the result's. */
function bundleLinks(links: readonly Link[], drawn: (id: string) => string, replies: Set<string>): DrawEdge[] {
  const edges = new Map<string, DrawEdge>();
  for (const l of links) {
    const source = drawn(l.source);
    const target = drawn(l.destination);
    // A link between two members of one folded group is inside it (listed with the group).
    if (source === target && source !== l.source) continue;
    // Links into or out of a folded group are one edge between node boundaries: the interfaces
    // on both ends differ per member (one veth each) and are listed in the details.
    const grouped = source !== l.source || target !== l.destination;
    const sourceIf = grouped ? undefined : l.sourceAttributes.if;
    const targetIf = grouped ? undefined : l.destinationAttributes.if;
    const reply = replies.has(l.id);
    const key = JSON.stringify([source, target, l.type, sourceIf ?? null, targetIf ?? null, reply]);
    const e = edges.get(key);
    if (e) e.links.push(l);
    else edges.set(key, { source, target, sourceIf, targetIf, reply, links: [l] });
  }
  return [...edges.values()];
}

function clip(s: string): string {
  return s.length > maxLabelChars ? `${s.slice(0, maxLabelChars - 1)}…` : s;
}

function packetLine(p: Packet): string {
  return formatPacket(p, { arrow: '→', chosenPortsOnly: true, headOnly: true });
}

/** Edge label lines: `type  oif → iif`, the packet (inner and outer for tunnels), the NAT rewrite. */
export function edgeLabel(links: readonly Link[]): string[] {
  const l = links[0];
  const oif = l.sourceAttributes.if ?? '?';
  const iif = l.destinationAttributes.if ?? '?';
  if (links.length > 1) {
    const dsts = new Set(links.map((x) => (x.packet.encap ?? x.packet).dst));
    return [
      clip(`${l.type} ×${links.length}  ${oif} → ${links.every((x) => x.destinationAttributes.if === iif) ? iif : '…'}`),
      clip(`${links.length} packets to ${dsts.size} address${dsts.size === 1 ? '' : 'es'}`),
      ...(links.some((x) => x.sourceAttributes.nat) ? ['NAT on the way (see details)'] : []),
    ];
  }
  const lines = [clip(`${l.type}  ${oif} → ${iif}`)];
  if (l.packet.encap) {
    lines.push(clip(packetLine(l.packet.encap)));
    const tunnel = l.sourceAttributes.tunnel ?? (l.packet.vni !== undefined ? `vni ${l.packet.vni}` : 'tunnel');
    lines.push(clip(`in ${tunnel}: ${l.packet.src} → ${l.packet.dst}`));
  } else {
    lines.push(clip(packetLine(l.packet)));
  }
  if (l.packet.mark) lines.push(`mark 0x${l.packet.mark.toString(16)}`);
  if (l.sourceAttributes.nat) lines.push(...l.sourceAttributes.nat.split('; ').map((n) => clip(shortNat(n))));
  return lines;
}

/** `DNAT 10.96.0.20:80 -> 10.244.2.2:8080 (PREROUTING …)` → `DNAT 10.96.0.20:80 → 10.244.2.2:8080`. */
function shortNat(n: string): string {
  return n.replace(/\s*\(.*\)\s*$/, '').replace(/ -> /g, ' → ');
}
