// The lab's side of the real kube-apiserver: creates the topology's objects through the API (playing
// the kubelet for status: pod IPs, Ready, node addresses), changes them for faults, reads everything
// back for the case directories, and removes it again. Uses @kubernetes/client-node 1.x for the
// kubeconfig and TLS/auth, and sends plain JSON: its typed model renames fields (NetworkPolicy `from`
// is `_from` there) and would silently drop what it does not know.
import * as k8s from '@kubernetes/client-node';
import { request } from 'node:https';
import { stringify } from 'yaml';
import { podKey, type Topology } from './topology';

export const LAB_LABEL = 'netpath.dev/lab';
const TS = '2026-01-01T00:00:00Z';
const MERGE_PATCH = 'application/merge-patch+json';

type Obj = k8s.KubernetesObject & Record<string, unknown>;

const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  'v1/Namespace': { plural: 'namespaces', namespaced: false },
  'v1/Node': { plural: 'nodes', namespaced: false },
  'v1/Pod': { plural: 'pods', namespaced: true },
  'v1/Service': { plural: 'services', namespaced: true },
  'v1/Endpoints': { plural: 'endpoints', namespaced: true },
  'v1/ConfigMap': { plural: 'configmaps', namespaced: true },
  'discovery.k8s.io/v1beta1/EndpointSlice': { plural: 'endpointslices', namespaced: true },
  'networking.k8s.io/v1/NetworkPolicy': { plural: 'networkpolicies', namespaced: true },
};

export class ApiError extends Error {
  constructor(readonly code: number, readonly body: string, what: string) { super(`${what}: HTTP ${code} ${body.slice(0, 300)}`); }
}

function resourcePath(apiVersion: string, kind: string, namespace?: string, name?: string, sub?: string): string {
  const r = RESOURCES[`${apiVersion}/${kind}`];
  if (!r) throw new Error(`lab cluster: unsupported kind ${apiVersion}/${kind}`);
  const base = apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
  const ns = r.namespaced && namespace ? `/namespaces/${namespace}` : '';
  return `${base}${ns}/${r.plural}${name ? '/' + name : ''}${sub ? '/' + sub : ''}`;
}
export class LabCluster {
  constructor(readonly kc: k8s.KubeConfig) {}

  static fromFile(path: string): LabCluster {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(path);
    return new LabCluster(kc);
  }

  /** one JSON request; resolves the parsed body, rejects with ApiError on a non-2xx status */
  async req(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Obj> {
    const server = new URL(this.kc.getCurrentCluster()!.server);
    const opts: import('node:https').RequestOptions = { method, hostname: server.hostname, port: server.port, path, headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const data = body === undefined ? undefined : JSON.stringify(body);
    if (data) Object.assign(opts.headers!, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) });
    return new Promise((resolve, reject) => {
      const r = request(opts, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) return reject(new ApiError(res.statusCode ?? 0, text, `${method} ${path}`));
          try { resolve(text ? JSON.parse(text) : {}); } catch (e) { reject(e); }
        });
      });
      r.on('error', reject);
      r.setTimeout(15_000, () => r.destroy(new Error(`${method} ${path}: timeout`)));
      if (data) r.write(data);
      r.end();
    });
  }

  private async create(o: Obj): Promise<void> {
    const path = resourcePath(o.apiVersion!, o.kind!, o.metadata?.namespace);
    try { await this.req('POST', path, o); } catch (e) {
      if (e instanceof ApiError && e.code === 409) {
        const cur = await this.req('GET', resourcePath(o.apiVersion!, o.kind!, o.metadata?.namespace, o.metadata!.name));
        await this.req('PUT', resourcePath(o.apiVersion!, o.kind!, o.metadata?.namespace, o.metadata!.name), { ...o, metadata: { ...o.metadata, resourceVersion: cur.metadata!.resourceVersion } });
        return;
      }
      throw new Error(`create ${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}: ${describe(e)}`);
    }
  }

  /** Create namespaces, nodes, pods, services, policies and detection hints for a topology. */
  async apply(t: Topology): Promise<void> {
    const lab = { [LAB_LABEL]: t.spec.name };
    const { plugin, ipv6 } = t.spec;
    // dual-stack: both families' CIDRs wherever the cluster's configuration names one
    const clusterCIDRs = ipv6 ? `${t.spec.clusterCIDR},${ipv6.clusterCIDR}` : t.spec.clusterCIDR;
    const namespaces = new Set(['kube-system', ...t.pods.map((p) => p.namespace), ...t.spec.services.map((s) => s.namespace ?? 'default')]);
    if (plugin.startsWith('flannel')) namespaces.add('kube-flannel');
    for (const ns of namespaces) {
      if (ns === 'default' || ns === 'kube-system') continue;
      await this.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...lab, 'kubernetes.io/metadata.name': ns } } });
    }
    // what a cluster's detection reads: the CNI's and kube-proxy's configuration
    await this.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: lab },
      data: { 'config.conf': `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ${t.spec.proxyMode ?? 'iptables'}\nclusterCIDR: ${clusterCIDRs}\n${ipv6 ? 'featureGates:\n  IPv6DualStack: true\n' : ''}` } });
    if (plugin.startsWith('flannel')) {
      const backend = plugin === 'flannel-vxlan' ? { Type: 'vxlan', VNI: 1, Port: 8472 } : { Type: 'host-gw' };
      await this.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel', labels: { ...lab, app: 'flannel' } },
        data: { 'net-conf.json': JSON.stringify({ Network: t.spec.clusterCIDR, ...(ipv6 ? { EnableIPv6: true, IPv6Network: ipv6.clusterCIDR } : {}), Backend: backend }, null, 2) } });
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
        if (n.ip6) annotations['flannel.alpha.coreos.com/public-ipv6'] = n.ip6;
        if (n.tunnelMAC6) annotations['flannel.alpha.coreos.com/backend-v6-data'] = JSON.stringify({ VNI: 1, VtepMAC: n.tunnelMAC6 });
      } else if (plugin.startsWith('calico')) {
        annotations['projectcalico.org/IPv4Address'] = `${n.ip}/24`;
        if (n.tunnelIP) annotations['projectcalico.org/IPv4VXLANTunnelAddr'] = n.tunnelIP;
      }
      await this.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: { ...lab, 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' }, annotations },
        spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR, ...(n.podCIDR6 ? [n.podCIDR6] : [])] } });
      await this.req('PATCH', resourcePath('v1', 'Node', undefined, n.name, 'status'), { status: {
        addresses: [{ type: 'InternalIP', address: n.ip }, ...(n.ip6 ? [{ type: 'InternalIP', address: n.ip6 }] : []), { type: 'Hostname', address: n.name }],
        conditions: [
          { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'lab', lastHeartbeatTime: TS, lastTransitionTime: TS },
          { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', message: 'lab', lastHeartbeatTime: TS, lastTransitionTime: TS },
        ],
      } }, MERGE_PATCH);
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
          ...(s.clusterIP6 ? { clusterIPs: [s.clusterIP, s.clusterIP6], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' } : {}),
          ports: s.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol, nodePort: p.nodePort })) } });
    }
    // labelled like everything else, so that clear() removes them (a topology without policies must not inherit any)
    for (const pol of t.spec.policies as { metadata: k8s.V1ObjectMeta }[]) {
      await this.create({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...pol, metadata: { ...pol.metadata, labels: { ...pol.metadata.labels, ...lab } } } as Obj);
    }
  }

  /** The kubelet's part: pod phase, IPs and the Ready condition. */
  async setPodReady(namespace: string, name: string, ready: boolean, t: Topology): Promise<void> {
    const p = t.pod(`${namespace}/${name}`);
    const node = t.node(p.node);
    const st = ready ? 'True' : 'False';
    await this.req('PATCH', resourcePath('v1', 'Pod', namespace, name, 'status'), { status: {
      phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }, ...(p.ip6 ? [{ ip: p.ip6 }] : [])], hostIP: node.ip, startTime: TS,
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type, status: type === 'Ready' || type === 'ContainersReady' ? st : 'True', lastTransitionTime: TS })),
      containerStatuses: [{ name: 'agent', ready, restartCount: 0, image: 'netpath-lab/probe-agent', imageID: '', state: { running: { startedAt: TS } } }],
    } }, MERGE_PATCH);
  }

  async patch(apiVersion: string, kind: string, namespace: string | undefined, name: string, body: object): Promise<void> {
    await this.req('PATCH', resourcePath(apiVersion, kind, namespace, name), body, MERGE_PATCH);
  }

  async createObject(o: Obj): Promise<void> { await this.create(o); }

  async deleteObject(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<void> {
    try { await this.req('DELETE', resourcePath(apiVersion, kind, namespace, name), { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 }); } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw new Error(`delete ${kind} ${namespace ?? ''}/${name}: ${describe(e)}`);
    }
  }

  async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<Obj[]> {
    const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    const r = await this.req('GET', resourcePath(apiVersion, kind, namespace) + q);
    return ((r.items as Obj[] | undefined) ?? []).map((i) => ({ apiVersion, kind, ...i }));
  }

  /** Wait until every service with a selector has as many ready EndpointSlice addresses as ready pods. */
  async waitEndpoints(t: Topology, timeoutMs = 20_000): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const slices = await this.list('discovery.k8s.io/v1beta1', 'EndpointSlice');
      const pending = t.spec.services.filter((s) => {
        const want = t.pods.filter((p) => p.namespace === (s.namespace ?? 'default') && Object.entries(s.selector).every(([k, v]) => p.labels?.[k] === v)).length;
        // one slice per address family: a dual-stack service waits for both
        return (s.clusterIP6 ? ['IPv4', 'IPv6'] : ['IPv4']).some((family) => {
          const have = slices.filter((sl) => (sl.metadata?.labels ?? {})['kubernetes.io/service-name'] === s.name && sl.metadata?.namespace === (s.namespace ?? 'default') && sl.addressType === family)
            .flatMap((sl) => (sl.endpoints as { conditions?: { ready?: boolean } }[] | undefined) ?? []).filter((e) => e.conditions?.ready !== false).length;
          return have !== want;
        });
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
        const md = i.metadata as k8s.V1ObjectMeta & { selfLink?: string };
        // drop server bookkeeping that differs on every run and means nothing to a diagnosis
        delete md.managedFields; delete md.uid; delete md.resourceVersion; delete md.creationTimestamp; delete md.selfLink;
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
    // a terminating namespace refuses new objects: wait until kube-controller-manager has removed them
    for (let i = 0; (await this.list('v1', 'Namespace', undefined, sel)).length; i++) {
      if (i > 150) throw new Error('lab namespaces still terminating after 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function key(o: Obj): string { return `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`; }

export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export { podKey };
