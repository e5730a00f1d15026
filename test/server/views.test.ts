// The editor's matrix and compare requests on the real server (dist/server.js over node IPC):
// netpath/layoutPath lays a kept run out top to bottom for a narrow panel, with the deciding rule on
// the node where the packet was stopped; netpath/matrix gives, cell for cell, what the engine's matrix (`netpath matrix`) gives, with the
// deciding policy named on policy-denied datapath cells; netpath/snapshotDiff gives the on-path
// differences first, each pointing at its line in the report, object differences with the object's
// YAML. Malformed params and oversized scopes are refused with the code of their meaning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { generateSnapshot } from '../../bench/generate';
import { buildMatrix } from '../../src/engine/matrix/matrix';
import { Network } from '../../src/engine/network';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import type { PositionedGraph } from '../../src/engine/report/graph';
import { layoutPathParams } from '../../src/server/layout';
import { ErrorCodes, LayoutPathRequest, MatrixRequest, SnapshotDiffRequest, type DiagnoseResult, type MatrixResult, type SnapshotDiffResult } from '../../src/shared/protocol';
import { errorOf, serverBuilt, startServer, type ServerSession } from './client';

const skip = !serverBuilt() && 'dist/server.js missing: run `npm run build` first';
const broken = resolve('samples/broken.netpath.json');
const healthy = resolve('samples/healthy.netpath.json');

async function withServer(fn: (s: ServerSession) => Promise<void>): Promise<void> {
  const s = await startServer();
  try {
    await s.initialize();
    await fn(s);
  } finally {
    await s.dispose();
  }
}

test('netpath/matrix: every cell as the engine gives it; policy-denied cells name the policy', { skip, timeout: 60_000 }, async () => {
  await withServer(async (s) => {
    const m = await s.connection.sendRequest(MatrixRequest.method, { source: { kind: 'snapshot', path: broken }, namespaces: ['default'] }) as MatrixResult;
    const engine = await buildMatrix(new Network(loadSnapshot(readFileSync(broken, 'utf8'))), { namespaces: ['default'] }, { policyOnly: false });
    assert.equal(m.sourceLabel, 'broken.netpath.json');
    assert.deepEqual(m.pods, engine.pods);
    assert.deepEqual(m.ports, engine.ports);
    assert.equal(m.cells.length, engine.cells.length);
    m.cells.forEach((c, i) => {
      const r = engine.results[engine.cells.result[i]];
      assert.deepEqual([c.src, c.dst, c.port, c.verdict, c.checks], [engine.cells.src[i], engine.cells.dst[i], engine.cells.port[i], r.verdict, r.checks]);
      // The deciding policy is named exactly where a policy denies.
      assert.equal(c.policies !== undefined, c.checks.includes('policy.ingress-deny'), `cell ${i}`);
    });
    const key = (c: MatrixResult['cells'][number]) => `${m.pods[c.src]} → ${m.pods[c.dst]}:${m.ports[c.port].port}`;
    const denied = m.cells.filter((c) => c.policies);
    assert.deepEqual(denied.map(key), ['default/web1 → default/web2:8080', 'default/web1 → default/web2:8081', 'default/web2 → default/web1:8080', 'default/web2 → default/web1:8081']);
    for (const c of denied) assert.deepEqual(c.policies, ['default/web-allow-client']);
    const fwd = m.cells.find((c) => key(c) === 'default/client → default/web2:8080')!;
    assert.deepEqual([fwd.verdict, fwd.checks, fwd.policies], ['unreachable', ['iptables.drop'], undefined]);

    // Policy-only: allowed/denied, every denied cell names its policies.
    const p = await s.connection.sendRequest(MatrixRequest.method, { source: { kind: 'snapshot', path: broken }, namespaces: ['default'], policyOnly: true, ports: [{ port: 8080, protocol: 'tcp' }] }) as MatrixResult;
    assert.equal(p.policyOnly, true);
    assert.deepEqual(p.ports, [{ port: 8080, protocol: 'tcp' }]);
    assert.equal(p.cells.length, 5 * 4);
    assert.ok(p.cells.every((c) => ['allowed', 'denied'].includes(c.verdict) && (c.verdict === 'allowed' || !!c.policies?.length)));
    // The web tier admits the client and the node addresses (ipBlock), so only web → web is denied.
    assert.deepEqual(p.cells.filter((c) => c.verdict === 'denied').map((c) => `${p.pods[c.src]} → ${p.pods[c.dst]}`), ['default/web1 → default/web2', 'default/web2 → default/web1']);
  });
});

test('netpath/matrix: malformed params and a scope too large for the view are refused, the server carries on', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-matrix-'));
  try {
    const g = generateSnapshot({ nodes: 2, pods: 160, services: 1, endpoints: 4, seed: 2 });
    const big = join(dir, 'big.netpath.json');
    writeFileSync(big, JSON.stringify(g.snapshot));
    await withServer(async (s) => {
      const send = (p: unknown) => errorOf(s.connection.sendRequest(MatrixRequest.method, p));
      const src = { kind: 'snapshot', path: broken };
      let e = await send({ source: src });
      assert.equal(e.code, ErrorCodes.InvalidParams);
      assert.match(e.message, /params\.namespaces must be a non-empty array of namespace names/);
      e = await send({ source: src, namespaces: ['Bad_NS\u202e'] });
      assert.equal(e.code, ErrorCodes.InvalidParams);
      assert.doesNotMatch(e.message, /\u202e/);
      e = await send({ source: src, namespaces: ['default'], ports: [{ port: 38412, protocol: 'quic' }] });
      assert.equal(e.code, ErrorCodes.InvalidParams);
      assert.match(e.message, /params\.ports\[0\]\.protocol must be "tcp", "udp" or "sctp"/);
      // SCTP goes through the datapath like the CLI's matrix: a cell that gets through is unknown (the socket lookup cannot judge SCTP).
      const sctp = await s.connection.sendRequest(MatrixRequest.method, { source: src, namespaces: ['default'], ports: [{ port: 38412, protocol: 'sctp' }] }) as MatrixResult;
      assert.ok(sctp.cells.length > 0 && sctp.cells.every((c) => c.verdict !== 'reachable'));
      const ports = [80, 443, 8080, 9090].map((port) => ({ port, protocol: 'tcp' }));
      e = await send({ source: { kind: 'snapshot', path: big }, namespaces: ['default'], ports });
      assert.equal(e.code, ErrorCodes.BadRequest);
      assert.match(e.message, /^default: 83 pods make 27224 cells, more than the view shows \(20000\).*netpath matrix/);
      // Still serving.
      const ok = await s.connection.sendRequest(MatrixRequest.method, { source: src, namespaces: ['default'], policyOnly: true }) as MatrixResult;
      assert.equal(ok.pods.length, 5);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('netpath/snapshotDiff: the on-path difference first, at its report line; objects with their YAML', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-compare-'));
  try {
    // b: the broken sample with its policy's ingress port changed and a label added to web2.
    const b = JSON.parse(readFileSync(broken, 'utf8'));
    b.objects.networkPolicies[0].spec.ingress[0].ports[1].port = 9091;
    b.objects.pods.find((p: { metadata: { name: string } }) => p.metadata.name === 'web2').metadata.labels.track = 'canary';
    const bFile = join(dir, 'b.netpath.json');
    writeFileSync(bFile, JSON.stringify(b));
    await withServer(async (s) => {
      const request = { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' };
      const d = await s.connection.sendRequest(SnapshotDiffRequest.method, { a: healthy, b: bFile, request }) as SnapshotDiffResult;
      assert.deepEqual(d.verdict, { a: 'reachable', b: 'unreachable', changed: true });
      const lines = d.report.split('\n');
      const first = d.onPath[0];
      assert.equal(first.type, 'stack');
      assert.equal(first.where, 'node node2');
      assert.match(first.title, /^\+ iptables: -A FORWARD .*-j DROP$/);
      assert.match(first.why!, /iptables\.drop, which stopped the packet/);
      assert.match(lines[first.line], /node node2: \+ iptables: -A FORWARD .*-j DROP/);
      // Every item points at its own line.
      for (const it of [...d.onPath, ...d.rest]) assert.ok(lines[it.line].includes(it.type === 'object' ? `${it.object!.kind} ` : it.title.slice(0, 20)), `line ${it.line}: ${lines[it.line]}`);
      // The policy and the pod on the path are object differences with their YAML (from b).
      const objects = [...d.onPath, ...d.rest].filter((x) => x.object);
      const pol = objects.find((x) => x.object!.kind === 'NetworkPolicy')!;
      assert.equal(pol.change, 'changed');
      assert.deepEqual(pol.object!.fields, ['spec.ingress[0].ports[1].port']);
      const doc = parse(pol.object!.yaml);
      assert.equal(doc.kind, 'NetworkPolicy');
      assert.equal(doc.spec.ingress[0].ports[1].port, 9091);
      assert.equal(pol.object!.yaml.split('\n')[pol.object!.nameLine], '  name: web-allow-client');
      const pod = objects.find((x) => x.object!.kind === 'Pod')!;
      assert.deepEqual(pod.object!.fields, ['metadata.labels.track']);
      assert.ok(d.onPath.includes(pod), 'web2 is a pod of the path');

      // Without a path: everything under "Differences".
      const all = await s.connection.sendRequest(SnapshotDiffRequest.method, { a: healthy, b: bFile }) as SnapshotDiffResult;
      assert.equal(all.onPath.length, 0);
      assert.equal(all.verdict, undefined);
      assert.equal(all.rest.length, d.onPath.length + d.rest.length);
      assert.match(all.report, /^Differences \(\d+\):$/m);

      // Bad input.
      let e = await errorOf(s.connection.sendRequest(SnapshotDiffRequest.method, { a: 'relative.json', b: bFile }));
      assert.equal(e.code, ErrorCodes.InvalidParams);
      assert.match(e.message, /params\.a must be an absolute snapshot file path/);
      e = await errorOf(s.connection.sendRequest(SnapshotDiffRequest.method, { a: join(dir, 'missing.netpath.json'), b: bFile }));
      assert.equal(e.code, ErrorCodes.BadSource);
      e = await errorOf(s.connection.sendRequest(SnapshotDiffRequest.method, { a: healthy, b: bFile, request: { ...request, dst: 'default/nope' } }));
      assert.equal(e.code, ErrorCodes.BadRequest);
      assert.match(e.message, /the path means nothing in either snapshot/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('netpath/layoutPath direction "down": the path top to bottom, ports on top and bottom, the deciding rule on its node', { skip, timeout: 60_000 }, async () => {
  assert.deepEqual(layoutPathParams({ runId: 'r', direction: 'down' }), { runId: 'r', expanded: [], direction: 'down' });
  assert.throws(() => layoutPathParams({ runId: 'r', direction: 'up' }), /params\.direction must be "right" or "down"/);
  await withServer(async (s) => {
    const request = { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' };
    const d = await s.connection.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { kind: 'snapshot', path: broken }, request, runId: 'narrow' });
    assert.equal(d.graph.direction, undefined, 'the diagnose result comes left to right');
    assert.ok(d.graph.nodes.flatMap((n) => n.ports).every((p) => p.side === 'west' || p.side === 'east'));
    const g = await s.connection.sendRequest<PositionedGraph>(LayoutPathRequest.method, { runId: 'narrow', expanded: [], direction: 'down' });
    assert.equal(g.direction, 'down');
    assert.ok(g.nodes.flatMap((n) => n.ports).every((p) => p.side === 'north' || p.side === 'south'));
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    // Along the path each node lies below the one before.
    const ys = ['default/client', 'node1', 'node2'].map((id) => byId.get(id)!.y);
    assert.ok(ys[0] < ys[1] && ys[1] < ys[2], `y ${ys.join(', ')}`);
    assert.ok(g.width < d.graph.width / 1.5, `down ${g.width}×${g.height}, right ${d.graph.width}×${d.graph.height}`);
    assert.deepEqual(byId.get('node2')!.decision, d.graph.nodes.find((n) => n.id === 'node2')!.decision);
    assert.equal(byId.get('node2')!.decision!.check, 'iptables.drop');
    assert.match(byId.get('node2')!.decision!.text, /^-A FORWARD -d 10\.244\.2\.2\/32 .*….*-j DROP$/);
    assert.ok(byId.get('node2')!.decision!.text.length <= 52);
    assert.equal(byId.get('node1')!.decision, undefined, 'clean nodes carry none');
    // A NetworkPolicy deny (the healthy sample, web1 → web2): the path stops at web2's node, which
    // carries the decision — the node's enforcing rule (FATAL) outranks the policy finding (CRITICAL).
    const p = await s.connection.sendRequest<DiagnoseResult>('netpath/diagnose', { source: { kind: 'snapshot', path: healthy }, request: { src: 'default/web1', dst: 'default/web2', port: 8080, protocol: 'tcp' } });
    assert.deepEqual(p.result.nodes.map((n) => n.id), ['default/web1', 'node1', 'node2']);
    assert.ok(p.result.clusterSuspicions.some((x) => x.check === 'policy.ingress-deny'));
    assert.deepEqual(p.graph.nodes.filter((n) => n.decision).map((n) => n.id), ['node2']);
    const rule = p.graph.nodes.find((n) => n.id === 'node2')!.decision!;
    assert.equal(rule.check, 'iptables.drop');
    assert.match(rule.text, /^-A NETPATH-IN-.*llow-client" -j DROP$/);
  });
});
