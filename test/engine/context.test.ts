// The run's Context: one normaliser for the snapshot's settings and the user's overrides, whichever
// front end they come from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createContext } from '../../src/engine/context';
import { liveContext } from '../../src/cluster/live';
import { detectPlugin } from '../../src/engine/plugins/detect';
import type { SnapshotObjects } from '../../src/engine/snapshot/types';

const objects: SnapshotObjects = {
  nodes: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.244.1.0/24' } }],
  pods: [], services: [], endpointSlices: [], endpoints: [], networkPolicies: [], namespaces: [], configMaps: [],
};

test('VS Code names and CLI names reach the engine as the same settings, each with its origin', () => {
  const fromVscode = createContext({ origin: 'snapshot', values: { podCIDRs: ['10.244.1.0/24'] } }, { origin: 'vscode', values: { nodeUplink: 'ens5', podCIDRs: ['10.244.0.0/16'], networkPlugin: 'calico', proxyMode: 'ipvs' } });
  const fromCli = createContext({ origin: 'snapshot', values: { podCIDRs: ['10.244.1.0/24'] } }, { origin: 'cli', values: { uplink: 'ens5', clusterCIDRs: ['10.244.0.0/16'], podCIDRs: ['10.244.0.0/16'], networkPlugin: 'calico', proxyMode: 'ipvs' } });
  for (const c of [fromVscode, fromCli]) {
    assert.equal(c.settings.uplink, 'ens5');
    assert.deepEqual(c.settings.clusterCIDRs, ['10.244.0.0/16']);
    assert.equal(c.settings.networkPlugin, 'calico');
    assert.equal(c.settings.proxyMode, 'ipvs');
  }
  assert.equal(fromVscode.origins.uplink, 'vscode');
  assert.equal(fromCli.origins.uplink, 'cli');
  assert.deepEqual(fromVscode.overridden, ['networkPlugin', 'nodeUplink', 'podCIDRs', 'proxyMode']);
  // undefined is "not set": the snapshot's value stays.
  assert.deepEqual(createContext({ origin: 'snapshot', values: { backend: 'vxlan' } }, { origin: 'vscode', values: { backend: undefined } }).settings, { backend: 'vxlan' });
});

test('a live run builds its Context like a snapshot run: the objects\' settings, then the overrides, and detection sees them', () => {
  const c = liveContext(objects, { settings: { nodeUplink: 'ens5', podCIDRs: ['10.244.0.0/16'] }, settingsOrigin: 'vscode' });
  assert.deepEqual(c.settings.podCIDRs, ['10.244.0.0/16']);
  const cfg = detectPlugin({ objects, settings: c.settings });
  assert.deepEqual(cfg.uplinkOverride, { value: 'ens5', source: 'settings.uplink' });
  assert.deepEqual(cfg.clusterCIDRs, { value: ['10.244.0.0/16'], source: 'settings.clusterCIDRs' });
  // Without overrides, the nodes' pod CIDRs (what `snapshot assemble` writes) are the fallback.
  const plain = detectPlugin({ objects, settings: liveContext(objects, {}).settings });
  assert.equal(plain.uplinkOverride, undefined);
  assert.deepEqual(plain.clusterCIDRs.value, ['10.244.1.0/24']);
});
