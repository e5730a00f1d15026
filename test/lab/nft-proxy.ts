// kube-proxy's nftables mode for the lab, whose kube-proxy (1.20) has none: the `ip kube-proxy`
// table computed from the apiserver's Services and EndpointSlices in the shape upstream's
// pkg/proxy/nftables proxier writes it (base chains filter-*/nat-* at dstnat-10/dstnat/srcnat, the
// services dispatch through the service-ips / service-nodeports verdict maps, per-service chains
// with a numgen vmap over per-endpoint chains that DNAT, external-* chains for NodePort / externalIP /
// LB traffic, no-endpoint-* maps to reject-chain, firewall-ips for loadBalancerSourceRanges,
// cluster-ips, mark-for-masquerade and masquerading), loaded into each node netns with the real
// `nft -f` in place of starting kube-proxy. `kubeProxyNftScript` is pure: the engine's unit tests
// build their nft JSON from the same script (test/engine/service-nftables.test.ts).
import { createHash } from 'node:crypto';
import { inNs } from './exec';
import type { LabCluster } from './cluster';
import type { Topology } from './topology';

export type L4 = 'tcp' | 'udp' | 'sctp';

export interface NftEndpoint { ip: string; port: number; node?: string; ready: boolean; serving: boolean; terminating: boolean }

export interface NftServicePort {
  namespace: string;
  name: string;
  portName: string;
  protocol: L4;
  port: number;
  nodePort?: number;
  clusterIP?: string;
  externalIPs?: string[];
  loadBalancerIPs?: string[];
  sourceRanges?: string[];
  externalLocal?: boolean;
  internalLocal?: boolean;
  affinitySeconds?: number;
  endpoints: NftEndpoint[];
}

export interface NftProxyNode {
  family: 'ip' | 'ip6';
  node: string;
  /** `--nodeport-addresses primary`: the nodeport-ips set; empty: every local address (`fib daddr type local`). */
  nodePortIPs: string[];
  /** the local-traffic detector (`--cluster-cidr`): sources outside it are masqueraded to ClusterIPs */
  clusterCIDR: string;
  serviceCIDRs: string[];
  masqueradeMark?: number;
}

/** upstream's hashAndTruncate: base32(sha256(name))[:8] + "-" + name */
export function chainBase(name: string): string {
  const h = createHash('sha256').update(name).digest();
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, val = 0, out = '';
  for (const b of h) {
    val = (val << 8) | b; bits += 8;
    while (bits >= 5 && out.length < 8) { out += A[(val >>> (bits - 5)) & 31]; bits -= 5; }
    if (out.length >= 8) break;
  }
  return `${out}-${name}`;
}

type PortName = Pick<NftServicePort, 'namespace' | 'name' | 'protocol' | 'portName'>;

export function serviceChainBase(sp: PortName): string {
  return chainBase(`${sp.namespace}/${sp.name}/${sp.protocol}/${sp.portName}`);
}
export function endpointChain(sp: PortName, ep: { ip: string; port: number }): string {
  return `endpoint-${chainBase(`${sp.namespace}/${sp.name}/${sp.protocol}/${sp.portName}__${ep.ip.replace(/:/g, '.')}/${ep.port}`)}`;
}

/** kube-proxy's CategorizeEndpoints, in short: ready ones, else serving+terminating; Local = on this node. */
function pick(eps: NftEndpoint[]): NftEndpoint[] {
  const ready = eps.filter((e) => e.ready);
  return ready.length ? ready : eps.filter((e) => e.serving && e.terminating);
}

/** The nft script kube-proxy's transaction amounts to (the table deleted and written whole). */
export function kubeProxyNftScript(n: NftProxyNode, ports: NftServicePort[]): string {
  const f = n.family;
  const T = `${f} kube-proxy`;
  const addrType = f === 'ip' ? 'ipv4_addr' : 'ipv6_addr';
  const noLocalhost = f === 'ip' ? 'ip daddr != 127.0.0.0/8' : 'ip6 daddr != ::1';
  const mark = `0x${(n.masqueradeMark ?? 0x4000).toString(16).padStart(8, '0')}`;
  const L: string[] = [];
  const add = (s: string) => L.push(s);
  // a fresh table each time, as kube-proxy's first sync leaves it (add first: delete fails on a missing table)
  add(`add table ${T}`);
  add(`delete table ${T}`);
  add(`add table ${T} { comment "rules for kube-proxy" ; }`);
  for (const [name, type, hook, prio] of [
    ['filter-prerouting', 'filter', 'prerouting', -110], ['filter-input', 'filter', 'input', -110], ['filter-forward', 'filter', 'forward', -110],
    ['filter-output', 'filter', 'output', -110], ['filter-output-post-dnat', 'filter', 'output', -90],
    ['nat-prerouting', 'nat', 'prerouting', -100], ['nat-output', 'nat', 'output', -100], ['nat-postrouting', 'nat', 'postrouting', 100],
  ] as const) add(`add chain ${T} ${name} { type ${type} hook ${hook} priority ${prio} ; }`);
  const created = new Set<string>();
  const chain = (c: string, comment?: string) => { if (!created.has(c)) { created.add(c); add(`add chain ${T} ${c}${comment ? ` { comment "${comment}" ; }` : ''}`); } };
  const rule = (c: string, r: string) => add(`add rule ${T} ${c} ${r}`);
  for (const [dst, src, extra] of [
    ['nodeport-endpoints-check', 'filter-input', 'ct state new'], ['service-endpoints-check', 'filter-input', 'ct state new'],
    ['service-endpoints-check', 'filter-forward', 'ct state new'], ['service-endpoints-check', 'filter-output', 'ct state new'],
    ['firewall-check', 'filter-prerouting', 'ct state new'], ['firewall-check', 'filter-output', 'ct state new'],
    ['services', 'nat-output', ''], ['services', 'nat-prerouting', ''], ['masquerading', 'nat-postrouting', ''],
    ['cluster-ips-check', 'filter-forward', 'ct state new'], ['cluster-ips-check', 'filter-output-post-dnat', 'ct state new'],
  ]) { chain(dst); rule(src, `${extra ? `${extra} ` : ''}jump ${dst}`); }
  chain('mark-for-masquerade');
  rule('mark-for-masquerade', `mark set mark or ${mark}`);
  rule('masquerading', `mark and ${mark} == 0 return`);
  rule('masquerading', `mark set mark xor ${mark}`);
  rule('masquerading', 'masquerade fully-random');
  add(`add set ${T} cluster-ips { type ${addrType} ; comment "Active ClusterIPs" ; }`);
  rule('cluster-ips-check', `${f} daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`);
  if (n.serviceCIDRs.length) rule('cluster-ips-check', `${f} daddr { ${n.serviceCIDRs.join(', ')} } drop comment "Drop traffic to unallocated ClusterIPs"`);
  const matchAll = n.nodePortIPs.length === 0;
  if (!matchAll) {
    add(`add set ${T} nodeport-ips { type ${addrType} ; comment "IPs that accept NodePort traffic" ; }`);
    add(`add element ${T} nodeport-ips { ${n.nodePortIPs.join(', ')} }`);
  }
  add(`add map ${T} no-endpoint-services { type ${addrType} . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`);
  add(`add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`);
  chain('reject-chain', 'helper for @no-endpoint-services / @no-endpoint-nodeports');
  rule('reject-chain', 'reject');
  rule('service-endpoints-check', `${f} daddr . meta l4proto . th dport vmap @no-endpoint-services`);
  rule('nodeport-endpoints-check', matchAll ? `${noLocalhost} meta l4proto . th dport vmap @no-endpoint-nodeports` : `${f} daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`);
  add(`add map ${T} firewall-ips { type ${addrType} . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`);
  rule('firewall-check', `${f} daddr . meta l4proto . th dport vmap @firewall-ips`);
  add(`add map ${T} service-ips { type ${addrType} . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`);
  add(`add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`);
  rule('services', `${f} daddr . meta l4proto . th dport vmap @service-ips`);
  rule('services', matchAll ? `fib daddr type local ${noLocalhost} meta l4proto . th dport vmap @service-nodeports` : `${f} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`);

  const el = (map: string, key: string, verdict: string, comment?: string) =>
    add(`add element ${T} ${map} { ${key}${comment ? ` comment "${comment}"` : ''} : ${verdict} }`);
  for (const sp of [...ports].sort((a, b) => `${a.namespace}/${a.name}/${a.portName}`.localeCompare(`${b.namespace}/${b.name}/${b.portName}`))) {
    const base = serviceChainBase(sp);
    const svcName = `${sp.namespace}/${sp.name}${sp.portName ? `:${sp.portName}` : ''}`;
    const cluster = pick(sp.endpoints);
    const local = pick(sp.endpoints.filter((e) => e.node === n.node));
    const hasEndpoints = cluster.length > 0;
    const clusterChain = `service-${base}`, localChain = `local-${base}`, extChain = `external-${base}`, fwChain = `firewall-${base}`;
    const internalChain = sp.internalLocal ? localChain : clusterChain;
    const hasInternal = hasEndpoints && (!sp.internalLocal || local.length > 0);
    const hasExternal = hasEndpoints && (!sp.externalLocal || local.length > 0);
    const externallyAccessible = !!(sp.nodePort || sp.externalIPs?.length || sp.loadBalancerIPs?.length);
    const usesCluster = cluster.length > 0 && (!sp.internalLocal || (externallyAccessible && !sp.externalLocal));
    const usesLocal = local.length > 0 && (!!sp.internalLocal || (externallyAccessible && !!sp.externalLocal));
    const reached = new Map<string, NftEndpoint>();
    for (const e of [...(usesCluster ? cluster : []), ...(usesLocal ? local : [])]) reached.set(`${e.ip}/${e.port}`, e);
    for (const e of reached.values()) chain(endpointChain(sp, e));
    if (usesCluster) chain(clusterChain);
    if (usesLocal) chain(localChain);
    const usesExt = hasEndpoints && externallyAccessible;
    if (usesExt) chain(extChain);
    const internalVerdict = !hasEndpoints ? 'goto reject-chain' : 'drop';
    const key = (ip: string, port: number) => `${ip} . ${sp.protocol} . ${port}`;
    if (sp.clusterIP) {
      add(`add element ${T} cluster-ips { ${sp.clusterIP} }`);
      if (hasInternal) el('service-ips', key(sp.clusterIP, sp.port), `goto ${internalChain}`);
      else el('no-endpoint-services', key(sp.clusterIP, sp.port), internalVerdict, svcName);
    }
    for (const ip of sp.externalIPs ?? []) {
      if (hasEndpoints) el('service-ips', key(ip, sp.port), `goto ${extChain}`);
      if (!hasExternal) el('no-endpoint-services', key(ip, sp.port), internalVerdict, svcName);
    }
    const usesFw = !!(sp.loadBalancerIPs?.length && sp.sourceRanges?.length);
    if (usesFw) {
      chain(fwChain);
      rule(fwChain, `${f} saddr != { ${sp.sourceRanges!.join(', ')} } drop`);
    }
    for (const ip of sp.loadBalancerIPs ?? []) {
      if (hasEndpoints) el('service-ips', key(ip, sp.port), `goto ${extChain}`);
      if (usesFw) el('firewall-ips', key(ip, sp.port), `goto ${fwChain}`, svcName);
      if (!hasExternal) el('no-endpoint-services', key(ip, sp.port), internalVerdict, svcName);
    }
    if (sp.nodePort) {
      if (hasEndpoints) el('service-nodeports', `${sp.protocol} . ${sp.nodePort}`, `goto ${extChain}`);
      if (!hasExternal) el('no-endpoint-nodeports', `${sp.protocol} . ${sp.nodePort}`, internalVerdict, svcName);
    }
    if (hasInternal && sp.clusterIP) {
      rule(internalChain, `${f} daddr ${sp.clusterIP} ${sp.protocol} dport ${sp.port} ${f} saddr != ${n.clusterCIDR} jump mark-for-masquerade`);
    }
    if (usesExt) {
      if (!sp.externalLocal) rule(extChain, 'jump mark-for-masquerade');
      else {
        rule(extChain, `${f} saddr ${n.clusterCIDR} goto ${clusterChain} comment "short-circuit pod traffic"`);
        rule(extChain, 'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"');
        rule(extChain, `fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`);
      }
      if (hasExternal) rule(extChain, `goto ${sp.externalLocal ? localChain : clusterChain}`);
    }
    const lb = (c: string, eps: NftEndpoint[]) => {
      if (sp.affinitySeconds) for (const e of eps) rule(c, `${f} saddr @affinity-${endpointChain(sp, e).slice('endpoint-'.length)} goto ${endpointChain(sp, e)}`);
      rule(c, `numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${endpointChain(sp, e)}`).join(', ')} }`);
    };
    if (sp.affinitySeconds) for (const e of reached.values()) add(`add set ${T} affinity-${endpointChain(sp, e).slice('endpoint-'.length)} { type ${addrType} ; flags dynamic,timeout ; timeout ${sp.affinitySeconds}s ; }`);
    if (usesCluster) lb(clusterChain, cluster);
    if (usesLocal) lb(localChain, local);
    for (const e of reached.values()) {
      const c = endpointChain(sp, e);
      rule(c, `${f} saddr ${e.ip} jump mark-for-masquerade`);
      if (sp.affinitySeconds) rule(c, `update @affinity-${c.slice('endpoint-'.length)} { ${f} saddr }`);
      rule(c, `meta l4proto ${sp.protocol} dnat to ${f === 'ip6' ? `[${e.ip}]` : e.ip}:${e.port}`);
    }
  }
  return L.join('\n') + '\n';
}

type Obj = Record<string, unknown>;

/** Service ports with their endpoints, from Service and EndpointSlice objects (v1 or v1beta1) of one family. */
export function servicePortsFromObjects(services: Obj[], slices: Obj[], family: 'ip' | 'ip6'): NftServicePort[] {
  const out: NftServicePort[] = [];
  const v6 = family === 'ip6';
  const fam = (ip: string) => ip.includes(':') === v6;
  for (const s of services) {
    const md = s.metadata as { name: string; namespace: string };
    const spec = s.spec as { type?: string; clusterIP?: string; clusterIPs?: string[]; externalIPs?: string[]; ports?: { name?: string; port: number; protocol?: string; nodePort?: number }[];
      externalTrafficPolicy?: string; internalTrafficPolicy?: string; sessionAffinity?: string; sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } }; loadBalancerSourceRanges?: string[] };
    if (spec.type === 'ExternalName' || !spec.clusterIP || spec.clusterIP === 'None') continue;
    const clusterIP = [...(spec.clusterIPs ?? []), spec.clusterIP].find(fam);
    const status = s.status as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined;
    const mine = slices.filter((sl) => (sl.metadata as { namespace: string; labels?: Record<string, string> }).namespace === md.namespace
      && (sl.metadata as { labels?: Record<string, string> }).labels?.['kubernetes.io/service-name'] === md.name
      && (sl.addressType as string) === (v6 ? 'IPv6' : 'IPv4'));
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP').toLowerCase() as L4;
      const endpoints: NftEndpoint[] = [];
      for (const sl of mine) {
        const port = ((sl.ports as { name?: string; port?: number; protocol?: string }[] | undefined) ?? []).find((x) => (x.name ?? '') === (p.name ?? '') && (x.protocol ?? 'TCP').toLowerCase() === protocol)?.port;
        if (port === undefined) continue;
        for (const e of (sl.endpoints as { addresses: string[]; conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean }; nodeName?: string; topology?: Record<string, string> }[] | undefined) ?? []) {
          const c = e.conditions ?? {};
          const ready = c.ready !== false;
          endpoints.push({ ip: e.addresses[0], port, node: e.nodeName ?? e.topology?.['kubernetes.io/hostname'], ready, serving: c.serving ?? ready, terminating: c.terminating ?? false });
        }
      }
      out.push({
        namespace: md.namespace, name: md.name, portName: p.name ?? '', protocol, port: p.port,
        ...(p.nodePort ? { nodePort: p.nodePort } : {}),
        ...(clusterIP ? { clusterIP } : {}),
        externalIPs: (spec.externalIPs ?? []).filter(fam),
        loadBalancerIPs: (status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip && fam(ip)),
        sourceRanges: (spec.loadBalancerSourceRanges ?? []).filter((r) => fam(r.split('/')[0])),
        externalLocal: spec.externalTrafficPolicy === 'Local',
        internalLocal: spec.internalTrafficPolicy === 'Local',
        ...(spec.sessionAffinity === 'ClientIP' ? { affinitySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 } : {}),
        endpoints,
      });
    }
  }
  return out;
}

/** Loads the table into a netns with the real nft. */
export function loadNftProxy(netns: string, script: string): void {
  inNs(netns, 'nft', ['-f', '-'], { input: script });
}

/**
 * `npx tsx test/lab/nft-proxy.ts --fixtures` (root): the `ip kube-proxy` table of each node of the
 * engine tests' cluster (test/support/nft-kube-proxy.ts), loaded with the real nft into a scratch
 * netns and listed with `nft -j`, in both NodePort forms.
 */
async function writeFixtures(): Promise<void> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { run } = await import('./exec');
  const sup = await import('../support/nft-kube-proxy');
  const s = sup.baseSnapshot();
  const services = [...s.objects.services, ...sup.extraServices()];
  const slices = [...s.objects.endpointSlices, ...sup.extraSlices()];
  const ports = servicePortsFromObjects(services, slices, 'ip');
  const ns = `${process.env.NETPATH_LAB_PREFIX ?? 'npkp'}-fixtures`;
  mkdirSync(sup.FIXTURES, { recursive: true });
  run('ip', ['netns', 'del', ns], { allowFail: true });
  run('ip', ['netns', 'add', ns]);
  try {
    for (const [node, ip] of [['node1', '198.51.100.11'], ['node2', '198.51.100.12']]) {
      for (const form of ['nodeport-ips', 'fib'] as const) {
        const script = kubeProxyNftScript({ family: 'ip', node, nodePortIPs: form === 'fib' ? [] : [ip], clusterCIDR: '10.244.0.0/16', serviceCIDRs: ['10.96.0.0/16'] }, ports);
        loadNftProxy(ns, script);
        const json = JSON.parse(inNs(ns, 'nft', ['-j', 'list', 'table', 'ip', 'kube-proxy']));
        writeFileSync(sup.fixtureFile(node, form), JSON.stringify(json, null, 1) + '\n');
        console.log(`${sup.fixtureFile(node, form)}: ${json.nftables.length} objects`);
      }
      // IPv6: every local address takes NodePorts (no nodeport-ips set for this family)
      loadNftProxy(ns, kubeProxyNftScript({ family: 'ip6', node, nodePortIPs: [], clusterCIDR: 'fd00:244::/56', serviceCIDRs: ['fd00:96::/112'] }, servicePortsFromObjects(services, slices, 'ip6')));
      const json6 = JSON.parse(inNs(ns, 'nft', ['-j', 'list', 'table', 'ip6', 'kube-proxy']));
      writeFileSync(sup.fixtureFile(node, 'ip6'), JSON.stringify(json6, null, 1) + '\n');
      console.log(`${sup.fixtureFile(node, 'ip6')}: ${json6.nftables.length} objects`);
    }
  } finally {
    run('ip', ['netns', 'del', ns], { allowFail: true });
  }
}

if (process.argv[1]?.endsWith('nft-proxy.ts') && process.argv.includes('--fixtures')) {
  writeFixtures().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}

/**
 * kube-proxy's nftables sync for every node of a lab: the table from the apiserver's current objects,
 * with --nodeport-addresses unset as upstream's default: every local address takes NodePorts
 * (`fib daddr type local … vmap @service-nodeports`).
 */
export async function programNftProxies(cluster: LabCluster, topo: Topology): Promise<void> {
  const services = await cluster.list('v1', 'Service');
  const slices = await cluster.list('discovery.k8s.io/v1beta1', 'EndpointSlice');
  const ports = servicePortsFromObjects(services, slices, 'ip');
  for (const n of topo.nodes) {
    loadNftProxy(n.netns, kubeProxyNftScript({ family: 'ip', node: n.name, nodePortIPs: [], clusterCIDR: topo.spec.clusterCIDR, serviceCIDRs: [LAB_SERVICE_CIDR] }, ports));
  }
}

/** the apiserver's --service-cluster-ip-range (k8s/start.sh) */
export const LAB_SERVICE_CIDR = '10.96.0.0/16';
