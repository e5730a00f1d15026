// The generic plugin, the registry's fallback: what detection says when no CNI is recognised or
// settings name one without a module, where the pod network then comes from, and that it expects
// no route or tunnel of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectPlugin } from '../../../src/engine/plugins/detect';
import { generic } from '../../../src/engine/plugins/generic';
import { SuspicionLevel } from '../../../src/engine/model/suspicion';
import { annotatedNode, configMap, input } from './objects';

test('generic: nothing recognised → generic, masquerading assumed, pod network from kube-proxy, else the nodes\' pod CIDRs', () => {
  const proxy = configMap('kube-system/kube-proxy', { 'config.conf': 'mode: ipvs\nclusterCIDR: 10.60.0.0/16, bogus\n' });
  const cfg = detectPlugin(input([proxy, annotatedNode('n1', '192.0.2.1', '10.60.1.0/24')]));
  assert.deepEqual(cfg.plugin, { value: 'generic', source: 'no flannel or calico configuration, annotation or DaemonSet in the snapshot' });
  assert.equal(cfg.backend, undefined);
  assert.equal(cfg.bridge, undefined);
  assert.deepEqual(cfg.masquerade, { value: true, source: 'assumed: pod IPs are rarely routable outside the cluster (override with settings.masquerade)' });
  assert.deepEqual(cfg.clusterCIDRs, { value: ['10.60.0.0/16'], source: 'ConfigMap kube-system/kube-proxy config.conf clusterCIDR' });
  const bare = detectPlugin(input([], { podCIDRs: ['10.60.1.0/24'] }));
  assert.deepEqual(bare.clusterCIDRs, { value: ['10.60.1.0/24'], source: 'settings.podCIDRs (the nodes\' pod CIDRs)' });
  assert.deepEqual(detectPlugin(input([])).clusterCIDRs, { value: [], source: 'not found' });
});

test('generic: settings naming a CNI without a module fall back to it with a note (the name as given); naming a module picks it', () => {
  const cfg = detectPlugin(input([configMap('kube-system/kube-flannel-cfg', {})], { networkPlugin: 'Cilium' }));
  assert.deepEqual(cfg.plugin, { value: 'generic', source: 'settings.networkPlugin' });
  assert.deepEqual(cfg.notes, ['network plugin "Cilium" has no dedicated checks: the generic plugin follows routes, veths and bridges and runs every netstack check']);
  const named = detectPlugin(input([configMap('kube-system/kube-flannel-cfg', {})], { networkPlugin: 'GENERIC' }));
  assert.deepEqual([named.plugin.value, named.notes], ['generic', []]);
  assert.equal(detectPlugin(input([], { networkPlugin: 'Calico' })).plugin.value, 'calico');
});

test('generic expects no route, no tunnel, and only warns about missing masquerading', () => {
  const cfg = detectPlugin(input([]));
  const n = annotatedNode('n2', '192.0.2.2', '10.60.2.0/24');
  assert.equal(generic.localRoute(cfg, { dst: '10.60.2.3', podCIDR: '10.60.2.0/24', hostVeth: () => undefined }), undefined);
  assert.equal(generic.remoteRoute(cfg, { dst: '10.60.2.3', node: n, uplink: 'eth0', sameSubnet: () => true }), undefined);
  assert.equal(generic.tunnel(cfg), undefined);
  assert.equal(generic.unmasqueraded, SuspicionLevel.WARNING);
});
