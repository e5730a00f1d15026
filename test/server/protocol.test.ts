// Protocol tests of the built diagnosis server (dist/server.js) over real JSON-RPC, on both
// transports createConnection() supports from argv: node IPC (what the extension uses) and stdio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverBuilt, startServer, type RawMessage, type Transport } from './client';
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

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref());
}
