// The fault catalogue: each fault breaks exactly one thing in a running lab, names the NetNode that
// holds it and the check family a correct diagnosis should report, and can be undone. `evidence`
// proves the failure came from the fault (a counter of the injected rule, a kernel drop counter).
import { inNs, ipn, run, sysctl } from './exec';
import type { Lab, Outcome, ProbeSpec } from './lab';
import { IP, NODE1_IP, NODE2_IP, standardTopology } from './scenarios';
import type { Plugin } from './topology';
import type { LabTopology } from './scenarios';
import { endpointChain } from './nft-proxy';

export interface Fault {
  id: string;
  plugins: LabTopology[];
  description: string;
  /** NetNode id holding the fault: a node name, `ns/pod`, or `cluster` for API-level findings */
  netNode: string;
  /** expected check id family, e.g. `route.missing` */
  check: string;
  /** id of a standard probe, or a probe of its own */
  probe: string | ProbeSpec;
  /** outcomes the faulted probe may show (anything but reachable, narrowed where the kernel is precise) */
  expect: Outcome[];
  errno?: string[];
  apply(lab: Lab): void | Promise<void>;
  undo(lab: Lab): void | Promise<void>;
  /** returns undefined when the fault demonstrably caused the drop, else what is missing */
  evidence?(lab: Lab): string | undefined;
}

const FAIL: Outcome[] = ['timeout', 'unreachable'];
const ns = (lab: Lab, node: string) => lab.topo.node(node).netns;
const podNs = (lab: Lab, pod: string) => lab.topo.pod(pod).netns;
const hostIf = (lab: Lab, pod: string) => lab.topo.pod(pod).hostIface!;
const TAG = 'netpath-lab-fault';

/** packets counted by the rule carrying comment TAG in TABLE/CHAIN */
export function taggedCounter(netns: string, table: string, chain: string): number {
  const out = inNs(netns, 'iptables', ['-t', table, '-L', chain, '-v', '-x', '-n']);
  const line = out.split('\n').find((l) => l.includes(TAG));
  if (!line) throw new Error(`no ${TAG} rule in ${table}/${chain}`);
  return Number(line.trim().split(/\s+/)[0]);
}
function counterEvidence(node: (lab: Lab) => string, table: string, chain: string) {
  return (lab: Lab) => (taggedCounter(node(lab), table, chain) > 0 ? undefined : `the injected rule in ${table}/${chain} counted no packet`);
}
function rule(netns: (lab: Lab) => string, table: string, chain: string, spec: string[]) {
  return {
    apply: (lab: Lab) => { inNs(netns(lab), 'iptables', ['-t', table, '-I', chain, '1', '-m', 'comment', '--comment', TAG, ...spec]); },
    undo: (lab: Lab) => { inNs(netns(lab), 'iptables', ['-t', table, '-D', chain, '-m', 'comment', '--comment', TAG, ...spec]); },
    evidence: counterEvidence(netns, table, chain),
  };
}

function netstat(netns: string, key: string): number {
  const lines = inNs(netns, 'cat', ['/proc/net/netstat']).split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i].split(/\s+/), values = lines[i + 1].split(/\s+/);
    const j = names.indexOf(key);
    if (j > 0) return Number(values[j]);
  }
  throw new Error(`no ${key} in /proc/net/netstat`);
}

const HOSTGW: Plugin[] = ['flannel-host-gw'];
const NFTPROXY: LabTopology[] = ['flannel-host-gw-nftproxy'];
const ALL: Plugin[] = ['flannel-host-gw', 'flannel-vxlan', 'calico-bgp', 'calico-vxlan', 'generic-bridge'];
const podCIDR2 = '10.244.2.0/24';
const origPolicy = standardTopology('flannel-host-gw').policies[0] as { metadata: object; spec: object };
let rpBaseline = 0;

export const FAULTS: Fault[] = [
  // ---------- routing ----------
  { id: 'route-deleted', plugins: HOSTGW, description: "node1 lost the route to node2's pod CIDR", netNode: 'node1', check: 'route.missing', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node1'), 'route', 'del', podCIDR2); },
    undo: (l) => { ipn(ns(l, 'node1'), 'route', 'add', podCIDR2, 'via', NODE2_IP, 'dev', 'eth0'); } },
  { id: 'route-wrong-via', plugins: HOSTGW, description: "node1's route to node2's pod CIDR points at a host that does not exist", netNode: 'node1', check: 'route.wrong-gateway', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node1'), 'route', 'replace', podCIDR2, 'via', '198.51.100.99', 'dev', 'eth0'); },
    undo: (l) => { ipn(ns(l, 'node1'), 'route', 'replace', podCIDR2, 'via', NODE2_IP, 'dev', 'eth0'); } },
  { id: 'policy-route-blackhole', plugins: HOSTGW, description: "an ip rule on node1 sends node2's pod CIDR to table 100, which blackholes it", netNode: 'node1', check: 'route.blackhole', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node1'), 'route', 'add', 'blackhole', podCIDR2, 'table', '100'); ipn(ns(l, 'node1'), 'rule', 'add', 'to', podCIDR2, 'lookup', '100', 'pref', '100'); },
    undo: (l) => { ipn(ns(l, 'node1'), 'rule', 'del', 'pref', '100'); ipn(ns(l, 'node1'), 'route', 'del', 'blackhole', podCIDR2, 'table', '100'); } },
  { id: 'pod-default-route-missing', plugins: ['generic-bridge'], description: 'the client pod has no default route', netNode: 'default/client', check: 'route.missing', probe: 'cross-node', expect: ['unreachable'], errno: ['ENETUNREACH'],
    apply: (l) => { ipn(podNs(l, 'default/client'), 'route', 'del', 'default'); },
    undo: (l) => { ipn(podNs(l, 'default/client'), 'route', 'add', 'default', 'via', '10.244.1.1'); } },
  { id: 'calico-pod-route-missing', plugins: ['calico-bgp'], description: "node2 lost web2's /32 route (the block's blackhole route takes over)", netNode: 'node2', check: 'route.missing', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node2'), 'route', 'del', `${IP.web2}/32`); },
    undo: (l) => { ipn(ns(l, 'node2'), 'route', 'add', `${IP.web2}/32`, 'dev', hostIf(l, 'default/web2'), 'scope', 'link'); } },
  { id: 'calico-vxlan-route-deleted', plugins: ['calico-vxlan'], description: "node1 lost the vxlan.calico route to node2's block", netNode: 'node1', check: 'route.missing', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node1'), 'route', 'del', podCIDR2); },
    undo: (l) => { ipn(ns(l, 'node1'), 'route', 'add', podCIDR2, 'via', '10.244.2.0', 'dev', 'vxlan.calico', 'onlink', 'proto', '80'); } },

  // ---------- sysctls ----------
  { id: 'ip-forward-off', plugins: HOSTGW, description: 'node2 has net.ipv4.ip_forward=0', netNode: 'node2', check: 'sysctl.ip_forward', probe: 'cross-node', expect: FAIL,
    apply: (l) => sysctl(ns(l, 'node2'), 'net.ipv4.ip_forward', 0), undo: (l) => sysctl(ns(l, 'node2'), 'net.ipv4.ip_forward', 1) },
  { id: 'vxlan-ip-forward-off', plugins: ['flannel-vxlan'], description: 'node1 has net.ipv4.ip_forward=0', netNode: 'node1', check: 'sysctl.ip_forward', probe: 'cross-node', expect: FAIL,
    apply: (l) => sysctl(ns(l, 'node1'), 'net.ipv4.ip_forward', 0), undo: (l) => sysctl(ns(l, 'node1'), 'net.ipv4.ip_forward', 1) },
  { id: 'iface-forwarding-off', plugins: HOSTGW, description: 'node1 has forwarding disabled on cni0 only (packets from its pods are not forwarded)', netNode: 'node1', check: 'sysctl.forwarding', probe: 'cross-node', expect: FAIL,
    apply: (l) => sysctl(ns(l, 'node1'), 'net.ipv4.conf.cni0.forwarding', 0), undo: (l) => sysctl(ns(l, 'node1'), 'net.ipv4.conf.cni0.forwarding', 1) },
  { id: 'rp-filter-asymmetric', plugins: HOSTGW, description: "node2 routes node1's pod CIDR back over eth1 while requests arrive on eth0, with rp_filter strict", netNode: 'node2', check: 'sysctl.rp_filter', probe: 'cross-node', expect: FAIL,
    apply: (l) => {
      const n2 = ns(l, 'node2');
      rpBaseline = netstat(n2, 'IPReversePathFilter');
      ipn(n2, 'route', 'replace', '10.244.1.0/24', 'via', NODE1_IP.replace('100.', '101.'), 'dev', 'eth1');
      sysctl(n2, 'net.ipv4.conf.all.rp_filter', 1);
    },
    undo: (l) => { const n2 = ns(l, 'node2'); sysctl(n2, 'net.ipv4.conf.all.rp_filter', 0); ipn(n2, 'route', 'replace', '10.244.1.0/24', 'via', NODE1_IP, 'dev', 'eth0'); },
    evidence: (l) => (netstat(ns(l, 'node2'), 'IPReversePathFilter') > rpBaseline ? undefined : 'IPReversePathFilter did not increase on node2') },
  { id: 'bridge-nf-call-iptables-off', plugins: HOSTGW, description: 'node1 has bridge-nf-call-iptables=0: the same-bridge reply of a ClusterIP connection is not un-DNATed', netNode: 'node1', check: 'sysctl.bridge-nf-call-iptables', probe: 'clusterip-local', expect: FAIL,
    apply: (l) => sysctl(ns(l, 'node1'), 'net.bridge.bridge-nf-call-iptables', 0), undo: (l) => sysctl(ns(l, 'node1'), 'net.bridge.bridge-nf-call-iptables', 1) },
  { id: 'calico-proxy-arp-off', plugins: ['calico-bgp'], description: "node1 has proxy_arp=0 on the client's cali interface: nobody answers ARP for 169.254.1.1", netNode: 'node1', check: 'sysctl.proxy_arp', probe: 'cross-node', expect: FAIL,
    apply: (l) => { sysctl(ns(l, 'node1'), `net.ipv4.conf.${hostIf(l, 'default/client')}.proxy_arp`, 0); ipn(podNs(l, 'default/client'), 'neigh', 'flush', 'dev', 'eth0'); },
    undo: (l) => sysctl(ns(l, 'node1'), `net.ipv4.conf.${hostIf(l, 'default/client')}.proxy_arp`, 1) },

  // ---------- interfaces, veths, bridges ----------
  { id: 'pod-eth0-down', plugins: HOSTGW, description: "web2's eth0 is down", netNode: 'default/web2', check: 'interface.down', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(podNs(l, 'default/web2'), 'link', 'set', 'eth0', 'down'); },
    undo: (l) => {
      const n = podNs(l, 'default/web2');
      ipn(n, 'link', 'set', 'eth0', 'up'); ipn(n, 'route', 'replace', 'default', 'via', '10.244.2.1');
      // node2 marked web2's neighbour entry FAILED meanwhile; forget it rather than wait for the retry timer
      run('ip', ['-n', ns(l, 'node2'), 'neigh', 'del', IP.web2, 'dev', 'cni0'], { allowFail: true });
    } },
  { id: 'pod-mtu-mismatch', plugins: HOSTGW, description: "the client's eth0 has MTU 9000 while its host veth has 1500: big datagrams die on the veth",
    netNode: 'default/client', check: 'interface.mtu', expect: ['timeout'],
    probe: { id: 'cross-node-udp-4k', path: 'pod-pod-cross-node', src: 'default/client', dst: 'default/web2', address: IP.web2, port: 5353, protocol: 'UDP', size: 4000 },
    apply: (l) => { ipn(podNs(l, 'default/client'), 'link', 'set', 'eth0', 'mtu', '9000'); },
    undo: (l) => { ipn(podNs(l, 'default/client'), 'link', 'set', 'eth0', 'mtu', '1500'); } },
  { id: 'veth-peer-down', plugins: HOSTGW, description: "the node side of web2's veth is down", netNode: 'node2', check: 'veth.down', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node2'), 'link', 'set', hostIf(l, 'default/web2'), 'down'); },
    undo: (l) => { ipn(ns(l, 'node2'), 'link', 'set', hostIf(l, 'default/web2'), 'up'); } },
  { id: 'veth-detached', plugins: HOSTGW, description: "web2's host veth is not attached to cni0", netNode: 'node2', check: 'bridge.port-missing', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node2'), 'link', 'set', hostIf(l, 'default/web2'), 'nomaster'); },
    undo: (l) => { ipn(ns(l, 'node2'), 'link', 'set', hostIf(l, 'default/web2'), 'master', 'cni0'); } },
  { id: 'bridge-down', plugins: HOSTGW, description: 'cni0 on node2 is down', netNode: 'node2', check: 'bridge.down', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node2'), 'link', 'set', 'cni0', 'down'); },
    undo: (l) => { ipn(ns(l, 'node2'), 'link', 'set', 'cni0', 'up'); } },
  { id: 'generic-bridge-veth-down', plugins: ['generic-bridge'], description: "the node side of the client's veth on cbr0 is down", netNode: 'node1', check: 'veth.down', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node1'), 'link', 'set', hostIf(l, 'default/client'), 'down'); },
    undo: (l) => { ipn(ns(l, 'node1'), 'link', 'set', hostIf(l, 'default/client'), 'up'); } },

  // ---------- VXLAN ----------
  { id: 'vxlan-fdb-missing', plugins: ['flannel-vxlan'], description: "node1's flannel.1 has no FDB entry for node2's VTEP MAC", netNode: 'node1', check: 'vxlan.fdb-missing', probe: 'cross-node', expect: FAIL,
    apply: (l) => { run('bridge', ['-n', ns(l, 'node1'), 'fdb', 'del', l.topo.node('node2').tunnelMAC!, 'dev', 'flannel.1', 'dst', NODE2_IP]); },
    undo: (l) => { run('bridge', ['-n', ns(l, 'node1'), 'fdb', 'add', l.topo.node('node2').tunnelMAC!, 'dev', 'flannel.1', 'dst', NODE2_IP, 'self', 'permanent']); } },
  { id: 'vxlan-neigh-missing', plugins: ['flannel-vxlan'], description: "node1's flannel.1 has no neighbour entry for node2's VTEP (10.244.2.0)", netNode: 'node1', check: 'neigh.missing', probe: 'cross-node', expect: FAIL,
    apply: (l) => { ipn(ns(l, 'node1'), 'neigh', 'del', '10.244.2.0', 'dev', 'flannel.1'); },
    undo: (l) => { ipn(ns(l, 'node1'), 'neigh', 'replace', '10.244.2.0', 'lladdr', l.topo.node('node2').tunnelMAC!, 'dev', 'flannel.1', 'nud', 'permanent'); } },
  { id: 'vxlan-udp-dropped', plugins: ['flannel-vxlan'], description: 'node2 drops VXLAN (UDP 8472) in INPUT', netNode: 'node2', check: 'iptables.drop', probe: 'cross-node', expect: FAIL,
    ...rule((l) => ns(l, 'node2'), 'filter', 'INPUT', ['-p', 'udp', '--dport', '8472', '-j', 'DROP']) },
  { id: 'calico-vxlan-fdb-missing', plugins: ['calico-vxlan'], description: "node1's vxlan.calico has no FDB entry for node2's VTEP MAC", netNode: 'node1', check: 'vxlan.fdb-missing', probe: 'cross-node', expect: FAIL,
    apply: (l) => { run('bridge', ['-n', ns(l, 'node1'), 'fdb', 'del', l.topo.node('node2').tunnelMAC!, 'dev', 'vxlan.calico', 'dst', NODE2_IP]); },
    undo: (l) => { run('bridge', ['-n', ns(l, 'node1'), 'fdb', 'add', l.topo.node('node2').tunnelMAC!, 'dev', 'vxlan.calico', 'dst', NODE2_IP, 'self', 'permanent']); } },

  // ---------- netfilter on nodes and pods ----------
  { id: 'node-forward-drop', plugins: HOSTGW, description: 'node2 drops TCP to web2:8080 in FORWARD', netNode: 'node2', check: 'iptables.drop', probe: 'cross-node', expect: ['timeout'],
    ...rule((l) => ns(l, 'node2'), 'filter', 'FORWARD', ['-d', `${IP.web2}/32`, '-p', 'tcp', '--dport', '8080', '-j', 'DROP']) },
  { id: 'node-forward-reject', plugins: ['generic-bridge'], description: 'node1 rejects TCP to web2:8080 in FORWARD (icmp-port-unreachable)', netNode: 'node1', check: 'iptables.reject', probe: 'cross-node', expect: ['refused'], errno: ['ECONNREFUSED'],
    ...rule((l) => ns(l, 'node1'), 'filter', 'FORWARD', ['-d', `${IP.web2}/32`, '-p', 'tcp', '--dport', '8080', '-j', 'REJECT']) },
  { id: 'node-forward-drop-udp', plugins: ['calico-bgp'], description: 'node2 drops UDP to web2:5353 in FORWARD', netNode: 'node2', check: 'iptables.drop', probe: 'cross-node-udp', expect: ['timeout'],
    ...rule((l) => ns(l, 'node2'), 'filter', 'FORWARD', ['-d', `${IP.web2}/32`, '-p', 'udp', '--dport', '5353', '-j', 'DROP']) },
  { id: 'node-input-drop', plugins: HOSTGW, description: 'node1 drops TCP 9100 in INPUT (its hostNetwork pod is unreachable)', netNode: 'node1', check: 'iptables.drop', probe: 'own-node', expect: ['timeout'],
    ...rule((l) => ns(l, 'node1'), 'filter', 'INPUT', ['-p', 'tcp', '--dport', '9100', '-j', 'DROP']) },
  { id: 'node-output-drop', plugins: HOSTGW, description: 'node1 drops its own traffic to web2 in OUTPUT (TCP retries the SYN: a timeout, not EPERM)', netNode: 'node1', check: 'iptables.drop', probe: 'node-to-pod', expect: ['timeout'],
    ...rule((l) => ns(l, 'node1'), 'filter', 'OUTPUT', ['-d', `${IP.web2}/32`, '-j', 'DROP']) },
  { id: 'pod-input-drop', plugins: HOSTGW, description: 'web2 drops TCP 8080 in its own INPUT chain', netNode: 'default/web2', check: 'iptables.drop', probe: 'cross-node', expect: ['timeout'],
    ...rule((l) => podNs(l, 'default/web2'), 'filter', 'INPUT', ['-p', 'tcp', '--dport', '8080', '-j', 'DROP']) },
  { id: 'pod-output-reject', plugins: ['calico-bgp'], description: "the client pod rejects its own connections to web-remote's ClusterIP in OUTPUT", netNode: 'default/client', check: 'iptables.reject', probe: 'clusterip-remote', expect: ['refused'], errno: ['ECONNREFUSED'],
    ...rule((l) => podNs(l, 'default/client'), 'filter', 'OUTPUT', ['-d', '10.96.0.20/32', '-p', 'tcp', '-j', 'REJECT']) },
  { id: 'masquerade-missing', plugins: HOSTGW, description: "node1's FLANNEL-POSTRTG is flushed: pod traffic leaves unmasqueraded and the internet cannot answer", netNode: 'node1', check: 'iptables.masquerade-missing', probe: 'external', expect: FAIL,
    apply: (l) => { inNs(ns(l, 'node1'), 'iptables', ['-t', 'nat', '-F', 'FLANNEL-POSTRTG']); },
    undo: (l) => {
      const c = l.topo.spec.clusterCIDR;
      inNs(ns(l, 'node1'), 'iptables-restore', ['--noflush'], { input: `*nat\n-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN\n-A FLANNEL-POSTRTG -s 10.244.1.0/24 -d ${c} -m comment --comment "flanneld masq" -j RETURN\n-A FLANNEL-POSTRTG -s ${c} -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN\n-A FLANNEL-POSTRTG ! -s ${c} -d 10.244.1.0/24 -m comment --comment "flanneld masq" -j RETURN\n-A FLANNEL-POSTRTG -s ${c} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully\nCOMMIT\n` });
    } },

  // ---------- kube-proxy and services (through the real apiserver and kube-proxy) ----------
  { id: 'kube-svc-flushed', plugins: HOSTGW, description: "node1's KUBE-SVC chain of web-remote is flushed (kube-proxy out of sync)", netNode: 'node1', check: 'kube-proxy.chain-missing', probe: 'clusterip-remote', expect: FAIL,
    apply: (l) => { inNs(ns(l, 'node1'), 'iptables', ['-t', 'nat', '-F', svcChain(l, 'node1', 'default/web-remote:http')]); },
    undo: async (l) => {
      await l.restartKubeProxies();
      await l.waitIptables('node1', (s) => s.includes(`-A ${svcChain(l, 'node1', 'default/web-remote:http')} `), 'web-remote KUBE-SVC rules');
    } },
  { id: 'nodeports-flushed', plugins: ['flannel-vxlan'], description: "node2's KUBE-NODEPORTS chain is flushed: the SYN reaches the socket kube-proxy holds open on the NodePort, which never answers", netNode: 'node2', check: 'kube-proxy.chain-missing', probe: 'nodeport', expect: ['timeout'],
    apply: (l) => { inNs(ns(l, 'node2'), 'iptables', ['-t', 'nat', '-F', 'KUBE-NODEPORTS']); },
    undo: async (l) => { await l.restartKubeProxies(); await l.waitIptables('node2', (s) => s.includes('-A KUBE-NODEPORTS '), 'KUBE-NODEPORTS rules'); } },
  { id: 'no-ready-endpoints', plugins: HOSTGW, description: 'web2 is not Ready: web-remote has no ready endpoint and kube-proxy rejects', netNode: 'default/web2', check: 'service.no-endpoints', probe: 'clusterip-remote', expect: ['refused'], errno: ['ECONNREFUSED'],
    apply: async (l) => { await l.cluster.setPodReady('default', 'web2', false, l.topo); await l.waitIptables('node1', (s) => s.includes('default/web-remote:http has no endpoints'), 'REJECT for web-remote'); },
    undo: async (l) => { await l.cluster.setPodReady('default', 'web2', true, l.topo); await l.waitIptables('node1', (s) => !s.includes('default/web-remote:http has no endpoints'), 'web-remote endpoints'); } },
  { id: 'target-port-not-listening', plugins: HOSTGW, description: "web-remote's targetPort is 8081, where web2 listens on nothing", netNode: 'default/web2', check: 'service.target-port', probe: 'clusterip-remote', expect: ['refused'], errno: ['ECONNREFUSED'],
    apply: async (l) => { await patchTargetPort(l, 8081); await l.waitIptables('node1', (s) => s.includes(`${IP.web2}:8081`), 'DNAT to :8081'); },
    undo: async (l) => { await patchTargetPort(l, 'http'); await l.waitIptables('node1', (s) => s.includes(`${IP.web2}:8080`) && !s.includes(`${IP.web2}:8081`), 'DNAT to :8080'); } },
  { id: 'nothing-listening', plugins: HOSTGW, description: 'no process listens on web2:8080', netNode: 'default/web2', check: 'socket.not-listening', probe: 'cross-node', expect: ['refused'], errno: ['ECONNREFUSED'],
    apply: (l) => l.stopServer('default/web2', 8080, 'TCP'), undo: (l) => l.startServer('default/web2', 8080, 'TCP') },
  { id: 'network-policy-deny', plugins: HOSTGW, description: 'web-allow-client now only admits app=monitoring: the client is denied by NetworkPolicy', netNode: 'cluster', check: 'policy.deny', probe: 'cross-node', expect: ['timeout'],
    apply: async (l) => {
      await l.cluster.patch('networking.k8s.io/v1', 'NetworkPolicy', 'default', 'web-allow-client', { spec: { ingress: [{ from: [{ podSelector: { matchLabels: { app: 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 'http' }] }] } });
      await l.syncPolicies();
    },
    undo: async (l) => { await l.cluster.patch('networking.k8s.io/v1', 'NetworkPolicy', 'default', 'web-allow-client', { spec: (origPolicy as { spec: object }).spec }); await l.syncPolicies(); },
    evidence: (l) => {
      const out = inNs(ns(l, 'node2'), 'iptables', ['-L', '-v', '-x', '-n']);
      const drop = out.split('\n').find((x) => x.includes('ingress of default/web2 denied by'));
      return drop && Number(drop.trim().split(/\s+/)[0]) > 0 ? undefined : "the policy agent's DROP for web2 counted no packet";
    } },

  // ---------- kube-proxy in nftables mode (the table nft-proxy.ts writes) and native nftables ----------
  { id: 'nft-service-element-missing', plugins: NFTPROXY, description: "node1's service-ips map lost web-remote's element (kube-proxy out of sync): its ClusterIP is not DNATed, and kube-proxy's cluster-ips-check rejects it as an invalid port of a ClusterIP",
    netNode: 'node1', check: 'kube-proxy.chain-missing', probe: 'clusterip-remote', expect: ['refused'], errno: ['ECONNREFUSED'],
    apply: (l) => { inNs(ns(l, 'node1'), 'nft', ['delete', 'element', 'ip', 'kube-proxy', 'service-ips', '{ 10.96.0.20 . tcp . 80 }']); },
    undo: (l) => l.restartKubeProxies() },
  { id: 'nft-dnat-wrong-port', plugins: NFTPROXY, description: "node1's endpoint chain of web-remote DNATs to web2:8081 instead of the slice's 8080 (a hand edit / out-of-sync kube-proxy): web2 answers with a reset",
    netNode: 'node1', check: 'kube-proxy.wrong-port', probe: 'clusterip-remote', expect: ['refused'], errno: ['ECONNREFUSED'],
    apply: (l) => {
      const chain = endpointChain({ namespace: 'default', name: 'web-remote', protocol: 'tcp', portName: 'http' }, { ip: IP.web2, port: 8080 });
      const handle = nftHandle(ns(l, 'node1'), 'ip kube-proxy', chain, /"dnat"/);
      inNs(ns(l, 'node1'), 'nft', ['replace', 'rule', 'ip', 'kube-proxy', chain, 'handle', String(handle), 'meta', 'l4proto', 'tcp', 'counter', 'dnat', 'to', `${IP.web2}:8081`]);
    },
    undo: (l) => l.restartKubeProxies(),
    evidence: (l) => {
      const chain = endpointChain({ namespace: 'default', name: 'web-remote', protocol: 'tcp', portName: 'http' }, { ip: IP.web2, port: 8080 });
      return nftCounter(ns(l, 'node1'), 'ip kube-proxy', chain, /dnat/) > 0 ? undefined : 'the replaced dnat rule counted no packet';
    } },
  { id: 'nft-native-forward-drop', plugins: NFTPROXY, description: 'a native nftables chain on node2 (table inet guard, forward hook, priority 0) drops TCP to web2:8080', netNode: 'node2', check: 'nftables.drop', probe: 'cross-node', expect: ['timeout'],
    apply: (l) => { inNs(ns(l, 'node2'), 'nft', ['-f', '-'], { input: `table inet guard {\n  chain gate {\n    type filter hook forward priority 0; policy accept;\n    ip daddr ${IP.web2} tcp dport 8080 counter drop comment "${TAG}"\n  }\n}\n` }); },
    undo: (l) => { inNs(ns(l, 'node2'), 'nft', ['delete', 'table', 'inet', 'guard']); },
    evidence: (l) => (nftCounter(ns(l, 'node2'), 'inet guard', 'gate', /drop/) > 0 ? undefined : 'the guard drop counted no packet') },
];

type NftJson = { nftables: { rule?: { chain: string; handle: number; expr: { counter?: { packets: number } }[] } }[] };
/** the rules of one nft chain (with handles and counters), as `nft -j` lists them */
function nftRules(netns: string, table: string, chain: string) {
  const j = JSON.parse(inNs(netns, 'nft', ['-j', 'list', 'chain', ...table.split(' '), chain])) as NftJson;
  return j.nftables.flatMap((o) => (o.rule ? [o.rule] : []));
}
function nftHandle(netns: string, table: string, chain: string, what: RegExp): number {
  const r = nftRules(netns, table, chain).find((x) => what.test(JSON.stringify(x.expr)));
  if (!r) throw new Error(`no rule ${what} in ${table} ${chain}`);
  return r.handle;
}
/** packets counted by the first rule of the chain matching `what` (0 without a counter) */
function nftCounter(netns: string, table: string, chain: string, what: RegExp): number {
  const r = nftRules(netns, table, chain).find((x) => what.test(JSON.stringify(x.expr)));
  return r?.expr.find((e) => e.counter)?.counter?.packets ?? 0;
}

function svcChain(l: Lab, node: string, svcPort: string): string {
  const saved = inNs(ns(l, node), 'iptables-save', ['-t', 'nat']);
  const m = saved.split('\n').find((x) => x.startsWith('-A KUBE-SERVICES') && x.includes(`"${svcPort} cluster IP"`) && x.includes('KUBE-SVC-'));
  const chain = m?.match(/-j (KUBE-SVC-[A-Z0-9]+)/)?.[1];
  if (!chain) throw new Error(`${node}: no KUBE-SVC chain for ${svcPort}`);
  return chain;
}

async function patchTargetPort(l: Lab, tp: number | string): Promise<void> {
  await l.cluster.patch('v1', 'Service', 'default', 'web-remote', { spec: { ports: [{ name: 'http', port: 80, targetPort: tp, protocol: 'TCP', nodePort: 30080 }] } });
}


export function faultsFor(plugin: LabTopology): Fault[] { return FAULTS.filter((f) => f.plugins.includes(plugin)); }
void ALL;
