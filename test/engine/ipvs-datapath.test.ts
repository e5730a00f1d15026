// kube-proxy's IPVS mode on the datapath. This kernel has no IPVS, so the lab cannot produce such
// a node: the test turns the healthy lab snapshot's node1 into an IPVS-mode node the way kube-proxy
// does it (VIP on the kube-ipvs0 dummy, a local route for it, the virtual server in `ipvsadm -Sn`,
// no KUBE-SERVICES DNAT for it) and checks the path goes through IPVS to the real server and back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import type { NetpathSnapshot } from '../../src/engine/snapshot/types';

const text = readFileSync(join(__dirname, '..', '..', 'samples', 'healthy.netpath.json'), 'utf8');

function ipvsMode(weight: number): NetpathSnapshot {
  const s = loadSnapshot(text);
  const n = s.dumps.node1.node;
  n.links!.push({ ifindex: 100, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP'], mtu: 1500, qdisc: 'noop', operstate: 'DOWN', linkmode: 'DEFAULT', group: 'default', link_type: 'ether', address: '6a:1e:3b:9c:00:01', broadcast: 'ff:ff:ff:ff:ff:ff', linkinfo: { info_kind: 'dummy' } });
  n.addresses!.push({ ifindex: 100, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP'], mtu: 1500, operstate: 'DOWN', addr_info: [{ family: 'inet', local: '10.96.0.20', prefixlen: 32, scope: 'global', label: 'kube-ipvs0', valid_life_time: 4294967295, preferred_life_time: 4294967295 }] });
  n.routes!.push({ type: 'local', dst: '10.96.0.20', dev: 'kube-ipvs0', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '10.96.0.20', flags: [] });
  n.ipvs = `-A -t 10.96.0.20:80 -s rr\n-a -t 10.96.0.20:80 -r 10.244.2.2:8080 -m -w ${weight}\n`;
  n.iptables!.nft = n.iptables!.nft!.split('\n').filter((l) => !l.includes('-d 10.96.0.20/32')).join('\n');
  const cm = s.objects.configMaps.find((c) => c.metadata.name === 'kube-proxy')!;
  const data = cm.data as Record<string, string>;
  data['config.conf'] = data['config.conf'].replace('mode: iptables', 'mode: ipvs');
  return s;
}

test('IPVS mode: the virtual server hands the packet to its real server, and the reply is translated back', () => {
  const r = new Network(ipvsMode(1)).diagnose({ src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' });
  assert.equal(r.verdict, 'reachable', JSON.stringify(r.nodes.flatMap((n) => n.suspicions), null, 1));
  const toNode2 = r.links.find((l) => l.source === 'node1' && l.destination === 'node2')!;
  assert.equal(toNode2.packet.dst, '10.244.2.2');
  assert.equal(toNode2.packet.dport, 8080);
  assert.match(toNode2.sourceAttributes.nat ?? '', /IPVS 10\.96\.0\.20:80 -> 10\.244\.2\.2:8080 \(rr/);
  const back = r.links.find((l) => l.destination === 'default/client' && l.packet.reply)!;
  assert.equal(back.packet.src, '10.96.0.20', 'the reply reaches the client from the VIP');
  assert.equal(r.nodes.find((n) => n.id === 'node1')!.actions.some((a) => a.type === 'service'), true);
});

test('IPVS mode: a virtual server whose real servers all have weight 0 refuses the connection, on the node', () => {
  const r = new Network(ipvsMode(0)).diagnose({ src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' });
  assert.equal(r.verdict, 'unreachable');
  const f = r.nodes.find((n) => n.id === 'node1')!.suspicions.find((s) => s.check === 'ipvs.no-real-server');
  assert.ok(f, 'ipvs.no-real-server on node1');
  assert.match(f.evidence[0].text, /-A -t 10\.96\.0\.20:80 -s rr/);
});
