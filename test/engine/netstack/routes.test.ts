// Parsers of `ip -j route show table all` and `ip -j rule` on real outputs (committed fixtures
// from gen-routes.sh and the two-node recipe dumps), bad input, and mutation property tests.
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRoutes, parseRules } from '../../../src/engine/netstack/routes';
import { ParseError } from '../../../src/engine/netstack/parse-error';

const dir = 'test/fixtures/netstack/routes';
const read = (f: string) => readFileSync(`${dir}/${f}`, 'utf8');
const TWO_NODE = 'test/fixtures/netstack/two-node-dump';

test('routes: every type, table, multipath, via inet6, tos, metrics, flags', () => {
  const routes = parseRoutes(read('route.json') + read('route6.json'));
  const v6Once = parseRoutes(read('route.json'));
  // iproute2 6.1 already lists IPv6 in `ip -j route show table all`: the concatenation dedupes.
  assert.equal(routes.length, v6Once.length);
  const by = (dst: string, table = '100') => routes.find((r) => r.text.includes(dst) && r.table.name === table)!;
  assert.deepEqual(by('10.6.0.0/16').nexthops.map((n) => [n.gateway, n.dev, n.weight]), [['10.1.0.254', 'a0', 2], ['10.1.0.253', 'a0', 1]]);
  assert.equal(by('10.6.0.0/16').multipath, true);
  assert.equal(by('10.7.0.0/16').type, 'throw');
  assert.equal(by('10.5.0.0/16').metric, 5);
  assert.equal(by('10.17.0.0/16').protocol, 'static');
  assert.equal(by('10.11.0.0/16', '200').flags.join(','), 'onlink,linkdown');
  assert.equal(by('10.12.0.0/16', '200').tos, 0x10);
  assert.equal(by('10.13.0.0/16', '200').mtu, 1400);
  assert.deepEqual(by('10.14.0.0/16', '200').via, { family: 6, host: '2001:db8:1::fe' });
  for (const t of ['unreachable', 'prohibit', 'blackhole', 'multicast', 'local', 'broadcast']) assert.ok(routes.some((r) => r.type === t && r.table.name === '200'), t);
  const local = routes.find((r) => r.type === 'local' && r.text.startsWith('local 10.1.0.1 '))!;
  assert.deepEqual([local.table.id, local.dst.len, local.scope, local.prefsrc], [255, 32, 'host', '10.1.0.1']);
  const v6mp = by('2001:db8:6::/48');
  assert.equal(v6mp.family, 6);
  assert.deepEqual(v6mp.nexthops.map((n) => n.weight), [3, 1]);
  assert.equal(routes.find((r) => r.text.startsWith('2001:db8:b::/48'))!.pref, 'high');
  const def = routes.find((r) => r.dst.len === 0 && r.family === 4)!;
  assert.equal(def.table.name, '100');
  assert.ok(routes.filter((r) => r.family === 6 && r.type === 'unreachable').every((r) => r.dev === 'lo'));
});

test('rules: selectors and actions as iproute2 prints them', () => {
  const rules = parseRules(read('rule.json'), { family: 4 });
  const p = (n: number) => rules.find((r) => r.priority === n)!;
  assert.deepEqual([p(100).src?.len, p(100).dst?.len], [24, 16]);
  assert.deepEqual([p(101).not, p(101).fwmark, p(101).fwmask, p(101).iif], [true, 0x10, 0xff, 'a0']);
  assert.deepEqual([p(102).oif, p(102).suppressPrefixlen], ['a1', 0]);
  assert.deepEqual([p(103).ipproto, p(103).sport, p(103).dport], [6, [1000, 2000], [80, 80]]);
  assert.deepEqual([p(104).tos, p(104).action, p(104).goto], [0x10, 'goto', 106]);
  assert.deepEqual([p(105).action, p(106).action, p(107).action, p(108).action], ['blackhole', 'unreachable', 'prohibit', 'nop']);
  assert.deepEqual(p(109).uidrange, [1000, 2000]);
  assert.equal(p(110).l3mdev, true);
  assert.deepEqual([p(112).src?.len, p(112).ipproto, p(112).sport, p(112).iif, p(112).oif], [32, 47, [5, 5], 'lo', 'a0']);
  assert.equal(p(113).suppressIfgroup, '5');
  assert.equal(p(32766).table?.id, 254);
  const rules6 = parseRules(read('rule6.json'), { family: 6 });
  assert.ok(rules6.every((r) => r.family === 6));
  assert.equal(rules6.find((r) => r.priority === 102)!.suppressPrefixlen, 32);
  assert.equal(rules6.find((r) => r.priority === 101)!.action, 'prohibit');
});

test('two-node recipe dumps parse (v4 and v6 routes in one array, default rules)', () => {
  let n = 0;
  for (const f of readdirSync(TWO_NODE).filter((x) => x.endsWith('.route.json') || x.endsWith('.rule.json'))) {
    const text = readFileSync(`${TWO_NODE}/${f}`, 'utf8');
    const out = f.endsWith('.route.json') ? parseRoutes(text) : parseRules(text);
    assert.ok(out.length > 0, f);
    n += out.length;
  }
  const node1 = parseRoutes(readFileSync(`${TWO_NODE}/node1.route.json`, 'utf8'));
  assert.ok(node1.some((r) => r.family === 6 && r.type === 'multicast'));
  assert.equal(node1.find((r) => r.dst.len === 0)!.gateway, '198.51.100.1');
  console.log(`two-node dumps: ${n} routes and rules parsed`);
});

test('bad input: ParseError naming the element and field', () => {
  const bad: [string, RegExp][] = [
    ['[{"dst":"10.0.0.0/33","flags":[]}]', /element 0: field "dst"/],
    ['[{"dst":"10.0.0.0/8","gateway":"x","flags":[]}]', /field "gateway"/],
    ['[{"dst":"10.0.0.0/8","metric":-1,"flags":[]}]', /field "metric"/],
    ['[{"dst":"10.0.0.0/8","flags":[]},{"type":"bogus","dst":"1.2.3.4"}]', /element 1: field "type"/],
    ['[{"dst":"10.0.0.0/8","nexthops":[{"gateway":"zz"}]}]', /field "nexthops\[0\]\.gateway"/],
    ['[{"dst":"10.0.0.0/8"', /unterminated|invalid JSON/],
    ['{"dst":"x"}', /expected a JSON array/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseRoutes(text), (e: unknown) => e instanceof ParseError && re.test(e.message), text);
  assert.throws(() => parseRules('[{"priority":1,"src":"all"}]'), /field "table"/);
  assert.throws(() => parseRules('[{"priority":1,"src":"all","table":"main","sport_start":5}]'), /sport_end/);
  assert.throws(() => parseRules('[{"priority":1,"src":"all","table":"main","ipproto":"nope"}]'), /field "ipproto"/);
  assert.throws(() => parseRules(null), ParseError);
  assert.deepEqual(parseRoutes('  \n'), []);
});

/** Mutations of real dumps: characters and JSON values replaced, deleted, duplicated. */
function mutations(texts: string[]) {
  const values = fc.constantFrom<unknown>(null, -1, 0, 1.5, 4294967296, '', 'all', 'default', '::', '10.0.0.0/99', '0xzz', [], {}, [1], { host: 1 }, 'ipproto-999', true);
  const byChar = fc.tuple(fc.constantFrom(...texts), fc.nat(), fc.nat({ max: 20 }), fc.string({ maxLength: 6 })).map(([t, at, del, ins]) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + ins + t.slice(i + del);
  });
  const byValue = fc.tuple(fc.constantFrom(...texts), fc.nat(), fc.nat(), values).map(([t, a, b, v]) => {
    const doc = JSON.parse(t) as Record<string, unknown>[];
    if (!doc.length) return t;
    const el = doc[a % doc.length];
    const keys = Object.keys(el);
    const nested = el.nexthops as Record<string, unknown>[] | undefined;
    if (nested && nested.length && b % 3 === 0) nested[b % nested.length][Object.keys(nested[0])[b % Object.keys(nested[0]).length]] = v;
    else if (keys.length) el[keys[b % keys.length]] = v;
    return JSON.stringify(doc);
  });
  return fc.oneof(byChar, byValue);
}

function onlyParseErrors(parse: (t: string) => unknown, texts: string[], runs: number) {
  let parsed = 0;
  let rejected = 0;
  fc.assert(
    fc.property(mutations(texts), (t) => {
      try {
        parse(t);
        parsed++;
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        rejected++;
      }
    }),
    { numRuns: runs, seed: 42 },
  );
  return { parsed, rejected };
}

test('property: 10,000 mutated route dumps parse or throw ParseError', () => {
  const texts = [read('route.json'), read('route6.json'), readFileSync(`${TWO_NODE}/node1.route.json`, 'utf8')];
  const r = onlyParseErrors((t) => parseRoutes(t), texts, 10_000);
  console.log(`routes property: ${r.parsed} parsed, ${r.rejected} ParseError`);
});

test('property: 10,000 mutated rule dumps parse or throw ParseError', () => {
  const texts = [read('rule.json'), read('rule6.json'), readFileSync(`${TWO_NODE}/node1.rule.json`, 'utf8')];
  const r = onlyParseErrors((t) => parseRules(t), texts, 10_000);
  console.log(`rules property: ${r.parsed} parsed, ${r.rejected} ParseError`);
});
