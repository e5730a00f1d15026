// A run's findings on the manifests that cause them: each suspicion that names its objects
// (src/engine/model/suspicion.ts ObjectCause) becomes a diagnostic on every workspace file that
// declares such an object, at the deciding field, with the report's evidence as related
// information and a link back to the run's report. A pod is found as itself or, through its
// controlling owner, as the workload whose pod template makes it.
import type { Diagnostic } from 'vscode-languageserver/node';
import type { ObjectCause } from '../../engine/model/suspicion';
import type { WireResult } from '../../shared/severity';
import { shown } from '../../shared/display';
import type { DiagnosticData } from '../diagnostics';
import type { ManifestFile } from './workspace';
import { locate } from './yaml';

/** Where a cause was found: the manifest object and the path of its deciding field there. */
export interface ManifestTarget {
  kind: string;
  name: string;
  namespace?: string;
  /** Index of the object's document in its file. */
  document: number;
  field: (string | number)[];
}

/** What a manifest diagnostic carries in `data`: the finding, the cause (its fix) and where it is. */
export interface ManifestDiagnosticData extends DiagnosticData {
  cause: ObjectCause;
  target: ManifestTarget;
}

const workloadKinds = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'];

/** The workload a pod's owner stands for: a ReplicaSet `web-5d8f7c` is made by Deployment `web`. */
function workloadsOf(owner: { kind: string; name: string }): { kind: string; name: string }[] {
  if (owner.kind === 'ReplicaSet') {
    const dash = owner.name.lastIndexOf('-');
    return [...(dash > 0 ? [{ kind: 'Deployment', name: owner.name.slice(0, dash) }] : []), owner];
  }
  return workloadKinds.includes(owner.kind) ? [owner] : [];
}

/**
 * The manifest objects that declare `cause`: the object of that kind, name and namespace (a
 * manifest without a namespace, as Helm writes them, matches any), else for a pod its workload.
 */
export function findCause(files: readonly ManifestFile[], cause: ObjectCause): { file: ManifestFile; target: ManifestTarget }[] {
  const byIdentity = (kind: string, name: string, field: (string | number)[]) => {
    const out: { file: ManifestFile; target: ManifestTarget }[] = [];
    for (const file of files) {
      for (const o of file.objects) {
        if (o.kind !== kind || o.name !== name || (o.namespace !== undefined && o.namespace !== cause.namespace)) continue;
        out.push({ file, target: { kind, name, ...(o.namespace ? { namespace: o.namespace } : {}), document: o.index, field } });
      }
    }
    return out;
  };
  const direct = byIdentity(cause.kind, cause.name, cause.field);
  if (direct.length || cause.kind !== 'Pod' || !cause.owner) return direct;
  // The pod template's metadata is what a workload's manifest says about its pods' metadata.
  const field = cause.field[0] === 'metadata' ? ['spec', 'template', ...cause.field] : undefined;
  if (!field) return [];
  for (const w of workloadsOf(cause.owner)) {
    const found = byIdentity(w.kind, w.name, field);
    if (found.length) return found;
  }
  return [];
}

/** The manifest diagnostics of a run, by file URI, from its report diagnostics (toDiagnostics). */
export function manifestDiagnostics(result: WireResult, reportUri: string, reportDiagnostics: readonly Diagnostic[], files: readonly ManifestFile[]): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  if (!files.length) return out;
  const nodes = new Map(result.nodes.map((n) => [n.id, n]));
  for (const d of reportDiagnostics) {
    const data = d.data as DiagnosticData;
    const node = data.node === undefined ? undefined : nodes.get(data.node);
    const s = data.node === undefined ? result.clusterSuspicions[data.index] : node?.suspicions[data.index];
    // On the manifest the object is the place: the node it was seen on leads, a cluster finding needs no prefix.
    const message = s && shown(node ? `${node.type} ${node.id}: ${s.message}` : s.message);
    for (const cause of s?.objects ?? []) {
      for (const { file, target } of findCause(files, cause)) {
        const doc = file.objects.find((o) => o.index === target.document)!.doc;
        const range = locate(doc, target.field, file.lines);
        if (!range) continue;
        const list = out.get(file.uri) ?? [];
        out.set(file.uri, list);
        list.push({
          range,
          ...(d.severity !== undefined ? { severity: d.severity } : {}),
          source: 'netpath',
          ...(d.code !== undefined ? { code: d.code } : {}),
          message: message!,
          relatedInformation: [
            { location: { uri: reportUri, range: d.range }, message: `the finding in the report of ${data.runId}` },
            ...(d.relatedInformation ?? []),
          ],
          data: { ...data, cause, target } satisfies ManifestDiagnosticData,
        });
      }
    }
  }
  return out;
}
