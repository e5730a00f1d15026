// The one message contract between the link-path webview (webview/) and its host
// (src/extension/pathPanel.ts). Both sides import these types; messages arriving from the other
// side are checked with the guards below before use, as a webview is a separate trust domain.
//
// Where the layout runs: neither here nor in the extension host. The diagnosis server lays the
// result out (src/server/layout.ts) and the diagnose result carries the folded graph; unfolding a
// group of backends (`expandGroup`) makes the host ask the server (netpath/layoutPath) for a new
// positioned graph, which it forwards as a `showGraph`. Meanwhile the webview shows a `status` and
// stays usable.
//
// A large result (1,000 backends: megabytes) crosses in `resultPart` slices before its `showResult`:
// the extension host serializes each message at once, and one message that size blocked it for a
// third of a second.
import type { Link } from '../engine/model/link';
import type { WireNode, WireResult } from './severity';
import type { PositionedGraph } from '../engine/report/graph';

/** Everything the webview draws: the result (for details) and its positioned graph. */
export interface PathView {
  result: WireResult;
  graph: PositionedGraph;
  /** The server's run id: what a new layout is asked for. */
  runId?: string;
  /** When the diagnosis ran (ISO time), shown in the header. */
  ranAt?: string;
}

/** `openEvidence` for a cluster-level suspicion (`result.clusterSuspicions`) uses this node id. */
export const clusterScope = '';

export type Selection = { kind: 'node'; id: string } | { kind: 'edge'; id: string };

export type HostToWebview =
  /**
   * Draw this view (replaces any previous one; selection is kept when its target still exists).
   * With `parts`, the result's nodes and links follow those of `view.result` from that many
   * `resultPart` messages of the same run, sent just before.
   */
  | { type: 'showResult'; view: PathView; parts?: number }
  /** Slice `index` of the nodes and links of the result that the next `showResult` of `runId` shows. */
  | { type: 'resultPart'; runId: string; index: number; nodes: WireNode[]; links: Link[] }
  /**
   * A new layout of the run shown (groups unfolded or folded): only the graph crosses, not the
   * result again, which for a large fan-out is megabytes the extension host would serialize.
   */
  | { type: 'showGraph'; runId: string; graph: PositionedGraph }
  /** Select a node without echoing `reveal` back (the tree selected it). */
  | { type: 'selectNode'; nodeId: string }
  /** A re-run or re-layout is in progress, or failed. */
  | { type: 'status'; busy: boolean; message?: string };

export type WebviewToHost =
  /** The app is listening: (re)send the current view. */
  | { type: 'ready' }
  /** The user selected a NetNode in the graph: reveal it in the tree view. */
  | { type: 'reveal'; nodeId: string }
  /** The user chose a suspicion: open the report at its diagnostic. */
  | { type: 'openEvidence'; nodeId: string; suspicionIndex: number }
  /** Run the same diagnosis again. */
  | { type: 'rerun' }
  /** Unfold a group of backends, showing up to `limit` of them (default: the view's limit), or fold it again. */
  | { type: 'expandGroup'; groupId: string; limit?: number }
  | { type: 'collapseGroup'; groupId: string }
  /**
   * The panel's size in CSS pixels (on load and when it changes): below `narrowPanelWidth` the host
   * has the path laid out top to bottom, at `widePanelWidth` and above left to right again.
   */
  | { type: 'resize'; width: number; height: number };

/** Narrower panels get the top-to-bottom layout… */
export const narrowPanelWidth = 700;
/** …until they are this wide again (a margin, so a panel near the threshold does not flip back and forth). */
export const widePanelWidth = 760;

/** The layout direction a panel of this width wants, given the one it shows. */
export function directionFor(width: number, current: 'right' | 'down'): 'right' | 'down' {
  if (width < narrowPanelWidth) return 'down';
  if (width >= widePanelWidth) return 'right';
  return current;
}

/** What the webview keeps with setState: enough to redraw at once after being hidden or a reload. */
export interface WebviewState {
  version: 1;
  view?: PathView;
  selected?: Selection;
  /** Pan and zoom: translate then scale. */
  viewport?: { x: number; y: number; k: number };
}

function isObject(m: unknown): m is Record<string, unknown> {
  return typeof m === 'object' && m !== null;
}

function isView(v: unknown): v is PathView {
  if (!isObject(v) || !isObject(v.result) || !isObject(v.graph)) return false;
  const g = v.graph;
  return Array.isArray(g.nodes) && Array.isArray(g.edges) && Array.isArray(v.result.nodes) && Array.isArray(v.result.links);
}

export function isHostToWebview(m: unknown): m is HostToWebview {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'showResult':
      return isView(m.view) && (m.parts === undefined || (Number.isInteger(m.parts) && (m.parts as number) >= 0));
    case 'resultPart':
      return typeof m.runId === 'string' && Number.isInteger(m.index) && (m.index as number) >= 0 && Array.isArray(m.nodes) && Array.isArray(m.links);
    case 'showGraph':
      return typeof m.runId === 'string' && isObject(m.graph) && Array.isArray(m.graph.nodes) && Array.isArray(m.graph.edges);
    case 'selectNode':
      return typeof m.nodeId === 'string';
    case 'status':
      return typeof m.busy === 'boolean' && (m.message === undefined || typeof m.message === 'string');
    default:
      return false;
  }
}

export function isWebviewToHost(m: unknown): m is WebviewToHost {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'ready':
    case 'rerun':
      return true;
    case 'reveal':
      return typeof m.nodeId === 'string';
    case 'openEvidence':
      return typeof m.nodeId === 'string' && Number.isInteger(m.suspicionIndex) && (m.suspicionIndex as number) >= 0;
    case 'expandGroup':
      return typeof m.groupId === 'string' && (m.limit === undefined || (Number.isInteger(m.limit) && (m.limit as number) > 0));
    case 'collapseGroup':
      return typeof m.groupId === 'string';
    case 'resize':
      return [m.width, m.height].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 100_000);
    default:
      return false;
  }
}

export function isWebviewState(s: unknown): s is WebviewState {
  return isObject(s) && s.version === 1 && (s.view === undefined || isView(s.view));
}

export interface ResultPart {
  nodes: WireNode[];
  links: Link[];
}

/** The result without its nodes and links, and those in slices of at most `size` items. */
export function splitResult(result: WireResult, size: number): { head: WireResult; parts: ResultPart[] } {
  const parts: ResultPart[] = [];
  for (let i = 0; i < result.nodes.length; i += size) parts.push({ nodes: result.nodes.slice(i, i + size), links: [] });
  for (let i = 0; i < result.links.length; i += size) parts.push({ nodes: [], links: result.links.slice(i, i + size) });
  return { head: { ...result, nodes: [], links: [] }, parts };
}

/** The inverse of `splitResult`. */
export function joinResult(head: WireResult, parts: readonly ResultPart[]): WireResult {
  return { ...head, nodes: [...head.nodes, ...parts.flatMap((p) => p.nodes)], links: [...head.links, ...parts.flatMap((p) => p.links)] };
}
