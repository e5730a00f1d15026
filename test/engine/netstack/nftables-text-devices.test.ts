// The reader of `nft list ruleset` text for the devices of ingress and egress base chains, which
// nft -j 1.0.6 leaves out (text-devices.ts): single and several devices, names nft prints
// unquoted in lists, and hostile text — comments holding newlines that look like type lines,
// chain and table headers — each leaving the devices unknown rather than guessed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNftRuleset, type NftRuleset } from '../../../src/engine/netstack/nftables/model';
import { fillDevicesFromText, readTextChains } from '../../../src/engine/netstack/nftables/text-devices';

// Listed by nft 1.0.6 (`nft -j list ruleset`, then `nft list ruleset`) in a netns with veths
// named eth0, x{y and q,r: the JSON has no devices, the text has them.
const REAL_JSON = "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"release_name\": \"Lester Gooch #5\", \"json_schema_version\": 1}}, {\"table\": {\"family\": \"netdev\", \"name\": \"eg\", \"handle\": 3}}, {\"chain\": {\"family\": \"netdev\", \"table\": \"eg\", \"name\": \"e1\", \"handle\": 1, \"type\": \"filter\", \"hook\": \"egress\", \"prio\": -10, \"policy\": \"accept\"}}, {\"chain\": {\"family\": \"netdev\", \"table\": \"eg\", \"name\": \"e2\", \"handle\": 2, \"type\": \"filter\", \"hook\": \"ingress\", \"prio\": 0, \"policy\": \"drop\"}}, {\"chain\": {\"family\": \"netdev\", \"table\": \"eg\", \"name\": \"e3\", \"handle\": 3, \"type\": \"filter\", \"hook\": \"ingress\", \"prio\": 0, \"policy\": \"drop\"}}, {\"chain\": {\"family\": \"netdev\", \"table\": \"eg\", \"name\": \"reg\", \"handle\": 4}}, {\"rule\": {\"family\": \"netdev\", \"table\": \"eg\", \"chain\": \"e1\", \"handle\": 5, \"comment\": \"type filter hook egress device x priority 0;\", \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"udp\", \"field\": \"dport\"}}, \"right\": 6001}}, {\"drop\": null}]}}, {\"rule\": {\"family\": \"netdev\", \"table\": \"eg\", \"chain\": \"reg\", \"handle\": 6, \"expr\": [{\"drop\": null}]}}, {\"table\": {\"family\": \"inet\", \"name\": \"i\", \"handle\": 4}}, {\"set\": {\"family\": \"inet\", \"name\": \"s\", \"table\": \"i\", \"type\": \"ifname\", \"handle\": 2, \"elem\": [\"x{y\", \"eth0\"]}}, {\"chain\": {\"family\": \"inet\", \"table\": \"i\", \"name\": \"ing\", \"handle\": 1, \"type\": \"filter\", \"hook\": \"ingress\", \"prio\": 0, \"policy\": \"accept\"}}]}";
const REAL_TEXT = `table netdev eg {
\tcomment "table netdev evil {"
\tchain e1 {
\t\tcomment "chain x {"
\t\ttype filter hook egress device "eth0" priority filter - 10; policy accept;
\t\tudp dport 6001 drop comment "type filter hook egress device x priority 0;"
\t}

\tchain e2 {
\t\ttype filter hook ingress devices = { eth0, q,r, x{y } priority filter; policy drop;
\t}

\tchain e3 {
\t\ttype filter hook ingress device "x{y" priority filter; policy drop;
\t}

\tchain reg {
\t\tdrop
\t}
}
table inet i {
\tset s {
\t\ttype ifname
\t\telements = { "x{y",
\t\t\t     "eth0" }
\t}

\tchain ing {
\t\ttype filter hook ingress device "eth0" priority filter; policy accept;
\t}
}
`;

const devicesOf = (rs: NftRuleset) =>
  Object.fromEntries(rs.tables.flatMap((t) => [...t.chains.values()].filter((c) => c.base).map((c) => [`${t.family} ${t.name} ${c.name}`, c.base!.devices])));

const UNKNOWN = { 'netdev eg e1': [], 'netdev eg e2': [], 'netdev eg e3': [], 'inet i ing': [] };
const NAMED = { 'netdev eg e1': ['eth0'], 'netdev eg e2': ['eth0', 'q,r', 'x{y'], 'netdev eg e3': ['x{y'], 'inet i ing': ['eth0'] };

test('a real nft 1.0.6 dump: the JSON names no device, the text names them all (one, several unquoted, with braces and commas)', () => {
  assert.deepEqual(devicesOf(parseNftRuleset(JSON.parse(REAL_JSON))), UNKNOWN);
  assert.deepEqual(devicesOf(parseNftRuleset(JSON.parse(REAL_JSON), REAL_TEXT)), NAMED);
  const rs = parseNftRuleset(JSON.parse(REAL_JSON));
  assert.equal(fillDevicesFromText(rs, REAL_TEXT), 4);
  assert.equal(rs.tables[0].chains.get('reg')!.base, undefined, 'a regular chain stays one');
});

test('the reader: tables and chains with their type lines; sets, flowtables, comments and rules skipped by indentation', () => {
  const text = [
    '# Warning: table ip filter is managed by iptables-nft, do not touch!',
    'table netdev t { # progname firewalld',
    '\tflags dormant',
    '\tflowtable f {',
    '\t\thook ingress priority filter',
    '\t\tdevices = { eth9 }',
    '\t}',
    '',
    '\tchain one {',
    '\t\ttype filter hook egress device "eth0" priority 0; policy accept;',
    '\t\tmeta oifname "eth0" drop',
    '\t}',
    '\tchain many {',
    '\t\ttype filter hook ingress devices = { a, b, c } priority -10; policy drop;',
    '\t}',
    '\tchain none {',
    '\t\ttype filter hook ingress priority 0; policy accept;',
    '\t}',
    '\tchain reg {',
    '\t}',
    '}',
    '',
  ].join('\n');
  const r = readTextChains(text);
  assert.ok(r);
  assert.deepEqual(r.map((t) => [t.family, t.name]), [['netdev', 't']]);
  assert.deepEqual(Object.fromEntries([...r[0].chains].map(([n, c]) => [n, c])), {
    one: { typeLines: 1, hook: 'egress', devices: ['eth0'] },
    many: { typeLines: 1, hook: 'ingress', devices: ['a', 'b', 'c'] },
    none: { typeLines: 1, hook: 'ingress', devices: undefined },
    reg: { typeLines: 0 },
  });
});

test('device names read only when they read one way: quotes, escapes, quoted lists, over 15 bytes, no device → unknown', () => {
  const chain = (typeLine: string) => readTextChains(`table netdev t {\n\tchain c {\n\t\t${typeLine}\n\t}\n}\n`)?.[0].chains.get('c')?.devices;
  assert.deepEqual(chain('type filter hook egress device "a{b}" priority 0; policy accept;'), ['a{b}']);
  assert.deepEqual(chain('type filter hook egress devices = { a,, }, ,b } priority 0; policy accept;'), ['a,', '}', ',b']);
  assert.deepEqual(chain('type filter hook egress device "123456789012345" priority 0; policy accept;'), ['123456789012345']);
  assert.equal(chain('type filter hook egress device "a"b" priority 0; policy accept;'), undefined);
  assert.equal(chain('type filter hook egress device "a\\\\"b" priority 0; policy accept;'), undefined);
  assert.equal(chain('type filter hook egress devices = { "a", "b" } priority 0; policy accept;'), undefined);
  assert.equal(chain('type filter hook egress device "1234567890123456" priority 0; policy accept;'), undefined);
  assert.equal(chain('type filter hook egress device "" priority 0; policy accept;'), undefined);
  assert.equal(chain('type filter hook egress device eth0 priority 0; policy accept;'), undefined);
  assert.equal(chain('type filter hook egress devices = { a,b } policy accept;'), undefined);
  assert.equal(chain('type filter hook egress priority 0; policy accept;'), undefined);
});

test('malformed text is not read at all: a table left open, a line where none can be, a table twice, not nft output', () => {
  const ok = 'table netdev t {\n\tchain c {\n\t\ttype filter hook egress device "eth0" priority 0; policy accept;\n\t}\n}\n';
  assert.ok(readTextChains(ok));
  assert.equal(readTextChains(ok.slice(0, -3)), undefined, 'truncated');
  assert.equal(readTextChains(ok.replace('\t}\n}', '\t}')), undefined, 'the table not closed');
  assert.equal(readTextChains(ok + ok), undefined, 'the same table twice');
  assert.equal(readTextChains(ok.replace('\tchain c {', 'chain c {')), undefined, 'a chain outside a table');
  assert.equal(readTextChains(ok.replace('\t}\n}', '\t}\n\t}\n}')), undefined, 'a block closed twice');
  assert.equal(readTextChains(ok.replace('\t\ttype', '\ttype')), undefined, 'a type line at the table\'s indentation');
  assert.equal(readTextChains('table foo t {\n}\n'), undefined, 'not a family');
  assert.equal(readTextChains('{"nftables": []}'), undefined, 'JSON, not text');
  assert.deepEqual(readTextChains(''), [], 'empty: no tables');
});

/** The real dump, its text with `edit` applied: the devices then read. */
const named = (edit: (text: string) => string) => devicesOf(parseNftRuleset(JSON.parse(REAL_JSON), edit(REAL_TEXT)));

test('hostile text: a comment holding newlines that fakes a type line, a chain or a table leaves the devices unknown, never names a device', () => {
  // A rule comment in the regular chain that looks like a type line: only its own chain could be misread, and it is not a base chain.
  const inReg = (s: string) => s.replace('\tchain reg {\n\t\tdrop', '\tchain reg {\n\t\tdrop comment "x\n\t\ttype filter hook egress device "evil" priority 0;"');
  assert.notEqual(inReg(REAL_TEXT), REAL_TEXT);
  assert.deepEqual(named(inReg), NAMED);
  // The same in a base chain (after its type line, or as the chain's comment before it): two type lines, that chain unknown.
  const inE3 = (s: string) => s.replace('policy drop;\n\t}\n\n\tchain reg', 'policy drop;\n\t\tdrop comment "x\n\t\ttype filter hook ingress device "evil" priority 0;"\n\t}\n\n\tchain reg');
  assert.deepEqual(named(inE3), { ...NAMED, 'netdev eg e3': [] });
  const commentE1 = (s: string) => s.replace('comment "chain x {"', 'comment "x\n\t\ttype filter hook egress device "evil" priority 0;"');
  assert.deepEqual(named(commentE1), { ...NAMED, 'netdev eg e1': [] });
  // A comment that closes its chain and opens another: a chain seen twice, or one the JSON does not have.
  const fakeE1 = (s: string) => s.replace('\tchain reg {\n\t\tdrop', '\tchain reg {\n\t\tdrop comment "x\n\t}\n\tchain e1 {\n\t\ttype filter hook egress device "evil" priority 0;"');
  assert.deepEqual(named(fakeE1), UNKNOWN);
  const fakeNew = (s: string) => s.replace('\tchain reg {\n\t\tdrop', '\tchain reg {\n\t\tdrop comment "x\n\t}\n\tchain zz {\n\t\ttype filter hook egress device "evil" priority 0;"');
  assert.deepEqual(named(fakeNew), UNKNOWN);
  // A comment that closes the table and opens another.
  const fakeTable = (s: string) => s.replace('\tchain reg {\n\t\tdrop', '\tchain reg {\n\t\tdrop comment "x\n\t}\n}\ntable inet i {\n\tchain ing {\n\t\ttype filter hook ingress device "evil" priority 0;"');
  assert.deepEqual(named(fakeTable), UNKNOWN);
  // The table's comment opening a block: the chain headers after it are where no line can be.
  const tableComment = (s: string) => s.replace('comment "table netdev evil {"', 'comment "x\n\tfoo {\n\t\tbar"');
  assert.deepEqual(named(tableComment), UNKNOWN);
});

test('text and JSON of different rule sets (a chain more, a table less, another hook): nothing filled', () => {
  assert.deepEqual(named((s) => s.replace('\tchain reg {', '\tchain extra {\n\t}\n\tchain reg {')), UNKNOWN);
  assert.deepEqual(named((s) => s.slice(0, s.indexOf('table inet i'))), UNKNOWN);
  assert.deepEqual(named((s) => s.replace('hook ingress device "x{y"', 'hook egress device "x{y"')), { ...NAMED, 'netdev eg e3': [] });
});

test('where the JSON names the devices (newer nft), the JSON wins; a JSON without such chains never reads the text', () => {
  const j = JSON.parse(REAL_JSON) as { nftables: { chain?: Record<string, unknown> }[] };
  for (const item of j.nftables) if (item.chain?.name === 'e1') item.chain.dev = 'lo';
  assert.deepEqual(devicesOf(parseNftRuleset(j, REAL_TEXT)), { ...NAMED, 'netdev eg e1': ['lo'] });
  const ipOnly = { nftables: [{ table: { family: 'ip', name: 'f', handle: 1 } }, { chain: { family: 'ip', table: 'f', name: 'in', handle: 1, type: 'filter', hook: 'input', prio: 0, policy: 'accept' } }] };
  assert.equal(fillDevicesFromText(parseNftRuleset(ipOnly), 'not read'), 0);
});
