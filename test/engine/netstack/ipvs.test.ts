// IPVS parser and service lookup on hand-written `ipvsadm -Sn` fixtures (this kernel has no IPVS,
// see the fixture header) and on the real "module missing" output of ipvsadm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseIpvsadmSave, lookupIpvsService, type IpvsTable } from '../../../src/engine/netstack/ipvs';
import { ParseError } from '../../../src/engine/netstack/parse-error';
import { parseIP } from '../../../src/engine/netstack/ip';

const FIX = join(__dirname, '../../fixtures/netstack/ipvs');
const ip = (s: string) => parseIP(s)!;
const save = readFileSync(join(FIX, 'kube-proxy.save'), 'utf8');

test('parses services, reals, schedulers, persistence and forwarding methods', () => {
  const t = parseIpvsadmSave(save);
  assert.ok(t.available);
  assert.equal(t.services.length, 10);
  const api = t.services[0];
  assert.deepEqual([api.proto, api.port, api.scheduler, api.reals.length, api.reals[0].forwarding], ['tcp', 443, 'rr', 1, 'masq']);
  const sticky = t.services.find((s) => s.port === 80)!;
  assert.equal(sticky.persistent, 10800);
  assert.deepEqual([sticky.reals[0].upperThreshold, sticky.reals[0].lowerThreshold], [100, 10]);
  const dr = t.services.find((s) => s.scheduler === 'sh')!;
  assert.deepEqual([dr.persistentNetmask, dr.schedFlags, dr.reals.map((r) => r.forwarding)], ['255.255.255.0', ['sh-fallback', 'sh-port'], ['gate', 'ipip']]);
  const sctp = t.services.find((s) => s.proto === 'sctp')!;
  assert.equal(sctp.onePacket, true);
  const fw6 = t.services.find((s) => s.kind === 'fwmark' && s.family === 6)!;
  assert.equal(fw6.reals[0].ip.family, 6);
});

test('lookup: fwmark first, then proto/vip/port, then the port-0 catch-all; IPv6', () => {
  const t = parseIpvsadmSave(save);
  const find = (p: Parameters<typeof lookupIpvsService>[1]) => lookupIpvsService(t, p);
  assert.equal(find({ proto: 'udp', dst: ip('10.96.0.10'), dport: 53 })?.proto, 'udp');
  assert.equal(find({ proto: 'tcp', dst: ip('10.96.0.10'), dport: 53 })?.reals.length, 2);
  assert.equal(find({ proto: 'tcp', dst: ip('10.96.0.10'), dport: 54 }), undefined);
  assert.equal(find({ proto: 'tcp', dst: ip('10.96.0.10'), dport: 53, mark: 100 })?.kind, 'fwmark');
  assert.equal(find({ proto: 'tcp', dst: ip('fd00:10:96::9'), dport: 1, mark: 100 })?.family, 6);
  assert.equal(find({ proto: 'tcp', dst: ip('10.96.0.10'), dport: 53, mark: 7 })?.kind, 'address');
  assert.equal(find({ proto: 'tcp', dst: ip('192.168.50.10'), dport: 22 })?.scheduler, 'sh');
  assert.equal(find({ proto: 'udp', dst: ip('192.168.50.10'), dport: 22 }), undefined);
  assert.equal(find({ proto: 'tcp', dst: ip('fd00:10:96::1'), dport: 443 })?.pe, 'sip');
  assert.equal(find({ proto: 'sctp', dst: ip('10.96.33.3'), dport: 3868 })?.reals[0].port, 3868);
});

test('the real "IPVS module missing" output is a typed "not available", not a parse error', () => {
  const t = parseIpvsadmSave(readFileSync(join(FIX, 'not-available.txt'), 'utf8'));
  assert.equal(t.available, false);
  assert.match((t as Extract<IpvsTable, { available: false }>).reason, /Protocol not available/);
  assert.equal(lookupIpvsService(t, { proto: 'tcp', dst: ip('10.96.0.1'), dport: 443 }), undefined);
});

test('bad lines give ParseError with line and column', () => {
  const cases: [string, number, number, RegExp][] = [
    ['-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.1.1 -m', 2, 22, /has no ":port"/],
    ['-A -t fd00::1:80 -s rr', 1, 7, /brackets/],
    ['-a -t 10.0.0.1:80 -r 10.1.1.1:80 -m', 1, 1, /not defined before/],
    ['-A -t 10.0.0.1:80 -s rr --bogus', 1, 25, /unknown option "--bogus"/],
    ['-X', 1, 1, /unknown command/],
    ['-A -t 10.0.0.1:99999 -s rr', 1, 7, /bad service port/],
  ];
  for (const [text, line, column, re] of cases) {
    assert.throws(() => parseIpvsadmSave(text), (e: unknown) => e instanceof ParseError && e.line === line && e.column === column && re.test(e.reason), text);
  }
});

test('property: 10,000 mutated inputs parse or throw ParseError, nothing else', () => {
  const lines = save.split('\n');
  const pieces = ['-A', '-a', '-t', '-u', '-f', '-r', '-m', '-g', '-i', '-w', '-s', '-p', '-M', '-6', '[', ']', ':', '0', '65536', 'x', ' ', '\t', '\n', '::1', '--sctp-service', '-b'];
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(lines.length - 1), fc.nat(200), fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })), fc.boolean()), { maxLength: 6 }),
      (muts) => {
        const ls = [...lines];
        for (const [li, pos, piece, del] of muts) {
          const l = ls[li];
          const p = pos % (l.length + 1);
          ls[li] = del ? l.slice(0, p) + l.slice(p + 3) : l.slice(0, p) + piece + l.slice(p);
        }
        try {
          parseIpvsadmSave(ls.join('\n'));
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
        }
      },
    ),
    { numRuns: 10_000, seed: 42 },
  );
});
