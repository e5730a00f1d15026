// The CollectorManager: one privileged, self-destructing collector pod per node (DESIGN
// "Collector pod"), started in parallel; the dump is read through the pod log API (no exec) and
// every pod is deleted again — on success, failure and cancellation. Nothing is created without
// consent for this API server + namespace + image. Each pod's name is unique to its run and node,
// and each records when its run is done with it: a run deletes other runs' pods only past that.
import { createHash, randomBytes } from 'node:crypto';
import type { ApiClient } from './api';
import { query } from './api';
import { CancelledError, ClusterApiError, CollectionError, ConsentRequiredError, type ConsentDetails } from './errors';
import { collectionNeeds, describeNeed } from './access';
import { isPinnedImage, type ConsentRecords } from './consent';
import { defaultLimits, formatBytes, limitNamed } from './limits';
import { collectorScript } from '../collector/script';
import { convertCollectorOutput } from '../collector/convert';
import { CollectorOutputError, CollectorOutputTooLargeError, unwrapCollectorOutput } from '../collector/frames';
import type { NodeNetworkStackDump } from '../shared/dump';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const RUN_ID = 'netpath.dev/run-id';
export const NODE_LABEL = 'netpath.dev/node';
/** Seconds after its creation by which the pod's run has deleted it or given up on it. */
export const STALE_AFTER = 'netpath.dev/stale-after-seconds';
/** nicolaka/netshoot (Alpine): iproute2, iptables + iptables-legacy, ipset, ipvsadm, nftables,
 * util-linux nsenter, gzip, base64. Pinned by digest: the pods are privileged, and consent is
 * remembered only for content that cannot change under the same name. */
export const DEFAULT_COLLECTOR_IMAGE = 'nicolaka/netshoot:v0.13@sha256:a20c2531bf35436ed3766cd6cfe89d352b050ccc4d7005ce6400adf97503da1b';
export const DEFAULT_NAMESPACE = 'netpath-system';
/** How long reading one pod's log may take. */
const LOG_READ_MS = 120_000;

export interface CollectorSettings {
  namespace: string;
  image: string;
  /** How long to wait for one pod to finish (creation → log read). */
  timeoutMs: number;
  /** The pod's own deadline: it dies even if netpath does. Default: timeout + 60 s. */
  activeDeadlineSeconds?: number;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** The user agreed now (--yes, VS Code's dialog) to create the namespace (Pod Security
   * `privileged`) and privileged pods; otherwise only a remembered agreement lets a run create them. */
  consent: boolean;
  /** A node's dump after gunzip, at most (default `defaultLimits.maxDumpBytes`). */
  maxDumpBytes?: number;
  /** Status poll interval (default 500 ms). */
  pollMs?: number;
  /** How long deleting a pod is retried when the API server does not answer (default 30 s). */
  cleanupMs?: number;
}

export type CollectorStep = 'consent' | 'namespace' | 'stale' | 'create' | 'wait' | 'logs' | 'delete' | 'done' | 'failed';

export interface ProgressEvent {
  step: CollectorStep;
  node?: string;
  pod?: string;
  message: string;
}

export interface NodeCollection {
  node: string;
  dump?: NodeNetworkStackDump;
  /** The pod log as read (the framed stream, gzip'ed) — kept for captures and tests. */
  raw?: Buffer;
  error?: Error;
}

export class CollectorManager {
  readonly runId: string;
  /** This run's pods not yet deleted: name → uid (undefined when the create's answer was lost). */
  private readonly created = new Map<string, string | undefined>();
  private prepared = false;

  constructor(
    private readonly api: ApiClient,
    readonly settings: CollectorSettings,
    private readonly opts: {
      runId?: string;
      signal?: AbortSignal;
      onProgress?: (e: ProgressEvent) => void;
      cluster?: { context: string; server: string };
      /** Remembered agreements (the CLI's consent file); without it only `settings.consent` counts. */
      consentRecords?: ConsentRecords;
    } = {},
  ) {
    this.runId = opts.runId ?? randomBytes(4).toString('hex');
    if (!/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/.test(this.runId)) throw new Error(`run id "${this.runId}" is not 1-16 characters of [a-z0-9-]`);
  }

  private progress(e: ProgressEvent): void {
    this.opts.onProgress?.(e);
  }

  private get ns(): string {
    return this.settings.namespace;
  }

  private get deadlineSeconds(): number {
    return this.settings.activeDeadlineSeconds ?? Math.ceil(this.settings.timeoutMs / 1000) + 60;
  }

  /** When this run is done with a pod at the latest: waiting, reading the log, retrying the
   * delete — plus a margin. Recorded on the pod; other runs judge it by that (isStalePod). */
  get staleAfterSeconds(): number {
    const done = Math.ceil((this.settings.timeoutMs + LOG_READ_MS + (this.settings.cleanupMs ?? 30_000)) / 1000);
    return Math.max(done, this.deadlineSeconds) + 60;
  }

  private get server(): string {
    return this.opts.cluster?.server ?? this.api.server.href;
  }

  /** What a run creates, for the consent prompt. */
  describe(): string {
    return [
      `namespace ${this.ns} (created if missing, label pod-security.kubernetes.io/enforce=privileged)`,
      `one pod per node to examine, image ${this.settings.image}: hostNetwork, hostPID, privileged, tolerates every taint,`,
      `  restartPolicy Never, activeDeadlineSeconds ${this.deadlineSeconds}, labels ${MANAGED_BY}=netpath and ${RUN_ID}=<run id>;`,
      `  the image is ${isPinnedImage(this.settings.image) ? 'pinned by digest' : 'NOT pinned by digest (its tag can be moved to other content)'};`,
      `  it runs netpath's collector script (read-only: ip, iptables-save, ipset, ipvsadm, nft, ss, sysctl), prints the dump to its log,`,
      `  and is deleted as soon as its log is read (also on failure and cancellation)`,
    ].join('\n');
  }

  /** The same as `describe()`, structured, for a consent dialog (the VS Code extension). */
  consentDetails(): ConsentDetails {
    return {
      context: this.opts.cluster?.context,
      server: this.opts.cluster?.server,
      namespace: this.ns,
      namespaceLabels: { [MANAGED_BY]: 'netpath', 'pod-security.kubernetes.io/enforce': 'privileged' },
      image: this.settings.image,
      imagePinned: isPinnedImage(this.settings.image),
      pod: `one pod per node to examine (${this.ns}/netpath-<run>-<node>-<hash>, image ${this.settings.image}, restartPolicy Never, activeDeadlineSeconds ${this.deadlineSeconds}), running netpath's read-only collector script; its dump is read from its log and the pod is deleted right after (also on failure and cancellation)`,
      privileges: [
        'privileged container (reads iptables, nftables, IPVS, routes and sockets of the node and of every pod network namespace)',
        'hostNetwork: the node\'s own network namespace',
        'hostPID: enters each pod\'s network namespace with nsenter',
        'tolerates every taint (runs on any node the diagnosis needs, control-plane nodes included)',
        `namespace ${this.ns} labelled Pod Security "privileged" (enforce, warn, audit)`,
      ],
      permissions: ['create namespaces (cluster-wide, first run only)', ...collectionNeeds(this.ns).map(describeNeed)],
      activeDeadlineSeconds: this.deadlineSeconds,
    };
  }

  /** Consent, whatever the namespace's state; then the namespace and the removal of earlier runs' leftovers. */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    this.ensureConsent();
    const signal = this.opts.signal;
    const got = await this.api.send('GET', `/api/v1/namespaces/${this.ns}`, { signal });
    if (got.status === 404) {
      this.progress({ step: 'namespace', message: `creating namespace ${this.ns} (Pod Security: privileged)` });
      try {
        await this.api.json('POST', '/api/v1/namespaces', {
          signal,
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.ns, labels: { [MANAGED_BY]: 'netpath', 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/warn': 'privileged', 'pod-security.kubernetes.io/audit': 'privileged' } } },
        });
      } catch (e) {
        if (!(e instanceof ClusterApiError && e.status === 409)) throw e;
      }
    } else if (got.status >= 300 && got.status !== 403) {
      throw new ClusterApiError(got.status, 'GET', `/api/v1/namespaces/${this.ns}`, got.body.slice(0, 200));
    }
    await this.deleteStale();
    this.prepared = true;
  }

  /** Explicit consent (--yes, VS Code's dialog), or one remembered for this API server,
   * namespace and pinned image; otherwise ConsentRequiredError and nothing is created. */
  private ensureConsent(): void {
    const scope = { server: this.server, namespace: this.ns, image: this.settings.image };
    const pinned = isPinnedImage(scope.image);
    const records = this.opts.consentRecords;
    if (this.settings.consent) {
      if (!pinned || !records || records.has(scope)) return;
      try {
        records.record(scope, this.opts.cluster?.context);
        this.progress({ step: 'consent', message: `consent remembered in ${records.location} for ${scope.server}, namespace ${scope.namespace}, image ${scope.image}` });
      } catch (e) {
        this.progress({ step: 'consent', message: `consent not remembered (${records.location}: ${(e as Error).message}); the next run asks again` });
      }
      return;
    }
    if (pinned && records?.has(scope)) return;
    const before = records?.images(scope.server, scope.namespace) ?? [];
    const why = !pinned
      ? `the collector image ${scope.image} is not pinned by digest (IMAGE@sha256:…), so consent for it is never remembered`
      : before.length
        ? `the collector image changed since you agreed to run in ${scope.server} (namespace ${scope.namespace}): ${before.join(', ')} → ${scope.image}`
        : `netpath has no consent to create collector pods in ${scope.server} (namespace ${scope.namespace}, image ${scope.image})`;
    const remembered = pinned && records ? `; it is remembered for this API server, namespace and image in ${records.location}` : '';
    throw new ConsentRequiredError(`${why}: it would create\n${this.describe()}\nGive consent (--yes) to go ahead${remembered}`, this.consentDetails());
  }

  /** Other runs' pods past their own recorded deadline (a crashed or killed run's). A pod of a
   * live run — even finished, its log not read yet — is never touched; deletes carry the uid seen,
   * so a newer pod that took the name is not deleted either. */
  private async deleteStale(): Promise<void> {
    const path = `/api/v1/namespaces/${this.ns}/pods${query({ labelSelector: `${MANAGED_BY}=netpath` })}`;
    const r = await this.api.send('GET', path, { signal: this.opts.signal });
    if (r.status < 200 || r.status >= 300) throw new ClusterApiError(r.status, 'GET', path, r.body.slice(0, 200));
    let items: PodJson[];
    try {
      items = (JSON.parse(r.body) as { items?: PodJson[] }).items ?? [];
    } catch {
      throw new ClusterApiError(r.status, 'GET', path, 'the answer is not JSON');
    }
    // The API server's clock, as the pods' creationTimestamps: no skew with this machine's.
    const now = r.serverTime ?? Date.now();
    const stale = items.filter((p) => p.metadata.labels?.[RUN_ID] !== this.runId && isStalePod(p, now));
    if (!stale.length) return;
    this.progress({ step: 'stale', message: `deleting ${stale.length} collector pod(s) left by earlier runs past their deadline: ${stale.map((p) => p.metadata.name).join(', ')}` });
    await Promise.all(stale.map((p) => this.deletePod(p.metadata.name, p.metadata.uid)));
  }

  podName(node: string): string {
    return collectorPodName(this.runId, node);
  }

  podSpec(node: string): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: this.podName(node),
        namespace: this.ns,
        labels: { [MANAGED_BY]: 'netpath', 'app.kubernetes.io/name': 'netpath-collector', [RUN_ID]: this.runId, [NODE_LABEL]: labelValue(node) },
        annotations: { 'netpath.dev/node-name': node, [STALE_AFTER]: String(this.staleAfterSeconds) },
      },
      spec: {
        nodeName: node,
        hostNetwork: true,
        hostPID: true,
        restartPolicy: 'Never',
        activeDeadlineSeconds: this.deadlineSeconds,
        terminationGracePeriodSeconds: 0,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        tolerations: [{ operator: 'Exists' }],
        containers: [{
          name: 'collector',
          image: this.settings.image,
          imagePullPolicy: this.settings.imagePullPolicy ?? 'IfNotPresent',
          // The script is the command: no custom image needed. --gzip keeps big dumps under the log rotation size.
          command: ['sh', '-c', collectorScript(), 'netpath-collector', '--gzip'],
          securityContext: { privileged: true },
          resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '256Mi' } },
        }],
      },
    };
  }

  /** Collects the nodes in parallel; a node's failure is its result's `error`, never the others'. */
  async collect(nodes: string[]): Promise<NodeCollection[]> {
    await this.prepare();
    return Promise.all(nodes.map(async (node): Promise<NodeCollection> => {
      try {
        const raw = await this.collectNode(node);
        const maxDump = this.settings.maxDumpBytes ?? defaultLimits.maxDumpBytes;
        let dump: NodeNetworkStackDump;
        try {
          dump = convertCollectorOutput(unwrapCollectorOutput(raw, maxDump));
        } catch (e) {
          if (e instanceof CollectorOutputTooLargeError) throw new CollectionError(`node ${node}: the collector's log (${formatBytes(raw.length)}) inflates to more than ${limitNamed('maxDumpBytes', maxDump)}; it was not read further`);
          if (e instanceof CollectorOutputError) throw new CollectionError(`node ${node}: the collector's log is not a complete dump: ${e.message}`);
          throw e;
        }
        this.progress({ step: 'done', node, message: `node ${node}: ${dump.netns.length + 1} network namespaces collected` });
        return { node, dump, raw };
      } catch (e) {
        this.progress({ step: 'failed', node, message: (e as Error).message });
        return { node, error: e as Error };
      }
    }));
  }

  private async collectNode(node: string): Promise<Buffer> {
    const signal = this.opts.signal;
    const name = this.podName(node);
    const base = `/api/v1/namespaces/${this.ns}/pods`;
    if (signal?.aborted) throw new CancelledError(`cancelled before collecting node ${node}`);
    this.progress({ step: 'create', node, pod: name, message: `node ${node}: creating collector pod ${this.ns}/${name}` });
    try {
      const made = await this.api.json<PodJson>('POST', base, { body: this.podSpec(node), signal });
      this.created.set(name, made.metadata?.uid);
    } catch (e) {
      // Refused (409 included): there is no pod of ours to delete. No answer: the pod may exist,
      // and its name is this run's alone, so it is deleted by name.
      if (e instanceof ClusterApiError) throw new CollectionError(`node ${node}: the API server refused collector pod ${this.ns}/${name} (HTTP ${e.status}): ${e.detail}`);
      this.created.set(name, undefined);
      await this.deleteOwn(name);
      throw e;
    }
    try {
      this.progress({ step: 'wait', node, pod: name, message: `node ${node}: waiting for ${name} to finish` });
      const deadline = Date.now() + this.settings.timeoutMs;
      let pod: PodJson | undefined;
      for (;;) {
        pod = await this.api.json<PodJson>('GET', `${base}/${name}`, { signal });
        const phase = pod.status?.phase;
        if (phase === 'Succeeded') break;
        if (phase === 'Failed') {
          const tail = await this.logTail(name);
          throw new CollectionError(`node ${node}: collector pod ${this.ns}/${name} failed${pod.status?.reason ? ` (${pod.status.reason}: ${pod.status.message ?? ''})` : ''}${containerState(pod)}${tail ? `; log tail:\n${tail}` : ''}${await this.events(name)}`);
        }
        if (Date.now() >= deadline) {
          throw new CollectionError(`node ${node}: collector pod ${this.ns}/${name} did not finish within ${Math.round(this.settings.timeoutMs / 1000)} s (phase ${phase ?? 'unknown'}${containerState(pod)})${await this.events(name)}`);
        }
        await sleep(this.settings.pollMs ?? 500, signal);
      }
      this.progress({ step: 'logs', node, pod: name, message: `node ${node}: reading the dump from ${name}'s log` });
      const log = await this.api.text('GET', `${base}/${name}/log${query({ container: 'collector' })}`, { signal, timeoutMs: LOG_READ_MS });
      return Buffer.from(log, 'utf8');
    } finally {
      await this.deleteOwn(name);
    }
  }

  private async deleteOwn(name: string): Promise<void> {
    if (!this.created.has(name)) return;
    await this.deletePod(name, this.created.get(name));
    this.created.delete(name);
  }

  private async logTail(name: string): Promise<string> {
    // A failure message, not a dump: the last lines, and never more than 4 KiB of them.
    const r = await this.api.send('GET', `/api/v1/namespaces/${this.ns}/pods/${name}/log${query({ container: 'collector', tailLines: 10, limitBytes: 4096 })}`, { timeoutMs: 10_000 }).catch(() => undefined);
    return r && r.status === 200 ? r.body.trim() : '';
  }

  /** The pod's events, one per line, for failure messages (image pulls, admission, scheduling). */
  async events(name: string): Promise<string> {
    const r = await this.api
      .json<{ items?: { type?: string; reason?: string; message?: string; count?: number }[] }>('GET', `/api/v1/namespaces/${this.ns}/events${query({ fieldSelector: `involvedObject.name=${name}` })}`, { timeoutMs: 10_000 })
      .catch((e: Error) => ({ error: e.message }) as const);
    if ('error' in r) return `; its events could not be read: ${r.error}`;
    const items = r.items ?? [];
    if (!items.length) return '; the pod has no events (is a kubelet running on the node?)';
    // The last ten, each cut at 1,000 characters: the message stays readable whatever the cluster posts.
    const earlier = items.length > 10 ? ` (the last 10 of ${items.length})` : '';
    const cut = (m: string) => (m.length > 1000 ? `${m.slice(0, 1000)}…` : m);
    return `; events${earlier}:\n${items.slice(-10).map((e) => `  ${e.type ?? ''} ${e.reason ?? ''}${e.count && e.count > 1 ? ` (x${e.count})` : ''}: ${cut(e.message ?? '')}`).join('\n')}`;
  }

  /** Deletes at once (grace 0), only the pod with `uid` when given (409: another pod has the name
   * now). Runs after cancellation too, so it takes no abort signal; keeps trying for `cleanupMs`
   * (an API server that is restarting), then leaves it to activeDeadlineSeconds. */
  private async deletePod(name: string, uid?: string): Promise<void> {
    this.progress({ step: 'delete', pod: name, message: `deleting collector pod ${this.ns}/${name}` });
    const path = `/api/v1/namespaces/${this.ns}/pods/${name}`;
    const until = Date.now() + (this.settings.cleanupMs ?? 30_000);
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) };
    let last = '';
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.api.send('DELETE', path, { body, timeoutMs: 5_000 });
        if (r.status < 300 || r.status === 404 || r.status === 409) return;
        last = `HTTP ${r.status}`;
        if (r.status === 403) break;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() >= until) break;
      await sleep(Math.min(2_000, 250 * 2 ** attempt));
    }
    this.progress({ step: 'delete', pod: name, message: `could not delete ${this.ns}/${name} (${last}); its activeDeadlineSeconds (${this.deadlineSeconds}) ends it` });
  }

  /** Deletes whatever this run still has (for callers that abandon a run). */
  async cleanup(): Promise<void> {
    await Promise.all([...this.created.keys()].map((n) => this.deleteOwn(n)));
  }
}

/**
 * A collector pod's name: the run id, the node name made DNS-safe (readable, may be shortened),
 * and a hash of run id and node name — so nodes whose names differ only in what the DNS-safe form
 * drops (`ip-10-0-0-1.ec2.internal`, `ip-10-0-0-1-ec2-internal`) never share a pod.
 */
export function collectorPodName(runId: string, node: string): string {
  const hash = createHash('sha256').update(`${runId}\0${node}`).digest('hex').slice(0, 10);
  const room = 63 - 'netpath-'.length - runId.length - hash.length - 2;
  const readable = node.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '').slice(0, Math.max(0, room)).replace(/-+$/, '');
  return `netpath-${runId}-${readable ? `${readable}-` : ''}${hash}`;
}

/** Pods of older netpath versions carry no STALE_AFTER: their activeDeadlineSeconds plus this. */
const LEGACY_MARGIN_SECONDS = 300;
/** A pod that says nothing about its deadline: an hour. */
const UNKNOWN_LIFETIME_SECONDS = 3600;

/**
 * Whether a collector pod is past its own deadline at `now` (ms, the API server's clock): its
 * creation plus the STALE_AFTER its run recorded. Phase does not matter: a finished pod of a live
 * run is still waiting for its log to be read.
 */
export function isStalePod(p: Pick<PodJson, 'metadata' | 'spec'>, now: number): boolean {
  const created = Date.parse(p.metadata.creationTimestamp ?? '');
  if (Number.isNaN(created)) return false;
  const recorded = p.metadata.annotations?.[STALE_AFTER];
  const lifetime = recorded !== undefined && /^\d{1,7}$/.test(recorded)
    ? Number(recorded)
    : typeof p.spec?.activeDeadlineSeconds === 'number' ? p.spec.activeDeadlineSeconds + LEGACY_MARGIN_SECONDS : UNKNOWN_LIFETIME_SECONDS;
  return now >= created + lifetime * 1000;
}

export interface PodJson {
  metadata: { name: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: string; deletionTimestamp?: string };
  spec?: { activeDeadlineSeconds?: number };
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: { state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number; message?: string } } }[];
  };
}

function containerState(p: PodJson): string {
  const s = p.status?.containerStatuses?.[0]?.state;
  if (s?.waiting?.reason) return `, container waiting: ${s.waiting.reason}${s.waiting.message ? ` (${s.waiting.message})` : ''}`;
  if (s?.terminated) return `, container exited with code ${s.terminated.exitCode ?? '?'}${s.terminated.reason ? ` (${s.terminated.reason})` : ''}`;
  return '';
}

/** Label values: ≤ 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends. */
function labelValue(s: string): string {
  const v = s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return v;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('cancelled'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError('cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
