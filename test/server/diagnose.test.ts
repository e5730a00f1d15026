// The netpath custom requests over real JSON-RPC (dist/server.js over node IPC, as the extension
// starts it): diagnose the samples and every lab probe, with work-done progress and diagnostics on
// the report document; cancellation; clearing a run; malformed params answered with clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CancellationTokenSource, DiagnosticSeverity } from 'vscode-languageserver-protocol/node';
import { resolve } from 'node:path';
import { errorOf, serverBuilt, startServer, type RawMessage, type ServerSession } from './client';
import { labCases } from '../support/lab-cases';
import { BadInputError, CancelledError } from '../../src/shared/errors';
import {
  ClearRunRequest, ClusterInfoRequest, decodeError, DiagnoseRequest, ErrorCodes, ListEndpointsRequest, type DiagnoseParams,
} from '../../src/shared/protocol';
import { diagnosticSeverity, type Severity } from '../../src/shared/severity';

const skip = !serverBuilt() && 'dist/server.js missing: run `npm run build` first';
const broken = resolve('samples/broken.netpath.json');
const healthy = resolve('samples/healthy.netpath.json');
const crossNode: DiagnoseParams['request'] = { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' };
/** What the Problems panel shows for each wire severity (DESIGN.md), written out independently of the mapping module. */
const problems: Record<Severity, DiagnosticSeverity> = { FATAL: DiagnosticSeverity.Error, CRITICAL: DiagnosticSeverity.Error, WARNING: DiagnosticSeverity.Warning, INFO: DiagnosticSeverity.Information };

interface Diag {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: number;
  source: string;
  code: string;
  message: string;
  relatedInformation: { location: { uri: string; range: { start: { line: number } } }; message: string }[];
}
const published = (s: ServerSession, uri: string) =>
  s.received.filter((m) => m.method === 'textDocument/publishDiagnostics' && (m.params as { uri: string }).uri === uri).map((m) => (m.params as { diagnostics: Diag[] }).diagnostics);
const progressOf = (s: ServerSession, token: string) =>
  s.received.filter((m) => m.method === '$/progress' && (m.params as { token: string }).token === token).map((m) => (m.params as { value: { kind: string; message?: string; title?: string; percentage?: number } }).value);

async function session(): Promise<ServerSession> {
  const s = await startServer();
  await s.initialize({ capabilities: { window: { workDoneProgress: true } } });
  return s;
}

test('samples are the lab snapshots they claim to be, and small', (t) => {
  for (const [sample, lab] of [[healthy, 'flannel-host-gw--healthy'], [broken, 'flannel-host-gw--node-forward-drop']]) {
    const text = readFileSync(sample, 'utf8');
    assert.equal(text, readFileSync(`test/fixtures/lab/${lab}/snapshot.netpath.json`, 'utf8'));
    assert.ok(text.length < 1024 * 1024, `${sample} is ${text.length} bytes`);
    t.diagnostic(`${sample.split('/').pop()}: ${(text.length / 1024).toFixed(0)} KiB`);
  }
});

test('severity mapping: FATAL/CRITICAL → Error, WARNING → Warning, INFO → Information', () => {
  for (const [name, want] of Object.entries(problems)) assert.equal(diagnosticSeverity(name as Severity), want, name);
});

test('diagnose the broken sample: progress per step, result, report, diagnostics on the report line', { skip }, async (t) => {
  const s = await session();
  try {
    const r = await s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: broken }, request: crossNode, workDoneToken: 'p1', runId: 'broken-1' });
    assert.equal(r.runId, 'broken-1');
    assert.equal(r.reportUri, 'netpath-report:/broken-1.txt');
    assert.equal(r.result.verdict, 'unreachable');
    assert.equal(r.sourceLabel, 'broken.netpath.json');
    assert.match(r.report, /^netpath: \[pod\]default\/client/);

    const progress = progressOf(s, 'p1');
    assert.equal(progress[0].kind, 'begin');
    assert.equal(progress.at(-1)!.kind, 'end');
    const messages = progress.filter((v) => v.kind === 'report').map((v) => v.message!);
    for (const step of [/^Reading snapshot broken/, /^Validating snapshot/, /^Resolving default\/client and default\/web2/, /^Simulating tcp/, /^Writing the report/, /^Laying out the path$/, /^Publishing \d+ findings?/]) {
      assert.ok(messages.some((m) => step.test(m)), `no progress step ${step} in ${JSON.stringify(messages)}`);
    }
    const pct = progress.filter((v) => v.kind === 'report').map((v) => v.percentage!);
    assert.deepEqual(pct, [...pct].sort((a, b) => a - b), 'percentages never go back');

    const pubs = published(s, r.reportUri);
    assert.equal(pubs.length, 1);
    const total = r.result.clusterSuspicions.length + r.result.nodes.reduce((n, x) => n + x.suspicions.length, 0);
    assert.equal(pubs[0].length, total, 'one diagnostic per suspicion');
    assert.ok(messages.includes(`Publishing ${total} finding${total === 1 ? '' : 's'}`));
    const drops = pubs[0].filter((x) => x.code === 'iptables.drop');
    assert.equal(drops.length, 1);
    const d = drops[0];
    const lines = r.report.split('\n');
    assert.equal(d.severity, DiagnosticSeverity.Error, 'FATAL → Error');
    assert.equal(r.result.nodes.find((n) => n.id === 'node2')!.suspicions.find((x) => x.check === 'iptables.drop')!.level, 'FATAL', 'the result names the level');
    assert.equal(d.source, 'netpath');
    assert.equal(d.code, 'iptables.drop');
    assert.match(d.message, /^node node2: the packet is dropped by iptables/);
    assert.match(lines[d.range.start.line], /\[FATAL\] the packet is dropped by iptables on node2/);
    assert.equal(d.range.end.character, lines[d.range.start.line].length);
    assert.equal(d.relatedInformation.length, 1);
    assert.equal(d.relatedInformation[0].location.uri, r.reportUri);
    assert.match(lines[d.relatedInformation[0].location.range.start.line], /-A FORWARD -d 10\.244\.2\.2\/32 .* -j DROP/);
    t.diagnostic(`broken sample: ${messages.length} progress steps, ${pubs[0].length} diagnostics (${pubs[0].map((x) => `${x.code} severity ${x.severity}`).join(', ')}); the drop on report line ${d.range.start.line + 1}`);
  } finally {
    await s.dispose();
  }
});

test('every lab probe through the server: one diagnostic per suspicion, mapped severity, check id as code, on its own report line', { skip, timeout: 120_000 }, async (t) => {
  const s = await session();
  const tally = new Map<number, number>();
  let runs = 0;
  let diagnostics = 0;
  try {
    for (const c of labCases()) {
      const path = resolve(c.dir, 'snapshot.netpath.json');
      for (const p of c.truth.probes) {
        const request = { src: p.src, dst: p.dst, port: p.port, protocol: p.protocol.toLowerCase() as 'tcp' | 'udp' };
        const r = await s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path }, request });
        runs++;
        const all = [...r.result.clusterSuspicions.map((x) => ({ x, node: undefined as string | undefined })), ...r.result.nodes.flatMap((n) => n.suspicions.map((x) => ({ x, node: n.id })))];
        const pubs = published(s, r.reportUri);
        assert.equal(pubs.length, 1, `${c.name} ${p.probe}: one publish per run`);
        const ds = pubs[0];
        assert.equal(ds.length, all.length, `${c.name} ${p.probe}: one diagnostic per suspicion`);
        const lines = r.report.split('\n');
        const want = all.map(({ x }) => `${x.check}|${problems[x.level]}`).sort();
        assert.deepEqual(ds.map((d) => `${d.code}|${d.severity}`).sort(), want, `${c.name} ${p.probe}`);
        for (const d of ds) {
          assert.equal(d.source, 'netpath');
          assert.ok(lines[d.range.start.line].includes(`(${d.code})`), `${c.name}: line ${d.range.start.line} "${lines[d.range.start.line]}" shows ${d.code}`);
          tally.set(d.severity, (tally.get(d.severity) ?? 0) + 1);
          diagnostics++;
        }
      }
    }
    assert.ok(runs >= 100, `${runs} runs`);
    assert.ok((tally.get(1) ?? 0) > 0, 'some Error diagnostics');
    t.diagnostic(`${runs} lab probes diagnosed through the server, ${diagnostics} diagnostics: ${tally.get(1) ?? 0} Error, ${tally.get(2) ?? 0} Warning, ${tally.get(3) ?? 0} Information`);
  } finally {
    await s.dispose();
  }
});

test('cancel a run: RequestCancelled answer, progress ended, no diagnostics, server goes on', { skip }, async (t) => {
  const s = await session();
  try {
    // (1) cancelled right after it was sent: stops at the first step.
    // The client library sends `$/cancelRequest` with the request's id when the token is cancelled.
    const c1 = new CancellationTokenSource();
    const p1 = s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: broken }, request: crossNode, workDoneToken: 'c1', runId: 'cancel-1' }, c1.token);
    c1.cancel();
    const e1 = await errorOf(p1);
    assert.equal(e1.code, ErrorCodes.RequestCancelled, e1.message);
    assert.ok(decodeError(e1) instanceof CancelledError);
    assert.match(e1.message, /cancelled/);

    // (2) cancelled while the snapshot is being validated (a fresh server: nothing cached), so the
    // cancellation lands while the simulation worker is starting: the worker is terminated.
    const s2 = await session();
    try {
      const c2 = new CancellationTokenSource();
      const p2 = s2.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: healthy }, request: crossNode, workDoneToken: 'c2', runId: 'cancel-2' }, c2.token);
      await s2.waitFor((m) => m.method === '$/progress' && JSON.stringify(m.params).includes('Validating'), 'the validating step');
      c2.cancel();
      const e2 = await errorOf(p2);
      assert.equal(e2.code, ErrorCodes.RequestCancelled, e2.message);
      assert.ok(decodeError(e2) instanceof CancelledError);
      const steps = progressOf(s2, 'c2').map((v) => v.message ?? v.kind);
      assert.equal(progressOf(s2, 'c2').at(-1)!.kind, 'end', 'progress is ended');
      assert.ok(!steps.some((m) => /^Writing the report|^Publishing/.test(m)), `the run stopped: ${JSON.stringify(steps)}`);
      assert.equal(published(s2, 'netpath-report:/cancel-2.txt').length, 0);
      t.diagnostic(`cancelled during validation after steps: ${JSON.stringify(steps)}`);
      const after = await s2.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: healthy }, request: crossNode });
      assert.equal(after.result.verdict, 'reachable');
    } finally {
      await s2.dispose();
    }

    assert.equal(progressOf(s, 'c1').at(-1)?.kind ?? 'end', 'end');
    assert.equal(published(s, 'netpath-report:/cancel-1.txt').length, 0);
    const after = await s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: broken }, request: crossNode });
    assert.equal(after.result.verdict, 'unreachable');
  } finally {
    await s.dispose();
  }
});

test('clearRun clears that run\'s diagnostics, and all runs without an id', { skip }, async () => {
  const s = await session();
  try {
    for (const id of ['a', 'b', 'c']) await s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: broken }, request: crossNode, runId: id });
    assert.deepEqual(await s.connection.sendRequest(ClearRunRequest, { runId: 'b' }), { cleared: ['b'] });
    const n = published(s, 'netpath-report:/a.txt')[0].length;
    assert.ok(n > 0);
    assert.deepEqual(published(s, 'netpath-report:/b.txt').map((d) => d.length), [n, 0]);
    assert.deepEqual(published(s, 'netpath-report:/a.txt').map((d) => d.length), [n]);
    assert.deepEqual(await s.connection.sendRequest(ClearRunRequest, { runId: 'nope' }), { cleared: [] });
    assert.deepEqual(await s.connection.sendRequest(ClearRunRequest, {}), { cleared: ['a', 'c'] });
    assert.deepEqual(published(s, 'netpath-report:/a.txt').map((d) => d.length), [n, 0]);
    assert.deepEqual(published(s, 'netpath-report:/c.txt').map((d) => d.length), [n, 0]);
  } finally {
    await s.dispose();
  }
});

test('listEndpoints and clusterInfo describe the snapshot (overrides applied and named)', { skip }, async () => {
  const s = await session();
  try {
    const eps = await s.connection.sendRequest(ListEndpointsRequest, { source: { kind: 'snapshot', path: broken }, workDoneToken: 'l1' });
    const client = eps.pods.find((p) => `${p.namespace}/${p.name}` === 'default/client');
    assert.ok(client && client.ips.length === 1 && client.node, JSON.stringify(client));
    const web2 = eps.pods.find((p) => p.name === 'web2');
    assert.ok(web2?.ports.some((p) => p.port === 8080 && p.protocol === 'TCP'), 'container ports listed');
    const svc = eps.services.find((x) => x.name === 'web-remote');
    assert.deepEqual(svc?.ports.map((p) => p.port), [80]);
    assert.deepEqual(eps.nodes.map((n) => n.name), ['node1', 'node2']);
    assert.ok(eps.namespaces.includes('default'));
    assert.equal(progressOf(s, 'l1').at(-1)?.kind, 'end');

    const info = await s.connection.sendRequest(ClusterInfoRequest, { source: { kind: 'snapshot', path: broken }, overrides: { proxyMode: 'ipvs' } });
    assert.equal(info.sourceLabel, 'broken.netpath.json');
    assert.deepEqual(info.dumpedNodes, ['node1', 'node2']);
    assert.equal(info.effective.proxyMode, 'ipvs');
    assert.deepEqual(info.overridden, ['proxyMode']);
    assert.equal(info.effective.networkPlugin, info.detected.networkPlugin);
    assert.equal(info.counts.nodes, 2);

    const text = readFileSync(broken, 'utf8');
    const fromText = await s.connection.sendRequest(ClusterInfoRequest, { source: { kind: 'snapshot', text, name: '/tmp/x/shared.netpath.json' } });
    assert.equal(fromText.sourceLabel, 'shared.netpath.json');
    assert.deepEqual(fromText.detected, info.detected);
  } finally {
    await s.dispose();
  }
});

test('malformed params and bad input: clear JSON-RPC errors, the server stays up', { skip }, async (t) => {
  const s = await session();
  // Method names as strings and malformed params on purpose: this is the wire contract other clients use.
  const { InvalidParams, BadRequest, BadSource } = ErrorCodes;
  const cases: [string, unknown, number, RegExp][] = [
    ['netpath/diagnose', null, InvalidParams, /params must be an object, got null/],
    ['netpath/diagnose', { request: crossNode }, InvalidParams, /params\.source must be an object/],
    ['netpath/diagnose', { source: { kind: 'snapshot' }, request: crossNode }, InvalidParams, /params\.source must be a snapshot path/],
    ['netpath/diagnose', { source: { kind: 'tarball', path: broken }, request: crossNode }, InvalidParams, /params\.source\.kind must be "snapshot" or "cluster", got "tarball"/],
    ['netpath/diagnose', { source: { kind: 'snapshot', path: broken } }, InvalidParams, /params\.request must be an object/],
    ['netpath/diagnose', { source: { kind: 'snapshot', path: broken }, request: { ...crossNode, port: '80' } }, InvalidParams, /params\.request\.port must be an integer from 1 to 65535, got "80"/],
    ['netpath/diagnose', { source: { kind: 'snapshot', path: broken }, request: { ...crossNode, port: 70000 } }, InvalidParams, /port must be an integer from 1 to 65535, got number 70000/],
    ['netpath/diagnose', { source: { kind: 'snapshot', path: broken }, request: { ...crossNode, src: '' } }, InvalidParams, /params\.request\.src must be a non-empty string/],
    ['netpath/diagnose', { source: { kind: 'snapshot', path: broken }, request: { ...crossNode, protocol: 'icmp' } }, InvalidParams, /protocol must be "tcp", "udp" or "sctp", got "icmp"/],
    ['netpath/diagnose', { source: { kind: 'snapshot', path: broken }, request: crossNode, runId: '../x' }, InvalidParams, /params\.runId must be/],
    ['netpath/diagnose', { source: { kind: 'cluster', context: 'kind', kubeconfig: '/nonexistent/kubeconfig' }, request: crossNode }, BadSource, /kubeconfig \/nonexistent\/kubeconfig does not exist/],
    ['netpath/diagnose', { source: { kind: 'cluster', context: 7 }, request: crossNode }, InvalidParams, /params\.source\.context must be a non-empty string, got number 7/],
    ['netpath/diagnose', { source: { kind: 'snapshot', path: '/nonexistent/x.netpath.json' }, request: crossNode }, BadSource, /cannot read snapshot \/nonexistent\/x\.netpath\.json/],
    ['netpath/diagnose', { source: { kind: 'snapshot', text: '{"kind": "NetpathSnapshot"', name: 'cut.netpath.json' }, request: crossNode }, BadSource, /cut\.netpath\.json/],
    ['netpath/diagnose', { source: { kind: 'snapshot', text: '{"kind": "NetpathSnapshot", "version": 1}' }, request: crossNode }, BadSource, /invalid snapshot/],
    ['netpath/diagnose', { source: { kind: 'snapshot', path: broken }, request: { ...crossNode, src: 'default/nosuchpod' } }, BadRequest, /default\/nosuchpod/],
    ['netpath/diagnose', { source: { kind: 'snapshot', path: broken }, request: { ...crossNode, src: 'svc/default/web-remote' } }, BadRequest, /service never sends packets/],
    ['netpath/listEndpoints', [], InvalidParams, /netpath\/listEndpoints: params must be an object, got an array/],
    ['netpath/clusterInfo', { source: { kind: 'snapshot', path: broken }, overrides: { podCIDRs: '10.0.0.0/8' } }, InvalidParams, /params\.overrides\.podCIDRs must be an array of CIDR strings/],
    ['netpath/clusterInfo', { source: { kind: 'snapshot', path: broken }, overrides: { serviceCIDRs: ['10.96.0.0/12', '10.0.0.0'] } }, InvalidParams, /params\.overrides\.serviceCIDRs\[1\] must be a CIDR \(address\/length\), got "10\.0\.0\.0"/],
    // Nested past the depth limit (the structured clone to the worker overflowed here): bad input naming the limit.
    ['netpath/diagnose', { source: { kind: 'snapshot', text: `{"kind":"NetpathSnapshot","x":${'['.repeat(50000)}${']'.repeat(50000)}}` }, request: crossNode }, BadSource, /maxJsonDepth = \d+/],
    ['netpath/captureSnapshot', { source: { kind: 'snapshot', path: broken }, output: '/tmp/x.netpath.json' }, InvalidParams, /params\.source\.kind must be "cluster"/],
    ['netpath/captureSnapshot', { source: { kind: 'cluster', context: 'kind-kind' }, output: 'x.netpath.json' }, InvalidParams, /params\.output must be an absolute file path/],
    ['netpath/captureSnapshot', { nodes: 'node1' }, InvalidParams, /params\.nodes must be an array of node names/],
    ['netpath/clearRun', { runId: 7 }, InvalidParams, /params\.runId must be a string, got number 7/],
  ];
  try {
    for (const [method, params, code, message] of cases) {
      const e = await errorOf(s.connection.sendRequest(method, params));
      assert.equal(e.code, code, `${method} ${JSON.stringify(params)?.slice(0, 100)}: ${e.message}`);
      assert.match(e.message, message);
      const typed = decodeError(e);
      assert.ok(typed instanceof BadInputError && typed.part === { [InvalidParams]: 'params', [BadRequest]: 'request', [BadSource]: 'source' }[code], `${method}: decoded as ${typed.name}`);
      assert.equal(s.child.exitCode, null, 'server still running');
    }
    // Raw, bypassing the client library: params of the wrong JSON type altogether.
    s.sendRaw({ jsonrpc: '2.0', id: 7001, method: 'netpath/diagnose', params: 'default/client -> default/web2' });
    const raw = await s.waitFor((m: RawMessage) => m.id === 7001, 'the answer to raw request 7001');
    assert.equal(raw.error?.code, InvalidParams);
    const ok = await s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: broken }, request: crossNode });
    assert.equal(ok.result.verdict, 'unreachable');
    t.diagnostic(`${cases.length + 1} malformed/bad requests answered with errors; the same server process then diagnosed normally`);
  } finally {
    const e = await s.dispose();
    assert.deepEqual(e, { code: 0, signal: null }, s.stderr());
  }
});

