// Interfaces parsed from real `ip -j -d link` / `ip -j -d addr` output (committed fixtures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bridgePorts, downReason, interfaceByIndex, interfaceByName, isUp, parseInterfaces, primaryAddress,
} from '../../src/engine/netstack/interfaces';
import { ParseError } from '../../src/engine/netstack/parse-error';

const FIX = join(import.meta.dirname, '../fixtures/netstack/links');
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
