// The diagnosis server connection: started on first use (activation never starts a process),
// node IPC to dist/server.js, restarted when it crashes — the user is told once per session,
// later restarts only go to the log, and a crash loop stops restarting with a clear message.
import * as vscode from 'vscode';
import {
  CloseAction, ErrorAction, LanguageClient, TransportKind, WorkDoneProgress,
  type CloseHandlerResult, type ErrorHandlerResult, type LanguageClientOptions, type RequestType, type ServerOptions,
} from 'vscode-languageclient/node';
import { decodeError, type NetpathErrorData } from '../shared/protocol';

/** The params of a request as its callers give them: the progress token is this module's business. */
export type RequestParams<P> = Omit<P, 'workDoneToken'>;

const crashWindowMs = 3 * 60_000;
const maxCrashes = 5;

export class ServerConnection implements vscode.Disposable {
  private client?: LanguageClient;
  private starting?: Promise<LanguageClient>;
  private crashes: number[] = [];
  private toldRestart = false;

  constructor(
    private readonly serverModule: string,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** The running client, starting the server on first use. */
  async get(): Promise<LanguageClient> {
    if (this.client?.isRunning()) return this.client;
    if (!this.starting) {
      this.starting = this.start().finally(() => (this.starting = undefined));
    }
    return this.starting;
  }

  get running(): boolean {
    return this.client?.isRunning() ?? false;
  }

  private async start(): Promise<LanguageClient> {
    if (this.client) {
      await this.client.dispose().catch(() => undefined);
      this.client = undefined;
    }
    const run = { module: this.serverModule, transport: TransportKind.ipc };
    const serverOptions: ServerOptions = { run, debug: { ...run, options: { execArgv: ['--nolazy', '--inspect=6019'] } } };
    const clientOptions: LanguageClientOptions = {
      // YAML files on disk: the server publishes findings on the manifests that cause them and
      // offers their quick fixes (it reads only documents of this selector, and only once started).
      documentSelector: [{ scheme: 'file', language: 'yaml' }],
      diagnosticCollectionName: 'netpath',
      outputChannel: this.log,
      revealOutputChannelOn: 4, // RevealOutputChannelOn.Never: failures are shown as notifications instead
      errorHandler: {
        error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue, handled: true }),
        closed: (): CloseHandlerResult => this.onClosed(),
      },
    };
    const client = new LanguageClient('netpath', 'Network Path', serverOptions, clientOptions);
    this.log.info(`starting the diagnosis server (${this.serverModule})`);
    await client.start();
    this.client = client;
    this.log.info('diagnosis server running');
    return client;
  }

  private onClosed(): CloseHandlerResult {
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < crashWindowMs);
    this.crashes.push(now);
    if (this.crashes.length >= maxCrashes) {
      const message = `The Network Path diagnosis server stopped ${this.crashes.length} times in 3 minutes; it will start again with the next command. See "Network Path: Show Log".`;
      this.log.error(message);
      this.client = undefined;
      return { action: CloseAction.DoNotRestart, message };
    }
    this.log.warn('the diagnosis server stopped unexpectedly; restarting it');
    if (this.toldRestart) return { action: CloseAction.Restart, handled: true };
    this.toldRestart = true;
    return { action: CloseAction.Restart, message: 'The Network Path diagnosis server stopped unexpectedly and was restarted. Results already shown are kept.' };
  }

  /**
   * A custom request with VS Code progress: the server's work-done reports become the progress
   * message, and cancelling the notification cancels the request (the server stops the run).
   * Fails with the NetpathError of the failure's meaning (see decodeError).
   */
  async request<P, R>(type: RequestType<P, R, NetpathErrorData>, params: RequestParams<P>, title: string, cancellable = true): Promise<R> {
    const client = await this.get().catch((e: unknown) => {
      throw decodeError(e);
    });
    const method = type.method;
    const workDoneToken = `netpath-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable }, async (progress, token) => {
      let last = 0;
      const sub = client.onProgress(WorkDoneProgress.type, workDoneToken, (v) => {
        if (v.kind === 'end') return;
        const pct = v.percentage ?? last;
        progress.report({ message: v.message, increment: Math.max(0, pct - last) });
        if (v.message) this.log.debug(`${method}: ${v.message}`);
        last = pct;
      });
      try {
        return await client.sendRequest(type, { ...params, workDoneToken } as P, token);
      } catch (e) {
        throw decodeError(e);
      } finally {
        sub.dispose();
      }
    });
  }

  /** A custom request without UI (pickers' lists, clearing); fails like `request`. */
  async quiet<P, R>(type: RequestType<P, R, NetpathErrorData>, params: RequestParams<P>): Promise<R> {
    try {
      return await (await this.get()).sendRequest(type, params as P);
    } catch (e) {
      throw decodeError(e);
    }
  }

  /** A typed request without UI, cancelled with `token` (the link-path layout); fails like `request`. */
  async send<P, R>(type: RequestType<P, R, NetpathErrorData>, params: RequestParams<P>, token?: vscode.CancellationToken): Promise<R> {
    try {
      return await (await this.get()).sendRequest(type, params as P, token);
    } catch (e) {
      throw decodeError(e);
    }
  }

  dispose(): void {
    void this.client?.stop().catch(() => undefined);
  }
}
