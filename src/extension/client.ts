// The diagnosis server connection: started on first use (activation never starts a process),
// node IPC to dist/server.js, restarted when it crashes — the user is told once per session,
// later restarts only go to the log, and a crash loop stops restarting with a clear message.
import * as vscode from 'vscode';
import {
  CloseAction, ErrorAction, LanguageClient, TransportKind, WorkDoneProgress,
  type CloseHandlerResult, type RequestType, type ErrorHandlerResult, type LanguageClientOptions, type ServerOptions,
} from 'vscode-languageclient/node';

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
      documentSelector: [],
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
   */
  async request<R>(method: string, params: object, title: string, cancellable = true): Promise<R> {
    const client = await this.get();
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
        return await client.sendRequest<R>(method, { ...params, workDoneToken }, token);
      } finally {
        sub.dispose();
      }
    });
  }

  /** A custom request without UI (pickers' lists, clearing). */
  async quiet<R>(method: string, params: object): Promise<R> {
    return (await this.get()).sendRequest<R>(method, params);
  }

  /** A typed request without UI, cancelled with `token` (the link-path layout). */
  async send<P, R>(type: RequestType<P, R, void>, params: P, token?: vscode.CancellationToken): Promise<R> {
    return (await this.get()).sendRequest(type, params, token);
  }

  dispose(): void {
    void this.client?.stop().catch(() => undefined);
  }
}
