// The link-path graph layout on real lab results: same result → same coordinates, no two nodes
// overlap, every link of the result is drawn by exactly one edge whose route starts on its source
// and ends on its target, labels sit clear of nodes; backends beyond the threshold fold into one
// group that expands; elkjs stays out of the extension bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import type { Link } from '../../src/engine/model/link';
import { packet } from '../../src/engine/model/packet';
import { Network } from '../../src/engine/network';
import { BadInputError } from '../../src/shared/errors';
import { defaultGroupThreshold, layoutResult, type Box, type PositionedGraph } from '../../src/engine/report/layout';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { toWireResult, type WireNode, type WireResult } from '../../src/shared/severity';
import { labCases } from './lab-cases';

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
  for (const l of r.links) assert.ok(drawnBy.has(l.id), `${what}: link ${l.id} not drawn`);
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

/** A service node fanning out to `n` backends (request and reply), backend #i faulty when bad(i). */
function fanOut(n: number, bad: (i: number) => boolean): WireResult {
  const nodes: WireNode[] = [
    { id: 'default/client', type: 'pod', description: '10.0.0.2', examined: true, actions: [], suspicions: [] },
    { id: 'node1', type: 'node', description: '192.0.2.1', examined: true, actions: [], suspicions: [] },
  ];
  const links: Link[] = [
    { id: 'veth:default/client->node1', type: 'veth', source: 'default/client', destination: 'node1', packet: packet({ src: '10.0.0.2', dst: '10.96.0.1', dport: 80 }), sourceAttributes: { if: 'eth0' }, destinationAttributes: { if: 'veth0' } },
  ];
  for (let i = 0; i < n; i++) {
    const id = `default/web-${String(i).padStart(3, '0')}`;
    const ip = `10.1.${i >> 8}.${i & 255}`;
    nodes.push({
      id,
      type: 'pod',
      description: ip,
      examined: true,
      actions: [],
      suspicions: bad(i) ? [{ level: 'CRITICAL', message: 'no socket', check: 'socket.not-listening', evidence: [] }] : [],
    });
    links.push({ id: `veth:node1->${id}`, type: 'veth', source: 'node1', destination: id, packet: packet({ src: '10.0.0.2', dst: ip, dport: 8080 }), sourceAttributes: { if: `veth${i}`, nat: `DNAT 10.96.0.1:80 -> ${ip}:8080` }, destinationAttributes: { if: 'eth0' } });
    links.push({ id: `veth:${id}->node1`, type: 'veth', source: id, destination: 'node1', packet: packet({ src: ip, sport: 8080, dst: '10.0.0.2' }), sourceAttributes: { if: 'eth0', direction: 'reply' }, destinationAttributes: { if: `veth${i}` } });
  }
  return {
    request: { src: 'default/client', dst: 'svc/default/web', port: 80, protocol: 'tcp' },
    source: { ip: '10.0.0.2', type: 'pod', port: 0, ref: 'default/client' },
    destination: { ip: '10.96.0.1', type: 'service', port: 80, ref: 'default/web' },
    nodes,
    links,
    clusterSuspicions: [],
    unexamined: [],
    verdict: 'unreachable',
  };
}

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

test('elkjs stays out of the extension bundle; dist/layout.js serves the layout', async (t) => {
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
  const layoutJs = join(repo, 'dist/layout.js');
  if (!existsSync(layoutJs)) return t.skip('dist/layout.js missing: run `npm run build`');
  const mod = require(layoutJs) as { layoutResult: typeof layoutResult };
  const g = await mod.layoutResult(fanOut(3, () => false));
  assert.equal(g.nodes.length, 5);
  const ext = join(repo, 'dist/extension.js');
  if (existsSync(ext)) assert.ok(!/org\.eclipse\.elk/.test(require('node:fs').readFileSync(ext, 'utf8')), 'dist/extension.js contains elkjs');
  t.diagnostic(`pathPanel bundled alone: ${text.length} bytes without elkjs; dist/layout.js lays out (5 nodes)`);
});
