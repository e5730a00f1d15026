// The manifest diagnostics the server has published, by run and file: a file shows the union of
// its runs' findings (the newest run's copy of a repeated finding), clearing a run republishes
// what other runs still say, and an edit of an open file moves each finding to where its object's
// field now is (or drops it when the object is gone), so squiggles never point at stale text.
import type { Diagnostic } from 'vscode-languageserver/node';
import type { ManifestDiagnosticData } from './findings';
import { LineIndex, locate, manifestObjects } from './yaml';

export class PublishedManifests {
  /** Insertion order is run order: later runs win duplicates. */
  private readonly byRun = new Map<string, Map<string, Diagnostic[]>>();

  constructor(private readonly publish: (uri: string, diagnostics: Diagnostic[]) => Promise<void>) {}

  async setRun(runId: string, files: [string, Diagnostic[]][]): Promise<void> {
    const before = this.urisOf(runId);
    this.byRun.delete(runId);
    if (files.length) this.byRun.set(runId, new Map(files));
    for (const uri of new Set([...before, ...files.map(([u]) => u)])) await this.publishFile(uri);
  }

  async clearRun(runId: string): Promise<void> {
    await this.setRun(runId, []);
  }

  /** The text of an open file changed: relocate its findings in it. */
  async edited(uri: string, text: string): Promise<void> {
    let touched = false;
    const objects = manifestObjects(text);
    const lines = new LineIndex(text);
    for (const files of this.byRun.values()) {
      const list = files.get(uri);
      if (!list) continue;
      touched = true;
      files.set(uri, list.flatMap((d) => {
        const { target } = d.data as ManifestDiagnosticData;
        const o = objects.find((x) => x.kind === target.kind && x.name === target.name && (x.namespace ?? '') === (target.namespace ?? ''));
        const range = o && locate(o.doc, target.field, lines);
        return range ? [{ ...d, range, data: { ...(d.data as ManifestDiagnosticData), target: { ...target, document: o.index } } }] : [];
      }));
    }
    if (touched) await this.publishFile(uri);
  }

  private urisOf(runId: string): string[] {
    return [...(this.byRun.get(runId)?.keys() ?? [])];
  }

  private async publishFile(uri: string): Promise<void> {
    const seen = new Map<string, Diagnostic>();
    for (const files of this.byRun.values()) {
      for (const d of files.get(uri) ?? []) seen.set(JSON.stringify([d.range, d.code, d.message]), d);
    }
    await this.publish(uri, [...seen.values()]);
  }
}
