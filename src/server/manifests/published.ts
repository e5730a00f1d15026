// The manifest diagnostics the server has published, by run and file: a file shows the union of
// its runs' findings (the newest run's copy of a repeated finding); a run of the same request on
// the same source replaces the older one's findings (re-running after a fix must not leave the
// old squiggle); clearing a run republishes what other runs still say; and an edit of an open file
// moves each finding to where its object's field now is (or drops it when the object is gone), so
// squiggles never point at stale text.
import type { Diagnostic } from 'vscode-languageserver/node';
import type { ManifestDiagnosticData } from './findings';
import { LineIndex, locate, manifestObjects } from './yaml';

export class PublishedManifests {
  /** Insertion order is run order: later runs win duplicates. */
  private readonly byRun = new Map<string, Map<string, Diagnostic[]>>();
  /** The run that speaks for each request (its source and request as a key). */
  private readonly runOf = new Map<string, string>();

  constructor(private readonly publish: (uri: string, diagnostics: Diagnostic[]) => Promise<void>) {}

  /** The findings of run `runId`; `request` names what it diagnosed (an older run of it is superseded). */
  async setRun(runId: string, request: string, files: [string, Diagnostic[]][]): Promise<void> {
    const older = this.runOf.get(request);
    const before = [...this.urisOf(runId), ...(older ? this.urisOf(older) : [])];
    if (older) this.byRun.delete(older);
    this.runOf.set(request, runId);
    this.byRun.delete(runId);
    if (files.length) this.byRun.set(runId, new Map(files));
    for (const uri of new Set([...before, ...files.map(([u]) => u)])) await this.publishFile(uri);
  }

  async clearRun(runId: string): Promise<void> {
    const before = this.urisOf(runId);
    this.byRun.delete(runId);
    for (const [k, id] of this.runOf) if (id === runId) this.runOf.delete(k);
    for (const uri of before) await this.publishFile(uri);
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
