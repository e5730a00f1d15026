// Seeded generator of synthetic snapshots at cluster scale: N nodes, P pods, S services with E
// endpoints each, in the real `*.netpath.json` format. The two nodes the measured paths cross
// (`client` on the first node, the `bench-web` pods on the second) carry full dumps shaped like the
// lab's real flannel host-gw nodes: kube-proxy's iptables-mode chains for every service
// (KUBE-SERVICES → KUBE-SVC-* with statistic branches → KUBE-SEP-* DNAT, KUBE-MARK-MASQ,
// KUBE-NODEPORTS, KUBE-POSTROUTING, comments, hashed chain names), a cni0 bridge with one veth per
// pod, a host-gw route to every other node's pod CIDR, sysctls and listening sockets. Every other
// node carries a small host-only dump (interfaces, addresses, routes): a diagnosis that stays lazy
// never reads them, and their size does not hide a scan over them.
//
// Usage as a script: `tsx bench/generate.ts --nodes 100 --pods 3000 --services 900 --endpoints 3
// --seed 1 --out /tmp/s.netpath.json [--out-v1 /tmp/s1.netpath.json]` (writes format version 2, and
// version 1 with --out-v1; prints the probes and the rule count as JSON on stdout).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { IprouteJson, NetNSInfo, NodeNetworkStackDump } from '../src/shared/dump';
import type { K8sObject, NetpathSnapshot } from '../src/engine/snapshot/types';
import type { DiagnosisRequest } from '../src/engine/model/result';
import { rng } from '../test/support/random';
import { encodeSnapshot } from '../src/engine/snapshot/format';

export interface GenerateOptions {
  nodes: number;
  pods: number;
  services: number;
  /** Endpoints (ready backend pods) per service. */
  endpoints: number;
  seed: number;
  /** Fraction of the services that are NodePort (adds KUBE-NODEPORTS rules and a socket). */
  nodePortShare?: number;
  /**
   * Host-gw routes in the path nodes' dumps: to the first `pathRoutes` other nodes only (default:
   * every node, as flannel host-gw has). Lets a series vary the other nodes while the path nodes'
   * own state stays the same size.
   */
  pathRoutes?: number;
  /** NetworkPolicies spread over the namespaces (none selects the measured pods' ingress port away). */
  policies?: number;
  /** How many nodes (the first ones) carry full dumps with a netns per pod; default 2 (the path nodes). */
  fullDumps?: number;
}

export interface GeneratedSnapshot {
  snapshot: NetpathSnapshot;
  /** The requests a benchmark diagnoses; both are reachable in the generated healthy cluster. */
  probes: { podToPod: DiagnosisRequest; podToService: DiagnosisRequest };
  /** The nodes with full dumps (the ones the probes cross). */
  pathNodes: string[];
  /** ClusterIP of the measured service. */
  serviceIP: string;
  /** `-A` lines in one full dump's iptables-save text. */
  rulesPerFullDump: number;
}

/** How many services give a full dump about `rules` iptables rules with `endpoints` endpoints each. */
export function servicesForRules(rules: number, endpoints: number, nodePortShare = 0.1): number {
  // Per service: 2 KUBE-SERVICES rules, E KUBE-SVC rules, 2E KUBE-SEP rules, 2 KUBE-NODEPORTS rules for NodePorts.
  return Math.max(2, Math.round((rules - 40) / (2 + 3 * endpoints + 2 * nodePortShare)));
}

// --- deterministic randomness ------------------------------------------------------------------



// --- addressing ----------------------------------------------------------------------------------
// Nodes 10.0.0.0/16 (gateway 10.0.0.1), pods 10.128.0.0/9 with a /24 per node (flannel's
// subnet lease), services 10.96.0.0/12.
const CLUSTER_CIDR = '10.128.0.0/9';
const SERVICE_CIDR = '10.96.0.0/12';
const NODE_GW = '10.0.0.1';

function ipv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
const nodeIP = (i: number) => ipv4((10 << 24) + 10 + i);
const podSubnetBase = (i: number) => (10 << 24) + (128 << 16) + (i << 8);
const podCIDR = (i: number) => `${ipv4(podSubnetBase(i))}/24`;
const serviceIP = (j: number) => ipv4((10 << 24) + (96 << 16) + 10 + j);
const nodeName = (i: number) => `node-${String(i).padStart(5, '0')}`;

// --- kube-proxy chain names: "KUBE-SVC-" + base32(sha256(svcPortName + protocol))[:16] ---------

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function hash16(text: string): string {
  const h = createHash('sha256').update(text).digest();
  let bits = 0, value = 0, out = '';
  for (let i = 0; out.length < 16; i++) {
    value = (value << 8) | h[i];
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** `--probability` as iptables-save prints it: the kernel keeps lround(2^31·p), printed with %.11f. */
function probability(p: number): string {
  return (Math.round(0x80000000 * p) / 0x80000000).toFixed(11);
}

// --- the model of the cluster --------------------------------------------------------------------

interface PodSpec {
  ns: string;
  name: string;
  node: number;
  ip: string;
  app: string;
  port: number;
}

interface ServiceSpec {
  ns: string;
  name: string;
  ip: string;
  port: number;
  targetPort: number;
  nodePort?: number;
  app: string;
  backends: PodSpec[];
}

const MEASURED_PORT = 8080;

export function generateSnapshot(o: GenerateOptions): GeneratedSnapshot {
  const rnd = rng(o.seed);
  const pick = (n: number) => Math.floor(rnd() * n);
  const N = o.nodes, P = o.pods, S = o.services, E = o.endpoints;
  if (N < 2) throw new Error('need at least 2 nodes (the measured path crosses two)');
  if (N > 32000) throw new Error('at most 32000 nodes (one /24 pod subnet each in 10.128.0.0/9)');
  if (P < S * E + E + 1) throw new Error(`need at least ${S * E + E + 1} pods for ${S} services × ${E} endpoints plus the measured ones`);
  const perNode = Math.ceil(P / N);
  if (perNode > 250) throw new Error(`${perNode} pods per node do not fit a /24 pod subnet (at most 250)`);
  const namespaces = ['default', ...Array.from({ length: Math.max(1, Math.min(50, Math.ceil(S / 200))) }, (_, i) => `team-${String(i).padStart(2, '0')}`)];

  // Pods: node k gets pods k, k+N, k+2N … (round robin) so every node has ~P/N pods.
  const pods: PodSpec[] = [];
  const podsOnNode: PodSpec[][] = Array.from({ length: N }, () => []);
  const addPod = (ns: string, name: string, node: number, app: string) => {
    const list = podsOnNode[node];
    if (list.length >= 250) throw new Error(`node ${nodeName(node)} is full`);
    const p: PodSpec = { ns, name, node, ip: ipv4(podSubnetBase(node) + 2 + list.length), app, port: MEASURED_PORT };
    list.push(p);
    pods.push(p);
    return p;
  };
  // The measured pods: the client on node 0, the bench-web backends and the pod→pod target on node 1
  // (more than a node holds go on nodes 2, 3 …, 250 a node, each with a full dump too).
  const client = addPod('default', 'client', 0, 'client');
  const web: PodSpec[] = [];
  if (Math.ceil(E / 250) >= N) throw new Error(`${E} measured endpoints need ${Math.ceil(E / 250) + 1} nodes`);
  for (let e = 0; e < E; e++) web.push(addPod('default', `bench-web-${e}`, 1 + Math.floor(e / 250), 'bench-web'));
  const fullNodes = [...new Set([0, 1, ...web.map((p) => p.node)])];
  const services: ServiceSpec[] = [];
  const measuredAt = pick(S);
  let next = 2;
  let nodePorts = 0;
  for (let j = 0; j < S; j++) {
    const ns = j === measuredAt ? 'default' : namespaces[1 + (j % (namespaces.length - 1))];
    const name = j === measuredAt ? 'bench-web' : `svc-${String(j).padStart(5, '0')}`;
    const app = name;
    let backends: PodSpec[];
    if (j === measuredAt) backends = web;
    else {
      backends = [];
      for (let e = 0; e < E; e++) {
        // Other services' backends land anywhere but on the two measured nodes' pod lists' heads.
        let node = next++ % N;
        for (let tries = 0; podsOnNode[node].length >= perNode && tries < N; tries++) node = (node + 1) % N;
        backends.push(addPod(ns, `${name}-${hash16(`${name}/${e}`).slice(0, 5).toLowerCase()}`, node, app));
      }
    }
    const isNodePort = j !== measuredAt && rnd() < (o.nodePortShare ?? 0.1);
    if (isNodePort) nodePorts++;
    services.push({
      ns, name, ip: serviceIP(j), port: j === measuredAt ? 80 : 80 + (j % 3) * 1000, targetPort: MEASURED_PORT,
      nodePort: isNodePort ? 30000 + (nodePorts % 2768) : undefined, app, backends,
    });
  }
  // Fill the rest with unselected pods (deployments without services, jobs …).
  let filler = 0;
  for (let node = 0; node < N && pods.length < P; node++) {
    while (podsOnNode[node].length < perNode && pods.length < P) {
      addPod(namespaces[filler % namespaces.length], `worker-${String(filler).padStart(6, '0')}`, node, `worker-${filler % 97}`);
      filler++;
    }
  }
  const svcMeasured = services[measuredAt];

  const snapshot: NetpathSnapshot = {
    kind: 'NetpathSnapshot',
    version: 1,
    capturedAt: '2026-01-01T00:00:00Z',
    settings: {
      networkPlugin: 'flannel',
      backend: 'host-gw',
      proxyMode: 'iptables',
      podCIDRs: Array.from({ length: N }, (_, i) => podCIDR(i)).sort(),
      serviceCIDRs: [SERVICE_CIDR],
    },
    objects: {
      nodes: Array.from({ length: N }, (_, i) => nodeObject(i)),
      pods: pods.map(podObject),
      services: [kubernetesService(), ...services.map(serviceObject)],
      endpointSlices: services.map(sliceObject),
      endpoints: services.map(endpointsObject),
      networkPolicies: policies(o.policies ?? Math.ceil(S / 100), namespaces),
      namespaces: namespaces.concat('kube-system').map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n, labels: { 'kubernetes.io/metadata.name': n } } })),
      configMaps: [flannelConfig()],
    },
    dumps: {},
  };
  const iptables = (i: number) => kubeProxyIptables(services, i);
  for (let i = 0; i < N; i++) {
    snapshot.dumps[nodeName(i)] = fullNodes.includes(i) || i < (o.fullDumps ?? 2) ? fullDump(i, N, podsOnNode[i], services, iptables(i), rnd, o.pathRoutes) : smallDump(i, rnd);
  }
  const rulesPerFullDump = (iptables(0).match(/^-A /gm) ?? []).length;
  return {
    snapshot,
    probes: {
      podToPod: { src: `default/${client.name}`, dst: `default/${web[0].name}`, port: MEASURED_PORT, protocol: 'tcp' },
      podToService: { src: `default/${client.name}`, dst: `svc/default/${svcMeasured.name}`, port: svcMeasured.port, protocol: 'tcp' },
    },
    pathNodes: fullNodes.map(nodeName),
    serviceIP: svcMeasured.ip,
    rulesPerFullDump,
  };
}

// --- Kubernetes objects --------------------------------------------------------------------------

function nodeObject(i: number): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName(i),
      labels: { 'kubernetes.io/hostname': nodeName(i), 'kubernetes.io/os': 'linux' },
      annotations: {
        'flannel.alpha.coreos.com/backend-type': 'host-gw',
        'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
        'flannel.alpha.coreos.com/public-ip': nodeIP(i),
      },
    },
    spec: { podCIDR: podCIDR(i), podCIDRs: [podCIDR(i)] },
    status: {
      addresses: [{ type: 'InternalIP', address: nodeIP(i) }, { type: 'Hostname', address: nodeName(i) }],
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    },
  };
}

function podObject(p: PodSpec): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.ns, labels: { app: p.app } },
    spec: {
      nodeName: nodeName(p.node),
      containers: [{ name: 'app', image: 'registry.example/app:1.0', ports: [{ name: 'http', containerPort: p.port, protocol: 'TCP' }] }],
    },
    status: {
      phase: 'Running',
      hostIP: nodeIP(p.node),
      podIP: p.ip,
      podIPs: [{ ip: p.ip }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function kubernetesService(): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  };
}

function serviceObject(s: ServiceSpec): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.ns },
    spec: {
      type: s.nodePort ? 'NodePort' : 'ClusterIP',
      clusterIP: s.ip,
      clusterIPs: [s.ip],
      selector: { app: s.app },
      ports: [{ name: 'http', port: s.port, protocol: 'TCP', targetPort: s.targetPort, ...(s.nodePort ? { nodePort: s.nodePort } : {}) }],
      sessionAffinity: 'None',
    },
  };
}

function sliceObject(s: ServiceSpec): K8sObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${s.name}-${hash16(s.name).slice(0, 5).toLowerCase()}`,
      namespace: s.ns,
      labels: { 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: s.targetPort, protocol: 'TCP' }],
    endpoints: s.backends.map((b) => ({
      addresses: [b.ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: nodeName(b.node),
      targetRef: { kind: 'Pod', namespace: b.ns, name: b.name },
    })),
  };
}

function endpointsObject(s: ServiceSpec): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: s.name, namespace: s.ns },
    subsets: [{
      addresses: s.backends.map((b) => ({ ip: b.ip, nodeName: nodeName(b.node), targetRef: { kind: 'Pod', namespace: b.ns, name: b.name } })),
      ports: [{ name: 'http', port: s.targetPort, protocol: 'TCP' }],
    }],
  };
}

/** Per-namespace policies like teams write them: ingress from the same namespace on the app port. */
function policies(count: number, namespaces: string[]): K8sObject[] {
  const out: K8sObject[] = [];
  for (let k = 0; k < count; k++) {
    const ns = namespaces[1 + (k % (namespaces.length - 1))] ?? namespaces[0];
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `allow-same-namespace-${k}`, namespace: ns },
      spec: {
        podSelector: { matchLabels: { app: `svc-${String(k * 7).padStart(5, '0')}` } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: 'TCP', port: MEASURED_PORT }] }],
      },
    });
  }
  // One on the measured path: bench-web accepts the client on its port (evaluated, allowed).
  out.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'bench-web-allow-client', namespace: 'default' },
    spec: {
      podSelector: { matchLabels: { app: 'bench-web' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ protocol: 'TCP', port: MEASURED_PORT }] }],
    },
  });
  return out;
}

function flannelConfig(): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kube-flannel-cfg', namespace: 'kube-system' },
    data: { 'net-conf.json': JSON.stringify({ Network: CLUSTER_CIDR, Backend: { Type: 'host-gw' } }, null, 2) },
  };
}

// --- kube-proxy (iptables mode) ------------------------------------------------------------------

/** `iptables-save` of a node: kube-proxy's chains for every service plus flannel's, as the lab's real nodes print them. */
export function kubeProxyIptables(services: ServiceSpec[], node: number): string {
  const stamp = 'Thu Jan  1 00:00:00 2026';
  const head = `# Generated by iptables-nft-save v1.8.9 (nf_tables) on ${stamp}`;
  const tail = `COMMIT\n# Completed on ${stamp}`;
  const own = podCIDR(node);
  const svcPort = (s: ServiceSpec) => `${s.ns}/${s.name}:http`;
  const svcChain = (s: ServiceSpec) => `KUBE-SVC-${hash16(`${svcPort(s)}tcp`)}`;
  const sepChain = (s: ServiceSpec, b: PodSpec) => `KUBE-SEP-${hash16(`${svcPort(s)}tcp${b.ip}:${s.targetPort}`)}`;

  const mangle = [head, '*mangle', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-PROXY-CANARY - [0:0]', tail];

  const filter = [
    head, '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]',
    ':FLANNEL-FWD - [0:0]', ':KUBE-EXTERNAL-SERVICES - [0:0]', ':KUBE-FIREWALL - [0:0]', ':KUBE-FORWARD - [0:0]', ':KUBE-PROXY-CANARY - [0:0]', ':KUBE-SERVICES - [0:0]',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A INPUT -j KUBE-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -j KUBE-FIREWALL',
    `-A FLANNEL-FWD -s ${CLUSTER_CIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
    `-A FLANNEL-FWD -d ${CLUSTER_CIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
    '-A KUBE-FIREWALL -m comment --comment "kubernetes firewall for dropping marked packets" -m mark --mark 0x8000/0x8000 -j DROP',
    '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod source rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack pod destination rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https has no endpoints" -m tcp --dport 443 -j REJECT --reject-with icmp-port-unreachable',
    tail,
  ];

  const natChains = new Map<string, string[]>();
  const rules = (chain: string) => {
    let l = natChains.get(chain);
    if (!l) natChains.set(chain, (l = []));
    return l;
  };
  for (const c of ['FLANNEL-POSTRTG', 'KUBE-MARK-DROP', 'KUBE-MARK-MASQ', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-PROXY-CANARY', 'KUBE-SERVICES']) rules(c);
  rules('FLANNEL-POSTRTG').push(
    '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
    `-A FLANNEL-POSTRTG -s ${own} -d ${CLUSTER_CIDR} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${CLUSTER_CIDR} -d ${own} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG ! -s ${CLUSTER_CIDR} -d ${own} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${CLUSTER_CIDR} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
  );
  rules('KUBE-MARK-DROP').push('-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000');
  rules('KUBE-MARK-MASQ').push('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
  rules('KUBE-POSTROUTING').push(
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  );
  for (const s of services) {
    const name = svcPort(s);
    const svc = svcChain(s);
    rules('KUBE-SERVICES').push(
      `-A KUBE-SERVICES ! -s ${CLUSTER_CIDR} -d ${s.ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport ${s.port} -j KUBE-MARK-MASQ`,
      `-A KUBE-SERVICES -d ${s.ip}/32 -p tcp -m comment --comment "${name} cluster IP" -m tcp --dport ${s.port} -j ${svc}`,
    );
    if (s.nodePort) {
      rules('KUBE-NODEPORTS').push(
        `-A KUBE-NODEPORTS -p tcp -m comment --comment "${name}" -m tcp --dport ${s.nodePort} -j KUBE-MARK-MASQ`,
        `-A KUBE-NODEPORTS -p tcp -m comment --comment "${name}" -m tcp --dport ${s.nodePort} -j ${svc}`,
      );
    }
    const n = s.backends.length;
    s.backends.forEach((b, k) => {
      const sep = sepChain(s, b);
      const branch = k < n - 1 ? ` -m statistic --mode random --probability ${probability(1 / (n - k))}` : '';
      rules(svc).push(`-A ${svc} -m comment --comment "${name}"${branch} -j ${sep}`);
      rules(sep).push(
        `-A ${sep} -s ${b.ip}/32 -m comment --comment "${name}" -j KUBE-MARK-MASQ`,
        `-A ${sep} -p tcp -m comment --comment "${name}" -m tcp -j DNAT --to-destination ${b.ip}:${s.targetPort}`,
      );
    });
  }
  rules('KUBE-SERVICES').push('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  const userChains = [...natChains.keys()].sort();
  const nat = [
    head, '*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]',
    ...userChains.map((c) => `:${c} - [0:0]`),
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
    ...userChains.flatMap((c) => natChains.get(c)!),
    tail,
  ];
  return [...mangle, ...filter, ...nat].join('\n') + '\n';
}

// --- node dumps ----------------------------------------------------------------------------------

function mac(rnd: () => number): string {
  const b = Array.from({ length: 6 }, () => Math.floor(rnd() * 256));
  b[0] = (b[0] & 0xfe) | 0x02; // locally administered unicast, as veth/bridge MACs are
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function linkBase(ifindex: number, ifname: string, address: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ifindex, ifname, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, qdisc: 'noqueue', operstate: 'UP', linkmode: 'DEFAULT', group: 'default', txqlen: 1000,
    link_type: 'ether', address, broadcast: 'ff:ff:ff:ff:ff:ff', promiscuity: 0, allmulti: 0, min_mtu: 68, max_mtu: 65535,
    inet6_addr_gen_mode: 'eui64', num_tx_queues: 2, num_rx_queues: 2, gso_max_size: 65536, gso_max_segs: 65535, ...extra,
  };
}

function loopback(): Record<string, unknown> {
  return {
    ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, qdisc: 'noqueue', operstate: 'UNKNOWN', linkmode: 'DEFAULT', group: 'default', txqlen: 1000,
    link_type: 'loopback', address: '00:00:00:00:00:00', broadcast: '00:00:00:00:00:00', promiscuity: 0, allmulti: 0, min_mtu: 0, max_mtu: 0,
    inet6_addr_gen_mode: 'eui64', num_tx_queues: 1, num_rx_queues: 1, gso_max_size: 65536, gso_max_segs: 65535,
  };
}

const inet = (label: string, local: string, prefixlen: number, scope = 'global') =>
  ({ family: 'inet', local, prefixlen, scope, label, valid_life_time: 4294967295, preferred_life_time: 4294967295 });

/** `ip -j addr` = the links with their addresses. */
function withAddresses(links: Record<string, unknown>[], addrs: Map<string, unknown[]>): IprouteJson {
  return links.map((l) => ({ ...l, addr_info: addrs.get(l.ifname as string) ?? [] })) as IprouteJson;
}

function localRoutes(dev: string, ip: string, broadcast?: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [{ type: 'local', dst: ip, dev, table: 'local', protocol: 'kernel', scope: 'host', prefsrc: ip, flags: [] }];
  if (broadcast) out.push({ type: 'broadcast', dst: broadcast, dev, table: 'local', protocol: 'kernel', scope: 'link', prefsrc: ip, flags: [] });
  return out;
}

const loRoutes = [
  { type: 'local', dst: '127.0.0.0/8', dev: 'lo', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '127.0.0.1', flags: [] },
  { type: 'local', dst: '127.0.0.1', dev: 'lo', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '127.0.0.1', flags: [] },
  { type: 'broadcast', dst: '127.255.255.255', dev: 'lo', table: 'local', protocol: 'kernel', scope: 'link', prefsrc: '127.0.0.1', flags: [] },
];
const defaultRules4 = [{ priority: 0, src: 'all', table: 'local' }, { priority: 32766, src: 'all', table: 'main' }, { priority: 32767, src: 'all', table: 'default' }];
const defaultRules6 = [{ priority: 0, src: 'all', table: 'local' }, { priority: 32766, src: 'all', table: 'main' }];

function sysctlsFor(ifaces: string[], host: boolean): Record<string, string> {
  const out: Record<string, string> = {
    'net.ipv4.ip_forward': host ? '1' : '0',
    'net.ipv4.ip_local_port_range': '32768\t60999',
    'net.ipv6.bindv6only': '0',
    'net.ipv6.conf.all.forwarding': host ? '1' : '0',
    'net.netfilter.nf_conntrack_max': '262144',
    'net.nf_conntrack_max': '262144',
    'net.core.somaxconn': '4096',
    'net.ipv4.tcp_syncookies': '1',
  };
  if (host) {
    out['net.bridge.bridge-nf-call-iptables'] = '1';
    out['net.bridge.bridge-nf-call-ip6tables'] = '1';
    out['net.bridge.bridge-nf-call-arptables'] = '1';
  }
  for (const dev of ['all', 'default', ...ifaces]) {
    const k = dev.replace(/\./g, '/');
    out[`net.ipv4.conf.${k}.forwarding`] = host ? '1' : '0';
    out[`net.ipv4.conf.${k}.rp_filter`] = dev === 'default' || dev === 'all' ? '2' : '0';
    out[`net.ipv4.conf.${k}.proxy_arp`] = '0';
    out[`net.ipv4.conf.${k}.accept_local`] = '0';
    out[`net.ipv4.conf.${k}.route_localnet`] = '0';
    out[`net.ipv4.conf.${k}.arp_ignore`] = '0';
    out[`net.ipv4.conf.${k}.arp_announce`] = '0';
    out[`net.ipv4.conf.${k}.send_redirects`] = '1';
    out[`net.ipv6.conf.${k}.forwarding`] = host ? '1' : '0';
    out[`net.ipv6.conf.${k}.disable_ipv6`] = '0';
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const collector = (durationMs: number) => ({ version: 'netpath 0.1.0, format 1', startedAt: '2026-01-01T00:00:00Z', durationMs, errors: [] });
const netnsId = (node: number, k: number) => 4026531840 + node * 1000 + k;

/** A node the probes cross: host netns with bridge, veths and host-gw routes; one netns per pod. */
function fullDump(i: number, N: number, podsHere: PodSpec[], services: ServiceSpec[], iptables: string, rnd: () => number, pathRoutes = N): NodeNetworkStackDump {
  const ip = nodeIP(i);
  const gw = ipv4(podSubnetBase(i) + 1);
  const bcast = ipv4(podSubnetBase(i) + 255);
  const bridgeMac = mac(rnd);
  const links: Record<string, unknown>[] = [loopback(), linkBase(2, 'eth0', mac(rnd), { qdisc: 'mq' })];
  links.push(linkBase(3, 'cni0', bridgeMac, { num_tx_queues: 1, num_rx_queues: 1, linkinfo: { info_kind: 'bridge', info_data: { forward_delay: 1500, hello_time: 200, max_age: 2000, ageing_time: 30000, stp_state: 0, priority: 32768, vlan_filtering: 0, nf_call_iptables: 0, nf_call_ip6tables: 0, nf_call_arptables: 0, bridge_id: `8000.${bridgeMac}`, root_id: `8000.${bridgeMac}` } } }));
  const addrs = new Map<string, unknown[]>([['lo', [inet('lo', '127.0.0.1', 8, 'host')]], ['eth0', [inet('eth0', ip, 16)]], ['cni0', [inet('cni0', gw, 24)]]]);
  const podNs: NetNSInfo[] = [];
  const neighbours: Record<string, unknown>[] = [{ dst: NODE_GW, dev: 'eth0', lladdr: mac(rnd), state: ['REACHABLE'] }];
  podsHere.forEach((p, k) => {
    const hostIf = 4 + k;
    const veth = `veth${hash16(`${p.ns}/${p.name}`).slice(0, 8).toLowerCase()}`;
    const podMac = mac(rnd);
    links.push(linkBase(hostIf, veth, mac(rnd), {
      master: 'cni0', link_index: 2, link_netnsid: k, promiscuity: 1, allmulti: 1,
      linkinfo: { info_kind: 'veth', info_slave_kind: 'bridge', info_slave_data: { state: 'forwarding', priority: 32, cost: 2, hairpin: false, learning: true, flood: true, proxy_arp: false, bcast_flood: true, isolated: false } },
    }));
    neighbours.push({ dst: p.ip, dev: 'cni0', lladdr: podMac, state: ['REACHABLE'] });
    const podLinks = [loopback(), linkBase(2, 'eth0', podMac, { link_index: hostIf, link_netnsid: 0, linkinfo: { info_kind: 'veth' } })];
    podNs.push({
      id: netnsId(i, k + 1),
      pids: [100000 + i * 1000 + k],
      links: podLinks as IprouteJson,
      addresses: withAddresses(podLinks, new Map([['lo', [inet('lo', '127.0.0.1', 8, 'host')]], ['eth0', [inet('eth0', p.ip, 24)]]])),
      routes: [
        { dst: 'default', gateway: gw, dev: 'eth0', flags: [] },
        { dst: podCIDR(i), dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: p.ip, flags: [] },
        ...localRoutes('eth0', p.ip, bcast),
        ...loRoutes,
      ] as IprouteJson,
      routes6: [],
      rules: defaultRules4 as IprouteJson,
      rules6: defaultRules6 as IprouteJson,
      neighbours: [{ dst: gw, dev: 'eth0', lladdr: bridgeMac, state: ['REACHABLE'] }] as IprouteJson,
      neighbours6: [],
      fdb: [],
      iptables: { nft: '' },
      ip6tables: { nft: '' },
      ipsets: '',
      ipvs: '',
      sockets: `tcp LISTEN 0      4096         0.0.0.0:${p.port}      0.0.0.0:*\n`,
      sysctls: sysctlsFor(['lo', 'eth0'], false),
      conntrack: { count: 0, max: 262144 },
    });
  });
  const routes: Record<string, unknown>[] = [
    { dst: 'default', gateway: NODE_GW, dev: 'eth0', flags: [] },
    { dst: '10.0.0.0/16', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: ip, flags: [] },
    { dst: podCIDR(i), dev: 'cni0', protocol: 'kernel', scope: 'link', prefsrc: gw, flags: [] },
  ];
  // flannel host-gw: the pod subnet of every other node via that node.
  for (let k = 0, n = 0; k < N && n < pathRoutes; k++) if (k !== i) (routes.push({ dst: podCIDR(k), gateway: nodeIP(k), dev: 'eth0', flags: [] }), n++);
  routes.push(...localRoutes('eth0', ip, '10.0.255.255'), ...localRoutes('cni0', gw, bcast), ...loRoutes);
  const nodePorts = services.filter((s) => s.nodePort).map((s) => s.nodePort!);
  const sockets = [
    'tcp LISTEN 0      4096         0.0.0.0:22         0.0.0.0:*',
    'tcp LISTEN 0      4096       127.0.0.1:10248      0.0.0.0:*',
    'tcp LISTEN 0      4096       127.0.0.1:10249      0.0.0.0:*',
    'tcp LISTEN 0      4096               *:10250            *:*',
    'tcp LISTEN 0      4096               *:10256            *:*',
    ...[...new Set(nodePorts)].sort((a, b) => a - b).map((p) => `tcp LISTEN 0      4096         0.0.0.0:${p}      0.0.0.0:*`),
  ].join('\n') + '\n';
  const hostLinks = links;
  return {
    node: {
      id: netnsId(i, 0),
      pids: [1],
      links: hostLinks as IprouteJson,
      addresses: withAddresses(hostLinks, addrs),
      routes: routes as IprouteJson,
      routes6: [],
      rules: defaultRules4 as IprouteJson,
      rules6: defaultRules6 as IprouteJson,
      neighbours: neighbours as IprouteJson,
      neighbours6: [],
      fdb: [],
      iptables: { nft: iptables },
      ip6tables: { nft: '' },
      ipsets: '',
      ipvs: '',
      sockets,
      sysctls: sysctlsFor(hostLinks.map((l) => l.ifname as string), true),
      conntrack: { count: 120, max: 262144 },
    },
    netns: podNs,
    collector: collector(900),
  };
}

/** A node off the measured paths: its host netns only (what a quick collector pass returns). */
function smallDump(i: number, rnd: () => number): NodeNetworkStackDump {
  const ip = nodeIP(i);
  const gw = ipv4(podSubnetBase(i) + 1);
  const links = [loopback(), linkBase(2, 'eth0', mac(rnd), { qdisc: 'mq' }), linkBase(3, 'cni0', mac(rnd), { linkinfo: { info_kind: 'bridge' } })];
  return {
    node: {
      id: netnsId(i, 0),
      pids: [1],
      links: links as IprouteJson,
      addresses: withAddresses(links, new Map([['lo', [inet('lo', '127.0.0.1', 8, 'host')]], ['eth0', [inet('eth0', ip, 16)]], ['cni0', [inet('cni0', gw, 24)]]])),
      routes: [
        { dst: 'default', gateway: NODE_GW, dev: 'eth0', flags: [] },
        { dst: '10.0.0.0/16', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: ip, flags: [] },
        { dst: podCIDR(i), dev: 'cni0', protocol: 'kernel', scope: 'link', prefsrc: gw, flags: [] },
      ] as IprouteJson,
      sysctls: { 'net.ipv4.ip_forward': '1' },
    },
    netns: [],
    collector: collector(120),
  };
}

// --- script --------------------------------------------------------------------------------------

if (process.argv[1] && /generate\.ts$/.test(process.argv[1])) {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '100' },
      pods: { type: 'string' },
      services: { type: 'string' },
      rules: { type: 'string' },
      endpoints: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      'iptables-out': { type: 'string' },
      'path-routes': { type: 'string' },
      'out-v1': { type: 'string' },
    },
  });
  const nodes = Number(values.nodes);
  const endpoints = Number(values.endpoints);
  const services = values.services ? Number(values.services) : servicesForRules(Number(values.rules ?? 10000), endpoints);
  const pods = values.pods ? Number(values.pods) : Math.max(nodes * 30, services * endpoints + endpoints + 1);
  const g = generateSnapshot({ nodes, pods, services, endpoints, seed: Number(values.seed), ...(values['path-routes'] ? { pathRoutes: Number(values['path-routes']) } : {}) });
  // What `snapshot assemble` and `snapshot capture` write: format version 2 (`--out-v1`: the same snapshot as version 1 too).
  const text = encodeSnapshot(g.snapshot);
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  if (values['out-v1']) writeFileSync(values['out-v1'], JSON.stringify(g.snapshot));
  // The first path node's iptables-save text, for the iptables-legacy-restore anchor.
  if (values['iptables-out']) writeFileSync(values['iptables-out'], g.snapshot.dumps[g.pathNodes[0]].node.iptables!.nft!);
  const { probes, pathNodes, serviceIP, rulesPerFullDump } = g;
  if (values.out) console.log(JSON.stringify({ probes, pathNodes, serviceIP, rulesPerFullDump, nodes, pods: g.snapshot.objects.pods.length, services, bytes: text.length }));
}
