// The link-path graph layout on real lab results: same result → same coordinates, no two nodes
// overlap, every link of the result is drawn by exactly one edge whose route starts on its source
// and ends on its target (or lies inside one folded group), labels sit clear of nodes; backends
// beyond the threshold fold into one group that unfolds in capped steps, whatever the fan-out's
// size and shape; elkjs stays out of the extension bundle (only the server lays out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { Network } from '../../src/engine/network';
import { BadInputError } from '../../src/shared/errors';
import { toWireResult, type WireResult } from '../../src/shared/severity';
import { defaultGroupThreshold, expandStep, layoutResult, maxExpandedNodes, type Box, type PositionedGraph } from '../../src/engine/report/layout';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { fanOut, spread } from '../support/fan-out';
import { labCases } from '../support/lab-cases';

const repo = join(__dirname, '..', '..');

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function near(p: { x: number; y: number }, b: Box, tol = 1): boolean {
  return p.x >= b.x - tol && p.x <= b.x + b.w + tol && p.y >= b.y - tol && p.y <= b.y + b.h + tol;
}

/** Every property the webview relies on; returns counts for the diagnostic line. */
function checkGraph(r: WireResult, g: PositionedGraph, what: string): { nodes: number; edges: number; links: number } {
  const nodes = new Map(g.nodes.map((n) => [n.id, n]));
  assert.equal(nodes.size, g.nodes.length, `${what}: duplicate node ids`);
  for (let i = 0; i < g.nodes.length; i++)
    for (let j = i + 1; j < g.nodes.length; j++)
      assert.ok(!overlaps(g.nodes[i], g.nodes[j]), `${what}: ${g.nodes[i].id} overlaps ${g.nodes[j].id}`);
  const folded = new Set(g.nodes.flatMap((n) => n.group?.members ?? []));
  for (const n of r.nodes) assert.ok(nodes.has(n.id) !== folded.has(n.id), `${what}: node ${n.id} is drawn ${folded.has(n.id) ? 'and folded' : 'nowhere'}`);
  const groupOf = new Map(g.nodes.flatMap((n) => (n.group?.members ?? []).map((m) => [m, n.id] as const)));
  const drawnBy = new Map<string, string>();
  for (const e of g.edges) {
    for (const l of e.links) {
      assert.ok(!drawnBy.has(l), `${what}: link ${l} drawn twice`);
      drawnBy.set(l, e.id);
    }
    assert.ok(e.points.length >= 2, `${what}: edge ${e.id} has no route`);
    const src = nodes.get(e.source), dst = nodes.get(e.target);
    assert.ok(src && dst, `${what}: edge ${e.id} ends at a node not drawn`);
    const srcPort = src.ports.find((p) => p.id === e.sourcePort);
    const dstPort = dst.ports.find((p) => p.id === e.targetPort);
    assert.ok(near(e.points[0], srcPort ?? src), `${what}: edge ${e.id} does not start on ${e.source}`);
    assert.ok(near(e.points.at(-1)!, dstPort ?? dst), `${what}: edge ${e.id} does not end on ${e.target}`);
    assert.ok(e.label.length >= 2, `${what}: edge ${e.id} label lacks the packet`);
    if (e.labelBox) for (const n of g.nodes) assert.ok(!overlaps(e.labelBox, n), `${what}: label of ${e.id} covers node ${n.id}`);
  }
  for (const l of r.links) {
    const inside = groupOf.has(l.source) && groupOf.get(l.source) === groupOf.get(l.destination);
    assert.ok(drawnBy.has(l.id) !== inside, `${what}: link ${l.id} ${inside ? 'inside a group is drawn' : 'not drawn'}`);
  }
  for (const n of g.nodes) if (n.group) assert.equal(n.group.total - n.group.shown > 0, true, `${what}: group ${n.id} folds nothing`);
  for (const n of g.nodes) {
    assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.w <= g.width && n.y + n.h <= g.height, `${what}: ${n.id} outside the canvas`);
    const rn = r.nodes.find((x) => x.id === n.id);
    if (rn) assert.equal(n.suspicionCount, rn.suspicions.length, `${what}: ${n.id} suspicion count`);
  }
  return { nodes: g.nodes.length, edges: g.edges.length, links: r.links.length };
}

test('lab results: deterministic coordinates, no overlapping nodes, every link drawn', async (t) => {
  const cases = labCases();
  if (!cases.length) return t.skip('no lab cases committed');
  let layouts = 0, nodes = 0, links = 0, edges = 0, ms = 0;
  for (const c of cases) {
    const network = new Network(loadSnapshot(c.snapshotText));
    // The fault's own probe plus a pod-to-pod and a service probe per case keeps this bounded.
    const probes = c.truth.probes.filter((p, i) => i < 2 || p.probe === c.truth.fault?.targetProbe || p.dst.startsWith('svc/'));
    for (const p of probes.slice(0, 4)) {
      let r: WireResult;
      try {
        r = toWireResult(network.diagnose({ src: p.src, dst: p.dst, port: p.port, protocol: p.protocol as 'tcp' }));
      } catch (e) {
        if (e instanceof BadInputError) continue;
        throw e;
      }
      const what = `${c.name} ${p.src} -> ${p.dst}:${p.port}`;
      const t0 = performance.now();
      const a = await layoutResult(r);
      ms += performance.now() - t0;
      const b = await layoutResult(structuredClone(r));
      assert.equal(JSON.stringify(b), JSON.stringify(a), `${what}: layout differs between two runs`);
      const n = checkGraph(r, a, what);
      layouts++;
      nodes += n.nodes;
      edges += n.edges;
      links += n.links;
    }
  }
  assert.ok(layouts >= cases.length, `only ${layouts} layouts`);
  t.diagnostic(`${layouts} lab layouts (${cases.length} cases): ${nodes} nodes, ${links} links drawn as ${edges} edges; identical on re-run, 0 overlaps; mean ${(ms / layouts).toFixed(0)} ms per layout`);
});

test('the broken path: the dropping node carries its severity, links carry interfaces and packets', async (t) => {
  const c = labCases().find((x) => x.name === 'flannel-host-gw--node-forward-drop');
  if (!c) return t.skip('lab case missing');
  const r = toWireResult(new Network(loadSnapshot(c.snapshotText)).diagnose({ src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' }));
  const g = await layoutResult(r);
  const node2 = g.nodes.find((n) => n.id === 'node2')!;
  assert.equal(node2.severity, 'FATAL');
  assert.equal(node2.suspicionCount, 1);
  assert.equal(g.nodes.find((n) => n.id === 'default/client')!.severity, null);
  const infra = g.edges.find((e) => e.links.includes('infra:node1->node2'))!;
  assert.deepEqual(infra.label, ['infra  eth0 → eth0', 'tcp 10.244.1.2 → 10.244.2.2:8080']);
  assert.equal(infra.sourcePort, 'node1|east|eth0');
  assert.equal(infra.targetPort, 'node2|west|eth0');
  // Left to right in path order.
  const x = (id: string) => g.nodes.find((n) => n.id === id)!.x;
  assert.ok(x('default/client') < x('node1') && x('node1') < x('node2'));
  t.diagnostic(`node-forward-drop: ${g.nodes.length} nodes, ${g.edges.length} edges, node2 ${node2.severity} with ${node2.suspicionCount} suspicion`);
});

test('service path: NAT rewrite on the link where it happens, reply path drawn right to left', async (t) => {
  const c = labCases().find((x) => x.name === 'flannel-host-gw--healthy');
  if (!c) return t.skip('lab case missing');
  const r = toWireResult(new Network(loadSnapshot(c.snapshotText)).diagnose({ src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' }));
  const g = await layoutResult(r);
  const dnat = g.edges.filter((e) => e.label.some((l) => /^DNAT 10\.96\.0\.20:80 → 10\.244\.2\.2:8080$/.test(l)));
  assert.equal(dnat.length, 1, 'one edge shows the DNAT');
  assert.equal(dnat[0].source, 'node1');
  const replies = g.edges.filter((e) => e.reply);
  assert.ok(replies.length >= 1, 'reply links are marked');
  for (const e of replies) assert.ok(e.points[0].x > e.points.at(-1)!.x, `reply ${e.id} runs right to left`);
  t.diagnostic(`service path: ${g.edges.length} edges, ${replies.length} reply, DNAT shown on ${dnat[0].id}`);
});

test('150 backends: folded beyond the threshold into one expandable group, faulty ones kept visible', async (t) => {
  const r = fanOut(150, (i) => i === 120 || i === 149);
  const t0 = performance.now();
  const g = await layoutResult(r);
  const foldedMs = performance.now() - t0;
  checkGraph(r, g, 'folded');
  const group = g.nodes.find((n) => n.type === 'group')!;
  assert.ok(group, 'a group node');
  assert.equal(group.id, 'group:node1');
  assert.equal(group.group!.members.length, 150 - defaultGroupThreshold);
  const shown = g.nodes.filter((n) => n.id.startsWith('default/web-')).map((n) => n.id);
  assert.equal(shown.length, defaultGroupThreshold);
  assert.ok(shown.includes('default/web-120') && shown.includes('default/web-149'), 'faulty backends stay visible');
  assert.equal(group.severity, null, 'the folded members are all healthy');
  assert.equal(g.edges.filter((e) => e.target === group.id || e.source === group.id).length, 2, 'one edge in, one reply edge out');

  const t1 = performance.now();
  const open = await layoutResult(r, { expanded: ['group:node1'] });
  const openMs = performance.now() - t1;
  checkGraph(r, open, 'expanded');
  assert.equal(open.nodes.filter((n) => n.id.startsWith('default/web-')).length, 150);
  assert.deepEqual(open.expanded, ['group:node1']);

  // A fault inside the folded part raises the group's severity.
  const hidden = await layoutResult(fanOut(150, (i) => i >= 8 && i < 20), { groupThreshold: 5 });
  assert.equal(hidden.nodes.find((n) => n.type === 'group')!.severity, 'CRITICAL');
  t.diagnostic(`150 backends: folded to ${g.nodes.length} nodes / ${g.edges.length} edges in ${foldedMs.toFixed(0)} ms; expanded ${open.nodes.length} nodes / ${open.edges.length} edges in ${openMs.toFixed(0)} ms`);
});

test('1,000 backends: the folded graph is capped, deterministic, and every shown link ends on a drawn node', async (t) => {
  const r = fanOut(1000, (i) => i === 500 || i === 999);
  const t0 = performance.now();
  const g = await layoutResult(r);
  const ms = performance.now() - t0;
  const again = await layoutResult(structuredClone(r));
  assert.equal(JSON.stringify(again), JSON.stringify(g), 'same result, same picture');
  checkGraph(r, g, '1,000 folded');
  assert.equal(g.nodes.length, 2 + defaultGroupThreshold + 1);
  const group = g.nodes.find((n) => n.id === 'group:node1')!;
  assert.deepEqual({ total: group.group!.total, shown: group.group!.shown, members: group.group!.members.length }, { total: 1000, shown: defaultGroupThreshold, members: 1000 - defaultGroupThreshold });
  assert.equal(group.label, `${1000 - defaultGroupThreshold} more backends`);
  const shown = g.nodes.filter((n) => n.id.startsWith('default/web-')).map((n) => n.id);
  // Deterministic choice: the faulty ones first, then result order.
  assert.deepEqual(shown.sort(), ['default/web-000', 'default/web-001', 'default/web-002', 'default/web-003', 'default/web-004', 'default/web-005', 'default/web-500', 'default/web-999']);
  t.diagnostic(`1,000 backends folded: ${g.nodes.length} nodes / ${g.edges.length} edges, elkjs ${ms.toFixed(0)} ms`);
});

test('unfolding 1,000 backends shows 200 (the step), then more on request, never beyond the node budget', async (t) => {
  const r = fanOut(1000, (i) => i === 999);
  const t0 = performance.now();
  const g = await layoutResult(r, { expanded: ['group:node1'] });
  const ms = performance.now() - t0;
  checkGraph(r, g, '1,000 expanded');
  assert.equal(g.limit, expandStep);
  assert.deepEqual(g.expanded, ['group:node1']);
  const group = g.nodes.find((n) => n.id === 'group:node1')!.group!;
  assert.deepEqual({ total: group.total, shown: group.shown }, { total: 1000, shown: expandStep });
  assert.equal(g.nodes.filter((n) => n.id.startsWith('default/web-')).length, expandStep);
  assert.ok(g.nodes.some((n) => n.id === 'default/web-999'), 'the faulty backend is among the shown');
  // "Show all" asks for 1,000: the layout draws at most maxExpandedNodes of them.
  const t1 = performance.now();
  const all = await layoutResult(r, { expanded: ['group:node1'], limit: 1000 });
  const allMs = performance.now() - t1;
  checkGraph(r, all, '1,000 show all');
  assert.equal(all.limit, maxExpandedNodes);
  assert.equal(all.nodes.find((n) => n.id === 'group:node1')!.group!.shown, maxExpandedNodes);
  assert.equal(all.nodes.length, 2 + maxExpandedNodes + 1);
  t.diagnostic(`1,000 backends unfolded: ${g.nodes.length} nodes / ${g.edges.length} edges in ${ms.toFixed(0)} ms (limit ${expandStep}); "show all" capped at ${all.nodes.length} nodes / ${all.edges.length} edges in ${allMs.toFixed(0)} ms`);
});

test('the 500-node case: a 498-backend fan-out unfolds capped at 200', async (t) => {
  const r = fanOut(498, () => false);
  const t0 = performance.now();
  const g = await layoutResult(r, { expanded: ['group:node1'] });
  const ms = performance.now() - t0;
  checkGraph(r, g, '500 expanded');
  assert.equal(g.nodes.length, 2 + expandStep + 1);
  t.diagnostic(`500-node result unfolded: ${g.nodes.length} nodes / ${g.edges.length} edges drawn, elkjs ${ms.toFixed(0)} ms`);
});

test('backends spread over 40 nodes fold by branch: node and pods together, inner fan-outs folded too', async (t) => {
  const r = spread(40, 25);
  const t0 = performance.now();
  const g = await layoutResult(r);
  const ms = performance.now() - t0;
  checkGraph(r, g, 'spread folded');
  const outer = g.nodes.find((n) => n.id === 'group:node0')!.group!;
  assert.deepEqual({ total: outer.total, shown: outer.shown, members: outer.members.length }, { total: 40, shown: defaultGroupThreshold, members: 32 * 26 });
  // Each shown node folds its own 25 pods beyond the threshold.
  const inner = g.nodes.filter((n) => n.group && n.id !== 'group:node0');
  assert.equal(inner.length, defaultGroupThreshold);
  for (const n of inner) assert.deepEqual([n.group!.total, n.group!.shown], [25, defaultGroupThreshold]);
  assert.equal(g.nodes.length, 2 + defaultGroupThreshold * (1 + defaultGroupThreshold + 1) + 1);

  const open = await layoutResult(r, { expanded: ['group:node0'] });
  checkGraph(r, open, 'spread expanded');
  const rest = open.nodes.find((n) => n.id === 'group:node0')!.group!;
  // Each branch is 26 nodes: the budget of maxExpandedNodes stops the unfolding early.
  assert.equal(rest.shown, Math.floor(maxExpandedNodes / 26));
  t.diagnostic(`1,000 backends on 40 nodes: folded ${g.nodes.length} nodes in ${ms.toFixed(0)} ms; unfolding node0 shows ${rest.shown} of 40 branches, ${open.nodes.length} nodes`);
});

test('expanded ids the result does not have change nothing', async () => {
  const r = fanOut(30, () => false);
  const plain = await layoutResult(r);
  const odd = await layoutResult(r, { expanded: ['group:nope', '\u001b[31m<script>', 'node1'] });
  assert.deepEqual(odd.expanded, []);
  assert.equal(JSON.stringify({ ...odd, expanded: [] }), JSON.stringify(plain));
});

test('elkjs stays out of the extension bundle: only the diagnosis server lays out', async (t) => {
  const out = await esbuild.build({
    entryPoints: [join(repo, 'src/extension/pathPanel.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    write: false,
    logLevel: 'silent',
  });
  const text = out.outputFiles[0].text;
  assert.ok(!/elkjs|ElkLayered|org\.eclipse\.elk/i.test(text), 'pathPanel bundle contains elkjs');
  assert.ok(text.length < 100_000, `pathPanel bundle is ${text.length} bytes`);
  assert.ok(!/outfile: 'dist\/layout\.js'/.test(readFileSync(join(repo, 'scripts/build.mjs'), 'utf8')), 'no separate layout bundle is built');
  const ext = join(repo, 'dist/extension.js'), server = join(repo, 'dist/server.bundle.js'), layoutWorker = join(repo, 'dist/layout-worker.bundle.js');
  if (![ext, server, layoutWorker].every((f) => existsSync(f))) return t.skip('dist/ missing: run `npm run build`');
  assert.ok(!/org\.eclipse\.elk/.test(readFileSync(ext, 'utf8')), 'dist/extension.js contains elkjs');
  // The server lays out in its layout worker's own bundle, so its diagnosis worker does not compile elkjs.
  assert.ok(!/org\.eclipse\.elk/.test(readFileSync(server, 'utf8')), 'dist/server.bundle.js contains elkjs');
  assert.ok(/org\.eclipse\.elk/.test(readFileSync(layoutWorker, 'utf8')), 'dist/layout-worker.bundle.js lays out with elkjs');
  t.diagnostic(`pathPanel bundled alone: ${text.length} bytes without elkjs; dist/extension.js and dist/server.bundle.js without, dist/layout-worker.bundle.js with elkjs`);
});
