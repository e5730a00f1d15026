// The one tokenizer of tool output: each dialect's quoting, the columns, spans, and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../../src/engine/netstack/parse-error';
import { firstNonBlank, words, type Dialect } from '../../../src/engine/netstack/tokens';

const texts = (line: string, d: Dialect) => words(line, d, 'test', 1).map((t) => t.text);

test('iptables: double quotes with backslash escapes, literal single quotes, parts join into one word', () => {
  const line = '-A X -m comment --comment "a \\"b\\" \\\\c" -j \'it s\'x "" y';
  const toks = words(line, 'iptables', 'test', 1);
  assert.deepEqual(toks.map((t) => t.text), ['-A', 'X', '-m', 'comment', '--comment', 'a "b" \\c', '-j', 'it sx', '', 'y']);
  assert.deepEqual(toks.map((t) => t.quoted), [false, false, false, false, false, true, false, true, true, false]);
  assert.deepEqual(toks.map((t) => t.column), [1, 4, 6, 9, 17, 27, 41, 44, 52, 55]);
  // A single-quoted part knows no escapes; the blanks are space, tab and CR only.
  assert.deepEqual(texts("'a\\' b", 'iptables'), ['a\\', 'b']);
  assert.deepEqual(texts('a\tb\rc\u00a0d\fe', 'iptables'), ['a', 'b', 'c\u00a0d\fe']);
});

test('ipset: a word that starts with " runs to the next " (no escapes); a quote inside a word is a character', () => {
  const toks = words('add s 10.0.0.1 comment "two words" a"b "x"y', 'ipset', 'test', 1);
  assert.deepEqual(toks.map((t) => [t.text, t.quoted, t.column]), [
    ['add', false, 1], ['s', false, 5], ['10.0.0.1', false, 7], ['comment', false, 16], ['two words', true, 24], ['a"b', false, 36], ['x', true, 40], ['y', false, 43],
  ]);
  assert.deepEqual(texts('comment "a\\"', 'ipset'), ['comment', 'a\\']);
});

test('columns: any white space separates, quotes are characters (ss prints them in its process column)', () => {
  assert.deepEqual(texts(' tcp  LISTEN 0\t4096 *:80 *:* users:(("nginx",pid=1,fd=6))', 'columns'), ['tcp', 'LISTEN', '0', '4096', '*:80', '*:*', 'users:(("nginx",pid=1,fd=6))']);
  // Exactly the words of /\S+/g, at the same columns, whatever the characters.
  const chars = fc.constantFrom(' ', '\t', '\r', '\v', '\f', '\u00a0', '\u2028', '\u3000', '\ufeff', '\u180e', '\u0085', 'a', '"', "'", '\\', ':');
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 30 }).map((a) => a.join('')), (line) => {
      const want = [...line.matchAll(/\S+/g)].map((m) => ({ text: m[0], quoted: false, column: m.index! + 1 }));
      assert.deepEqual(words(line, 'columns', 'test', 1), want);
    }),
    { numRuns: 2000, seed: 12 },
  );
  for (let c = 0; c < 0x10000; c++) {
    const s = String.fromCharCode(c);
    assert.equal(words(`a${s}b`, 'columns', 'test', 1).length === 2, /\s/.test(s), `U+${c.toString(16)}`);
  }
});

test('span: reading starts at `from` (columns stay those of the line) and stops after `max` words', () => {
  const line = ':KUBE-X - [0:0] "unterminated';
  assert.deepEqual(words(line, 'iptables', 'test', 1, { max: 3 }).map((t) => [t.text, t.column]), [[':KUBE-X', 1], ['-', 9], ['[0:0]', 11]]);
  assert.deepEqual(words(line, 'iptables', 'test', 1, { from: 1, max: 1 }).map((t) => [t.text, t.column]), [['KUBE-X', 2]]);
  assert.deepEqual(words('a b c', 'columns', 'test', 1, { max: 0 }), []);
  assert.equal(firstNonBlank(' \t\rx'), 3);
  assert.equal(firstNonBlank(' \t\r'), -1);
});

test('an unterminated quote is a ParseError at the opening quote', () => {
  const cases: [string, Dialect, number, RegExp][] = [
    ['-A X --comment "open', 'iptables', 16, /unbalanced double quote/],
    ["-A X -j 'open", 'iptables', 9, /unbalanced single quote/],
    ['add s 1.1.1.1 comment "open', 'ipset', 23, /unterminated/],
  ];
  for (const [line, d, column, message] of cases) {
    assert.throws(() => words(line, d, 'src', 7), (e: unknown) => e instanceof ParseError && e.line === 7 && e.column === column && message.test(e.message) && e.message.includes('src'));
  }
});
