// The live-cluster test bed shared by the cluster end-to-end test and the server's live protocol
// test: a lab control plane of its own (etcd + kube-apiserver + kube-controller-manager on the
// ports given, through test/lab/k8s/start.sh with env overrides), the flannel host-gw lab topology
// in network namespaces with its objects in that apiserver, and the fake kubelet that runs
// netpath's collector pods for real. Each caller picks its own ports, directory and netns prefix,
// so two test files can run at the same time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeKubelet } from './fake-kubelet';
import type { LabCluster } from '../lab/cluster';
import type { Lab } from '../lab/lab';

export const REPO = join(__dirname, '..', '..');
export const K8S = process.env.NETPATH_K8S_DIR ?? join(homedir(), '.cache/netpath/k8s');
export const COLLECTOR_NS = 'netpath-system';

export interface LiveLabPorts {
  /** Control-plane directory (kubeconfigs, pids, pki), e.g. ~/.cache/netpath/cluster-test-cp. */
  cp: string;
  etcd: number;
  api: number;
  kcm: number;
  /** Network namespace / object prefix of the lab topology. */
  prefix: string;
}

/** The env start.sh/stop.sh and test/lab read. Must be in process.env before test/lab is imported. */
export function liveLabEnv(p: LiveLabPorts): Record<string, string> {
  return {
    NETPATH_LAB_CP: p.cp, NETPATH_ETCD_PORT: String(p.etcd), NETPATH_API_PORT: String(p.api), NETPATH_KCM_PORT: String(p.kcm),
    // the fake kubelet serves logs on localhost: the apiserver must prefer the InternalDNS address it adds
    NETPATH_APISERVER_ARGS: '--kubelet-preferred-address-types=InternalDNS,InternalIP,Hostname,ExternalIP',
  };
}

/** Why this machine cannot run the live lab, or undefined. */
export function missingPrereq(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const b of ['kube-apiserver', 'kube-controller-manager', 'kube-proxy']) if (!existsSync(join(K8S, 'bin', b))) return `${join(K8S, 'bin', b)} missing: run test/lab/k8s/build.sh`;
  for (const t of ['etcd', 'kubectl', 'openssl', 'ip']) {
    try { execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }); } catch { return `${t} missing: run test/lab/k8s/build.sh`; }
  }
  return undefined;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LiveLab {
  ports: LiveLabPorts;
  /** Admin kubeconfig (context `lab`); `kubeconfig-viewer` next to it is the read-only user. */
  kubeconfig: string;
  admin: LabCluster;
  lab: Lab;
  kubelet: FakeKubelet;
  /** A temp directory for the test's files (removed by stop). */
  dir: string;
  kubectl(...args: string[]): string;
  /** Names of the netpath collector pods that exist now (through the API). */
  collectorPods(): Promise<string[]>;
  /** Deletes the collector namespace (so the next run needs consent again) and waits until it is gone. */
  deleteCollectorNamespace(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts (or reuses) the control plane, brings the lab topology up with no collector namespace,
 * and starts the fake kubelet for its nodes. On failure, what was started is stopped again.
 */
export async function startLiveLab(ports: LiveLabPorts, log: (m: string) => void = () => undefined): Promise<LiveLab> {
  const env = liveLabEnv(ports);
  Object.assign(process.env, env);
  const kubeconfig = join(ports.cp, 'kubeconfig');
  const t0 = Date.now();
  execFileSync('bash', [join(REPO, 'test/lab/k8s/start.sh')], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  log(`control plane up in ${Date.now() - t0} ms (apiserver 127.0.0.1:${ports.api})`);
  const { Lab } = await import('../lab/lab');
  const { LabCluster } = await import('../lab/cluster');
  const { standardTopology } = await import('../lab/scenarios');
  const { FakeKubelet } = await import('./fake-kubelet');
  const admin = LabCluster.fromFile(kubeconfig);
  const dir = mkdtempSync(join(tmpdir(), `netpath-${ports.prefix}-`));
  const lab = new Lab(standardTopology('flannel-host-gw', ports.prefix), ports.prefix, admin);
  let kubelet: FakeKubelet | undefined;
  const kubectl = (...a: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const collectorPods = async () => (await admin.list('v1', 'Pod', COLLECTOR_NS, 'app.kubernetes.io/managed-by=netpath')).map((p) => p.metadata!.name!);
  const deleteCollectorNamespace = async () => {
    await admin.deleteObject('v1', 'Namespace', undefined, COLLECTOR_NS);
    for (let i = 0; (await admin.list('v1', 'Namespace')).some((n) => n.metadata!.name === COLLECTOR_NS); i++) {
      if (i > 150) throw new Error(`${COLLECTOR_NS} still terminating`);
      await sleep(200);
    }
  };
  const stop = async () => {
    await kubelet?.stop();
    await lab.down();
    execFileSync('bash', [join(REPO, 'test/lab/k8s/stop.sh')], { env: { ...process.env, ...env }, stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // a namespace left by an earlier, interrupted run would make the consent step moot
    await deleteCollectorNamespace();
    const tl = Date.now();
    await lab.up();
    log(`lab topology ${ports.prefix} (flannel host-gw, 2 nodes, 5 pods, 3 services) up in ${Date.now() - tl} ms`);
    const nodes = new Map<string, { hostPid: number; pids: number[] }>();
    for (const n of lab.topo.nodes) {
      nodes.set(n.name, {
        hostPid: lab.holders.get(n.netns)!,
        pids: lab.topo.pods.filter((p) => p.node === n.name && !p.hostNetwork).map((p) => lab.holders.get(p.netns)!),
      });
    }
    kubelet = new FakeKubelet(admin, nodes, COLLECTOR_NS, dir);
    await kubelet.start();
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  return { ports, kubeconfig, admin, lab, kubelet, dir, kubectl, collectorPods, deleteCollectorNamespace, stop };
}

/**
 * The snapshot the live run should equal: the same objects read by the lab's own client, and the
 * dumps the fake kubelet produced (its `ran` list), assembled as `netpath snapshot assemble` does.
 * Returns the snapshot text and the nodes collected.
 */
export async function baselineSnapshot(live: LiveLab): Promise<{ text: string; nodes: string[] }> {
  const { convertCollectorOutput } = await import('../../src/collector/convert');
  const { assembleSnapshot } = await import('../../src/engine/snapshot/assemble');
  const kinds: [string, string][] = [['v1', 'Node'], ['v1', 'Pod'], ['v1', 'Service'], ['v1', 'Namespace'], ['v1', 'Endpoints'], ['v1', 'ConfigMap'],
    ['discovery.k8s.io/v1beta1', 'EndpointSlice'], ['networking.k8s.io/v1', 'NetworkPolicy']];
  const items = [];
  for (const [v, k] of kinds) items.push(...(await live.admin.list(v, k)));
  const dumps = live.kubelet.ran.map((r) => ({ node: r.node, name: r.pod, text: JSON.stringify(convertCollectorOutput(r.log)) }));
  const snap = assembleSnapshot({ objects: [{ name: 'lab', text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) }], dumps });
  return { text: snap.text, nodes: dumps.map((d) => d.node).sort() };
}
