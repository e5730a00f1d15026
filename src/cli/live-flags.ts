// The flags shared by the live-cluster commands (`diagnose --context`, `snapshot capture`) and
// the mapping of cluster errors onto the CLI's exit codes: bad input (kubeconfig, context, no
// permissions, no consent, an answer over a limit, a cluster that cannot be reached) →
// UsageError (2); API failures, cancellation → 1.
import { setMaxListeners } from 'node:events';
import { UsageError, type CliIO } from './command';
import { ConsentFile, consentFilePath } from '../cluster/consent';
import { echoed } from '../shared/display';
import { BadInputError, CancelledError, ClusterFailedError, ConsentRequiredError } from '../shared/errors';
import { defaultLimits, formatBytes, limitFlags, parseByteSize, type ClusterLimits } from '../cluster/limits';
import { DEFAULT_COLLECTOR_IMAGE, DEFAULT_NAMESPACE } from '../cluster/collector-pods';
import type { LiveOptions } from '../cluster/live';
import { limitsFromFlags } from './limit-flags';

export const liveFlagOptions = {
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'collector-image': { type: 'string' },
  timeout: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'max-response-bytes': { type: 'string' },
  'max-dump-bytes': { type: 'string' },
} as const;

export const liveFlagsUsage = `  --context NAME          kubeconfig context of the live cluster
  --kubeconfig FILE       kubeconfig file (default: KUBECONFIG, then ~/.kube/config)
  --namespace NS          namespace of the collector pods (default ${DEFAULT_NAMESPACE})
  --collector-image IMG   collector pod image (default ${DEFAULT_COLLECTOR_IMAGE.replace('@', '\n                          @')})
  --timeout SECONDS       per collector pod, creation to log (default 120)
  --yes, -y               agree to create the namespace (Pod Security "privileged") and the
                          privileged collector pods. Needed whenever a run would create a pod,
                          unless you agreed before for this API server, namespace and image
                          (remembered in ${shortPath(consentFilePath())}, or NETPATH_CONSENT_FILE);
                          never remembered for an image not pinned by digest (IMAGE@sha256:…)
  ${limitFlags.maxResponseBytes} N  largest API server answer read (list page, pod log;
                          default ${formatBytes(defaultLimits.maxResponseBytes)}); N in bytes or with K, M, G
  ${limitFlags.maxDumpBytes} N      largest node dump after gunzip (default ${formatBytes(defaultLimits.maxDumpBytes)})`;

function shortPath(p: string): string {
  const home = process.env.HOME;
  return home && home !== '/' && p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p;
}

function byteLimit(values: Record<string, unknown>, key: keyof ClusterLimits): number | undefined {
  const flag = limitFlags[key];
  const v = values[flag.slice(2)];
  if (v === undefined) return undefined;
  const n = parseByteSize(String(v));
  if (n === undefined) throw new UsageError(`${flag} must be a positive size in bytes (e.g. 1048576, 512K, 64M, 1G), not "${v}"`);
  return n;
}

export function liveOptions(values: Record<string, unknown>, io: CliIO, signal: AbortSignal): LiveOptions {
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const t = String(values.timeout);
    if (!/^\d+(\.\d+)?$/.test(t) || Number(t) <= 0) throw new UsageError(`--timeout must be a positive number of seconds, not "${echoed(t)}"`);
    timeoutMs = Math.round(Number(t) * 1000);
  }
  const ns = values.namespace as string | undefined;
  if (ns !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) throw new UsageError(`--namespace "${echoed(ns)}" is not a valid namespace name`);
  return {
    context: values.context as string | undefined,
    kubeconfig: values.kubeconfig as string | undefined,
    namespace: ns,
    image: values['collector-image'] as string | undefined,
    timeoutMs,
    consent: values.yes === true,
    consentRecords: new ConsentFile(),
    limits: { ...limitsFromFlags(values), maxResponseBytes: byteLimit(values, 'maxResponseBytes'), maxDumpBytes: byteLimit(values, 'maxDumpBytes') },
    signal,
    onProgress: (e) => io.stderr(`netpath: ${e.message}\n`),
  };
}

/** Runs a live operation with Ctrl-C/SIGTERM wired to cancellation (so collector pods are deleted). */
export async function withCancellation<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // one listener per in-flight request
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await run(ac.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Cluster errors → exit code (with the message on stderr), or rethrown when not ours. */
export function liveFailure(e: unknown, io: CliIO, command: string): number {
  // Input the user must fix (kubeconfig, context, permissions, a limit) or consent to give (--yes),
  // and a cluster that cannot be reached (context, network): usage, not netpath failing.
  if (e instanceof BadInputError || e instanceof ConsentRequiredError) throw new UsageError(e.message);
  if (e instanceof ClusterFailedError && e.failure === 'unreachable') throw new UsageError(e.message);
  if (e instanceof ClusterFailedError || e instanceof CancelledError) {
    io.stderr(`netpath ${command}: ${e.message}\n`);
    return 1;
  }
  throw e;
}
