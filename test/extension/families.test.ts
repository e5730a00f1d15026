// The family step of the pickers: which families both ends share, whether to ask, the CLI's
// default (`--family` absent: the family of an IP typed, else IPv4 when both ends have it, else
// IPv6), and the last choice listed first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressesOf, familiesOfEnd, familyChoice, familyOrder } from '../../src/extension/families';
import { familyItem, protocolItem, protocols } from '../../src/extension/labels';
import type { ListEndpointsResult } from '../../src/shared/protocol';

const eps: ListEndpointsResult = {
  pods: [
    { namespace: 'default', name: 'dual', ips: ['10.244.1.2', 'fd00:10:244:1::2'], node: 'n1', phase: 'Running', hostNetwork: false, ports: [], families: [4, 6] },
    { namespace: 'default', name: 'v4', ips: ['10.244.1.3'], node: 'n1', phase: 'Running', hostNetwork: false, ports: [], families: [4] },
    { namespace: 'default', name: 'v6', ips: ['fd00:10:244:1::4'], node: 'n1', phase: 'Running', hostNetwork: false, ports: [], families: [6] },
    // A pod in a namespace called "node": `node/n1` is still the node n1, `node/web` this pod.
    { namespace: 'node', name: 'web', ips: ['10.244.1.5'], node: 'n1', phase: 'Running', hostNetwork: false, ports: [], families: [4] },
  ],
  services: [
    { namespace: 'default', name: 'dual', type: 'ClusterIP', clusterIPs: ['10.96.0.10', 'fd00:10:96::10'], ports: [], families: [4, 6] },
    { namespace: 'default', name: 'single', type: 'ClusterIP', clusterIPs: ['10.96.0.1'], ports: [], families: [4] },
    { namespace: 'default', name: 'v6only', type: 'ClusterIP', clusterIPs: ['fd00:10:96::20'], ports: [], families: [6] },
  ],
  nodes: [{ name: 'n1', addresses: ['198.51.100.11', '2001:db8:100::11'], families: [4, 6] }],
  namespaces: ['default', 'node'],
};

test('the families of an end: a listed name as the server reported, an IP typed its own, an unknown name undefined', () => {
  assert.deepEqual(familiesOfEnd(eps, 'default/dual'), [4, 6]);
  assert.deepEqual(familiesOfEnd(eps, 'svc/default/single'), [4]);
  assert.deepEqual(familiesOfEnd(eps, 'node/n1'), [4, 6]);
  assert.deepEqual(familiesOfEnd(eps, 'node/web'), [4], 'no node "web": the pod node/web');
  assert.deepEqual(familiesOfEnd(eps, 'fd00::1'), [6]);
  assert.deepEqual(familiesOfEnd(eps, ' 10.0.0.1 '), [4]);
  assert.equal(familiesOfEnd(eps, 'default/nosuch'), undefined);
  assert.equal(familiesOfEnd(eps, 'svc/default/nosuch'), undefined);
  assert.equal(familiesOfEnd(eps, 'a/b/c'), undefined);
  assert.equal(familiesOfEnd(eps, 'web'), undefined, 'neither a name nor an address: the server says so');
});

test('asked only when both named ends have both families; the default is IPv4 then', () => {
  assert.deepEqual(familyChoice(eps, 'default/dual', 'svc/default/dual'), { shared: [4, 6], default: 4, ask: true });
  assert.deepEqual(familyChoice(eps, 'node/n1', 'default/dual'), { shared: [4, 6], default: 4, ask: true });
  // One end single-stack: nothing to choose; the family both have is the default.
  assert.deepEqual(familyChoice(eps, 'default/dual', 'svc/default/single'), { shared: [4], default: 4, ask: false });
  assert.deepEqual(familyChoice(eps, 'default/dual', 'svc/default/v6only'), { shared: [6], default: 6, ask: false });
  // No family in common: no default (the server names the problem).
  assert.deepEqual(familyChoice(eps, 'default/v4', 'default/v6'), { shared: [], ask: false });
});

test('an IP typed fixes the family (never asked); an unknown end leaves it to the server', () => {
  assert.deepEqual(familyChoice(eps, 'default/dual', 'fd00:10:96::10'), { shared: [6], default: 6, ask: false });
  assert.deepEqual(familyChoice(eps, '10.244.1.2', 'svc/default/dual'), { shared: [4], default: 4, ask: false });
  assert.deepEqual(familyChoice(eps, 'default/nosuch', 'svc/default/dual'), { shared: [], ask: false });
  assert.deepEqual(familyChoice(eps, 'default/nosuch', 'fd00::1'), { shared: [], default: 6, ask: false });
});

test('the last family chosen comes first when offered, else the default', () => {
  const both = familyChoice(eps, 'default/dual', 'svc/default/dual');
  assert.deepEqual(familyOrder(both, undefined), [4, 6]);
  assert.deepEqual(familyOrder(both, '6'), [6, 4]);
  assert.deepEqual(familyOrder(both, '4'), [4, 6]);
  assert.deepEqual(familyOrder(familyChoice(eps, 'default/dual', 'svc/default/v6only'), '4'), [6]);
});

test('the addresses each end has in a family, for the item text', () => {
  assert.deepEqual(addressesOf(eps, 'default/dual', 6), ['fd00:10:244:1::2']);
  assert.deepEqual(addressesOf(eps, 'svc/default/dual', 4), ['10.96.0.10']);
  assert.deepEqual(addressesOf(eps, 'node/n1', 6), ['2001:db8:100::11']);
  assert.deepEqual(addressesOf(eps, 'fd00::1', 6), ['fd00::1']);
  assert.deepEqual(addressesOf(eps, 'fd00::1', 4), []);
  assert.deepEqual(addressesOf(eps, 'default/nosuch', 4), []);
  const item = familyItem(6, addressesOf(eps, 'default/dual', 6), addressesOf(eps, 'svc/default/dual', 6), false);
  assert.deepEqual(item, { label: 'IPv6', value: '6', description: '--family 6', detail: 'fd00:10:244:1::2 → fd00:10:96::10' });
  assert.equal(familyItem(4, [], [], true).description, 'default · --family 4');
});

test('the protocol step offers tcp, udp and sctp; the port\'s listed protocol is marked', () => {
  assert.deepEqual([...protocols], ['tcp', 'udp', 'sctp']);
  assert.equal(protocolItem('sctp', true).description, 'the port is listed with it');
  assert.equal(protocolItem('tcp', false).description, undefined);
  assert.match(protocolItem('sctp', false).detail ?? '', /report says so/);
});
