// The CollectorManager: one privileged, self-destructing collector pod per node (DESIGN
// "Collector pod"), started in parallel; the dump is read through the pod log API (no exec) and
// every pod is deleted again — on success, failure and cancellation. Stale pods of earlier runs
// are removed at start.
import { createHash, randomBytes } from 'node:crypto';
import type { ApiClient } from './api';
import { query } from './api';
import { CancelledError, ClusterApiError, CollectionError, ConsentRequiredError, type ConsentDetails } from './errors';
import { collectionNeeds, describeNeed } from './access';
import { collectorScript } from '../collector/script';
import { convertCollectorOutput } from '../collector/convert';
import { CollectorOutputError } from '../collector/frames';
import type { NodeNetworkStackDump } from '../shared/dump';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const RUN_ID = 'netpath.dev/run-id';
export const NODE_LABEL = 'netpath.dev/node';
/** nicolaka/netshoot (Alpine): iproute2, iptables + iptables-legacy, ipset, ipvsadm, nftables, util-linux nsenter, gzip, base64. */
export const DEFAULT_COLLECTOR_IMAGE = 'nicolaka/netshoot:v0.13';
export const DEFAULT_NAMESPACE = 'netpath-system';

export interface CollectorSettings {
  namespace: string;
  image: string;
  /** How long to wait for one pod to finish (creation → log read). */
  timeoutMs: number;
  /** The pod's own deadline: it dies even if netpath does. Default: timeout + 60 s. */
  activeDeadlineSeconds?: number;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** The user agreed to create the namespace (Pod Security `privileged`) and privileged pods. */
  consent: boolean;
  /** Status poll interval (default 500 ms). */
  pollMs?: number;
  /** How long deleting a pod is retried when the API server does not answer (default 30 s). */
  cleanupMs?: number;
}

export type CollectorStep = 'namespace' | 'stale' | 'create' | 'wait' | 'logs' | 'delete' | 'done' | 'failed';

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
  private readonly created = new Set<string>();
  private prepared = false;

  constructor(
    private readonly api: ApiClient,
    readonly settings: CollectorSettings,
    private readonly opts: { runId?: string; signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void; cluster?: { context: string; server: string } } = {},
  ) {
    this.runId = opts.runId ?? randomBytes(4).toString('hex');
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

  /** What a run creates, for the consent prompt. */
  describe(): string {
    return [
      `namespace ${this.ns} (created if missing, label pod-security.kubernetes.io/enforce=privileged)`,
      `one pod per node to examine, image ${this.settings.image}: hostNetwork, hostPID, privileged, tolerates every taint,`,
      `  restartPolicy Never, activeDeadlineSeconds ${this.deadlineSeconds}, labels ${MANAGED_BY}=netpath and ${RUN_ID}=<run id>;`,
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
      pod: `one pod per node to examine (${this.ns}/netpath-<run>-<node>, image ${this.settings.image}, restartPolicy Never, activeDeadlineSeconds ${this.deadlineSeconds}), running netpath's read-only collector script; its dump is read from its log and the pod is deleted right after (also on failure and cancellation)`,
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

  /** Namespace (created only with consent) and removal of earlier runs' leftovers. */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    const signal = this.opts.signal;
    const got = await this.api.send('GET', `/api/v1/namespaces/${this.ns}`, { signal });
    if (got.status === 404) {
      if (!this.settings.consent) {
        throw new ConsentRequiredError(`netpath has not run in this cluster before: it would create\n${this.describe()}\nGive consent (--yes) to go ahead`, this.consentDetails());
      }
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

  /** Pods of earlier runs that are finished or past their deadline (a crashed run's); pods of a
   * concurrent run (younger than the deadline, still active) are left alone. */
  private async deleteStale(): Promise<void> {
    const list = await this.api.json<{ items?: PodJson[] }>('GET', `/api/v1/namespaces/${this.ns}/pods${query({ labelSelector: `${MANAGED_BY}=netpath` })}`, { signal: this.opts.signal });
    const now = Date.now();
    const stale = (list.items ?? []).filter((p) => {
      if (p.metadata.labels?.[RUN_ID] === this.runId) return false;
      const phase = p.status?.phase;
      const age = (now - Date.parse(p.metadata.creationTimestamp ?? '')) / 1000;
      return phase === 'Succeeded' || phase === 'Failed' || !(age < this.deadlineSeconds + 30) || p.metadata.deletionTimestamp !== undefined;
    });
    if (!stale.length) return;
    this.progress({ step: 'stale', message: `deleting ${stale.length} collector pod(s) left by earlier runs: ${stale.map((p) => p.metadata.name).join(', ')}` });
    await Promise.all(stale.map((p) => this.deletePod(p.metadata.name)));
  }

  podName(node: string): string {
    const base = `netpath-${this.runId}-${node.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`.replace(/-+$/, '');
    if (base.length <= 63) return base;
    const h = createHash('sha256').update(node).digest('hex').slice(0, 8);
    return `${base.slice(0, 54).replace(/-+$/, '')}-${h}`;
  }

  podSpec(node: string): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: this.podName(node),
        namespace: this.ns,
        labels: { [MANAGED_BY]: 'netpath', 'app.kubernetes.io/name': 'netpath-collector', [RUN_ID]: this.runId, [NODE_LABEL]: labelValue(node) },
        annotations: { 'netpath.dev/node-name': node },
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
        let dump: NodeNetworkStackDump;
        try {
          dump = convertCollectorOutput(raw);
        } catch (e) {
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
    this.created.add(name);
    try {
      try {
        await this.api.json('POST', base, { body: this.podSpec(node), signal });
      } catch (e) {
        if (e instanceof ClusterApiError) throw new CollectionError(`node ${node}: the API server refused collector pod ${this.ns}/${name} (HTTP ${e.status}): ${e.detail}`);
        throw e;
      }
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
      const log = await this.api.text('GET', `${base}/${name}/log${query({ container: 'collector' })}`, { signal, timeoutMs: 120_000 });
      return Buffer.from(log, 'utf8');
    } finally {
      await this.deletePod(name);
      this.created.delete(name);
    }
  }

  private async logTail(name: string): Promise<string> {
    const r = await this.api.send('GET', `/api/v1/namespaces/${this.ns}/pods/${name}/log${query({ container: 'collector', tailLines: 10 })}`, { timeoutMs: 10_000 }).catch(() => undefined);
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
    return `; events:\n${items.map((e) => `  ${e.type ?? ''} ${e.reason ?? ''}${e.count && e.count > 1 ? ` (x${e.count})` : ''}: ${e.message ?? ''}`).join('\n')}`;
  }

  /** Deletes at once (grace 0). Runs after cancellation too, so it takes no abort signal; keeps
   * trying for `cleanupMs` (an API server that is restarting), then leaves it to activeDeadlineSeconds. */
  private async deletePod(name: string): Promise<void> {
    this.progress({ step: 'delete', pod: name, message: `deleting collector pod ${this.ns}/${name}` });
    const path = `/api/v1/namespaces/${this.ns}/pods/${name}`;
    const until = Date.now() + (this.settings.cleanupMs ?? 30_000);
    let last = '';
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.api.send('DELETE', path, { body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 }, timeoutMs: 5_000 });
        if (r.status < 300 || r.status === 404) return;
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
    await Promise.all([...this.created].map((n) => this.deletePod(n)));
  }
}

interface PodJson {
  metadata: { name: string; labels?: Record<string, string>; creationTimestamp?: string; deletionTimestamp?: string };
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
