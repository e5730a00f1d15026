// A scripted API server on loopback for the cluster code's unit tests: each request is recorded
// and answered by the first route whose method and path match; unmatched requests get 404.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface Seen {
  method: string;
  path: string;
  body: unknown;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: unknown) => void;

export class FakeApi {
  readonly seen: Seen[] = [];
  private readonly routes: { method: string; path: RegExp; handler: Handler }[] = [];
  private server?: Server;
  url = '';

  on(method: string, path: RegExp, handler: Handler): this {
    this.routes.push({ method, path, handler });
    return this;
  }

  json(method: string, path: RegExp, status: number, body: unknown, headers: Record<string, string> = {}): this {
    return this.on(method, path, (_q, res) => res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body)));
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const body = text ? JSON.parse(text) : undefined;
        this.seen.push({ method: req.method!, path: req.url!, body });
        const r = this.routes.find((x) => x.method === req.method && x.path.test(req.url!));
        if (r) r.handler(req, res, body);
        else res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', message: `${req.url} not found` }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** A kubeconfig whose context `fake` points here. */
  kubeconfig(server = this.url): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** The kubeconfig as a file's text (for the CLI). */
  kubeconfigText(server = this.url): string {
    return `apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: fake, context: {cluster: fake, user: u}}]\ncurrent-context: fake\n`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
