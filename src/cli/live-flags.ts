// The flags shared by the live-cluster commands (`diagnose --context`, `snapshot capture`) and
// the mapping of cluster errors onto the CLI's exit codes: bad input (kubeconfig, context, no
// permissions, no consent) → UsageError (2); unreachable server, API failures, cancellation → 1.
import { setMaxListeners } from 'node:events';
import { UsageError, type CliIO } from './command';
import { echoed } from '../shared/display';
import { BadInputError, CancelledError, ClusterFailedError, ConsentRequiredError } from '../shared/errors';
import type { LiveOptions } from '../cluster/live';

export const liveFlagOptions = {
  context: { type: 'string' },
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'collector-image': { type: 'string' },
  timeout: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
} as const;

export const liveFlagsUsage = `  --context NAME          kubeconfig context of the live cluster
  --kubeconfig FILE       kubeconfig file (default: KUBECONFIG, then ~/.kube/config)
  --namespace NS          namespace of the collector pods (default netpath-system)
  --collector-image IMG   collector pod image (default nicolaka/netshoot:v0.13)
  --timeout SECONDS       per collector pod, creation to log (default 120)
  --yes, -y               agree to create the namespace (Pod Security "privileged") and the
                          privileged collector pods, when netpath has not run in the cluster before`;

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
  // Input the user must fix (kubeconfig, context, permissions) or consent to give (--yes): usage.
  if (e instanceof BadInputError || e instanceof ConsentRequiredError) throw new UsageError(e.message);
  if (e instanceof ClusterFailedError || e instanceof CancelledError) {
    io.stderr(`netpath ${command}: ${e.message}\n`);
    return 1;
  }
  throw e;
}
