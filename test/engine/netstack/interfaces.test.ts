// Interfaces parsed from real `ip -j -d link` / `ip -j -d addr` output (committed fixtures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bridgePorts, downReason, interfaceByIndex, interfaceByName, isUp, parseInterfaces, primaryAddress,
} from '../../../src/engine/netstack/interfaces';
import { ParseError } from '../../../src/engine/netstack/parse-error';

const FIX = join(import.meta.dirname, '../../fixtures/netstack/links');
const read = (p: string) => readFileSync(join(FIX, p), 'utf8');

function dumpNode(name: string) {
  return parseInterfaces(read(`two-node-dump/${name}.link.json`), read(`two-node-dump/${name}.addr.json`));
}

test('two-node dump: node1 has lo, veth uplink, cni0 bridge with its veth port', () => {
  const ifs = dumpNode('node1');
  assert.deepEqual(ifs.map((i) => `${i.index}:${i.name}:${i.kind}`), ['1:lo:loopback', '2:eth0:veth', '3:cni0:bridge', '4:veth1:veth']);
  const cni0 = interfaceByName(ifs, 'cni0')!;
  assert.deepEqual(bridgePorts(ifs, cni0).map((i) => i.name), ['veth1']);
  const veth1 = interfaceByIndex(ifs, 4)!;
  assert.equal(veth1.masterIndex, 3);
  assert.equal(veth1.bridgePortState, 'forwarding');
  assert.equal(veth1.slaveKind, 'bridge');
  // veth1's peer is ifindex 2 in the namespace this node knows as netnsid 1.
  assert.equal(veth1.linkIndex, 2);
  assert.equal(veth1.linkNetnsId, 1);
  for (const i of ifs) assert.ok(isUp(i), `${i.name} up: ${downReason(i)}`);
  assert.equal(primaryAddress(cni0, 4)?.address, '10.244.1.1');
  assert.equal(primaryAddress(interfaceByName(ifs, 'eth0')!, 4)?.address, '198.51.100.11');
  // lo's addresses are scope host: not a source for anything leaving the host.
  assert.equal(primaryAddress(interfaceByName(ifs, 'lo')!, 4), undefined);
  assert.equal(primaryAddress(interfaceByName(ifs, 'lo')!, 4, { maxScope: 'host' })?.address, '127.0.0.1');
  // The link-local v6 addresses were still tentative (DAD running) when dumped: unusable.
  const ll = interfaceByName(ifs, 'eth0')!.addresses.find((a) => a.family === 6)!;
  assert.equal(ll.scope, 'link');
  assert.deepEqual(ll.flags, ['tentative']);
  assert.equal(primaryAddress(interfaceByName(ifs, 'eth0')!, 6), undefined);
});

test('two-node dump: pod1 eth0 is a veth whose peer is in another namespace', () => {
  const ifs = dumpNode('pod1');
  const eth0 = interfaceByName(ifs, 'eth0')!;
  assert.equal(eth0.kind, 'veth');
  assert.equal(eth0.linkIndex, 4);
  assert.equal(eth0.linkNetnsId, 0);
  assert.equal(eth0.mtu, 1500);
  assert.equal(primaryAddress(eth0, 4)?.address, '10.244.1.2');
});

test('bad JSON is a ParseError with line and column', () => {
  const bad = '[{"ifindex":1,\n "ifname":"lo",}]';
  assert.throws(() => parseInterfaces(bad, '[]'), (e: unknown) => {
    assert.ok(e instanceof ParseError);
    assert.equal(e.line, 2);
    assert.equal(e.column, 16);
    return true;
  });
});

test('structurally wrong JSON names element and field', () => {
  assert.throws(() => parseInterfaces('[{"ifindex":1,"ifname":"lo"},{"ifindex":"2","ifname":"x"}]', '[]'), (e: unknown) => {
    assert.ok(e instanceof ParseError);
    assert.match(e.message, /element \[1\]: field "ifindex": expected a number, got string/);
    assert.equal(e.line, 1);
    assert.equal(e.column, 30);
    return true;
  });
  assert.throws(
    () => parseInterfaces('[]', '[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"300.1.1.1","prefixlen":8}]}]'),
    /element \[0\]: field "addr_info\[0\]\.local": not an inet address/,
  );
});

// ---- generated topology (gen-links.sh) --------------------------------------------------------

import { pairVeths, parseNetnsIds, resolveVethPeer, type NamespaceView } from '../../../src/engine/netstack/interfaces';

const NS = ['node', 'pod1', 'pod2', 'ext'];
function genNamespaces(dir = join(FIX, 'gen'), withIds = true): NamespaceView[] {
  const r = (p: string) => readFileSync(join(dir, p), 'utf8');
  return NS.map((n) => {
    const v: NamespaceView = { id: n, interfaces: parseInterfaces(r(`${n}.link.json`), r(`${n}.addr.json`)) };
    if (withIds) v.netnsIds = parseNetnsIds(r(`${n}.netns.json`));
    return v;
  });
}

test('generated node: kinds, states, MTUs, vxlan and macvlan details', () => {
  const node = genNamespaces()[0].interfaces;
  const get = (n: string) => interfaceByName(node, n)!;
  assert.deepEqual(
    node.map((i) => `${i.name}:${i.kind}`).sort(),
    ['cni0:bridge', 'eth0.100:macvlan', 'eth0:veth', 'flannel.1:vxlan', 'lo:loopback', 'mv-down:macvlan',
      'tun0:tun', 'tun1:tun', 'vetha:veth', 'vethb:veth', 'vethc-p:veth', 'vethc:veth', 'vxlan.calico:vxlan'].sort(),
  );
  assert.deepEqual(get('flannel.1').vxlan, { vni: 1, port: 8472, learning: false, local: '198.51.100.11', underlay: 'eth0' });
  assert.equal(get('flannel.1').mtu, 1450);
  assert.deepEqual(get('vxlan.calico').vxlan, { vni: 4096, port: 4789, learning: false, local: '198.51.100.11', underlay: 'eth0' });
  assert.equal(get('vxlan.calico').mtu, 1410);
  assert.equal(get('eth0.100').mode, 'bridge');
  assert.equal(get('eth0.100').linkIndex, get('eth0').index, 'macvlan lower device resolved by name');
  assert.equal(get('mv-down').mode, 'private');
  assert.equal(get('cni0').bridge?.vlanFiltering, false);
  // Bridge ports, one of them down (disabled).
  assert.deepEqual(bridgePorts(node, get('cni0')).map((i) => `${i.name}:${i.bridgePortState}`).sort(), ['vetha:forwarding', 'vethb:forwarding', 'vethc:disabled']);
  // Up/down, incl. the carrier-less special cases.
  const up = node.filter(isUp).map((i) => i.name).sort();
  assert.deepEqual(up, ['cni0', 'eth0', 'eth0.100', 'flannel.1', 'lo', 'tun1', 'vetha', 'vethb', 'vxlan.calico']);
  assert.equal(get('tun1').operState, 'UNKNOWN', 'tun with a reader: no operstate, still up');
  assert.match(downReason(get('tun0'))!, /NO-CARRIER/);
  assert.match(downReason(get('vethc'))!, /administratively down/);
  // Addresses: secondary v4, nodad v6, link-local, point-to-point peer.
  const eth0 = get('eth0');
  assert.deepEqual(eth0.addresses.filter((a) => a.secondary).map((a) => a.address), ['198.51.100.111']);
  assert.equal(primaryAddress(eth0, 4)?.address, '198.51.100.11');
  assert.equal(primaryAddress(eth0, 6)?.address, '2001:db8:1::11');
  // A destination inside an address's subnet selects that address (link-local for fe80::/64).
  assert.match(primaryAddress(eth0, 6, { dst: 'fe80::1' })?.address ?? '', /^fe80:/);
  assert.equal(primaryAddress(eth0, 6, { dst: '2001:db8:9::1' })?.address, '2001:db8:1::11');
  assert.equal(primaryAddress(eth0, 6, { maxScope: 'global' })?.address, '2001:db8:1::11');
  assert.equal(primaryAddress(get('tun0'), 4)?.peer, '10.99.0.2');
  assert.equal(primaryAddress(get('cni0'), 4, { dst: '10.244.1.7' })?.address, '10.244.1.1');
});

test('generated topology: veth peers pair up across namespaces (netnsid map, and ifindex only)', () => {
  for (const withIds of [true, false]) {
    const { pairs, unresolved } = pairVeths(genNamespaces(undefined, withIds));
    const got = pairs.map((p) => [`${p.a.namespace}/${p.a.iface.name}`, `${p.b.namespace}/${p.b.iface.name}`].sort().join(' <-> ')).sort();
    assert.deepEqual(got, ['ext/eth0 <-> node/eth0', 'node/eth0 <-> pod1/eth0'.replace('node/eth0', 'node/vetha'),
      'node/vethb <-> pod2/eth0', 'node/vethc <-> node/vethc-p'].sort());
    assert.deepEqual(unresolved, []);
    const by = new Set(pairs.filter((p) => p.a.namespace !== p.b.namespace).map((p) => p.by));
    assert.deepEqual([...by], [withIds ? 'netnsid' : 'ifindex']);
  }
});

test('veth peer by ifindex: ambiguous when two namespaces point back, not found when none', () => {
  const ns = genNamespaces(undefined, false);
  const pod1 = ns[1];
  // A clone of pod1 (same ifindexes) makes node/vetha's peer ambiguous without netnsids.
  const clone: NamespaceView = { id: 'pod1-clone', interfaces: pod1.interfaces };
  const vetha = interfaceByName(ns[0].interfaces, 'vetha')!;
  const r = resolveVethPeer([...ns, clone], 'node', vetha);
  assert.equal(r.status, 'ambiguous');
  assert.match(r.status === 'ambiguous' ? r.reason : '', /pod1\/eth0, pod1-clone\/eth0/);
  const r2 = resolveVethPeer([ns[0]], 'node', vetha);
  assert.equal(r2.status, 'not-found');
  // With pod1's netnsid known to node, the clone does not matter.
  const withIds = genNamespaces();
  const r3 = resolveVethPeer([...withIds, clone], 'node', vetha);
  assert.ok(r3.status === 'found' && r3.namespace === 'pod1' && r3.by === 'netnsid');
});

test('dumps without -d: kinds unknown (loopback still known), addresses and links intact', () => {
  const dir = join(FIX, 'gen');
  const r = (p: string) => readFileSync(join(dir, p), 'utf8');
  const plain = parseInterfaces(r('node.link-nod.json'), r('node.addr-nod.json'));
  assert.equal(interfaceByName(plain, 'lo')!.kind, 'loopback');
  assert.equal(interfaceByName(plain, 'flannel.1')!.kind, 'unknown');
  assert.equal(interfaceByName(plain, 'vetha')!.linkNetnsId, 1);
  assert.equal(primaryAddress(interfaceByName(plain, 'eth0')!, 4)?.address, '198.51.100.11');
  // Plain link + detailed addr: details are taken from the address dump.
  const mixed = parseInterfaces(r('node.link-nod.json'), r('node.addr.json'));
  assert.equal(interfaceByName(mixed, 'flannel.1')!.vxlan?.vni, 1);
});

// ---- JSON error positions ---------------------------------------------------------------------

import fc from 'fast-check';
import { jsonErrorOffset } from '../../../src/engine/netstack/iproute-json';
import { textMutation } from './fixture-mutations';

test('JSON syntax error offset agrees with V8 wherever V8 reports one', () => {
  let compared = 0;
  fc.assert(
    fc.property(textMutation(read('gen/pod1.addr.json')), (text) => {
      try {
        JSON.parse(text);
      } catch (e) {
        const m = /at position (\d+)/.exec((e as Error).message);
        if (m) {
          compared++;
          assert.equal(jsonErrorOffset(text), Number(m[1]), (e as Error).message);
        } else if (/Unexpected end/.test((e as Error).message)) {
          compared++;
          assert.equal(jsonErrorOffset(text), text.length);
        }
      }
    }),
    { numRuns: 3000, seed: 7 },
  );
  console.log(`JSON error offsets: ${compared} compared with V8's, all equal`);
  assert.ok(compared > 1000);
});
