// A small raw JSON client over the kubeconfig's TLS and auth. Raw JSON on purpose: the typed
// models of @kubernetes/client-node rename or drop fields (NetworkPolicy `from` became `_from`),
// and the engine must see objects exactly as the API serves them.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { CancelledError, ClusterApiError, ClusterLimitError, ClusterUnreachableError } from './errors';
import { defaultLimits, formatBytes, limitFlags, limitNamed, limitSettings } from './limits';

export interface RequestOpts {
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  body: string;
  /** The API server's clock when it answered (its Date header), ms since the epoch; undefined without one. */
  serverTime?: number;
}

export class ApiClient {
  readonly server: URL;

  /** No answer is read past this many bytes (ClusterLimitError naming --max-response-bytes). */
  readonly maxResponseBytes: number;

  constructor(readonly kc: KubeConfig, limits: { maxResponseBytes?: number } = {}) {
    this.server = new URL(kc.getCurrentCluster()!.server);
    this.maxResponseBytes = limits.maxResponseBytes ?? defaultLimits.maxResponseBytes;
  }

  /** The raw body of a 2xx answer; ClusterApiError otherwise. */
  async text(method: string, path: string, o: RequestOpts = {}): Promise<string> {
    const { status, body } = await this.send(method, path, o);
    if (status < 200 || status >= 300) throw new ClusterApiError(status, method, path, statusMessage(body));
    return body;
  }

  async json<T = Record<string, unknown>>(method: string, path: string, o: RequestOpts = {}): Promise<T> {
    const text = await this.text(method, path, o);
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw new ClusterApiError(200, method, path, `the answer is not JSON (${text.slice(0, 80)})`);
    }
  }

  /** One request; resolves any HTTP status, rejects only when there is no (whole) answer or it is over the byte cap. */
  async send(method: string, path: string, o: RequestOpts = {}): Promise<ApiResponse> {
    if (o.signal?.aborted) throw new CancelledError(`cancelled before ${method} ${path}`);
    const secure = this.server.protocol === 'https:';
    const opts: RequestOptions = {
      method,
      hostname: this.server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.server.port || (secure ? 443 : 80),
      path: (this.server.pathname.replace(/\/$/, '') || '') + path,
      headers: { Accept: 'application/json', 'User-Agent': 'netpath' },
    };
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (e) {
      throw new ClusterUnreachableError(`cannot authenticate to ${this.server.origin}: ${(e as Error).message}`);
    }
    const data = o.body === undefined ? undefined : JSON.stringify(o.body);
    if (data !== undefined) Object.assign(opts.headers!, { 'Content-Type': o.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(data) });
    const timeoutMs = o.timeoutMs ?? 30_000;
    const max = this.maxResponseBytes;
    const tooLarge = (bytes: number) =>
      new ClusterLimitError(`${method} ${path}: the answer from ${this.server.origin} is larger than ${limitNamed('maxResponseBytes', max)}; nothing more was read`, 'maxResponseBytes', bytes);
    return new Promise((resolve, reject) => {
      // Settles once: a capped answer is destroyed, and its 'error'/'end' must not settle it again.
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        o.signal?.removeEventListener('abort', onAbort);
        f();
      };
      const onAbort = () => req.destroy(new CancelledError(`cancelled during ${method} ${path}`));
      const req = (secure ? httpsRequest : httpRequest)(opts, (res: IncomingMessage) => {
        const declared = Number(res.headers['content-length']);
        if (declared > max) {
          settle(() => reject(tooLarge(declared)));
          req.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= max) return void chunks.push(c);
          settle(() => reject(tooLarge(size)));
          req.destroy();
        });
        res.on('end', () => settle(() => {
          const date = Date.parse(res.headers.date ?? '');
          let body: string;
          try {
            body = Buffer.concat(chunks).toString('utf8');
          } catch (e) {
            // Above V8's longest string (~512 MiB), possible only with a raised limit.
            return reject(new ClusterLimitError(`${method} ${path}: the answer (${formatBytes(size)}) is too large to read (${(e as Error).message}); lower the limit maxResponseBytes (${limitFlags.maxResponseBytes}, in VS Code the setting ${limitSettings.maxResponseBytes})`, 'maxResponseBytes', size));
          }
          resolve({ status: res.statusCode ?? 0, body, serverTime: Number.isNaN(date) ? undefined : date });
        }));
        res.on('error', (e) => settle(() => reject(e instanceof CancelledError ? e : new ClusterUnreachableError(`${method} ${path}: the answer from ${this.server.origin} broke off: ${e.message}`))));
      });
      o.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e: NodeJS.ErrnoException) => settle(() => {
        if (e instanceof CancelledError) return reject(e);
        const code = e.code ? ` (${e.code})` : '';
        reject(new ClusterUnreachableError(`cannot reach the API server ${this.server.origin}${code}: ${e.message}`));
      }));
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms to ${method} ${path}`), { code: 'ETIMEDOUT' })));
      if (data !== undefined) req.write(data);
      req.end();
    });
  }
}

function statusMessage(body: string): string {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: string };
    if (s.kind === 'Status' && s.message) return s.message;
  } catch {
    /* not a Status object */
  }
  return body.slice(0, 200).trim();
}

/** `a=b,c=d` label selectors and other query values, encoded. */
export function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
