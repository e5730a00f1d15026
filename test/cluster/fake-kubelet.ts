// Plays the kubelet for netpath's collector pods against the lab's real kube-apiserver: watches
// for them, runs their command (the collector script) in the node's netns (`--host-pid` = a
// process there, `--pids` = its pods' processes), serves their logs over HTTPS where the
// apiserver's log proxy asks (node address + daemonEndpoints port), and sets the pod status.
// It can also ignore a node's pods (an image that never pulls), posting the kubelet's events, or
// serve a given log for a node's pods instead of running the script (a hostile collector).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { LabCluster } from '../lab/cluster';

export interface KubeletNode {
  hostPid: number;
  pids: number[];
}

export interface RanPod {
  pod: string;
  node: string;
  runId: string;
  log: Buffer;
}

const TS = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const MERGE = 'application/merge-patch+json';

export class FakeKubelet {
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private readonly seen = new Set<string>();
  private readonly logs = new Map<string, Buffer>();
  readonly ran: RanPod[] = [];
  /** Nodes whose pods are ignored (never started), with the pull error to report. */
  readonly ignore = new Set<string>();
  /** Nodes whose pods "print" this log instead of running the collector script. */
  readonly logFor = new Map<string, Buffer>();
  /** Called once per new collector pod (after start or ignore). */
  onPod?: (name: string, node: string) => void;
  port = 0;
  private busy = false;

  constructor(private readonly cluster: LabCluster, private readonly nodes: Map<string, KubeletNode>, private readonly namespace: string, private readonly dir: string) {}

  async start(): Promise<void> {
    const key = join(this.dir, 'kubelet.key');
    const crt = join(this.dir, 'kubelet.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    this.server = createServer({ key: readFileSync(key), cert: readFileSync(crt) }, (req, res) => {
      // /containerLogs/{namespace}/{pod}/{container}
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/?]+)/.exec(req.url ?? '');
      const log = m ? this.logs.get(`${m[1]}/${m[2]}`) : undefined;
      if (!log) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(log);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    for (const name of this.nodes.keys()) await this.advertise(name);
    this.timer = setInterval(() => void this.tick(), 150);
  }

  /** The apiserver dials the node's InternalDNS address (its --kubelet-preferred-address-types) for logs. */
  private async advertise(name: string): Promise<void> {
    const node = await this.cluster.req('GET', `/api/v1/nodes/${name}`);
    const addresses = ((node.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? []).filter((a) => a.type !== 'InternalDNS');
    await this.cluster.req('PATCH', `/api/v1/nodes/${name}/status`, { status: { addresses: [...addresses, { type: 'InternalDNS', address: 'localhost' }], daemonEndpoints: { kubeletEndpoint: { Port: this.port } } } }, MERGE);
  }

  /** Plays the kubelet of one more Node object (already created), in the netns of `k`. */
  async addNode(name: string, k: KubeletNode): Promise<void> {
    this.nodes.set(name, k);
    await this.advertise(name);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  reset(): void {
    this.ran.length = 0;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const pods = await this.cluster.list('v1', 'Pod', this.namespace, 'app.kubernetes.io/managed-by=netpath');
      for (const p of pods) {
        const uid = p.metadata!.uid!;
        if (this.seen.has(uid)) continue;
        this.seen.add(uid);
        void this.handle(p as unknown as PodJson).catch(() => { /* the pod was deleted under us */ });
      }
    } catch {
      /* apiserver restarting: try again next tick */
    } finally {
      this.busy = false;
    }
  }

  private async handle(p: PodJson): Promise<void> {
    const name = p.metadata.name;
    const node = p.spec.nodeName;
    const k = this.nodes.get(node);
    const statusPath = `/api/v1/namespaces/${this.namespace}/pods/${name}/status`;
    if (!k) return;
    if (this.ignore.has(node)) {
      const image = p.spec.containers[0].image;
      const message = `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
      await this.cluster.req('POST', `/api/v1/namespaces/${this.namespace}/events`, {
        apiVersion: 'v1', kind: 'Event', metadata: { name: `${name}.${Date.now()}`, namespace: this.namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: this.namespace, name, uid: p.metadata.uid },
        reason: 'Failed', message, type: 'Warning', source: { component: 'kubelet', host: node }, firstTimestamp: TS(), lastTimestamp: TS(), count: 1,
      });
      await this.cluster.req('PATCH', statusPath, { status: { phase: 'Pending', containerStatuses: [{ name: 'collector', ready: false, restartCount: 0, image, imageID: '', state: { waiting: { reason: 'ErrImagePull', message } } }] } }, MERGE);
      this.onPod?.(name, node);
      return;
    }
    const started = TS();
    const c = p.spec.containers[0];
    await this.cluster.req('PATCH', statusPath, { status: { phase: 'Running', startTime: started, containerStatuses: [{ name: c.name, ready: true, restartCount: 0, image: c.image, imageID: '', state: { running: { startedAt: started } } }] } }, MERGE);
    this.onPod?.(name, node);
    const argv = [...c.command.slice(1), '--host-pid', String(k.hostPid), '--pids', k.pids.join(',')];
    const given = this.logFor.get(node);
    const { code, out } = given ? { code: 0, out: given } : await new Promise<{ code: number; out: Buffer }>((resolve) => {
      const child = spawn(c.command[0], argv, { stdio: ['ignore', 'pipe', 'ignore'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => chunks.push(b));
      child.on('close', (code) => resolve({ code: code ?? 1, out: Buffer.concat(chunks) }));
    });
    this.logs.set(`${this.namespace}/${name}`, out);
    this.ran.push({ pod: name, node, runId: p.metadata.labels?.['netpath.dev/run-id'] ?? '', log: out });
    await this.cluster.req('PATCH', statusPath, { status: {
      phase: code === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [{ name: c.name, ready: false, restartCount: 0, image: c.image, imageID: '', state: { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: started, finishedAt: TS() } } }],
    } }, MERGE);
  }
}

interface PodJson {
  metadata: { name: string; uid: string; labels?: Record<string, string> };
  spec: { nodeName: string; containers: { name: string; image: string; command: string[] }[] };
}
