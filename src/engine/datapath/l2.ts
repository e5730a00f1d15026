// Where a packet leaving an interface arrives: through a veth to the namespace at its other end,
// through a bridge to the port that leads to the next hop (neighbour MAC + bridge FDB, or the
// port whose far end owns the address), into a tunnel (VXLAN: neighbour + FDB give the remote
// VTEP; IPIP: the gateway), or out on the wire to another host. Also the reverse: a frame
// arriving on a bridge port is either for the host (routed) or bridged to another port, where
// br_netfilter may run the FORWARD chain; leaving by a port, it meets the port's egress chains.
import { formatAddressPort, type Packet } from '../model/packet';
import { SuspicionLevel, type Evidence, type Suspicion } from '../model/suspicion';
import { bridgePorts, isUp, downReason } from '../netstack/interfaces';
import type { Interface } from '../netstack/interfaces-model';
import { sameIP } from '../netstack/ip';
import { traceHookStages } from '../netstack/netfilter/stages';
import type { NotUnderstood } from '../netstack/netfilter/packet';
import { decidingElements, enumerateWorlds } from '../netstack/netfilter/undecided';
import { resolveNeighbour } from '../netstack/neighbour';
import type { NetNS } from '../netstack/netns';
import { bridgeNfCallIptables, bridgeNfCallIp6tables, ipv6Disabled, ipv6ProxyNdp, sysctlIfName } from '../netstack/sysctl';
import { formatIP, parseIP, parsePrefix } from '../netstack/ip';
import { icmp6Fate, icmp6Finding } from './icmp6-filter';
import { netfilterEnv } from './netfilter-env';
import { bridgeFamilyChains } from './bridge-nft';
import { bridgePortEgress } from './egress-nft';
import type { ConntrackTable } from './conntrack';
import type { End, NodeStack } from './node-stack';
import { familyOf, xtables, incompleteTables, interfaceEvidence, netfilterRules, nuEvidence, toNf, undecidedOf } from './walk';

export type Egress =
  /** Arrives in another namespace of this node, on `to.iface`. */
  | { kind: 'netns'; to: End; via: string; bridge?: string; findings: Suspicion[]; packet?: Packet }
  /** Leaves the node on `oif` towards `nexthop`. */
  | { kind: 'wire'; oif: string; nexthop: string; findings: Suspicion[] }
  /** Encapsulated by tunnel device `dev`: the outer packet is sent from this namespace. */
  | { kind: 'encap'; dev: string; outer: Packet; findings: Suspicion[] }
  /** Goes nowhere: the finding says why. */
  | { kind: 'lost'; findings: Suspicion[] };

const TUNNELS = new Set(['ipip', 'gre', 'sit', 'ip6tnl']);

/** The link layer after routing chose `oif` and the next-hop address. */
export function egress(stack: NodeStack, ns: NetNS, oif: string, nexthop: string, packet: Packet): Egress {
  const dev = ns.interface(oif);
  if (!dev) return { kind: 'wire', oif, nexthop, findings: [] };
  if (dev.kind === 'bridge') return throughBridge(stack, ns, dev, undefined, nexthop, packet);
  if (dev.kind === 'vxlan') return vxlanEncap(ns, dev, nexthop, packet);
  if (TUNNELS.has(dev.kind)) return ipTunnelEncap(dev, nexthop, packet);
  if (dev.kind === 'veth') {
    const peer = stack.peer(ns, oif);
    if (!isUp(dev) && !peer) {
      return { kind: 'lost', findings: [{ level: SuspicionLevel.FATAL, check: 'interface.down', message: `${oif} on ${ns.label} has no carrier and its other end is not in the dump`, evidence: [interfaceEvidence(ns, oif)] }] };
    }
    if (peer) {
      const tooBig = vethMtu(ns, dev, peer, packet);
      return tooBig ? { kind: 'lost', findings: [tooBig] } : { kind: 'netns', to: peer, via: oif, findings: [] };
    }
  }
  return { kind: 'wire', oif, nexthop, findings: [] };
}

/**
 * A frame arriving on `iface` of `ns`: if that interface is a bridge port, the bridge decides —
 * up to the host (the next hop is one of the host's addresses, e.g. the pod's gateway) with the
 * bridge as input interface, or bridged to another port.
 */
export function ingress(stack: NodeStack, ns: NetNS, iface: string, nexthop: string, packet: Packet, ct?: ConntrackTable):
  | { kind: 'host'; iif: string; findings: Suspicion[] }
  | Egress {
  const port = ns.interface(iface);
  if (!port) return { kind: 'host', iif: iface, findings: [] };
  if (!port.master) {
    if (familyOf(nexthop) === 6) {
      const nd = ndp(stack, ns, port, port, nexthop);
      return nd.lost ? { kind: 'lost', findings: nd.findings } : { kind: 'host', iif: iface, findings: nd.findings };
    }
    const noAnswer = arpUnanswered(ns, port, nexthop);
    return noAnswer ? { kind: 'lost', findings: [noAnswer] } : { kind: 'host', iif: iface, findings: [] };
  }
  const bridge = ns.interface(port.master);
  if (!bridge) return { kind: 'host', iif: iface, findings: [] };
  const findings: Suspicion[] = [];
  const blocked = portBlocked(ns, port, bridge);
  if (blocked) return { kind: 'lost', findings: [blocked] };
  if (!isUp(bridge)) return { kind: 'lost', findings: [bridgeDown(stack, ns, bridge, nexthop)] };
  if (ns.ownsAddress(nexthop) || sameIP(nexthop, packet.dst) && ns.ownsAddress(packet.dst)) {
    // Up to the host through the bridge: its bridge-family prerouting and input chains first.
    const stop = bridgeFamilyChains(ns, bridge.name, port.name, undefined, packet, findings);
    if (stop) return { kind: 'lost', findings: [...findings, stop] };
    if (familyOf(nexthop) === 6) {
      // The bridge device answers the neighbour solicitation.
      const nd = ndp(stack, ns, port, bridge, nexthop);
      return nd.lost ? { kind: 'lost', findings: [...findings, ...nd.findings] } : { kind: 'host', iif: bridge.name, findings: [...findings, ...nd.findings] };
    }
    return { kind: 'host', iif: bridge.name, findings };
  }
  return throughBridge(stack, ns, bridge, port, nexthop, packet, ct);
}

/**
 * The sender needs the MAC of `nexthop` on this link: it is answered here only if this side owns
 * the address (any interface, Linux's default arp_ignore=0) or proxies ARP on this interface
 * (Calico's 169.254.1.1 gateway). Otherwise the sender's ARP goes unanswered.
 */
function arpUnanswered(ns: NetNS, port: Interface, nexthop: string): Suspicion | undefined {
  if (port.flags.includes('NOARP') || port.kind === 'lo' || port.name === 'lo') return undefined;
  if (ns.ownsAddress(nexthop)) return undefined;
  const sys = ns.sysctls;
  if (!sys) return undefined;
  const dev = port.name.replace(/\./g, '/');
  const iface = sys.int(`net.ipv4.conf.${dev}.proxy_arp`);
  const all = sys.int('net.ipv4.conf.all.proxy_arp');
  if (iface === undefined && all === undefined) return undefined;
  if ((iface ?? 0) > 0 || (all ?? 0) > 0) return undefined;
  return {
    level: SuspicionLevel.FATAL,
    check: 'arp.no-answer',
    message: `nothing on ${ns.label} answers ARP for ${nexthop} on ${port.name}: the address is not there and proxy_arp is off, so the packet never crosses this link`,
    evidence: [{ kind: 'sysctl', text: `net.ipv4.conf.${dev}.proxy_arp = ${iface ?? '?'}`, where: ns.label }, { kind: 'sysctl', text: `net.ipv4.conf.all.proxy_arp = ${all ?? '?'}`, where: ns.label }],
  };
}

/**
 * IPv6's ARP: before the frame crosses the link the sender needs the MAC of `nexthop`, asked by
 * a neighbour solicitation that `dev` (the receiving port, or the bridge above it) must answer
 * (ndisc_recv_ns): the target is an address of `dev` itself — not of any interface, unlike ARP —
 * or the subnet-router anycast address of one of its prefixes while `dev` forwards, or an
 * address in its proxy list (`ip -6 neigh add proxy`) while `dev` forwards and proxy_ndp is on.
 * Neither the solicitation nor the advertisement may be dropped by ip6tables (conntrack leaves
 * NDP UNTRACKED). IPv6 disabled on `dev` drops every IPv6 packet arriving there. The sender needs
 * none of it with a PERMANENT entry; with a usable learned one it works until the entry must be
 * confirmed again (WARNING); without one the packet never crosses (FATAL).
 */
function ndp(stack: NodeStack, ns: NetNS, port: Interface, dev: Interface, nexthop: string): { findings: Suspicion[]; lost: boolean } {
  const sys = ns.sysctls;
  if (sys && ipv6Disabled(sys, dev.name)) {
    return {
      lost: true,
      findings: [{
        level: SuspicionLevel.FATAL,
        check: 'sysctl.ipv6-disabled',
        message: `IPv6 is disabled on ${dev.name} on ${ns.label}, where the packet arrives: the kernel drops every IPv6 packet there (and ${dev.name} has no IPv6 address to answer neighbour discovery)`,
        evidence: [{ kind: 'sysctl', text: `net.ipv6.conf.${sysctlIfName(dev.name)}.disable_ipv6 = 1`, where: ns.label }],
      }],
    };
  }
  if (port.flags.includes('NOARP') || dev.flags.includes('NOARP') || port.name === 'lo') return { findings: [], lost: false };
  const end = port.kind === 'veth' ? stack.peer(ns, port.name) : undefined;
  // Through a bridge port the sender may be the bridge's host or another port's namespace: not known here.
  const sender = end && !end.ns.interface(end.iface)?.master ? end : undefined;
  const had = sender?.ns.neighbours ? resolveNeighbour(sender.ns.neighbours, nexthop, sender.iface) : undefined;
  if (had && had.status !== 'absent' && had.entry?.states.some((s) => s === 'PERMANENT' || s === 'NOARP')) return { findings: [], lost: false };
  const learned = had?.status === 'usable';
  const level = learned ? SuspicionLevel.WARNING : SuspicionLevel.FATAL;
  const later = learned ? ` (${had!.reason}: it works until the entry must be confirmed again)` : '';
  const ask = `the neighbour solicitation for ${nexthop} on ${dev.name}`;
  const answer = ndpAnswer(ns, dev, nexthop);
  if (answer.kind === 'none' || answer.kind === 'unknown') {
    const message = answer.kind === 'none'
      ? `nothing on ${ns.label} answers ${ask}: ${answer.why}, so the sender cannot resolve its next hop and the packet never crosses this link${later}`
      : `whether ${ns.label} answers ${ask} is not known: ${answer.why}${later}`;
    return {
      lost: answer.kind === 'none' && !learned,
      findings: [{
        level: answer.kind === 'none' ? level : SuspicionLevel.WARNING,
        check: 'ndp.no-answer',
        message,
        evidence: answer.evidence.map((text): Evidence => ({ kind: text.startsWith('net.') ? 'sysctl' : 'neighbour', text, where: ns.label })),
        ...(answer.kind === 'unknown' ? { undecided: [{ where: `${ns.label} proxy NDP for ${nexthop} on ${dev.name}`, reason: answer.why }] } : {}),
      }],
    };
  }
  // The messages themselves: solicitation in and advertisement out here, and at the sender
  // (when the dump has it) solicitation out and advertisement in.
  const senderIf = sender?.ns.interface(sender.iface);
  const from = senderIf?.addresses.find((a) => a.family === 6 && a.scope === 'link')?.address ?? senderIf?.addresses.find((a) => a.family === 6)?.address ?? 'fe80::1';
  const solicited = solicitedNode(nexthop);
  const consequence = `the sender cannot resolve ${nexthop}, so the packet never crosses this link${later}`;
  const findings: Suspicion[] = [];
  const checks: [NetNS, Parameters<typeof icmp6Fate>[1], Parameters<typeof icmp6Fate>[2], string][] = [
    [ns, ['PREROUTING', 'INPUT'], { src: from, dst: solicited, type: 135, iif: dev.name, related: false }, `${ask} arriving`],
    [ns, ['OUTPUT', 'POSTROUTING'], { src: nexthop, dst: from, type: 136, oif: dev.name, related: false }, `the neighbour advertisement for ${nexthop} leaving ${dev.name}`],
  ];
  if (sender) {
    checks.unshift([sender.ns, ['OUTPUT', 'POSTROUTING'], { src: from, dst: solicited, type: 135, oif: sender.iface, related: false }, `the neighbour solicitation for ${nexthop} leaving ${sender.iface}`]);
    checks.push([sender.ns, ['PREROUTING', 'INPUT'], { src: nexthop, dst: from, type: 136, iif: sender.iface, related: false }, `the neighbour advertisement for ${nexthop} arriving on ${sender.iface}`]);
  }
  for (const [where, hooks, msg, what] of checks) {
    const f = icmp6Finding(where, icmp6Fate(where, hooks, msg), 'icmpv6.ndp-dropped', level, `${what} (ICMPv6 type ${msg.type})`, consequence);
    if (f) findings.push(f);
  }
  return { findings, lost: findings.some((f) => f.level >= SuspicionLevel.CRITICAL) };
}

type NdpAnswer =
  | { kind: 'own' | 'anycast' | 'proxy' }
  | { kind: 'none' | 'unknown'; why: string; evidence: string[] };

function ndpAnswer(ns: NetNS, dev: Interface, target: string): NdpAnswer {
  const t = parseIP(target);
  if (!t) return { kind: 'unknown', why: `${target} is not an address`, evidence: [] };
  if (dev.addresses.some((a) => a.family === 6 && sameIP(a.address, t) && !a.flags.includes('dadfailed'))) return { kind: 'own' };
  const sys = ns.sysctls;
  const devFwd = sys?.int(`net.ipv6.conf.${sysctlIfName(dev.name)}.forwarding`);
  const anycast = dev.addresses.some((a) => {
    const p = a.family === 6 && a.prefixLen < 127 ? parsePrefix(`${a.address}/${a.prefixLen}`, 6) : undefined;
    return !!p && p.value === t.value;
  });
  if (anycast && devFwd) return { kind: 'own' };
  const elsewhere = (ns.interfaces ?? []).find((i) => i !== dev && i.addresses.some((a) => a.family === 6 && sameIP(a.address, t)));
  const onOther = elsewhere ? `${target} is on ${elsewhere.name}, not on ${dev.name} (neighbour discovery answers only for the receiving interface's own addresses)` : `${target} is not an address of ${dev.name}`;
  const table = ns.neighbours;
  const entry = table?.proxyFor(target, dev.name);
  const proxy = sys ? ipv6ProxyNdp(sys, dev.name) : undefined;
  if (entry) {
    if (proxy?.on) return { kind: 'proxy' };
    const ev = [`proxy ${target} dev ${entry.dev ?? dev.name}`, ...(proxy?.evidence ?? [])];
    if (proxy?.on === false) return { kind: 'none', why: `${onOther}; it is in the proxy list, but proxying needs ${dev.name} to forward and proxy_ndp on`, evidence: ev };
    return { kind: 'unknown', why: `${target} is in the proxy list of ${dev.name}, but the sysctls that enable proxying are not in the dump`, evidence: ev };
  }
  if (!table || !table.proxiesKnown) {
    if (proxy?.on === false) return { kind: 'none', why: `${onOther} and proxy NDP is off`, evidence: proxy.evidence };
    return { kind: 'unknown', why: `${onOther}, and the dump has no proxy NDP list (ip -6 neigh show proxy) to tell whether ${ns.label} proxies it`, evidence: proxy?.evidence ?? [] };
  }
  return { kind: 'none', why: `${onOther} and no proxy entry (ip -6 neigh add proxy) names it`, evidence: proxy?.evidence ?? [] };
}

/** ff02::1:ffXX:XXXX, where a solicitation for `ip` is sent. */
function solicitedNode(ip: string): string {
  const a = parseIP(ip);
  const base = parseIP('ff02::1:ff00:0')!;
  return a ? formatIP({ family: 6, value: base.value | (a.value & 0xffffffn) }) : 'ff02::1:ff00:0';
}

function portBlocked(ns: NetNS, port: Interface, bridge: Interface): Suspicion | undefined {
  if (!isUp(port)) {
    return { level: SuspicionLevel.FATAL, check: 'bridge.port-down', message: `${port.name}, a port of ${bridge.name} on ${ns.label}, is down (${downReason(port) ?? port.operState})`, evidence: [interfaceEvidence(ns, port.name)] };
  }
  if (port.bridgePortState && port.bridgePortState !== 'forwarding') {
    return { level: SuspicionLevel.FATAL, check: 'bridge.port-blocked', message: `${port.name}, a port of ${bridge.name} on ${ns.label}, is in bridge state "${port.bridgePortState}" and does not forward`, evidence: [interfaceEvidence(ns, port.name)] };
  }
  return undefined;
}

function throughBridge(stack: NodeStack, ns: NetNS, bridge: Interface, inPort: Interface | undefined, nexthop: string, packet: Packet, ct?: ConntrackTable): Egress {
  const ports = bridgePorts(ns.interfaces ?? [], bridge);
  if (!isUp(bridge)) {
    // Without carrier because the port towards the next hop lost its peer: the fault is on the
    // other side of the veth (a pod whose eth0 is down) — hand the packet there to say so.
    const dead = bridge.adminUp ? ports.map((p) => deadPeer(stack, ns, p, nexthop)).find((x) => x) : undefined;
    if (dead) return { kind: 'netns', to: dead.end, via: dead.port.name, bridge: bridge.name, findings: [] };
    return { kind: 'lost', findings: [bridgeDown(stack, ns, bridge, nexthop)] };
  }
  let out: Interface | undefined;
  const neigh = ns.neighbours?.lookup(nexthop, bridge.name);
  if (neigh?.lladdr && ns.fdb) {
    const d = ns.fdb.bridgeLookup(bridge.name, neigh.lladdr);
    if (d.decision === 'port') {
      out = ports.find((p) => p.name === d.port);
    }
  }
  if (!out) {
    // The port whose far end owns the address: where the ARP reply would come from.
    for (const p of ports) {
      const peer = p.kind === 'veth' ? stack.peer(ns, p.name) : undefined;
      if (peer && peer.ns.ownsAddress(nexthop)) {
        out = p;
        break;
      }
    }
  }
  if (!out) {
    const wire = ports.find((p) => p.kind !== 'veth' || !stack.peer(ns, p.name));
    if (wire && wire !== inPort) {
      const findings: Suspicion[] = [];
      const drop = bridgePortEgress(ns, bridge.name, wire.name, packet, findings);
      return drop ? { kind: 'lost', findings: [...findings, drop] } : { kind: 'wire', oif: wire.name, nexthop, findings };
    }
    const v6 = familyOf(nexthop) === 6;
    if (v6 && ns.sysctls && ipv6Disabled(ns.sysctls, bridge.name)) {
      // The usual reason a bridge's own IPv6 gateway address is gone: IPv6 was disabled on it.
      return {
        kind: 'lost',
        findings: [{
          level: SuspicionLevel.FATAL,
          check: 'sysctl.ipv6-disabled',
          message: `IPv6 is disabled on bridge ${bridge.name} on ${ns.label}: it has no IPv6 address (so nothing answers neighbour discovery for ${nexthop}) and drops IPv6 meant for the host; no port leads to ${nexthop} either`,
          evidence: [{ kind: 'sysctl', text: `net.ipv6.conf.${sysctlIfName(bridge.name)}.disable_ipv6 = 1`, where: ns.label }, interfaceEvidence(ns, bridge.name)],
        }],
      };
    }
    return {
      kind: 'lost',
      findings: [{
        level: SuspicionLevel.CRITICAL,
        check: 'bridge.no-port',
        message: `no port of bridge ${bridge.name} on ${ns.label} leads to ${nexthop}: ${v6 ? 'a neighbour solicitation' : 'ARP'} for it would go unanswered`,
        evidence: [interfaceEvidence(ns, bridge.name), ...ports.map((p) => interfaceEvidence(ns, p.name))],
      }],
    };
  }
  const blocked = portBlocked(ns, out, bridge);
  if (blocked) {
    const dead = deadPeer(stack, ns, out, nexthop);
    if (dead) return { kind: 'netns', to: dead.end, via: out.name, bridge: bridge.name, findings: [] };
    return { kind: 'lost', findings: [blocked] };
  }
  const findings: Suspicion[] = [];
  let sent = packet;
  if (inPort) {
    // Bridged between two ports: bridge-family nftables chains see it (from priority -200, before
    // br_netfilter); iptables — and conntrack — only through br_netfilter.
    const drop = bridgeFamilyChains(ns, bridge.name, inPort.name, out.name, packet, findings) ?? bridgedNetfilter(ns, bridge, inPort.name, out.name, packet, findings);
    if (drop) return { kind: 'lost', findings: [...findings, drop] };
    const un = packet.reply && ct ? ct.untranslate(ns, packet) : undefined;
    if (un?.translation) {
      if (!findings.some((f) => f.check === 'bridge.nf-call-iptables-off')) sent = un.packet;
      else {
        const key = familyOf(packet.dst) === 4 ? 'net.bridge.bridge-nf-call-iptables' : 'net.bridge.bridge-nf-call-ip6tables';
        return {
          kind: 'lost',
          findings: [{
            level: SuspicionLevel.FATAL,
            check: 'bridge.nf-call-iptables-off',
            message: `the reply from ${packet.src} to ${packet.dst} is bridged by ${bridge.name} on ${ns.label} without passing ${xtables(familyOf(packet.dst))} (${key} is off), so conntrack cannot undo the NAT of ${formatAddressPort(un.translation.orig.dst, un.translation.orig.dport)} -> ${formatAddressPort(un.translation.translated.dst, un.translation.translated.dport)}: the client gets an answer from an address it never asked and drops it`,
            evidence: ns.sysctls?.get(key) !== undefined ? [{ kind: 'sysctl', text: `${key} = ${ns.sysctls!.get(key)}`, where: ns.label }] : [],
          }],
        };
      }
    }
  } else {
    // Sent by the host out of a bridge port: the bridge-family output and postrouting chains.
    const drop = bridgeFamilyChains(ns, bridge.name, undefined, out.name, packet, findings);
    if (drop) return { kind: 'lost', findings: [...findings, drop] };
  }
  // Leaving by the port (dev_queue_xmit on it): the port's egress chains.
  const egressDrop = bridgePortEgress(ns, bridge.name, out.name, sent, findings);
  if (egressDrop) return { kind: 'lost', findings: [...findings, egressDrop] };
  const peer = out.kind === 'veth' ? stack.peer(ns, out.name) : undefined;
  if (!peer) return { kind: 'wire', oif: out.name, nexthop, findings };
  return { kind: 'netns', to: peer, via: out.name, bridge: bridge.name, findings, packet: sent };
}

/** FORWARD of the host's rules for a bridged packet, when bridge-nf-call-ip(6)tables is on. */
function bridgedNetfilter(ns: NetNS, bridge: Interface, physIn: string, physOut: string, packet: Packet, findings: Suspicion[]): Suspicion | undefined {
  const family = familyOf(packet.dst);
  const sys = ns.sysctls;
  const on = sys ? (family === 4 ? bridgeNfCallIptables(sys) : bridgeNfCallIp6tables(sys)) : undefined;
  const key = family === 4 ? 'net.bridge.bridge-nf-call-iptables' : 'net.bridge.bridge-nf-call-ip6tables';
  if (on !== true) {
    findings.push({
      level: SuspicionLevel.INFO,
      check: 'bridge.nf-call-iptables-off',
      message: `${physIn} → ${physOut} is bridged by ${bridge.name} on ${ns.label} with ${key} ${on === false ? '= 0' : 'unknown (br_netfilter not loaded)'}: ${xtables(family)} (and so kube-proxy and NetworkPolicy rules) do not see this traffic`,
      evidence: sys?.get(key) !== undefined ? [{ kind: 'sysctl', text: `${key} = ${sys!.get(key)}`, where: ns.label }] : [],
    });
    return undefined;
  }
  // iptables of both backends and the native ip/inet forward chains, in priority order.
  const rules = netfilterRules(ns, family);
  findings.push(...incompleteTables(ns, rules.iptables, new Set(['FORWARD'])));
  const nf = { ...toNf(packet, family, bridge.name), oif: bridge.name, physIn, physOut };
  // Rules netpath does not model are evaluated both ways (undecided.ts), as on the routed path.
  const notUnderstood = new Map<string, NotUnderstood>();
  const ws = enumerateWorlds((assume) => {
    const outs = traceHookStages(rules, 'FORWARD', nf, netfilterEnv(ns), { assume });
    for (const o of outs) for (const n of o.notUnderstood) notUnderstood.set(n.key, n);
    return { result: outs.find((o) => o.verdict !== 'ACCEPT' && o.decidedBy), met: outs.flatMap((o) => o.notUnderstood.map((n) => n.key)) };
  });
  const drop = ws.worlds[0].result;
  if (ws.worlds.every((w) => !w.result === !drop) && !ws.truncated) {
    if (!drop) return undefined;
    const s = drop.decidedBy!;
    const by = s.native ? 'nftables' : 'iptables';
    const evidence: Evidence[] = [{ kind: by, text: s.text, where: s.native ? `${ns.label} ${s.native}` : `${ns.label} ${family === 6 ? 'ip6tables ' : ''}FORWARD ${s.table}/${s.chain}${s.rule ? ` #${s.rule}` : ' policy'}` }];
    return {
      level: SuspicionLevel.FATAL,
      check: `${by}.${drop.verdict === 'REJECT' ? 'reject' : 'drop'}`,
      message: `the packet bridged by ${bridge.name} from ${physIn} to ${physOut} is ${drop.verdict === 'REJECT' ? 'rejected' : 'dropped'} by ${s.native ? by : xtables(family)} on ${ns.label} (br_netfilter FORWARD ${s.native ?? `${s.table}/${s.chain}`})`,
      evidence,
    };
  }
  const deciding = decidingElements(ws, (r) => (r ? 'stop' : 'pass'));
  const elements = (deciding.length ? deciding : [...notUnderstood.keys()]).map((k) => notUnderstood.get(k)!);
  findings.push({
    level: SuspicionLevel.WARNING,
    check: elements.every((n) => !n.kind) ? 'iptables.undecided' : 'nftables.undecided',
    message: `whether the packet bridged by ${bridge.name} from ${physIn} to ${physOut} passes netfilter on ${ns.label} (br_netfilter FORWARD) depends on ${elements.length} element(s) netpath does not model: evaluated both ways, it passes one way and is stopped the other`,
    evidence: elements.map(nuEvidence),
    undecided: elements.map((n) => undecidedOf(ns, n)),
  });
  return undefined;
}

/** IP packet length: headers of each layer plus the payload the user asked about. */
export function packetLength(p: Packet): number {
  const ip = familyOf(p.dst) === 6 ? 40 : 20;
  if (p.encap) return ip + (p.protocol === 'udp' ? 8 + 8 + 14 : p.protocol === 'gre' ? 4 : 0) + packetLength(p.encap);
  const l4 = p.protocol === 'tcp' ? 20 : p.protocol === 'udp' ? 8 : 8;
  return ip + l4 + (p.size ?? 0);
}

/**
 * A veth drops (silently) a frame longer than the MTU of its other end. TCP never gets there (the
 * MSS follows the smaller MTU); a UDP datagram or ICMP message of the asked size does.
 */
function vethMtu(ns: NetNS, dev: Interface, peer: End, packet: Packet): Suspicion | undefined {
  if (!packet.size || packet.protocol === 'tcp') return undefined;
  const far = peer.ns.interface(peer.iface);
  if (!far) return undefined;
  const len = packetLength(packet);
  if (len <= far.mtu || len > dev.mtu) return undefined;
  return {
    level: SuspicionLevel.FATAL,
    check: 'mtu.mismatch',
    message: `a ${len}-byte packet fits ${dev.name}'s MTU ${dev.mtu} on ${ns.label}, but the other end of the veth (${peer.iface} on ${peer.ns.label}) has MTU ${far.mtu}: the veth drops it without a word`,
    evidence: [interfaceEvidence(ns, dev.name), interfaceEvidence(peer.ns, peer.iface)],
  };
}

/**
 * A bridge port that is up but has no carrier because the interface at the other end of its veth
 * is down, and that end owns the next hop: the packet is followed there so that the namespace
 * holding the down interface reports it.
 */
function deadPeer(stack: NodeStack, ns: NetNS, port: Interface, nexthop: string): { port: Interface; end: End } | undefined {
  if (port.kind !== 'veth' || !port.adminUp || port.lowerUp) return undefined;
  const end = stack.peer(ns, port.name);
  const far = end?.ns.interface(end.iface);
  if (!end || !far || far.adminUp || !end.ns.ownsAddress(nexthop)) return undefined;
  return { port, end };
}

/**
 * Why a bridge does not forward: set down by someone, or up without carrier because no port is
 * up — typically because the pod's veth was never attached (or was detached) from it.
 */
function bridgeDown(stack: NodeStack, ns: NetNS, bridge: Interface, nexthop: string): Suspicion {
  if (bridge.adminUp && !bridge.lowerUp) {
    for (const i of ns.interfaces ?? []) {
      if (i.kind !== 'veth' || i.master === bridge.name) continue;
      const peer = stack.peer(ns, i.name);
      if (peer?.ns.ownsAddress(nexthop)) {
        return {
          level: SuspicionLevel.FATAL,
          check: 'bridge.port-missing',
          message: `${i.name}, the host end of ${peer.ns.label}'s veth, is not attached to bridge ${bridge.name} on ${ns.label}${i.master ? ` (its master is ${i.master})` : ''}: packets for ${nexthop} have no way to it, and ${bridge.name} has no carrier`,
          evidence: [interfaceEvidence(ns, i.name), interfaceEvidence(ns, bridge.name)],
        };
      }
    }
  }
  return {
    level: SuspicionLevel.FATAL,
    check: 'bridge.down',
    message: `bridge ${bridge.name} on ${ns.label} is down (${downReason(bridge) ?? bridge.operState})`,
    evidence: [interfaceEvidence(ns, bridge.name)],
  };
}

function vxlanEncap(ns: NetNS, dev: Interface, nexthop: string, packet: Packet): Egress {
  const vx = dev.vxlan!;
  const neigh = ns.neighbours ? resolveNeighbour(ns.neighbours, nexthop, dev.name, dev) : undefined;
  const mac = neigh?.status === 'usable' ? neigh.lladdr : undefined;
  if (!mac) {
    if (vx.remote) return { kind: 'encap', dev: dev.name, outer: outerVxlan(vx.local, vx.remote, vx.port, vx.vni, packet), findings: [] };
    return {
      kind: 'lost',
      findings: [{
        level: SuspicionLevel.CRITICAL,
        check: 'vxlan.no-neighbour',
        message: `no usable neighbour entry for next hop ${nexthop} on ${dev.name} (${ns.label}): the VXLAN device cannot learn it by ARP without L2 miss handling; flannel/calico write a permanent entry per remote node`,
        evidence: [{ kind: 'neighbour', text: neigh ? neigh.reason : `no neighbour table dumped`, where: ns.label }],
      }],
    };
  }
  const fdb = ns.fdb?.vxlanRemotes(dev.name, mac);
  if (!fdb || fdb.match === 'none') {
    return {
      kind: 'lost',
      findings: [{
        level: SuspicionLevel.CRITICAL,
        check: 'vxlan.no-fdb',
        message: `no FDB entry on ${dev.name} (${ns.label}) for ${mac}, the MAC of next hop ${nexthop}: the kernel does not know which node to tunnel to`,
        evidence: [{ kind: 'neighbour', text: `${nexthop} dev ${dev.name} lladdr ${mac}`, where: ns.label }],
      }],
    };
  }
  const r = fdb.remotes[0];
  return { kind: 'encap', dev: dev.name, outer: outerVxlan(vx.local, r.dst, r.port ?? vx.port, r.vni ?? vx.vni, packet), findings: [] };
}

function outerVxlan(local: string | undefined, remote: string, port: number, vni: number, inner: Packet): Packet {
  return { src: local ?? '', sport: 0, dst: remote, dport: port, protocol: 'udp', mark: 0, encap: inner, vni };
}

function ipTunnelEncap(dev: Interface, nexthop: string, packet: Packet): Egress {
  const remote = dev.tunnel?.remote ?? nexthop;
  const outer: Packet = { src: dev.tunnel?.local ?? '', sport: 0, dst: remote, dport: 0, protocol: dev.kind === 'gre' ? 'gre' : 'ipip', mark: 0, encap: packet };
  return { kind: 'encap', dev: dev.name, outer, findings: [] };
}

/**
 * An encapsulated packet delivered to this host: the tunnel device that takes it (VXLAN by UDP
 * port and VNI, IPIP/GRE by protocol and endpoints), or a finding when none does.
 */
export function decap(ns: NetNS, outer: Packet): { dev: string; inner: Packet } | { finding: Suspicion } | undefined {
  if (!outer.encap) return undefined;
  const ifaces = ns.interfaces ?? [];
  if (outer.protocol === 'udp') {
    const dev = ifaces.find((i) => i.kind === 'vxlan' && i.vxlan && i.vxlan.port === outer.dport && (outer.vni === undefined || i.vxlan.vni === outer.vni) && (!i.vxlan.local || sameIP(i.vxlan.local, outer.dst)));
    if (!dev) {
      return { finding: { level: SuspicionLevel.FATAL, check: 'vxlan.no-device', message: `a VXLAN packet (VNI ${outer.vni ?? '?'}, UDP ${outer.dport}) reaches ${ns.label}, but no VXLAN device there takes it`, evidence: ifaces.filter((i) => i.kind === 'vxlan').map((i) => interfaceEvidence(ns, i.name)) } };
    }
    if (!isUp(dev)) {
      return { finding: { level: SuspicionLevel.FATAL, check: 'interface.down', message: `VXLAN device ${dev.name} on ${ns.label} is down`, evidence: [interfaceEvidence(ns, dev.name)] } };
    }
    return { dev: dev.name, inner: outer.encap };
  }
  const dev = ifaces.find((i) => TUNNELS.has(i.kind) && (outer.protocol === 'gre' ? i.kind === 'gre' : i.kind !== 'gre') && (!i.tunnel?.local || sameIP(i.tunnel.local, outer.dst)));
  if (!dev) {
    return { finding: { level: SuspicionLevel.FATAL, check: 'tunnel.no-device', message: `an ${outer.protocol} packet reaches ${ns.label}, but no tunnel device there takes it`, evidence: [] } };
  }
  if (!isUp(dev)) {
    return { finding: { level: SuspicionLevel.FATAL, check: 'interface.down', message: `tunnel device ${dev.name} on ${ns.label} is down`, evidence: [interfaceEvidence(ns, dev.name)] } };
  }
  return { dev: dev.name, inner: outer.encap };
}
