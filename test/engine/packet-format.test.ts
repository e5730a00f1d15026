// The one packet formatter: the text report's form (a contract of the README demo), the label
// form of the graph, tree and details panel, and the ends of a packet on their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddressPort, formatPacket, packet } from '../../src/engine/model/packet';

test('text form: protocol, both ends with ports (an unchosen one as 0), reply flag, mark, tunnel VNI and inner packet', () => {
  const p = packet({ src: '10.244.1.2', dst: '10.96.0.20', dport: 80 });
  assert.equal(formatPacket(p), 'tcp 10.244.1.2:0 -> 10.96.0.20:80');
  assert.equal(formatPacket({ ...p, reply: true, mark: 0x4000 }), 'reply tcp 10.244.1.2:0 -> 10.96.0.20:80 mark 0x4000');
  const outer = packet({ src: '192.168.0.1', dst: '192.168.0.2', dport: 8472, protocol: 'udp', vni: 1, encap: p });
  assert.equal(formatPacket(outer), 'udp 192.168.0.1:0 -> 192.168.0.2:8472 vni 1 [tcp 10.244.1.2:0 -> 10.96.0.20:80]');
  assert.equal(formatPacket(packet({ dst: 'fd00::1', dport: 443, src: '' })), 'tcp ?:0 -> [fd00::1]:443');
});

test('label form: arrow, unchosen ports left out; headOnly drops everything but the ends', () => {
  const p = packet({ src: '10.244.1.2', dst: '10.244.2.2', dport: 8080, mark: 1, reply: true });
  assert.equal(formatPacket(p, { arrow: '→', chosenPortsOnly: true, headOnly: true }), 'tcp 10.244.1.2 → 10.244.2.2:8080');
  assert.equal(formatPacket(p, { arrow: '→', chosenPortsOnly: true }), 'reply tcp 10.244.1.2 → 10.244.2.2:8080 mark 0x1');
  assert.equal(formatAddressPort('fd00::1', 0, true), '[fd00::1]');
  assert.equal(formatAddressPort('fd00::1', 0), '[fd00::1]:0');
  assert.equal(formatAddressPort('10.0.0.1', 53, true), '10.0.0.1:53');
});
