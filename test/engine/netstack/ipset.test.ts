// ipset parser and matching without root: real `ipset save` output (fixtures made by the kernel
// test), the types this kernel lacks (hash:mac, hash:ip,mac, hash:net,net, hash:net,port,net,
// hash:ip,mark — documented semantics), list:set, flag rules, errors, fuzzing and 100k-member speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseIpsetSave, matchSet, type SetQueryPacket } from '../../../src/engine/netstack/ipset';
import { ParseError } from '../../../src/engine/netstack/parse-error';
import { parseIP } from '../../../src/engine/netstack/ip';

const ip = (s: string) => parseIP(s)!;
const pkt = (p: Partial<Omit<SetQueryPacket, 'src' | 'dst'>> & { src?: string; dst?: string }): SetQueryPacket => ({
  proto: 'tcp', sport: 1000, dport: 80, ...p, src: ip(p.src ?? '192.0.2.1'), dst: ip(p.dst ?? '192.0.2.2'),
});
const kernelSave = readFileSync(join(__dirname, '../../fixtures/netstack/ipset/kernel-sets.save'), 'utf8');

test('real ipset save output of 20 sets parses completely', () => {
  const r = parseIpsetSave(kernelSave);
  assert.equal(r.sets.size, 20);
  const adds = kernelSave.split('\n').filter((l) => l.startsWith('add ')).length;
  assert.equal([...r.sets.values()].reduce((n, s) => n + s.entries.length, 0), adds);
});

test('options: counters, comment with blanks, skbinfo, timeout, nomatch, list:set, bitmap ranges', () => {
  const r = parseIpsetSave(`create h hash:ip family inet hashsize 1024 maxelem 65536 timeout 100 counters comment skbinfo bucketsize 12 initval 0x83c1e203
add h 1.1.1.1 timeout 99 packets 5 bytes 7 comment "he llo" skbmark 0x5/0xff skbprio 1:2 skbqueue 3
create n hash:net family inet hashsize 1024 maxelem 65536
add n 10.0.0.0/8
add n 10.1.0.0/16 nomatch
add n 10.1.2.0/24
create b bitmap:port range 0-1024
add b 80-82
create l list:set size 8
add l b
add l n before b`);
  const h = r.sets.get('h')!;
  assert.deepEqual([h.options.timeout, h.options.counters, h.options.comment, h.options.skbinfo, h.options.initval], [100, true, true, true, 0x83c1e203]);
  const e = h.entries[0];
  assert.deepEqual([e.comment, e.packets, e.bytes, e.skbmark, e.skbprio, e.skbqueue, e.timeout], ['he llo', 5n, 7n, { value: 5, mask: 0xff }, '1:2', 3, 99]);
  // Most specific prefix decides: nomatch /16 hides the /8, the /24 inside it matches again.
  assert.equal(matchSet(r, 'n', ['src'], pkt({ src: '10.2.0.1' })), true);
  assert.equal(matchSet(r, 'n', ['src'], pkt({ src: '10.1.9.9' })), false);
  assert.equal(matchSet(r, 'n', ['src'], pkt({ src: '10.1.2.3' })), true);
  assert.equal(r.sets.get('b')!.entries.length, 3);
  assert.equal(matchSet(r, 'b', ['dst'], pkt({ dport: 81 })), true);
  assert.equal(matchSet(r, 'b', ['dst'], pkt({ proto: 'sctp', dport: 81 })), false, 'bitmap:port: TCP/UDP only');
  // list:set: members in order (n first after `before`), same flags passed down.
  assert.deepEqual(r.sets.get('l')!.index!.members, ['n', 'b']);
  assert.equal(matchSet(r, 'l', ['src'], pkt({ src: '10.2.0.1', dport: 9 })), true);
  assert.equal(matchSet(r, 'l', ['dst'], pkt({ dport: 82 })), true);
  assert.equal(matchSet(r, 'l', ['dst'], pkt({ dport: 83 })), false);
  assert.equal(matchSet(r, 'missing', ['src'], pkt({})), undefined);
});

test('flags: fewer flags than dimensions never match, more are ignored; family must match', () => {
  const r = parseIpsetSave('create s hash:ip,port family inet\nadd s 10.0.0.1,udp:53\ncreate six hash:ip family inet6\nadd six fd00::1');
  const p = pkt({ dst: '10.0.0.1', proto: 'udp', dport: 53 });
  assert.equal(matchSet(r, 's', ['dst', 'dst'], p), true);
  assert.equal(matchSet(r, 's', ['dst'], p), false);
  assert.equal(matchSet(r, 's', ['dst', 'dst', 'src'], p), true);
  assert.equal(matchSet(r, 's', ['dst', 'src'], p), false);
  assert.equal(matchSet(r, 's', ['dst', 'dst'], { ...p, proto: 'tcp' }), false);
  assert.equal(matchSet(r, 'six', ['src'], pkt({ src: '10.0.0.1' })), false);
  assert.equal(matchSet(r, 'six', ['dst'], { ...pkt({}), src: ip('fd00::2'), dst: ip('fd00::1') }), true);
});

test('types this kernel lacks, by their documented semantics', () => {
  const r = parseIpsetSave(`create m hash:mac
add m 02:00:00:00:00:0A
create im hash:ip,mac family inet
add im 10.0.0.1,02:00:00:00:00:0a
create nn hash:net,net family inet
add nn 10.0.0.0/8,192.168.0.0/16
add nn 10.1.0.0/16,192.168.1.0/24 nomatch
create npn hash:net,port,net family inet
add npn 10.0.0.0/24,tcp:80-81,172.16.0.0/12
create mk hash:ip,mark family inet markmask 0xff
add mk 10.0.0.1,0x1234
create rg hash:ip family inet
add rg 10.0.0.0-10.0.0.5
add rg 10.0.1.0/30
create ic hash:ip,port family inet
add ic 10.0.0.1,icmp:ping
add ic 10.0.0.1,53`);
  assert.equal(matchSet(r, 'm', ['src'], pkt({ srcMac: '02:00:00:00:00:0a' })), true);
  assert.equal(matchSet(r, 'm', ['dst'], pkt({ srcMac: '02:00:00:00:00:0a', dstMac: '02:00:00:00:00:0b' })), false);
  assert.equal(matchSet(r, 'm', ['src'], { ...pkt({ srcMac: '02:00:00:00:00:0a' }), src: ip('fd00::1'), dst: ip('fd00::2') }), true, 'hash:mac has no family');
  assert.equal(matchSet(r, 'im', ['src', 'src'], pkt({ src: '10.0.0.1', srcMac: '02:00:00:00:00:0A' })), true);
  assert.equal(matchSet(r, 'nn', ['src', 'dst'], pkt({ src: '10.2.3.4', dst: '192.168.1.1' })), true);
  assert.equal(matchSet(r, 'nn', ['src', 'dst'], pkt({ src: '10.1.3.4', dst: '192.168.1.1' })), false, 'nomatch on the most specific pair');
  assert.equal(matchSet(r, 'nn', ['src', 'dst'], pkt({ src: '10.1.3.4', dst: '192.168.2.1' })), true);
  assert.equal(matchSet(r, 'npn', ['src', 'dst', 'dst'], pkt({ src: '10.0.0.9', dport: 81, dst: '172.20.0.1' })), true);
  assert.equal(matchSet(r, 'npn', ['src', 'dst', 'dst'], pkt({ src: '10.0.0.9', dport: 82, dst: '172.20.0.1' })), false);
  assert.equal(matchSet(r, 'mk', ['src', 'src'], pkt({ src: '10.0.0.1', mark: 0x5534 })), true, 'mark & markmask');
  assert.equal(matchSet(r, 'mk', ['src', 'src'], pkt({ src: '10.0.0.1', mark: 0x35 })), false);
  assert.equal(r.sets.get('rg')!.entries.length, 10);
  assert.equal(matchSet(r, 'rg', ['dst'], pkt({ dst: '10.0.1.3' })), true);
  assert.equal(matchSet(r, 'ic', ['dst', 'dst'], pkt({ dst: '10.0.0.1', proto: 'icmp', icmpType: 8, icmpCode: 0 })), true);
  assert.equal(matchSet(r, 'ic', ['dst', 'dst'], pkt({ dst: '10.0.0.1', proto: 'icmp', icmpType: 0 })), false);
  assert.equal(matchSet(r, 'ic', ['dst', 'dst'], pkt({ dst: '10.0.0.1', dport: 53 })), true, 'bare port = tcp');
});

test('bad input: ParseError naming line and column', () => {
  const cases: [string, number, number, RegExp][] = [
    ['create s hash:foo', 1, 10, /unknown set type "hash:foo"/],
    ['create s hash:ip\nadd s 10.0.0.300', 2, 7, /bad address/],
    ['add s 10.0.0.1', 1, 5, /not created before/],
    ['create s hash:ip\nadd s 1.1.1.1 comment "open', 2, 23, /unterminated/],
    ['create s hash:ip bogus', 1, 18, /unknown create option "bogus"/],
    ['create s hash:ip,port\nadd s 1.1.1.1,tcp:70000', 2, 7, /out of range/],
    ['create s hash:ip\nadd s 1.1.1.1 nomatch', 2, 15, /nomatch is only valid/],
    ['create s hash:ip\nadd s 10.0.0.0/4', 2, 7, /too large/],
    ['create s bitmap:ip', 1, 10, /needs a range/],
    ['flush', 1, 1, /unknown command/],
  ];
  for (const [text, line, column, re] of cases) {
    assert.throws(() => parseIpsetSave(text), (e: unknown) => e instanceof ParseError && e.line === line && e.column === column && re.test(e.reason), text);
  }
});

test('property: 10,000 mutated ipset save inputs parse or throw ParseError, nothing else', () => {
  const lines = kernelSave.split('\n').filter((_, i) => i % 15 === 0 || kernelSave.split('\n')[i].startsWith('create'));
  const pieces = ['create', 'add', ',', '/', '-', ':', '"', ' ', 'nomatch', 'timeout', 'comment', 'tcp:', 'icmp:', '0x', '::', '255', '99999', '\n', 'hash:net', 'range', 'wildcard', 'physdev:'];
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(lines.length - 1), fc.nat(120), fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 3 })), fc.boolean()), { maxLength: 5 }),
      (muts) => {
        const ls = [...lines];
        for (const [li, pos, piece, del] of muts) {
          const l = ls[li];
          const p = pos % (l.length + 1);
          ls[li] = del ? l.slice(0, p) + l.slice(p + 2) : l.slice(0, p) + piece + l.slice(p);
        }
        try {
          const r = parseIpsetSave(ls.join('\n'));
          for (const s of r.sets.values()) matchSet(r, s.name, ['src', 'dst', 'dst'], pkt({ src: '10.0.1.2', dst: '10.0.0.1' }));
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      },
    ),
    { numRuns: 10_000, seed: 7 },
  );
});

test('100k-member sets: parse and 100k lookups stay fast', (t) => {
  const lines = ['create big hash:net family inet hashsize 65536 maxelem 200000', 'create bp hash:ip,port family inet maxelem 200000'];
  for (let i = 0; i < 100_000; i++) {
    const a = `10.${(i >> 12) & 255}.${(i >> 4) & 255}.${(i & 15) << 4}`;
    lines.push(`add big ${a}/${28 + (i % 5)}`);
    lines.push(`add bp ${a},tcp:${1 + (i % 60000)}`);
  }
  const t0 = performance.now();
  const r = parseIpsetSave(lines.join('\n'));
  const t1 = performance.now();
  let hits = 0;
  for (let i = 0; i < 100_000; i++) {
    const a = `10.${(i >> 12) & 255}.${(i >> 4) & 255}.${((i & 15) << 4) + (i % 3)}`;
    if (matchSet(r, 'big', ['src'], pkt({ src: a }))) hits++;
    if (matchSet(r, 'bp', ['dst', 'dst'], pkt({ dst: a, dport: 1 + (i % 60000) }))) hits++;
  }
  const t2 = performance.now();
  t.diagnostic(`ipset 2×100k members: parse ${(t1 - t0).toFixed(0)} ms, 200k lookups ${(t2 - t1).toFixed(0)} ms, ${hits} hits`);
  assert.ok(hits > 100_000);
  assert.ok(t1 - t0 < 10_000 && t2 - t1 < 10_000);
});
