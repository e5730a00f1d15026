// Extension entry point. Activation only registers things (commands, the view, the report
// documents); the diagnosis server starts on first use. Returns a small API: the runs and the
// pickers as they are shown, so tests (and other extensions) can drive the product as a user does.
import * as vscode from 'vscode';
import { ExplorerBadges, registerExplorerBadges } from './badges';
import { commands, linkPathHandlers, samplePath } from './commands';
import { registerManifestFeatures, type ManifestFeatures } from './manifests';
import { linkPathApi, registerPathPanelSerializer, revealInGraph } from './pathPanel';
import { compareApi } from './compare';
import { matrixApi, registerMatrixPanelSerializer } from './matrixPanel';
import { Ctx, type PickerShown } from './ctx';
import { resolveExplorerTarget, type ExplorerTarget } from './kubernetes';
import { ReportDocuments, reportScheme } from './report';
import type { Run } from './runs';
import { RunTree, type Element } from './tree';
import { notice } from '../shared/display';

export interface NetpathApi {
  readonly runs: () => readonly Run[];
  readonly onDidShowPicker: vscode.Event<PickerShown>;
  readonly onDidFinishRun: vscode.Event<Run>;
  readonly connectivitySource: () => string | undefined;
  readonly resolveExplorerTarget: (target: unknown, api?: { resolveCommandTarget(t?: unknown): unknown }) => Promise<ExplorerTarget | undefined>;
  readonly tree: RunTree;
  /** Reveals (selects, expands) a NetNode of a run in the Network Path view. */
  readonly revealNode: (run: Run, nodeId: string) => Promise<void>;
  /** The link-path panel: its view, and unfolding/folding groups as its webview asks. */
  readonly linkPath: typeof linkPathApi;
  /** What the Kubernetes explorer's node UI customizer does to a node's TreeItem (from the latest run). */
  readonly explorerBadges: ExplorerBadges;
  /** Each "Diagnose with This Manifest" answer and the document it opened. */
  readonly onDidFinishWhatIf: ManifestFeatures['onDidFinishWhatIf'];
  /** The connectivity-matrix panel: its matrix, and a cell's diagnosis as a click asks for it. */
  readonly matrix: typeof matrixApi;
  /** The comparison the Compare view shows. */
  readonly compare: typeof compareApi;
}

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): NetpathApi {
  const c = (ctx = new Ctx(context));
  context.subscriptions.push(c);

  for (const [id, make] of Object.entries(commands)) {
    const fn = make(c);
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: unknown[]) => fn(...args)));
  }

  const tree = new RunTree(c.runs);
  const view = vscode.window.createTreeView<Element>('netpath.runs', { treeDataProvider: tree, showCollapseAll: true });
  context.subscriptions.push(tree, view, c.runs.onDidChange(() => void vscode.commands.executeCommand('setContext', 'netpath.hasRuns', c.runs.all.length > 0)));
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(reportScheme, new ReportDocuments(c.runs)));

  // Tree ↔ link-path panel: the panel reveals NetNodes here, selecting one here selects it there.
  c.revealNode = async (run, nodeId) => {
    const node = run.result.nodes.find((n) => n.id === nodeId);
    if (node) await view.reveal({ kind: 'node', run, node }, { select: true, focus: true, expand: true });
  };
  context.subscriptions.push(
    view.onDidChangeSelection((e) => {
      const el = e.selection[0];
      if (el?.kind === 'node' && el.node) revealInGraph(el.node.id);
    }),
  );
  registerPathPanelSerializer(context, linkPathHandlers(c, undefined));
  registerMatrixPanelSerializer(c);
  const badges = registerExplorerBadges(c.runs);
  context.subscriptions.push(badges);
  const manifests = registerManifestFeatures(c);
  context.subscriptions.push(manifests);

  void vscode.commands.executeCommand('setContext', 'netpath.hasSource', c.source !== undefined);
  void vscode.commands.executeCommand('setContext', 'netpath.hasConnectivitySource', c.connectivitySource !== undefined);

  // Opening a *.netpath.json offers to diagnose from it (once per file per session).
  // The bundled sample is opened by "Diagnose the Sample Snapshot", which diagnoses it already.
  const offered = new Set<string>([context.asAbsolutePath(samplePath)]);
  const offer = (doc: vscode.TextDocument) => {
    if (doc.uri.scheme !== 'file' || !doc.uri.fsPath.endsWith('.netpath.json') || offered.has(doc.uri.fsPath)) return;
    offered.add(doc.uri.fsPath);
    // A workspace's file name is outside text too (`[x](command:…).netpath.json` would be a link).
    void vscode.window.showInformationMessage(notice(`${doc.uri.path.split('/').pop()} is a Network Path snapshot.`), 'Diagnose from this snapshot').then((a) => {
      if (a) void vscode.commands.executeCommand('netpath.diagnoseSnapshotFile', doc.uri);
    });
  };
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(offer));
  for (const e of vscode.window.visibleTextEditors) offer(e.document);

  // Untrusted workspaces: snapshots only (Ctx.sourceRequest and the source picker refuse live clusters).
  if (!vscode.workspace.isTrusted) c.log.info('workspace not trusted: only saved snapshots can be diagnosed, no live cluster');
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => c.log.info('workspace trusted: live clusters can be diagnosed')));

  return {
    runs: () => c.runs.all,
    onDidShowPicker: c.onDidShowPicker,
    onDidFinishRun: c.onDidFinishRun,
    connectivitySource: () => c.connectivitySource,
    resolveExplorerTarget,
    tree,
    revealNode: (run, nodeId) => c.revealNode(run, nodeId),
    linkPath: linkPathApi,
    explorerBadges: badges.badges,
    onDidFinishWhatIf: manifests.onDidFinishWhatIf,
    matrix: matrixApi,
    compare: compareApi,
  };
}

export function deactivate(): Thenable<void> | undefined {
  const c = ctx;
  ctx = undefined;
  c?.dispose();
  return undefined;
}
