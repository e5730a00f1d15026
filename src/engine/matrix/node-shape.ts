// Nodes alike for the datapath of a pod-to-pod flow. A node's host state is read with the
// cluster's node identities abstracted: its own addresses and pod CIDR become SELF, those of the
// other node of the flow PEER, any other node's OTHER (addresses inside a pod CIDR keep their
// offset: SELFCIDR+1 is the bridge). A flow from a node to a peer then depends on the node's
// abstracted state as a whole (its base), and on the lines that name the peer (its relation to
// it) — so in a homogeneous cluster every ordered pair of distinct nodes looks alike, and one
// diagnosis serves them all. A line that names the peer together with a third node (a route to
// the peer's pods via someone else) makes the pair its own class: the path would cross that
// third node, whose state the signature does not hold. Host-side veths (and every line naming
// them) belong to the pods' shapes, not to the node's; kube-proxy's KUBE-SEP chains are left out
// (a packet to a pod address never enters them).
import type { Network } from '../network';
import { entriesOf, type StackArea } from '../diff/stack';

const areas: StackArea[] = ['interfaces', 'addresses', 'routes', 'rules', 'neighbours', 'fdb', 'iptables', 'ip6tables', 'nftables', 'ipsets', 'ipvs', 'sysctls', 'sockets'];
const IPV4 = /(?<![\w.:])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\w:]|\.\d)/g;

interface NodeLines {
  base: number;
  /** Peer node → the id of the lines naming it (and whether they also name a third node). */
  rel: Map<string, { id: number; third: boolean }>;
}

export class NodeShapes {
  private readonly nodeOfIP = new Map<number, string>();
  private readonly cidrs = new Map<number, Map<number, string>>(); // prefix length → network → node
  private readonly lines = new Map<string, NodeLines | null>();
  private readonly ids = new Map<string, number>();

  constructor(private readonly net: Network) {
    for (const n of net.cache.nodes) {
      for (const a of n.addresses) {
        const v = ipv4(a.address);
        if (v !== undefined) this.nodeOfIP.set(v, n.name);
      }
      const spec = (n.object.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
      for (const c of new Set([...(spec.podCIDRs ?? []), ...(spec.podCIDR ? [spec.podCIDR] : [])])) {
        const [ip, len] = c.split('/');
        const v = ipv4(ip);
        const l = Number(len);
        if (v === undefined || !(l >= 8 && l <= 32)) continue;
        let m = this.cidrs.get(l);
        if (!m) this.cidrs.set(l, (m = new Map()));
        m.set(mask(v, l), n.name);
      }
    }
  }

  /** `text` with node identities abstracted relative to `self` (and `peer`); `others` says whether a third node was named. */
  abstract(text: string, self: string, peer?: string): { text: string; others: string[] } {
    const others: string[] = [];
    const out = text.replace(IPV4, (m, a, b, c, d) => {
      const v = ((+a << 24) | (+b << 16) | (+c << 8) | +d) >>> 0;
      const owner = this.nodeOfIP.get(v);
      if (owner) return role(owner, self, peer, others);
      for (const [len, nets] of this.cidrs) {
        const net = mask(v, len);
        const o = nets.get(net);
        if (o) return `${role(o, self, peer, others)}CIDR+${v - net}`;
      }
      return m;
    });
    return { text: out, others };
  }

  /** The node's base id, or undefined when it has no dump (such nodes keep their name). */
  base(node: string): number | undefined {
    return this.of(node)?.base;
  }

  /** Id of the node's lines that name `peer` (0 for none); undefined when they also name a third node. */
  relation(node: string, peer: string): number | undefined {
    const l = this.of(node);
    if (!l) return undefined;
    const r = l.rel.get(peer);
    if (!r) return 0;
    return r.third ? undefined : r.id;
  }

  private intern(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) this.ids.set(text, (id = this.ids.size + 1));
    return id;
  }

  private of(node: string): NodeLines | undefined {
    if (this.lines.has(node)) return this.lines.get(node) ?? undefined;
    const stack = this.net.stack(node);
    if (!stack) {
      this.lines.set(node, null);
      return undefined;
    }
    const veths: string[] = [];
    for (const ns of stack.pods.values()) for (const i of ns.interfaces ?? []) {
      const peer = stack.peer(ns, i.name);
      if (peer) veths.push(peer.iface);
    }
    const vethSet = new Set(veths);
    const names = /[A-Za-z0-9_.-]+/g;
    const kept: string[] = [];
    for (const a of areas) {
      for (const t of entriesOf(stack.host.info, a).values()) {
        if (/^-A KUBE-SEP-|^:KUBE-SEP-/.test(t)) continue;
        // Interface names sit in words of their own or inside sysctl keys (net.ipv4.conf.IF.x).
        if (vethSet.size && [...(t.match(names) ?? []), ...(t.match(/[A-Za-z0-9_-]+/g) ?? [])].some((w) => vethSet.has(w))) continue;
        kept.push(`${a}: ${t}`);
      }
    }
    const nodeObj = this.net.cache.node(node);
    if (nodeObj) {
      const st = (nodeObj.object.status ?? {}) as { conditions?: { type?: string; status?: string }[] };
      const spec = (nodeObj.object.spec ?? {}) as { unschedulable?: boolean; taints?: unknown; podCIDR?: string; podCIDRs?: string[] };
      kept.push(`object: ${JSON.stringify([(st.conditions ?? []).map((c) => `${c.type}=${c.status}`).sort(), spec.unschedulable ?? false, spec.taints ?? [], spec.podCIDRs ?? spec.podCIDR ?? null, nodeObj.addresses.map((x) => `${x.type}=${x.address}`).sort()])}`);
    }
    const base: string[] = [];
    const byPeer = new Map<string, { lines: string[]; third: boolean }>();
    for (const line of kept) {
      const all = this.abstract(line, node);
      base.push(all.text);
      for (const p of new Set(all.others)) {
        const rel = this.abstract(line, node, p);
        let e = byPeer.get(p);
        if (!e) byPeer.set(p, (e = { lines: [], third: false }));
        e.lines.push(rel.text);
        if (rel.others.length) e.third = true;
      }
    }
    const rel = new Map<string, { id: number; third: boolean }>();
    for (const [p, e] of byPeer) rel.set(p, { id: this.intern(e.lines.sort().join('\n')), third: e.third });
    const out: NodeLines = { base: this.intern(base.sort().join('\n')), rel };
    this.lines.set(node, out);
    return out;
  }
}

function role(owner: string, self: string, peer: string | undefined, others: string[]): string {
  if (owner === self) return 'SELF';
  if (owner === peer) return 'PEER';
  others.push(owner);
  return 'OTHER';
}

function ipv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const p = m.slice(1).map(Number);
  if (p.some((x) => x > 255)) return undefined;
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

function mask(v: number, len: number): number {
  return len === 0 ? 0 : (v & (~0 << (32 - len))) >>> 0;
}
