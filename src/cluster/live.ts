// A diagnosis or a capture against a live cluster: connect (kubeconfig), check RBAC, read the
// objects, collect the node dumps the diagnosis needs through collector pods, and hand the engine
// a snapshot built exactly as `netpath snapshot assemble` builds one — so a live run and a run on
// the captured snapshot give the same result.
import { setMaxListeners } from 'node:events';
import { ApiClient } from './api';
import { AccessReport, collectionNeeds, describeNeed, detectionNeeds, objectNeeds, reviewAccess } from './access';
import { CollectorManager, DEFAULT_COLLECTOR_IMAGE, DEFAULT_NAMESPACE, type NodeCollection, type ProgressEvent } from './collector-pods';
import { CancelledError, ClusterInputError, ClusterUnreachableError } from './errors';
import { loadKubeconfig, type KubeconfigOptions, type LoadedKubeconfig } from './kubeconfig';
import { loadClusterObjects, type LoadedObjects } from './loader';
import { Network } from '../engine/network';
import { resolvePair } from '../engine/k8s/resolve';
import type { DiagnosisRequest, DiagnosisResult } from '../engine/model/result';
import { SuspicionLevel, type Suspicion } from '../engine/model/suspicion';
import { settingsFromObjects } from '../engine/snapshot/assemble';
import { loadSnapshot } from '../engine/snapshot/load';
import { sortKeys } from '../engine/snapshot/objects';
import { snapshotKind, snapshotVersion, type NetpathSnapshot, type SnapshotObjects } from '../engine/snapshot/types';
import type { NodeNetworkStackDump } from '../shared/dump';

export interface LiveOptions extends KubeconfigOptions {
  namespace?: string;
  image?: string;
  /** Per collector pod, creation to log (default 120 s). */
  timeoutMs?: number;
  /** Agreement to create the namespace and privileged pods (the CLI's --yes). */
  consent?: boolean;
  /** false: API-level checks only, no collector pods. */
  collect?: boolean;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /** Settings that override detected values (the CLI's --network-plugin, --proxy-mode, …). */
  settings?: Record<string, unknown>;
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
  const api = new ApiClient(config.kc);
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
        pollMs: o.pollMs,
        cleanupMs: o.cleanupMs,
      }, { runId: o.runId, signal: o.signal, onProgress: o.onProgress, cluster: { context: config.context, server: config.server } });
    }
  }
  return { config, api, access, loaded, manager, notes };
}

/** Objects + dumps → the snapshot text and its loaded form (the same path a snapshot file takes). */
export function buildSnapshot(objects: SnapshotObjects, dumps: Record<string, NodeNetworkStackDump>, capturedAt: string, overrides: Record<string, unknown> = {}): { text: string; snapshot: NetpathSnapshot } {
  const text = JSON.stringify(sortKeys({ kind: snapshotKind, version: snapshotVersion, capturedAt, settings: { ...settingsFromObjects(objects), ...overrides }, objects, dumps }), null, 2) + '\n';
  return { text, snapshot: loadSnapshot(text) };
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Collects nodes not collected yet; failures become report notes. */
async function collectInto(session: LiveSession, nodes: string[], dumps: Record<string, NodeNetworkStackDump>, done: Map<string, NodeCollection>, signal?: AbortSignal): Promise<void> {
  const todo = nodes.filter((n) => !done.has(n));
  if (!todo.length || !session.manager) return;
  const linux: string[] = [];
  for (const n of todo) {
    const obj = session.loaded.objects.nodes.find((x) => x.metadata.name === n);
    const os = obj?.metadata.labels?.['kubernetes.io/os'] ?? obj?.metadata.labels?.['beta.kubernetes.io/os'];
    if (os !== undefined && os !== 'linux') {
      done.set(n, { node: n, error: new Error(`node ${n}: the collector runs on Linux nodes only (kubernetes.io/os=${os})`) });
      session.notes.push(warn('collector.failed', `node ${n}: not collected: the collector runs on Linux nodes only (kubernetes.io/os=${os})`));
    } else linux.push(n);
  }
  const results = await session.manager.collect(linux);
  if (signal?.aborted) throw new CancelledError('cancelled during collection; the collector pods were deleted');
  // A cluster that went away ends the run (its message names the server), not just one node.
  const lost = results.find((r) => r.error instanceof ClusterUnreachableError);
  if (lost) throw lost.error;
  for (const r of results) {
    done.set(r.node, r);
    if (r.dump) dumps[r.node] = r.dump;
    else session.notes.push(warn('collector.failed', r.error?.message ?? `node ${r.node}: collection failed`));
  }
}

/** The nodes a request certainly reaches: the source's, the destination's (a service's backends'). */
export function nodesOf(network: Network, request: DiagnosisRequest): string[] {
  const cache = network.cache;
  const out = new Set<string>();
  let pair;
  try {
    pair = resolvePair(cache, request.src, request.dst, request.port);
  } catch {
    return []; // the diagnosis itself reports the bad request
  }
  for (const side of [pair.source, pair.destination]) {
    if (side.pod?.nodeName) out.add(side.pod.nodeName);
    if (side.node) out.add(side.node.name);
    if (side.service) {
      for (const sl of cache.endpointSlicesOf(side.service)) {
        for (const e of sl.endpoints) {
          if (e.nodeName) out.add(e.nodeName);
          else for (const a of e.addresses) {
            const p = cache.podByIP(a);
            if (p?.nodeName) out.add(p.nodeName);
          }
        }
      }
    }
  }
  return [...out].filter((n) => cache.node(n) !== undefined).sort();
}

/** Nodes the diagnosis reached but could not examine for lack of a dump. */
function unexaminedNodes(network: Network, result: DiagnosisResult): string[] {
  const out = new Set<string>();
  for (const n of result.nodes) {
    if (n.examined !== false || !n.suspicions.some((s) => s.check === 'dump.missing')) continue;
    const node = n.type === 'pod' ? network.cache.pod(n.id)?.nodeName : n.type === 'node' ? n.id : undefined;
    if (node && network.cache.node(node)) out.add(node);
  }
  return [...out].sort();
}

export interface LiveDiagnosis {
  result: DiagnosisResult;
  snapshotText: string;
  collections: NodeCollection[];
  session: LiveSession;
}

export async function diagnoseLive(o: LiveOptions, request: DiagnosisRequest): Promise<LiveDiagnosis> {
  const session = await openLive(o);
  const dumps: Record<string, NodeNetworkStackDump> = {};
  const done = new Map<string, NodeCollection>();
  const capturedAt = now();
  try {
    let built = buildSnapshot(session.loaded.objects, dumps, capturedAt, o.settings);
    let network = new Network(built.snapshot);
    // Resolve first (a bad request fails before any pod is created), then collect what it reaches.
    network.diagnose(request);
    await collectInto(session, nodesOf(network, request), dumps, done, o.signal);
    // The path may reach further nodes (a remote backend, a hop through another node): collect
    // those and run again until every reachable node has been tried once.
    for (;;) {
      built = buildSnapshot(session.loaded.objects, dumps, capturedAt, o.settings);
      network = new Network(built.snapshot);
      const result = network.diagnose(request);
      const more = session.manager ? unexaminedNodes(network, result).filter((n) => !done.has(n)) : [];
      if (!more.length) {
        result.clusterSuspicions.push(...session.notes);
        return { result, snapshotText: built.text, collections: [...done.values()], session };
      }
      await collectInto(session, more, dumps, done, o.signal);
    }
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
export async function captureLive(o: LiveOptions, nodes?: string[]): Promise<LiveCapture> {
  const session = await openLive(o);
  const known = session.loaded.objects.nodes.map((n) => n.metadata.name);
  const wanted = nodes ?? known;
  const unknown = wanted.filter((n) => !known.includes(n));
  if (unknown.length) throw new ClusterInputError(`no node named ${unknown.join(', ')} in the cluster (nodes: ${known.join(', ') || 'none readable'})`);
  const dumps: Record<string, NodeNetworkStackDump> = {};
  const done = new Map<string, NodeCollection>();
  try {
    await collectInto(session, wanted, dumps, done, o.signal);
  } finally {
    await session.manager?.cleanup();
  }
  const built = buildSnapshot(session.loaded.objects, dumps, now(), o.settings);
  return { ...built, collections: [...done.values()], session };
}
