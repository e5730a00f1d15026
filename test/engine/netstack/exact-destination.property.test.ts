// The KUBE-SERVICES index reads most lines without splitting them into words
// (plainExactDestination); whenever it answers, the answer must be the word reader's. Random
// lines built from the pieces that make the readings differ: quotes, negation, string options,
// second destination options, blanks of every kind, prefixes of both families and lengths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { plainExactDestination, wordsExactDestination } from '../../../src/engine/netstack/netfilter/compile';
import { WordBuffer } from '../../../src/engine/netstack/tokens';

const plainWords = fc.constantFrom('-A', 'KUBE-SERVICES', '-p', 'tcp', '-m', 'comment', '--comment', '"kube-system/kube-dns:dns cluster IP"', '-j', 'KUBE-SVC-ABC', '--dport', '53', '-s', '10.0.0.0/8', '""');
const hostileWords = fc.constantFrom(
  '-d', '--destination', '--dst', '--dst-type', '!', '"a -d 10.0.0.1/32"', '"unterminated', "'single'", "'open", '10.96.0.10/32', 'fd00::10/128', 'a\\"b', 'tcp\tudp', '\r',
  '-d10.0.0.1', '"-x"', '--string', 'x"y"', 'KUBE-MARK-MASQ', '10.96.0.10/32,10.96.0.11/32',
);
const words = fc.oneof({ arbitrary: plainWords, weight: 8 }, { arbitrary: hostileWords, weight: 1 });
const seps = fc.oneof({ arbitrary: fc.constant(' '), weight: 8 }, { arbitrary: fc.constantFrom('  ', '\t', ' \t', '\r '), weight: 1 });
const values = fc.constantFrom('10.96.0.10/32', '10.96.0.10', '10.96.0.0/12', 'fd00::10/128', 'fd00::10', '10.96.0.10/32,10.96.0.11/32', '!', '"10.96.0.10/32"', '', '10.96.0.10/32\t', '999.1.1.1/32');

test('plainExactDestination answers only as the word reader does', () => {
  const buf = new WordBuffer();
  let answered = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(words, seps), { maxLength: 5 }), values, fc.array(fc.tuple(words, seps), { maxLength: 8 }), fc.constantFrom<4 | 6>(4, 6), (before, value, after, family) => {
      // Mostly the shape the quick reading takes (`… -d VALUE …`), with anything around it.
      const join = (xs: [string, string][]) => xs.map(([w, s]) => w + s).join('');
      const line = `-A KUBE-SERVICES ${join(before)}-d ${value} ${join(after)}`.trimEnd();
      const quick = plainExactDestination(line, family);
      if (quick === null) return;
      answered++;
      assert.equal(quick, wordsExactDestination(line, 'test', 1, family, buf), JSON.stringify(line));
    }),
    { numRuns: 20000, seed: 42 },
  );
  assert.ok(answered > 1000, `the quick reading answered ${answered} lines`);
});

test('kube-proxy lines are read quickly, with the word reader\'s answer', () => {
  const buf = new WordBuffer();
  const lines = [
    '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
    '-A KUBE-SERVICES -d fd00:10:96::a/128 -p tcp -m comment --comment "default/web cluster IP" -m tcp --dport 80 -j KUBE-SVC-X',
    '-A KUBE-SERVICES ! -d 10.96.0.10/32 -p tcp -j KUBE-MARK-MASQ',
    '-A KUBE-SERVICES -d 10.96.0.0/12 -j RETURN',
  ];
  const want = [174063626n /* 10.96.0.10 */, undefined, undefined, undefined];
  lines.forEach((l, i) => {
    const family = l.includes('fd00') ? 6 : 4;
    const quick = plainExactDestination(l, family);
    assert.notEqual(quick, null, l);
    assert.equal(quick, wordsExactDestination(l, 'test', 1, family, buf), l);
    if (i !== 1) assert.equal(quick, want[i], l);
  });
  assert.equal(plainExactDestination('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS', 4), null);
});
