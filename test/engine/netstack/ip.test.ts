import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalIP, contains, formatIP, formatPrefix, parseIP, parsePrefix, sameIP } from '../../../src/engine/netstack/ip';

test('IPv4 and IPv6 literals parse and print back the way iproute2 prints them', () => {
  for (const s of ['10.244.1.2', '0.0.0.0', '255.255.255.255', '::', '::1', 'fe80::1', '2001:db8::8:800:200c:417a', '::ffff:1.2.3.4']) {
    const ip = parseIP(s);
    assert.ok(ip, s);
    assert.equal(formatIP(ip), s);
  }
  assert.equal(formatIP(parseIP('2001:0db8:0000:0000:0000:0000:0000:0001')!), '2001:db8::1');
});

test('non-addresses are undefined, never an exception', () => {
  for (const s of ['', 'default', '10', '0x0a.1', '1.2.3', '1.2.3.4.5', '256.1.1.1', 'fe80::1::2', 'eth0', '10.0.0.1/24']) {
    assert.equal(parseIP(s), undefined, s);
  }
  fc.assert(fc.property(fc.string(), (s) => { parseIP(s); parsePrefix(s); }), { numRuns: 2000 });
});

test('prefixes clear host bits and test containment per family', () => {
  const p = parsePrefix('10.244.1.7/24')!;
  assert.equal(formatPrefix(p), '10.244.1.0/24');
  assert.ok(contains(p, parseIP('10.244.1.200')!));
  assert.ok(!contains(p, parseIP('10.244.2.1')!));
  assert.ok(!contains(parsePrefix('::/0', 6)!, parseIP('10.0.0.1')!), 'an IPv6 prefix never contains an IPv4 address');
  assert.equal(formatPrefix(parsePrefix('default')!), '0.0.0.0/0');
  assert.equal(formatPrefix(parsePrefix('default', 6)!), '::/0');
  assert.equal(formatPrefix(parsePrefix('10.1.2.3')!), '10.1.2.3/32');
  assert.equal(formatPrefix(parsePrefix('10.0.0.0/255.255.0.0')!), '10.0.0.0/16', 'dotted netmask as iptables prints it');
  assert.equal(parsePrefix('10.0.0.0/255.0.255.0'), undefined, 'non-contiguous masks are not prefixes');
  assert.equal(parsePrefix('10.0.0.0/33'), undefined);
  assert.equal(formatPrefix(parsePrefix('2001:db8::1/64')!), '2001:db8::/64');
});

test('parseIP/formatIP dotted-quad fast path agrees with ipaddr.js on 20,000 generated strings', async (t) => {
  const { default: ipaddr } = await import('ipaddr.js');
  const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '010', '0x1', '', '256', '1000', ' 1'));
  let checked = 0;
  fc.assert(fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
    const s = parts.join('.');
    const r = s.trim(); // parseIP trims
    const ref = ipaddr.isValid(r) && ipaddr.IPv4.isValidFourPartDecimal(r) ? ipaddr.parse(r).toByteArray() : undefined;
    const got = parseIP(s);
    checked++;
    if (!ref) return got === undefined;
    return got !== undefined && got.family === 4 && formatIP(got) === ref.join('.') && got.value === BigInt(ref.reduce((v, b) => v * 256 + b, 0));
  }), { numRuns: 20000, seed: 42 });
  t.diagnostic(`${checked} strings: fast path and ipaddr.js agree`);
});

test('sameIP compares addresses, whatever their spelling; canonicalIP spells them as iproute2 does', () => {
  assert.ok(sameIP('fd00::0:1', 'FD00::1'));
  assert.ok(sameIP(parseIP('10.0.0.1')!, ' 10.0.0.1'));
  assert.ok(sameIP(parseIP('fd00::1')!, parseIP('fd00:0::1')!));
  assert.ok(!sameIP('10.0.0.1', '10.0.0.2'));
  // The families must agree: a v4-mapped IPv6 address is another address.
  assert.ok(!sameIP('::ffff:10.0.0.1', '10.0.0.1'));
  // Text that is not an address equals nothing, not even itself.
  assert.ok(!sameIP('', ''));
  assert.ok(!sameIP('eth0', 'eth0'));
  assert.equal(canonicalIP('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIP('FD00:0:0::1'), 'fd00::1');
  assert.equal(canonicalIP('::ffff:a00:1'), '::ffff:10.0.0.1');
  assert.equal(canonicalIP(' 10.0.0.1 '), '10.0.0.1');
  for (const bad of ['010.0.0.1', '256.0.0.1', '10.0.0', 'x', '']) assert.equal(canonicalIP(bad), undefined, bad);
  // The dotted-quad fast path answers as the slow path would.
  fc.assert(
    fc.property(fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.boolean()), ([a, b, c, d, zero]) => {
      const text = `${zero ? '0' : ''}${a}.${b}.${c}.${d}`;
      const ip = parseIP(text);
      assert.equal(canonicalIP(text), ip ? formatIP(ip) : undefined);
    }),
    { numRuns: 2000, seed: 5 },
  );
});
