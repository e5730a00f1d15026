// Lab topologies besides each plugin's standard one, with their probes and faults (run by runner.ts
// like the standard ones, cases named `<variant>--healthy`, `<variant>--<fault>`):
// * dual-stack (issue 15): flannel host-gw, flannel vxlan and the generic bridge with an IPv6 pod
//   CIDR per node, IPv6 node addresses, dual-stack Services from the real control plane and the real
//   kube-proxy 1.20 in dual-stack mode; probes by name with a family and by address; faults that break
//   the IPv6 path only, and one that breaks the IPv4 path only.
// * NetworkPolicy in dual-stack (flannel-host-gw-dual-policy): the dual-stack host-gw topology with
//   a web policy admitting the client and the nodes over both families; faults that replace the
//   policies: default-deny plus an allow by podSelector (both families alike), an ipBlock for the
//   client's IPv4 CIDR only (IPv6 denied), an egress policy whose IPv6 ipBlock excepts node2's pods.
//   The policy agent (policy-agent.ts) enforces them with iptables and ip6tables.
// * KubeSkoop's remaining e2e scenarios on flannel vxlan: node -> its own pod, same-node UDP, node MTU
//   1400 under a 1450-byte overlay, cni0 down.
import { inNs, ipn, run, sysctl } from './exec';
import type { Lab, ProbeSpec } from './lab';
import { LAB_LABEL } from './cluster';
import type { NetworkPolicy } from './policy-agent';
import type { Fault } from './faults';
import type { Variant } from './runner';
import { INTERNET_IP, INTERNET_IP6, FLANNEL_V6_TUNNEL, type Plugin, type TopologySpec } from './topology';
import { IP, standardTopology } from './scenarios';

export const NODE1_IP6 = '2001:db8:100::11';
export const NODE2_IP6 = '2001:db8:100::12';
export const CLUSTER_CIDR6 = 'fd00:10:244::/56';
export const SERVICE_CIDR6 = 'fd00:10:96::/112';
const POD_CIDR6 = { node1: 'fd00:10:244:1::/64', node2: 'fd00:10:244:2::/64' };
/** the pods' IPv6 addresses as the topology assigns them (same host part as their IPv4 address) */
export const IP6 = { client: 'fd00:10:244:1::2', web1: 'fd00:10:244:1::3', web2: 'fd00:10:244:2::2' };
const SVC6 = { local: 'fd00:10:96::10', remote: 'fd00:10:96::20', dns: 'fd00:10:96::53' };

/**
 * The control-plane flags a dual-stack lab needs (test/lab/k8s/start.sh reads them from the
 * environment): the IPv6DualStack gate (beta, off by default in 1.20) and both families' ranges.
 */
export const DUAL_STACK_CP_ENV = {
  NETPATH_APISERVER_ARGS: `--feature-gates=IPv6DualStack=true --service-cluster-ip-range=10.96.0.0/16,${SERVICE_CIDR6}`,
  NETPATH_KCM_ARGS: `--feature-gates=IPv6DualStack=true --cluster-cidr=10.244.0.0/16,${CLUSTER_CIDR6} --service-cluster-ip-range=10.96.0.0/16,${SERVICE_CIDR6}`,
};

/**
 * The standard two-node topology, dual-stack: every Service RequireDualStack (IPv4 first, as the
 * cluster's primary family). No NetworkPolicy here, so its faults break paths for one reason only;
 * the dual-stack policy cases have a topology of their own (dualPolicyTopology).
 */
export function dualTopology(plugin: Plugin): TopologySpec {
  const s = standardTopology(plugin, `${plugin}-dual`);
  const [n1, n2] = s.nodes;
  return {
    ...s, secondaryNetwork: false, policies: [],
    ipv6: { clusterCIDR: CLUSTER_CIDR6 },
    nodes: [{ ...n1, ip6: NODE1_IP6, podCIDR6: POD_CIDR6.node1 }, { ...n2, ip6: NODE2_IP6, podCIDR6: POD_CIDR6.node2 }],
    services: s.services.map((v) => ({ ...v, clusterIP6: v.name === 'web-local' ? SVC6.local : v.name === 'web-remote' ? SVC6.remote : SVC6.dns })),
  };
}

/** IPv6 probes by name (`family: 6`) on every path type, one by address, and IPv4 ones by name (`family: 4`) */
export function dualProbes(): ProbeSpec[] {
  const six = (p: Omit<ProbeSpec, 'family'>): ProbeSpec => ({ ...p, family: 6 });
  const four = (p: Omit<ProbeSpec, 'family'>): ProbeSpec => ({ ...p, family: 4 });
  return [
    six({ id: 'same-node-6', path: 'pod-pod-same-node', src: 'default/client', dst: 'default/web1', address: IP6.web1, port: 8080, protocol: 'TCP' }),
    six({ id: 'cross-node-6', path: 'pod-pod-cross-node', src: 'default/client', dst: 'default/web2', address: IP6.web2, port: 8080, protocol: 'TCP' }),
    six({ id: 'cross-node-udp-6', path: 'pod-pod-cross-node', src: 'default/client', dst: 'default/web2', address: IP6.web2, port: 5353, protocol: 'UDP' }),
    six({ id: 'cross-node-6-by-address', path: 'pod-pod-cross-node', src: 'default/client', dst: IP6.web2, address: IP6.web2, port: 8080, protocol: 'TCP' }),
    six({ id: 'clusterip-local-6', path: 'pod-clusterip', src: 'default/client', dst: 'svc/default/web-local', address: SVC6.local, port: 80, protocol: 'TCP' }),
    six({ id: 'clusterip-remote-6', path: 'pod-clusterip', src: 'default/client', dst: 'svc/default/web-remote', address: SVC6.remote, port: 80, protocol: 'TCP' }),
    six({ id: 'clusterip-udp-6', path: 'pod-clusterip', src: 'default/client', dst: 'svc/default/dns', address: SVC6.dns, port: 53, protocol: 'UDP' }),
    six({ id: 'nodeport-6', path: 'pod-nodeport', src: 'default/client', dst: 'node/node2', address: NODE2_IP6, port: 30080, protocol: 'TCP' }),
    six({ id: 'node-to-pod-6', path: 'node-pod', src: 'node/node1', dst: 'default/web2', address: IP6.web2, port: 8080, protocol: 'TCP' }),
    six({ id: 'external-6', path: 'pod-external', src: 'default/client', dst: INTERNET_IP6, address: INTERNET_IP6, port: 80, protocol: 'TCP' }),
    four({ id: 'cross-node-4', path: 'pod-pod-cross-node', src: 'default/client', dst: 'default/web2', address: IP.web2, port: 8080, protocol: 'TCP' }),
    four({ id: 'clusterip-remote-4', path: 'pod-clusterip', src: 'default/client', dst: 'svc/default/web-remote', address: '10.96.0.20', port: 80, protocol: 'TCP' }),
    four({ id: 'external-4', path: 'pod-external', src: 'default/client', dst: INTERNET_IP, address: INTERNET_IP, port: 80, protocol: 'TCP' }),
  ];
}

/**
 * The web pods admit TCP from the client (a pod selector: both of its addresses) and from the nodes'
 * segment (an ipBlock per family), UDP 5353 from anywhere: every healthy dual-stack probe passes.
 */
const DUAL_WEB_POLICY: NetworkPolicy = {
  metadata: { name: 'web-allow-client', namespace: 'default' },
  spec: { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Ingress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }, { ipBlock: { cidr: '198.51.100.0/24' } }, { ipBlock: { cidr: '2001:db8:100::/64' } }],
      ports: [{ protocol: 'TCP', port: 'http' }] },
    { ports: [{ protocol: 'UDP', port: 5353 }] }] },
};

export function dualPolicyTopology(): TopologySpec {
  return { ...dualTopology('flannel-host-gw'), name: 'flannel-host-gw-dual-policy', policies: [DUAL_WEB_POLICY] };
}

/** the dual-stack probes and the IPv4 twins of the IPv6 ones a policy case tells apart */
export function dualPolicyProbes(): ProbeSpec[] {
  return [
    ...dualProbes(),
    { id: 'same-node-4', path: 'pod-pod-same-node', src: 'default/client', dst: 'default/web1', address: IP.web1, port: 8080, protocol: 'TCP', family: 4 },
    { id: 'node-to-pod-4', path: 'node-pod', src: 'node/node1', dst: 'default/web2', address: IP.web2, port: 8080, protocol: 'TCP', family: 4 },
  ];
}

/**
 * A policy case: the lab's policies are replaced by `policies` (labelled like the topology's, so the
 * lab's cleanup removes them) and the agent resyncs; undo puts the topology's own back. The evidence
 * is the agent's DROP for `denied` (e.g. `ingress of default/web2`) counting packets in `family`.
 */
function policyFault(id: string, description: string, probe: string, policies: NetworkPolicy[], denied: string, family: 'iptables' | 'ip6tables'): Fault {
  const replace = async (l: Lab, with_: NetworkPolicy[]) => {
    for (const o of await l.cluster.list('networking.k8s.io/v1', 'NetworkPolicy', undefined, LAB_LABEL)) {
      await l.cluster.deleteObject('networking.k8s.io/v1', 'NetworkPolicy', o.metadata!.namespace, o.metadata!.name!);
    }
    for (const pol of with_) {
      await l.cluster.createObject({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...pol,
        metadata: { ...pol.metadata, labels: { [LAB_LABEL]: l.topo.spec.name } } } as unknown as Parameters<Lab['cluster']['createObject']>[0]);
    }
    await l.syncPolicies();
  };
  return {
    id, plugins: ['flannel-host-gw'], description, netNode: 'cluster', check: 'policy.deny', probe, expect: ['timeout'],
    apply: (l) => replace(l, policies),
    undo: (l) => replace(l, l.topo.spec.policies as NetworkPolicy[]),
    evidence: (l) => {
      const drop = inNs(nsOf(l, denied.endsWith('web2') ? 'node2' : 'node1'), family, ['-L', '-v', '-x', '-n']).split('\n').find((x) => x.includes(`${denied} denied by`));
      return drop && Number(drop.trim().split(/\s+/)[0]) > 0 ? undefined : `the policy agent's ${family} DROP for ${denied} counted no packet`;
    },
  };
}

const dualPolicyFaults: Fault[] = [
  policyFault('policy-default-deny-allow-client',
    'default-deny-ingress selects every pod of default; web-allow-client admits only the client (podSelector, any port): node1 is denied to web2 over IPv4 and IPv6 alike, the client allowed over both',
    'node-to-pod-6', [
      { metadata: { name: 'default-deny-ingress', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
      { metadata: { name: 'web-allow-client', namespace: 'default' }, spec: { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] } },
    ], 'ingress of default/web2', 'ip6tables'),
  policyFault('policy-ipblock-ipv4-only',
    "web-allow-client admits the client's IPv4 pod CIDR and the nodes' IPv4 segment by ipBlock only: IPv4 is allowed, every IPv6 flow to a web pod is denied (an IPv4 block does not match IPv6)",
    'cross-node-6', [
      { metadata: { name: 'web-allow-client', namespace: 'default' }, spec: { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Ingress'],
        ingress: [{ from: [{ ipBlock: { cidr: '10.244.1.0/24' } }, { ipBlock: { cidr: '198.51.100.0/24' } }] }] } },
    ], 'ingress of default/web2', 'ip6tables'),
  policyFault('policy-egress-ipv6-except',
    "client-egress lets the client reach all of IPv4 and all of IPv6 except node2's IPv6 pod CIDR: IPv6 to web2 (directly or as a Service backend) is denied, everything else allowed",
    'cross-node-6', [
      DUAL_WEB_POLICY,
      { metadata: { name: 'client-egress', namespace: 'default' }, spec: { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0', except: [POD_CIDR6.node2] } }] }] } },
    ], 'egress of default/client', 'ip6tables'),
];

const TAG = 'netpath-lab-fault';
const nsOf = (lab: Lab, node: string) => lab.topo.node(node).netns;

/** an ip6tables/iptables rule tagged with TAG: inserted first, deleted on undo, its packet counter is the evidence */
function tagged(cmd: 'iptables' | 'ip6tables', node: string, table: string, chain: string, spec: string[]) {
  const args = ['-t', table, '-m', 'comment', '--comment', TAG, ...spec];
  return {
    apply: (l: Lab) => { inNs(nsOf(l, node), cmd, ['-t', table, '-I', chain, '1', ...args.slice(2)]); },
    undo: (l: Lab) => { inNs(nsOf(l, node), cmd, ['-t', table, '-D', chain, ...args.slice(2)]); },
    evidence: (l: Lab) => {
      const line = inNs(nsOf(l, node), cmd, ['-t', table, '-L', chain, '-v', '-x', '-n']).split('\n').find((x) => x.includes(TAG));
      if (!line) return `no ${TAG} rule in ${cmd} ${table}/${chain}`;
      return Number(line.trim().split(/\s+/)[0]) > 0 ? undefined : `the injected ${cmd} rule in ${table}/${chain} counted no packet`;
    },
  };
}

function dualFaults(plugin: Plugin): Fault[] {
  const P = [plugin];
  const FAIL: Fault['expect'] = ['timeout', 'unreachable'];
  const vx = plugin === 'flannel-vxlan';
  const route6 = (l: Lab) => vx ? [POD_CIDR6.node2, 'via', l.topo.node('node2').tunnelIP6!, 'dev', FLANNEL_V6_TUNNEL, 'onlink'] : [POD_CIDR6.node2, 'via', NODE2_IP6, 'dev', 'eth0'];
  const all: (Fault & { on: Plugin[] })[] = [
    { id: 'ip6tables-forward-drop', on: ['flannel-host-gw', 'generic-bridge'], plugins: P, description: "node2's ip6tables drops TCP to web2's IPv6 address in FORWARD (IPv4 untouched)",
      netNode: 'node2', check: 'iptables.drop', probe: 'cross-node-6', expect: ['timeout'],
      ...tagged('ip6tables', 'node2', 'filter', 'FORWARD', ['-d', `${IP6.web2}/128`, '-p', 'tcp', '--dport', '8080', '-j', 'DROP']) },
    { id: 'ipv6-route-deleted', on: ['flannel-host-gw', 'flannel-vxlan'], plugins: P, description: "node1 lost its IPv6 route to node2's IPv6 pod CIDR (the IPv4 route stays)",
      netNode: 'node1', check: 'route.missing', probe: 'cross-node-6', expect: FAIL,
      apply: (l) => { ipn(nsOf(l, 'node1'), '-6', 'route', 'del', POD_CIDR6.node2); },
      undo: (l) => { ipn(nsOf(l, 'node1'), '-6', 'route', 'add', ...route6(l)); } },
    { id: 'ipv6-forwarding-off', on: ['flannel-host-gw', 'generic-bridge'], plugins: P, description: 'node2 has net.ipv6.conf.all.forwarding=0 (IPv4 forwarding stays on)',
      netNode: 'node2', check: 'sysctl.forwarding', probe: 'cross-node-6', expect: FAIL,
      apply: (l) => sysctl(nsOf(l, 'node2'), 'net.ipv6.conf.all.forwarding', 0),
      undo: (l) => sysctl(nsOf(l, 'node2'), 'net.ipv6.conf.all.forwarding', 1) },
    { id: 'ndp-solicitation-dropped', on: ['flannel-host-gw'], plugins: P,
      description: "node2's ip6tables drops incoming ICMPv6 neighbour solicitations: node1 cannot resolve node2's IPv6 address (ARP for IPv4 is unaffected)",
      netNode: 'node2', check: 'ndp.blocked', probe: 'cross-node-6', expect: FAIL,
      apply: (l) => {
        inNs(nsOf(l, 'node2'), 'ip6tables', ['-I', 'INPUT', '1', '-p', 'ipv6-icmp', '--icmpv6-type', 'neighbour-solicitation', '-m', 'comment', '--comment', TAG, '-j', 'DROP']);
        // forget what node1 already resolved, so the next packet needs NDP
        ipn(nsOf(l, 'node1'), '-6', 'neigh', 'flush', 'dev', 'eth0');
      },
      undo: (l) => {
        inNs(nsOf(l, 'node2'), 'ip6tables', ['-D', 'INPUT', '-p', 'ipv6-icmp', '--icmpv6-type', 'neighbour-solicitation', '-m', 'comment', '--comment', TAG, '-j', 'DROP']);
        run('ip', ['-n', nsOf(l, 'node1'), '-6', 'neigh', 'flush', 'dev', 'eth0'], { allowFail: true });
      },
      evidence: tagged('ip6tables', 'node2', 'filter', 'INPUT', []).evidence },
    { id: 'vxlan6-neigh-missing', on: ['flannel-vxlan'], plugins: P, description: `node1's ${FLANNEL_V6_TUNNEL} has no neighbour entry for node2's IPv6 VTEP (flannel.1's IPv4 one stays)`,
      netNode: 'node1', check: 'neigh.missing', probe: 'cross-node-6', expect: FAIL,
      apply: (l) => { ipn(nsOf(l, 'node1'), '-6', 'neigh', 'del', l.topo.node('node2').tunnelIP6!, 'dev', FLANNEL_V6_TUNNEL); },
      undo: (l) => { const n2 = l.topo.node('node2'); ipn(nsOf(l, 'node1'), '-6', 'neigh', 'replace', n2.tunnelIP6!, 'lladdr', n2.tunnelMAC6!, 'dev', FLANNEL_V6_TUNNEL, 'nud', 'permanent'); } },
    { id: 'ipv6-dnat-wrong-port', on: ['flannel-host-gw'], plugins: P,
      description: "node1's ip6tables DNATs web-remote's IPv6 cluster IP to web2:8081, where nothing listens (the IPv4 DNAT stays on 8080)",
      netNode: 'default/web2', check: 'service.target-port', probe: 'clusterip-remote-6', expect: ['refused'], errno: ['ECONNREFUSED'],
      ...tagged('ip6tables', 'node1', 'nat', 'KUBE-SERVICES', ['-d', `${SVC6.remote}/128`, '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', `[${IP6.web2}]:8081`]) },
    { id: 'ipv4-forward-drop', on: ['flannel-host-gw', 'flannel-vxlan'], plugins: P, description: "node2's iptables drops TCP to web2's IPv4 address in FORWARD (IPv6 untouched)",
      netNode: 'node2', check: 'iptables.drop', probe: 'cross-node-4', expect: ['timeout'],
      ...tagged('iptables', 'node2', 'filter', 'FORWARD', ['-d', `${IP.web2}/32`, '-p', 'tcp', '--dport', '8080', '-j', 'DROP']) },
  ];
  return all.filter((f) => f.on.includes(plugin)).map(({ on: _on, ...f }) => f);
}

/**
 * flannel vxlan with web1 also serving UDP 5353 (same-node UDP) and the web policy admitting the
 * nodes' own cni0 addresses (a node reaches its own pods from its bridge address).
 */
export function kubeskoopTopology(): TopologySpec {
  const s = standardTopology('flannel-vxlan', 'flannel-vxlan-kubeskoop');
  const nodes = s.nodes.map((n) => ({ ...n, pods: n.pods.map((p) => p.name === 'web1' ? { ...p, listen: [...p.listen!, { port: 5353, protocol: 'UDP' as const, name: 'dns' }] } : p) }));
  const pol = s.policies[0] as { metadata: object; spec: { ingress: { from?: object[] }[] } };
  const ingress = pol.spec.ingress.map((r, i) => i === 0 ? { ...r, from: [...r.from!, { ipBlock: { cidr: '10.244.1.1/32' } }, { ipBlock: { cidr: '10.244.2.1/32' } }] } : r);
  return { ...s, nodes, policies: [{ ...pol, spec: { ...pol.spec, ingress } }] };
}

export function kubeskoopProbes(): ProbeSpec[] {
  return [
    { id: 'node-to-own-pod', path: 'node-pod', src: 'node/node1', dst: 'default/web1', address: IP.web1, port: 8080, protocol: 'TCP' },
    { id: 'same-node-udp', path: 'pod-pod-same-node', src: 'default/client', dst: 'default/web1', address: IP.web1, port: 5353, protocol: 'UDP' },
    { id: 'same-node', path: 'pod-pod-same-node', src: 'default/client', dst: 'default/web1', address: IP.web1, port: 8080, protocol: 'TCP' },
    { id: 'cross-node', path: 'pod-pod-cross-node', src: 'default/client', dst: 'default/web2', address: IP.web2, port: 8080, protocol: 'TCP' },
    { id: 'cross-node-udp', path: 'pod-pod-cross-node', src: 'default/client', dst: 'default/web2', address: IP.web2, port: 5353, protocol: 'UDP' },
    // a datagram that fills the pod MTU (1450 - 28): encapsulated, 1500 bytes on the underlay
    { id: 'cross-node-udp-full', path: 'pod-pod-cross-node', src: 'default/client', dst: 'default/web2', address: IP.web2, port: 5353, protocol: 'UDP', size: 1422 },
    { id: 'node-to-pod', path: 'node-pod', src: 'node/node1', dst: 'default/web2', address: IP.web2, port: 8080, protocol: 'TCP' },
  ];
}

/** a counter of /proc/net/snmp (e.g. Ip FragCreates) in a netns */
function snmp(netns: string, proto: string, key: string): number {
  const lines = inNs(netns, 'cat', ['/proc/net/snmp']).split('\n').filter((l) => l.startsWith(proto + ':'));
  const names = lines[0]?.split(/\s+/) ?? [], values = lines[1]?.split(/\s+/) ?? [];
  const i = names.indexOf(key);
  if (i < 1) throw new Error(`no ${proto} ${key} in /proc/net/snmp`);
  return Number(values[i]);
}
let fragBaseline = 0;

const kubeskoopFaults: Fault[] = [
  // What this kernel does with it: the pod's full-size datagram still arrives. flannel.1 (1450) takes it,
  // and the encapsulated 1500-byte packet leaves eth0 (1400) in two fragments (VXLAN's outer header
  // does not set DF); the PMTU node1 learns for the destination does not apply to forwarded packets
  // (ip_forward_use_pmtu=0). So the probe is reachable, the evidence is node1's fragment counter, and a
  // diagnosis should warn (mtu.mismatch) without calling the path broken.
  { id: 'node-mtu-1400', plugins: ['flannel-vxlan'], description: "node1's uplink eth0 has MTU 1400 while flannel.1 and the pods keep 1450: full-size pod packets leave node1 fragmented",
    netNode: 'node1', check: 'interface.mtu', probe: 'cross-node-udp-full', expect: ['reachable'],
    apply: (l) => { fragBaseline = snmp(nsOf(l, 'node1'), 'Ip', 'FragCreates'); ipn(nsOf(l, 'node1'), 'link', 'set', 'eth0', 'mtu', '1400'); },
    undo: (l) => { ipn(nsOf(l, 'node1'), 'link', 'set', 'eth0', 'mtu', '1500'); ipn(nsOf(l, 'node1'), 'route', 'flush', 'cache'); },
    evidence: (l) => (snmp(nsOf(l, 'node1'), 'Ip', 'FragCreates') > fragBaseline ? undefined : 'node1 fragmented nothing (Ip FragCreates did not rise)') },
  { id: 'cni0-down', plugins: ['flannel-vxlan'], description: 'cni0 on node2 is down', netNode: 'node2', check: 'bridge.down', probe: 'cross-node', expect: ['timeout', 'unreachable'],
    apply: (l) => { ipn(nsOf(l, 'node2'), 'link', 'set', 'cni0', 'down'); },
    undo: (l) => {
      ipn(nsOf(l, 'node2'), 'link', 'set', 'cni0', 'up');
      // the route to the pod CIDR left with the link; the kernel puts the connected route back, and
      // web2's neighbour entry may be FAILED meanwhile: forget it rather than wait for the retry timer
      run('ip', ['-n', nsOf(l, 'node2'), 'neigh', 'del', IP.web2, 'dev', 'cni0'], { allowFail: true });
    } },
];

export const VARIANTS: Variant[] = [
  ...(['flannel-host-gw', 'flannel-vxlan', 'generic-bridge'] as Plugin[]).map((plugin): Variant => ({
    name: `${plugin}-dual`, plugin, spec: () => dualTopology(plugin), probes: dualProbes, faults: dualFaults(plugin),
  })),
  { name: 'flannel-host-gw-dual-policy', plugin: 'flannel-host-gw', spec: dualPolicyTopology, probes: dualPolicyProbes, faults: dualPolicyFaults },
  { name: 'flannel-vxlan-kubeskoop', plugin: 'flannel-vxlan', spec: kubeskoopTopology, probes: kubeskoopProbes, faults: kubeskoopFaults },
];
