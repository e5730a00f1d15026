// Which network namespace each pod lives in, found by IP: the pod IPs the API reports against
// the addresses configured in each netns of the pod's node. No CRI socket needed, and it works
// the same on a snapshot. hostNetwork pods share the node's netns.
import type { IprouteJson, NodeNetworkStackDump } from '../../shared/dump';
import { canonicalIP, formatIP, parseIP } from '../netstack/ip';
import type { K8sObject } from './types';

export interface PodNetns {
  /** `namespace/name` */
  pod: string;
  node: string;
  /** Netns inode; the node's own netns for hostNetwork pods. */
  netns: number;
  hostNetwork: boolean;
}

export interface UnmappedPod {
  pod: string;
  node?: string;
  ips: string[];
  reason: string;
}

export interface UnclaimedNetns {
  node: string;
  netns: number;
  /** Its non-loopback addresses, to help tell what it is. */
  addresses: string[];
}

export interface PodNetnsMapping {
  pods: PodNetns[];
  podsWithoutNetns: UnmappedPod[];
  netnsWithoutPod: UnclaimedNetns[];
}

/** Canonical text of every usable address in `ip -j addr` output (no loopback, no IPv6 link-local). */
export function netnsAddresses(addresses: IprouteJson | undefined): string[] {
  const out = new Set<string>();
  for (const link of addresses ?? []) {
    const infos = (link as Record<string, unknown>).addr_info;
    if (!Array.isArray(infos)) continue;
    for (const a of infos) {
      const local = a && typeof a === 'object' ? (a as Record<string, unknown>).local : undefined;
      const scope = a && typeof a === 'object' ? (a as Record<string, unknown>).scope : undefined;
      if (typeof local !== 'string' || scope === 'host') continue;
      const ip = parseIP(local);
      if (!ip) continue;
      const text = formatIP(ip);
      if (ip.family === 6 && /^fe[89ab]/i.test(text)) continue;
      out.add(text);
    }
  }
  return [...out].sort();
}

export function podIPs(pod: K8sObject): string[] {
  const status = (pod.status ?? {}) as { podIP?: unknown; podIPs?: { ip?: unknown }[] };
  const first = typeof status.podIP === 'string' ? canonicalIP(status.podIP) : undefined;
  const list = Array.isArray(status.podIPs) ? status.podIPs : [];
  // The common case (150k pods): podIPs repeats podIP and holds nothing else.
  if (list.length === 0 || (list.length === 1 && list[0]?.ip === status.podIP)) return first ? [first] : [];
  const ips = new Set<string>();
  if (first) ips.add(first);
  for (const p of list) {
    const ip = typeof p?.ip === 'string' ? canonicalIP(p.ip) : undefined;
    if (ip) ips.add(ip);
  }
  return [...ips].sort();
}

// Linear in pods + addresses, with no closure or temporary array per pod: it runs at every
// `new Network` of a 150k-pod snapshot.
export function mapPodsToNetns(pods: readonly K8sObject[], dumps: Readonly<Record<string, NodeNetworkStackDump>>): PodNetnsMapping {
  // Per node: address → netns ids holding it.
  const index = new Map<string, Map<string, number[]>>();
  for (const node of Object.keys(dumps)) {
    const dump = dumps[node];
    const m = new Map<string, number[]>();
    addAddresses(m, dump.node.addresses, dump.node.id);
    for (const ns of dump.netns) addAddresses(m, ns.addresses, ns.id);
    index.set(node, m);
  }
  const result: PodNetnsMapping = { pods: [], podsWithoutNetns: [], netnsWithoutPod: [] };
  const claimed = new Set<string>();
  for (const pod of pods) {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const spec = (pod.spec ?? {}) as { nodeName?: unknown; hostNetwork?: unknown };
    const node = typeof spec.nodeName === 'string' && spec.nodeName ? spec.nodeName : undefined;
    const hostNetwork = spec.hostNetwork === true;
    const ips = podIPs(pod);
    if (!node) {
      result.podsWithoutNetns.push({ pod: key, ips, reason: 'not scheduled (no spec.nodeName)' });
      continue;
    }
    const dump = Object.prototype.hasOwnProperty.call(dumps, node) ? dumps[node] : undefined;
    if (!dump) {
      result.podsWithoutNetns.push({ pod: key, node, ips, reason: `no dump of node ${node}` });
      continue;
    }
    if (hostNetwork) {
      result.pods.push({ pod: key, node, netns: dump.node.id, hostNetwork });
      continue;
    }
    if (ips.length === 0) {
      result.podsWithoutNetns.push({ pod: key, node, ips, reason: 'no pod IP in status (not running yet?)' });
      continue;
    }
    const byAddr = index.get(node)!;
    let ids = byAddr.get(ips[0]) ?? [];
    if (ips.length > 1) {
      const found = new Set<number>();
      for (const ip of ips) for (const id of byAddr.get(ip) ?? []) found.add(id);
      ids = [...found];
    }
    if (ids.length > 1) ids = [...ids].sort((a, b) => a - b);
    let reason: string | undefined;
    if (ids.length === 0) reason = `no netns on node ${node} has ${ips.join(', ')}`;
    else if (ids.includes(dump.node.id)) reason = `${ips.join(', ')} is configured in the node's own netns, but the pod is not hostNetwork`;
    else if (ids.length > 1) reason = `${ips.join(', ')} is configured in several netns on node ${node}: ${ids.join(', ')}`;
    if (reason) result.podsWithoutNetns.push({ pod: key, node, ips, reason });
    else {
      result.pods.push({ pod: key, node, netns: ids[0], hostNetwork });
      claimed.add(`${node}\0${ids[0]}`);
    }
  }
  for (const node of Object.keys(dumps).sort()) {
    for (const ns of dumps[node].netns) {
      if (!claimed.has(`${node}\0${ns.id}`)) result.netnsWithoutPod.push({ node, netns: ns.id, addresses: netnsAddresses(ns.addresses) });
    }
  }
  result.pods.sort(byPod);
  result.podsWithoutNetns.sort(byPod);
  return result;
}

function byPod(a: { pod: string }, b: { pod: string }): number {
  return a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0;
}

function addAddresses(m: Map<string, number[]>, addresses: IprouteJson | undefined, id: number): void {
  for (const a of netnsAddresses(addresses)) {
    const l = m.get(a);
    if (!l) m.set(a, [id]);
    else if (!l.includes(id)) l.push(id);
  }
}
