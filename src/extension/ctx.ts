// The extension's explicit context (as rust-analyzer's editors/code `Ctx`): everything a command
// needs — the server connection, the runs, the chosen source, recent choices, settings, log —
// passed to each command instead of living in module globals.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { DiagnosisRequest } from '../engine/model/result';
import {
  clearRunMethod, diagnoseMethod, ErrorCodes, type ClearRunResult, type DiagnoseResult, type SourceSpec,
} from '../shared/protocol';
import { readSettings, section, type NetpathSettings } from '../shared/settings';
import { ServerConnection } from './client';
import { RunStore, requestLabel, type Run } from './runs';

const sourceKey = 'netpath.source';
const recentKey = 'netpath.recent';
const connectivitySourceKey = 'netpath.connectivitySource';

export type RecentKind = 'source' | 'destination' | 'port';

/** What the tests (and other extensions) can see: see main.ts `activate`'s return value. */
export interface PickerShown {
  step: 'source' | 'destination' | 'port' | 'protocol' | 'snapshot';
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

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Network Path', { log: true });
    this.server = new ServerConnection(extension.asAbsolutePath('dist/server.js'), this.log);
    this.status = vscode.window.createStatusBarItem('netpath.status', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'Network Path';
    this.disposables.push(this.log, this.server, this.runs, this.status, this.pickerShown, this.runFinished);
  }

  get settings(): NetpathSettings {
    const c = vscode.workspace.getConfiguration(section);
    return readSettings((k) => c.get(k));
  }

  // ---- the source (a snapshot today; live clusters with issue 5) ----
  get source(): SourceSpec | undefined {
    return this.extension.workspaceState.get<SourceSpec>(sourceKey);
  }
  async setSource(s: SourceSpec | undefined): Promise<void> {
    await this.extension.workspaceState.update(sourceKey, s);
    void vscode.commands.executeCommand('setContext', 'netpath.hasSource', s !== undefined);
    this.log.info(s ? `source: ${'path' in s ? s.path : s.name ?? 'snapshot text'}` : 'source cleared');
  }
  sourceLabel(s = this.source): string {
    if (!s) return 'no snapshot';
    return 'path' in s ? basename(s.path) : s.name ?? 'unsaved snapshot';
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
    if (!vscode.workspace.isTrusted && !('path' in source || 'text' in source)) {
      void vscode.window.showWarningMessage('This workspace is not trusted: Network Path can only diagnose saved snapshots here.');
      return undefined;
    }
    const label = requestLabel(request);
    this.status.text = `$(sync~spin) Network Path: ${label}`;
    this.status.tooltip = `Diagnosing ${label} on ${this.sourceLabel(source)}`;
    this.status.command = 'netpath.showLog';
    this.status.show();
    this.log.info(`diagnose ${label} on ${this.sourceLabel(source)}`);
    try {
      const r = await this.server.request<DiagnoseResult>(diagnoseMethod, { source, request, overrides: this.settings.detected }, `Network Path: ${label}`);
      const run: Run = { ...r, source, finishedAt: new Date() };
      this.runs.add(run);
      this.log.info(`${r.runId}: ${r.result.verdict} in ${r.durationMs} ms`);
      this.runFinished.fire(run);
      return run;
    } catch (e) {
      const err = e as { code?: number; message?: string };
      if (err.code === ErrorCodes.RequestCancelled) {
        this.log.info(`diagnose ${label}: cancelled`);
        return undefined;
      }
      this.log.error(`diagnose ${label}: ${err.message ?? String(e)}`);
      void vscode.window.showErrorMessage(`Network Path: ${err.message ?? String(e)}`, 'Show Log').then((a) => a && this.log.show());
      return undefined;
    } finally {
      this.status.hide();
    }
  }

  async clear(runIds?: string[]): Promise<void> {
    const ids = runIds ?? this.runs.all.map((r) => r.runId);
    if (this.server.running) {
      for (const runId of runIds ?? [undefined]) await this.server.quiet<ClearRunResult>(clearRunMethod, runId ? { runId } : {});
    }
    this.runs.remove(ids);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
