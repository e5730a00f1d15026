// The runs of this session, newest first: what the tree, the report documents and the
// notifications read. A run is immutable once it arrived; clearing removes it.
import * as vscode from 'vscode';
import type { DiagnoseResult, SourceSpec } from '../shared/protocol';

export interface Run extends DiagnoseResult {
  source: SourceSpec;
  finishedAt: Date;
}

export class RunStore implements vscode.Disposable {
  private list: Run[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  get all(): readonly Run[] {
    return this.list;
  }
  get latest(): Run | undefined {
    return this.list[0];
  }
  byId(id: string): Run | undefined {
    return this.list.find((r) => r.runId === id);
  }
  add(r: Run): void {
    this.list = [r, ...this.list.filter((x) => x.runId !== r.runId)];
    this.changed.fire();
  }
  remove(ids: string[]): void {
    this.list = this.list.filter((r) => !ids.includes(r.runId));
    this.changed.fire();
  }
  dispose(): void {
    this.changed.dispose();
  }
}
