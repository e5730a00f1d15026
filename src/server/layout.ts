// netpath/layoutPath's params and the runs the server keeps to lay out again. The link-path graph
// is laid out on the server (never in the extension host, where a large elkjs layout froze VS
// Code), in its layout worker (layout-thread.ts, layout-worker.ts): the diagnose result carries the
// folded graph, netpath/layoutPath unfolds groups of backends (capped) of a run kept here by id.
// Nothing here imports elkjs, which only the layout worker's bundle holds.
import { BadInputError } from '../shared/errors';
import { LayoutPathRequest, type LayoutPathParams } from '../shared/protocol';
import type { WireResult } from '../shared/severity';

const layoutPathMethod = LayoutPathRequest.method;

const maxExpanded = 1000;
const maxIdLength = 1000;

function bad(field: string, expected: string): BadInputError {
  return new BadInputError(`${layoutPathMethod}: ${field} must be ${expected}`, 'params');
}

/** Checks the params before any work (the strings are the client's: bounded, never echoed raw). */
export function layoutPathParams(raw: unknown): LayoutPathParams {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('params', 'an object { runId, expanded, limit? }');
  const p = raw as Record<string, unknown>;
  if (typeof p.runId !== 'string' || !p.runId || p.runId.length > maxIdLength) throw bad('params.runId', 'a run id');
  const expanded = p.expanded ?? [];
  if (!Array.isArray(expanded) || expanded.length > maxExpanded || !expanded.every((g) => typeof g === 'string' && g.length <= maxIdLength))
    throw bad('params.expanded', `an array of at most ${maxExpanded} group ids`);
  if (p.limit !== undefined && !(Number.isInteger(p.limit) && (p.limit as number) > 0)) throw bad('params.limit', 'a positive integer');
  if (p.direction !== undefined && p.direction !== 'right' && p.direction !== 'down') throw bad('params.direction', '"right" or "down"');
  return { runId: p.runId, expanded: expanded as string[], ...(p.limit !== undefined ? { limit: p.limit as number } : {}), ...(p.direction !== undefined ? { direction: p.direction } : {}) };
}

/** The results of the last `size` runs, by run id, so netpath/layoutPath can lay them out again. */
export class KeptResults {
  private readonly byRun = new Map<string, WireResult>();

  constructor(private readonly size: number) {}

  set(runId: string, result: WireResult): void {
    this.byRun.delete(runId);
    this.byRun.set(runId, result);
    for (const oldest of this.byRun.keys()) {
      if (this.byRun.size <= this.size) break;
      this.byRun.delete(oldest);
    }
  }

  get(runId: string): WireResult | undefined {
    return this.byRun.get(runId);
  }

  delete(runId: string): void {
    this.byRun.delete(runId);
  }
}

/** The answer for a run the server no longer (or never) had. */
export function unknownRun(runId: string, kept: number): BadInputError {
  const shown = runId.length > 60 ? `${runId.slice(0, 60)}…` : runId;
  return new BadInputError(`${layoutPathMethod}: the diagnosis server no longer has run ${JSON.stringify(shown)} (it keeps the last ${kept} runs, and forgets them when it restarts): run the diagnosis again`, 'request');
}
