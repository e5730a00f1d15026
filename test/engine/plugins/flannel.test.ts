// The flannel module: how it recognises the cluster and what it reads (through detectPlugin, so
// with the registry's precedence and the settings overrides), and the routes it expects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectPlugin } from '../../../src/engine/plugins/detect';
import { flannel, flannelNodeInfo } from '../../../src/engine/plugins/flannel';
import type { PluginConfig } from '../../../src/engine/plugins/config';
import { annotatedNode, configMap, daemonSet, input } from './objects';

const netConf = (v: unknown) => ({ 'net-conf.json': JSON.stringify(v) });
const BACKEND = 'flannel.alpha.coreos.com/backend-type';

test('flannel: kube-flannel-cfg gives plugin, backend, pod network, bridge and masquerade, each with its source', () => {
  const cfg = detectPlugin(input([configMap('kube-flannel/kube-flannel-cfg', netConf({ Network: '10.42.0.0/16', Backend: { Type: 'host-gw' } }))]));
  assert.deepEqual(cfg.plugin, { value: 'flannel', source: 'ConfigMap kube-flannel/kube-flannel-cfg' });
  assert.deepEqual(cfg.backend, { value: 'host-gw', source: 'ConfigMap kube-flannel/kube-flannel-cfg net-conf.json Backend.Type' });
  assert.deepEqual(cfg.clusterCIDRs, { value: ['10.42.0.0/16'], source: 'ConfigMap kube-flannel/kube-flannel-cfg net-conf.json Network' });
  assert.deepEqual(cfg.bridge, { value: 'cni0', source: 'flannel CNI default bridge name' });
  assert.deepEqual(cfg.masquerade, { value: true, source: 'flannel default (flanneld --ip-masq; override with settings.masquerade)' });
  assert.deepEqual(cfg.notes, []);
});

test('flannel: the ConfigMap of kube-flannel/kube-system wins over one elsewhere; unparsable net-conf.json is a note, the backend then comes from the nodes', () => {
  const elsewhere = configMap('other/kube-flannel-cfg', netConf({ Network: '10.1.0.0/16', Backend: { Type: 'udp' } }));
  const sys = configMap('kube-system/kube-flannel-cfg', { 'net-conf.json': '{"Network": ' });
  const n = annotatedNode('n1', '192.0.2.1', '10.244.0.0/24', { [BACKEND]: 'VXLAN' });
  const cfg = detectPlugin(input([elsewhere, sys, n]));
  assert.equal(cfg.plugin.source, 'ConfigMap kube-system/kube-flannel-cfg');
  assert.deepEqual(cfg.backend, { value: 'vxlan', source: `node n1 annotation ${BACKEND}` });
  assert.equal(cfg.clusterCIDRs.source, 'not found');
  assert.equal(cfg.notes.length, 1);
  assert.match(cfg.notes[0], /^ConfigMap kube-system\/kube-flannel-cfg: net-conf\.json is not JSON \(.*\); flannel settings not read from it$/);
  // only the stray ConfigMap: it is flannel's all the same
  assert.equal(detectPlugin(input([elsewhere])).backend?.value, 'udp');
});

test('flannel: node annotations alone, else a flannel DaemonSet; no backend anywhere means vxlan', () => {
  const byNode = detectPlugin(input([annotatedNode('n2', '192.0.2.2', '10.244.1.0/24', { [BACKEND]: 'host-gw' })]));
  assert.deepEqual(byNode.plugin, { value: 'flannel', source: `node n2 annotation ${BACKEND}` });
  assert.equal(byNode.backend?.value, 'host-gw');
  const byDs = detectPlugin(input([daemonSet('kube-flannel/kube-flannel-ds'), daemonSet('kube-system/calico-node')]));
  assert.deepEqual(byDs.plugin, { value: 'flannel', source: 'DaemonSet kube-flannel/kube-flannel-ds' });
  assert.deepEqual(byDs.backend, { value: 'vxlan', source: 'flannel default (no Backend.Type found)' });
});

test('flannel: settings override the backend, the bridge and masquerading it reads', () => {
  const cfg = detectPlugin(input([configMap('kube-flannel/kube-flannel-cfg', netConf({ Network: '10.42.0.0/16', Backend: { Type: 'vxlan' } }))], { backend: 'Host-GW', bridge: 'br-pods', masquerade: false }));
  assert.deepEqual([cfg.backend, cfg.bridge, cfg.masquerade], [
    { value: 'host-gw', source: 'settings.backend' },
    { value: 'br-pods', source: 'settings.bridge' },
    { value: false, source: 'settings.masquerade' },
  ]);
});

function cfgOf(backend: string, source = 'test'): PluginConfig {
  return {
    plugin: { value: 'flannel', source: 'test' },
    backend: { value: backend, source },
    clusterCIDRs: { value: ['10.244.0.0/16'], source: 'test' },
    bridge: { value: 'cni0', source: 'flannel CNI default bridge name' },
    masquerade: { value: true, source: 'test' },
    calicoPools: [],
    notes: [],
  };
}

test('flannel routes: host-gw via the remote public IP on the uplink, vxlan via the VTEP on flannel.1, the own CIDR on the bridge', () => {
  const remote = annotatedNode('n2', '192.0.2.2', '10.244.2.0/24', { 'flannel.alpha.coreos.com/public-ip': '203.0.113.2' });
  const q = { dst: '10.244.2.7', node: remote, uplink: 'ens5', sameSubnet: () => true };
  assert.deepEqual(flannel.remoteRoute(cfgOf('host-gw'), q), {
    prefix: '10.244.2.0/24', gateway: '203.0.113.2', dev: 'ens5',
    why: 'flannel host-gw (test): node n2\'s pod CIDR via its public IP (node n2 annotation flannel.alpha.coreos.com/public-ip) on the uplink',
  });
  const vx = flannel.remoteRoute(cfgOf('vxlan'), q)!;
  assert.deepEqual([vx.prefix, vx.gateway, vx.dev, vx.onlink, vx.overhead], ['10.244.2.0/24', '10.244.2.0', 'flannel.1', true, 50]);
  // a node without pod CIDR, or a backend flannel routes no known way, expects nothing
  assert.equal(flannel.remoteRoute(cfgOf('vxlan'), { ...q, node: annotatedNode('n3', '192.0.2.3', '') }), undefined);
  assert.equal(flannel.remoteRoute(cfgOf('udp'), q), undefined);
  const local = flannel.localRoute(cfgOf('vxlan'), { dst: '10.244.1.5', podCIDR: '10.244.1.0/24', hostVeth: () => assert.fail('flannel routes its pods by the bridge') });
  assert.deepEqual(local, { prefix: '10.244.1.0/24', dev: 'cni0', why: 'flannel: this node\'s pod CIDR on the bridge (flannel CNI default bridge name)' });
  assert.deepEqual(flannel.tunnel(cfgOf('vxlan')), { dev: 'flannel.1', overhead: 50 });
  assert.equal(flannel.tunnel(cfgOf('host-gw')), undefined);
});

test('flannel node info: a node\'s own backend annotation wins unless settings set the backend; the InternalIP stands in for the public IP', () => {
  const n = annotatedNode('n4', '192.0.2.4', '10.244.4.0/24', { [BACKEND]: 'host-gw' });
  assert.deepEqual(flannelNodeInfo(n, cfgOf('vxlan')), {
    backend: { value: 'host-gw', source: `node n4 annotation ${BACKEND}` },
    publicIP: { value: '192.0.2.4', source: 'node n4 InternalIP (no flannel.alpha.coreos.com/public-ip annotation)' },
  });
  assert.deepEqual(flannelNodeInfo(n, cfgOf('vxlan', 'settings.backend')).backend, { value: 'vxlan', source: 'settings.backend' });
});

function dualNode(name: string, annotations: Record<string, string> = {}) {
  const n = annotatedNode(name, '192.0.2.2', '10.244.2.0/24', annotations);
  (n.spec as Record<string, unknown>).podCIDRs = ['10.244.2.0/24', 'fd00:10:244:2::/64'];
  (n.status as { addresses: { type: string; address: string }[] }).addresses.push({ type: 'InternalIP', address: '2001:db8::2' });
  return n;
}

test('flannel IPv6: EnableIPv6 + IPv6Network in net-conf.json; routes per IPv6 pod CIDR via public-ipv6 (host-gw) or on flannel-v6.1 (vxlan); none without EnableIPv6', () => {
  const cm = configMap('kube-flannel/kube-flannel-cfg', netConf({ Network: '10.244.0.0/16', EnableIPv6: true, IPv6Network: 'fd00:10:244::/56', Backend: { Type: 'vxlan' } }));
  const cfg = detectPlugin(input([cm]));
  assert.deepEqual(cfg.ipv6, { value: true, source: 'ConfigMap kube-flannel/kube-flannel-cfg net-conf.json EnableIPv6' });
  assert.deepEqual(cfg.clusterCIDRs, { value: ['10.244.0.0/16', 'fd00:10:244::/56'], source: 'ConfigMap kube-flannel/kube-flannel-cfg net-conf.json Network, IPv6Network' });
  const remote = dualNode('n2', { 'flannel.alpha.coreos.com/public-ipv6': '2001:db8:ff::2' });
  const q = { dst: 'fd00:10:244:2::7', node: remote, uplink: 'ens5', sameSubnet: () => true };
  const vx = flannel.remoteRoute(cfg, q)!;
  assert.deepEqual([vx.prefix, vx.gateway, vx.dev, vx.onlink, vx.overhead], ['fd00:10:244:2::/64', 'fd00:10:244:2::', 'flannel-v6.1', true, 70]);
  const hg = flannel.remoteRoute({ ...cfg, backend: { value: 'host-gw', source: 'test' } }, q)!;
  assert.deepEqual([hg.prefix, hg.gateway, hg.dev], ['fd00:10:244:2::/64', '2001:db8:ff::2', 'ens5']);
  assert.match(hg.why, /public IP \(node n2 annotation flannel\.alpha\.coreos\.com\/public-ipv6\)/);
  // without the annotation, the node's IPv6 InternalIP; the IPv4 route still uses the IPv4 one
  const plain = flannel.remoteRoute({ ...cfg, backend: { value: 'host-gw', source: 'test' } }, { ...q, node: dualNode('n3') })!;
  assert.equal(plain.gateway, '2001:db8::2');
  assert.equal(flannel.remoteRoute({ ...cfg, backend: { value: 'host-gw', source: 'test' } }, { ...q, dst: '10.244.2.7', node: dualNode('n3') })!.gateway, '192.0.2.2');
  const local = flannel.localRoute(cfg, { dst: 'fd00:10:244:1::5', podCIDR: 'fd00:10:244:1::/64', hostVeth: () => undefined });
  assert.deepEqual(local?.prefix, 'fd00:10:244:1::/64');
  // IPv4 only: flannel programs nothing for IPv6 addresses
  const v4only = detectPlugin(input([configMap('kube-flannel/kube-flannel-cfg', netConf({ Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } }))]));
  assert.deepEqual(v4only.ipv6, { value: false, source: 'ConfigMap kube-flannel/kube-flannel-cfg net-conf.json EnableIPv6' });
  assert.equal(flannel.remoteRoute(v4only, q), undefined);
  assert.equal(flannel.localRoute(v4only, { dst: 'fd00:10:244:1::5', podCIDR: 'fd00:10:244:1::/64', hostVeth: () => undefined }), undefined);
});
