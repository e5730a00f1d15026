// The extension's explicit context (as rust-analyzer's editors/code `Ctx`): everything a command
// needs — the server connection, the runs, the chosen source, recent choices, settings, log —
// passed to each command instead of living in module globals.
import * as vscode from 'vscode';
import type { RequestType } from 'vscode-languageclient/node';
import { basename } from 'node:path';
import type { DiagnosisRequest } from '../engine/model/result';
import { CancelledError, ConsentRequiredError } from '../shared/errors';
import {
  ClearRunRequest, DiagnoseRequest, isClusterSpec, type ClusterSpec, type NetpathErrorData, type SourceSpec,
} from '../shared/protocol';
import { ClusterTracker, clusterLabel } from './cluster';
import { ConsentStore, obtainConsent, type Ask } from './consent';
import { readSettings, section, type NetpathSettings } from '../shared/settings';
import { ServerConnection, type RequestParams } from './client';
import { requestLabel } from './labels';
import { RunStore, type Run } from './runs';
import { notice, shown, shownLines } from '../shared/display';

const sourceKey = 'netpath.source';
const recentKey = 'netpath.recent';
const connectivitySourceKey = 'netpath.connectivitySource';

export type RecentKind = 'source' | 'destination' | 'port' | 'protocol' | 'family';

/** What the tests (and other extensions) can see: see main.ts `activate`'s return value. */
export interface PickerShown {
  step: 'source' | 'destination' | 'family' | 'port' | 'protocol' | 'snapshot' | 'namespace';
  quickPick: vscode.QuickPick<vscode.QuickPickItem>;
}

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly server: ServerConnection;
  readonly runs = new RunStore();
  readonly status: vscode.StatusBarItem;
  private readonly pickerShown = new vscode.EventEmitter<PickerShown>();
  readonly onDidShowPicker = this.pickerShown.event;
  private readonly runFinished = new vscode.EventEmitter<Run>();
  readonly onDidFinishRun = this.runFinished.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** The live cluster the Kubernetes extension (or the setting, or kubectl's default) points at. */
  readonly cluster: ClusterTracker;
  readonly consent: ConsentStore;
  /** How the consent question is asked (a modal warning); tests may replace it. */
  askConsent?: Ask;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = escapedLog(vscode.window.createOutputChannel('Network Path', { log: true }));
    this.server = new ServerConnection(extension.asAbsolutePath('dist/server.js'), this.log);
    this.status = vscode.window.createStatusBarItem('netpath.status', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'Network Path';
    this.cluster = new ClusterTracker(() => this.settings.kubeconfig);
    this.consent = new ConsentStore(extension.globalState);
    this.disposables.push(this.log, this.server, this.runs, this.status, this.pickerShown, this.runFinished, this.cluster);
    // A live source follows the Kubernetes extension when it switches context or kubeconfig.
    this.disposables.push(this.cluster.onDidChange(async () => {
      const s = this.source;
      if (!isClusterSpec(s)) return;
      const loc = await this.cluster.locate();
      const next: ClusterSpec = { kind: 'cluster', ...(loc.kubeconfig ? { kubeconfig: loc.kubeconfig } : {}), ...(loc.context ? { context: loc.context } : {}) };
      if (next.kubeconfig !== s.kubeconfig || next.context !== s.context) await this.setSource(next);
    }));
  }

  get settings(): NetpathSettings {
    const c = vscode.workspace.getConfiguration(section);
    return readSettings((k) => c.get(k));
  }

  // ---- the source: a snapshot, or a live cluster ----
  get source(): SourceSpec | undefined {
    return this.extension.workspaceState.get<SourceSpec>(sourceKey);
  }
  async setSource(s: SourceSpec | undefined): Promise<void> {
    await this.extension.workspaceState.update(sourceKey, s);
    void vscode.commands.executeCommand('setContext', 'netpath.hasSource', s !== undefined);
    this.log.info(s ? `source: ${isClusterSpec(s) ? `live cluster, context ${s.context ?? '(current)'}, kubeconfig ${s.kubeconfig ?? '(default)'}` : 'path' in s ? s.path : s.name ?? 'snapshot text'}` : 'source cleared');
  }
  sourceLabel(s = this.source): string {
    if (!s) return 'no snapshot';
    if (isClusterSpec(s)) return clusterLabel(s);
    return 'path' in s ? basename(s.path) : s.name ?? 'unsaved snapshot';
  }

  /**
   * A request on a source. Live clusters: only in trusted workspaces; the collector settings are
   * added; when the server answers ConsentRequiredError, the user is asked (once per cluster) and the
   * request is sent again with consent. Resolves undefined when the user declines.
   */
  async sourceRequest<P extends { source: SourceSpec }, R>(type: RequestType<P, R, NetpathErrorData>, params: RequestParams<P>, title: string): Promise<R | undefined> {
    const source = params.source;
    // The user's limits (netpath.limits.*) go with every request that reads a source.
    params = { ...params, limits: this.settings.limits };
    if (!isClusterSpec(source)) return this.server.request(type, params, title);
    if (!vscode.workspace.isTrusted) throw new Error('This workspace is not trusted: Network Path only reads saved snapshots here, not live clusters.');
    const live: ClusterSpec = { ...source, collector: this.settings.collector, consent: false };
    try {
      return await this.server.request(type, { ...params, source: live }, title);
    } catch (e) {
      if (!(e instanceof ConsentRequiredError)) throw e;
      const details = e.details;
      if (!(await obtainConsent(details, this.consent, this.askConsent))) {
        this.log.info(`consent declined for ${details.context ?? details.server}: nothing was created`);
        return undefined;
      }
      this.log.info(`consent given for ${details.context ?? ''} ${details.server ?? ''}: creating namespace ${details.namespace}`);
      return this.server.request(type, { ...params, source: { ...live, consent: true } }, title);
    }
  }

  // ---- Set as Connectivity Source ----
  get connectivitySource(): string | undefined {
    return this.extension.workspaceState.get<string>(connectivitySourceKey);
  }
  async setConnectivitySource(endpoint: string | undefined): Promise<void> {
    await this.extension.workspaceState.update(connectivitySourceKey, endpoint);
    void vscode.commands.executeCommand('setContext', 'netpath.hasConnectivitySource', endpoint !== undefined);
  }

  // ---- recent choices, newest first ----
  recent(kind: RecentKind): string[] {
    return this.extension.globalState.get<Record<string, string[]>>(recentKey)?.[kind] ?? [];
  }
  async remember(kind: RecentKind, value: string): Promise<void> {
    const all = { ...(this.extension.globalState.get<Record<string, string[]>>(recentKey) ?? {}) };
    all[kind] = [value, ...(all[kind] ?? []).filter((v) => v !== value)].slice(0, this.settings.recentLimit);
    await this.extension.globalState.update(recentKey, all);
  }

  /** Reveals a NetNode of a run in the Network Path view (set by main.ts, which owns the view). */
  revealNode: (run: Run, nodeId: string) => Promise<void> = async () => undefined;

  firePickerShown(e: PickerShown): void {
    this.pickerShown.fire(e);
  }

  // ---- running a diagnosis ----
  async diagnose(source: SourceSpec, request: DiagnosisRequest): Promise<Run | undefined> {
    if (!vscode.workspace.isTrusted && isClusterSpec(source)) {
      void vscode.window.showWarningMessage('This workspace is not trusted: Network Path can only diagnose saved snapshots here.');
      return undefined;
    }
    const label = requestLabel(request);
    // `$(…)` in a status bar text is an icon: a pod name must not add any.
    this.status.text = `$(sync~spin) Network Path: ${label.replace(/\$\(/g, '$\u200b(')}`;
    this.status.tooltip = shown(`Diagnosing ${label} on ${this.sourceLabel(source)}`);
    this.status.command = 'netpath.showLog';
    this.status.show();
    this.log.info(`diagnose ${label} on ${this.sourceLabel(source)}`);
    try {
      const r = await this.sourceRequest(DiagnoseRequest, { source, request, overrides: this.settings.detected }, `Network Path: ${label}`);
      if (!r) return undefined;
      const run: Run = { ...r, source, finishedAt: new Date() };
      this.runs.add(run);
      this.log.info(`${r.runId}: ${r.result.verdict} in ${r.durationMs} ms`);
      this.runFinished.fire(run);
      return run;
    } catch (e) {
      if (e instanceof CancelledError) {
        this.log.info(`diagnose ${label}: cancelled`);
        return undefined;
      }
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`diagnose ${label}: ${message}`);
      void vscode.window.showErrorMessage(notice(`Network Path: ${message}`), 'Show Log').then((a) => a && this.log.show());
      return undefined;
    } finally {
      this.status.hide();
    }
  }

  async clear(runIds?: string[]): Promise<void> {
    const ids = runIds ?? this.runs.all.map((r) => r.runId);
    if (this.server.running) {
      for (const runId of runIds ?? [undefined]) await this.server.quiet(ClearRunRequest, runId ? { runId } : {});
    }
    this.runs.remove(ids);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/**
 * The log channel with every message escaped (`shownLines`): server stderr, error messages and
 * names from the cluster end up here, and the log is read in a terminal-like view.
 */
function escapedLog(channel: vscode.LogOutputChannel): vscode.LogOutputChannel {
  const writes = new Set(['trace', 'debug', 'info', 'warn', 'error', 'append', 'appendLine', 'replace']);
  return new Proxy(channel, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (typeof v !== 'function') return v;
      if (typeof prop === 'string' && writes.has(prop))
        return (message: unknown, ...rest: unknown[]) => (v as (...a: unknown[]) => unknown).call(target, typeof message === 'string' ? shownLines(message) : message, ...rest);
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
