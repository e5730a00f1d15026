// Every failure as a JSON-RPC error with a message a user can act on: one mapping, used where the
// work ran (the worker) and on the main thread (parameter errors).
import { ResponseError } from 'vscode-languageserver/node';
import { CancelledError, ClusterApiError, ClusterInputError, ClusterUnreachableError, CollectionError, ConsentRequiredError } from '../cluster/errors';
import { RequestError } from '../engine/network';
import { SnapshotError } from '../engine/snapshot/load';
import { ErrorCodes } from '../shared/protocol';
import { SourceError } from './source';
import { Cancelled } from './steps';

export function asResponseError(method: string, e: unknown, log: (message: string) => void): ResponseError<unknown> {
  if (e instanceof ResponseError) return e;
  if (e instanceof Cancelled || e instanceof CancelledError) return new ResponseError(ErrorCodes.RequestCancelled, `${method} was cancelled`);
  if (e instanceof SourceError || e instanceof SnapshotError) return new ResponseError(ErrorCodes.BadSource, e.message);
  if (e instanceof RequestError) return new ResponseError(ErrorCodes.BadRequest, e.message);
  // Live clusters: the client asks the user and resends with consent; the data says what would be created.
  if (e instanceof ConsentRequiredError) return new ResponseError(ErrorCodes.ConsentRequired, e.message, e.details);
  if (e instanceof ClusterInputError) return new ResponseError(ErrorCodes.BadSource, e.message);
  if (e instanceof ClusterUnreachableError || e instanceof ClusterApiError || e instanceof CollectionError) return new ResponseError(ErrorCodes.ClusterFailed, e.message);
  const err = e instanceof Error ? e : new Error(String(e));
  log(`${method} failed: ${err.stack ?? err.message}`);
  return new ResponseError(-32603, `${method} failed inside netpath: ${err.message}`);
}
