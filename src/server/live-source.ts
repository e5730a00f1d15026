// A live cluster as a ClusterSource: objects through the paginated loader (pickers, cluster info),
// diagnoses and captures through src/cluster/live.ts. Every collector step (namespace, stale pods,
// create, wait, log, delete) is reported as work-done progress, and the request's cancellation
// token becomes an AbortSignal: live.ts deletes the collector pods before the cancelled request
// is answered. The live code (Kubernetes client) is loaded on first use: a worker that only reads
// snapshot files never initialises it.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeNeed } from '../cluster/access';
import type { LiveOptions, LiveSession } from '../cluster/live';
import { liveModule } from '../cluster/live-module';
import type { DiagnosisRequest, DiagnosisResult } from '../engine/model/result';
import type { NetpathSnapshot } from '../engine/snapshot/types';
import type { CaptureSnapshotResult, ClusterInfoResult, ClusterSpec, SettingOverrides } from '../shared/protocol';
import type { ClusterSource } from './source';
import { CancelledError } from '../shared/errors';
import type { RequestLimits } from '../shared/limits';
import type { Steps } from './steps';

export class LiveClusterSource implements ClusterSource {
  label: string;
  /** Where the last operation reached the cluster (set once connected). */
  cluster?: NonNullable<ClusterInfoResult['cluster']>;

  constructor(readonly spec: ClusterSpec, readonly limits: RequestLimits = {}) {
    this.label = liveLabel(spec.context ?? 'current context');
  }

  private options(steps: Steps, signal: AbortSignal, overrides?: SettingOverrides): LiveOptions {
    const c = this.spec.collector ?? {};
    const settings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(overrides ?? {})) if (v !== undefined) settings[k] = v;
    return {
      context: this.spec.context,
      kubeconfig: this.spec.kubeconfig,
      namespace: c.namespace,
      image: c.image,
      timeoutMs: c.timeoutSeconds ? Math.round(c.timeoutSeconds * 1000) : undefined,
      consent: this.spec.consent === true,
      limits: this.limits,
      signal,
      // note(), not step(): these callbacks also run while pods are deleted after a cancel.
      onProgress: (e) => steps.note(e.message),
      // VS Code's setting names (nodeUplink, podCIDRs) become the engine's in the run's Context.
      settings,
      settingsOrigin: 'vscode',
    };
  }

  private connected(session: LiveSession): void {
    this.label = liveLabel(session.config.context);
    this.cluster = {
      context: session.config.context,
      server: session.config.server,
      kubeconfig: session.config.source,
      missingPermissions: session.access.missing().map(describeNeed),
    };
  }

  /** The cluster's objects as a snapshot without dumps (no collector pod is created). */
  async load(steps: Steps): Promise<NetpathSnapshot> {
    steps.step(`Connecting to ${this.label}`);
    return withAbort(steps, async (signal) => {
      const session = await liveModule().openLive({ ...this.options(steps, signal), collect: false });
      this.connected(session);
      return liveModule().buildSnapshot(session.loaded.objects, {}, new Date().toISOString()).snapshot;
    });
  }

  /** A diagnosis that collects the nodes the path reaches (live.ts `diagnoseLive`). */
  async diagnose(request: DiagnosisRequest, overrides: SettingOverrides | undefined, steps: Steps): Promise<DiagnosisResult> {
    steps.step(`Connecting to ${this.label}`);
    return withAbort(steps, async (signal) => {
      const live = await liveModule().diagnoseLive(this.options(steps, signal, overrides), request);
      this.connected(live.session);
      return live.result;
    });
  }

  /** Objects and the dumps of `nodes` (default all), written to `output` (atomically: a partial file never appears). */
  async capture(nodes: string[] | undefined, output: string, steps: Steps): Promise<CaptureSnapshotResult> {
    steps.step(`Connecting to ${this.label}`);
    const r = await withAbort(steps, async (signal) => {
      const c = await liveModule().captureLive(this.options(steps, signal), nodes);
      this.connected(c.session);
      return c;
    });
    steps.step(`Writing ${output}`);
    await mkdir(dirname(output), { recursive: true });
    const tmp = `${output}.${process.pid}.tmp`;
    await writeFile(tmp, r.text);
    await rename(tmp, output);
    return {
      path: output,
      bytes: Buffer.byteLength(r.text),
      collected: r.collections.filter((c) => c.dump).map((c) => c.node).sort(),
      failed: r.collections.filter((c) => !c.dump).map((c) => ({ node: c.node, message: c.error?.message ?? 'not collected' })),
    };
  }
}

function liveLabel(context: string): string {
  return `${context} (live)`;
}

/** The request's cancellation as an AbortSignal for the cluster code; a run that ends because of it is `Cancelled`. */
async function withAbort<T>(steps: Steps, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  steps.checkCancelled();
  const ac = new AbortController();
  const sub = steps.token.onCancellationRequested(() => ac.abort());
  try {
    return await run(ac.signal);
  } catch (e) {
    if (ac.signal.aborted) throw new CancelledError();
    throw e;
  } finally {
    sub.dispose();
  }
}
