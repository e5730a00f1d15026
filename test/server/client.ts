// A small JSON-RPC client for protocol tests of the diagnosis server (dist/server.js).
// It spawns the real bundle over node IPC (what the extension's language client uses) or stdio,
// talks to it through vscode-jsonrpc (the copy the LSP protocol package uses, so the typed request
// objects of src/shared/protocol.ts and its ResponseError work here), and also records every raw message the server sends, so a
// test can inject malformed traffic and still see the error responses the connection itself would
// drop as "unknown id".
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  createMessageConnection,
  IPCMessageReader,
  IPCMessageWriter,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-languageserver-protocol/node';

export const serverBundle = resolve('dist/server.js');

export type Transport = 'ipc' | 'stdio';

/** A JSON-RPC message as the server sent it (request, response or notification). */
export interface RawMessage {
  jsonrpc?: string;
  id?: number | string | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerSession {
  readonly transport: Transport;
  readonly child: ChildProcess;
  readonly connection: MessageConnection;
  /** Every message received from the server so far, in order. */
  readonly received: RawMessage[];
  /** Resolves when the server process ends. */
  readonly exited: Promise<Exit>;
  /** The server's stderr so far (diagnostics for failed assertions). */
  stderr(): string;
  /** The standard LSP handshake: `initialize` then `initialized`. */
  initialize(params?: Record<string, unknown>): Promise<InitializeResult>;
  /** Sends bytes/objects that bypass vscode-jsonrpc's writer. stdio: a string body (framed here
   *  unless `framed`); ipc: any value, delivered as one IPC message. */
  sendRaw(body: unknown, opts?: { framed?: boolean }): void;
  /** Waits for a received message matching `pred` (already received ones count). */
  waitFor(pred: (m: RawMessage) => boolean, what: string, timeoutMs?: number): Promise<RawMessage>;
  /** shutdown + exit if still running, then kills whatever is left. Safe to call twice. */
  dispose(): Promise<Exit>;
}

export interface InitializeResult {
  capabilities: Record<string, unknown>;
  serverInfo?: { name: string; version?: string };
}

/** The error response `p` is rejected with (a test fails if it resolves). */
export async function errorOf(p: Promise<unknown>): Promise<{ code: number; message: string; data?: unknown }> {
  try {
    await p;
  } catch (e) {
    return e as { code: number; message: string; data?: unknown };
  }
  throw new Error('expected an error response');
}

export function serverBuilt(): boolean {
  return existsSync(serverBundle);
}

export async function startServer(opts: { transport?: Transport; bundle?: string; execArgv?: string[] } = {}): Promise<ServerSession> {
  const transport = opts.transport ?? 'ipc';
  const bundle = opts.bundle ?? serverBundle;
  if (!existsSync(bundle)) throw new Error(`${bundle} does not exist: run \`npm run build\` first`);
  // createConnection() with no streams picks its transport from argv, as vscode-languageclient passes it.
  const child = fork(bundle, [transport === 'ipc' ? '--node-ipc' : '--stdio'], {
    stdio: transport === 'ipc' ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['pipe', 'pipe', 'pipe', 'ipc'],
    execArgv: opts.execArgv ?? [],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<Exit>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  let done: Exit | undefined;
  void exited.then((e) => (done = e));

  const received: RawMessage[] = [];
  const waiters = new Set<() => void>();
  const record = (m: RawMessage) => {
    received.push(m);
    for (const w of [...waiters]) w();
  };

  let connection: MessageConnection;
  if (transport === 'ipc') {
    child.on('message', (m) => record(m as RawMessage));
    connection = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  } else {
    child.stdout!.on('data', frameParser(record));
    connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  }
  // Server-to-client requests (e.g. window/workDoneProgress/create) must be answered or the server waits.
  connection.onRequest(() => null);
  connection.listen();

  const waitFor: ServerSession['waitFor'] = (pred, what, timeoutMs = 10_000) =>
    new Promise((res, rej) => {
      const check = () => {
        const m = received.find(pred);
        if (m) {
          cleanup();
          res(m);
        } else if (done) {
          cleanup();
          rej(new Error(`server exited (${JSON.stringify(done)}) before ${what}; stderr:\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr:\n${stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      void exited.then(check);
      check();
    });

  const session: ServerSession = {
    transport,
    child,
    connection,
    received,
    exited,
    stderr: () => stderr,
    async initialize(params = {}) {
      const result = await connection.sendRequest<InitializeResult>('initialize', {
        processId: process.pid,
        rootUri: null,
        capabilities: {},
        clientInfo: { name: 'netpath-protocol-tests' },
        ...params,
      });
      await connection.sendNotification('initialized', {});
      return result;
    },
    sendRaw(body, { framed = false } = {}) {
      if (transport === 'ipc') {
        child.send(body as object);
        return;
      }
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      child.stdin!.write(framed ? text : `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    },
    waitFor,
    async dispose() {
      if (!done) {
        try {
          await withTimeout(connection.sendRequest('shutdown'), 2000);
          await connection.sendNotification('exit');
        } catch {
          // already gone or wedged: the kill below settles it
        }
        const e = await Promise.race([exited, sleep(3000).then(() => undefined)]);
        if (!e) child.kill('SIGKILL');
      }
      connection.dispose();
      return exited;
    },
  };
  return session;
}

/** Parses `Content-Length`-framed messages from a byte stream (the LSP base protocol). */
function frameParser(onMessage: (m: RawMessage) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const headerEnd = buf.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const header = buf.subarray(0, headerEnd).toString('ascii');
      const len = /Content-Length:\s*(\d+)/i.exec(header);
      if (!len) throw new Error(`server sent a frame without Content-Length: ${JSON.stringify(header)}`);
      const start = headerEnd + 4;
      const end = start + Number(len[1]);
      if (buf.length < end) return;
      onMessage(JSON.parse(buf.subarray(start, end).toString('utf8')) as RawMessage);
      buf = buf.subarray(end);
    }
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`no answer within ${ms} ms`)))]);
}
