// The calico module: recognition (IPPools, node annotations, calico-config, calico-node), the
// backend and masquerading it reads, and the routes it expects per pool mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectPlugin } from '../../../src/engine/plugins/detect';
import { calico } from '../../../src/engine/plugins/calico';
import type { PluginConfig } from '../../../src/engine/plugins/config';
import type { CalicoPool } from '../../../src/engine/plugins/ippools';
import type { Interface } from '../../../src/engine/netstack/interfaces-model';
import type { ClusterPod } from '../../../src/engine/k8s/objects';
import { annotatedNode, configMap, daemonSet, input, ipPool } from './objects';

const IPV4 = 'projectcalico.org/IPv4Address';

test('calico: IPPools decide plugin, backend (the first pool), pod network and masquerading (natOutgoing)', () => {
  const cfg = detectPlugin(input([
    ipPool('default', { cidr: '10.48.0.0/16', ipipMode: 'CrossSubnet', vxlanMode: 'Never', natOutgoing: false }),
    ipPool('extra', { cidr: '10.49.0.0/16', vxlanMode: 'Always', natOutgoing: true }),
    ipPool('broken', { cidr: 'not-a-cidr' }),
  ]));
  assert.deepEqual(cfg.plugin, { value: 'calico', source: 'IPPool default' });
  assert.deepEqual(cfg.backend, { value: 'ipip', source: 'IPPool default ipipMode/vxlanMode' });
  assert.deepEqual(cfg.clusterCIDRs, { value: ['10.48.0.0/16', '10.49.0.0/16'], source: 'IPPool default, IPPool extra' });
  assert.deepEqual(cfg.masquerade, { value: true, source: 'IPPool natOutgoing (10.48.0.0/16: false, 10.49.0.0/16: true)' });
  assert.equal(cfg.bridge, undefined);
  assert.equal(cfg.calicoPools.length, 2);
});

test('calico: without pools, the tunnel address annotations, then calico-config, then the default give the backend', () => {
  const n = (a: Record<string, string>) => annotatedNode('n1', '192.0.2.1', '10.244.0.0/24', { [IPV4]: '192.0.2.1/24', ...a });
  const vx = detectPlugin(input([n({ 'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.0.64' })]));
  assert.deepEqual(vx.plugin, { value: 'calico', source: `node n1 annotation ${IPV4}` });
  assert.deepEqual(vx.backend, { value: 'vxlan', source: 'node n1 annotation projectcalico.org/IPv4VXLANTunnelAddr' });
  assert.equal(detectPlugin(input([n({ 'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.0.1' })])).backend?.value, 'ipip');
  const bird = detectPlugin(input([configMap('kube-system/calico-config', { calico_backend: 'bird' })]));
  assert.deepEqual(bird.plugin, { value: 'calico', source: 'ConfigMap kube-system/calico-config' });
  assert.deepEqual(bird.backend, { value: 'bgp', source: 'ConfigMap kube-system/calico-config calico_backend bird, no IPIP tunnel address on any node' });
  assert.deepEqual(bird.masquerade, { value: true, source: 'calico default (IPPool natOutgoing; override with settings.masquerade)' });
  const ds = detectPlugin(input([daemonSet('kube-system/calico-node')]));
  assert.deepEqual([ds.plugin.source, ds.backend?.source], ['DaemonSet kube-system/calico-node', 'calico default (no IPPool, no tunnel address annotation)']);
});

test('calico: its configuration beats a flannel DaemonSet; flannel\'s configuration beats calico\'s (registry precedence)', () => {
  const pool = ipPool('p', { cidr: '10.48.0.0/16' });
  assert.equal(detectPlugin(input([daemonSet('kube-system/kube-flannel-ds'), pool])).plugin.value, 'calico');
  assert.equal(detectPlugin(input([configMap('kube-system/kube-flannel-cfg', {}), pool])).plugin.value, 'flannel');
});

function pool(p: Partial<CalicoPool>): CalicoPool {
  return { cidr: '10.48.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, blockSize: 26, source: 'IPPool p', ...p };
}

function cfgOf(pools: CalicoPool[], backend?: string): PluginConfig {
  return {
    plugin: { value: 'calico', source: 'test' },
    ...(backend ? { backend: { value: backend, source: 'test' } } : {}),
    clusterCIDRs: { value: ['10.48.0.0/16'], source: 'test' },
    masquerade: { value: true, source: 'test' },
    calicoPools: pools,
    notes: [],
  };
}

test('calico routes: BGP on the uplink, IPIP on tunl0 (CrossSubnet: only off the subnet), VXLAN via the tunnel address', () => {
  const remote = annotatedNode('n2', '192.0.2.2', '10.48.2.0/24', { [IPV4]: '198.51.100.2/24', 'projectcalico.org/IPv4VXLANTunnelAddr': '10.48.2.64' });
  const q = (same: boolean) => ({ dst: '10.48.2.9', node: remote, uplink: 'eth1', sameSubnet: (ip: string) => { assert.equal(ip, '198.51.100.2'); return same; } });
  const cross = cfgOf([pool({ ipipMode: 'CrossSubnet' })]);
  const bgp = calico.remoteRoute(cross, q(true))!;
  assert.deepEqual([bgp.gateway, bgp.dev, bgp.onlink, bgp.overhead], ['198.51.100.2', 'eth1', undefined, undefined]);
  assert.equal(bgp.why, `calico BGP, IPPool 10.48.0.0/16 (IPPool p): node n2's block via its address (node n2 annotation ${IPV4}) on the uplink`);
  const ipip = calico.remoteRoute(cross, q(false))!;
  assert.deepEqual([ipip.gateway, ipip.dev, ipip.onlink, ipip.overhead], ['198.51.100.2', 'tunl0', true, 20]);
  const vx = calico.remoteRoute(cfgOf([pool({ vxlanMode: 'Always' })]), q(true))!;
  assert.deepEqual([vx.gateway, vx.dev, vx.onlink, vx.overhead], ['10.48.2.64', 'vxlan.calico', true, 50]);
  // outside every pool, the backend decides; VXLAN without a tunnel address expects nothing
  const bare = annotatedNode('n3', '192.0.2.3', '10.50.3.0/24');
  assert.equal(calico.remoteRoute(cfgOf([], 'vxlan'), { dst: '10.50.3.4', node: bare, uplink: 'eth0', sameSubnet: () => true }), undefined);
  const viaInternal = calico.remoteRoute(cfgOf([], 'ipip'), { dst: '10.50.3.4', node: bare, uplink: 'eth0', sameSubnet: () => true })!;
  assert.deepEqual([viaInternal.gateway, viaInternal.dev], ['192.0.2.3', 'tunl0']);
  assert.match(viaInternal.why, /calico backend ipip \(test\).*node n3 InternalIP/);
  assert.deepEqual(calico.tunnel(cfgOf([], 'ipip')), { dev: 'tunl0', overhead: 20 });
  assert.deepEqual(calico.tunnel(cfgOf([], 'vxlan')), { dev: 'vxlan.calico', overhead: 50 });
  assert.equal(calico.tunnel(cfgOf([], 'bgp')), undefined);
});

test('calico local route: a pod\'s /32 on its host-side veth; nothing without the pod or its veth', () => {
  const pod = { key: 'default/a' } as ClusterPod;
  const veth = { name: 'cali12ab' } as Interface;
  const r = calico.localRoute(cfgOf([]), { dst: '10.48.1.5', pod, podCIDR: '10.48.1.0/24', hostVeth: (p) => (p === pod ? veth : undefined) });
  assert.deepEqual(r, { prefix: '10.48.1.5/32', dev: 'cali12ab', why: 'calico: a local pod\'s /32 route on its host-side veth' });
  assert.equal(calico.localRoute(cfgOf([]), { dst: '10.48.1.6', podCIDR: '10.48.1.0/24', hostVeth: () => veth }), undefined);
  assert.equal(calico.localRoute(cfgOf([]), { dst: '10.48.1.5', pod, hostVeth: () => undefined }), undefined);
});

test('calico IPv6 pools: another node\'s block (blockSize, default /122) via its IPv6Address or on vxlan-v6.calico; a local pod\'s /128; ipipMode does not apply to IPv6', () => {
  const remote = annotatedNode('n2', '192.0.2.2', '10.48.2.0/24', {
    [IPV4]: '198.51.100.2/24', 'projectcalico.org/IPv6Address': '2001:db8::2/64', 'projectcalico.org/IPv6VXLANTunnelAddr': 'fd00:48:0:2::40',
  });
  const q = { dst: 'fd00:48::2:9', node: remote, uplink: 'eth1', sameSubnet: () => true };
  const v6pool = pool({ cidr: 'fd00:48::/48', ipipMode: 'Always', blockSize: 122 });
  const bgp = calico.remoteRoute(cfgOf([pool({}), v6pool]), q)!;
  assert.deepEqual([bgp.prefix, bgp.gateway, bgp.dev, bgp.onlink], ['fd00:48::2:0/122', '2001:db8::2', 'eth1', undefined]);
  assert.match(bgp.why, /^calico IPv6 BGP, IPPool fd00:48::\/48 .*\/122 block via its IPv6 address \(node n2 annotation projectcalico\.org\/IPv6Address\)/);
  const vx = calico.remoteRoute(cfgOf([pool({ cidr: 'fd00:48::/48', vxlanMode: 'Always', blockSize: 120 })]), q)!;
  assert.deepEqual([vx.prefix, vx.gateway, vx.dev, vx.onlink, vx.overhead], ['fd00:48::2:0/120', 'fd00:48:0:2::40', 'vxlan-v6.calico', true, 70]);
  // an IPv6 address in no pool: Calico did not assign it, nothing is expected
  assert.equal(calico.remoteRoute(cfgOf([pool({})], 'bgp'), q), undefined);
  const podA = { key: 'default/a' } as ClusterPod;
  const r = calico.localRoute(cfgOf([]), { dst: 'fd00:48::1:5', pod: podA, hostVeth: () => ({ name: 'cali12ab' }) as Interface });
  assert.deepEqual(r, { prefix: 'fd00:48::1:5/128', dev: 'cali12ab', why: 'calico: a local pod\'s /128 route on its host-side veth' });
});

test('calico IPPool blockSize: read from the spec, else 26 / 122 by family', () => {
  const cfg = detectPlugin(input([ipPool('v4', { cidr: '10.48.0.0/16' }), ipPool('v6', { cidr: 'fd00:48::/48' }), ipPool('small', { cidr: '10.49.0.0/16', blockSize: 28 })]));
  assert.deepEqual(cfg.calicoPools.map((p) => [p.cidr, p.blockSize]), [['10.48.0.0/16', 26], ['fd00:48::/48', 122], ['10.49.0.0/16', 28]]);
});
