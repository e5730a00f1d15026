// Declarative lab topologies: nodes, pods, services and policies described as data, built in real
// network namespaces with `ip` the way each CNI builds its datapath. All traffic stays inside the
// namespaces created here: an "underlay" router netns joins the nodes (198.51.100.0/24) and leads to a
// lab "internet" netns (203.0.113.0/24) that only reaches pods through the nodes' masquerade.
import { createHash } from 'node:crypto';
import { inNs, ipn, run, sysctl } from './exec';

export type Plugin = 'flannel-host-gw' | 'flannel-vxlan' | 'calico-bgp' | 'calico-vxlan' | 'generic-bridge';
export type Protocol = 'TCP' | 'UDP';

export interface PodSpec {
  name: string;
  namespace?: string;            // default "default"
  labels?: Record<string, string>;
  ip?: string;                   // default: next free address of the node's pod CIDR
  hostNetwork?: boolean;         // shares the node netns; its IP is the node IP
  listen?: { port: number; protocol: Protocol; name?: string }[];
}

export interface NodeSpec {
  name: string; ip: string; podCIDR: string; pods: PodSpec[];
  /** dual-stack topologies (`ipv6`): the node's IPv6 address on the lab segment and its IPv6 pod CIDR (/64) */
  ip6?: string; podCIDR6?: string;
}

export interface ServiceSpec {
  name: string;
  namespace?: string;
  type?: 'ClusterIP' | 'NodePort';
  clusterIP: string;
  selector: Record<string, string>;
  ports: { name: string; port: number; targetPort: number | string; protocol: Protocol; nodePort?: number }[];
  /** a dual-stack Service (RequireDualStack, IPv4 first) with this IPv6 cluster IP */
  clusterIP6?: string;
}

export interface TopologySpec {
  name: string;
  plugin: Plugin;
  clusterCIDR: string;           // e.g. 10.244.0.0/16
  nodes: NodeSpec[];
  services: ServiceSpec[];
  /** NetworkPolicy objects (networking.k8s.io/v1), created through the apiserver */
  policies: object[];
  /** a second node-to-node network (198.51.101.0/24 on eth1), used for asymmetric-route faults */
  secondaryNetwork?: boolean;
  /**
   * a host outside the cluster on the nodes' segment (OUTSIDE_IP on br0, the nodes' uplink) that
   * routes each node's pod CIDR via that node, as a router with the cluster's routes does
   */
  outsideHost?: boolean;
  /**
   * kube-proxy's mode (default iptables: the real kube-proxy 1.20); `nftables`: the table its
   * nftables mode would write, computed from the apiserver's objects and loaded with nft (nft-proxy.ts)
   */
  proxyMode?: 'iptables' | 'nftables';
  /**
   * dual-stack: every node has `ip6`/`podCIDR6`, pods get an address of both families, the router
   * and the lab internet get ROUTER_IP6/INTERNET_IP6 (bridge-based plugins only: flannel, generic bridge)
   */
  ipv6?: { clusterCIDR: string };
}

export const ROUTER_IP = '198.51.100.1';
export const INTERNET_IP = '203.0.113.10';
export const OUTSIDE_IP = '198.51.100.200';
export const ROUTER_IP6 = '2001:db8:100::1';
export const INTERNET_IP6 = '2001:db8:113::10';
const SECONDARY = (ip: string) => ip.replace(/^198\.51\.100\./, '198.51.101.');

/** A pod as built: where it lives and what its netns is called. */
export interface BuiltPod extends PodSpec {
  namespace: string;
  node: string;
  ip: string;
  netns: string;                 // pod netns, or the node netns for hostNetwork pods
  hostIface?: string;            // node-side veth name
  ip6?: string;                  // dual-stack: the pod's IPv6 address (the node's for hostNetwork pods)
}

export interface BuiltNode extends NodeSpec {
  netns: string;
  gateway: string;               // pod gateway address on the node (bridge IP / 169.254.1.1)
  tunnelIP?: string;             // vxlan interface address
  tunnelMAC?: string;
  gateway6?: string;             // dual-stack: the bridge's IPv6 address
  tunnelIP6?: string;            // dual-stack flannel vxlan: flannel-v6.1's address (<pod CIDR6>::)
  tunnelMAC6?: string;
}

export function podKey(p: { namespace?: string; name: string }): string {
  return `${p.namespace ?? 'default'}/${p.name}`;
}

export function hashName(prefix: string, s: string, len: number): string {
  return prefix + createHash('sha1').update(s).digest('hex').slice(0, len);
}

function ipAdd(ip: string, n: number): string {
  const v = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0) + n;
  return [24, 16, 8, 0].map((s) => (v >>> s) & 255).join('.');
}
function cidrBase(cidr: string): string { return cidr.split('/')[0]; }
/** the n-th address of an IPv6 /64 written `prefix::/64` (n < 0x10000) */
function ip6Add(cidr: string, n: number): string { return cidrBase(cidr) + n.toString(16); }
function cidrLen(cidr: string): number { return Number(cidr.split('/')[1]); }

/** The bridge name a bridge-based plugin uses; undefined for calico (no bridge). */
export function bridgeName(plugin: Plugin): string | undefined {
  return plugin === 'generic-bridge' ? 'cbr0' : plugin.startsWith('flannel') ? 'cni0' : undefined;
}
/** flannel's IPv6 VXLAN device (its own VTEP over the nodes' IPv6 addresses) */
export const FLANNEL_V6_TUNNEL = 'flannel-v6.1';
export function tunnelName(plugin: Plugin): string | undefined {
  return plugin === 'flannel-vxlan' ? 'flannel.1' : plugin === 'calico-vxlan' ? 'vxlan.calico' : undefined;
}

export class Topology {
  readonly nodes: BuiltNode[] = [];
  readonly pods: BuiltPod[] = [];
  readonly routerNs: string;
  readonly internetNs: string;
  readonly outsideNs: string;
  private readonly created: string[] = [];

  constructor(readonly spec: TopologySpec, readonly prefix: string) {
    this.routerNs = `${prefix}-router`;
    this.internetNs = `${prefix}-internet`;
    this.outsideNs = `${prefix}-outside`;
    for (const n of spec.nodes) {
      const gateway = spec.plugin.startsWith('calico') ? '169.254.1.1' : ipAdd(cidrBase(n.podCIDR), 1);
      const node: BuiltNode = { ...n, netns: `${prefix}-${n.name}`, gateway };
      if (spec.plugin === 'flannel-vxlan' || spec.plugin === 'calico-vxlan') {
        node.tunnelIP = cidrBase(n.podCIDR); // flannel: <cidr>.0/32; calico: first block address
        const i = spec.nodes.indexOf(n) + 1;
        node.tunnelMAC = (spec.plugin === 'flannel-vxlan' ? '0e:6a:00:00:00:' : '66:c0:00:00:00:') + i.toString(16).padStart(2, '0');
      }
      if (spec.ipv6) {
        node.gateway6 = ip6Add(n.podCIDR6!, 1);
        if (spec.plugin === 'flannel-vxlan') {
          node.tunnelIP6 = cidrBase(n.podCIDR6!);
          node.tunnelMAC6 = '0e:6a:00:00:06:' + (spec.nodes.indexOf(n) + 1).toString(16).padStart(2, '0');
        }
      }
      this.nodes.push(node);
      let next = 2;
      for (const p of n.pods) {
        const v6 = next;
        const ip = p.hostNetwork ? n.ip : p.ip ?? ipAdd(cidrBase(n.podCIDR), next++);
        const namespace = p.namespace ?? 'default';
        const ip6 = !spec.ipv6 ? undefined : p.hostNetwork ? n.ip6 : ip6Add(n.podCIDR6!, v6);
        this.pods.push({ ...p, namespace, node: n.name, ip, ...(ip6 ? { ip6 } : {}), netns: p.hostNetwork ? node.netns : `${prefix}-${n.name}-${p.name}` });
      }
    }
  }

  node(name: string): BuiltNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`topology ${this.spec.name}: no node ${name}`);
    return n;
  }
  pod(key: string): BuiltPod {
    const p = this.pods.find((x) => podKey(x) === key || x.name === key);
    if (!p) throw new Error(`topology ${this.spec.name}: no pod ${key}`);
    return p;
  }
  /** every netns of this topology, node and pod ones, for cleanup and dumps */
  allNetns(): string[] { return [...this.created]; }

  private addNs(name: string): void {
    run('ip', ['netns', 'add', name]);
    this.created.push(name);
    // no duplicate address detection: addresses are usable at once (nothing else owns them here)
    if (this.spec.ipv6) for (const k of ['all', 'default']) sysctl(name, `net.ipv6.conf.${k}.accept_dad`, 0);
    ipn(name, 'link', 'set', 'lo', 'up');
  }

  build(): void {
    const { plugin } = this.spec;
    // underlay router + lab internet
    this.addNs(this.routerNs);
    this.addNs(this.internetNs);
    const r = this.routerNs;
    ipn(r, 'link', 'add', 'br0', 'type', 'bridge');
    ipn(r, 'addr', 'add', `${ROUTER_IP}/24`, 'dev', 'br0');
    ipn(r, 'link', 'set', 'br0', 'up');
    if (this.spec.secondaryNetwork) {
      ipn(r, 'link', 'add', 'br1', 'type', 'bridge');
      ipn(r, 'link', 'set', 'br1', 'up');
    }
    run('ip', ['link', 'add', 'inet0', 'netns', r, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.internetNs]);
    ipn(r, 'addr', 'add', '203.0.113.1/24', 'dev', 'inet0');
    ipn(r, 'link', 'set', 'inet0', 'up');
    ipn(this.internetNs, 'addr', 'add', `${INTERNET_IP}/24`, 'dev', 'eth0');
    ipn(this.internetNs, 'link', 'set', 'eth0', 'up');
    ipn(this.internetNs, 'route', 'add', 'default', 'via', '203.0.113.1');
    sysctl(r, 'net.ipv4.ip_forward', 1);

    for (const n of this.nodes) this.buildNode(n);
    if (this.spec.outsideHost) this.buildOutside();
    for (const n of this.nodes) this.buildPeerRoutes(n);
    for (const p of this.pods) if (!p.hostNetwork) this.buildPod(p);
    for (const n of this.nodes) this.buildNodeIptables(n);
    if (this.spec.ipv6) this.buildIPv6();
    void plugin;
  }

  private buildOutside(): void {
    const o = this.outsideNs;
    this.addNs(o);
    run('ip', ['link', 'add', 'o-0', 'netns', this.routerNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', o]);
    ipn(this.routerNs, 'link', 'set', 'o-0', 'master', 'br0', 'up');
    ipn(o, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0');
    ipn(o, 'link', 'set', 'eth0', 'up');
    ipn(o, 'route', 'add', 'default', 'via', ROUTER_IP, 'dev', 'eth0');
    for (const n of this.nodes) ipn(o, 'route', 'add', n.podCIDR, 'via', n.ip, 'dev', 'eth0');
  }

  private buildNode(n: BuiltNode): void {
    const ns = n.netns;
    this.addNs(ns);
    const idx = this.nodes.indexOf(n);
    run('ip', ['link', 'add', `u-${idx}`, 'netns', this.routerNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    ipn(this.routerNs, 'link', 'set', `u-${idx}`, 'master', 'br0', 'up');
    ipn(ns, 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0');
    ipn(ns, 'link', 'set', 'eth0', 'up');
    ipn(ns, 'route', 'add', 'default', 'via', ROUTER_IP, 'dev', 'eth0');
    if (this.spec.secondaryNetwork) {
      run('ip', ['link', 'add', `s-${idx}`, 'netns', this.routerNs, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns]);
      ipn(this.routerNs, 'link', 'set', `s-${idx}`, 'master', 'br1', 'up');
      ipn(ns, 'addr', 'add', `${SECONDARY(n.ip)}/24`, 'dev', 'eth1');
      ipn(ns, 'link', 'set', 'eth1', 'up');
    }
    sysctl(ns, 'net.ipv4.ip_forward', 1);
    sysctl(ns, 'net.ipv4.conf.all.rp_filter', 0);
    sysctl(ns, 'net.ipv4.conf.default.rp_filter', 0);
    sysctl(ns, 'net.ipv4.conf.eth0.rp_filter', 0);
    sysctl(ns, 'net.bridge.bridge-nf-call-iptables', 1);
    // the policy agent's ip6tables rules see same-node bridged IPv6 the same way (on by default; made explicit)
    sysctl(ns, 'net.bridge.bridge-nf-call-ip6tables', 1);
    const { plugin } = this.spec;
    const br = bridgeName(plugin);
    if (br) {
      ipn(ns, 'link', 'add', br, 'type', 'bridge');
      ipn(ns, 'addr', 'add', `${n.gateway}/${cidrLen(n.podCIDR)}`, 'dev', br);
      if (plugin === 'flannel-vxlan') ipn(ns, 'link', 'set', br, 'mtu', '1450');
      ipn(ns, 'link', 'set', br, 'up');
    }
    if (plugin.startsWith('calico')) {
      // calico: the node owns the block; addresses not (yet) assigned are blackholed
      ipn(ns, 'route', 'add', 'blackhole', n.podCIDR, 'proto', 'bird');
    }
    const tun = tunnelName(plugin);
    if (tun) {
      const [vni, port] = plugin === 'flannel-vxlan' ? ['1', '8472'] : ['4096', '4789'];
      ipn(ns, 'link', 'add', tun, 'type', 'vxlan', 'id', vni, 'dstport', port, 'local', n.ip, 'dev', 'eth0', 'nolearning');
      ipn(ns, 'link', 'set', tun, 'address', n.tunnelMAC!, 'mtu', '1450');
      ipn(ns, 'addr', 'add', `${n.tunnelIP}/32`, 'dev', tun);
      ipn(ns, 'link', 'set', tun, 'up');
    }
  }

  /** routes to the other nodes' pod CIDRs, as the plugin's agent writes them */
  private buildPeerRoutes(n: BuiltNode): void {
    const ns = n.netns;
    const { plugin } = this.spec;
    for (const m of this.nodes) {
      if (m === n) continue;
      if (plugin === 'flannel-vxlan' || plugin === 'calico-vxlan') {
        const tun = tunnelName(plugin)!;
        const proto = plugin === 'calico-vxlan' ? ['proto', '80'] : [];
        ipn(ns, 'route', 'add', m.podCIDR, 'via', m.tunnelIP!, 'dev', tun, 'onlink', ...proto);
        ipn(ns, 'neigh', 'add', m.tunnelIP!, 'lladdr', m.tunnelMAC!, 'dev', tun, 'nud', 'permanent');
        run('bridge', ['-n', ns, 'fdb', 'add', m.tunnelMAC!, 'dev', tun, 'dst', m.ip, 'self', 'permanent']);
      } else {
        const proto = plugin === 'calico-bgp' ? ['proto', 'bird'] : [];
        ipn(ns, 'route', 'add', m.podCIDR, 'via', m.ip, 'dev', 'eth0', ...proto);
      }
    }
  }

  private buildPod(p: BuiltPod): void {
    const n = this.node(p.node);
    const { plugin } = this.spec;
    this.addNs(p.netns);
    const calico = plugin.startsWith('calico');
    const host = calico ? hashName('cali', podKey(p), 11) : hashName('veth', podKey(p), 8);
    p.hostIface = host;
    run('ip', ['link', 'add', host, 'netns', n.netns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', p.netns]);
    const mtu = plugin === 'flannel-vxlan' || plugin === 'calico-vxlan' ? '1450' : '1500';
    ipn(p.netns, 'link', 'set', 'eth0', 'mtu', mtu);
    ipn(n.netns, 'link', 'set', host, 'mtu', mtu);
    if (calico) {
      ipn(n.netns, 'link', 'set', host, 'address', 'ee:ee:ee:ee:ee:ee');
      ipn(n.netns, 'link', 'set', host, 'up');
      sysctl(n.netns, `net.ipv4.conf.${host}.proxy_arp`, 1);
      sysctl(n.netns, `net.ipv4.neigh.${host}.proxy_delay`, 0);
      sysctl(n.netns, `net.ipv4.conf.${host}.forwarding`, 1);
      ipn(n.netns, 'route', 'add', `${p.ip}/32`, 'dev', host, 'scope', 'link');
      ipn(p.netns, 'addr', 'add', `${p.ip}/32`, 'dev', 'eth0');
      ipn(p.netns, 'link', 'set', 'eth0', 'up');
      ipn(p.netns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
      ipn(p.netns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0');
    } else {
      ipn(n.netns, 'link', 'set', host, 'master', bridgeName(plugin)!, 'up');
      ipn(p.netns, 'addr', 'add', `${p.ip}/${cidrLen(n.podCIDR)}`, 'dev', 'eth0');
      ipn(p.netns, 'link', 'set', 'eth0', 'up');
      ipn(p.netns, 'route', 'add', 'default', 'via', n.gateway);
    }
  }

  /** masquerade + forward-accept rules as each plugin installs them */
  private buildNodeIptables(n: BuiltNode): void {
    const { plugin, clusterCIDR } = this.spec;
    let rules: string;
    if (plugin.startsWith('flannel')) {
      rules = `*nat
:FLANNEL-POSTRTG - [0:0]
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s ${n.podCIDR} -d ${clusterCIDR} -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s ${clusterCIDR} -d ${n.podCIDR} -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG ! -s ${clusterCIDR} -d ${n.podCIDR} -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s ${clusterCIDR} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
COMMIT
*filter
:FLANNEL-FWD - [0:0]
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
-A FLANNEL-FWD -s ${clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT
-A FLANNEL-FWD -d ${clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT
COMMIT
`;
    } else if (plugin.startsWith('calico')) {
      inNs(n.netns, 'ipset', ['create', 'cali40masq-ipam-pools', 'hash:net', '-exist']);
      inNs(n.netns, 'ipset', ['add', 'cali40masq-ipam-pools', clusterCIDR, '-exist']);
      inNs(n.netns, 'ipset', ['create', 'cali40all-ipam-pools', 'hash:net', '-exist']);
      inNs(n.netns, 'ipset', ['add', 'cali40all-ipam-pools', clusterCIDR, '-exist']);
      rules = `*nat
:cali-POSTROUTING - [0:0]
:cali-nat-outgoing - [0:0]
-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING
-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-nat-outgoing
-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully
COMMIT
`;
    } else {
      rules = `*nat
-A POSTROUTING -s ${clusterCIDR} ! -d ${clusterCIDR} -m comment --comment "bridge cni masquerade" -j MASQUERADE
COMMIT
`;
    }
    inNs(n.netns, 'iptables-restore', ['--noflush'], { input: rules });
  }

  /**
   * The IPv6 half of a dual-stack topology, on top of the IPv4 one: router and internet addresses,
   * node addresses on the segment, bridge and pod addresses, routes to the other nodes' IPv6 pod CIDRs
   * (host-gw: via the node's IPv6 address; flannel vxlan: flannel-v6.1, a VTEP over the nodes' IPv6
   * addresses, as flanneld's IPv6 backend does), forwarding, and ip6tables masquerade.
   */
  private buildIPv6(): void {
    const { plugin } = this.spec;
    const r = this.routerNs;
    sysctl(r, 'net.ipv6.conf.all.forwarding', 1);
    ipn(r, 'addr', 'add', `${ROUTER_IP6}/64`, 'dev', 'br0');
    ipn(r, 'addr', 'add', '2001:db8:113::1/64', 'dev', 'inet0');
    ipn(this.internetNs, 'addr', 'add', `${INTERNET_IP6}/64`, 'dev', 'eth0');
    ipn(this.internetNs, 'route', 'add', 'default', 'via', '2001:db8:113::1');
    const br = bridgeName(plugin)!;
    for (const n of this.nodes) {
      const ns = n.netns;
      sysctl(ns, 'net.ipv6.conf.all.forwarding', 1);
      ipn(ns, 'addr', 'add', `${n.ip6}/64`, 'dev', 'eth0');
      ipn(ns, 'route', 'add', 'default', 'via', ROUTER_IP6, 'dev', 'eth0');
      ipn(ns, 'addr', 'add', `${n.gateway6}/64`, 'dev', br);
      if (plugin === 'flannel-vxlan') {
        ipn(ns, 'link', 'add', FLANNEL_V6_TUNNEL, 'type', 'vxlan', 'id', '1', 'dstport', '8472', 'local', n.ip6!, 'dev', 'eth0', 'nolearning');
        ipn(ns, 'link', 'set', FLANNEL_V6_TUNNEL, 'address', n.tunnelMAC6!, 'mtu', '1430');
        ipn(ns, 'addr', 'add', `${n.tunnelIP6}/128`, 'dev', FLANNEL_V6_TUNNEL);
        ipn(ns, 'link', 'set', FLANNEL_V6_TUNNEL, 'up');
      }
    }
    for (const n of this.nodes) {
      for (const m of this.nodes) {
        if (m === n) continue;
        if (plugin === 'flannel-vxlan') {
          ipn(n.netns, 'route', 'add', m.podCIDR6!, 'via', m.tunnelIP6!, 'dev', FLANNEL_V6_TUNNEL, 'onlink');
          ipn(n.netns, 'neigh', 'add', m.tunnelIP6!, 'lladdr', m.tunnelMAC6!, 'dev', FLANNEL_V6_TUNNEL, 'nud', 'permanent');
          run('bridge', ['-n', n.netns, 'fdb', 'add', m.tunnelMAC6!, 'dev', FLANNEL_V6_TUNNEL, 'dst', m.ip6!, 'self', 'permanent']);
        } else {
          ipn(n.netns, 'route', 'add', m.podCIDR6!, 'via', m.ip6!, 'dev', 'eth0');
        }
      }
    }
    for (const p of this.pods) {
      if (p.hostNetwork) continue;
      const n = this.node(p.node);
      ipn(p.netns, 'addr', 'add', `${p.ip6}/64`, 'dev', 'eth0');
      ipn(p.netns, 'route', 'add', 'default', 'via', n.gateway6!, 'dev', 'eth0');
    }
    for (const n of this.nodes) this.buildNodeIp6tables(n);
  }

  /** the IPv6 twin of buildNodeIptables: flanneld's IPv6 masquerade/forward chains, the bridge CNI's masquerade */
  private buildNodeIp6tables(n: BuiltNode): void {
    const c6 = this.spec.ipv6!.clusterCIDR;
    const rules = this.spec.plugin.startsWith('flannel') ? `*nat
:FLANNEL-POSTRTG - [0:0]
-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s ${n.podCIDR6} -d ${c6} -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s ${c6} -d ${n.podCIDR6} -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG ! -s ${c6} -d ${n.podCIDR6} -m comment --comment "flanneld masq" -j RETURN
-A FLANNEL-POSTRTG -s ${c6} ! -d ff00::/8 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
COMMIT
*filter
:FLANNEL-FWD - [0:0]
-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD
-A FLANNEL-FWD -s ${c6} -m comment --comment "flanneld forward" -j ACCEPT
-A FLANNEL-FWD -d ${c6} -m comment --comment "flanneld forward" -j ACCEPT
COMMIT
` : `*nat
-A POSTROUTING -s ${c6} ! -d ${c6} -m comment --comment "bridge cni masquerade" -j MASQUERADE
COMMIT
`;
    inNs(n.netns, 'ip6tables-restore', ['--noflush'], { input: rules });
  }

  /** delete every netns this topology created (also after a partial build) */
  teardown(): void {
    for (const ns of [...this.created].reverse()) run('ip', ['netns', 'del', ns], { allowFail: true });
    this.created.length = 0;
  }
}

/** netns left behind by an earlier crashed run with this prefix */
export function removeStaleNetns(prefix: string): number {
  const names = run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(prefix + '-'));
  for (const n of names) run('ip', ['netns', 'del', n], { allowFail: true });
  return names.length;
}
