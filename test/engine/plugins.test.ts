// Network plugins: detection from the snapshot's objects (settings override), the expected state
// each plugin checks (routes, tunnels, MTU, masquerade) on lab snapshots, and KubeSkoop's e2e
// plugin/generic scenarios (reference §10.2) reproduced by mutating a lab snapshot's dumps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectPlugin } from '../../src/engine/plugins/detect';
import { detectUplink } from '../../src/engine/plugins/uplink';
import { NetNS } from '../../src/engine/netstack/netns';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { SuspicionLevel } from '../../src/engine/model/suspicion';
import { labCases } from '../support/lab-cases';
import { diagnose, dropRoutes, findings, host, lab, link, on, podNetns, setDown } from './plugin-fixtures';

const CLIENT = '10.244.1.2';
const WEB2 = '10.244.2.2';

test('detection: plugin, backend and cluster CIDR with their sources, per lab topology', (t) => {
  const want: Record<string, [string, string | undefined]> = {
    'flannel-host-gw--healthy': ['flannel', 'host-gw'],
    'flannel-vxlan--healthy': ['flannel', 'vxlan'],
    'calico-bgp--healthy': ['calico', 'bgp'],
    'calico-vxlan--healthy': ['calico', 'vxlan'],
    'generic-bridge--healthy': ['generic', undefined],
  };
  for (const [name, [plugin, backend]] of Object.entries(want)) {
    const cfg = detectPlugin(loadSnapshot(JSON.stringify(lab(name))));
    t.diagnostic(`${name}: ${cfg.plugin.value} (${cfg.plugin.source}) backend ${cfg.backend?.value} (${cfg.backend?.source}) cidrs ${cfg.clusterCIDRs.value} (${cfg.clusterCIDRs.source})`);
    assert.equal(cfg.plugin.value, plugin, name);
    assert.equal(cfg.backend?.value, backend, name);
    assert.ok(cfg.plugin.source.length > 0);
    assert.deepEqual(cfg.clusterCIDRs.value, ['10.244.0.0/16'], name);
  }
});

test('detection: settings override every detected value; unknown CNIs fall back to generic with a note', () => {
  const s = lab('flannel-host-gw--healthy');
  s.settings = { ...s.settings, backend: 'vxlan', clusterCIDRs: ['10.0.0.0/8'], masquerade: false, uplink: 'eth1' };
  const cfg = detectPlugin(loadSnapshot(JSON.stringify(s)));
  assert.equal(cfg.plugin.value, 'flannel');
  assert.deepEqual([cfg.backend?.value, cfg.backend?.source], ['vxlan', 'settings.backend']);
  assert.deepEqual(cfg.clusterCIDRs, { value: ['10.0.0.0/8'], source: 'settings.clusterCIDRs' });
  assert.deepEqual(cfg.masquerade, { value: false, source: 'settings.masquerade' });
  s.settings.networkPlugin = 'cilium';
  const g = detectPlugin(loadSnapshot(JSON.stringify(s)));
  assert.equal(g.plugin.value, 'generic');
  assert.match(g.notes.join('\n'), /cilium.*generic plugin/);
});

test('detection: calico IPPool CRDs from settings decide the mode; flannel node annotations alone identify flannel', () => {
  const s = lab('calico-bgp--healthy');
  s.settings.calicoIPPools = [{ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'default' }, spec: { cidr: '10.244.0.0/16', ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true } }];
  const cfg = detectPlugin(loadSnapshot(JSON.stringify(s)));
  assert.deepEqual([cfg.plugin.value, cfg.backend?.value], ['calico', 'ipip']);
  assert.equal(cfg.calicoPools[0].natOutgoing, true);
  const f = lab('flannel-vxlan--healthy');
  f.objects.configMaps = f.objects.configMaps.filter((c: { metadata: { name: string } }) => c.metadata.name !== 'kube-flannel-cfg');
  const fc = detectPlugin(loadSnapshot(JSON.stringify(f)));
  assert.deepEqual([fc.plugin.value, fc.backend?.value], ['flannel', 'vxlan']);
  assert.match(fc.backend!.source, /annotation flannel.alpha.coreos.com\/backend-type/);
});

test('uplink: the interface holding the node address, whatever its name (never an assumed eth0)', () => {
  const s = lab('flannel-host-gw--healthy');
  // every trace of the name: links, addresses, routes, per-interface sysctls
  s.dumps.node1.node = JSON.parse(JSON.stringify(host(s, 'node1')).replaceAll('"eth0"', '"ens5"').replaceAll('.eth0.', '.ens5.'));
  const snap = loadSnapshot(JSON.stringify(s));
  const cfg = detectPlugin(snap);
  const up = detectUplink(new NetNS(snap.dumps.node1.node, 'node1'), 'node1', ['198.51.100.11'], cfg);
  assert.deepEqual(up, { value: 'ens5', source: 'holds the node address 198.51.100.11' });
  // and the plugin's host-gw route check follows the renamed uplink: healthy stays clean
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  assert.equal(r.verdict, 'reachable', findings(r).join(' '));
});

test('healthy lab topologies: plugin and service checks add no WARNING or worse on any probe', (t) => {
  let probes = 0;
  for (const c of labCases().filter((x) => x.name.endsWith('--healthy'))) {
    const s = JSON.parse(c.snapshotText);
    for (const p of c.truth.probes) {
      const r = diagnose(s, p.src, p.dst, p.port, p.protocol.toLowerCase());
      assert.deepEqual(findings(r), [], `${c.name} ${p.probe}`);
      assert.equal(r.verdict, 'reachable', `${c.name} ${p.probe}`);
      probes++;
    }
  }
  t.diagnostic(`${probes} healthy probes, 0 findings`);
  assert.ok(probes >= 60);
});

test('lab masquerade-missing: pod traffic to the internet leaves node1 un-SNATed → nat.no-masquerade CRITICAL on node1', () => {
  const r = diagnose(lab('flannel-host-gw--masquerade-missing'), 'default/client', '203.0.113.10', 80);
  const s = on(r, 'node1', 'nat.no-masquerade');
  assert.ok(s, findings(r).join(' '));
  assert.equal(s.level, SuspicionLevel.CRITICAL);
  assert.ok(s.evidence.some((e) => e.kind === 'iptables' && /FLANNEL-POSTRTG/.test(e.text)), JSON.stringify(s.evidence));
  assert.equal(r.verdict, 'unreachable');
  // settings.masquerade=false (routable pod IPs) silences it
  const l = lab('flannel-host-gw--masquerade-missing');
  l.settings.masquerade = false;
  assert.equal(on(diagnose(l, 'default/client', '203.0.113.10', 80), 'node1', 'nat.no-masquerade'), undefined);
});

test('lab route-deleted: node1 has no route for node2\'s pod CIDR → route.missing FATAL with actual and expected lines', () => {
  const r = diagnose(lab('flannel-host-gw--route-deleted'), 'default/client', 'default/web2', 8080);
  const s = on(r, 'node1', 'route.missing');
  assert.ok(s, findings(r).join(' '));
  assert.equal(s.level, SuspicionLevel.FATAL);
  assert.deepEqual(s.evidence.map((e) => e.text), ['default via 198.51.100.1 dev eth0', 'expected: 10.244.2.0/24 via 198.51.100.12 dev eth0']);
});

// ---------------------------------------------------------------- KubeSkoop e2e (reference §10.2)

test('e2e flannel host-gw: pod MTU 1400 on both pods → mtu.mismatch on pod1 (send) and via receiveChecks on pod2', () => {
  const s = lab('flannel-host-gw--healthy');
  link(podNetns(s, 'node1', CLIENT), 'eth0').mtu = 1400;
  link(podNetns(s, 'node2', WEB2), 'eth0').mtu = 1400;
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const m = on(r, 'default/client', 'mtu.mismatch');
  assert.ok(m, findings(r).join(' '));
  // Deliberate deviation: skoop says FATAL; a TCP connect works (MSS follows the smaller MTU), only
  // packets above 1400 bytes die on the veth — a WARNING, and the probe stays reachable.
  assert.equal(m.level, SuspicionLevel.WARNING);
  assert.match(m.message, /MTU 1400.*veth peer .* 1500/);
  assert.equal(r.verdict, 'reachable');
  // pod2 is only entered, never left: the datapath's receive hook checks it
  const m2 = on(r, 'default/web2', 'mtu.mismatch');
  assert.ok(m2, findings(r).join(' '));
  assert.equal(m2.level, SuspicionLevel.WARNING);
});

test('e2e flannel: cni0 down on node1 → FATAL naming cni0 on node1', () => {
  const s = lab('flannel-host-gw--healthy');
  setDown(host(s, 'node1'), 'cni0');
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const f = r.nodes.find((n) => n.id === 'node1')!.suspicions.filter((x) => x.level === SuspicionLevel.FATAL && /cni0/.test(x.message));
  assert.ok(f.length, findings(r).join(' '));
  assert.equal(r.verdict, 'unreachable');
});

test('e2e flannel host-gw: own podCIDR route deleted on node2 → route.missing FATAL on node2', () => {
  const s = lab('flannel-host-gw--healthy');
  assert.equal(dropRoutes(host(s, 'node2'), (x) => x.dst === '10.244.2.0/24'), 1);
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const m = on(r, 'node2', 'route.missing');
  assert.ok(m, findings(r).join(' '));
  assert.equal(m.level, SuspicionLevel.FATAL);
  assert.match(m.evidence[1].text, /expected: 10\.244\.2\.0\/24 dev cni0/);
});

test('e2e flannel host-gw: own podCIDR route deleted on node1 → the reply route check flags node1', () => {
  const s = lab('flannel-host-gw--healthy');
  dropRoutes(host(s, 'node1'), (x) => x.dst === '10.244.1.0/24');
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const m = on(r, 'node1', 'route.missing');
  assert.ok(m, findings(r).join(' '));
  assert.match(m.message, /reply to 10\.244\.1\.2/);
});

test('e2e flannel host-gw: remote podCIDR route replaced with via <self IP> → route.invalid FATAL on node1', () => {
  const s = lab('flannel-host-gw--healthy');
  const r0 = host(s, 'node1').routes.find((x: { dst: string }) => x.dst === '10.244.2.0/24');
  r0.gateway = '198.51.100.11';
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const m = on(r, 'node1', 'route.invalid');
  assert.ok(m, findings(r).join(' '));
  assert.equal(m.level, SuspicionLevel.FATAL);
  assert.equal(r.verdict, 'unreachable');
});

test('e2e flannel host-gw: node2\'s route back to node1\'s pods via itself → route.invalid on node2 (reply)', () => {
  const s = lab('flannel-host-gw--healthy');
  host(s, 'node2').routes.find((x: { dst: string }) => x.dst === '10.244.1.0/24').gateway = '198.51.100.12';
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const m = on(r, 'node2', 'route.invalid');
  assert.ok(m, findings(r).join(' '));
  assert.match(m.message, /reply to 10\.244\.1\.2/);
});

test('e2e flannel vxlan: remote podCIDR route deleted / replaced with dev eth0 → route FATAL on node1', () => {
  for (const mutate of ['delete', 'dev eth0'] as const) {
    const s = lab('flannel-vxlan--healthy');
    const n1 = host(s, 'node1');
    if (mutate === 'delete') dropRoutes(n1, (x) => x.dst === '10.244.2.0/24');
    else n1.routes = n1.routes.map((x: { dst: string }) => (x.dst === '10.244.2.0/24' ? { dst: '10.244.2.0/24', dev: 'eth0', flags: [], scope: 'link' } : x));
    const r = diagnose(s, 'default/client', 'default/web2', 8080);
    const m = r.nodes.find((n) => n.id === 'node1')!.suspicions.find((x) => /^route\./.test(x.check) && x.level === SuspicionLevel.FATAL && /flannel\.1/.test(JSON.stringify(x.evidence)));
    assert.ok(m, `${mutate}: ${findings(r).join(' ')}`);
    assert.equal(m.check, mutate === 'delete' ? 'route.missing' : 'route.invalid');
  }
});

test('e2e flannel vxlan: pod MTU above flannel.1\'s → mtu.mismatch names the tunnel overhead', () => {
  const s = lab('flannel-vxlan--healthy');
  link(podNetns(s, 'node1', CLIENT), 'eth0').mtu = 1500;
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const all = r.nodes.find((n) => n.id === 'default/client')!.suspicions.filter((x) => x.check === 'mtu.mismatch');
  assert.ok(all.some((x) => /flannel\.1 MTU/.test(x.message)), findings(r).join(' '));
});

test('e2e calico BGP: host-side cali veth of web2 down → FATAL on node2', () => {
  const s = lab('calico-bgp--healthy');
  const cali = host(s, 'node2').links.find((l: { ifname: string }) => l.ifname.startsWith('cali'));
  const web2cali = host(s, 'node2').routes.find((x: { dst: string }) => x.dst === WEB2).dev;
  setDown(host(s, 'node2'), web2cali ?? cali.ifname);
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  assert.ok(r.nodes.find((n) => n.id === 'node2')!.suspicions.some((x) => x.level === SuspicionLevel.FATAL), findings(r).join(' '));
  assert.equal(r.verdict, 'unreachable');
});

test('e2e calico BGP: web2\'s /32 route deleted on node2 → FATAL route finding on node2', () => {
  const s = lab('calico-bgp--healthy');
  assert.equal(dropRoutes(host(s, 'node2'), (x) => x.dst === WEB2), 1);
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const m = r.nodes.find((n) => n.id === 'node2')!.suspicions.find((x) => /^route\./.test(x.check) && x.level === SuspicionLevel.FATAL);
  assert.ok(m, findings(r).join(' '));
});

test('e2e calico IPIP: remote pod routed `dev eth0` instead of via node2 on tunl0 → route.invalid FATAL on node1', () => {
  const s = lab('calico-bgp--healthy');
  s.settings.calicoIPPools = [{ cidr: '10.244.0.0/16', ipipMode: 'Always', vxlanMode: 'Never', natOutgoing: true }];
  const n1 = host(s, 'node1');
  n1.routes.push({ dst: `${WEB2}`, dev: 'eth0', flags: [], scope: 'link' });
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const m = on(r, 'node1', 'route.invalid');
  assert.ok(m, findings(r).join(' '));
  assert.match(m.evidence[1].text, /via 198\.51\.100\.12 dev tunl0 onlink/);
});

test('e2e generic: pod eth0 down → FATAL naming eth0 on the pod; lo down → WARNING only (remote traffic still arrives on eth0)', () => {
  const s = lab('generic-bridge--healthy');
  setDown(podNetns(s, 'node2', WEB2), 'eth0');
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  assert.ok(findings(r, SuspicionLevel.FATAL).length, 'eth0 down is fatal');
  assert.ok(r.nodes.some((n) => n.suspicions.some((x) => x.level === SuspicionLevel.FATAL && /eth0/.test(x.message))), findings(r).join(' '));
  // lo: skoop expects FATAL; the kernel delivers packets from other hosts on eth0 without lo
  const l = lab('generic-bridge--healthy');
  setDown(podNetns(l, 'node1', CLIENT), 'lo');
  const r2 = diagnose(l, 'default/client', 'default/web2', 8080);
  const lo = on(r2, 'default/client', 'interface.down');
  assert.ok(lo && /lo in default\/client is down/.test(lo.message), findings(r2).join(' '));
  assert.equal(lo.level, SuspicionLevel.WARNING);
});

test('e2e generic: pod default route `dev lo` → route.invalid FATAL on the pod', () => {
  const s = lab('generic-bridge--healthy');
  const pod = podNetns(s, 'node1', CLIENT);
  pod.routes = pod.routes.map((x: { dst: string }) => (x.dst === 'default' ? { dst: 'default', dev: 'lo', flags: [], scope: 'link' } : x));
  const r = diagnose(s, 'default/client', 'node/node1', 9100);
  const m = on(r, 'default/client', 'route.invalid');
  assert.ok(m, findings(r).join(' '));
  assert.match(m.message, /out of lo, not out of eth0/);
});

test('e2e generic: pod main table flushed → no route on the pod (as source: send fails; as destination: the reply check)', () => {
  const s = lab('generic-bridge--healthy');
  const pod = podNetns(s, 'node1', CLIENT);
  pod.routes = pod.routes.filter((x: { table?: string }) => x.table === 'local');
  const r = diagnose(s, 'default/client', 'node/node1', 9100);
  assert.deepEqual(r.nodes.map((n) => n.id), ['default/client']);
  assert.ok(on(r, 'default/client', 'route.no-route'), findings(r).join(' '));
  // node1 → pod: the pod cannot answer
  const { Network } = require('../../src/engine/network') as typeof import('../../src/engine/network');
  const net = new Network(loadSnapshot(JSON.stringify(s)));
  const ns = [...net.stack('node1')!.pods.values()].find((x) => x.label === 'default/client')!;
  const { PluginChecks } = require('../../src/engine/plugins/checks') as typeof import('../../src/engine/plugins/checks');
  const checks = new PluginChecks(net.pluginConfig, { cache: net.cache, stack: (n) => net.stack(n), destinationIsService: () => false, isNodeAddress: (ip) => net.nodeWithIP(ip) !== undefined, isServiceAddress: () => false });
  const got = checks.onReceive('node1', ns, { src: '198.51.100.11', sport: 40000, dst: CLIENT, dport: 8080, protocol: 'tcp', mark: 0 }, 'eth0');
  assert.deepEqual(got.map((x) => [x.check, SuspicionLevel[x.level]]), [['route.no-route', 'FATAL']]);
});

test('e2e generic: pod INPUT DROP, nothing listening, external destination', () => {
  const s = lab('generic-bridge--healthy');
  const pod = podNetns(s, 'node2', WEB2);
  const ipt = pod.iptables;
  const backend = Object.keys(ipt)[0];
  ipt[backend] = `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j DROP\nCOMMIT\n`;
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  assert.ok(on(r, 'default/web2', 'iptables.drop'), findings(r).join(' '));
  const q = lab('generic-bridge--healthy');
  const web2 = podNetns(q, 'node2', WEB2);
  web2.sockets = String(web2.sockets).split('\n').filter((l) => !/:8080\b/.test(l)).join('\n');
  const r2 = diagnose(q, 'default/client', 'default/web2', 8080);
  const nl = on(r2, 'default/web2', 'socket.not-listening');
  assert.ok(nl, findings(r2).join(' '));
  assert.match(nl.message, /0\.0\.0\.0:8080/);
  const r3 = diagnose(lab('generic-bridge--healthy'), 'default/client', '123.123.123.123', 80);
  assert.deepEqual(r3.nodes.map((n) => n.id), ['default/client', 'node1', '123.123.123.123']);
  assert.deepEqual(findings(r3), []);
  assert.equal(r3.verdict, 'reachable');
});

test('calico IPPools come from crd.projectcalico.org/v1 objects in the snapshot (no Calico API server needed)', () => {
  const s = lab('calico-bgp--healthy');
  s.objects.ipPools = [{ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '10.244.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true } }];
  const cfg = detectPlugin(loadSnapshot(JSON.stringify(s)));
  assert.equal(cfg.calicoPools.length, 1);
  assert.equal(cfg.calicoPools[0].cidr, '10.244.0.0/16');
  assert.match(cfg.calicoPools[0].source, /IPPool.*default-ipv4-ippool/);
});

test('calico: node1 claims node2\'s block (its route replaced by a bird blackhole) → route.blackhole FATAL and calico.blackhole-block says why, on node1', () => {
  const s = lab('calico-bgp--healthy');
  const n1 = host(s, 'node1');
  const block = n1.routes.find((x: { dst: string }) => x.dst === '10.244.2.0/24');
  for (const k of Object.keys(block)) delete block[k];
  Object.assign(block, { type: 'blackhole', dst: '10.244.2.0/24', protocol: 'bird', flags: [] });
  const r = diagnose(s, 'default/client', 'default/web2', 8080);
  const node1 = r.nodes.find((n) => n.id === 'node1')!.suspicions;
  assert.ok(node1.some((x) => x.check === 'route.blackhole' && x.level === SuspicionLevel.FATAL), findings(r).join(' '));
  const why = node1.find((x) => x.check === 'calico.blackhole-block')!;
  assert.equal(why.level, SuspicionLevel.WARNING);
  assert.match(why.message, /^node1 holds the blackhole route blackhole 10\.244\.2\.0\/24 proto bird of a Calico block it claims, but 10\.244\.2\.2 belongs to pod default\/web2 on node node2/);
  // its own block's blackhole, for an address no pod has, is Calico working as meant: nothing said
  const own = diagnose(s, 'default/client', '10.244.1.77', 8080);
  assert.ok(!findings(own).some((f) => f.includes('calico.blackhole-block')));
});
