// Snapshots derived from the committed flannel host-gw lab case for the --family and SCTP tests:
// the lab's objects (and, for SCTP, its kube-proxy and policy rules) edited the way a dual-stack
// cluster or an SCTP service would have them. The node dumps keep what the lab kernel recorded
// (IPv4 only), so the tests assert what the engine can honestly say about the IPv6 path.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const baseCase = join(__dirname, '..', 'fixtures', 'lab', 'flannel-host-gw--healthy', 'snapshot.netpath.json');

/* eslint-disable @typescript-eslint/no-explicit-any */
type Snapshot = { objects: Record<string, any[]>; dumps: Record<string, any> };

function load(): Snapshot {
  return JSON.parse(readFileSync(baseCase, 'utf8'));
}

function save(s: Snapshot, name: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'netpath-family-')), name);
  writeFileSync(file, JSON.stringify(s));
  return file;
}

function named(list: any[], name: string): any {
  const o = list.find((x) => x.metadata.name === name);
  if (!o) throw new Error(`the lab case has no ${name}`);
  return o;
}

export const v6 = {
  node1: 'fd00:198:51:100::11',
  node2: 'fd00:198:51:100::12',
  client: 'fd00:10:244:1::2',
  web1: 'fd00:10:244:1::3',
  web2: 'fd00:10:244:2::2',
  webRemote: 'fd00:10:96::20',
};

/**
 * Dual-stack objects: both nodes and the client/web pods get an IPv6 address; service
 * web-remote is RequireDualStack with ipFamilies [IPv6, IPv4] and an IPv6 EndpointSlice;
 * web-local stays SingleStack IPv4.
 */
export function dualStackSnapshot(): string {
  const s = load();
  const o = s.objects;
  for (const n of ['node1', 'node2'] as const) named(o.nodes, n).status.addresses.push({ type: 'InternalIP', address: v6[n] });
  for (const p of ['client', 'web1', 'web2'] as const) named(o.pods, p).status.podIPs.push({ ip: v6[p] });
  named(o.pods, 'hostnet1').status.podIPs.push({ ip: v6.node1 });
  named(o.pods, 'hostnet2').status.podIPs.push({ ip: v6.node2 });
  const remote = named(o.services, 'web-remote');
  Object.assign(remote.spec, { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack', clusterIP: v6.webRemote, clusterIPs: [v6.webRemote, '10.96.0.20'] });
  Object.assign(named(o.services, 'web-local').spec, { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
  const slice = o.endpointSlices.find((e) => e.metadata.labels?.['kubernetes.io/service-name'] === 'web-remote');
  const slice6 = JSON.parse(JSON.stringify(slice));
  slice6.metadata.name = `${slice.metadata.name}-v6`;
  slice6.addressType = 'IPv6';
  slice6.endpoints[0].addresses = [v6.web2];
  o.endpointSlices.push(slice6);
  return save(s, 'dual-stack.netpath.json');
}

/**
 * Service web-remote also serves 9000/SCTP (kube-proxy's -p sctp rules on node1, where the client
 * runs); `allowed` adds an SCTP port to the NetworkPolicy and the lab's enforcing rule on node2.
 */
export function sctpSnapshot(allowed: boolean): string {
  const s = load();
  const o = s.objects;
  named(o.services, 'web-remote').spec.ports.push({ name: 'sctp', port: 9000, protocol: 'SCTP', targetPort: 9000 });
  for (const e of o.endpointSlices.filter((x) => x.metadata.labels?.['kubernetes.io/service-name'] === 'web-remote')) e.ports.push({ name: 'sctp', port: 9000, protocol: 'SCTP' });
  const ipt = s.dumps.node1.node.iptables;
  const key = Object.keys(ipt)[0];
  // kube-proxy's rules for the SCTP port, as it writes them for TCP, at the top of nat/KUBE-SERVICES.
  const text = ipt[key] as string;
  const nat = text.indexOf('*nat\n');
  const at = text.indexOf('\n-A KUBE-SERVICES ', nat);
  if (nat < 0 || at < 0) throw new Error('the lab dump of node1 has no nat/KUBE-SERVICES rule to put the SCTP rules before');
  const chains = text.indexOf('\n:KUBE-SERVICES - [0:0]', nat);
  ipt[key] = [
    text.slice(0, chains),
    '\n:KUBE-SEP-SCTPTEST000000000 - [0:0]\n:KUBE-SVC-SCTPTEST000000000 - [0:0]',
    text.slice(chains, at),
    '\n-A KUBE-SERVICES -d 10.96.0.20/32 -p sctp -m comment --comment "default/web-remote:sctp cluster IP" -m sctp --dport 9000 -j KUBE-SVC-SCTPTEST000000000',
    '\n-A KUBE-SVC-SCTPTEST000000000 -m comment --comment "default/web-remote:sctp" -j KUBE-SEP-SCTPTEST000000000',
    '\n-A KUBE-SEP-SCTPTEST000000000 -s 10.244.2.2/32 -m comment --comment "default/web-remote:sctp" -j KUBE-MARK-MASQ',
    '\n-A KUBE-SEP-SCTPTEST000000000 -p sctp -m comment --comment "default/web-remote:sctp" -m sctp -j DNAT --to-destination 10.244.2.2:9000',
    text.slice(at),
  ].join('');
  if (allowed) {
    named(o.networkPolicies, 'web-allow-client').spec.ingress.push({ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 9000, protocol: 'SCTP' }] });
    const ipt2 = s.dumps.node2.node.iptables;
    const k2 = Object.keys(ipt2)[0];
    const deny = /\n(-A (NETPATH-IN-[0-9a-f]+) -m comment --comment "netpath-lab: ingress of default\/web2 denied[^\n]*)/;
    const m = deny.exec(ipt2[k2]);
    if (!m) throw new Error('the lab dump of node2 has no enforcing rule for default/web2');
    ipt2[k2] = (ipt2[k2] as string).replace(deny, `\n-A ${m[2]} -s 10.244.1.2/32 -p sctp -m sctp --dport 9000 -m comment --comment "allowed by default/web-allow-client" -j ACCEPT\n$1`);
  }
  return save(s, `sctp-${allowed ? 'allowed' : 'denied'}.netpath.json`);
}
