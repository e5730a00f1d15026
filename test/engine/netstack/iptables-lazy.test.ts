// Lazy per-chain parsing of iptables-save (what the diagnosis uses): the same model as the eager
// parse once read, structural errors still thrown up front with the eager parse's line/column, a
// bad rule line found when its chain is first read, and the netfilter compiler keeping going past
// such a line (it becomes a rule that never matches, reported as not understood).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { chainRulesTolerant, isUnparsedRule, parseIptablesSave, parseIptablesSaveLazy } from '../../../src/engine/netstack/iptables/parse';
import { printIptablesSave } from '../../../src/engine/netstack/iptables/print';
import { compiledChain } from '../../../src/engine/netstack/netfilter/compile';
import type { Ruleset } from '../../../src/engine/netstack/iptables/model';
import { ParseError } from '../../../src/engine/netstack/parse-error';

const DIR = join(import.meta.dirname, '../../fixtures/netstack/iptables');
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');
const plain = (rs: Ruleset) => JSON.parse(JSON.stringify({ ...rs, tables: rs.tables.map((t) => ({ name: t.name, chains: t.chains })) }));

function thrown(f: () => unknown): ParseError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ParseError, String(e));
    return e;
  }
  assert.fail('no ParseError');
}

test('lazy parse reads every fixture into the same model as the eager parse', () => {
  assert.ok(fixtures.length >= 12);
  let rules = 0;
  for (const f of fixtures) {
    const eager = parseIptablesSave(read(f));
    const lazy = parseIptablesSaveLazy(read(f));
    assert.deepEqual(plain(lazy), plain(eager), f);
    assert.equal(printIptablesSave(lazy), printIptablesSave(eager), f);
    assert.equal(lazy.hasCounters, eager.hasCounters, `${f}: hasCounters`);
    rules += eager.tables.reduce((n, t) => n + t.chains.reduce((m, c) => m + c.rules.length, 0), 0);
  }
  console.log(`lazy = eager on ${fixtures.length} fixtures (${rules} rules)`);
});

test('lazy parse: -I, -c and counters give what the eager parse gives', () => {
  const text = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.1 -j ACCEPT\n-I INPUT -p udp -j DROP\n-A INPUT -c 5 100 -j DROP\nCOMMIT\n';
  const lazy = parseIptablesSaveLazy(text);
  assert.equal(lazy.hasCounters, true, '-c counters are seen by the structure pass');
  assert.deepEqual(plain(lazy), plain(parseIptablesSave(text)));
  assert.deepEqual(lazy.tables[0].chains[0].rules.map((r) => [r.num, r.line]), [[1, 4], [2, 3], [3, 5]]);
});

test('structural errors are thrown by the lazy parse with the eager parse line and column', () => {
  const cases = [
    '*filter\n:INPUT ACCEPT [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n',
    '*filter\n:INPUT ACCEPT [0:0]\n-X INPUT -j ACCEPT\nCOMMIT\n',
    '*filter\n:INPUT ACCEPT [0:0]\n-A\nCOMMIT\n',
    '*filter\n:INPUT ACCEPT [0:0]\n[1:x] -A INPUT -j ACCEPT\nCOMMIT\n',
    '*filter\n:INPUT ACCEPT [0:0]\n-A "IN PUT" -j ACCEPT\nCOMMIT\n',
    '*filter\n*nat\n',
    '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\n',
    'COMMIT\n',
    '-A INPUT -j ACCEPT\n',
    '*filter\nhello\nCOMMIT\n',
  ];
  for (const text of cases) {
    const e = thrown(() => parseIptablesSave(text));
    const l = thrown(() => parseIptablesSaveLazy(text));
    assert.deepEqual([l.reason, l.line, l.column], [e.reason, e.line, e.column], text);
  }
});

test('a bad rule line: eager rejects it, lazy finds it when its chain is read, the compiler keeps going', () => {
  const text = [
    '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':KUBE-X - [0:0]',
    '-A INPUT -j KUBE-X',
    '-A KUBE-X -s 10.0.0.1/32 -j ACCEPT',
    '-A KUBE-X --dport 80 -j DROP',
    '-A KUBE-X -d 10.0.0.2/32 -j DROP',
    '-A FORWARD -j ACCEPT', 'COMMIT', '',
  ].join('\n');
  const e = thrown(() => parseIptablesSave(text));
  assert.deepEqual([e.line, e.column], [7, 11]);
  const rs = parseIptablesSaveLazy(text);
  const filter = rs.tables[0];
  assert.equal(filter.chainsByName.get('FORWARD')!.rules.length, 1, 'other chains read fine');
  const x = filter.chainsByName.get('KUBE-X')!;
  const l = thrown(() => x.rules);
  assert.deepEqual([l.reason, l.line, l.column], [e.reason, e.line, e.column]);
  thrown(() => x.rules); // and again: never a half-parsed chain
  const tolerant = chainRulesTolerant(x);
  assert.deepEqual(tolerant.map((r) => [r.num, r.line, isUnparsedRule(r)]), [[1, 6, false], [2, 7, true], [3, 8, false]]);
  const cc = compiledChain(rs, 'filter', 'KUBE-X')!;
  assert.equal(cc.rules.length, 3);
  assert.equal(cc.rules[1].text, '-A KUBE-X --dport 80 -j DROP');
  assert.match((cc.rules[1].matches[0] as { unknown: string }).unknown, /line 7 does not parse: .*does not belong to any match/);
  assert.equal(cc.rules[2].text, '-A KUBE-X -d 10.0.0.2/32 -j DROP');
  assert.equal(filter.chainsByName.get('INPUT')!.rules[0].target!.kind, 'chain', 'targets classified when read');
});

test('a big unparsed chain is indexed from its words: never misses a rule the parsed index would visit', () => {
  const lines = [':KUBE-SERVICES - [0:0]', ':KUBE-SVC-A - [0:0]'];
  const rules: string[] = [];
  for (let k = 0; k < 80; k++) rules.push(`-A KUBE-SERVICES -d 10.96.0.${k}/32 -p tcp -m comment --comment "ns/svc${k}:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-A`);
  // Forms that must not be indexed by their -d (or must be indexed exactly as the parser reads them).
  rules.push(
    '-A KUBE-SERVICES ! -d 10.96.0.1/32 -j KUBE-SVC-A',
    '-A KUBE-SERVICES -d ! 10.96.0.2/32 -j KUBE-SVC-A',
    '-A KUBE-SERVICES -d 10.96.0.0/24 -j KUBE-SVC-A',
    '-A KUBE-SERVICES -m comment --comment -d -d 10.96.0.3/32 -j KUBE-SVC-A',
    '-A KUBE-SERVICES -m comment --comment "-d 10.96.0.4/32" -j KUBE-SVC-A',
    '-A KUBE-SERVICES -d 10.96.0.5 -j KUBE-SVC-A',
    '-A KUBE-SERVICES -d 10.96.0.6/32 -d 10.96.0.7/32 -j KUBE-SVC-A',
    '-A KUBE-SERVICES --dst 10.96.0.8/255.255.255.255 -j KUBE-SVC-A',
    '-A KUBE-SERVICES -d 10.96.0.9/32 --dport 1 -j KUBE-SVC-A',
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-SVC-A',
  );
  const text = ['*nat', ...lines, ...rules, '-A KUBE-SVC-A -j ACCEPT', 'COMMIT', ''].join('\n');
  const eager = compiledChain(parseIptablesSave(text.replace('-d 10.96.0.9/32 --dport 1 ', '-d 10.96.0.9/32 ')), 'nat', 'KUBE-SERVICES')!;
  const lazyRs = parseIptablesSaveLazy(text);
  const lazy = compiledChain(lazyRs, 'nat', 'KUBE-SERVICES')!;
  assert.ok(lazy.index && eager.index);
  assert.equal(thrown(() => lazyRs.tables[0].chainsByName.get('KUBE-SERVICES')!.rules).line, 92, 'the model chain still reads strictly');
  let compared = 0;
  for (let k = 0; k < 256; k++) {
    const dst = (10n << 24n) | (96n << 16n) | BigInt(k);
    const l = new Set(lazy.index.candidates(dst));
    for (const i of eager.index.candidates(dst)) assert.ok(l.has(i), `10.96.0.${k}: rule ${i + 1} (${eager.rules[i].text}) visited when parsed, skipped when lazy`);
    compared++;
  }
  // The one bad line (--dport without -p/-m) is found when visited, as a rule that never matches.
  const bad = lazy.rules[rules.length - 2];
  assert.match((bad.matches[0] as { unknown: string }).unknown, /does not parse/);
  assert.equal(lazy.rules[0].text, eager.rules[0].text);
  // kube-proxy's lines, `-d 10.96.0.5`, the `--dst` with a full netmask, and the bad line under its -d (it never matches anyway).
  assert.equal(lazy.index.indexedRules, 80 + 3);
  console.log(`raw destination index: ${compared} destinations, never fewer candidates than the parsed index; ${lazy.index.indexedRules}/${lazy.rules.length} rules indexed`);
});
