// The link-path layout on the server, over real JSON-RPC (dist/server.js over node IPC, laying out
// in its layout worker): a diagnose result carries the folded graph; netpath/layoutPath unfolds a
// group of a kept run (capped), can be cancelled mid-layout, and answers unknown runs and malformed
// params with clear errors. Plus the run store's eviction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSnapshot } from '../../bench/generate';
import type { WireResult } from '../../src/shared/severity';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import { BadInputError, CancelledError } from '../../src/shared/errors';
import { defaultGroupThreshold, expandStep, type PositionedGraph } from '../../src/engine/report/graph';
import { KeptResults, layoutPathParams } from '../../src/server/layout';
import { decodeError, ErrorCodes, LayoutPathRequest, type DiagnoseResult } from '../../src/shared/protocol';

const layoutPathMethod = LayoutPathRequest.method;
import { errorOf, serverBuilt, startServer } from './client';

const skip = !serverBuilt() && 'dist/server.js missing: run `npm run build` first';

/** Every edge ends on a drawn node, every drawn node is in the result or a group of it. */
function checkEnds(r: WireResult, g: PositionedGraph): void {
  const drawn = new Set(g.nodes.map((n) => n.id));
  const known = new Set(r.nodes.map((n) => n.id));
  for (const n of g.nodes) assert.ok(known.has(n.id) || (n.group && n.id === `group:${n.group.parent}`), `unknown node ${n.id}`);
  for (const e of g.edges) assert.ok(drawn.has(e.source) && drawn.has(e.target), `edge ${e.id} ends at a node not drawn`);
}

test('a 250-backend service: the diagnose result carries the folded graph; layoutPath unfolds it capped', { skip, timeout: 180_000 }, async (t) => {
  const g = generateSnapshot({ nodes: 4, pods: 600, services: 1, endpoints: 250, seed: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'netpath-layout-'));
  const path = join(dir, 'wide.netpath.json');
  writeFileSync(path, JSON.stringify(g.snapshot));
  const s = await startServer();
  try {
    await s.initialize();
    const d = await s.connection.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { kind: 'snapshot', path }, request: g.probes.podToService, runId: 'wide' });
    const backends = d.result.nodes.filter((n) => n.id.startsWith('default/bench-web-')).length;
    assert.equal(backends, 250);
    checkEnds(d.result, d.graph);
    const group = d.graph.nodes.find((n) => n.group)!;
    assert.equal(group.id, `group:${g.pathNodes[1]}`);
    assert.deepEqual([group.group!.total, group.group!.shown], [250, defaultGroupThreshold]);
    assert.deepEqual(d.graph.expanded, []);

    const t0 = Date.now();
    const open = await s.connection.sendRequest<PositionedGraph>(layoutPathMethod, { runId: 'wide', expanded: [group.id] });
    const ms = Date.now() - t0;
    checkEnds(d.result, open);
    assert.deepEqual(open.expanded, [group.id]);
    assert.equal(open.limit, expandStep);
    const rest = open.nodes.find((n) => n.id === group.id)!.group!;
    assert.deepEqual([rest.total, rest.shown, rest.members.length], [250, expandStep, 250 - expandStep]);
    assert.equal(open.nodes.filter((n) => n.id.startsWith('default/bench-web-')).length, expandStep);
    // The same request, the same picture; folding again gives the diagnose result's graph back.
    assert.equal(JSON.stringify(await s.connection.sendRequest(layoutPathMethod, { runId: 'wide', expanded: [group.id] })), JSON.stringify(open));
    assert.equal(JSON.stringify(await s.connection.sendRequest(layoutPathMethod, { runId: 'wide', expanded: [] })), JSON.stringify(d.graph));
    const all = await s.connection.sendRequest<PositionedGraph>(layoutPathMethod, { runId: 'wide', expanded: [group.id], limit: 250 });
    assert.equal(all.nodes.some((n) => n.group), false, 'all 250 shown: no group left');
    checkEnds(d.result, all);

    // Cancelled while the layout worker runs ELK (all 250 unfolded take seconds; the cancel goes
    // 100 ms after the request): the usual cancelled error; the next layout gets a new worker.
    const cts = new CancellationTokenSource();
    const cancelled = errorOf(s.connection.sendRequest(layoutPathMethod, { runId: 'wide', expanded: [group.id], limit: 250 }, cts.token));
    await new Promise((r) => setTimeout(r, 100));
    cts.cancel();
    const c = await cancelled;
    assert.equal(c.code, ErrorCodes.RequestCancelled, c.message);
    assert.ok(decodeError(c) instanceof CancelledError);
    assert.equal(JSON.stringify(await s.connection.sendRequest(layoutPathMethod, { runId: 'wide', expanded: [] })), JSON.stringify(d.graph));

    // Unknown and cleared runs, malformed params: clear errors, the server carries on.
    const unknown = await errorOf(s.connection.sendRequest(layoutPathMethod, { runId: 'nope', expanded: [] }));
    assert.equal(unknown.code, ErrorCodes.BadRequest);
    assert.match(unknown.message, /no longer has run "nope".*run the diagnosis again/);
    for (const bad of [{}, { runId: 3, expanded: [] }, { runId: 'wide', expanded: 'group:x' }, { runId: 'wide', expanded: [], limit: -1 }, { runId: 'wide', expanded: [], limit: 2.5 }]) {
      const e = await errorOf(s.connection.sendRequest(layoutPathMethod, bad));
      assert.equal(e.code, ErrorCodes.InvalidParams, JSON.stringify(bad));
    }
    await s.connection.sendRequest('netpath/clearRun', { runId: 'wide' });
    assert.equal((await errorOf(s.connection.sendRequest(layoutPathMethod, { runId: 'wide', expanded: [] }))).code, ErrorCodes.BadRequest);
    t.diagnostic(`250 backends: diagnose graph ${d.graph.nodes.length} nodes; layoutPath unfolded ${open.nodes.length} nodes / ${open.edges.length} edges in ${ms} ms (server round trip)`);
  } finally {
    await s.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('layoutPath params: defaults, bounds, hostile strings rejected by type and size', () => {
  assert.deepEqual(layoutPathParams({ runId: 'r', expanded: ['group:a'] }), { runId: 'r', expanded: ['group:a'] });
  assert.deepEqual(layoutPathParams({ runId: 'r' }), { runId: 'r', expanded: [] });
  assert.deepEqual(layoutPathParams({ runId: 'r', expanded: [], limit: 400 }), { runId: 'r', expanded: [], limit: 400 });
  for (const bad of [null, [], 'r', { runId: '' }, { runId: 'x'.repeat(1001) }, { runId: 'r', expanded: ['x'.repeat(1001)] }, { runId: 'r', expanded: Array(1001).fill('g') }, { runId: 'r', limit: 0 }, { runId: 'r', limit: '5' }])
    assert.throws(() => layoutPathParams(bad), (e: unknown) => e instanceof BadInputError && e.part === 'params', JSON.stringify(bad)?.slice(0, 80));
});

test('the server keeps the last N results: the oldest goes first, re-keeping refreshes', () => {
  const kept = new KeptResults(2);
  const r = (id: string) => ({ request: { src: id } }) as unknown as WireResult;
  kept.set('a', r('a'));
  kept.set('b', r('b'));
  kept.set('a', r('a2'));
  kept.set('c', r('c'));
  assert.equal(kept.get('b'), undefined, 'b was the oldest');
  assert.equal(kept.get('a')?.request.src, 'a2');
  assert.equal(kept.get('c')?.request.src, 'c');
  kept.delete('a');
  assert.equal(kept.get('a'), undefined);
});
