// A diagnosis or a capture against a live cluster: connect (kubeconfig), check RBAC, read the
// objects, collect the node dumps the diagnosis needs through collector pods, and hand the engine
// a snapshot built exactly as `netpath snapshot assemble` builds one — so a live run and a run on
// the captured snapshot give the same result.
import { setMaxListeners } from 'node:events';
import { ApiClient } from './api';
import { AccessReport, collectionNeeds, describeNeed, detectionNeeds, objectNeeds, reviewAccess } from './access';
import { CollectorManager, DEFAULT_COLLECTOR_IMAGE, DEFAULT_NAMESPACE, type NodeCollection, type ProgressEvent } from './collector-pods';
import type { ConsentRecords } from './consent';
import { CancelledError, ClusterInputError, ClusterUnreachableError } from './errors';
import type { ClusterLimits } from './limits';
import type { EngineLimits } from '../shared/limits';
import { loadKubeconfig, type KubeconfigOptions, type LoadedKubeconfig } from './kubeconfig';
import { loadClusterObjects, type LoadedObjects } from './loader';
import { createContext, type Context, type SettingOrigin } from '../engine/context';
import { Network } from '../engine/network';
import type { ClusterPort, DumpProvider, DumpState } from '../engine/port';
import type { DiagnosisRequest, DiagnosisResult } from '../engine/model/result';
import { SuspicionLevel, type Suspicion } from '../engine/model/suspicion';
import { settingsFromObjects } from '../engine/snapshot/assemble';
import { loadSnapshot } from '../engine/snapshot/load';
import { encodeSnapshot } from '../engine/snapshot/format';
import { snapshotKind, type NetpathSnapshot, type SnapshotObjects } from '../engine/snapshot/types';
import { sortKeys } from '../engine/snapshot/objects';
import type { NodeNetworkStackDump } from '../shared/dump';

export interface LiveOptions extends KubeconfigOptions {
  namespace?: string;
  image?: string;
  /** Per collector pod, creation to log (default 120 s). */
  timeoutMs?: number;
  /** Agreement, given now, to create the namespace and privileged pods (the CLI's --yes, VS Code's dialog). */
  consent?: boolean;
  /** Agreements remembered per API server + namespace + pinned image (the CLI's consent file). */
  consentRecords?: ConsentRecords;
  /** Byte caps on what the cluster sends (default `defaultLimits`), and the engine's limits on the snapshot and dumps (src/shared/limits.ts). */
  limits?: Partial<ClusterLimits> & EngineLimits;
  /** false: API-level checks only, no collector pods. */
  collect?: boolean;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /** Settings that override detected values (the CLI's --network-plugin, --proxy-mode, …, or VS Code's). */
  settings?: Record<string, unknown>;
  /** Who set `settings` (default: the CLI): VS Code names some keys its own way (context.ts). */
  settingsOrigin?: SettingOrigin;
  pageSize?: number;
  runId?: string;
  pollMs?: number;
  cleanupMs?: number;
}

export interface LiveSession {
  config: LoadedKubeconfig;
  api: ApiClient;
  access: AccessReport;
  loaded: LoadedObjects;
  /** Undefined when collection is not possible (permissions) or not wanted. */
  manager?: CollectorManager;
  /** Report lines about what could not be read or collected (clusterSuspicions). */
  notes: Suspicion[];
}

const warn = (check: string, message: string): Suspicion => ({ level: SuspicionLevel.WARNING, check, message, evidence: [] });

export async function openLive(o: LiveOptions): Promise<LiveSession> {
  if (o.signal) setMaxListeners(0, o.signal); // one abort listener per in-flight request
  const config = loadKubeconfig(o);
  const api = new ApiClient(config.kc, { maxResponseBytes: o.limits?.maxResponseBytes });
  const progress = (message: string) => o.onProgress?.({ step: 'namespace', message });
  const namespace = o.namespace ?? DEFAULT_NAMESPACE;
  progress(`connecting to ${config.server} (context ${config.context}, from ${config.source})`);
  const access = await reviewAccess(api, [...objectNeeds, ...detectionNeeds, ...(o.collect === false ? [] : collectionNeeds(namespace))], o.signal);
  const missingObjects = access.missing('objects');
  if (access.nothingReadable) {
    throw new ClusterInputError(`no permission to read anything netpath needs in context ${config.context}: missing ${missingObjects.map(describeNeed).join(', ')}`);
  }
  if (access.missing().length) progress(`missing permissions: ${access.missing().map(describeNeed).join(', ')}`);
  const loaded = await loadClusterObjects(api, access, { pageSize: o.pageSize, signal: o.signal, onProgress: progress });
  const readable = objectNeeds.filter((n) => !loaded.skipped.some((s) => s.what === n.resource && s.reason.startsWith('no permission')));
  if (!readable.length) throw new ClusterInputError(`no permission to read anything netpath needs in context ${config.context}: ${loaded.skipped.map((s) => `${s.what}: ${s.reason}`).join('; ')}`);
  progress(`read ${Object.entries(loaded.counts).map(([k, n]) => `${n} ${k}`).join(', ')} in ${loaded.pages} pages`);

  const notes: Suspicion[] = [];
  for (const s of loaded.skipped) {
    if (s.reason.startsWith('no permission')) notes.push(warn('cluster.permission', `${s.what} not read: ${s.reason}; the checks that need them are skipped`));
  }
  let manager: CollectorManager | undefined;
  if (o.collect !== false) {
    const missing = access.missing('collection');
    if (missing.length) {
      notes.push(warn('collector.skipped', `node network stacks not collected (API-level checks only): missing permission to ${missing.map(describeNeed).join(', ')}`));
    } else {
      manager = new CollectorManager(api, {
        namespace,
        image: o.image ?? DEFAULT_COLLECTOR_IMAGE,
        timeoutMs: o.timeoutMs ?? 120_000,
        consent: o.consent === true,
        maxDumpBytes: o.limits?.maxDumpBytes,
        pollMs: o.pollMs,
        cleanupMs: o.cleanupMs,
      }, { runId: o.runId, signal: o.signal, onProgress: o.onProgress, cluster: { context: config.context, server: config.server }, consentRecords: o.consentRecords });
    }
  }
  return { config, api, access, loaded, manager, notes };
}

/** Objects + dumps → the snapshot text (format version 1, or 2 when asked) and its loaded form (what `netpath snapshot capture` writes). */
export function buildSnapshot(objects: SnapshotObjects, dumps: Record<string, NodeNetworkStackDump>, capturedAt: string, overrides: Record<string, unknown> = {}, formatVersion: 1 | 2 = 1, limits: EngineLimits = {}): { text: string; snapshot: NetpathSnapshot } {
  const settings = { ...settingsFromObjects(objects), ...overrides };
  const text = formatVersion === 2
    ? encodeSnapshot({ capturedAt, settings, objects, dumps })
    : JSON.stringify(sortKeys({ kind: snapshotKind, version: 1, capturedAt, settings, objects, dumps }), null, 2) + '\n';
  return { text, snapshot: loadSnapshot(text, limits) };
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The CollectorManager behind the engine's DumpProvider: a node's dump is collectable until a
 * collector pod has run on it; then it is the dump, or the reason collection failed. Failures
 * also become report notes.
 */
export class LiveDumps implements DumpProvider {
  private readonly dumps = new Map<string, NodeNetworkStackDump>();
  private readonly failed = new Map<string, string>();
  private readonly done = new Map<string, NodeCollection>();

  constructor(private readonly session: LiveSession, private readonly signal?: AbortSignal) {}

  state(node: string): DumpState {
    const dump = this.dumps.get(node);
    if (dump) return { dump };
    const failed = this.failed.get(node);
    if (failed) return { missing: failed };
    // No collector (permissions, or API-level checks only): the notes say why.
    if (!this.session.manager || !this.session.loaded.objects.nodes.some((n) => n.metadata.name === node)) return { missing: `no network stack dump for node ${node}` };
    return { collectable: true };
  }

  available(): string[] {
    return [...this.dumps.keys()].sort();
  }

  /** What was collected so far, by node. */
  collections(): NodeCollection[] {
    return [...this.done.values()];
  }

  /** Every dump collected so far, by node name. */
  collected(): Record<string, NodeNetworkStackDump> {
    return Object.fromEntries(this.available().map((n) => [n, this.dumps.get(n)!]));
  }

  async collect(nodes: readonly string[]): Promise<void> {
    const manager = this.session.manager;
    const todo = nodes.filter((n) => !this.done.has(n));
    if (!todo.length || !manager) return;
    const linux: string[] = [];
    for (const n of todo) {
      const obj = this.session.loaded.objects.nodes.find((x) => x.metadata.name === n);
      const os = obj?.metadata.labels?.['kubernetes.io/os'] ?? obj?.metadata.labels?.['beta.kubernetes.io/os'];
      if (os !== undefined && os !== 'linux') this.fail({ node: n, error: new Error(`node ${n}: the collector runs on Linux nodes only (kubernetes.io/os=${os})`) }, `node ${n}: not collected: the collector runs on Linux nodes only (kubernetes.io/os=${os})`);
      else linux.push(n);
    }
    const results = await manager.collect(linux);
    if (this.signal?.aborted) throw new CancelledError('cancelled during collection; the collector pods were deleted');
    // A cluster that went away ends the run (its message names the server), not just one node.
    const lost = results.find((r) => r.error instanceof ClusterUnreachableError);
    if (lost) throw lost.error;
    for (const r of results) {
      if (r.dump) {
        this.done.set(r.node, r);
        this.dumps.set(r.node, r.dump);
      } else this.fail(r);
    }
  }

  private fail(r: NodeCollection, note?: string): void {
    const message = r.error?.message ?? `node ${r.node}: collection failed`;
    this.done.set(r.node, r);
    this.failed.set(r.node, message);
    this.session.notes.push(warn('collector.failed', note ?? message));
  }
}

/** The run's Context: what the objects state, then the user's overrides (CLI flags or VS Code settings). */
export function liveContext(objects: SnapshotObjects, o: Pick<LiveOptions, 'settings' | 'settingsOrigin'>): Context {
  return createContext({ origin: 'snapshot', values: settingsFromObjects(objects) }, { origin: o.settingsOrigin ?? 'cli', values: o.settings ?? {} });
}

export interface LiveDiagnosis {
  result: DiagnosisResult;
  collections: NodeCollection[];
  session: LiveSession;
  /** The objects and the dumps collected, as a snapshot file's text (for Save Snapshot). */
  snapshotText(): string;
}

/**
 * One diagnosis of a live cluster: the engine asks for the dumps of the nodes the packet reaches
 * (source and destination nodes first, together), the collector pods fetch them, the engine goes
 * on. A bad request fails before any pod is created.
 */
export async function diagnoseLive(o: LiveOptions, request: DiagnosisRequest, run?: (port: ClusterPort, context: Context) => Promise<DiagnosisResult>): Promise<LiveDiagnosis> {
  const session = await openLive(o);
  const dumps = new LiveDumps(session, o.signal);
  const capturedAt = now();
  try {
    const port: ClusterPort = { objects: session.loaded.objects, dumps };
    const context = liveContext(session.loaded.objects, o);
    // `run` lets a caller diagnose differently on the same view (what-if overlays wrap the port).
    const result = run ? await run(port, context) : await new Network(port, context, o.limits).diagnoseAsync(request);
    result.clusterSuspicions.push(...session.notes);
    return {
      result,
      collections: dumps.collections(),
      session,
      snapshotText: () => buildSnapshot(session.loaded.objects, dumps.collected(), capturedAt, o.settings, 1, o.limits).text,
    };
  } finally {
    await session.manager?.cleanup();
  }
}

export interface LiveCapture {
  text: string;
  snapshot: NetpathSnapshot;
  collections: NodeCollection[];
  session: LiveSession;
}

/** `netpath snapshot capture`: the objects and the dumps of the given nodes (default: all). */
export async function captureLive(o: LiveOptions, nodes?: string[], formatVersion: 1 | 2 = 1): Promise<LiveCapture> {
  const session = await openLive(o);
  const known = session.loaded.objects.nodes.map((n) => n.metadata.name);
  const wanted = nodes ?? known;
  const unknown = wanted.filter((n) => !known.includes(n));
  if (unknown.length) throw new ClusterInputError(`no node named ${unknown.join(', ')} in the cluster (nodes: ${known.join(', ') || 'none readable'})`);
  const dumps = new LiveDumps(session, o.signal);
  try {
    await dumps.collect(wanted);
  } finally {
    await session.manager?.cleanup();
  }
  const built = buildSnapshot(session.loaded.objects, dumps.collected(), now(), o.settings, formatVersion, o.limits);
  return { ...built, collections: dumps.collections(), session };
}
