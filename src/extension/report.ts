// The `netpath-report:` documents: the text report of a run, read-only (a content provider has
// no save), where every diagnostic of the run points.
import * as vscode from 'vscode';
import { reportScheme, reportUri, runIdOfReportUri } from '../shared/protocol';
import type { RunStore } from './runs';
import { shown } from '../shared/display';

export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly runs: RunStore) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    const id = runIdOfReportUri(uri.toString(true));
    const run = id ? this.runs.byId(id) : undefined;
    return run?.report ?? `This Network Path run (${shown(id ?? uri.path)}) is no longer loaded: it was cleared or VS Code was restarted.\nRun "Network Path: Diagnose Connectivity…" again.\n`;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function reportUriOf(runId: string): vscode.Uri {
  return vscode.Uri.parse(reportUri(runId));
}

/** Opens a run's report with `line` (0-based) selected and in view. */
export async function revealReportLine(runId: string, line?: number): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(reportUriOf(runId));
  const editor = await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
  if (line !== undefined && line < doc.lineCount) {
    const range = doc.lineAt(line).range;
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }
  return editor;
}

export { reportScheme };
