// Protocol tests of the built diagnosis server (dist/server.js) over real JSON-RPC, on both
// transports createConnection() supports from argv: node IPC (what the extension uses) and stdio;
// then the typed contract of src/shared/protocol.ts: every request round-trips with its declared
// types, and every failure meaning arrives on the client as its own error class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CancellationTokenSource, ErrorCodes as JsonRpcErrorCodes, LSPErrorCodes, RequestType, ResponseError,
} from 'vscode-languageserver-protocol/node';
import { ClusterApiError, ClusterInputError, ClusterUnreachableError, CollectionError } from '../../src/cluster/errors';
import { EndpointError } from '../../src/engine/k8s/resolve';
import { SnapshotError } from '../../src/engine/snapshot/load';
import {
  BadInputError, CancelledError, ClusterFailedError, ConsentRequiredError, InternalError, NetpathError, reviveError,
  type ConsentDetails,
} from '../../src/shared/errors';
import {
  CaptureSnapshotRequest, ClearRunRequest, ClusterInfoRequest, decodeError, DiagnoseRequest, encodeError, ErrorCodes,
  ListEndpointsRequest, type NetpathErrorData,
} from '../../src/shared/protocol';
import { serverBuilt, startServer, type RawMessage, type ServerSession, type Transport } from './client';
import { version } from '../../src/shared/version';

const skip = !serverBuilt() && 'dist/server.js missing: run `npm run build` first';
const transports: Transport[] = ['ipc', 'stdio'];

for (const transport of transports) {
  test(`${transport}: initialize names the server and its version`, { skip }, async () => {
    const s = await startServer({ transport });
    try {
      const r = await s.initialize();
      assert.equal(r.serverInfo?.name, 'netpath');
      assert.equal(r.serverInfo?.version, version);
      assert.equal(typeof r.capabilities, 'object');
    } finally {
      await s.dispose();
    }
  });

  test(`${transport}: shutdown then exit ends the process with code 0`, { skip }, async () => {
    const s = await startServer({ transport });
    try {
      await s.initialize();
      assert.equal(await s.connection.sendRequest('shutdown'), null);
      await s.connection.sendNotification('exit');
      const e = await Promise.race([s.exited, timeout(5000, 'process exit after `exit`')]);
      assert.deepEqual(e, { code: 0, signal: null });
    } finally {
      await s.dispose();
    }
  });

  test(`${transport}: exit without shutdown ends the process with code 1 (LSP spec)`, { skip }, async () => {
    const s = await startServer({ transport });
    try {
      await s.initialize();
      await s.connection.sendNotification('exit');
      const e = await Promise.race([s.exited, timeout(5000, 'process exit after `exit`')]);
      assert.deepEqual(e, { code: 1, signal: null });
    } finally {
      await s.dispose();
    }
  });

  test(`${transport}: malformed messages get an error answer and the server stays up`, { skip }, async (t) => {
    const s = await startServer({ transport });
    try {
      await s.initialize();
      const isError = (id: number) => (m: RawMessage) => m.id === id && m.error !== undefined;
      const logged = (needle: string) => (m: RawMessage) =>
        m.method === 'window/logMessage' && (m.params as { type: number; message: string }).type === 1 &&
        (m.params as { message: string }).message.includes(needle);

      // A request for a method the server does not serve: JSON-RPC "method not found", same id.
      s.sendRaw({ jsonrpc: '2.0', id: 901, method: 'netpath/noSuchRequest', params: {} });
      const notFound = await s.waitFor(isError(901), 'the error answer to request 901');
      assert.equal(notFound.error!.code, -32601);
      assert.match(notFound.error!.message, /netpath\/noSuchRequest/);

      // Params of the wrong shape for a served request: an error response with the same id, not a crash.
      s.sendRaw({ jsonrpc: '2.0', id: 902, method: 'initialize', params: 'not an object' });
      const badParams = await s.waitFor(isError(902), 'the error answer to request 902');
      assert.equal(badParams.error!.code, -32603);

      // Neither request, response nor notification: vscode-jsonrpc answers with an error-level log
      // message quoting it (it sends no JSON-RPC -32600 response).
      s.sendRaw({ jsonrpc: '2.0', id: 903, method: 42 });
      await s.waitFor(logged('"id": 903'), 'an error log message about message 903');
      s.sendRaw({ jsonrpc: '2.0', id: 904 });
      await s.waitFor(logged('"id": 904'), 'an error log message about message 904');

      // Bytes that are not JSON at all (stdio) / a bare string (ipc): dropped, the stream stays in sync.
      s.sendRaw('{"jsonrpc": "2.0", "id": 905, "method": ');

      // Still up, still answering, still the same process.
      const after = await s.connection.sendRequest<{ serverInfo: { name: string } }>('initialize', {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
      });
      assert.equal(after.serverInfo.name, 'netpath');
      assert.equal(s.child.exitCode, null);
      assert.ok(!s.received.some((m) => m.id === 905), 'no answer may claim the id of an unparsable message');
      t.diagnostic(`${transport}: ${s.received.length} messages received from the server, ${s.received.filter((m) => m.error).length} error responses`);
    } finally {
      const e = await s.dispose();
      assert.deepEqual(e, { code: 0, signal: null }, `server stderr:\n${s.stderr()}`);
    }
  });
}

// ---- the typed contract ----

const broken = resolve('samples/broken.netpath.json');
const crossNode = { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' } as const;

test('every netpath request is one RequestType with its documented method name', () => {
  // DESIGN.md "LSP custom protocol": tests and other clients send these names.
  assert.deepEqual(
    [DiagnoseRequest, ListEndpointsRequest, ClusterInfoRequest, CaptureSnapshotRequest, ClearRunRequest].map((t) => t.method),
    ['netpath/diagnose', 'netpath/listEndpoints', 'netpath/clusterInfo', 'netpath/captureSnapshot', 'netpath/clearRun'],
  );
});

test('each request round-trips over JSON-RPC with its declared params and result', { skip }, async (t) => {
  const s = await typedSession();
  try {
    const eps = await s.connection.sendRequest(ListEndpointsRequest, { source: { kind: 'snapshot', path: broken } });
    assert.ok(eps.pods.some((p) => `${p.namespace}/${p.name}` === 'default/client'));
    assert.deepEqual(eps.nodes.map((n) => n.name), ['node1', 'node2']);

    const info = await s.connection.sendRequest(ClusterInfoRequest, { source: { kind: 'snapshot', path: broken }, overrides: { proxyMode: 'ipvs' } });
    assert.equal(info.sourceLabel, 'broken.netpath.json');
    assert.deepEqual(info.overridden, ['proxyMode']);

    const d = await s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: broken }, request: crossNode, runId: 'typed-1', workDoneToken: 'typed-progress' });
    assert.equal(d.runId, 'typed-1');
    assert.equal(d.result.verdict, 'unreachable');
    // Severity on this wire is the upper-case name, as in the CLI's JSON report.
    const levels = [...d.result.clusterSuspicions, ...d.result.nodes.flatMap((n) => n.suspicions)].map((x) => x.level);
    assert.ok(levels.length > 0 && levels.every((l) => ['FATAL', 'CRITICAL', 'WARNING', 'INFO'].includes(l)), JSON.stringify(levels));
    assert.ok(levels.includes('FATAL'));
    assert.ok(s.received.some((m) => m.method === '$/progress' && (m.params as { token: string }).token === 'typed-progress'), 'progress on the token given');

    assert.deepEqual(await s.connection.sendRequest(ClearRunRequest, { runId: 'typed-1' }), { cleared: ['typed-1'] });

    // captureSnapshot needs a cluster: its typed answer here is the typed failure (see below).
    const kc = await kubeconfigFor(`https://127.0.0.1:${await closedPort()}`);
    try {
      const e = await failureOf(s.connection.sendRequest(CaptureSnapshotRequest, { source: { kind: 'cluster', kubeconfig: kc.file }, output: join(kc.dir, 'x.netpath.json') }));
      assert.ok(e instanceof ClusterFailedError && e.failure === 'unreachable', `${e.name}: ${e.message}`);
    } finally {
      kc.remove();
    }
    t.diagnostic(`listEndpoints ${eps.pods.length} pods, clusterInfo ${info.sourceLabel}, diagnose ${d.result.verdict} with levels ${[...new Set(levels)].join('/')}, clearRun, captureSnapshot (cluster failed)`);
  } finally {
    await s.dispose();
  }
});

test('listEndpoints reports the families each end resolves in; a diagnose with request.family takes that path (dual-stack lab case)', { skip }, async (t) => {
  const dual = resolve('test/fixtures/lab/flannel-host-gw-dual--healthy/snapshot.netpath.json');
  const s = await typedSession();
  try {
    const eps = await s.connection.sendRequest(ListEndpointsRequest, { source: { kind: 'snapshot', path: dual } });
    assert.deepEqual(Object.fromEntries(eps.pods.map((p) => [`${p.namespace}/${p.name}`, p.families])), {
      'default/client': [4, 6], 'default/hostnet1': [4, 6], 'default/hostnet2': [4, 6], 'default/web1': [4, 6], 'default/web2': [4, 6],
    });
    // `kubernetes` is SingleStack IPv4 (spec.ipFamilies), the others RequireDualStack.
    assert.deepEqual(Object.fromEntries(eps.services.map((x) => [`svc/${x.namespace}/${x.name}`, x.families])), {
      'svc/default/dns': [4, 6], 'svc/default/kubernetes': [4], 'svc/default/web-local': [4, 6], 'svc/default/web-remote': [4, 6],
    });
    assert.deepEqual(Object.fromEntries(eps.nodes.map((n) => [n.name, n.families])), { node1: [4, 6], node2: [4, 6] });
    const d = await s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: dual }, request: { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp', family: 6 } });
    assert.equal(d.result.request.family, 6);
    assert.equal(d.result.verdict, 'reachable');
    assert.ok(d.result.nodes.some((n) => n.id === 'default/web2'), 'the path reaches web2');
    t.diagnostic(`families: ${eps.pods.length} pods, ${eps.services.length} services, ${eps.nodes.length} nodes; family 6 diagnose ${d.result.verdict}`);
  } finally {
    await s.dispose();
  }
});

test('each failure meaning arrives on the client as its typed error', { skip }, async (t) => {
  const s = await typedSession();
  const seen: string[] = [];
  const note = (e: NetpathError) => seen.push(`${e.constructor.name}${e instanceof BadInputError ? `(${e.part})` : e instanceof ClusterFailedError ? `(${e.failure})` : ''}`);
  try {
    // Bad input, each part: a malformed request, a request naming a pod the snapshot lacks, a missing snapshot.
    const params = await failureOf(s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: broken }, request: { ...crossNode, port: 0 } }));
    assert.ok(params instanceof BadInputError && params.part === 'params', `${params.name}: ${params.message}`);
    assert.match(params.message, /params\.request\.port must be an integer from 1 to 65535/);
    note(params);
    const request = await failureOf(s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: broken }, request: { ...crossNode, src: 'default/nosuchpod' } }));
    assert.ok(request instanceof BadInputError && request.part === 'request', `${request.name}: ${request.message}`);
    assert.match(request.message, /pod default\/nosuchpod not found/);
    note(request);
    const source = await failureOf(s.connection.sendRequest(ListEndpointsRequest, { source: { kind: 'snapshot', path: '/nonexistent/x.netpath.json' } }));
    assert.ok(source instanceof BadInputError && source.part === 'source', `${source.name}: ${source.message}`);
    note(source);

    // Cancelled: the client cancels; the answer is the one cancellation form.
    const c = new CancellationTokenSource();
    const p = s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'snapshot', path: broken }, request: crossNode }, c.token);
    c.cancel();
    const cancelled = await failureOf(p);
    assert.ok(cancelled instanceof CancelledError, `${cancelled.name}: ${cancelled.message}`);
    note(cancelled);

    // Cluster failed: an API server on a closed loopback port.
    const closed = await kubeconfigFor(`https://127.0.0.1:${await closedPort()}`);
    try {
      const e = await failureOf(s.connection.sendRequest(DiagnoseRequest, { source: { kind: 'cluster', kubeconfig: closed.file }, request: crossNode }));
      assert.ok(e instanceof ClusterFailedError && e.failure === 'unreachable', `${e.name}: ${e.message}`);
      assert.match(e.message, /cannot reach the API server https:\/\/127\.0\.0\.1:\d+/);
      note(e);
    } finally {
      closed.remove();
    }

    // Consent required: a fake API server that allows everything, has one node and no collector namespace.
    const api = await fakeApiServer();
    const kc = await kubeconfigFor(api.origin);
    try {
      const e = await failureOf(s.connection.sendRequest(CaptureSnapshotRequest, { source: { kind: 'cluster', kubeconfig: kc.file, consent: false }, output: join(kc.dir, 'x.netpath.json') }));
      assert.ok(e instanceof ConsentRequiredError, `${e.name}: ${e.message}`);
      assert.equal(e.details.namespace, 'netpath-system');
      assert.equal(e.details.server, api.origin);
      assert.equal(e.details.context, 'fake');
      assert.ok(e.details.privileges.length > 0 && e.details.permissions.length > 0);
      assert.deepEqual(api.writes(), [], 'nothing was created without consent');
      note(e);
    } finally {
      kc.remove();
      await api.close();
    }

    // Internal: what netpath does not send as one of its meanings (here: a method this server lacks).
    const unknown = new RequestType<{ x: number }, void, NetpathErrorData>('netpath/noSuchRequest');
    const internal = await failureOf(s.connection.sendRequest(unknown, { x: 1 }));
    assert.ok(internal instanceof InternalError, `${internal.name}: ${internal.message}`);
    note(internal);
    t.diagnostic(`typed errors received: ${seen.join(', ')}`);
  } finally {
    await s.dispose();
  }
});

test('encodeError → JSON → decodeError keeps each meaning and its data, for every error class', () => {
  const details: ConsentDetails = {
    context: 'ctx', server: 'https://192.0.2.1:6443', namespace: 'netpath-system', namespaceLabels: { a: 'b' }, image: 'img',
    pod: 'one per node', privileges: ['privileged'], permissions: ['create pods'], activeDeadlineSeconds: 180,
  };
  // [thrown, wire code, what the client must get back]
  const cases: [Error, number, (e: NetpathError) => boolean][] = [
    [new BadInputError('bad field', 'params'), JsonRpcErrorCodes.InvalidParams, (e) => e instanceof BadInputError && e.part === 'params'],
    [new EndpointError('pod default/x not found'), -32001, (e) => e instanceof BadInputError && e.part === 'request'],
    [new SnapshotError('snapshot', [{ path: '(root)', message: 'not JSON' }]), -32002, (e) => e instanceof BadInputError && e.part === 'source'],
    [new ClusterInputError('context "x" is not in KUBECONFIG'), -32002, (e) => e instanceof BadInputError && e.part === 'source'],
    [new CancelledError('cancelled during collection'), LSPErrorCodes.RequestCancelled, (e) => e instanceof CancelledError],
    [new ConsentRequiredError('it would create a namespace', details), -32004, (e) => e instanceof ConsentRequiredError && JSON.stringify(e.details) === JSON.stringify(details)],
    [new ClusterUnreachableError('cannot reach the API server'), -32005, (e) => e instanceof ClusterFailedError && e.failure === 'unreachable' && e.status === undefined],
    [new ClusterApiError(403, 'GET', '/api/v1/nodes', 'forbidden'), -32005, (e) => e instanceof ClusterFailedError && e.failure === 'denied' && e.status === 403],
    [new ClusterApiError(500, 'GET', '/api/v1/pods', 'etcd'), -32005, (e) => e instanceof ClusterFailedError && e.failure === 'api' && e.status === 500],
    [new CollectionError('node n1: collector pod failed'), -32005, (e) => e instanceof ClusterFailedError && e.failure === 'collection'],
    [new InternalError('a bug'), JsonRpcErrorCodes.InternalError, (e) => e instanceof InternalError],
    [new TypeError('x is undefined'), JsonRpcErrorCodes.InternalError, (e) => e instanceof InternalError && /x is undefined/.test(e.message)],
  ];
  for (const [thrown, code, ok] of cases) {
    const wire = encodeError('netpath/diagnose', thrown);
    assert.ok(wire instanceof ResponseError);
    assert.equal(wire.code, code, `${thrown.name} → code`);
    // What actually crosses: JSON of { code, message, data }, read back into the client's ResponseError.
    const sent = JSON.parse(JSON.stringify(wire.toJson())) as { code: number; message: string; data?: unknown };
    const back = decodeError(new ResponseError(sent.code, sent.message, sent.data));
    assert.ok(ok(back), `${thrown.name} came back as ${back.name} ${JSON.stringify(back)}`);
    if (thrown instanceof NetpathError) {
      // The worker boundary: plain data and back, same class and fields.
      assert.deepEqual(reviveError(JSON.parse(JSON.stringify(thrown.plain()))).plain(), thrown.plain());
    }
  }
});

test('decodeError: malformed or foreign error responses are internal errors, never guessed', () => {
  assert.ok(decodeError(new ResponseError(ErrorCodes.ConsentRequired, 'no details')) instanceof InternalError, 'consent without details');
  const odd = decodeError(new ResponseError(ErrorCodes.ClusterFailed, 'odd', { failure: 'exploded', status: 'x' }));
  assert.ok(odd instanceof ClusterFailedError && odd.failure === 'api' && odd.status === undefined);
  for (const code of [JsonRpcErrorCodes.MethodNotFound, JsonRpcErrorCodes.PendingResponseRejected, JsonRpcErrorCodes.ConnectionInactive, LSPErrorCodes.ServerCancelled, -1]) {
    assert.ok(decodeError(new ResponseError(code, 'm')) instanceof InternalError, `code ${code}`);
  }
  assert.ok(decodeError(new Error('Client is not running')) instanceof InternalError);
  const mine = new CancelledError();
  assert.equal(decodeError(mine), mine, 'an error already decoded stays itself');
});

async function typedSession(): Promise<ServerSession> {
  const s = await startServer();
  await s.initialize({ capabilities: { window: { workDoneProgress: true } } });
  return s;
}

/** The typed error a request failed with (as the extension's ServerConnection decodes it). */
async function failureOf(p: Promise<unknown>): Promise<NetpathError> {
  try {
    await p;
  } catch (e) {
    return decodeError(e);
  }
  assert.fail('expected the request to fail');
}

async function closedPort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function kubeconfigFor(server: string): Promise<{ dir: string; file: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-protocol-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: fake, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
    'users: [{name: fake, user: {token: fake-token}}]',
    'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
    'current-context: fake',
    '',
  ].join('\n'));
  return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Just enough of a kube-apiserver (plain HTTP on loopback) for a run to reach the consent
 * question: every access review allowed, one node, empty lists, no collector namespace.
 */
async function fakeApiServer(): Promise<{ origin: string; writes(): string[]; close(): Promise<void> }> {
  const writes: string[] = [];
  const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  };
  const srv = createHttpServer((req: IncomingMessage, res) => {
    const path = (req.url ?? '').split('?')[0];
    req.resume();
    if (req.method === 'POST' && path.endsWith('/selfsubjectaccessreviews')) return send(res, 201, { kind: 'SelfSubjectAccessReview', status: { allowed: true } });
    if (req.method !== 'GET') {
      writes.push(`${req.method} ${path}`);
      return send(res, 403, { kind: 'Status', code: 403, message: 'the fake API server creates nothing' });
    }
    if (/^\/api\/v1\/namespaces\/[^/]+$/.test(path)) return send(res, 404, { kind: 'Status', code: 404, message: `namespaces "${path.split('/').pop()}" not found` });
    if (path === '/api/v1/nodes') {
      return send(res, 200, {
        kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '1' },
        items: [{ metadata: { name: 'node1', labels: { 'kubernetes.io/os': 'linux' } }, spec: { podCIDR: '10.244.0.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }] } }],
      });
    }
    if (path.startsWith('/api/') || path.startsWith('/apis/')) return send(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
    send(res, 404, { kind: 'Status', code: 404, message: 'not found' });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    writes: () => [...writes],
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref());
}
