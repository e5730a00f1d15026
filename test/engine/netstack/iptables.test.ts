// iptables-save parser and printer: real dumps (nft and legacy, v4 and v6, counters, the
// legacy-tables warning, kube-proxy's and the two-node lab's), syntax errors with positions,
// property tests (mutated inputs → Ruleset or ParseError only; print → parse round trip), and the
// parse time of a generated 100k-rule kube-proxy-like dump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseIptablesSave } from '../../../src/engine/netstack/iptables/parse';
import { printIptablesSave, formatRule, quoteValue } from '../../../src/engine/netstack/iptables/print';
import type { Ruleset, Table, Chain, Rule, Match, RuleOption } from '../../../src/engine/netstack/iptables/model';
import { ParseError } from '../../../src/engine/netstack/parse-error';

const DIR = join(import.meta.dirname, '../../fixtures/netstack/iptables');
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');
const strip = (s: string) => s.split('\n').filter((l) => !l.startsWith('#') && l.trim() !== '').join('\n');

/** Model without parse positions, for equality across a print/parse round trip. */
function plain(rs: Ruleset): unknown {
  const tables = rs.tables.map((t) => ({
    name: t.name,
    chains: t.chains.map((c) => ({ ...c, rules: c.rules.map((r) => ({ ...r, line: 0 })) })),
  }));
  return JSON.parse(JSON.stringify(tables));
}

test('every fixture parses and prints back to itself (modulo # lines)', () => {
  assert.ok(fixtures.length >= 12);
  for (const f of fixtures) {
    const text = read(f);
    const rs = parseIptablesSave(text);
    const out = printIptablesSave(rs, { counters: /^\[\d+:\d+\] -A/m.test(text) });
    assert.equal(strip(out), strip(text), f);
    assert.deepEqual(plain(parseIptablesSave(out)), plain(rs), `${f}: parse(print(parse(x))) = parse(x)`);
    if (f.includes('ip6tables')) assert.equal(rs.family, 6, f);
    if (f.includes('-nft') || f.includes('kube-proxy')) assert.equal(rs.backend, 'nft', f);
    if (f.startsWith('rich-legacy')) assert.equal(rs.backend, 'legacy', f);
  }
});

test('rich dump: tables, policies, negations, modules, targets, quoting', () => {
  const rs = parseIptablesSave(read('rich-nft.iptables-save.txt'));
  assert.deepEqual(rs.tables.map((t) => t.name).sort(), ['filter', 'mangle', 'nat', 'raw', 'security']);
  const filter = rs.tables.find((t) => t.name === 'filter')!;
  assert.equal(filter.chainsByName.get('INPUT')!.policy, 'DROP');
  assert.equal(filter.chainsByName.get('LOGDROP')!.policy, undefined);
  const nat = rs.tables.find((t) => t.name === 'nat')!;
  const svc = nat.chainsByName.get('KUBE-SERVICES')!.rules;
  const comment = (r: Rule) => r.matches.find((m) => m.module === 'comment')?.options[0].values[0];
  assert.equal(comment(svc[3]), `quote "inside" and backslash and 'single'`);
  assert.equal(comment(svc[4]), '');
  assert.equal(comment(svc[5]), 'plain_word-1');
  const negSet = svc[2].matches.find((m) => m.module === 'set')!;
  assert.deepEqual(negSet.options[0], { name: '--match-set', values: ['KUBE-LOOP-BACK', 'dst,dst,src'], negated: true });
  const masq = nat.chainsByName.get('KUBE-SVC-ABC')!.rules[0];
  assert.deepEqual(masq.matches[0].options[0], { name: '-s', values: ['10.244.0.0/16'], negated: true });
  assert.equal(masq.target!.kind, 'chain');
  const fwd = filter.chainsByName.get('FORWARD')!.rules;
  const gotoRule = fwd.find((r) => r.target?.goto)!;
  assert.equal(gotoRule.target!.name, 'LOGDROP');
  assert.deepEqual(gotoRule.matches[0].options.map((o) => [o.name, o.negated]), [['-i', false], ['-o', true]]);
  const input = filter.chainsByName.get('INPUT')!.rules;
  const u32 = input.find((r) => r.matches.some((m) => m.module === 'u32'))!;
  assert.equal(u32.matches[0].known, false, 'u32 is kept but marked unknown');
  assert.equal(u32.matches[0].options[0].values[0], '0x0>>0x16&0x3c@0x0>>0x10=0x50');
  const tcpFlags = input[3].matches.find((m) => m.module === 'tcp')!.options[1];
  assert.deepEqual(tcpFlags, { name: '--tcp-flags', values: ['FIN,SYN,RST,ACK', 'SYN'], negated: false });
  const reject = input.find((r) => r.target?.name === 'REJECT')!;
  assert.equal(reject.target!.kind, 'extension');
  assert.deepEqual(reject.target!.options, [{ name: '--reject-with', values: ['tcp-reset'], negated: false }]);
  const tcpmss = rs.tables.find((t) => t.name === 'mangle')!.chainsByName.get('POSTROUTING')!.rules[0];
  assert.equal(tcpmss.target!.name, 'TCPMSS');
});

test('counters, ip6tables, the legacy-tables warning', () => {
  const rs = parseIptablesSave(read('rich-legacy-counters.iptables-save.txt'));
  assert.equal(rs.backend, 'legacy');
  const r = rs.tables.find((t) => t.name === 'filter')!.chainsByName.get('INPUT')!.rules[0];
  assert.deepEqual(r.counters, { packets: 0, bytes: 0 });
  const v6 = parseIptablesSave(read('rich-nft.ip6tables-save.txt'));
  assert.equal(v6.family, 6);
  const dnat = v6.tables.find((t) => t.name === 'nat')!.chainsByName.get('KUBE-SERVICES')!.rules[0];
  assert.deepEqual(dnat.target!.options[0].values, ['[fd00:244::5]:8080']);
  const w = parseIptablesSave(read('with-legacy-warning.iptables-save.txt'));
  assert.deepEqual(w.warnings, ['iptables-legacy tables present, use iptables-legacy-save to see them']);
  const c = parseIptablesSave('*filter\n:INPUT ACCEPT [12:3456]\n[7:420] -A INPUT -j ACCEPT\n-A INPUT -c 5 100 -j DROP\nCOMMIT\n');
  const chain = c.tables[0].chainsByName.get('INPUT')!;
  assert.deepEqual(chain.counters, { packets: 12, bytes: 3456 });
  assert.deepEqual(chain.rules.map((x) => x.counters), [{ packets: 7, bytes: 420 }, { packets: 5, bytes: 100 }]);
  assert.ok(c.hasCounters);
});

test('kube-proxy and the two-node lab dumps: chains, DNAT targets, comments', () => {
  const kp = parseIptablesSave(read('kube-proxy-1.20.iptables-save.txt'));
  const nat = kp.tables.find((t) => t.name === 'nat')!;
  const sep = nat.chainsByName.get('KUBE-SEP-4EX2N4PG4ASNZOBF')!;
  assert.equal(sep.rules[1].target!.name, 'DNAT');
  assert.deepEqual(sep.rules[1].target!.options[0].values, ['10.244.2.2:8080']);
  assert.equal(formatRule(sep.rules[1]), '-A KUBE-SEP-4EX2N4PG4ASNZOBF -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.2:8080');
  const node1 = parseIptablesSave(read('two-node-node1.iptables-save.txt'));
  assert.equal(node1.tables.length, 2);
});

test('old syntax: "!" after the option, implicit protocol modules, -I', () => {
  const rs = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s ! 10.0.0.0/8 -p tcp --dport ! 22 -j ACCEPT\n-I INPUT -p udp --sport 53 -j DROP\nCOMMIT\n');
  const rules = rs.tables[0].chainsByName.get('INPUT')!.rules;
  assert.equal(rules[0].target!.name, 'DROP');
  const r = rules[1];
  assert.equal(r.num, 2);
  assert.deepEqual(r.matches[0].options[0], { name: '-s', values: ['10.0.0.0/8'], negated: true });
  assert.deepEqual(r.matches[1], { module: 'tcp', options: [{ name: '--dport', values: ['22'], negated: true }], implicit: true, known: true });
  assert.equal(formatRule(r), '-A INPUT -s 10.0.0.0/8 ! -p tcp ! --dport 22 -j ACCEPT'.replace('-s 10.0.0.0/8 ! -p tcp', '! -s 10.0.0.0/8 -p tcp'));
});

test('unknown modules and targets are kept and marked, never an error', () => {
  const rs = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m frobnicate --level 3 --fancy -j WIBBLE --x 1\nCOMMIT\n');
  const r = rs.tables[0].chainsByName.get('INPUT')!.rules[0];
  assert.deepEqual(r.matches[0], { module: 'frobnicate', options: [{ name: '--level', values: ['3'], negated: false }, { name: '--fancy', values: [], negated: false }], known: false });
  assert.equal(r.target!.kind, 'unknown');
  assert.equal(formatRule(r), '-A INPUT -m frobnicate --level 3 --fancy -j WIBBLE --x 1');
});

test('syntax errors name line and column', () => {
  const cases: [string, RegExp, number, number][] = [
    ['*filter\n:INPUT ACCEPT [0:0]\n-A FOO -j ACCEPT\nCOMMIT\n', /chain FOO is not declared/, 3, 4],
    ['-A INPUT -j ACCEPT\n', /rule outside a table/, 1, 1],
    ['*filter\n:INPUT ACCEPT [0:0]\n', /has no COMMIT/, 1, 1],
    ['*filter\n-A INPUT -m comment --comment "open -j ACCEPT\nCOMMIT\n', /unbalanced double quote/, 2, 31],
    // In a chain declaration too, the column is the quote's in the whole line.
    ['*filter\n:INPUT ACCEPT [0":0]\nCOMMIT\n', /unbalanced double quote/, 2, 17],
    ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT --dport 80 -j ACCEPT\nCOMMIT\n', /does not belong to any match/, 3, 10],
    ['*filter\n:INPUT ACCEPT [x:0]\nCOMMIT\n', /bad counters/, 2, 15],
    ['*filter\nhello\nCOMMIT\n', /not an iptables-save line/, 2, 1],
    ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j\nCOMMIT\n', /-j without a target/, 3, 10],
    ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s\nCOMMIT\n', /-s needs a value/, 3, 10],
    ['*filter\n:INPUT ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\nCOMMIT\n', /declared twice/, 3, 2],
    ['*filter\n*nat\n', /has no COMMIT before a new table/, 2, 1],
    ['COMMIT\n', /COMMIT outside a table/, 1, 1],
    ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT !\nCOMMIT\n', /negates nothing/, 3, 20],
  ];
  for (const [text, re, line, column] of cases) {
    assert.throws(() => parseIptablesSave(text), (e: unknown) => {
      assert.ok(e instanceof ParseError, `${text}: ${e}`);
      assert.match(e.reason, re);
      assert.equal(e.line, line, `${text}: line`);
      assert.equal(e.column, column, `${text}: column`);
      return true;
    });
  }
  // Built-in chains may be used without their declaration line (iptables-restore accepts it).
  const rs = parseIptablesSave('*filter\n-A INPUT -j ACCEPT\nCOMMIT\n');
  assert.equal(rs.tables[0].chainsByName.get('INPUT')!.declared, false);
});

test('quoting follows xtables_save_string', () => {
  assert.equal(quoteValue('plain_word-1', true), 'plain_word-1');
  assert.equal(quoteValue('a/b', true), '"a/b"');
  assert.equal(quoteValue('', true), '""');
  assert.equal(quoteValue(`x"y\\z'`, true), `"x\\"y\\\\z\\'"`);
  assert.equal(quoteValue('10.0.0.0/8', false), '10.0.0.0/8');
  assert.equal(quoteValue('has space', false), '"has space"');
  assert.equal(quoteValue('--looks-like-option', false), '"--looks-like-option"');
});

test('property: 10,000 mutated dumps give a Ruleset or a ParseError, nothing else', () => {
  const seeds = fixtures.map(read);
  const alphabet = ['!', '"', "'", '\\', ' ', '\n', '-', '--', '[', ']', ':', '*', '#', '-A ', '-m ', '-j ', '-g ', 'COMMIT\n', '\t', '\r', '0', 'x', '/', ','];
  let ok = 0, errors = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...alphabet)), { minLength: 1, maxLength: 6 }),
      (si, edits) => {
        let s = seeds[si];
        for (const [pos, kind, ins] of edits) {
          const p = pos % (s.length + 1);
          if (kind === 0) s = s.slice(0, p) + ins + s.slice(p);
          else if (kind === 1) s = s.slice(0, p) + s.slice(p + 1 + (pos % 7));
          else if (kind === 2) s = s.slice(0, p) + ins + s.slice(p + 1);
          else s = s.slice(p) + s.slice(0, p);
        }
        try {
          parseIptablesSave(s);
          ok++;
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          errors++;
        }
      },
    ),
    { numRuns: 10_000, seed: 42 },
  );
  console.log(`iptables-save mutations: ${ok} parsed, ${errors} ParseError, 0 other`);
});

// ---- generated rule sets for the round trip --------------------------------------------------

const word = fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/);
const value = fc.oneof(word, fc.string({ maxLength: 12 }).filter((s) => !s.includes('\n') && !s.includes('\r')), fc.constantFrom('10.0.0.0/8', 'fd00::/8', '1:1024', 'a b', '"q"', "it's", '\\', '!', '-x'));
const option: fc.Arbitrary<RuleOption> = fc.oneof(
  fc.record({ name: fc.oneof(word.map((w) => `--${w}`), fc.constant('--dport')), values: fc.array(value, { maxLength: 3 }), negated: fc.boolean() }),
  // String options always carry exactly one argument.
  fc.record({ name: fc.constantFrom('--comment', '--log-prefix'), values: value.map((v) => [v]), negated: fc.boolean() }),
);
const basicOption: fc.Arbitrary<RuleOption> = fc.oneof(
  fc.record({ name: fc.constantFrom('-s', '-d', '-p', '-i', '-o'), values: word.map((w) => [w]), negated: fc.boolean() }),
  fc.record({ name: fc.constant('-f'), values: fc.constant([] as string[]), negated: fc.boolean() }),
);
const match: fc.Arbitrary<Match> = fc.oneof(
  fc.record({ module: fc.constant(''), options: fc.array(basicOption, { minLength: 1, maxLength: 3 }), known: fc.constant(true) }),
  fc.record({ module: fc.constantFrom('comment', 'tcp', 'set', 'frob', 'mark'), options: fc.array(option, { maxLength: 3 }) }).map((m) => ({ ...m, known: m.module !== 'frob' })),
);

function genRuleset(): fc.Arbitrary<Ruleset> {
  return fc
    .record({
      user: fc.uniqueArray(word.map((w) => `U-${w}`), { maxLength: 4 }),
      rules: fc.array(
        fc.record({
          chainIdx: fc.nat(),
          matches: fc.array(match, { maxLength: 4 }),
          target: fc.option(fc.record({ name: fc.constantFrom('ACCEPT', 'DROP', 'RETURN', 'DNAT', 'WIBBLE', '@chain'), goto: fc.boolean(), options: fc.array(option, { maxLength: 2 }) }), { nil: undefined }),
          counters: fc.option(fc.record({ packets: fc.nat(), bytes: fc.nat() }), { nil: undefined }),
        }),
        { maxLength: 12 },
      ),
    })
    .map(({ user, rules }) => {
      const chains: Chain[] = [
        ...['INPUT', 'FORWARD', 'OUTPUT'].map((n) => ({ name: n, builtin: true, policy: 'ACCEPT', rules: [] as Rule[], declared: true, counters: { packets: 0, bytes: 0 } })),
        ...user.map((n) => ({ name: n, builtin: false, policy: undefined, rules: [] as Rule[], declared: true, counters: { packets: 0, bytes: 0 } })),
      ];
      const withCounters = rules.some((r) => r.counters);
      for (const r of rules) {
        const chain = chains[r.chainIdx % chains.length];
        // Consecutive header-option groups merge when parsed back, so generate them merged.
        const ms: Match[] = [];
        for (const m of r.matches) {
          const last = ms[ms.length - 1];
          if (m.module === '' && last?.module === '') last.options.push(...m.options);
          else ms.push({ ...m, options: [...m.options] });
        }
        const tname = r.target?.name === '@chain' ? chains[r.chainIdx % chains.length].name : r.target?.name;
        const target = r.target && tname
          ? { name: tname, goto: r.target.goto, options: r.target.options, kind: (['ACCEPT', 'DROP', 'RETURN'].includes(tname) ? 'verdict' : chains.some((c) => c.name === tname) ? 'chain' : tname === 'DNAT' ? 'extension' : 'unknown') as 'verdict' }
          : undefined;
        chain.rules.push({ num: chain.rules.length + 1, chain: chain.name, matches: ms, target, counters: withCounters ? { packets: r.counters?.packets ?? 0, bytes: r.counters?.bytes ?? 0 } : undefined, line: 0 });
      }
      const table: Table = { name: 'filter', chains, chainsByName: new Map(chains.map((c) => [c.name, c])) };
      return { family: 4, tables: [table], hasCounters: false, warnings: [] } as Ruleset;
    });
}

test('property: parse(print(m)) = m on generated rule sets', () => {
  fc.assert(
    fc.property(genRuleset(), (rs) => {
      const text = printIptablesSave(rs);
      const back = parseIptablesSave(text);
      assert.deepEqual(plain(back), plain(rs), text);
      assert.equal(printIptablesSave(back), text);
    }),
    { numRuns: 1000, seed: 7 },
  );
});

/** A kube-proxy-like dump with `services` services of `eps` endpoints each (5 rules per endpoint-ish). */
export function kubeProxyDump(services: number, eps: number): string {
  const chains: string[] = [':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
  const rules: string[] = ['-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES', '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000'];
  for (let s = 0; s < services; s++) {
    const ip = `10.96.${(s >> 8) & 255}.${s & 255}`;
    const svc = `KUBE-SVC-${s.toString(16).toUpperCase().padStart(16, '0')}`;
    chains.push(`:${svc} - [0:0]`);
    rules.push(`-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "ns${s % 50}/svc${s}:http cluster IP" -m tcp --dport 80 -j ${svc}`);
    rules.push(`-A ${svc} ! -s 10.244.0.0/16 -d ${ip}/32 -p tcp -m comment --comment "ns${s % 50}/svc${s}:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`);
    for (let e = 0; e < eps; e++) {
      const sep = `KUBE-SEP-${(s * eps + e).toString(16).toUpperCase().padStart(16, '0')}`;
      const ep = `10.244.${(s * eps + e) >> 8 & 255}.${(s * eps + e) & 255}`;
      chains.push(`:${sep} - [0:0]`);
      const left = eps - e;
      rules.push(left > 1 ? `-A ${svc} -m comment --comment "ns${s % 50}/svc${s}:http" -m statistic --mode random --probability ${(1 / left).toFixed(11)} -j ${sep}` : `-A ${svc} -m comment --comment "ns${s % 50}/svc${s}:http" -j ${sep}`);
      rules.push(`-A ${sep} -s ${ep}/32 -m comment --comment "ns${s % 50}/svc${s}:http" -j KUBE-MARK-MASQ`);
      rules.push(`-A ${sep} -p tcp -m comment --comment "ns${s % 50}/svc${s}:http" -m tcp -j DNAT --to-destination ${ep}:8080`);
    }
  }
  return `# Generated by iptables-save v1.8.9 (nf_tables)\n*nat\n${chains.join('\n')}\n${rules.join('\n')}\nCOMMIT\n`;
}

test('a generated 100k-rule kube-proxy-like dump parses (time printed)', (t) => {
  const text = kubeProxyDump(11_000, 3); // 11k services × (2 + 3×3) rules ≈ 121k rules
  const t0 = performance.now();
  const rs = parseIptablesSave(text);
  const ms = performance.now() - t0;
  const n = rs.tables[0].chains.reduce((a, c) => a + c.rules.length, 0);
  assert.ok(n >= 100_000, `${n} rules`);
  const msg = `parsed ${n} rules (${(text.length / 1e6).toFixed(1)} MB) in ${ms.toFixed(0)} ms`;
  t.diagnostic(msg);
  console.log(msg);
});
