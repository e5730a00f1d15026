// The seam: a fourth CNI registered beside flannel and calico is detected by the registry's
// precedence, picked by settings, and the shared checks ask it for its routes, tunnel and
// masquerade level — no other code knows its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectPlugin } from '../../../src/engine/plugins/detect';
import { PluginChecks } from '../../../src/engine/plugins/checks';
import { PluginRegistry, plugins } from '../../../src/engine/plugins/registry';
import { flannel } from '../../../src/engine/plugins/flannel';
import { calico } from '../../../src/engine/plugins/calico';
import { generic, unknownPluginNote } from '../../../src/engine/plugins/generic';
import { where, type ObjectView } from '../../../src/engine/plugins/objects';
import type { LocalPodAddress, Plugin, RemotePodAddress } from '../../../src/engine/plugins/plugin';
import { Network } from '../../../src/engine/network';
import { loadSnapshot } from '../../../src/engine/snapshot/load';
import { SuspicionLevel } from '../../../src/engine/model/suspicion';
import { lab } from '../plugin-fixtures';
import { configMap, daemonSet, input } from './objects';

/** "weave": its ConfigMap configures it, its DaemonSet runs it; pods reach other nodes over a `weave` device. */
function weave(calls: string[] = []): Plugin {
  return {
    name: 'weave',
    read(objects: ObjectView) {
      const cm = objects.configMaps.find((c) => c.metadata.name === 'weave-net');
      const data = (cm?.data ?? {}) as Record<string, string>;
      return {
        ...(cm ? { configuredBy: where(cm) } : {}),
        runningAs: () => { const w = objects.workload(/^weave-net$/); return w && where(w); },
        ...(data.mode ? { backend: { value: data.mode, source: `${where(cm!)} mode` } } : {}),
        masquerade: { value: true, source: 'weave default' },
      };
    },
    localRoute(_cfg, q: LocalPodAddress) {
      calls.push(`local ${q.dst}`);
      return undefined;
    },
    remoteRoute(_cfg, q: RemotePodAddress) {
      calls.push(`remote ${q.dst} on ${q.node.metadata.name} uplink ${q.uplink}`);
      const cidr = (q.node.spec as { podCIDR?: string }).podCIDR;
      return cidr ? { prefix: cidr, dev: 'weave', why: `weave: node ${q.node.metadata.name}'s pod CIDR on the weave device` } : undefined;
    },
    tunnel: () => ({ dev: 'weave', overhead: 100 }),
    unmasqueraded: SuspicionLevel.CRITICAL,
  };
}

const registryWith = (p: Plugin, first = false) => new PluginRegistry(first ? [p, flannel, calico] : [flannel, calico, p], generic, unknownPluginNote);

test('registry: the built-in plugins in precedence order, generic as fallback, found by name', () => {
  assert.deepEqual(plugins.all.map((p) => p.name), ['flannel', 'calico', 'generic']);
  assert.equal(plugins.byName('calico'), calico);
  assert.equal(plugins.byName('weave'), undefined);
});

test('seam: a registered fourth plugin is detected from its objects, by settings, and after the plugins before it', () => {
  const reg = registryWith(weave());
  const cm = configMap('kube-system/weave-net', { mode: 'fastdp' });
  const cfg = detectPlugin(input([cm]), reg);
  assert.deepEqual([cfg.plugin, cfg.backend, cfg.masquerade.source], [{ value: 'weave', source: 'ConfigMap kube-system/weave-net' }, { value: 'fastdp', source: 'ConfigMap kube-system/weave-net mode' }, 'weave default']);
  assert.equal(detectPlugin(input([daemonSet('kube-system/weave-net')]), reg).plugin.source, 'DaemonSet kube-system/weave-net');
  // settings pick it without the unknown-CNI note; the default registry does not know it
  assert.deepEqual(detectPlugin(input([], { networkPlugin: 'Weave' }), reg).notes, []);
  assert.equal(detectPlugin(input([cm])).plugin.value, 'generic');
  // precedence is the registry's order: configuration first, then workloads
  const flannelCm = configMap('kube-system/kube-flannel-cfg', {});
  assert.equal(detectPlugin(input([cm, flannelCm]), reg).plugin.value, 'flannel');
  assert.equal(detectPlugin(input([cm, flannelCm]), registryWith(weave(), true)).plugin.value, 'weave');
  assert.equal(detectPlugin(input([daemonSet('kube-system/kube-flannel-ds'), cm]), reg).plugin.value, 'weave');
  assert.equal(detectPlugin(input([]), reg).plugin.source, 'no flannel, calico or weave configuration, annotation or DaemonSet in the snapshot');
});

test('seam: the shared checks ask the registered plugin for its routes and its tunnel', () => {
  const calls: string[] = [];
  const reg = registryWith(weave(calls));
  const s = lab('generic-bridge--healthy');
  s.objects.configMaps.push(configMap('kube-system/weave-net', { mode: 'fastdp' }));
  const snap = loadSnapshot(JSON.stringify(s));
  const net = new Network(snap);
  const checks = new PluginChecks(detectPlugin(snap, reg), {
    cache: net.cache,
    stack: (n) => net.stack(n),
    destinationIsService: () => false,
    isNodeAddress: (ip) => net.nodeWithIP(ip) !== undefined,
    isServiceAddress: () => false,
  }, reg);
  assert.equal(checks.cfg.plugin.value, 'weave');
  const node1 = net.stack('node1')!;
  // client (node1) → web2 (node2): the kernel routes via node2 on eth0; weave expects its device
  const packet = { src: '10.244.1.2', sport: 40000, dst: '10.244.2.2', dport: 8080, protocol: 'tcp', mark: 0 };
  const got = checks.onExit('node1', node1.host, packet, 'eth0', '198.51.100.12');
  assert.deepEqual(calls, ['remote 10.244.2.2 on node2 uplink eth0', 'local 10.244.1.2']);
  assert.deepEqual(got.map((x) => [x.check, SuspicionLevel[x.level], x.message]), [
    ['route.invalid', 'FATAL', 'node1 routes the packet for 10.244.2.2 via 198.51.100.12 dev eth0, expected 10.244.2.0/24 dev weave'],
    ['interface.missing', 'FATAL', 'weave, the weave device, does not exist on node1'],
  ]);
  assert.equal(got[0].evidence[1].where, 'weave: node node2\'s pod CIDR on the weave device');
  // web2's eth0 (MTU 1500) against what weave's tunnel leaves of node2's uplink
  const node2 = net.stack('node2')!;
  const web2 = [...node2.pods.values()].find((ns) => ns.label === 'default/web2')!;
  const mtu = checks.onReceive('node2', web2, packet, 'eth0').filter((x) => x.check === 'mtu.mismatch');
  assert.deepEqual(mtu.map((x) => x.message), ['eth0 of default/web2 has MTU 1500, more than the 1400 the network carries (uplink eth0 MTU 1500 minus 100 bytes of fastdp encapsulation): larger packets need fragmentation or are dropped']);
  // pod traffic leaving the cluster un-SNATed: at weave's level (generic would only warn)
  const out = { ...packet, dst: '203.0.113.10', dport: 80 };
  const nat = checks.onExit('node1', node1.host, out, 'eth0', '198.51.100.1').filter((x) => x.check === 'nat.no-masquerade');
  assert.deepEqual(nat.map((x) => SuspicionLevel[x.level]), ['CRITICAL']);
  assert.match(nat[0].message, /\(masquerade: weave default\)$/);
});
