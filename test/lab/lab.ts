// One running lab: a topology in network namespaces, its objects in the real apiserver, the real
// kube-proxy in every node netns (or, for proxyMode nftables, the table its nftables mode writes),
// the policy agent, probe servers in the pods, and real probes.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inNs, ProcessSet, run } from './exec';
import { LabCluster } from './cluster';
import { syncNodePolicies, type NetworkPolicy } from './policy-agent';
import { programNftProxies } from './nft-proxy';
import { INTERNET_IP, OUTSIDE_IP, podKey, Topology, type Protocol, type TopologySpec } from './topology';

const HERE = dirname(fileURLToPath(import.meta.url));
export const AGENT = join(HERE, 'agent', 'probe-agent.cjs');
export const K8S_DIR = process.env.NETPATH_K8S_DIR ?? join(homedir(), '.cache/netpath/k8s');
export const LAB_CP = process.env.NETPATH_LAB_CP ?? join(homedir(), '.cache/netpath/lab-cp');
export const API_PORT = Number(process.env.NETPATH_API_PORT ?? 16543);
export const REPO = join(HERE, '..', '..');

export type Outcome = 'reachable' | 'refused' | 'timeout' | 'unreachable';
export type PathType = 'pod-pod-same-node' | 'pod-pod-cross-node' | 'pod-clusterip' | 'pod-nodeport' | 'node-pod'
  | 'pod-own-node' | 'pod-external' | 'pod-hostnetwork' | 'hostnetwork-pod' | 'external-pod' | 'external-nodeport';

export interface ProbeSpec {
  id: string;
  path: PathType;
  /** `ns/pod`, `node/NAME`, or OUTSIDE_IP (the outside host of a topology with `outsideHost`) */
  src: string;
  /** what netpath calls the destination: `ns/pod`, `svc/ns/name`, `node/NAME` or an IP */
  dst: string;
  /** the address the client connects to */
  address: string;
  port: number;
  protocol: Protocol;
  size?: number;
  timeoutMs?: number;
  /** the address family netpath is asked for (dual-stack probes by name); recorded in truth.json */
  family?: 4 | 6;
}

export interface ProbeResult { outcome: Outcome; errno?: string; reply?: string; ms: number }

export class Lab {
  readonly topo: Topology;
  readonly procs = new ProcessSet();
  /** netns name -> PID of a process living in it (for `netpath collect`) */
  readonly holders = new Map<string, number>();
  private readonly servers = new Map<string, import('node:child_process').ChildProcess>();
  private relaySock: string;

  constructor(spec: TopologySpec, readonly prefix: string, readonly cluster: LabCluster, readonly log: (s: string) => void = () => {}) {
    this.topo = new Topology(spec, prefix);
    this.relaySock = join(LAB_CP, `relay-${prefix}.sock`);
  }

  async up(): Promise<void> {
    const t0 = Date.now();
    await this.cluster.clear();
    this.topo.build();
    for (const ns of this.topo.allNetns()) {
      const p = await this.procs.start('ip', ['netns', 'exec', ns, 'sleep', '86400']);
      this.holders.set(ns, p.pid!);
    }
    await this.cluster.apply(this.topo);
    for (const p of this.topo.pods) for (const l of p.listen ?? []) await this.startServer(podKey(p), l.port, l.protocol);
    await this.startServerIn(this.topo.internetNs, 'internet', 80, 'TCP');
    if (this.topo.spec.ipv6) await this.startServerIn(this.topo.internetNs, 'internet', 80, 'TCP', `${this.topo.internetNs}:80/TCP/6`, '::');
    await this.cluster.waitEndpoints(this.topo);
    await this.startKubeProxies();
    await this.syncPolicies();
    this.log(`lab ${this.topo.spec.name} up in ${Date.now() - t0} ms`);
  }

  async down(): Promise<void> {
    await this.procs.stopAll();
    this.topo.teardown();
    run('rm', ['-f', this.relaySock]);
    try { await this.cluster.clear(); } catch (e) { this.log(`clear: ${(e as Error).message}`); }
  }

  // ---- servers ----
  private serverKey(pod: string, port: number, proto: Protocol, family: 4 | 6 = 4): string { return `${pod}:${port}/${proto}${family === 6 ? '/6' : ''}`; }

  /** a pod's server; in a dual-stack topology a second, IPv6-only socket for the IPv6 address */
  async startServer(pod: string, port: number, proto: Protocol): Promise<void> {
    const p = this.topo.pod(pod);
    await this.startServerIn(p.netns, p.name, port, proto, this.serverKey(podKey(p), port, proto));
    if (p.ip6) await this.startServerIn(p.netns, p.name, port, proto, this.serverKey(podKey(p), port, proto, 6), '::');
  }
  private async startServerIn(ns: string, name: string, port: number, proto: Protocol, key = `${ns}:${port}/${proto}`, host?: string): Promise<void> {
    const c = await this.procs.start('ip', ['netns', 'exec', ns, process.execPath, AGENT, 'serve', name, proto.toLowerCase(), String(port), ...(host ? [host] : [])], { readyLine: 'ready' });
    this.servers.set(key, c);
  }
  async stopServer(pod: string, port: number, proto: Protocol): Promise<void> {
    const p = this.topo.pod(pod);
    for (const key of [this.serverKey(podKey(p), port, proto), ...(p.ip6 ? [this.serverKey(podKey(p), port, proto, 6)] : [])]) {
      const c = this.servers.get(key);
      if (!c) throw new Error(`no server ${key}`);
      await this.procs.stop(c);
      this.servers.delete(key);
    }
  }

  // ---- kube-proxy ----
  private async startKubeProxies(): Promise<void> {
    if (this.topo.spec.proxyMode === 'nftables') return programNftProxies(this.cluster, this.topo);
    const kp = join(K8S_DIR, 'bin', 'kube-proxy');
    if (!existsSync(kp)) throw new Error(`missing ${kp}: run test/lab/k8s/build.sh`);
    run('rm', ['-f', this.relaySock]);
    // the apiserver listens on the host's loopback; each node netns reaches it through a unix socket
    await this.procs.start('socat', [`UNIX-LISTEN:${this.relaySock},fork`, `TCP:127.0.0.1:${API_PORT}`]);
    for (let i = 0; i < 50 && !existsSync(this.relaySock); i++) await sleep(20);
    for (const n of this.topo.nodes) {
      await this.procs.start('ip', ['netns', 'exec', n.netns, 'socat', `TCP-LISTEN:${API_PORT},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${this.relaySock}`]);
    }
    await this.startKubeProxyProcesses();
  }

  private readonly kubeProxies: import('node:child_process').ChildProcess[] = [];
  private async startKubeProxyProcesses(): Promise<void> {
    const kp = join(K8S_DIR, 'bin', 'kube-proxy');
    // dual-stack: kube-proxy 1.20 runs its dual-stack proxier (iptables and ip6tables) behind the gate
    const { ipv6 } = this.topo.spec;
    const dual = ipv6 ? ` --feature-gates=IPv6DualStack=true --cluster-cidr=${this.topo.spec.clusterCIDR},${ipv6.clusterCIDR}` : ` --cluster-cidr=${this.topo.spec.clusterCIDR}`;
    for (const n of this.topo.nodes) {
      const logFile = join(LAB_CP, `kube-proxy-${this.prefix}-${n.name}.log`);
      // a long sync period: hand-made damage (a fault) stays until the lab restarts kube-proxy
      this.kubeProxies.push(await this.procs.start('sh', ['-c', `exec ip netns exec ${n.netns} ${kp} --kubeconfig=${join(LAB_CP, 'kubeconfig')} --hostname-override=${n.name} `
        + `--proxy-mode=iptables${dual} --conntrack-max-per-core=0 --iptables-sync-period=1h `
        + `--metrics-bind-address=127.0.0.1:10249 --healthz-bind-address=127.0.0.1:10256 --v=1 >>${logFile} 2>&1`]));
    }
    await this.waitProxySynced();
  }

  /** restart every kube-proxy; its first full sync rewrites all KUBE-* chains */
  async restartKubeProxies(): Promise<void> {
    if (this.topo.spec.proxyMode === 'nftables') return programNftProxies(this.cluster, this.topo);
    for (const p of this.kubeProxies.splice(0)) await this.procs.stop(p);
    await this.startKubeProxyProcesses();
  }

  /** every node's iptables mention every service port (rules or "has no endpoints") */
  async waitProxySynced(timeoutMs = 20_000): Promise<void> {
    const t0 = Date.now();
    const want = this.topo.spec.services.flatMap((s) => s.ports.map((p) => `${s.namespace ?? 'default'}/${s.name}:${p.name}`));
    const want6 = this.topo.spec.services.filter((s) => s.clusterIP6).flatMap((s) => s.ports.map((p) => `${s.namespace ?? 'default'}/${s.name}:${p.name}`));
    for (;;) {
      const missing = this.topo.nodes.flatMap((n) => {
        const saved = inNs(n.netns, 'iptables-save', [], { allowFail: true });
        const saved6 = want6.length ? inNs(n.netns, 'ip6tables-save', [], { allowFail: true }) : '';
        return [...want.filter((w) => !saved.includes(`"${w} `)).map((w) => `${n.name}:${w}`),
          ...want6.filter((w) => !saved6.includes(`"${w} `)).map((w) => `${n.name}:${w} (IPv6)`)];
      });
      if (!missing.length) return;
      if (Date.now() - t0 > timeoutMs) throw new Error(`kube-proxy did not program ${missing.join(', ')} within ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  /** wait until `pred(iptables-save of node)` holds (kube-proxy reacting to an API change) */
  async waitIptables(node: string, pred: (saved: string) => boolean, what: string, timeoutMs = 15_000, save = 'iptables-save'): Promise<void> {
    const t0 = Date.now();
    const ns = this.topo.node(node).netns;
    while (!pred(inNs(ns, save, []))) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`${node}: ${what} not seen in iptables within ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  // ---- policies ----
  async syncPolicies(): Promise<void> {
    const pols = (await this.cluster.list('networking.k8s.io/v1', 'NetworkPolicy')) as unknown as NetworkPolicy[];
    const nss = await this.cluster.list('v1', 'Namespace');
    const nsLabels = (ns: string) => (nss.find((n) => n.metadata?.name === ns)?.metadata?.labels ?? {}) as Record<string, string>;
    for (const n of this.topo.nodes) syncNodePolicies(this.topo, n.name, pols, nsLabels);
  }

  // ---- probes ----
  srcNetns(src: string): string {
    if (src.startsWith('node/')) return this.topo.node(src.slice(5)).netns;
    if (src === OUTSIDE_IP && this.topo.spec.outsideHost) return this.topo.outsideNs;
    return this.topo.pod(src).netns;
  }

  probe(p: ProbeSpec): Promise<ProbeResult> {
    const ns = this.srcNetns(p.src);
    const args = ['netns', 'exec', ns, process.execPath, AGENT, 'probe', p.protocol.toLowerCase(), p.address, String(p.port), String(p.timeoutMs ?? 1500)];
    if (p.size) args.push(String(p.size));
    return new Promise((resolve, reject) => {
      execFile('ip', args, { timeout: (p.timeoutMs ?? 1500) + 5000 }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`probe ${p.id} failed to run: ${stderr || err.message}`));
        try { resolve(JSON.parse(stdout.trim().split('\n').pop()!)); } catch { reject(new Error(`probe ${p.id}: bad output ${stdout}`)); }
      });
    });
  }

  // ---- dumps ----
  /** `netpath collect` per node (host = node netns, pods = the pod netns on it), via the built CLI */
  collect(outDir: string): Record<string, string> {
    const cli = join(REPO, 'dist', 'cli.js');
    const files: Record<string, string> = {};
    mkdirSync(outDir, { recursive: true });
    for (const n of this.topo.nodes) {
      const podPids = this.topo.pods.filter((p) => p.node === n.name && !p.hostNetwork).map((p) => this.holders.get(p.netns)!);
      const out = join(outDir, `${n.name}.json`);
      run(process.execPath, [cli, 'collect', '--host-pid', String(this.holders.get(n.netns)), '--pids', podPids.join(','), '-o', out], { timeoutMs: 120_000 });
      files[n.name] = out;
    }
    return files;
  }

  writeFile(path: string, content: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

export function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

export { INTERNET_IP };
