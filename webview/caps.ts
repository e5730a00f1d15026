// What the view says and offers about a capped fan-out: "showing 200 of 1,000 backends" with the
// ways to see more (each asks the host for a new layout, which the diagnosis server computes) or
// to fold it again. Shared by the notice bar above the graph and the group's details.
import { expandStep, maxExpandedNodes, type GraphGroup, type PositionedGraph } from '../src/engine/report/graph';

export interface CapAction {
  label: string;
  /** Unfold the group showing this many backends; absent = fold it again. */
  limit?: number;
}

const count = (n: number) => n.toLocaleString('en-US');

export function capText(g: GraphGroup): string {
  return `${g.parent}: showing ${count(g.shown)} of ${count(g.total)} backends`;
}

export function capActions(graph: PositionedGraph, groupId: string, g: GraphGroup): CapAction[] {
  const open = graph.expanded.includes(groupId);
  const actions: CapAction[] = [];
  const rest = g.total - g.shown;
  const next = Math.min(g.shown + expandStep, g.total);
  if (rest > 0 && next < g.total && next <= maxExpandedNodes) actions.push({ label: `Show next ${count(next - g.shown)}`, limit: next });
  if (rest > 0 && g.total <= maxExpandedNodes) actions.push({ label: `Show all ${count(g.total)}`, limit: g.total });
  if (open) actions.push({ label: 'Fold backends' });
  return actions;
}

/** Why "Show all" is missing: the graph draws a bounded number of backends. */
export function capNote(g: GraphGroup): string | undefined {
  return g.total > maxExpandedNodes ? `The graph draws at most ${count(maxExpandedNodes)} backends at a time; the details list all ${count(g.total)}.` : undefined;
}
