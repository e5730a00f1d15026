// Sockets parsers and isListening without root: real ss output (recipes dump and the kernel
// test's fixtures), address forms, /proc/net decoding, errors and fuzzing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseSs, parseProcNet, isListening } from '../../../src/engine/netstack/sockets';
import { ParseError } from '../../../src/engine/netstack/parse-error';
import { parseIP, formatIP } from '../../../src/engine/netstack/ip';

const FIX = join(__dirname, '../../fixtures/netstack/sockets');
const ip = (s: string) => parseIP(s)!;
const ssText = readFileSync(join(FIX, 'ss-lntupH.txt'), 'utf8');

test('address forms: *, [::], v4-mapped, %device, old :::port, header line', () => {
  const s = parseSs(`Netid State  Recv-Q Send-Q      Local Address:Port Peer Address:PortProcess
tcp   LISTEN 0      511                     *:7002            *:*    users:(("node",pid=1,fd=20))
tcp   LISTEN 0      511                  [::]:7003         [::]:*
tcp   LISTEN 0      511    [::ffff:127.0.0.1]:7004            *:*
tcp   LISTEN 0      5              0.0.0.0%lo:7008      0.0.0.0:*
udp   UNCONN 0      0       127.0.0.53%lo:53 0.0.0.0:*
udp   UNCONN 0      0       [fe80::1]%eth0:546 [::]:*
tcp   LISTEN 0      128    :::22 :::*`);
  assert.equal(s.length, 7);
  assert.deepEqual([s[0].local.family, s[0].local.v6only, s[0].local.ip, s[0].process], [6, false, undefined, 'users:(("node",pid=1,fd=20))']);
  assert.equal(s[1].local.v6only, true);
  assert.equal(formatIP(s[2].local.ip!), '::ffff:127.0.0.1');
  assert.deepEqual([s[3].local.iface, s[3].local.ip], ['lo', undefined]);
  assert.deepEqual([s[4].local.iface, formatIP(s[4].local.ip!), s[4].local.port], ['lo', '127.0.0.53', 53]);
  assert.deepEqual([s[5].local.iface, formatIP(s[5].local.ip!)], ['eth0', 'fe80::1']);
  assert.deepEqual([s[6].local.family, s[6].local.v6only], [6, undefined]);
  // dual-stack * accepts IPv4; [::] does not; old ss (unknown) follows bindv6only.
  assert.equal(isListening(s, 'tcp', ip('10.0.0.1'), 7002), true);
  assert.equal(isListening(s, 'tcp', ip('10.0.0.1'), 7003), false);
  assert.equal(isListening(s, 'tcp', ip('fd00::1'), 7003), true);
  assert.equal(isListening(s, 'tcp', ip('127.0.0.1'), 7004), true);
  assert.equal(isListening(s, 'tcp', ip('127.0.0.2'), 7004), false);
  assert.equal(isListening(s, 'tcp', ip('10.0.0.1'), 7008, { iif: 'eth0' }), false);
  assert.equal(isListening(s, 'tcp', ip('10.0.0.1'), 7008, { iif: 'lo' }), true);
  assert.equal(isListening(s, 'udp', ip('127.0.0.53'), 53, { iif: 'lo' }), true);
  assert.equal(isListening(s, 'tcp', ip('10.0.0.1'), 22), true);
  assert.equal(isListening(s, 'tcp', ip('10.0.0.1'), 22, { bindv6only: 1 }), false);
  assert.equal(isListening(s, 'udp', ip('10.0.0.1'), 7002), false, 'proto must match');
});

test('real dumps: recipes pod2 ss and the kernel-test ss/proc fixtures', () => {
  const pod = parseSs(readFileSync('test/fixtures/netstack/two-node-dump/pod2.ss.txt', 'utf8'));
  assert.equal(pod.length, 1);
  assert.equal(isListening(pod, 'tcp', ip('10.244.1.2'), 8080), true);
  const ss = parseSs(ssText);
  const proc = ['tcp', 'tcp6', 'udp', 'udp6'].flatMap((f) => parseProcNet(readFileSync(join(FIX, `proc-net-${f}.txt`), 'utf8'), f.startsWith('tcp') ? 'tcp' : 'udp'));
  assert.equal(proc.length, ss.length);
  const key = (x: (typeof ss)[0]) => `${x.proto} ${x.state} ${x.local.ip ? formatIP(x.local.ip) : '*' + x.local.family} ${x.local.port}`;
  // /proc cannot tell `*` (dual) from `[::]` (v6only): compare address, port and state only.
  assert.deepEqual(proc.map(key).sort(), ss.map(key).sort());
});

test('/proc/net: host byte order, LISTEN 0A and UDP 07', () => {
  const s = parseProcNet(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0200000A:0016 0300000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0`, 'tcp');
  assert.deepEqual(s.map((x) => [x.state, x.local.ip && formatIP(x.local.ip), x.local.port]), [['LISTEN', '127.0.0.1', 8080], ['ESTAB', '10.0.0.2', 22]]);
  assert.equal(isListening(s, 'tcp', ip('127.0.0.1'), 8080), true);
  assert.equal(isListening(s, 'tcp', ip('10.0.0.2'), 22), false, 'an established socket is not a listener');
  const u = parseProcNet(` 2367: 00000000:1B5D 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 206548 2 000000009f7b1be7 0`, 'udp');
  assert.equal(isListening(u, 'udp', ip('10.1.1.1'), 0x1b5d), true);
});

test('bad input: ParseError with line and column', () => {
  const cases: [() => unknown, number, number, RegExp][] = [
    [() => parseSs('tcp LISTEN 0 511 0.0.0.0:99999 0.0.0.0:*'), 1, 18, /bad port/],
    [() => parseSs('raw UNCONN 0 0 *:1 *:*'), 1, 1, /unsupported Netid/],
    [() => parseSs('tcp LISTEN 0 511 0.0.0.0:80'), 1, 1, /6 columns/],
    [() => parseSs('tcp LISTEN x 511 0.0.0.0:80 *:*'), 1, 12, /queue/],
    [() => parseProcNet('   0: 0100007G:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1', 'tcp'), 1, 7, /bad address/],
    [() => parseProcNet('   0: 0100007F:1F90 00000000:0000 0F 00000000:00000000 00:00000000 00000000 0 0 1', 'tcp'), 1, 35, /unknown state/],
  ];
  for (const [f, line, column, re] of cases) {
    assert.throws(f, (e: unknown) => e instanceof ParseError && e.line === line && e.column === column && re.test(e.reason));
  }
});

const mutate = (text: string, pieces: string[]) =>
  fc.array(fc.tuple(fc.nat(text.length), fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 3 })), fc.boolean()), { maxLength: 6 }).map((muts) => {
    let s = text;
    for (const [pos, piece, del] of muts) {
      const p = pos % (s.length + 1);
      s = del ? s.slice(0, p) + s.slice(p + 2) : s.slice(0, p) + piece + s.slice(p);
    }
    return s;
  });

const onlyParseError = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
  }
};

test('property: 10,000 mutated ss inputs parse or throw ParseError', () => {
  fc.assert(
    fc.property(mutate(ssText, ['[', ']', ':', '%', '*', ' ', '\n', 'ffff', '::', '0', '65536', 'LISTEN', 'udp']), (s) =>
      onlyParseError(() => {
        const socks = parseSs(s);
        isListening(socks, 'tcp', ip('10.77.0.1'), 7101, { iif: 'lo' });
      }),
    ),
    { numRuns: 10_000, seed: 3 },
  );
});

test('property: 10,000 mutated /proc/net inputs parse or throw ParseError', () => {
  const proc = readFileSync(join(FIX, 'proc-net-tcp6.txt'), 'utf8');
  fc.assert(
    fc.property(mutate(proc, [':', ' ', '\n', 'F', '0A', '07', 'Z', 'sl ']), (s) => onlyParseError(() => parseProcNet(s, 'tcp'))),
    { numRuns: 10_000, seed: 5 },
  );
});
