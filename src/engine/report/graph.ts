// The positioned link-path graph: what the layout produces and the webview draws. Plain data
// (JSON/structuredClone-safe) so it can cross the server → extension → webview boundaries, and
// free of elkjs imports so the browser bundle can use these types without pulling the layout in.
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
 * An interface of a NetNode: requests enter on the west side and leave by the east side; replies
 * the other way round (so one interface used both ways is one port).
 */
export interface GraphPort extends Box {
  id: string;
  /** Interface name as the link attribute `if` gives it. */
  name: string;
  side: 'west' | 'east';
}

/** Backends beyond the grouping threshold, drawn as one expandable node. */
export interface GraphGroup {
  /** The node that fanned out to them (a service's load-balancing node). */
  parent: string;
  /** NetNode ids folded into this node, in result order. */
  members: string[];
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
}

export function groupId(parent: string): string {
  return `group:${parent}`;
}
