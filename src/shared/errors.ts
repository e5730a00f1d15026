// The failures netpath distinguishes, one class per meaning, from the engine to the UI. Each
// layer throws (or subclasses) these; the server encodes them onto JSON-RPC and the client decodes
// them back (both in src/shared/protocol.ts, which owns the wire codes), so every caller tells
// failures apart with `instanceof`, never by error codes or message text.
// Pure: no node:, vscode or JSON-RPC imports, so the engine, the cluster code, the CLI, the
// server's simulation worker and the extension all share these classes. (That is also why the
// codes live in protocol.ts: the cancellation code is the LSP package's constant, and importing
// that package here would pull it into the engine and the CLI.)

export type ErrorMeaning = 'badInput' | 'cancelled' | 'consentRequired' | 'clusterFailed' | 'internal';

/** Base of every netpath failure; `meaning` selects the wire form and how a UI reacts. */
export abstract class NetpathError extends Error {
  abstract readonly meaning: ErrorMeaning;
  /** Structured-clone-safe form (worker messages); `reviveError` makes the class again. */
  abstract plain(): PlainError;
}

/**
 * Which part of the user's input is wrong: the shape of a protocol request (`params`), what the
 * diagnosis request names (`request`: unknown pod, a service as source), or where the state comes
 * from (`source`: unreadable or invalid snapshot, kubeconfig, context, no permission at all).
 */
export type InputPart = 'params' | 'request' | 'source';

/** The user's input cannot work; the message says what and why. The CLI exits 2 with it. */
export class BadInputError extends NetpathError {
  override name = 'BadInputError';
  readonly meaning = 'badInput';
  constructor(message: string, readonly part: InputPart) {
    super(message);
  }
  plain(): PlainError {
    return { meaning: this.meaning, message: this.message, part: this.part };
  }
}

/** The run was cancelled (by the user, or because its AbortSignal fired). */
export class CancelledError extends NetpathError {
  override name = 'CancelledError';
  readonly meaning = 'cancelled';
  constructor(message = 'cancelled') {
    super(message);
  }
  plain(): PlainError {
    return { meaning: this.meaning, message: this.message };
  }
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

/**
 * A live run would create collector pods and the user has not agreed (no --yes, no consent
 * remembered for this API server + namespace + image): nothing was created. Ask (showing
 * `details`), then run again with consent.
 */
export class ConsentRequiredError extends NetpathError {
  override name = 'ConsentRequiredError';
  readonly meaning = 'consentRequired';
  constructor(message: string, readonly details: ConsentDetails) {
    super(message);
  }
  plain(): PlainError {
    return { meaning: this.meaning, message: this.message, details: this.details };
  }
}

/**
 * How a live cluster failed: not reachable (refused, DNS, TLS, timeout), `denied` (HTTP 401/403 on
 * a call netpath needs), any other `api` error status, or `collection` of a node's dump.
 */
export type ClusterFailure = 'unreachable' | 'denied' | 'api' | 'collection';

export interface ClusterFailureData {
  failure: ClusterFailure;
  /** The HTTP status, for `denied` and `api`. */
  status?: number;
}

/** The live cluster could not be reached, refused, or failed; the message names the server and call. */
export class ClusterFailedError extends NetpathError {
  override name = 'ClusterFailedError';
  readonly meaning = 'clusterFailed';
  constructor(message: string, readonly failure: ClusterFailure, readonly status?: number) {
    super(message);
  }
  plain(): PlainError {
    return { meaning: this.meaning, message: this.message, failure: this.failure, ...(this.status !== undefined ? { status: this.status } : {}) };
  }
}

/** A bug or an unexpected failure inside netpath (or of the connection to its server). */
export class InternalError extends NetpathError {
  override name = 'InternalError';
  readonly meaning = 'internal';
  plain(): PlainError {
    return { meaning: this.meaning, message: this.message };
  }
}

/** A NetpathError as plain data, e.g. to cross a worker boundary. */
export type PlainError =
  | { meaning: 'badInput'; message: string; part: InputPart }
  | { meaning: 'cancelled'; message: string }
  | { meaning: 'consentRequired'; message: string; details: ConsentDetails }
  | ({ meaning: 'clusterFailed'; message: string } & ClusterFailureData)
  | { meaning: 'internal'; message: string };

/** Any thrown value as a NetpathError: ours as they are, anything else as an InternalError with its message. */
export function asNetpathError(e: unknown): NetpathError {
  if (e instanceof NetpathError) return e;
  return new InternalError(e instanceof Error ? e.message : String(e));
}

export function reviveError(p: PlainError): NetpathError {
  switch (p.meaning) {
    case 'badInput':
      return new BadInputError(p.message, p.part);
    case 'cancelled':
      return new CancelledError(p.message);
    case 'consentRequired':
      return new ConsentRequiredError(p.message, p.details);
    case 'clusterFailed':
      return new ClusterFailedError(p.message, p.failure, p.status);
    case 'internal':
      return new InternalError(p.message);
  }
}
