// The positioned link-path graph: what the layout (layout.ts, run by the diagnosis server) produces
// and the webview draws. Plain data (JSON/structuredClone-safe) so it can cross the server →
// extension → webview boundaries, and free of elkjs imports so the extension and browser bundles
// can use these types and constants without pulling the layout in.
import type { LinkType } from '../model/link';
import type { NetNodeType } from '../model/netnode';
import type { LevelName } from '../model/suspicion';

export interface Point {
  x: number;
  y: number;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * An interface of a NetNode: requests enter on the west side and leave by the east side (top and
 * bottom in a `down` layout); replies the other way round (so one interface used both ways is one port).
 */
export interface GraphPort extends Box {
  id: string;
  /** Interface name as the link attribute `if` gives it. */
  name: string;
  side: 'west' | 'east' | 'north' | 'south';
}

/** `right`: the path runs left to right (wide panels); `down`: top to bottom (narrow panels). */
export type LayoutDirection = 'right' | 'down';

/**
 * The backends of a fan-out that the graph does not show, drawn as one expandable node. A backend
 * is a branch hanging off the parent: the nodes reached only through it (a backend pod, or a node
 * with the backend pods behind it).
 */
export interface GraphGroup {
  /** The node that fanned out to them (a service's load-balancing node). */
  parent: string;
  /** NetNode ids folded into this node, in result order. */
  members: string[];
  /** The parent's backends in all: the ones shown plus the folded ones. */
  total: number;
  /** How many of them the graph shows (first those with findings, then in result order). */
  shown: number;
}

export interface GraphNode extends Box {
  /** A NetNode id, or `group:<parent>` for a folded group. */
  id: string;
  type: NetNodeType | 'group';
  label: string;
  /** IP or node name shown under the label. */
  description: string;
  /** Highest suspicion level on the node (or in the group), null when clean. */
  severity: LevelName | null;
  suspicionCount: number;
  /** False when the node could not be examined (no dump): drawn as unknown. */
  examined: boolean;
  ports: GraphPort[];
  group?: GraphGroup;
  /** Offset of the header (icon, label, description) from the node's top: room for port names above it in a `down` layout. */
  headerY?: number;
  /** The deciding rule where the packet was stopped here: the evidence of the node's worst FATAL/CRITICAL finding. */
  decision?: { check: string; text: string };
}

export interface GraphEdge {
  id: string;
  type: LinkType | 'mixed';
  source: string;
  target: string;
  sourcePort?: string;
  targetPort?: string;
  /** The result's link ids this edge draws (several when parallel links are bundled). */
  links: string[];
  /** Reply-direction links (drawn right to left, back along the request path). */
  reply?: boolean;
  /** The route in packet direction: start point, bends, end point. */
  points: Point[];
  /** Label lines: link type and interfaces, packet, NAT rewrite. */
  label: string[];
  labelBox?: Box;
}

export interface PositionedGraph {
  width: number;
  height: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** Group node ids the caller asked to expand (echoed so the view can offer to fold them again). */
  expanded: string[];
  /** How many backends an expanded group shows at most (the request's limit after clamping). */
  limit: number;
  /** Absent = `right`. */
  direction?: LayoutDirection;
}

/** Backends a fan-out shows before the rest fold into its group node. */
export const defaultGroupThreshold = 8;
/** Backends an expanded group shows by default, and how many more "Show next" adds. */
export const expandStep = 200;
/**
 * The most nodes all expanded groups together add to the graph: keeps one layout within a few
 * seconds (elkjs's layered layout grows much faster than linearly). Backends beyond it stay folded
 * and are listed in the group's details.
 */
export const maxExpandedNodes = 400;

export function groupId(parent: string): string {
  return `group:${parent}`;
}
