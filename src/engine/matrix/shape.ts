// The node-path shape of a pod: everything about it the datapath of a pod-to-pod flow reads that
// differs from one pod to another — its own network namespace (interfaces, addresses,
// routes, rules, configured neighbours, sysctls, sockets, its own netfilter rules), the host side
// of its veth (state, bridge), the host's rules and routes that name its address or its veth,
// and the pod status the assertions read. Its own addresses and veth name are replaced by
// placeholders, and its node's identity too (node-shape.ts), so two replicas set up alike have the
// same shape wherever they run; what their nodes have in common is the nodes' business. kube-proxy's per-endpoint chains (KUBE-SEP-*) are left out: a
// packet addressed to a pod IP never enters them (only a service address leads there).
import type { ClusterPod } from '../k8s/objects';
import type { Network } from '../network';
import type { NetNS } from '../netstack/netns';
import { entriesOf, type StackArea } from '../diff/stack';
import type { NodeShapes } from './node-shape';

const ownAreas: StackArea[] = ['interfaces', 'addresses', 'routes', 'rules', 'neighbours', 'sysctls', 'sockets', 'iptables', 'ip6tables', 'ipsets'];
const hostAreas: StackArea[] = ['routes', 'rules', 'neighbours', 'fdb', 'iptables', 'ip6tables', 'ipsets', 'nftables', 'sysctls'];

export class ShapeIndex {
  private readonly hostLines = new Map<string, string[]>();

  constructor(private readonly net: Network, private readonly nodes: NodeShapes) {}

  shape(pod: ClusterPod): string {
    const status = statusOf(pod);
    if (!pod.nodeName) return `unscheduled|${status}`;
    const stack = this.net.stack(pod.nodeName);
    if (!stack) return `${pod.nodeName}|no dump|${status}`;
    if (pod.hostNetwork) return `*|host|${status}`;
    let ns: NetNS | undefined;
    for (const cand of stack.pods.values()) if (cand.label === pod.key) ns = cand;
    // Without its own netns the pod is not examined, whoever it is: one shape per node.
    if (!ns) return `${pod.nodeName}|no netns|${status}`;
    const names: string[] = [];
    const hostSide: string[] = [];
    for (const i of ns.interfaces ?? []) {
      const peer = stack.peer(ns, i.name);
      if (!peer) continue;
      names.push(peer.iface);
      hostSide.push(`${i.name}→${entriesOf(peer.ns.info, 'interfaces').get(peer.iface) ?? 'absent'}`);
    }
    const own = ownAreas.map((a) => [...entriesOf(ns!.info, a).values()].sort().join('\n')).join('\n--\n');
    const named = this.linesOf(pod.nodeName).filter((l) => pod.ips.some((ip) => mentions(l, ip)) || names.some((n) => mentionsName(l, n)));
    const text = [status, own, hostSide.sort().join('\n'), named.join('\n')].join('\n==\n');
    const a = this.nodes.abstract(abstract(text, pod.ips, names), pod.nodeName);
    // A pod whose own state names another node keeps its node: the signature would not cover that node.
    return a.others.length ? `${pod.nodeName}|${a.text}` : `*|${a.text}`;
  }

  /** The host's entries that may name a pod, once per node (kube-proxy's KUBE-SEP chains left out). */
  private linesOf(node: string): string[] {
    let lines = this.hostLines.get(node);
    if (lines) return lines;
    const host = this.net.stack(node)!.host;
    lines = [];
    for (const a of hostAreas) for (const t of entriesOf(host.info, a).values()) if (!/^-A KUBE-SEP-|^:KUBE-SEP-/.test(t)) lines.push(t);
    lines.sort();
    this.hostLines.set(node, lines);
    return lines;
  }
}

function statusOf(pod: ClusterPod): string {
  const st = pod.object.status as { containerStatuses?: { name?: string; ready?: boolean }[] } | undefined;
  const notReady = (Array.isArray(st?.containerStatuses) ? st!.containerStatuses : []).filter((c) => c.ready === false).map((c) => c.name ?? '').sort();
  return `${pod.phase}|${pod.terminating}|${pod.ready}|${notReady.join(',')}`;
}

/** `ip` appears as an address (not as the prefix of a longer one). */
function mentions(line: string, ip: string): boolean {
  for (let i = line.indexOf(ip); i >= 0; i = line.indexOf(ip, i + 1)) {
    const before = line[i - 1];
    const after = line[i + ip.length];
    if ((before === undefined || !/[\w.:]/.test(before)) && (after === undefined || !/[\w:]/.test(after) || (after === '.' && !/\d/.test(line[i + ip.length + 1] ?? '')))) return true;
  }
  return false;
}

function mentionsName(line: string, name: string): boolean {
  for (let i = line.indexOf(name); i >= 0; i = line.indexOf(name, i + 1)) {
    const before = line[i - 1];
    const after = line[i + name.length];
    // Dots may surround it: sysctl keys hold interface names (net.ipv4.conf.IF.rp_filter).
    if ((before === undefined || !/[\w-]/.test(before)) && (after === undefined || !/[\w-]/.test(after))) return true;
  }
  return false;
}

/** The pod's own addresses and veth names as placeholders, matched whole (10.0.1.2 is not in 10.0.1.25). */
function abstract(text: string, ips: string[], names: string[]): string {
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let out = text;
  for (const [k, ip] of ips.entries()) out = out.replace(new RegExp(`(?<![\\w.:])${esc(ip)}(?![\\w:]|\\.\\d)`, 'g'), `$IP${k}`);
  for (const [k, n] of names.entries()) out = out.replace(new RegExp(`(?<![\\w-])${esc(n)}(?![\\w-])`, 'g'), `$VETH${k}`);
  return out;
}
