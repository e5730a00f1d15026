// The lab's flannel host-gw cluster as kube-proxy's nftables mode sees it, for the engine's tests:
// its services plus three more (a LoadBalancer with an externalIP and source ranges over both web
// pods, a NodePort with externalTrafficPolicy Local backed on node2 only, a service without
// endpoints, an IPv6-only service for the `ip6 kube-proxy` table), and the kube-proxy tables of each node as the real `nft -j` printed it
// (test/fixtures/nft-kube-proxy/, written by `npx tsx test/lab/nft-proxy.ts --fixtures`, root).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDir } from './lab-cases';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = any;

export const FIXTURES = join(__dirname, '..', 'fixtures', 'nft-kube-proxy');
export const BASE_CASE = 'flannel-host-gw--healthy';
/** the table kube-proxy writes when every local address takes NodePorts (`fib daddr type local`), else nodeport-ips */
export type NodePortForm = 'nodeport-ips' | 'fib';

const lab = { 'netpath.dev/lab': 'flannel-host-gw' };
const ep = (ip: string, node: string, pod: string, ready = true) => ({ addresses: [ip], conditions: { ready }, nodeName: node, targetRef: { kind: 'Pod', name: pod, namespace: 'default' } });
const slice = (svc: string, endpoints: Obj[], ports: Obj[], addressType = 'IPv4') => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType, endpoints, ports,
  metadata: { name: `${svc}-nft`, namespace: 'default', labels: { ...lab, 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
});

export function extraServices(): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-lb', namespace: 'default', labels: lab },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.30', clusterIPs: ['10.96.0.30'], externalIPs: ['192.0.2.50'], loadBalancerSourceRanges: ['203.0.113.0/24', '198.51.100.0/24'],
        externalTrafficPolicy: 'Cluster', selector: { tier: 'web' }, sessionAffinity: 'None', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', nodePort: 30081 }] },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.60' }] } } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-etp-local', namespace: 'default', labels: lab },
      spec: { type: 'NodePort', clusterIP: '10.96.0.40', clusterIPs: ['10.96.0.40'], externalTrafficPolicy: 'Local', selector: { app: 'web2' }, sessionAffinity: 'None',
        ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', nodePort: 30082 }] }, status: { loadBalancer: {} } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-v6', namespace: 'default', labels: lab },
      spec: { type: 'ClusterIP', clusterIP: 'fd00:96::20', clusterIPs: ['fd00:96::20'], ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack', selector: { app: 'web2' }, sessionAffinity: 'None',
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] }, status: { loadBalancer: {} } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty', namespace: 'default', labels: lab },
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.50', clusterIPs: ['10.96.0.50'], selector: { app: 'nothing' }, sessionAffinity: 'None',
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] }, status: { loadBalancer: {} } },
  ];
}

export function extraSlices(): Obj[] {
  const http = [{ name: 'http', port: 8080, protocol: 'TCP' }];
  return [
    slice('web-lb', [ep('10.244.1.3', 'node1', 'web1'), ep('10.244.2.2', 'node2', 'web2')], http),
    slice('web-etp-local', [ep('10.244.2.2', 'node2', 'web2')], http),
    slice('empty', [], []),
    slice('web-v6', [ep('fd00:244:2::2', 'node2', 'web2')], http, 'IPv6'),
  ];
}

export function baseSnapshot(): Obj {
  return JSON.parse(readFileSync(join(labDir, BASE_CASE, 'snapshot.netpath.json'), 'utf8'));
}

export function fixtureFile(node: string, form: NodePortForm | 'ip6'): string {
  return join(FIXTURES, `${node}${form === 'nodeport-ips' ? '' : `-${form}`}.json`);
}

export function fixturesPresent(): boolean {
  return ['node1', 'node2'].every((n) => (['nodeport-ips', 'fib', 'ip6'] as const).every((f) => existsSync(fixtureFile(n, f))));
}

/**
 * The base lab snapshot turned into a kube-proxy-nftables cluster: the extra services and slices
 * added, kube-proxy's iptables rules removed (from the iptables-save text and from the nft JSON
 * iptables-nft made of them), each node's `ip kube-proxy` table added to its nft JSON, and the
 * ConfigMap saying `mode: nftables`.
 */
export function nftProxySnapshot(form: NodePortForm = 'nodeport-ips'): Obj {
  const s = baseSnapshot();
  s.objects.services.push(...extraServices());
  s.objects.endpointSlices.push(...extraSlices());
  delete s.objects.originalEndpointSlices;
  const cm = s.objects.configMaps.find((c: Obj) => c.metadata.name === 'kube-proxy');
  cm.data['config.conf'] = cm.data['config.conf'].replace(/mode: iptables/, 'mode: nftables');
  for (const node of ['node1', 'node2']) {
    const h = s.dumps[node].node;
    for (const k of Object.keys(h.iptables)) h.iptables[k] = stripKube(h.iptables[k]);
    const kube = (o: Obj) => /^KUBE-/.test(o.chain?.name ?? o.rule?.chain ?? '');
    h.nftables.nftables = h.nftables.nftables.filter((o: Obj) => !kube(o) && !(o.rule && JSON.stringify(o.rule.expr).includes('"KUBE-')));
    for (const f of [form, 'ip6'] as const) h.nftables.nftables.push(...JSON.parse(readFileSync(fixtureFile(node, f), 'utf8')).nftables.filter((o: Obj) => !o.metainfo));
  }
  return s;
}

/** iptables-save text without kube-proxy's chains and the rules that jump to them. */
export function stripKube(saved: string): string {
  return saved.split('\n').filter((l) => !/KUBE-/.test(l)).join('\n');
}
