// The NetNodeAction of anything that is a Linux network namespace — a pod, or a node's host
// netns. Send and Receive walk the packet through the namespace (walk.ts), then hand each exit
// to the link layer (l2.ts) to find the next NetNode. Every finding lands on this node.
import type { Endpoint } from '../model/endpoint';
import type { Link, LinkAttribute, LinkType } from '../model/link';
import type { Hop, NetNode, NetNodeAction, Transmission } from '../model/netnode';
import { formatAddressPort, formatPacket, reply, type Packet, type Protocol } from '../model/packet';
import { SuspicionLevel, type Suspicion, type UndecidedElement } from '../model/suspicion';
import { contains, formatIP, parseIP, parsePrefix, sameIP } from '../netstack/ip';
import type { NetNS } from '../netstack/netns';
import { isListening } from '../netstack/sockets';
import { decap, egress, ingress, type Egress } from './l2';
import type { NodeStack } from './node-stack';
import type { Topology } from './topology';
import { problems, routeEvidence, walkReceive, walkRelay, walkSend, type Exit, type Walk } from './walk';
import { lookupIpvsService } from '../netstack/ipvs';

/** Tunnels inside tunnels are not a thing in Kubernetes datapaths; bound the recursion anyway. */
const MAX_ENCAP = 3;

export function newLink(type: LinkType, packet: Packet, src: LinkAttribute, dst: LinkAttribute = {}): Link {
  return { id: '', type, source: '', destination: '', packet, sourceAttributes: src, destinationAttributes: dst };
}

/** Links the packet takes only in some ways of evaluating elements netpath does not model. */
const conditionalLinks = new WeakMap<Link, UndecidedElement[]>();

export class NetnsNode implements NetNodeAction {
  private problemsReported = false;
  private conditional?: UndecidedElement[];

  constructor(
    private readonly node: NetNode,
    private readonly hop: Hop,
    private readonly stack: NodeStack,
    private readonly ns: NetNS,
    private readonly topo: Topology,
  ) {}

  send(dst: Endpoint, protocol: Protocol): Transmission[] {
    const packet: Packet = { src: '', sport: 0, dst: dst.ip, dport: dst.port, protocol, mark: 0 };
    if (this.topo.payloadSize) packet.size = this.topo.payloadSize;
    if (this.hop.type === 'node') this.report(this.topo.serviceChecks?.(this.stack.nodeName, this.ns, packet) ?? []);
    const out = this.handle(walkSend(this.ns, packet), 0, [], packet);
    this.node.doAction({ type: out.type === 'forward' ? 'send' : out.type, outputs: [] });
    return out.ts;
  }

  receive(link: Link): Transmission[] {
    return this.onPath(conditionalLinks.get(link), () => ({ ts: this.receiveOn(link) })).ts;
  }

  private receiveOn(link: Link): Transmission[] {
    const p = link.packet;
    let iif: string | undefined = link.destinationAttributes.if;
    if (!iif) {
      iif = this.wireIngress(link);
      if (iif) link.destinationAttributes.if = iif;
    }
    if (!iif) {
      this.suspect({ level: SuspicionLevel.WARNING, check: 'path.ingress-unknown', message: `cannot tell on which interface of ${this.ns.label} the packet from ${link.source} arrives`, evidence: [] });
      this.node.doAction({ type: 'drop', input: link.id, outputs: [] });
      return [];
    }
    this.report(this.topo.receiveChecks?.(this.stack.nodeName, this.ns, p, iif) ?? []);
    let result: { type: ActionKind; ts: Transmission[] };
    const nexthop = link.sourceAttributes.nexthop ?? (this.fromOutside(link) ? this.gatewayAddress(iif, p) : undefined) ?? p.dst;
    const l2 = ingress(this.stack, this.ns, iif, nexthop, p, this.topo.conntrack);
    if (l2.kind === 'host') {
      if (this.ns === this.stack.host && !p.reply) this.report(this.topo.serviceChecks?.(this.stack.nodeName, this.ns, p) ?? []);
      result = this.handle(this.walkIn(p, l2.iif), 0, l2.findings, p);
    } else {
      // Bridged between two ports of a bridge: no routing on this node.
      this.report(l2.findings);
      result = this.fromEgress(l2, p, 0);
    }
    // Outputs are filled in by the Diagnostor once it has given the links their ids.
    this.node.doAction({ type: result.type, input: link.id, outputs: [] });
    return result.ts;
  }

  private report(findings: Suspicion[]): void {
    for (const f of findings) this.suspect(f);
  }

  /**
   * A finding on this node. While the packet follows a path that exists only in some ways of
   * evaluating elements netpath does not model (`this.conditional`), what it meets there is not
   * certain either: at most a WARNING, marked with those elements.
   */
  private suspect(f: Suspicion): void {
    const c = this.conditional;
    if (!c) {
      this.node.suspect(f);
      return;
    }
    this.node.suspect({
      ...f,
      level: Math.min(f.level, SuspicionLevel.WARNING),
      message: `${f.message} — on a path the packet takes only in some ways of evaluating what netpath does not model`,
      undecided: [...(f.undecided ?? []), ...c],
    });
  }

  /** Runs `fn` on a path conditional on `undecided` (added to the current conditions); its transmissions carry them on. */
  private onPath<T extends { ts: Transmission[] }>(undecided: UndecidedElement[] | undefined, fn: () => T): T {
    if (!undecided?.length) return fn();
    const prev = this.conditional;
    const cur = [...(prev ?? []), ...undecided.filter((u) => !prev?.some((x) => x.where === u.where))];
    this.conditional = cur;
    try {
      const r = fn();
      for (const t of r.ts) conditionalLinks.set(t.link, cur);
      return r;
    } finally {
      this.conditional = prev;
    }
  }

  private handle(w: Walk, depth: number, extra: Suspicion[] = [], input?: Packet): { type: ActionKind; ts: Transmission[] } {
    this.report(extra);
    if (input && !input.reply) for (const e of w.exits) this.topo.conntrack.record(this.ns, input, e.packet);
    this.report(w.findings);
    if (!w.complete) this.node.examined = false;
    if (!this.problemsReported) {
      this.problemsReported = true;
      this.report(problems(this.ns));
    }
    const ts: Transmission[] = [];
    let type: ActionKind = 'drop';
    for (const exit of w.exits) {
      const r = this.onPath(exit.undecided, () => this.exit(exit, depth));
      ts.push(...r.ts);
      type = strongest(type, r.type);
      if (exit.nat.some((n) => n.startsWith('DNAT'))) type = strongest(type, 'service');
    }
    return { type, ts };
  }

  private exit(e: Exit, depth: number): { type: ActionKind; ts: Transmission[] } {
    if (e.kind === 'deliver') return this.deliver(e.packet, depth);
    const findings = this.topo.pluginChecks?.(this.stack.nodeName, this.ns, e.packet, e.oif, e.nexthop) ?? [];
    this.report(findings);
    const attrs: LinkAttribute = { if: e.oif, nexthop: e.nexthop, route: routeEvidence(e.route).text };
    if (e.nat.length) attrs.nat = e.nat.join('; ');
    if (e.probability < 0.9999) attrs.probability = e.probability.toFixed(3);
    const eg = egress(this.stack, this.ns, e.oif, e.nexthop, e.packet);
    this.report(eg.findings);
    return this.fromEgress(eg, e.packet, depth, attrs);
  }

  private fromEgress(eg: Egress, p: Packet, depth: number, attrs: LinkAttribute = {}): { type: ActionKind; ts: Transmission[] } {
    switch (eg.kind) {
      case 'lost':
        return { type: 'drop', ts: [] };
      case 'netns': {
        const hop = this.topo.hopOfNetns(this.stack, eg.to.ns);
        const src: LinkAttribute = { ...attrs, if: eg.via };
        if (eg.bridge) src.bridge = eg.bridge;
        return { type: 'forward', ts: [{ nextHop: hop, link: newLink('veth', eg.packet ?? p, src, { if: eg.to.iface }) }] };
      }
      case 'encap': {
        if (depth >= MAX_ENCAP) return { type: 'drop', ts: [] };
        const inner = this.handle(walkSend(this.ns, eg.outer), depth + 1, [], eg.outer);
        for (const t of inner.ts) {
          t.link.type = 'tunnel';
          t.link.sourceAttributes.tunnel = `${eg.dev}${eg.outer.vni !== undefined ? ` vni ${eg.outer.vni}` : ''}`;
        }
        return { type: inner.ts.length ? 'forward' : 'drop', ts: inner.ts };
      }
      case 'wire':
        return { type: 'forward', ts: this.wire(eg.oif, eg.nexthop, p, attrs) };
    }
  }

  private wire(oif: string, nexthop: string, p: Packet, attrs: LinkAttribute): Transmission[] {
    const src: LinkAttribute = { ...attrs, if: oif, nexthop };
    const node = this.topo.nodeWithIP(nexthop);
    const target = p.encap ? p.encap.dst : p.dst;
    const expected = this.topo.expectedNodeFor(target);
    if (node) {
      if (expected && expected !== node && node !== this.stack.nodeName) {
        this.suspect({
          level: SuspicionLevel.WARNING,
          check: 'route.unexpected-node',
          message: `${this.ns.label} sends the packet for ${target} to node ${node} (${nexthop}), not to ${expected}, where ${target} lives`,
          evidence: [{ kind: 'route', text: attrs.route ?? '', where: this.ns.label }],
        });
      }
      if (node !== this.stack.nodeName) this.report(this.topo.infra?.nodeToNode(this.stack.nodeName, oif, node, p) ?? []);
      return [{ nextHop: { type: 'node', id: node }, link: newLink(p.encap ? 'tunnel' : 'infra', p, src) }];
    }
    if (expected) {
      this.suspect({
        level: SuspicionLevel.FATAL,
        check: 'route.leaves-cluster',
        message: `${this.ns.label} sends the packet for ${target} out of ${oif} to ${nexthop}, which is no cluster node: it should go to node ${expected}`,
        evidence: [{ kind: 'route', text: attrs.route ?? '', where: this.ns.label }],
      });
      return [];
    }
    this.report(this.topo.infra?.nodeToExternal(this.stack.nodeName, oif, p) ?? []);
    return [{ nextHop: { type: 'external', id: p.dst }, link: newLink('external', p, src) }];
  }

  private deliver(p: Packet, depth: number): { type: ActionKind; ts: Transmission[] } {
    if (p.encap) {
      const d = decap(this.ns, p);
      if (d && 'finding' in d) {
        this.suspect(d.finding);
        return { type: 'drop', ts: [] };
      }
      if (d && depth < MAX_ENCAP) return this.handle(this.walkIn(d.inner, d.dev), depth + 1, [], d.inner);
    }
    if (p.reply) return this.replyArrives(p);
    const ipvs = this.ipvsForward(p, depth);
    if (ipvs) return ipvs;
    if (!this.topo.isDestination(this.hop, p)) {
      this.suspect({
        level: SuspicionLevel.FATAL,
        check: 'path.wrong-destination',
        message: `the packet ${formatPacket(p)} is delivered to ${this.node.id}, which is not the destination ${this.topo.destination.ref ?? this.topo.destination.ip}`,
        evidence: [],
      });
      return { type: 'serve', ts: [] };
    }
    if (!this.checkListener(p)) return { type: 'serve', ts: [] };
    return { type: 'serve', ts: this.answer(p, depth) };
  }

  /**
   * kube-proxy's IPVS mode: a packet delivered to a virtual server address (on kube-ipvs0) is
   * handed by IPVS to each real server (NAT), leaving through OUTPUT/POSTROUTING.
   */
  private ipvsForward(p: Packet, depth: number): { type: ActionKind; ts: Transmission[] } | undefined {
    if (this.ns !== this.stack.host) return undefined;
    const table = this.ns.ipvs;
    const dst = parseIP(p.dst);
    if (!table || !dst || (p.protocol !== 'tcp' && p.protocol !== 'udp' && p.protocol !== 'sctp')) return undefined;
    const vs = lookupIpvsService(table, { proto: p.protocol, dst, dport: p.dport, mark: p.mark });
    if (!vs) return undefined;
    const name = vs.kind === 'fwmark' ? `fwmark ${vs.fwmark}` : `${p.protocol} ${formatAddressPort(p.dst, vs.port ?? 0)}`;
    const reals = vs.reals.filter((r) => r.weight > 0);
    if (!reals.length) {
      this.suspect({
        level: SuspicionLevel.FATAL,
        check: 'ipvs.no-real-server',
        message: `IPVS virtual server ${name} on ${this.ns.label} has no real server${vs.reals.length ? ' with a weight above 0' : ''}: the connection is refused`,
        evidence: [{ kind: 'ipvs', text: `-A ${vs.kind === 'fwmark' ? `-f ${vs.fwmark}` : `-${p.protocol[0]} ${formatAddressPort(p.dst, vs.port ?? 0)}`} -s ${vs.scheduler}`, where: this.ns.label }],
      });
      return { type: 'drop', ts: [] };
    }
    const total = reals.reduce((a, r) => a + r.weight, 0);
    const ts: Transmission[] = [];
    for (const real of reals) {
      const to: Packet = { ...p, dst: formatIP(real.ip), dport: real.port || p.dport };
      if (real.forwarding !== 'masq') {
        this.suspect({ level: SuspicionLevel.INFO, check: 'ipvs.forwarding', message: `IPVS forwards ${name} to ${formatAddressPort(to.dst, to.dport)} by ${real.forwarding === 'gate' ? 'direct routing' : 'IPIP'}; only NAT (masquerading) is simulated, the packet is followed as if NATed`, evidence: [] });
      }
      this.topo.conntrack.record(this.ns, p, to);
      const w = walkRelay(this.ns, to);
      for (const e of w.exits) {
        e.probability *= real.weight / total;
        e.nat = [`IPVS ${formatAddressPort(p.dst, p.dport)} -> ${formatAddressPort(to.dst, to.dport)} (${vs.scheduler}, weight ${real.weight}/${total})`, ...e.nat];
      }
      ts.push(...this.handle(w, depth + 1).ts);
    }
    return { type: 'service', ts };
  }

  /**
   * Walks a packet through this namespace. A reply is translated back by the conntrack entry the
   * request left here, as the kernel does: the destination (undoing SNAT) before routing, the
   * source (undoing DNAT) after it.
   */
  private walkIn(p: Packet, iif: string | undefined): Walk {
    const t = p.reply ? this.topo.conntrack.replyOf(this.ns, p) : undefined;
    if (!t) return iif === undefined ? walkSend(this.ns, p) : walkReceive(this.ns, p, iif);
    const pre: Packet = { ...p, dst: t.orig.src || p.dst, dport: t.orig.sport || p.dport };
    const w = iif === undefined ? walkSend(this.ns, pre) : walkReceive(this.ns, pre, iif);
    const note = `conntrack: reply ${formatAddressPort(p.src, p.sport)} -> ${formatAddressPort(p.dst, p.dport)} translated back to ${formatAddressPort(t.orig.dst, t.orig.dport)} -> ${formatAddressPort(pre.dst, pre.dport)}`;
    for (const e of w.exits) {
      e.packet = { ...e.packet, src: t.orig.dst, sport: t.orig.dport || e.packet.sport };
      e.nat = [...e.nat, note];
    }
    return w;
  }

  /** The destination answers: the reply walks back, conntrack ESTABLISHED, translated back where NAT happened. */
  private answer(p: Packet, depth: number): Transmission[] {
    if (p.protocol !== 'tcp' && p.protocol !== 'udp' && p.protocol !== 'sctp') return [];
    const r = reply(p);
    const out = this.handle(this.walkIn(r, undefined), depth, [], r);
    for (const t of out.ts) t.link.sourceAttributes.direction = 'reply';
    return out.ts;
  }

  /** The reply reaches a namespace: the source expects it from the address it connected to. */
  private replyArrives(p: Packet): { type: ActionKind; ts: Transmission[] } {
    const d = this.topo.destination;
    if (!this.topo.isSource(this.hop)) {
      this.suspect({ level: SuspicionLevel.FATAL, check: 'path.wrong-destination', message: `the reply ${formatPacket(p)} is delivered to ${this.node.id}, not to the source of the connection`, evidence: [] });
      return { type: 'serve', ts: [] };
    }
    const fromIP = p.src;
    const expected = d.type === 'external' || d.type === 'pod' || d.type === 'node' || d.type === 'service' || d.type === 'lb' ? d.ip : '';
    if (expected && fromIP && !sameIP(fromIP, expected)) {
      this.suspect({
        level: SuspicionLevel.CRITICAL,
        check: 'nat.reply-mismatch',
        message: `the reply reaches ${this.node.id} from ${formatAddressPort(fromIP, p.sport)}, but the connection was made to ${formatAddressPort(expected, d.port)}: the NAT on the way was not undone, so the socket drops it`,
        evidence: [],
      });
    }
    return { type: 'serve', ts: [] };
  }

  /** False when nothing listens (so nothing answers). */
  private checkListener(p: Packet): boolean {
    const proto = p.protocol === 'tcp' ? 'tcp' : p.protocol === 'udp' ? 'udp' : undefined;
    if (p.protocol === 'sctp' && p.dport) {
      // ss -Htuln and /proc/net/{tcp,udp} list no SCTP sockets: whether anything listens is not known.
      this.suspect({
        level: SuspicionLevel.WARNING,
        check: 'socket.sctp-unknown',
        message: `whether a process listens on SCTP port ${p.dport} in ${this.ns.label} is not known: the dump lists TCP and UDP sockets only`,
        evidence: [],
        undecided: [{ where: `${this.ns.label} SCTP port ${p.dport}`, reason: 'SCTP listening sockets are not collected' }],
      });
      return true;
    }
    if (!proto) return true;
    if (!p.dport) return true;
    const sockets = this.ns.sockets;
    if (!sockets) return true; // the dump problem is already reported
    const ip = parseIP(p.dst);
    if (!ip) return true;
    const bindv6only = this.ns.sysctls?.int('net.ipv6.bindv6only') ?? 0;
    if (isListening(sockets, proto, ip, p.dport, { bindv6only })) return true;
    const any = ip.family === 4 ? '0.0.0.0' : '::';
    this.suspect({
      level: SuspicionLevel.FATAL,
      check: 'socket.not-listening',
      message: `no process listening on ${formatAddressPort(any, p.dport)} or ${formatAddressPort(p.dst, p.dport)} protocol ${p.protocol} in ${this.ns.label}${p.protocol === 'tcp' ? ': the connection is refused' : ''}`,
      evidence: [{ kind: 'socket', text: `${sockets.filter((s) => s.proto === p.protocol).length} ${p.protocol} sockets, none on port ${p.dport}`, where: this.ns.label }],
    });
    return false;
  }

  /** A packet from outside the cluster: its sender (the outside world) named no next hop. */
  private fromOutside(link: Link): boolean {
    return link.type === 'external' && link.sourceAttributes.nexthop === undefined;
  }

  /**
   * The address the outside sends a packet for `p.dst` to on `iif`: `p.dst` itself when it is
   * on that link (a node address), else this node's own address there — the outside routes the
   * packet via the node, as a router or a host with a route to the pod network does.
   */
  private gatewayAddress(iif: string, p: Packet): string | undefined {
    if (this.ns.ownsAddress(p.dst)) return undefined;
    const i = this.ns.interface(iif);
    const fam = p.dst.includes(':') ? 6 : 4;
    return i?.addresses.find((a) => (a.address.includes(':') ? 6 : 4) === fam && a.scope === 'global')?.address;
  }

  /**
   * Which interface a packet from another host arrives on. From outside the cluster: the one the
   * route back to its source leaves by (the uplink), as for the reply. Else the one holding the
   * next-hop address, else the one on its subnet.
   */
  private wireIngress(link: Link): string | undefined {
    if (this.fromOutside(link) && link.packet.src) {
      const r = this.ns.router?.lookup({ dst: link.packet.src });
      if (r?.ok && r.type !== 'local') return r.dev;
    }
    const ifaces = this.ns.interfaces ?? [];
    const target = parseIP(link.sourceAttributes.nexthop ?? link.packet.dst);
    if (!target) return undefined;
    for (const i of ifaces) {
      if (i.addresses.some((a) => sameIP(a.address, target))) {
        // A bridge port's address lives on the bridge; a packet for it enters on the bridge.
        return i.name;
      }
    }
    for (const i of ifaces) {
      if (i.name === 'lo') continue;
      if (i.addresses.some((a) => { const pr = parsePrefix(`${a.address}/${a.prefixLen}`); return pr && contains(pr, target); })) return i.name;
    }
    return undefined;
  }
}

type ActionKind = 'send' | 'forward' | 'serve' | 'service' | 'drop';

function strongest(a: ActionKind, b: ActionKind): ActionKind {
  const rank: Record<ActionKind, number> = { drop: 0, serve: 1, forward: 2, send: 2, service: 3 };
  return rank[b] > rank[a] ? b : a;
}

/** Anything outside the cluster: packets to it are served (nothing there can be examined). */
export class ExternalNode implements NetNodeAction {
  constructor(private readonly node: NetNode, private readonly topo: Topology) {}

  send(dst: Endpoint, protocol: Protocol): Transmission[] {
    // Where an outside packet enters is the cloud's business; start at the node it is meant for.
    const target = this.topo.expectedNodeFor(dst.ip);
    this.node.suspect({
      level: SuspicionLevel.INFO,
      check: 'path.external-source',
      message: target
        ? `the source is outside the cluster: the path from it to node ${target} is not examined`
        : `the source and the destination are outside the cluster: nothing to examine`,
      evidence: [],
    });
    if (!target) return [];
    const p: Packet = { src: this.node.id, sport: 0, dst: dst.ip, dport: dst.port, protocol, mark: 0 };
    for (const s of this.topo.infra?.externalToNode(target, p) ?? []) this.node.suspect(s);
    return [{ nextHop: { type: 'node', id: target }, link: newLink('external', p, {}) }];
  }

  receive(link: Link): Transmission[] {
    this.node.doAction({ type: 'serve', input: link.id, outputs: [] });
    return [];
  }
}
