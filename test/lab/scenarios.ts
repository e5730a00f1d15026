// The lab's topologies and the probes that cover every path type on each of them.
import type { ProbeSpec } from './lab';
import { INTERNET_IP, OUTSIDE_IP, type Plugin, type TopologySpec } from './topology';

export const NODE1_IP = '198.51.100.11';
export const NODE2_IP = '198.51.100.12';

/**
 * Two nodes. node1: `client`, `web1` (same-node backend) and a hostNetwork pod `hostnet1`;
 * node2: `web2` (TCP 8080 + UDP 5353) and a hostNetwork pod `hostnet2`.
 * Services: web-local (-> web1), web-remote (-> web2, NodePort 30080), dns (UDP -> web2).
 */
export function standardTopology(plugin: Plugin, name: string = plugin): TopologySpec {
  return {
    name, plugin, clusterCIDR: '10.244.0.0/16',
    secondaryNetwork: plugin === 'flannel-host-gw',
    nodes: [
      { name: 'node1', ip: NODE1_IP, podCIDR: '10.244.1.0/24', pods: [
        { name: 'client', labels: { app: 'client' } },
        { name: 'web1', labels: { app: 'web1', tier: 'web' }, listen: [{ port: 8080, protocol: 'TCP', name: 'http' }] },
        { name: 'hostnet1', labels: { app: 'node-agent' }, hostNetwork: true, listen: [{ port: 9100, protocol: 'TCP', name: 'metrics' }] },
      ] },
      { name: 'node2', ip: NODE2_IP, podCIDR: '10.244.2.0/24', pods: [
        { name: 'web2', labels: { app: 'web2', tier: 'web' }, listen: [{ port: 8080, protocol: 'TCP', name: 'http' }, { port: 5353, protocol: 'UDP', name: 'dns' }] },
        { name: 'hostnet2', labels: { app: 'node-agent' }, hostNetwork: true, listen: [{ port: 9100, protocol: 'TCP', name: 'metrics' }] },
      ] },
    ],
    services: [
      { name: 'web-local', clusterIP: '10.96.0.10', selector: { app: 'web1' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      { name: 'web-remote', type: 'NodePort', clusterIP: '10.96.0.20', selector: { app: 'web2' },
        ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', nodePort: 30080 }] },
      { name: 'dns', clusterIP: '10.96.0.53', selector: { app: 'web2' }, ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] },
    ],
    // web pods accept TCP only from the client and the nodes (the policy every healthy probe satisfies);
    // over VXLAN a node's own traffic leaves from its tunnel address (<pod CIDR>.0)
    policies: [{
      metadata: { name: 'web-allow-client', namespace: 'default' },
      spec: { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }, { ipBlock: { cidr: '198.51.100.0/24' } },
          ...(plugin.endsWith('vxlan') ? [{ ipBlock: { cidr: '10.244.1.0/32' } }, { ipBlock: { cidr: '10.244.2.0/32' } }] : [])], ports: [{ protocol: 'TCP', port: 'http' }, { protocol: 'TCP', port: 8081 }] },
          { ports: [{ protocol: 'UDP', port: 5353 }] }] },
    }],
  };
}

/** Topologies that are a plugin's standard topology with something else changed. */
export type LabVariant = 'flannel-host-gw-nftproxy';
export const VARIANTS: LabVariant[] = ['flannel-host-gw-nftproxy'];
/** A lab topology by name: a plugin's standard one, or a variant. */
export type LabTopology = Plugin | LabVariant;

export function topologyFor(name: LabTopology): TopologySpec {
  switch (name) {
    // kube-proxy in nftables mode (1.29+), which the lab's kube-proxy 1.20 lacks: nft-proxy.ts writes its table
    case 'flannel-host-gw-nftproxy': return { ...standardTopology('flannel-host-gw', name), proxyMode: 'nftables' };
    default: return standardTopology(name);
  }
}

/** the web pods' IPs as the topology assigns them (client .2, web1 .3 on node1; web2 .2 on node2) */
export const IP = { client: '10.244.1.2', web1: '10.244.1.3', web2: '10.244.2.2' };

export function standardProbes(): ProbeSpec[] {
  return [
    { id: 'same-node', path: 'pod-pod-same-node', src: 'default/client', dst: 'default/web1', address: IP.web1, port: 8080, protocol: 'TCP' },
    { id: 'cross-node', path: 'pod-pod-cross-node', src: 'default/client', dst: 'default/web2', address: IP.web2, port: 8080, protocol: 'TCP' },
    { id: 'cross-node-udp', path: 'pod-pod-cross-node', src: 'default/client', dst: 'default/web2', address: IP.web2, port: 5353, protocol: 'UDP' },
    { id: 'clusterip-local', path: 'pod-clusterip', src: 'default/client', dst: 'svc/default/web-local', address: '10.96.0.10', port: 80, protocol: 'TCP' },
    { id: 'clusterip-remote', path: 'pod-clusterip', src: 'default/client', dst: 'svc/default/web-remote', address: '10.96.0.20', port: 80, protocol: 'TCP' },
    { id: 'clusterip-udp', path: 'pod-clusterip', src: 'default/client', dst: 'svc/default/dns', address: '10.96.0.53', port: 53, protocol: 'UDP' },
    { id: 'nodeport', path: 'pod-nodeport', src: 'default/client', dst: 'node/node2', address: NODE2_IP, port: 30080, protocol: 'TCP' },
    { id: 'node-to-pod', path: 'node-pod', src: 'node/node1', dst: 'default/web2', address: IP.web2, port: 8080, protocol: 'TCP' },
    { id: 'own-node', path: 'pod-own-node', src: 'default/client', dst: 'node/node1', address: NODE1_IP, port: 9100, protocol: 'TCP' },
    { id: 'external', path: 'pod-external', src: 'default/client', dst: INTERNET_IP, address: INTERNET_IP, port: 80, protocol: 'TCP' },
    { id: 'to-hostnet', path: 'pod-hostnetwork', src: 'default/client', dst: 'default/hostnet2', address: NODE2_IP, port: 9100, protocol: 'TCP' },
    { id: 'from-hostnet', path: 'hostnetwork-pod', src: 'default/hostnet2', dst: 'default/web1', address: IP.web1, port: 8080, protocol: 'TCP' },
  ];
}

/**
 * From a host outside the cluster on the nodes' uplink segment (standardTopology with
 * `outsideHost`): straight to a pod (the host routes the pod CIDR via its node), to a NodePort,
 * and to a pod on the other node than the NodePort's backend.
 */
export function outsideProbes(): ProbeSpec[] {
  return [
    { id: 'outside-to-pod', path: 'external-pod', src: OUTSIDE_IP, dst: 'default/web2', address: IP.web2, port: 8080, protocol: 'TCP' },
    { id: 'outside-to-pod-node1', path: 'external-pod', src: OUTSIDE_IP, dst: 'default/web1', address: IP.web1, port: 8080, protocol: 'TCP' },
    { id: 'outside-nodeport', path: 'external-nodeport', src: OUTSIDE_IP, dst: 'node/node2', address: NODE2_IP, port: 30080, protocol: 'TCP' },
    { id: 'outside-nodeport-remote', path: 'external-nodeport', src: OUTSIDE_IP, dst: 'node/node1', address: NODE1_IP, port: 30080, protocol: 'TCP' },
  ];
}
