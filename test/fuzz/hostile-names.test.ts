// The attacks of issue 16, one by one: names from a cluster or a snapshot that try to repaint the
// terminal, forge report lines, move Problems-panel ranges, reorder text with bidi controls or
// become links and images in VS Code — each shown as text. Plus the small hostile-input cases:
// BOM, V8 errors without a position, `__proto__`, huge echoed flags, null status entries, and a
// node that was not examined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echoed, jsonShown, md, notice, shown } from '../../src/shared/display';
import { SnapshotError, loadSnapshot } from '../../src/engine/snapshot/load';
import { assembleSnapshot, AssembleError } from '../../src/engine/snapshot/assemble';
import { Network } from '../../src/engine/network';
import { createContext } from '../../src/engine/context';
import { snapshotPort } from '../../src/engine/port';
import { formatTextWithFindings } from '../../src/engine/report/text';
import { formatJson } from '../../src/engine/report/json';
import { formatSkoopJson } from '../../src/engine/report/skoop-json';
import { toDiagnostics } from '../../src/server/diagnostics';
import { toWireResult } from '../../src/shared/severity';
import { main } from '../../src/cli/main';
import { rawControl } from './fuzz';

const sample = readFileSync('samples/broken.netpath.json', 'utf8');
const toWeb1 = { src: 'default/client', dst: 'default/web1', port: 80, protocol: 'tcp' as const };
/** An interface name any pod with NET_ADMIN could set: it moves the cursor up, erases the verdict line and forges two lines. */
const forged = 'veth\x1b[1A\x1b[2K\x1b[32mREACHABLE: no fault found on the path\x1b[0m\n  [INFO] verified: no DROP rules\ne\x1b[2J\x1b[8m\u202e';

function diagnose(text: string, request = toWeb1) {
  const s = loadSnapshot(text);
  return new Network(snapshotPort(s), createContext({ origin: 'snapshot', values: s.settings })).diagnose(request);
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

test('shown escapes control, C1, bidi and separator characters visibly and leaves text alone', () => {
  assert.equal(shown('e\x1b[2J\x1b[8m'), 'e\\x1b[2J\\x1b[8m');
  assert.equal(shown('a\nb\r\tc'), 'a\\nb\\r\\tc');
  assert.equal(shown('\u202eevil\u2066x\u2069\u200f'), '\\u202eevil\\u2066x\\u2069\\u200f');
  assert.equal(shown('csi\x9b31m del\x7f nul\x00'), 'csi\\x9b31m del\\x7f nul\\x00');
  assert.equal(shown('line\u2028para\u2029'), 'line\\u2028para\\u2029');
  assert.equal(shown('node-1.example/ns_ä ✓ 10.0.0.1:80'), 'node-1.example/ns_ä ✓ 10.0.0.1:80');
});

test('markdown and notifications show a markdown-laden name as text', () => {
  const name = '![i](https://example.invalid/i.png) [x](command:workbench.action.quit) <img src=x> **b**';
  const m = md(name);
  assert.doesNotMatch(m, /(^|[^\\])[[\]()<>!*]/, `unescaped markdown in ${m}`);
  // Unescaping gives the name back: nothing was lost, only neutralised.
  assert.equal(m.replace(/\\(.)/g, '$1'), name);
  const n = notice(name);
  assert.doesNotMatch(n, /\]\(/, 'a notification link could form');
  assert.equal(n.replace(/\u200b/g, ''), name);
});

test('echoed inputs are cut with a marker', () => {
  const huge = 'x'.repeat(20 * 1024 * 1024);
  const e = echoed(huge);
  assert.ok(e.length < 300, `${e.length} characters`);
  assert.match(e, /… \(20971520 characters, cut\)$/);
  assert.equal(echoed('default/web'), 'default/web');
});

test('an interface name with ANSI escapes and newlines neither repaints the verdict nor adds a report line', () => {
  const base = diagnose(sample);
  const hostile = diagnose(sample.replaceAll('"vethce2a28d0"', JSON.stringify(forged)));
  const a = formatTextWithFindings(base);
  const b = formatTextWithFindings(hostile);
  assert.ok(b.text.includes(shown(forged)), 'the name is shown, escaped');
  assert.doesNotMatch(b.text, rawControl);
  assert.equal(b.text.split('\n').length, a.text.split('\n').length, 'same number of lines');
  assert.equal(b.text.split('\n')[1], 'UNREACHABLE: see the findings below');
  assert.deepEqual(b.findings, a.findings, 'findings on the same lines');
  // The Problems panel's ranges come from those lines: a name does not move them either.
  const uri = 'netpath-report:/r.txt';
  const da = toDiagnostics('r', uri, toWireResult(base), a.text, a.findings);
  const db = toDiagnostics('r', uri, toWireResult(hostile), b.text, b.findings);
  assert.deepEqual(db.map((d) => d.range.start.line), da.map((d) => d.range.start.line));
  for (const d of db) {
    assert.doesNotMatch(d.message, rawControl);
    for (const ri of d.relatedInformation ?? []) assert.doesNotMatch(ri.message, rawControl);
  }
  assert.ok(db.some((d) => d.message.includes(shown(forged))), 'the diagnostic names the interface, escaped');
});

test('JSON reports keep the name\'s value but write bidi and C1 characters as \\u escapes', () => {
  const r = diagnose(sample.replaceAll('"vethce2a28d0"', JSON.stringify(forged)));
  for (const json of [formatJson(r), formatSkoopJson(r)]) {
    assert.doesNotMatch(json, rawControl);
    assert.ok(json.includes('\\u202e') && json.includes('\\u001b'), 'escaped in the document');
    assert.ok(JSON.stringify(JSON.parse(json)).includes(JSON.stringify(forged).slice(1, -1)), 'same value when parsed');
  }
  assert.equal(jsonShown('{"a":"\u202e\u0085"}'), '{"a":"\\u202e\\u0085"}');
});

test('the CLI shows hostile names and flags escaped on stdout and stderr, and cuts a 20 MB --src', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-hostile-'));
  try {
    const file = join(dir, 'hostile.netpath.json');
    writeFileSync(file, sample.replaceAll('"vethce2a28d0"', JSON.stringify(forged)));
    const ok = await cli(['diagnose', '--snapshot', file, '--src', toWeb1.src, '--dst', toWeb1.dst, '--port', '80']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stdout, rawControl);
    const bad = await cli(['diagnose', '--snapshot', file, '--src', 'default/x\x1b[2J\u202e', '--dst', toWeb1.dst, '--port', '80']);
    assert.equal(bad.code, 2);
    assert.doesNotMatch(bad.stderr, rawControl);
    assert.match(bad.stderr, /default\/x\\x1b\[2J\\u202e/);
    const huge = await cli(['diagnose', '--snapshot', file, '--src', `default/${'a'.repeat(20 * 1024 * 1024)}`, '--dst', toWeb1.dst, '--port', '80']);
    assert.equal(huge.code, 2);
    assert.ok(huge.stderr.length < 1000, `stderr is ${huge.stderr.length} characters`);
    assert.match(huge.stderr, /characters, cut\)/);
    const port = await cli(['diagnose', '--snapshot', file, '--src', toWeb1.src, '--dst', toWeb1.dst, '--port', `8\x1b]0;title\x07${'9'.repeat(100000)}`]);
    assert.equal(port.code, 2);
    assert.doesNotMatch(port.stderr, rawControl);
    assert.ok(port.stderr.length < 1000, `stderr is ${port.stderr.length} characters`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('names Kubernetes would reject are flagged by the schema, naming the rule and the value (escaped, on one line)', () => {
  const d = JSON.parse(sample);
  d.objects.pods[0].metadata.labels = { 'app\n': 'x', ok: 'bad value!' };
  d.objects.services[0].metadata.name = '1web';
  d.objects.namespaces[0].metadata.name = 'Default';
  // An interface name is not a Kubernetes name: shown escaped, never rejected.
  d.dumps.node1.node.links[0].ifname = forged;
  assert.throws(() => loadSnapshot(JSON.stringify(d)), (e: unknown) => {
    assert.ok(e instanceof SnapshotError);
    const paths = e.problems.map((p) => p.path);
    assert.deepEqual(paths.sort(), ['objects.namespaces[0].metadata.name', 'objects.pods[0].metadata.labels.ok', 'objects.pods[0].metadata.labels["app\\n"]', 'objects.services[0].metadata.name'].sort());
    assert.match(e.message, /"1web" must be a DNS-1035 label as Kubernetes requires/);
    assert.match(e.message, /"Default" must be a DNS-1123 label/);
    assert.match(e.message, /is not a valid label key/);
    assert.equal(e.message.split('\n').length, 1 + 3, 'one line per problem');
    return true;
  });
  const named = JSON.parse(sample);
  named.objects.nodes[1].metadata.name = 'node2\x1b[2J\nREACHABLE';
  assert.throws(() => loadSnapshot(JSON.stringify(named)), /objects\.nodes\[1\]\.metadata\.name: "node2\\x1b\[2J\\nREACHABLE" must be a DNS-1123 subdomain/);
});

test('a UTF-8 BOM is accepted; JSON errors V8 gives no position for are located', () => {
  assert.equal(loadSnapshot(`\ufeff${sample}`).kind, 'NetpathSnapshot');
  assert.throws(() => loadSnapshot('{\n  "kind": "NetpathSnapshot",\n  "version": }'), /line 3, column 14\): Unexpected token '}'/);
  assert.throws(() => loadSnapshot('[1,\n 2,,3]'), /line 2, column 4\)/);
});

test('null conditions and container statuses pass validation and the diagnosis (no TypeError)', () => {
  const d = JSON.parse(sample);
  d.objects.nodes[0].status.conditions = [null, ...d.objects.nodes[0].status.conditions];
  d.objects.pods[0].status.containerStatuses = [null, { name: 'c', ready: false, state: null }];
  const r = diagnose(JSON.stringify(d));
  assert.equal(r.verdict, 'unreachable');
  assert.ok(r.nodes.some((n) => n.suspicions.some((s) => s.check === 'pod.container-not-ready')), 'the non-null status is still read');
});

test('snapshot assemble: a node named __proto__ is a name Kubernetes rejects, not "a dump twice"', () => {
  const objects = 'apiVersion: v1\nkind: Node\nmetadata:\n  name: __proto__\n';
  const dump = JSON.stringify(JSON.parse(sample).dumps.node1);
  assert.throws(() => assembleSnapshot({ objects: [{ name: 'o.yaml', text: objects }], dumps: [{ node: '__proto__', name: 'd.json', text: dump }] }), (e: unknown) => {
    assert.ok(e instanceof AssembleError, String(e));
    assert.doesNotMatch(e.message, /twice/);
    assert.match(e.message, /"__proto__" must be a DNS-1123 subdomain/);
    return true;
  });
});

test('a node that was not examined is drawn with its own action, not "drop"', () => {
  const d = JSON.parse(sample);
  delete d.dumps.node2;
  const r = diagnose(JSON.stringify(d), { src: 'default/client', dst: 'default/web2', port: 8080, protocol: 'tcp' });
  assert.equal(r.verdict, 'unknown');
  const node2 = r.nodes.find((n) => n.id === 'node2')!;
  assert.equal(node2.examined, false);
  assert.deepEqual(node2.actions.map((a) => a.type), ['unexamined']);
  const json = JSON.parse(formatJson(r));
  assert.equal(json.links.find((l: { destination: string }) => l.destination === 'node2').action, 'unexamined');
  assert.match(formatTextWithFindings(r).text, /--> node2  \[.*\]  unexamined$/m);
});
