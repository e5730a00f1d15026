// Calico IPIP lab cases built from dumps, not from a live lab: this machine's kernel has no `ipip`
// module (no tunl0), so the cases are derived from the committed, kernel-measured calico-bgp--healthy
// case by the changes calico's IPIP mode makes, written with the field names `ip -d -j link`,
// `ip -j addr` and `ip -j route` print for an ipip device (iproute2's link_iptnl.c: `proto`, `remote`
// and `local` as `any` when unset, `ttl`, `pmtudisc`; `link_type` ipip, `link` null for @NONE):
//   * tunl0 (ipip, NOARP, MTU 1480) with the node's tunnel address (the first address of its block),
//     the calico pod veths and pod eth0s at MTU 1480 (veth_mtu), every per-interface sysctl for tunl0;
//   * the route to the other node's block `via <node IP> dev tunl0 onlink proto bird`;
//   * the Node annotation projectcalico.org/IPv4IPIPTunnelAddr and calico-config's veth_mtu;
//   * a node's own traffic to a remote pod leaves tunl0 from its tunnel address, so the web policy
//     admits the tunnel addresses as the lab's VXLAN topologies do: the NetworkPolicy and the policy
//     agent's filter table are those of the kernel-measured calico-vxlan--healthy (they differ from
//     calico-bgp's only by the four rules for 10.244.1.0/32 and 10.244.2.0/32).
// truth.json says where each outcome comes from: `calico-ipip--healthy` takes the outcomes the lab
// measured on calico-bgp (IPIP only wraps the node-to-node leg, which works there); `ipip-route-wrong`
// (node1's tunl0 route points at a host that does not exist, whose ARP fails) takes, probe by probe,
// the outcomes the lab measured for the same wrong next hop on a routed path (flannel-host-gw--route-wrong-via).
//   npx tsx test/lab/ipip-cases.ts [--out DIR]      (no root needed)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO } from './lab';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LAB = join(REPO, 'test', 'fixtures', 'lab');
const NODES = { node1: { ip: '198.51.100.11', block: '10.244.1.0/24', tunnel: '10.244.1.0' }, node2: { ip: '198.51.100.12', block: '10.244.2.0/24', tunnel: '10.244.2.0' } };
const MTU = 1480;
export const WRONG_GATEWAY = '198.51.100.99';

function readCase(name: string): { snapshot: Json; truth: Json } {
  return {
    snapshot: JSON.parse(readFileSync(join(LAB, name, 'snapshot.netpath.json'), 'utf8')),
    truth: JSON.parse(readFileSync(join(LAB, name, 'truth.json'), 'utf8')),
  };
}

/** tunl0 as `ip -d -j link` prints the ipip module's fallback device once calico configured it */
function tunl0Link(ifindex: number): Json {
  return {
    ifindex, link: null, ifname: 'tunl0', flags: ['NOARP', 'UP', 'LOWER_UP'], mtu: MTU, qdisc: 'noqueue', operstate: 'UNKNOWN',
    linkmode: 'DEFAULT', group: 'default', txqlen: 1000, link_type: 'ipip', address: '0.0.0.0', broadcast: '0.0.0.0',
    promiscuity: 0, allmulti: 0, min_mtu: 0, max_mtu: 0,
    linkinfo: { info_kind: 'ipip', info_data: { proto: 'ipip', remote: 'any', local: 'any', ttl: 0, pmtudisc: true } },
    inet6_addr_gen_mode: 'eui64', num_tx_queues: 1, num_rx_queues: 1, gso_max_size: 65536, gso_max_segs: 65535,
    tso_max_size: 65536, tso_max_segs: 65535, gro_max_size: 65536,
  };
}

function setMtu(entries: Json[], pred: (e: Json) => boolean): void {
  for (const e of entries) if (pred(e)) e.mtu = MTU;
}

/** calico's IPIP mode on one node's dump, on top of its BGP-mode dump */
function toIpip(dump: Json, node: keyof typeof NODES): void {
  const host = dump.node;
  const n = NODES[node];
  const ifindex = Math.max(...host.links.map((l: Json) => l.ifindex)) + 1;
  const link = tunl0Link(ifindex);
  host.links.push(link);
  const { linkinfo: _li, ...addrLink } = link;
  host.addresses.push({ ...addrLink, linkinfo: link.linkinfo, addr_info: [{ family: 'inet', local: n.tunnel, prefixlen: 32, scope: 'global', label: 'tunl0', valid_life_time: 4294967295, preferred_life_time: 4294967295 }] });
  for (const r of host.routes as Json[]) {
    if (r.protocol === 'bird' && r.dev === 'eth0' && r.gateway) { r.dev = 'tunl0'; r.flags = ['onlink']; }
  }
  // the kernel's own routes for the tunnel address (local table), as for any /32 address
  host.routes.push({ dev: 'tunl0', dst: n.tunnel, flags: [], prefsrc: n.tunnel, protocol: 'kernel', scope: 'host', table: 'local', type: 'local' });
  for (const [k, v] of Object.entries(host.sysctls as Record<string, string>)) {
    if (/^net\.ipv[46]\.(conf|neigh)\.eth0\./.test(k)) host.sysctls[k.replace('.eth0.', '.tunl0.')] = v;
  }
  // veth_mtu: the pods' eth0 and their cali* host ends
  setMtu(host.links, (l) => l.ifname.startsWith('cali'));
  setMtu(host.addresses, (l) => l.ifname.startsWith('cali'));
  for (const ns of dump.netns as Json[]) {
    setMtu(ns.links, (l) => l.ifname === 'eth0');
    setMtu(ns.addresses, (l) => l.ifname === 'eth0');
  }
}

const FILTER = /\*filter\n[\s\S]*?\nCOMMIT\n/;

/** the filter table of `tunnelCase`'s node dump in place of this one's (the policy agent's rules for the tunnel policy) */
function tunnelPolicyRules(dump: Json, tunnelDump: Json): void {
  const from = (tunnelDump.node.iptables.nft as string).match(FILTER)?.[0];
  const to = dump.node.iptables.nft as string;
  if (!from || !FILTER.test(to)) throw new Error('no filter table in the iptables dump');
  dump.node.iptables.nft = to.replace(FILTER, () => from);
}

function objectsToIpip(objects: Json): void {
  for (const n of objects.nodes as Json[]) {
    const spec = NODES[n.metadata.name as keyof typeof NODES];
    n.metadata.annotations['projectcalico.org/IPv4IPIPTunnelAddr'] = spec.tunnel;
    n.metadata.labels['netpath.dev/lab'] = 'calico-ipip';
  }
  for (const c of objects.configMaps as Json[]) {
    if (c.metadata.name === 'calico-config') c.data.veth_mtu = String(MTU);
    c.metadata.labels['netpath.dev/lab'] = 'calico-ipip';
  }
}

function readme(name: string, truthNote: string): string {
  return `# ${name}: built from dumps, not measured live

This machine's kernel has no \`ipip\` module, so calico's IPIP mode (tunl0) cannot be built in the lab.
This case is derived by \`test/lab/ipip-cases.ts\` from the kernel-measured \`calico-bgp--healthy\` case:
tunl0 added to each node with the fields \`ip -d -j link\` / \`ip -j addr\` print for an ipip device
(\`link_type\` ipip, \`linkinfo.info_data\` {proto, remote, local, ttl, pmtudisc}), the route to the other
node's block moved to \`dev tunl0 onlink\`, MTU 1480 on the pod veths, the Node annotation
\`projectcalico.org/IPv4IPIPTunnelAddr\`. A node's own traffic to a remote pod leaves tunl0 from the
tunnel address, so the web policy admits the tunnel addresses, as in the lab's VXLAN topologies (policy
and the policy agent's filter table taken from \`calico-vxlan--healthy\`). ${truthNote}
`;
}

function write(dir: string, name: string, snapshot: Json, truth: Json, truthNote: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'snapshot.netpath.json'), JSON.stringify(snapshot, null, 2) + '\n');
  writeFileSync(join(dir, 'truth.json'), JSON.stringify(truth, null, 2) + '\n');
  writeFileSync(join(dir, 'README.md'), readme(name, truthNote));
}

export function buildIpipCases(out: string): string[] {
  const bgp = readCase('calico-bgp--healthy');
  const wrongVia = readCase('flannel-host-gw--route-wrong-via');
  const vxlan = readCase('calico-vxlan--healthy');

  const healthy = structuredClone(bgp.snapshot);
  for (const node of ['node1', 'node2'] as const) {
    toIpip(healthy.dumps[node], node);
    tunnelPolicyRules(healthy.dumps[node], vxlan.snapshot.dumps[node]);
  }
  objectsToIpip(healthy.objects);
  healthy.objects.networkPolicies = structuredClone(vxlan.snapshot.objects.networkPolicies);
  const healthyTruth = { case: 'calico-ipip--healthy', plugin: 'calico-ipip', source: 'derived: outcomes measured by the lab on calico-bgp--healthy', fault: null, probes: bgp.truth.probes };
  write(join(out, 'calico-ipip--healthy'), 'calico-ipip--healthy', healthy, healthyTruth,
    'truth.json: the outcomes the lab measured on calico-bgp (every probe reachable); IPIP only wraps the node-to-node leg.');

  const broken = structuredClone(healthy);
  const n1 = broken.dumps.node1.node;
  const r = (n1.routes as Json[]).find((x) => x.dst === NODES.node2.block && x.dev === 'tunl0');
  if (!r) throw new Error('node1 has no tunl0 route to node2 block');
  r.gateway = WRONG_GATEWAY;
  // what the kernel leaves after trying: the wrong next hop's ARP failed (as in flannel-host-gw--route-wrong-via)
  n1.neighbours.push({ dev: 'eth0', dst: WRONG_GATEWAY, state: ['FAILED'] });
  const fault = { id: 'ipip-route-wrong', description: `node1's tunl0 route to node2's block points at ${WRONG_GATEWAY}, a host that does not exist`, netNode: 'node1', check: 'route.wrong-gateway', targetProbe: 'cross-node' };
  const measured = new Map((wrongVia.truth.probes as Json[]).map((p) => [p.probe, p]));
  // The one probe where IPIP differs from a routed path: node2's own traffic leaves tunl0 from its
  // tunnel address 10.244.2.0, inside the block node1 now routes wrong, so web1's SYN-ACK dies at
  // node1's failed ARP for the wrong next hop and hostnet2 waits out its timeout (reasoned, not measured).
  measured.set('from-hostnet', { probe: 'from-hostnet', outcome: 'timeout' });
  const probes = (bgp.truth.probes as Json[]).map((p) => {
    const m = measured.get(p.probe);
    if (!m) throw new Error(`flannel-host-gw--route-wrong-via has no probe ${p.probe}`);
    const { fault: _f, faultNode: _n, check: _c, errno: _e, reply: _r, ...base } = p;
    if (m.outcome === 'reachable') return { ...base, outcome: 'reachable', ...(p.reply ? { reply: p.reply } : {}) };
    return { ...base, outcome: m.outcome, ...(m.errno ? { errno: m.errno } : {}), fault: fault.id, faultNode: fault.netNode, check: fault.check };
  });
  write(join(out, 'calico-ipip--ipip-route-wrong'), 'calico-ipip--ipip-route-wrong', broken,
    { case: 'calico-ipip--ipip-route-wrong', plugin: 'calico-ipip', source: 'derived: per probe, the outcome the lab measured on flannel-host-gw--route-wrong-via (the same wrong next hop on a routed path)', fault, probes },
    'truth.json: per probe, the outcome the lab measured for the same wrong next hop on a routed path (`flannel-host-gw--route-wrong-via`): every probe from node1 to a pod on node2 fails, the rest is reachable; except `from-hostnet` (node2 → web1), reasoned rather than measured: node2 sends from its tunnel address 10.244.2.0, so web1\'s reply takes node1\'s broken route and the probe times out.');
  return ['calico-ipip--healthy', 'calico-ipip--ipip-route-wrong'];
}

if (process.argv[1]?.endsWith('ipip-cases.ts')) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: LAB } } });
  console.log(`written: ${buildIpipCases(values.out!).join(', ')}`);
}
