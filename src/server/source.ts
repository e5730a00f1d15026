// Where a diagnosis gets its cluster state. `ClusterSource` is the seam between the server and
// the cluster: a snapshot file or text, or a live cluster (live-source.ts, over src/cluster/).
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { SnapshotError, loadSnapshot } from '../engine/snapshot/load';
import { openSnapshotFile } from '../shared/snapshot-file';
import type { NetpathSnapshot } from '../engine/snapshot/types';
import type { SourceSpec } from '../shared/protocol';
import { BadInputError } from '../shared/errors';
import type { RequestLimits } from '../shared/limits';
import type { Steps } from './steps';
import { LiveClusterSource } from './live-source';

export interface ClusterSource {
  /** Short human name: the snapshot file name, or the kube context. */
  readonly label: string;
  /**
   * The cluster state as a snapshot. A live source collects here (reporting each collector as a
   * step and removing its pods when `steps` is cancelled); a snapshot source reads and validates.
   */
  load(steps: Steps): Promise<NetpathSnapshot>;
}

/** Opened snapshots by path (their parsed parts with them), reused while the file's size and mtime stay the same. */
const cache = new Map<string, { key: string; snapshot: NetpathSnapshot }>();
const cacheLimit = 4;

export class SnapshotFileSource implements ClusterSource {
  readonly label: string;
  constructor(readonly path: string, readonly limits: RequestLimits = {}) {
    this.label = basename(path);
  }

  async load(steps: Steps): Promise<NetpathSnapshot> {
    steps.step(`Reading snapshot ${this.label}`);
    let key: string;
    try {
      const st = await stat(this.path);
      if (!st.isFile()) throw new BadInputError(`snapshot ${this.path} is not a file`, 'source');
      // Another limit may refuse what was accepted, or accept what was refused: part of the key.
      key = `${st.size}:${st.mtimeMs}:${JSON.stringify(this.limits)}`;
    } catch (e) {
      if (e instanceof BadInputError) throw e;
      throw new BadInputError(`cannot read snapshot ${this.path}: ${(e as Error).message}`, 'source');
    }
    const hit = cache.get(this.path);
    if (hit?.key === key) return hit.snapshot;
    steps.checkCancelled();
    steps.step(`Validating snapshot ${this.label}`);
    // Version 2: the header now; each part is read and validated when a diagnosis first needs it.
    let snapshot: NetpathSnapshot;
    try {
      snapshot = openSnapshotFile(this.path, false, this.limits);
    } catch (e) {
      if (e instanceof SnapshotError) throw new BadInputError(`${this.path}: ${e.message}`, 'source');
      throw e;
    }
    cache.delete(this.path);
    cache.set(this.path, { key, snapshot });
    while (cache.size > cacheLimit) cache.delete(cache.keys().next().value!);
    return snapshot;
  }
}

export class SnapshotTextSource implements ClusterSource {
  readonly label: string;
  constructor(readonly text: string, name?: string, readonly limits: RequestLimits = {}) {
    this.label = name ? basename(name) : 'unsaved snapshot';
  }

  async load(steps: Steps): Promise<NetpathSnapshot> {
    steps.step(`Validating snapshot ${this.label}`);
    return parse(this.text, this.label, this.limits);
  }
}

function parse(text: string, where: string, limits: RequestLimits): NetpathSnapshot {
  try {
    return loadSnapshot(text, limits);
  } catch (e) {
    throw new BadInputError(`${where}: ${(e as Error).message}`, 'source');
  }
}

export function sourceFor(spec: SourceSpec, limits: RequestLimits = {}): ClusterSource {
  if (spec.kind === 'cluster') return new LiveClusterSource(spec, limits);
  if ('path' in spec) return new SnapshotFileSource(spec.path, limits);
  return new SnapshotTextSource(spec.text, spec.name, limits);
}
