// `netpath snapshot assemble`: Kubernetes objects + node dumps → one snapshot. Pure (texts in,
// text out) and deterministic: sorted objects and keys, capturedAt taken from the dumps, so the
// same inputs give byte-identical files.
import type { NodeNetworkStackDump } from '../../shared/dump';
import { encodeSnapshot } from './format';
import { SnapshotError, checkDump, loadSnapshot, parseJsonDocument, type SnapshotLimits } from './load';
import { collectObjects, sortKeys, type IgnoredObject, type ObjectSource } from './objects';
import { mapPodsToNetns, type PodNetnsMapping } from './pod-netns';
import { snapshotKind, snapshotVersion, type NetpathSnapshot, type SnapshotObjects, type SnapshotSettings } from './types';

export interface DumpSource {
  node: string;
  /** Shown in errors, e.g. the file name. */
  name: string;
  text: string;
}

export interface AssembleInput {
  objects: ObjectSource[];
  dumps: DumpSource[];
  /** Default: the earliest `collector.startedAt` of the dumps (required when there are none). */
  capturedAt?: string;
  /** 1 (default: one JSON document, the contract every reader knows) or 2 (read lazily, format.ts). */
  formatVersion?: 1 | 2;
  /** The caller's limits on the inputs (src/shared/limits.ts); default: each limit's default. */
  limits?: SnapshotLimits;
}

export interface AssembleResult {
  snapshot: NetpathSnapshot;
  /** The snapshot file's text: format version 1, or 2 when asked (format.ts); keys sorted. */
  text: string;
  ignored: IgnoredObject[];
  mapping: PodNetnsMapping;
}

/** Inputs that cannot make a snapshot; the message names the input. */
export class AssembleError extends Error {
  override name = 'AssembleError';
}

export function assembleSnapshot(input: AssembleInput): AssembleResult {
  const { objects, ignored } = collectObjects(input.objects, input.limits);
  const nodeNames = new Set(objects.nodes.map((n) => n.metadata.name));
  // A Map, not an object: node names are data (`__proto__` is a name here, not a prototype).
  const dumpOf = new Map<string, NodeNetworkStackDump>();
  for (const d of input.dumps) {
    if (!nodeNames.has(d.node)) {
      const known = [...nodeNames].sort();
      throw new AssembleError(`dump ${d.node}=${d.name}: there is no Node object named "${d.node}" in the objects (${known.length ? `nodes: ${known.join(', ')}` : 'no Node objects were given'})`);
    }
    if (dumpOf.has(d.node)) throw new AssembleError(`dump ${d.node}=${d.name}: node ${d.node} is given a dump twice`);
    const subject = `dump ${d.node} (${d.name})`;
    dumpOf.set(d.node, checkDump(parseJsonDocument(d.text, subject, input.limits?.maxJsonDepth), subject, input.limits));
  }
  const dumps: Record<string, NodeNetworkStackDump> = Object.fromEntries(dumpOf);
  let capturedAt = input.capturedAt;
  if (capturedAt === undefined) {
    const starts = Object.values(dumps).map((d) => d.collector.startedAt).sort();
    if (!starts.length) throw new AssembleError('no dumps to take the capture time from: give --captured-at');
    capturedAt = new Date(Date.parse(starts[0])).toISOString().replace('.000Z', 'Z');
  }
  const snapshot: NetpathSnapshot = sortKeys({
    kind: snapshotKind,
    version: input.formatVersion === 2 ? snapshotVersion : 1,
    capturedAt,
    settings: settingsFromObjects(objects),
    objects,
    dumps,
  });
  const text = input.formatVersion === 2 ? encodeSnapshot(snapshot) : JSON.stringify(snapshot, null, 2) + '\n';
  // What we write must load: the loader is the judge (and catches, e.g., a bad capturedAt).
  try {
    loadSnapshot(text, input.limits);
  } catch (e) {
    if (e instanceof SnapshotError) throw new AssembleError(`the assembled snapshot is not valid: ${e.message}`);
    throw e;
  }
  return { snapshot, text, ignored, mapping: mapPodsToNetns(objects.pods, dumps) };
}

/** Settings the objects state outright; the rest is left to detection (a later stage). */
export function settingsFromObjects(objects: SnapshotObjects): SnapshotSettings {
  const settings: SnapshotSettings = {};
  const cidrs = new Set<string>();
  for (const n of objects.nodes) {
    const spec = (n.spec ?? {}) as { podCIDR?: unknown; podCIDRs?: unknown };
    const list = Array.isArray(spec.podCIDRs) ? spec.podCIDRs : spec.podCIDR !== undefined ? [spec.podCIDR] : [];
    for (const c of list) if (typeof c === 'string') cidrs.add(c);
  }
  if (cidrs.size) settings.podCIDRs = [...cidrs].sort();
  return settings;
}
