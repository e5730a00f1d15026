// What can go wrong talking to a live cluster, as distinct error types: the CLI maps bad input
// (kubeconfig, context, no permissions at all, no consent, an answer over a limit) and a cluster
// that cannot be reached to exit code 2, the rest to 1.

/** The user's input cannot work: no kubeconfig, unknown context, no permissions, no consent. */
export class ClusterInputError extends Error {
  override name = 'ClusterInputError';
}

/** What a first run would create in a cluster, for a consent prompt (see CollectorManager.consentDetails). */
export interface ConsentDetails {
  context?: string;
  server?: string;
  namespace: string;
  namespaceLabels: Record<string, string>;
  image: string;
  /** The image is pinned by digest (…@sha256:…): only then may a "yes" be remembered, because a
   * tag can be moved to other content after the user agreed. Always set by CollectorManager. */
  imagePinned?: boolean;
  /** One line: what each collector pod is. */
  pod: string;
  /** What the pods may do on a node, one item each. */
  privileges: string[];
  /** The verbs and resources the user needs for collection (RBAC). */
  permissions: string[];
  activeDeadlineSeconds: number;
}

/** A run would create collector pods and the user has not agreed (no --yes, no remembered
 * consent for this API server + namespace + image): nothing was created. */
export class ConsentRequiredError extends ClusterInputError {
  override name = 'ConsentRequiredError';
  constructor(message: string, readonly details: ConsentDetails) {
    super(message);
  }
}

/** An answer from the cluster is larger than a limit the user can raise: names the limit. */
export class ClusterLimitError extends ClusterInputError {
  override name = 'ClusterLimitError';
  constructor(message: string, readonly limit: string, readonly bytes: number) {
    super(message);
  }
}

/** The API server cannot be reached (refused, DNS, TLS, timeout). */
export class ClusterUnreachableError extends Error {
  override name = 'ClusterUnreachableError';
}

/** The API server answered with an error status. */
export class ClusterApiError extends Error {
  override name = 'ClusterApiError';
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    /** The `Status.message` of the answer, or its first bytes. */
    readonly detail: string,
  ) {
    super(`${method} ${path}: HTTP ${status}${detail ? `: ${detail}` : ''}`);
  }
}

/** Collecting a node's dump failed (timeout, pod failed, unreadable log); names the node and pod. */
export class CollectionError extends Error {
  override name = 'CollectionError';
}

/** The run was cancelled (AbortSignal). */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(message = 'cancelled') {
    super(message);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new CancelledError(`cancelled ${what}`);
}
