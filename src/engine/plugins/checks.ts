// The network plugin's expected state, checked where the kernel walk passes: the route a node
// uses for a pod address against the one the plugin programs (and the route back for the reply),
// the pod's own interface and MTU against its veth peer and the tunnel overhead, tunnel devices,
// bridge ports, masquerading of pod traffic leaving the cluster, and bridge-nf-call-iptables for
// service traffic hairpinning through a bridge. The walk already reports what the kernel does
// (no route, down device, drop); these checks say what the plugin *should* have set up, with the
// expected and the actual line side by side. What a plugin programs (routes, tunnel, how sure it
// is about masquerading) comes from its module through the Plugin interface; the mechanics here
// are the same for every plugin.
import type { ClusterCache } from '../k8s/cache';
import type { ClusterPod } from '../k8s/objects';
import type { Packet } from '../model/packet';
import { SuspicionLevel, type Evidence, type Suspicion } from '../model/suspicion';
import type { NodeStack } from '../datapath/node-stack';
import { contains, parseIP, parsePrefix, sameIP, type IP } from '../netstack/ip';
import type { Interface } from '../netstack/interfaces-model';
import { isUp, downReason } from '../netstack/interfaces';
import type { NetNS } from '../netstack/netns';
import { traceHookStages } from '../netstack/netfilter/stages';
import { netfilterEnv } from '../datapath/netfilter-env';
import { netfilterRules, toNf } from '../datapath/walk';
import type { RouteResult, RouteSuccess } from '../netstack/router-model';
import { bridgeNfCallIptables } from '../netstack/sysctl';
import type { PluginConfig } from './config';
import { formatExpected, type ExpectedRoute } from './expected';
import type { Plugin } from './plugin';
import { plugins, type PluginRegistry } from './registry';
import { detectUplink } from './uplink';

type ParsedCIDR = { text: string; p: NonNullable<ReturnType<typeof parsePrefix>>; node?: string };

const parsedPrefixes = (texts: readonly string[]): ParsedCIDR[] => texts.flatMap((text) => { const p = parsePrefix(text); return p ? [{ text, p }] : []; });

/**
 * Every node's pod CIDRs with the node that holds each (the owner of a pod IP no pod claims),
 * parsed once per cluster cache: a Network serves many diagnoses, and on a 5,000-node cluster
 * parsing them again for each run was most of a warm diagnosis.
 */
const nodeCIDRs = new WeakMap<ClusterCache, ParsedCIDR[]>();
function nodePodCIDRs(cache: ClusterCache): ParsedCIDR[] {
  let out = nodeCIDRs.get(cache);
  if (!out) nodeCIDRs.set(cache, (out = cache.nodeSummaries().flatMap((n) => parsedPrefixes(n.podCIDRs).map((c) => ({ ...c, node: n.name })))));
  return out;
}

export interface PluginEnv {
  cache: ClusterCache;
  stack(node: string): NodeStack | undefined;
  /** The user asked for a service (ClusterIP/NodePort/LB): packets to its backends were DNATed. */
  destinationIsService(): boolean;
  /** Is `ip` an address of a cluster node (Node objects or dumps)? */
  isNodeAddress(ip: string): boolean;
  /** Is `ip` a service address (ClusterIP, externalIP, LB IP)? */
  isServiceAddress(ip: string): boolean;
}

/**
 * The checks of one diagnosis. Per instance, so make one per diagnosis: `podMtuDone` (a pod's
 * interface and MTU are reported once per diagnosis; a reused instance stays silent about pods an
 * earlier diagnosis visited). Derived from the snapshot alone: `cidrs` (the pod network; the nodes'
 * part parsed once per cluster cache) and `uplinks` (each node's uplink, per instance).
 * The plugin modules hold no state.
 */
export class PluginChecks {
  private readonly plugin: Plugin;
  private readonly cidrs: ParsedCIDR[];
  private readonly uplinks = new Map<string, ReturnType<typeof detectUplink>>();
  private readonly podMtuDone = new Set<string>();

  constructor(readonly cfg: PluginConfig, private readonly env: PluginEnv, registry: PluginRegistry = plugins) {
    this.plugin = registry.byName(cfg.plugin.value) ?? registry.fallback;
    this.cidrs = [...parsedPrefixes(cfg.clusterCIDRs.value), ...nodePodCIDRs(env.cache)];
  }

  /** A packet leaving namespace `ns` of `node` through `oif` towards `nexthop` (the kernel's choice). */
  onExit(node: string, ns: NetNS, packet: Packet, oif: string, nexthop: string): Suspicion[] {
    if (packet.encap || packet.reply) return [];
    const stack = this.env.stack(node);
    if (!stack) return [];
    if (ns !== stack.host) return this.podExit(stack, ns, packet, oif);
    const out: Suspicion[] = [];
    out.push(...this.routeCheck(stack, packet.dst, oif, nexthop, false));
    const src = parseIP(packet.src);
    if (src && this.inCluster(src) && !ns.ownsAddress(packet.src)) out.push(...this.replyRouteCheck(stack, packet.src));
    out.push(...this.masquerade(stack, packet, oif, nexthop));
    out.push(...this.bridgeNf(stack, packet, oif));
    return out;
  }

  /** A packet entering namespace `ns` of `node` on `iif`, before the namespace's netfilter and routing. */
  onReceive(node: string, ns: NetNS, packet: Packet, iif: string): Suspicion[] {
    if (packet.encap || packet.reply) return [];
    const stack = this.env.stack(node);
    if (!stack) return [];
    if (ns === stack.host) return [...this.localPodPort(stack, packet.dst), ...this.blackholeBlock(stack, packet.dst)];
    const pod = this.podOf(ns, packet.dst);
    if (!pod) return [];
    return [...this.podInterfaceChecks(stack, ns, packet.dst), ...this.podReplyRoute(ns, packet, iif)];
  }

  // ---------------------------------------------------------------- pods

  private podOf(ns: NetNS, ip: string): ClusterPod | undefined {
    const pod = this.env.cache.podByIP(ip);
    return pod && !pod.hostNetwork && ns.ownsAddress(ip) ? pod : undefined;
  }

  /** The pod's interface holding `ip` (its eth0 under any name). */
  private podInterface(ns: NetNS, ip: string): Interface | undefined {
    const a = parseIP(ip);
    return a ? ns.interfaces?.find((i) => i.name !== 'lo' && i.addresses.some((x) => sameIP(x.address, a))) : undefined;
  }

  private podExit(stack: NodeStack, ns: NetNS, packet: Packet, oif: string): Suspicion[] {
    const out: Suspicion[] = [];
    const own = packet.src ? this.podInterface(ns, packet.src) : undefined;
    if (own && this.env.cache.podByIP(packet.src) && oif !== own.name) {
      const r = this.lookup(ns, packet.dst, packet.src, packet.mark);
      out.push({
        level: SuspicionLevel.FATAL,
        check: 'route.invalid',
        message: `${ns.label} sends the packet for ${packet.dst} out of ${oif}, not out of ${own.name}, its link to the node`,
        evidence: [routeEv(ns, r, `route to ${packet.dst}`), { kind: 'route', text: `expected: ${packet.dst} ... dev ${own.name}`, where: ns.label }],
      });
    }
    if (packet.src) out.push(...this.podInterfaceChecks(stack, ns, packet.src));
    return out;
  }

  /** The pod's interface against its host-side veth and what the plugin's network carries. */
  private podInterfaceChecks(stack: NodeStack, ns: NetNS, ip: string): Suspicion[] {
    const key = `${stack.nodeName}|${ns.info.id}`;
    if (this.podMtuDone.has(key)) return [];
    this.podMtuDone.add(key);
    const out: Suspicion[] = [];
    const own = this.podInterface(ns, ip);
    if (!own) return out;
    const lo = ns.interface('lo');
    if (lo && !isUp(lo)) {
      out.push({
        level: SuspicionLevel.WARNING,
        check: 'interface.down',
        message: `lo in ${ns.label} is down: traffic inside the pod (localhost, its own address) fails; traffic from other hosts is still delivered on ${own.name}`,
        evidence: [ifaceEv(ns, lo)],
      });
    }
    const peer = stack.peer(ns, own.name);
    const hostIf = peer?.ns.interface(peer.iface);
    const mtuEv: Evidence[] = [ifaceEv(ns, own)];
    if (hostIf && peer) mtuEv.push(ifaceEv(peer.ns, hostIf));
    if (hostIf && hostIf.mtu !== own.mtu) {
      out.push({
        level: SuspicionLevel.WARNING,
        check: 'mtu.mismatch',
        message: `${own.name} of ${ns.label} has MTU ${own.mtu} but its veth peer ${hostIf.name} on ${stack.nodeName} has ${hostIf.mtu}: packets larger than ${Math.min(own.mtu, hostIf.mtu)} bytes are dropped by the veth without an ICMP error (TCP still connects: MSS follows the smaller MTU)`,
        evidence: mtuEv,
      });
    }
    const expected = this.expectedPodMtu(stack);
    if (expected && own.mtu > expected.mtu) {
      out.push({
        level: SuspicionLevel.WARNING,
        check: 'mtu.mismatch',
        message: `${own.name} of ${ns.label} has MTU ${own.mtu}, more than the ${expected.mtu} the network carries (${expected.why}): larger packets need fragmentation or are dropped`,
        evidence: [...mtuEv, ...expected.evidence],
      });
    }
    return out;
  }

  private expectedPodMtu(stack: NodeStack): { mtu: number; why: string; evidence: Evidence[] } | undefined {
    const uplink = this.uplink(stack);
    const up = uplink ? stack.host.interface(uplink) : undefined;
    const t = this.plugin.tunnel(this.cfg);
    const tunnel = t ? stack.host.interface(t.dev) : undefined;
    if (t && tunnel) return { mtu: tunnel.mtu, why: `${t.dev} MTU`, evidence: [ifaceEv(stack.host, tunnel)] };
    if (!up) return undefined;
    const overhead = t?.overhead ?? 0;
    return { mtu: up.mtu - overhead, why: overhead ? `uplink ${up.name} MTU ${up.mtu} minus ${overhead} bytes of ${this.cfg.backend?.value} encapsulation` : `uplink ${up.name} MTU`, evidence: [ifaceEv(stack.host, up)] };
  }

  /** The reply leaves the pod through its own interface. */
  private podReplyRoute(ns: NetNS, p: Packet, iif: string): Suspicion[] {
    if (!p.src || !ns.router) return [];
    const r = ns.router.lookup({ dst: p.src, src: p.dst });
    const own = this.podInterface(ns, p.dst);
    if (!r.ok) {
      return [{
        level: SuspicionLevel.FATAL,
        check: 'route.no-route',
        message: `${ns.label} has no route back to ${p.src}: the reply cannot be sent (${r.message})`,
        evidence: r.route ? [{ kind: 'route', text: r.route.text, where: `${ns.label} table ${r.route.table.name}` }] : [{ kind: 'route', text: r.why.join('; ') || 'no matching route', where: ns.label }],
      }];
    }
    if (r.type === 'local' || !own || r.dev === own.name || r.dev === iif) return [];
    return [{
      level: SuspicionLevel.FATAL,
      check: 'route.invalid',
      message: `${ns.label} sends its reply to ${p.src} out of ${r.dev}, not out of ${own.name} where the request came in`,
      evidence: [routeEv(ns, r, `route to ${p.src}`), { kind: 'route', text: `expected: ${p.src} ... dev ${own.name}`, where: ns.label }],
    }];
  }

  // ---------------------------------------------------------------- nodes

  private uplink(stack: NodeStack): string | undefined {
    if (!this.uplinks.has(stack.nodeName)) {
      const n = this.env.cache.node(stack.nodeName);
      this.uplinks.set(stack.nodeName, detectUplink(stack.host, stack.nodeName, n?.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address) ?? [], this.cfg));
    }
    return this.uplinks.get(stack.nodeName)?.value;
  }

  private inCluster(ip: IP): boolean {
    return this.cidrs.some((c) => contains(c.p, ip));
  }

  /** What the plugin programs on `stack`'s node for a pod address. */
  private expectedFor(stack: NodeStack, dst: string): { exp: ExpectedRoute; podCIDRLen?: number } | undefined {
    const exp = this.expectedRoute(stack, dst);
    return exp ? { exp, podCIDRLen: exp.prefix ? parsePrefix(exp.prefix)?.len : undefined } : undefined;
  }

  private expectedRoute(stack: NodeStack, dst: string): ExpectedRoute | undefined {
    const ip = parseIP(dst);
    if (!ip) return undefined;
    const pod = this.env.cache.podByIP(dst);
    if (pod?.hostNetwork) return undefined;
    let owner = pod?.nodeName;
    if (!owner) owner = nodePodCIDRs(this.env.cache).find((c) => contains(c.p, ip))?.node;
    if (!owner) return undefined;
    if (owner === stack.nodeName) {
      const podCIDR = this.env.cache.node(owner)?.podCIDRs.find((c) => c.includes(':') === (ip.family === 6));
      return this.plugin.localRoute(this.cfg, { dst, pod, podCIDR, hostVeth: (p) => this.hostVeth(stack, p) });
    }
    const remote = this.env.cache.node(owner);
    const uplink = this.uplink(stack);
    if (!remote || !uplink) return undefined;
    const up = stack.host.interface(uplink);
    const sameSubnet = (nodeIP: string) => {
      const x = parseIP(nodeIP);
      return !!x && !!up?.addresses.some((a) => { const p = parsePrefix(`${a.address}/${a.prefixLen}`); return !!p && contains(p, x); });
    };
    return this.plugin.remoteRoute(this.cfg, { dst, node: remote.object, uplink, sameSubnet });
  }

  private hostVeth(stack: NodeStack, pod: ClusterPod): Interface | undefined {
    for (const ns of stack.pods.values()) {
      if (ns.label !== pod.key) continue;
      const own = pod.ips.map((ip) => this.podInterface(ns, ip)).find((x) => x);
      const peer = own ? stack.peer(ns, own.name) : undefined;
      return peer?.ns === stack.host ? stack.host.interface(peer.iface) : undefined;
    }
    return undefined;
  }

  private lookup(ns: NetNS, dst: string, src?: string, mark = 0) {
    return ns.router?.lookup({ dst, ...(src ? { src } : {}), mark });
  }

  /** The route the kernel took for `dst` against the plugin's. */
  private routeCheck(stack: NodeStack, dst: string, oif: string, nexthop: string, reply: boolean): Suspicion[] {
    const e = this.expectedFor(stack, dst);
    if (!e) return [];
    const { exp } = e;
    const gwOk = exp.gateway ? sameAddress(exp.gateway, nexthop) : sameAddress(nexthop, dst);
    const out: Suspicion[] = [];
    const r = this.lookup(stack.host, dst);
    if (exp.dev === oif && gwOk) return this.deviceChecks(stack, exp);
    const actual = r?.ok ? r.route : undefined;
    const missing = !!actual && e.podCIDRLen !== undefined && actual.dst.len < e.podCIDRLen;
    const what = reply ? `the reply to ${dst}` : `the packet for ${dst}`;
    out.push({
      level: SuspicionLevel.FATAL,
      check: missing ? 'route.missing' : 'route.invalid',
      message: missing
        ? `${stack.nodeName} has no route for ${exp.prefix ?? dst}: ${what} follows ${actual!.text} instead of ${formatExpected(exp, dst)}`
        : `${stack.nodeName} routes ${what} via ${nexthop} dev ${oif}, expected ${formatExpected(exp, dst)}`,
      evidence: [
        r ? routeEv(stack.host, r, `route to ${dst}`) : { kind: 'route', text: `dev ${oif} via ${nexthop}`, where: stack.nodeName },
        { kind: 'route', text: `expected: ${formatExpected(exp, dst)}`, where: exp.why },
      ],
    });
    if (stack.host.interface(exp.dev) === undefined || !isUp(stack.host.interface(exp.dev)!)) out.push(...this.deviceChecks(stack, exp));
    return out;
  }

  /** The route back to a pod source must be the plugin's too (else the reply goes astray). */
  private replyRouteCheck(stack: NodeStack, src: string): Suspicion[] {
    const e = this.expectedFor(stack, src);
    if (!e) return [];
    const r = this.lookup(stack.host, src);
    if (!r) return [];
    if (!r.ok) {
      return [{
        level: SuspicionLevel.FATAL,
        check: 'route.missing',
        message: `${stack.nodeName} has no route back to ${src}: the reply cannot return (${r.message}); expected ${formatExpected(e.exp, src)}`,
        evidence: [{ kind: 'route', text: r.route?.text ?? (r.why.join('; ') || 'no matching route'), where: stack.nodeName }, { kind: 'route', text: `expected: ${formatExpected(e.exp, src)}`, where: e.exp.why }],
      }];
    }
    if (r.type === 'local') return [];
    return this.routeCheck(stack, src, r.dev, r.gateway ?? src, true);
  }

  /** A tunnel or bridge the plugin's route uses: present, up, and (tunnels) fitting into the uplink MTU. */
  private deviceChecks(stack: NodeStack, { dev, overhead }: ExpectedRoute): Suspicion[] {
    const i = stack.host.interface(dev);
    if (!i) {
      return [{ level: SuspicionLevel.FATAL, check: 'interface.missing', message: `${dev}, the ${this.cfg.plugin.value} device, does not exist on ${stack.nodeName}`, evidence: [{ kind: 'interface', text: `${dev}: not present`, where: stack.nodeName }] }];
    }
    if (!isUp(i)) {
      return [{ level: SuspicionLevel.FATAL, check: 'interface.down', message: `${dev} on ${stack.nodeName} is down (${downReason(i) ?? i.operState})`, evidence: [ifaceEv(stack.host, i)] }];
    }
    const uplink = this.uplink(stack);
    const up = uplink ? stack.host.interface(uplink) : undefined;
    if (overhead && up && i.mtu + overhead > up.mtu) {
      return [{
        level: SuspicionLevel.WARNING,
        check: 'mtu.mismatch',
        message: `${dev} on ${stack.nodeName} has MTU ${i.mtu}; with ${overhead} bytes of encapsulation the outer packets exceed the uplink ${up.name}'s MTU ${up.mtu}: full-size packets are fragmented or dropped`,
        evidence: [ifaceEv(stack.host, i), ifaceEv(stack.host, up)],
      }];
    }
    return [];
  }

  /** A packet for a pod on this node: the pod's host veth must be up (a detached port is the datapath's bridge.port-missing). */
  private localPodPort(stack: NodeStack, dst: string): Suspicion[] {
    const pod = this.env.cache.podByIP(dst);
    if (!pod || pod.hostNetwork || pod.nodeName !== stack.nodeName) return [];
    const veth = this.hostVeth(stack, pod);
    if (!veth) return [];
    const out: Suspicion[] = [];
    if (!isUp(veth)) {
      out.push({ level: SuspicionLevel.FATAL, check: 'veth.down', message: `${veth.name}, the host side of pod ${pod.key}'s veth on ${stack.nodeName}, is down (${downReason(veth) ?? veth.operState})`, evidence: [ifaceEv(stack.host, veth)] });
    }
    return out;
  }

  /**
   * Calico programs a blackhole route for each block a node claims (so that its unused addresses
   * go nowhere) and announces an address it lent to another node's pod as that pod's own /32 or
   * /128. A pod of another node swallowed here by such a blackhole means this node claims the
   * pod's block — the address was borrowed and its more specific route is missing, or the block's
   * affinity is stale. The route finding says the packet stops; this says why Calico put it there.
   */
  private blackholeBlock(stack: NodeStack, dst: string): Suspicion[] {
    if (this.plugin.name !== 'calico') return [];
    const pod = this.env.cache.podByIP(dst);
    if (!pod || pod.hostNetwork || !pod.nodeName || pod.nodeName === stack.nodeName) return [];
    const r = this.lookup(stack.host, dst);
    if (!r || r.ok || r.kind !== 'blackhole' || !r.route) return [];
    const len = dst.includes(':') ? 128 : 32;
    return [{
      level: SuspicionLevel.WARNING,
      check: 'calico.blackhole-block',
      message: `${stack.nodeName} holds the blackhole route ${r.route.text} of a Calico block it claims, but ${dst} belongs to pod ${pod.key} on node ${pod.nodeName}: with no more specific route (Calico announces a borrowed address as its own /${len}) the packet is swallowed here instead of going to ${pod.nodeName} — the address was borrowed from this node's block, or the block's affinity is stale`,
      evidence: [{ kind: 'route', text: r.route.text, where: `${stack.nodeName} table ${r.route.table.name}` }],
    }];
  }

  /** Pod traffic leaving the cluster must be masqueraded, else the answer never finds its way back. */
  private masquerade(stack: NodeStack, p: Packet, oif: string, nexthop: string): Suspicion[] {
    const src = parseIP(p.src);
    const dst = parseIP(p.dst);
    if (!src || !dst || !this.inCluster(src) || this.inCluster(dst)) return [];
    if (this.env.isNodeAddress(p.dst) || this.env.isServiceAddress(p.dst) || this.env.isNodeAddress(nexthop)) return [];
    if (!this.cfg.masquerade.value) return [];
    const pool = this.cfg.calicoPools.find((x) => { const pr = parsePrefix(x.cidr); return !!pr && contains(pr, src); });
    if (pool && !pool.natOutgoing) return [];
    const evidence: Evidence[] = [{ kind: 'dump', text: `${p.protocol} ${p.src} -> ${p.dst}:${p.dport} leaves ${oif} with the pod source`, where: stack.nodeName }];
    // What the node's source NAT did with it: the iptables nat rules of every backend and the
    // native nftables postrouting chains (kube-proxy's `masquerading`, a plugin's own table), in
    // the kernel's order, through the same simulation as the walk.
    const nf = { ...toNf({ ...p }, src.family, undefined), oif };
    for (const o of traceHookStages(netfilterRules(stack.host, src.family), 'POSTROUTING', nf, netfilterEnv(stack.host)).slice(0, 1)) {
      for (const s of o.path) {
        if (s.native) evidence.push({ kind: 'nftables', text: s.text, where: `${stack.nodeName} ${s.native}` });
        else if (s.table === 'nat') evidence.push({ kind: 'iptables', text: s.text, where: `${stack.nodeName} nat/${s.chain}${s.rule ? ` #${s.rule}` : ''}` });
      }
    }
    return [{
      level: this.plugin.unmasqueraded,
      check: 'nat.no-masquerade',
      message: `${stack.nodeName} sends pod traffic ${p.src} -> ${p.dst} out of ${oif} without SNAT: pod addresses are not routable outside the cluster, so the answer never comes back (masquerade: ${this.cfg.masquerade.source})`,
      evidence,
    }];
  }

  /** Service traffic bridged back to a pod on the same bridge must pass iptables, or the reply is not un-DNATed. */
  private bridgeNf(stack: NodeStack, p: Packet, oif: string): Suspicion[] {
    const br = stack.host.interface(oif);
    if (!br || br.kind !== 'bridge') return [];
    const s = stack.host.sysctls;
    if (!s) return [];
    const on = bridgeNfCallIptables(s) || br.bridge?.nfCallIptables === true;
    if (on) return [];
    const src = parseIP(p.src);
    const sameBridge = !!src && br.addresses.some((a) => { const pr = parsePrefix(`${a.address}/${a.prefixLen}`); return !!pr && contains(pr, src); });
    // The failure itself (a service reply bridged back without un-DNAT) is shown by the datapath
    // (bridge.nf-call-iptables-off); this is the plugin's expectation, said once per node.
    const value = s.get('net.bridge.bridge-nf-call-iptables');
    const ev: Evidence[] = [{ kind: 'sysctl', text: value === undefined ? 'net.bridge.bridge-nf-call-iptables: absent (br_netfilter not loaded)' : `net.bridge.bridge-nf-call-iptables = ${value}`, where: stack.nodeName }, ifaceEv(stack.host, br)];
    return [{ level: SuspicionLevel.WARNING, check: 'sysctl.bridge-nf-call-iptables', message: `${stack.nodeName} has bridge-nf-call-iptables off, which ${this.cfg.plugin.value} with bridge ${br.name} needs: traffic bridged on ${br.name} bypasses iptables (service replies between pods of one bridge${sameBridge && this.env.destinationIsService() ? ', like this one,' : ''} are not un-DNATed; NetworkPolicies are not enforced there)`, evidence: ev }];
  }
}

function ifaceEv(ns: NetNS, i: Interface): Evidence {
  return { kind: 'interface', text: `${i.index}: ${i.name}: <${i.flags.join(',')}> mtu ${i.mtu} state ${i.operState}${i.master ? ` master ${i.master}` : ''}`, where: ns.label };
}

function routeEv(ns: NetNS, r: RouteResult | undefined, what: string): Evidence {
  if (!r) return { kind: 'route', text: `${what}: no routing table`, where: ns.label };
  if (!r.ok) return { kind: 'route', text: `${what}: ${r.message}`, where: ns.label };
  const ok = r as RouteSuccess;
  return { kind: 'route', text: ok.route?.text ?? ok.why.join('; '), where: `${ns.label}${ok.table ? ` table ${ok.table.name}` : ''}` };
}

/** Equal addresses, or equal text where one side is not an address (a device name as next hop). */
function sameAddress(a: string, b: string): boolean {
  return sameIP(a, b) || a === b;
}
