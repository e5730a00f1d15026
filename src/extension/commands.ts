// The command table (rust-analyzer style): command id → factory taking the Ctx. main.ts registers
// every entry; package.json declares the same ids (the in-VS Code suite checks both agree).
import * as vscode from 'vscode';
import { captureSnapshotMethod, clusterInfoMethod, type ClusterInfoResult, type SourceSpec } from '../shared/protocol';
import type { Ctx } from './ctx';
import { resolveExplorerTarget } from './kubernetes';
import { pickRequest, pickSnapshotFile, pickSource } from './pickers';
import { revealReportLine } from './report';
import type { Run } from './runs';
import type { Element } from './tree';
import { showLinkPath, type PathPanelHandlers } from './pathPanel';

export type Cmd = (...args: any[]) => unknown;
export type CommandTable = Record<string, (ctx: Ctx) => Cmd>;

/** Arguments a caller (a test, a keybinding, another extension) may pass to skip the pickers. */
export interface DiagnoseArgs {
  src?: string;
  dst?: string;
  port?: number;
  protocol?: 'tcp' | 'udp';
  /** A snapshot path to use (and remember) as the source. */
  snapshot?: string;
}

async function ensureSource(ctx: Ctx): Promise<SourceSpec | undefined> {
  if (ctx.source) return ctx.source;
  const choice = await vscode.window.showInformationMessage(
    'Network Path needs cluster state: open a saved snapshot (*.netpath.json). Live clusters come with the live-cluster feature.',
    'Open Snapshot…',
  );
  if (choice !== 'Open Snapshot…') return undefined;
  return openSnapshot(ctx);
}

async function openSnapshot(ctx: Ctx, uri?: vscode.Uri): Promise<SourceSpec | undefined> {
  const file = uri ?? (await pickSnapshotFile());
  if (!file) return undefined;
  const source: SourceSpec = { kind: 'snapshot', path: file.fsPath };
  // clusterInfo validates the whole snapshot: a bad file is refused before it becomes the source.
  const info = await ctx.server.request<ClusterInfoResult>(clusterInfoMethod, { source, overrides: ctx.settings.detected }, `Network Path: opening ${ctx.sourceLabel(source)}`).catch((e: Error) => {
    void vscode.window.showErrorMessage(`Network Path: ${e.message}`);
    return undefined;
  });
  if (!info) return undefined;
  await ctx.setSource(source);
  const s = info.effective;
  ctx.log.info(`snapshot ${info.sourceLabel}: ${info.counts.nodes} nodes, ${info.counts.pods} pods, ${info.counts.services} services; plugin ${s.networkPlugin ?? '?'} ${s.backend ?? ''}, proxy ${s.proxyMode ?? '?'}${info.overridden.length ? ` (overridden: ${info.overridden.join(', ')})` : ''}`);
  void vscode.window.setStatusBarMessage(`Network Path: using ${info.sourceLabel} (${info.counts.nodes} nodes, ${info.counts.pods} pods)`, 5000);
  return source;
}

async function diagnose(ctx: Ctx, args: DiagnoseArgs = {}): Promise<Run | undefined> {
  let source: SourceSpec | undefined;
  if (args.snapshot) {
    source = { kind: 'snapshot', path: args.snapshot };
    await ctx.setSource(source);
  } else source = await ensureSource(ctx);
  if (!source) return undefined;
  let req = args.src && args.dst && args.port ? { src: args.src, dst: args.dst, port: args.port, protocol: args.protocol ?? 'tcp' } : undefined;
  req ??= await pickRequest(ctx, source, { src: args.src, dst: args.dst });
  if (!req) return undefined;
  const run = await ctx.diagnose(source, req);
  if (run) announce(ctx, run);
  return run;
}

/** The end-of-run notification: what was found and where, with the ways to look at it. */
function announce(ctx: Ctx, run: Run): void {
  const r = run.result;
  const findings = [...r.clusterSuspicions.map((s) => ({ s, where: 'the cluster' })), ...r.nodes.flatMap((n) => n.suspicions.map((s) => ({ s, where: n.id })))];
  const severe = findings.filter((f) => f.s.level >= 2);
  const count = (n: number) => `${n} suspicion${n === 1 ? '' : 's'}`;
  let message: string;
  if (r.verdict === 'reachable') message = `Reachable: no fault found from ${r.request.src} to ${r.request.dst}:${r.request.port}${findings.length ? ` (${count(findings.length)} to review)` : ''}.`;
  else {
    const where = [...new Set((severe.length ? severe : findings).map((f) => f.where))];
    message = `${r.verdict === 'unreachable' ? 'Unreachable' : 'Unknown'}: ${count(findings.length)}${where.length ? ` on ${where.slice(0, 3).join(', ')}${where.length > 3 ? '…' : ''}` : ''}.`;
  }
  const show = r.verdict === 'reachable' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
  void show(message, 'Show Path', 'Show Problems', 'Open Report').then((a) => {
    if (a === 'Show Path') void vscode.commands.executeCommand('netpath.showLinkPath', run.runId);
    else if (a === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
    else if (a === 'Open Report') void revealReportLine(run.runId, run.findings[0]?.line);
  });
}

/** A run from a tree element, a run id, or the latest run. */
function runOf(ctx: Ctx, arg: unknown): Run | undefined {
  if (typeof arg === 'string') return ctx.runs.byId(arg);
  if (arg && typeof arg === 'object' && 'run' in arg) return (arg as Element).run;
  return ctx.runs.latest;
}

function needRun(ctx: Ctx, arg: unknown): Run | undefined {
  const run = runOf(ctx, arg);
  if (!run) void vscode.window.showInformationMessage('No Network Path run yet: run "Network Path: Diagnose Connectivity…" first.');
  return run;
}

export const commands: CommandTable = {
  'netpath.diagnose': (ctx) => (args?: DiagnoseArgs) => diagnose(ctx, args && typeof args === 'object' && !('nodeType' in args) ? args : {}),

  'netpath.setSource': (ctx) => async (target?: unknown) => {
    let endpoint = (await resolveExplorerTarget(target))?.endpoint;
    if (!endpoint && typeof target === 'string') endpoint = target;
    if (!endpoint) {
      const source = await ensureSource(ctx);
      if (!source) return undefined;
      const choice = await pickSource(ctx, source);
      if (!choice) return undefined;
      endpoint = choice;
    }
    await ctx.setConnectivitySource(endpoint);
    await ctx.remember('source', endpoint);
    void vscode.window.setStatusBarMessage(`Network Path: connectivity source is ${endpoint}`, 5000);
    return endpoint;
  },

  'netpath.diagnoseFromSource': (ctx) => async (target?: unknown) => {
    const src = ctx.connectivitySource;
    if (!src) {
      void vscode.window.showInformationMessage('No connectivity source yet: right-click a pod and choose "Set as Connectivity Source" (or run that command).');
      return undefined;
    }
    const dst = (await resolveExplorerTarget(target))?.endpoint ?? (typeof target === 'string' ? target : undefined);
    return diagnose(ctx, { src, dst });
  },

  'netpath.diagnoseTo': (ctx) => async (target?: unknown) => {
    const t = await resolveExplorerTarget(target);
    return diagnose(ctx, { src: t?.kind === 'pod' ? t.endpoint : undefined });
  },

  'netpath.rerun': (ctx) => async (arg?: unknown) => {
    const run = needRun(ctx, arg);
    if (!run) return undefined;
    const again = await ctx.diagnose(run.source, run.result.request);
    if (again) announce(ctx, again);
    return again;
  },

  'netpath.openSnapshot': (ctx) => (uri?: unknown) => openSnapshot(ctx, uri instanceof vscode.Uri ? uri : undefined),

  'netpath.diagnoseSnapshotFile': (ctx) => async (uri?: unknown) => {
    const file = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!file || file.scheme !== 'file') {
      void vscode.window.showInformationMessage('Open a saved *.netpath.json file to diagnose from it.');
      return undefined;
    }
    const source = await openSnapshot(ctx, file);
    return source ? diagnose(ctx, {}) : undefined;
  },

  'netpath.saveSnapshot': (ctx) => async (arg?: unknown) => {
    const source = runOf(ctx, arg)?.source ?? ctx.source;
    if (!source) {
      // Capture from a live cluster goes through the server; it says when it is not available.
      await ctx.server.quiet(captureSnapshotMethod, {}).catch((e: Error) => void vscode.window.showInformationMessage(`Network Path: ${e.message}`));
      return undefined;
    }
    const target = await vscode.window.showSaveDialog({
      title: 'Save the Network Path snapshot',
      filters: { 'Network Path snapshot': ['json'] },
      defaultUri: vscode.Uri.file(ctx.sourceLabel(source).replace(/(\.netpath)?\.json$/, '') + '.netpath.json'),
    });
    if (!target) return undefined;
    if ('path' in source) await vscode.workspace.fs.copy(vscode.Uri.file(source.path), target, { overwrite: true });
    else await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(source.text));
    ctx.log.info(`snapshot saved to ${target.fsPath}`);
    void vscode.window.setStatusBarMessage(`Network Path: snapshot saved to ${target.fsPath}`, 5000);
    return target;
  },

  'netpath.showLinkPath': (ctx) => async (arg?: unknown) => {
    const run = needRun(ctx, arg);
    if (!run) return undefined;
    showLinkPath(ctx.extension, run.result, linkPathHandlers(ctx, run));
    return run.runId;
  },

  'netpath.clearResults': (ctx) => async (arg?: unknown) => {
    const run = arg ? runOf(ctx, arg) : undefined;
    await ctx.clear(run ? [run.runId] : undefined);
  },

  'netpath.copyAsJson': (ctx) => async (arg?: unknown) => {
    const run = needRun(ctx, arg);
    if (!run) return undefined;
    const el = arg && typeof arg === 'object' && 'kind' in arg ? (arg as Element) : undefined;
    const value = el?.kind === 'node' ? el.node ?? run.result.clusterSuspicions : el?.kind === 'suspicion' ? el.suspicion : el?.kind === 'link' ? el.link : run.result;
    await vscode.env.clipboard.writeText(JSON.stringify(value, null, 2));
    void vscode.window.setStatusBarMessage('Network Path: copied as JSON', 3000);
  },

  'netpath.revealFinding': (ctx) => (runId: string, nodeId: string | null, index: number) => revealFinding(ctx, runId, nodeId, index),

  'netpath.showLog': (ctx) => () => ctx.log.show(),
};

/** What the link-path panel asks of the rest of the UI, for the run it shows. */
export function linkPathHandlers(ctx: Ctx, run: Run | undefined): PathPanelHandlers {
  return {
    reveal: (nodeId) => {
      const r = run ?? ctx.runs.latest;
      if (r) void ctx.revealNode(r, nodeId);
    },
    openEvidence: (nodeId, index) => {
      const r = run ?? ctx.runs.latest;
      if (r) void revealFinding(ctx, r.runId, nodeId || null, index);
    },
    rerun: () => {
      const r = run ?? ctx.runs.latest;
      void vscode.commands.executeCommand<Run | undefined>('netpath.rerun', r?.runId).then((again) => {
        if (again) showLinkPath(ctx.extension, again.result, linkPathHandlers(ctx, again));
      });
    },
  };
}

export function revealFinding(ctx: Ctx, runId: string, nodeId: string | null, index: number): Promise<vscode.TextEditor> | undefined {
  const run = ctx.runs.byId(runId);
  if (!run) return undefined;
  const f = run.findings.find((x) => (x.node ?? null) === (nodeId || null) && x.index === index);
  return revealReportLine(runId, f?.line);
}

