// The lab's side of the real kube-apiserver: creates the topology's objects through the API (playing
// the kubelet for status: pod IPs, Ready, node addresses), changes them for faults, reads everything
// back for the case directories, and removes it again. Uses @kubernetes/client-node 1.x.
import * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { podKey, type Topology } from './topology';

export const LAB_LABEL = 'netpath.dev/lab';
const MERGE = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const TS = '2026-01-01T00:00:00Z';

type Obj = k8s.KubernetesObject & Record<string, unknown>;

export class LabCluster {
  readonly core: k8s.CoreV1Api;
  readonly obj: k8s.KubernetesObjectApi;

  constructor(readonly kc: k8s.KubeConfig) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.obj = k8s.KubernetesObjectApi.makeApiClient(kc);
  }

  static fromFile(path: string): LabCluster {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(path);
    return new LabCluster(kc);
  }

  private async create(o: Obj): Promise<void> {
    try { await this.obj.create(o); } catch (e) {
      if ((e as { code?: number }).code === 409) { await this.obj.replace(await this.withVersion(o)); return; }
      throw new Error(`create ${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}: ${describe(e)}`);
    }
  }
  private async withVersion(o: Obj): Promise<Obj> {
    const cur = await this.obj.read({ apiVersion: o.apiVersion!, kind: o.kind!, metadata: { name: o.metadata!.name!, namespace: o.metadata!.namespace } });
    return { ...o, metadata: { ...o.metadata, resourceVersion: cur.metadata!.resourceVersion } };
  }

  /** Create namespaces, nodes, pods, services, policies and detection hints for a topology. */
  async apply(t: Topology): Promise<void> {
    const lab = { [LAB_LABEL]: t.spec.name };
    const { plugin } = t.spec;
    const namespaces = new Set(['kube-system', ...t.pods.map((p) => p.namespace), ...t.spec.services.map((s) => s.namespace ?? 'default')]);
    if (plugin.startsWith('flannel')) namespaces.add('kube-flannel');
    for (const ns of namespaces) {
      if (ns === 'default' || ns === 'kube-system') continue;
      await this.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...lab, 'kubernetes.io/metadata.name': ns } } });
    }
    // what a cluster's detection reads: the CNI's and kube-proxy's configuration
    await this.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: lab },
      data: { 'config.conf': `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nclusterCIDR: ${t.spec.clusterCIDR}\n` } });
    if (plugin.startsWith('flannel')) {
      const backend = plugin === 'flannel-vxlan' ? { Type: 'vxlan', VNI: 1, Port: 8472 } : { Type: 'host-gw' };
      await this.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel', labels: { ...lab, app: 'flannel' } },
        data: { 'net-conf.json': JSON.stringify({ Network: t.spec.clusterCIDR, Backend: backend }, null, 2) } });
    } else if (plugin.startsWith('calico')) {
      await this.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'calico-config', namespace: 'kube-system', labels: lab },
        data: { calico_backend: plugin === 'calico-vxlan' ? 'vxlan' : 'bird', veth_mtu: plugin === 'calico-vxlan' ? '1450' : '1500' } });
    }
    for (const n of t.nodes) {
      const annotations: Record<string, string> = {};
      if (plugin.startsWith('flannel')) {
        annotations['flannel.alpha.coreos.com/backend-type'] = plugin === 'flannel-vxlan' ? 'vxlan' : 'host-gw';
        annotations['flannel.alpha.coreos.com/public-ip'] = n.ip;
        annotations['flannel.alpha.coreos.com/kube-subnet-manager'] = 'true';
        if (n.tunnelMAC) annotations['flannel.alpha.coreos.com/backend-data'] = JSON.stringify({ VNI: 1, VtepMAC: n.tunnelMAC });
      } else if (plugin.startsWith('calico')) {
        annotations['projectcalico.org/IPv4Address'] = `${n.ip}/24`;
        if (n.tunnelIP) annotations['projectcalico.org/IPv4VXLANTunnelAddr'] = n.tunnelIP;
      }
      await this.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: { ...lab, 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' }, annotations },
        spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] } });
      await this.core.patchNodeStatus({ name: n.name, body: { status: {
        addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }],
        conditions: [
          { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'lab', lastHeartbeatTime: TS, lastTransitionTime: TS },
          { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', message: 'lab', lastHeartbeatTime: TS, lastTransitionTime: TS },
        ],
      } } }, MERGE);
    }
    for (const p of t.pods) {
      await this.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: { ...lab, ...p.labels } },
        spec: {
          nodeName: p.node, hostNetwork: p.hostNetwork || undefined, terminationGracePeriodSeconds: 0,
          containers: [{ name: 'agent', image: 'netpath-lab/probe-agent',
            ports: (p.listen ?? []).map((l) => ({ containerPort: l.port, protocol: l.protocol, name: l.name })) }],
        } });
      await this.setPodReady(p.namespace, p.name, true, t);
    }
    for (const s of t.spec.services) {
      await this.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: s.name, namespace: s.namespace ?? 'default', labels: lab },
        spec: { type: s.type ?? 'ClusterIP', clusterIP: s.clusterIP, selector: s.selector,
          ports: s.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol, nodePort: p.nodePort })) } });
    }
    for (const pol of t.spec.policies) await this.create({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...(pol as object) } as Obj);
  }

  /** The kubelet's part: pod phase, IPs and the Ready condition. */
  async setPodReady(namespace: string, name: string, ready: boolean, t: Topology): Promise<void> {
    const p = t.pod(`${namespace}/${name}`);
    const node = t.node(p.node);
    const st = ready ? 'True' : 'False';
    await this.core.patchNamespacedPodStatus({ namespace, name, body: { status: {
      phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], hostIP: node.ip, startTime: TS,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type, status: type === 'Ready' || type === 'ContainersReady' ? st : 'True', lastTransitionTime: TS })),
      containerStatuses: [{ name: 'agent', ready, restartCount: 0, image: 'netpath-lab/probe-agent', imageID: '', state: { running: { startedAt: TS } } }],
    } } }, MERGE);
  }

  async patch(apiVersion: string, kind: string, namespace: string | undefined, name: string, body: object): Promise<void> {
    await this.obj.patch({ apiVersion, kind, metadata: { name, namespace }, ...body } as Obj, undefined, undefined, undefined, undefined, k8s.PatchStrategy.MergePatch);
  }

  async createObject(o: Obj): Promise<void> { await this.create(o); }

  async deleteObject(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<void> {
    try { await this.obj.delete({ apiVersion, kind, metadata: { name, namespace } }, undefined, undefined, 0); } catch (e) {
      if ((e as { code?: number }).code !== 404) throw new Error(`delete ${kind} ${namespace ?? ''}/${name}: ${describe(e)}`);
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<Obj[]> {
    const r = await this.obj.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
    return (r.items as Obj[]).map((i) => ({ apiVersion, kind, ...i }));
  }

  /** Wait until every service with a selector has as many ready EndpointSlice addresses as ready pods. */
  async waitEndpoints(t: Topology, timeoutMs = 20_000): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const slices = await this.list('discovery.k8s.io/v1beta1', 'EndpointSlice');
      const pending = t.spec.services.filter((s) => {
        const want = t.pods.filter((p) => p.namespace === (s.namespace ?? 'default') && Object.entries(s.selector).every(([k, v]) => p.labels?.[k] === v)).length;
        const have = slices.filter((sl) => (sl.metadata?.labels ?? {})['kubernetes.io/service-name'] === s.name && sl.metadata?.namespace === (s.namespace ?? 'default'))
          .flatMap((sl) => (sl.endpoints as { conditions?: { ready?: boolean } }[] | undefined) ?? []).filter((e) => e.conditions?.ready !== false).length;
        return have !== want;
      });
      if (!pending.length) return;
      if (Date.now() - t0 > timeoutMs) throw new Error(`endpoints not ready after ${timeoutMs} ms for ${pending.map((s) => s.name).join(', ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Everything netpath reads, as the apiserver returns it, as a multi-document YAML. */
  async readBack(t: Topology): Promise<string> {
    const kinds: [string, string, string?][] = [
      ['v1', 'Namespace'], ['v1', 'Node'], ['v1', 'Pod'], ['v1', 'Service'], ['v1', 'Endpoints'],
      ['discovery.k8s.io/v1beta1', 'EndpointSlice'], ['networking.k8s.io/v1', 'NetworkPolicy'], ['v1', 'ConfigMap', LAB_LABEL],
    ];
    const docs: Obj[] = [];
    for (const [v, k, sel] of kinds) {
      const items = await this.list(v, k, undefined, sel);
      for (const i of items) {
        const md = i.metadata as k8s.V1ObjectMeta;
        // drop server bookkeeping that differs on every run and means nothing to a diagnosis
        delete md.managedFields; delete md.uid; delete md.resourceVersion; delete md.creationTimestamp; delete (md as { selfLink?: string }).selfLink;
        if (k === 'Endpoints' && md.annotations) delete md.annotations['endpoints.kubernetes.io/last-change-trigger-time'];
        if (k === 'EndpointSlice' && md.annotations) delete md.annotations['endpoints.kubernetes.io/last-change-trigger-time'];
        if (k === 'Namespace' && !['default', 'kube-system'].includes(md.name!) && !md.labels?.[LAB_LABEL]) continue;
        if (k === 'Service' && md.namespace === 'default' && md.name === 'kubernetes') { /* keep: it is in every cluster */ }
        docs.push(i);
      }
    }
    void t;
    docs.sort((a, b) => key(a).localeCompare(key(b)));
    return docs.map((d) => stringify(d, { sortMapEntries: true })).join('---\n');
  }

  /** Remove everything a topology created (pods forcibly: there is no kubelet to confirm). */
  async clear(): Promise<void> {
    const sel = LAB_LABEL;
    for (const [v, k] of [['networking.k8s.io/v1', 'NetworkPolicy'], ['v1', 'Service'], ['v1', 'Pod'], ['v1', 'ConfigMap'], ['v1', 'Node']] as const) {
      for (const o of await this.list(v, k, undefined, sel)) await this.deleteObject(v, k, o.metadata!.namespace, o.metadata!.name!);
    }
    // leftover slices/endpoints of deleted services are garbage-collected by kube-controller-manager
    for (const o of await this.list('v1', 'Namespace', undefined, sel)) await this.deleteObject('v1', 'Namespace', undefined, o.metadata!.name!);
  }
}

function key(o: Obj): string { return `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`; }

export function describe(e: unknown): string {
  const x = e as { code?: number; body?: unknown; message?: string };
  const body = typeof x.body === 'string' ? x.body : JSON.stringify(x.body ?? '');
  return `${x.code ?? ''} ${(body || x.message || String(e)).slice(0, 300)}`;
}

export { podKey };
