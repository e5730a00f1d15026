// What can go wrong talking to a live cluster, as subclasses of the shared failure meanings
// (src/shared/errors.ts): input the user must fix (kubeconfig, context, no permissions at all) is
// bad input of the source, the cluster failing or refusing is ClusterFailedError; consent and
// cancellation are the shared classes themselves.
import { BadInputError, ClusterFailedError } from '../shared/errors';

export { CancelledError, ConsentRequiredError, type ConsentDetails } from '../shared/errors';

/** The user's input cannot work: no kubeconfig, unknown context or node, no permissions. */
export class ClusterInputError extends BadInputError {
  override name = 'ClusterInputError';
  constructor(message: string) {
    super(message, 'source');
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
export class ClusterUnreachableError extends ClusterFailedError {
  override name = 'ClusterUnreachableError';
  constructor(message: string) {
    super(message, 'unreachable');
  }
}

/** The API server answered with an error status (401/403: denied). */
export class ClusterApiError extends ClusterFailedError {
  override name = 'ClusterApiError';
  constructor(
    override readonly status: number,
    readonly method: string,
    readonly path: string,
    /** The `Status.message` of the answer, or its first bytes. */
    readonly detail: string,
  ) {
    super(`${method} ${path}: HTTP ${status}${detail ? `: ${detail}` : ''}`, status === 401 || status === 403 ? 'denied' : 'api', status);
  }
}

/** Collecting a node's dump failed (timeout, pod failed, unreadable log); names the node and pod. */
export class CollectionError extends ClusterFailedError {
  override name = 'CollectionError';
  constructor(message: string) {
    super(message, 'collection');
  }
}
