// The command table (rust-analyzer style): command id → factory taking the Ctx. main.ts registers
// every entry; package.json declares the same ids (the in-VS Code suite checks both agree).
import * as vscode from 'vscode';
import { CancelledError } from '../shared/errors';
import { isSevere } from '../shared/severity';
import { CaptureSnapshotRequest, ClusterInfoRequest, isClusterSpec, type ClusterSpec, type SourceSpec } from '../shared/protocol';
import { clusterLabel, clusterSpec } from './cluster';
import type { Ctx } from './ctx';
import { resolveExplorerTarget } from './kubernetes';
import { pickOne, pickRequest, pickSnapshotFile, pickSource, type Choice } from './pickers';
import { pickerText } from './labels';
import { revealReportLine } from './report';
import type { Run } from './runs';
import type { Element } from './tree';
import { showLinkPath, type PathPanelHandlers } from './pathPanel';
import { LayoutPathRequest } from '../shared/protocol';
import { notice } from '../shared/display';
import { compareCommands } from './compare';
import { showMatrix, type MatrixArgs } from './matrixPanel';

export type Cmd = (...args: any[]) => unknown;
export type CommandTable = Record<string, (ctx: Ctx) => Cmd>;

/** Arguments a caller (a test, a keybinding, another extension) may pass to skip the pickers. */
export interface DiagnoseArgs {
  src?: string;
  dst?: string;
  port?: number;
  protocol?: 'tcp' | 'udp' | 'sctp';
  /** Address family names resolve to (the CLI's --family); absent: the CLI's default. */
  family?: 4 | 6;
  /** A snapshot path to use (and remember) as the source. */
  snapshot?: string;
  /** Use the live cluster (the Kubernetes extension's, else the netpath.kubeconfig setting's / kubectl's current context). */
  cluster?: boolean;
}

async function ensureSource(ctx: Ctx): Promise<SourceSpec | undefined> {
  const s = ctx.source;
  // A live source remembered from a trusted session is not used in an untrusted one.
  if (s && !(isClusterSpec(s) && !vscode.workspace.isTrusted)) return s;
  return chooseSource(ctx);
}

/** The live cluster as located now (Kubernetes extension, setting, or kubectl's default), made the source. */
async function useLiveCluster(ctx: Ctx): Promise<ClusterSpec | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('This workspace is not trusted: Network Path can only use saved snapshots here. Trust the workspace to diagnose live clusters.');
    return undefined;
  }
  const loc = await ctx.cluster.locate();
  const spec = clusterSpec(loc);
  ctx.log.info(`live cluster: context ${spec.context ?? '(current-context)'}, kubeconfig ${spec.kubeconfig ?? '(KUBECONFIG or ~/.kube/config)'} — from ${loc.from}`);
  await ctx.setSource(spec);
  return spec;
}

/** The source picker: the live cluster's current context (trusted workspaces only) or a snapshot. */
async function chooseSource(ctx: Ctx): Promise<SourceSpec | undefined> {
  const items: { label: string; description?: string; detail?: string; value: string }[] = [];
  if (vscode.workspace.isTrusted) {
    const loc = await ctx.cluster.locate();
    items.push({ label: `$(cloud) ${pickerText(clusterLabel(clusterSpec(loc)))}`, description: pickerText(loc.kubeconfig ?? ''), detail: `live cluster, from ${loc.from}`, value: 'live' });
  }
  const current = ctx.source;
  if (current && !isClusterSpec(current)) items.push({ label: `$(file) ${pickerText(ctx.sourceLabel(current))}`, detail: 'the snapshot in use', value: 'current' });
  items.push({ label: '$(folder-opened) Open Snapshot…', detail: 'a saved *.netpath.json', value: 'snapshot' });
  const choice = await pickOne(ctx, 'snapshot', 'Network Path: cluster state', 'A live cluster or a saved snapshot', items);
  if (choice === 'live') return useLiveCluster(ctx);
  if (choice === 'current') return current;
  if (choice === 'snapshot') return openSnapshot(ctx);
  return undefined;
}

async function openSnapshot(ctx: Ctx, uri?: vscode.Uri): Promise<SourceSpec | undefined> {
  const file = uri ?? (await pickSnapshotFile());
  if (!file) return undefined;
  const source: SourceSpec = { kind: 'snapshot', path: file.fsPath };
  // clusterInfo validates the whole snapshot: a bad file is refused before it becomes the source.
  const info = await ctx.server.request(ClusterInfoRequest, { source, overrides: ctx.settings.detected, limits: ctx.settings.limits }, `Network Path: opening ${ctx.sourceLabel(source)}`).catch((e: Error) => {
    if (!(e instanceof CancelledError)) void vscode.window.showErrorMessage(notice(`Network Path: ${e.message}`));
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
  } else if (args.cluster) source = await useLiveCluster(ctx);
  else source = await ensureSource(ctx);
  if (!source) return undefined;
  let req: Choice | undefined = args.src && args.dst && args.port ? { src: args.src, dst: args.dst, port: args.port, protocol: args.protocol ?? 'tcp', ...(args.family ? { family: args.family } : {}) } : undefined;
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
  const severe = findings.filter((f) => isSevere(f.s.level));
  const count = (n: number) => `${n} suspicion${n === 1 ? '' : 's'}`;
  let message: string;
  if (r.verdict === 'reachable') message = `Reachable: no fault found from ${r.request.src} to ${r.request.dst}:${r.request.port}${findings.length ? ` (${count(findings.length)} to review)` : ''}.`;
  else {
    const where = [...new Set((severe.length ? severe : findings).map((f) => f.where))];
    message = `${r.verdict === 'unreachable' ? 'Unreachable' : 'Unknown'}: ${count(findings.length)}${where.length ? ` on ${where.slice(0, 3).join(', ')}${where.length > 3 ? '…' : ''}` : ''}.`;
  }
  const show = r.verdict === 'reachable' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
  void show(notice(message), 'Show Path', 'Show Problems', 'Open Report').then((a) => {
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

/** The bundled sample (shipped in the .vsix) and the request that shows its fault: the walkthrough's first step. */
export const samplePath = 'samples/broken.netpath.json';
const sampleRequest = { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' } as const;

export const commands: CommandTable = {
  'netpath.diagnose': (ctx) => (args?: DiagnoseArgs) => diagnose(ctx, args && typeof args === 'object' && !('nodeType' in args) ? args : {}),

  'netpath.setSource': (ctx) => async (target?: unknown) => {
    let endpoint = (await resolveExplorerTarget(target))?.endpoint;
    if (!endpoint && typeof target === 'string') endpoint = target;
    if (endpoint && (await ctx.cluster.explorerPresent())) await useLiveCluster(ctx);
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
    const t = await resolveExplorerTarget(target);
    const dst = t?.endpoint ?? (typeof target === 'string' ? target : undefined);
    return diagnose(ctx, { src, dst, cluster: t !== undefined && (await ctx.cluster.explorerPresent()) });
  },

  'netpath.diagnoseTo': (ctx) => async (target?: unknown) => {
    const t = await resolveExplorerTarget(target);
    return diagnose(ctx, { src: t?.kind === 'pod' ? t.endpoint : undefined, cluster: t !== undefined && (await ctx.cluster.explorerPresent()) });
  },

  'netpath.chooseSource': (ctx) => () => chooseSource(ctx),

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
    const source = runOf(ctx, arg)?.source ?? ctx.source ?? (await chooseSource(ctx));
    if (!source) return undefined;
    const base = isClusterSpec(source) ? `${source.context ?? 'cluster'}-${new Date().toISOString().slice(0, 10)}` : ctx.sourceLabel(source).replace(/(\.netpath)?\.json$/, '');
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      title: isClusterSpec(source) ? `Capture a snapshot of ${ctx.sourceLabel(source)}` : 'Save the Network Path snapshot',
      filters: { 'Network Path snapshot': ['json'] },
      defaultUri: folder ? vscode.Uri.joinPath(folder, `${base}.netpath.json`) : vscode.Uri.file(`${base}.netpath.json`),
    });
    if (!target) return undefined;
    if (isClusterSpec(source)) {
      // The server collects every node's network stack (collector pods) and writes the file.
      try {
        const r = await ctx.sourceRequest(CaptureSnapshotRequest, { source, output: target.fsPath }, `Network Path: capturing ${ctx.sourceLabel(source)}`);
        if (!r) return undefined;
        ctx.log.info(`snapshot of ${ctx.sourceLabel(source)} captured to ${r.path} (${r.bytes} bytes; nodes ${r.collected.join(', ') || 'none'}${r.failed.length ? `; not collected: ${r.failed.map((f) => `${f.node}: ${f.message}`).join('; ')}` : ''})`);
        const note = r.failed.length ? ` (${r.failed.length} node${r.failed.length === 1 ? '' : 's'} not collected: see the log)` : '';
        void vscode.window.showInformationMessage(notice(`Network Path: snapshot of ${r.collected.length} node${r.collected.length === 1 ? '' : 's'} saved to ${r.path}${note}`));
        return target;
      } catch (e) {
        if (!(e instanceof CancelledError)) void vscode.window.showErrorMessage(notice(`Network Path: ${e instanceof Error ? e.message : String(e)}`), 'Show Log').then((a) => a && ctx.log.show());
        return undefined;
      }
    }
    if ('path' in source) await vscode.workspace.fs.copy(vscode.Uri.file(source.path), target, { overwrite: true });
    else await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(source.text));
    ctx.log.info(`snapshot saved to ${target.fsPath}`);
    void vscode.window.setStatusBarMessage(`Network Path: snapshot saved to ${target.fsPath}`, 5000);
    return target;
  },

  'netpath.showLinkPath': (ctx) => async (arg?: unknown) => {
    const run = needRun(ctx, arg);
    if (!run) return undefined;
    showLinkPath(ctx.extension, run, linkPathHandlers(ctx, run));
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

  'netpath.showMatrix': (ctx) => (args?: MatrixArgs) => showMatrix(ctx, args && typeof args === 'object' && !('nodeType' in args) ? args : {}, () => ensureSource(ctx)),

  ...compareCommands,

  // One click from the walkthrough: the sample opened beside, diagnosed, the Problems panel shown.
  'netpath.diagnoseSample': (ctx) => async () => {
    const file = vscode.Uri.file(ctx.extension.asAbsolutePath(samplePath));
    await vscode.window.showTextDocument(file, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    const run = await diagnose(ctx, { snapshot: file.fsPath, ...sampleRequest });
    if (run) await vscode.commands.executeCommand('workbench.actions.view.problems');
    return run;
  },
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
        if (again) showLinkPath(ctx.extension, again, linkPathHandlers(ctx, again));
      });
    },
    layout: (params, token) => ctx.server.send(LayoutPathRequest, params, token),
  };
}

export function revealFinding(ctx: Ctx, runId: string, nodeId: string | null, index: number): Promise<vscode.TextEditor> | undefined {
  const run = ctx.runs.byId(runId);
  if (!run) return undefined;
  const f = run.findings.find((x) => (x.node ?? null) === (nodeId || null) && x.index === index);
  return revealReportLine(runId, f?.line);
}

