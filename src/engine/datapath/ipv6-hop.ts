// What the IPv6 kernel does after the routing decision that IPv4 does elsewhere or not at all:
// forwarding is one switch, `net.ipv6.conf.all.forwarding` (ip6_forward; per-interface values do
// not forward); an interface with `disable_ipv6` sends and takes no IPv6 (its addresses and routes
// are gone, which is often why a route is missing); routers never fragment — a forwarded packet
// larger than the next hop's MTU is dropped and the sender is told by an ICMPv6 packet-too-big
// from this namespace, unless ip6tables drops that message (a path MTU black hole); and a route
// learned from a router advertisement lives only while advertisements are accepted.
import { formatPacket, type Packet } from '../model/packet';
import { SuspicionLevel, type Evidence, type Suspicion } from '../model/suspicion';
import type { NetNS } from '../netstack/netns';
import type { RouteResult, RouteSuccess } from '../netstack/router-model';
import { formatRoute } from '../netstack/routes';
import { ipv6AcceptRa, ipv6Disabled, ipv6ForwardingOn, sysctlIfName } from '../netstack/sysctl';
import { icmp6Fate, icmp6Finding } from './icmp6-filter';
import { packetLength } from './l2';

export interface Ipv6Hop {
  findings: Suspicion[];
  /** The packet goes no further from here. */
  stop: boolean;
}

/** The IPv6 checks of one routing decision in `ns` for `p` (arrived on `iif`, or sent here when undefined). */
export function ipv6Hop(ns: NetNS, r: RouteResult, iif: string | undefined, p: Packet): Ipv6Hop {
  const sys = ns.sysctls;
  if (!r.ok) return { findings: sys ? disabledContext(ns, r.kind) : [], stop: false };
  if (r.type === 'local') return { findings: [], stop: false };
  const findings: Suspicion[] = [];
  if (iif !== undefined && r.input === 'forward') {
    const fwd = sys ? ipv6ForwardingOn(sys, iif) : undefined;
    if (fwd?.on === false) {
      return {
        findings: [{
          level: SuspicionLevel.FATAL,
          check: 'sysctl.forwarding-disabled',
          message: `${ns.label} does not forward IPv6: ${formatPacket(p, { chosenPortsOnly: true })} arrives on ${iif} and is dropped (net.ipv6.conf.all.forwarding is 0; for IPv6 a per-interface forwarding value does not forward)`,
          evidence: fwd.evidence.map((text): Evidence => ({ kind: 'sysctl', text, where: ns.label })),
        }],
        stop: true,
      };
    }
    if (fwd === undefined || fwd.on === undefined) {
      findings.push({
        level: SuspicionLevel.WARNING,
        check: 'sysctl.not-checked',
        message: `whether ${ns.label} forwards IPv6 is not known: net.ipv6.conf.all.forwarding is not in the dump`,
        evidence: [],
        undecided: [{ where: `${ns.label} net.ipv6.conf.all.forwarding`, reason: 'not in the dump' }],
      });
    }
  }
  if (sys && ipv6Disabled(sys, r.dev)) {
    return {
      findings: [...findings, {
        level: SuspicionLevel.FATAL,
        check: 'sysctl.ipv6-disabled',
        message: `the route sends the packet out of ${r.dev} on ${ns.label}, where IPv6 is disabled: ip6_output drops it`,
        evidence: [{ kind: 'sysctl', text: `net.ipv6.conf.${sysctlIfName(r.dev)}.disable_ipv6 = 1`, where: ns.label }, routeEv(r)],
      }],
      stop: true,
    };
  }
  if (sys) findings.push(...raRoute(ns, r));
  if (iif !== undefined && r.input === 'forward') {
    const big = tooBig(ns, r, p);
    if (big) {
      findings.push(big.finding);
      if (big.stop) return { findings, stop: true };
    }
  }
  return { findings, stop: false };
}

/**
 * A route lookup failed: an interface with IPv6 disabled has lost its addresses and routes, which
 * is a likely cause — said beside the route finding, not instead of it.
 */
function disabledContext(ns: NetNS, kind: string): Suspicion[] {
  if (kind !== 'no-route') return [];
  const off = (ns.interfaces ?? []).filter((i) => i.name !== 'lo' && i.adminUp && ipv6Disabled(ns.sysctls!, i.name));
  if (!off.length) return [];
  return [{
    level: SuspicionLevel.WARNING,
    check: 'sysctl.ipv6-disabled',
    message: `IPv6 is disabled on ${off.map((i) => i.name).join(', ')} on ${ns.label}: the kernel removed ${off.length > 1 ? 'their' : 'its'} IPv6 addresses and routes, which may be why there is no route`,
    evidence: off.map((i) => ({ kind: 'sysctl', text: `net.ipv6.conf.${sysctlIfName(i.name)}.disable_ipv6 = 1`, where: ns.label })),
  }];
}

/** The MTU a forwarded packet must fit: the route's `mtu` metric, else the output device's. */
function nextHopMtu(ns: NetNS, r: RouteSuccess): { mtu: number; from: string } | undefined {
  if (r.route?.mtu) return { mtu: r.route.mtu, from: `the route's mtu ${r.route.mtu}` };
  const dev = ns.interface(r.dev);
  return dev ? { mtu: dev.mtu, from: `${dev.name}'s MTU ${dev.mtu}` } : undefined;
}

/**
 * A forwarded packet of the asked size larger than the next hop's MTU: dropped here, and the
 * sender told by a packet-too-big from this namespace (through its OUTPUT and POSTROUTING). When
 * that message gets out, the sender's kernel lowers the path MTU (TCP segments shrink, later UDP
 * datagrams are fragmented at the source), so only the first packet of this size is lost; when
 * ip6tables drops it, every such packet is lost and the sender never learns why.
 */
function tooBig(ns: NetNS, r: RouteSuccess, p: Packet): { finding: Suspicion; stop: boolean } | undefined {
  if (!p.size || p.encap) return undefined;
  const len = packetLength(p);
  const m = nextHopMtu(ns, r);
  if (!m || len <= m.mtu) return undefined;
  const back = p.src ? ns.router?.lookup({ dst: p.src }) : undefined;
  const src = back?.ok ? back.src : undefined;
  const evidence: Evidence[] = [routeEv(r)];
  const dev = ns.interface(r.dev);
  if (dev) evidence.push({ kind: 'interface', text: `${dev.index}: ${dev.name}: <${dev.flags.join(',')}> mtu ${dev.mtu} state ${dev.operState}`, where: ns.label });
  const fate = src && p.src && back?.ok ? icmp6Fate(ns, ['OUTPUT', 'POSTROUTING'], { src, dst: p.src, type: 2, oif: back.dev, related: true }) : { kind: 'passes' as const };
  const what = `the ICMPv6 packet-too-big (MTU ${m.mtu}) that ${ns.label} sends to ${p.src} for a ${len}-byte packet`;
  const blocked = icmp6Finding(ns, fate, 'icmpv6.ptb-dropped', SuspicionLevel.FATAL, what, `the sender never learns the path MTU, so every packet larger than ${m.mtu} bytes is lost (a path MTU black hole)`);
  if (blocked) {
    blocked.evidence.push(...evidence);
    return { finding: blocked, stop: blocked.level >= SuspicionLevel.CRITICAL };
  }
  return {
    finding: {
      level: SuspicionLevel.WARNING,
      check: 'mtu.packet-too-big',
      message: `a ${len}-byte IPv6 packet does not fit ${m.from} out of ${r.dev} on ${ns.label}; IPv6 routers do not fragment, so the first such packet is dropped and ${ns.label} sends the sender an ICMPv6 packet-too-big${src ? ` from ${src}` : ''}: its kernel then lowers the path MTU (TCP segments shrink, later UDP datagrams are fragmented at the source)`,
      evidence,
    },
    stop: false,
  };
}

/**
 * A route learned from a router advertisement (`proto ra`, with a lifetime) survives only while
 * advertisements keep coming and are accepted: with the interface forwarding, accept_ra must be
 * 2; and ip6tables must let router advertisements in. Said only for the route the packet takes.
 */
function raRoute(ns: NetNS, r: RouteSuccess): Suspicion[] {
  const route = r.route;
  if (!route || route.protocol !== 'ra' || !r.dev) return [];
  const out: Suspicion[] = [];
  const ra = ipv6AcceptRa(ns.sysctls!, r.dev);
  const life = route.expires !== undefined ? `expires in ${route.expires} s` : 'has a lifetime';
  if (ra.accepted === false) {
    out.push({
      level: SuspicionLevel.WARNING,
      check: 'sysctl.accept-ra',
      message: `the packet follows ${formatRoute(route)} on ${ns.label}, learned from a router advertisement; it ${life} and will not be renewed: ${r.dev} ignores router advertisements (${ra.evidence.join(', ')}; with forwarding on, only accept_ra = 2 accepts them)`,
      evidence: [routeEv(r), ...ra.evidence.map((text): Evidence => ({ kind: 'sysctl', text, where: ns.label }))],
    });
  }
  const fate = icmp6Fate(ns, ['PREROUTING', 'INPUT'], { src: route.gateway ?? 'fe80::1', dst: 'ff02::1', type: 134, iif: r.dev, related: false });
  const f = icmp6Finding(ns, fate, 'icmpv6.ndp-dropped', SuspicionLevel.WARNING, `a router advertisement arriving on ${r.dev}`, `${formatRoute(route)}, which the packet follows, ${life} and will not be renewed`);
  if (f) out.push(f);
  return out;
}

function routeEv(r: RouteSuccess): Evidence {
  return r.route ? { kind: 'route', text: formatRoute(r.route), ...(r.table ? { where: `table ${r.table.name}` } : {}) } : { kind: 'route', text: r.why.join('; ') };
}
