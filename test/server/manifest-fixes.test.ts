// The quick-fix edits on manifest layouts the protocol test does not write: a policy with no
// rules for the direction, an empty flow list, kubectl's unindented sequences, a file without a
// final newline, flow-style labels. Each edit must leave valid YAML with the comments kept and the
// object changed exactly as the fix says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { fixEdit, fixTitle, type TextEditOut } from '../../src/server/manifests/fixes';
import type { ManifestTarget } from '../../src/server/manifests/findings';
import type { Remedy } from '../../src/engine/model/suspicion';

function apply(text: string, e: TextEditOut): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return text.slice(0, offset(e.range.start)) + e.newText + text.slice(offset(e.range.end));
}

function fixed(text: string, target: ManifestTarget, remedy: Remedy): { text: string; objects: Record<string, any>[] } {
  const e = fixEdit(text, target, remedy);
  assert.ok(e, 'an edit');
  const out = apply(text, e);
  const docs = parseAllDocuments(out);
  assert.deepEqual(docs.flatMap((d) => d.errors.map((x) => x.message)), [], `valid YAML:\n${out}`);
  return { text: out, objects: docs.map((d) => d.toJS() as Record<string, any>) };
}

const allow: Remedy = { kind: 'allow-peer', direction: 'egress', peer: { namespace: 'shop', labels: { app: 'db' } }, port: 5432, protocol: 'TCP' };
const egressRule = { to: [{ podSelector: { matchLabels: { app: 'db' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }], ports: [{ protocol: 'TCP', port: 5432 }] };
const policy = (field: (string | number)[]): ManifestTarget => ({ kind: 'NetworkPolicy', name: 'deny', namespace: 'shop', document: 0, field });

test('a policy with no egress rules gets the list, at the indentation of its spec', () => {
  const text = 'kind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: shop\nspec:\n    podSelector: {}   # every pod\n    policyTypes:\n    - Egress\n# end';
  const r = fixed(text, policy(['spec', 'podSelector']), allow);
  assert.deepEqual(r.objects[0].spec.egress, [egressRule]);
  assert.ok(r.text.includes('podSelector: {}   # every pod') && r.text.includes('# end'));
  assert.ok(r.text.includes('\n    egress:\n'), r.text);
});

test('an empty flow list becomes a block list with the rule', () => {
  const text = 'kind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\n# deny all egress\nspec:\n  podSelector: {}\n  egress: []\n';
  const r = fixed(text, policy(['spec', 'egress']), allow);
  assert.deepEqual(r.objects[0].spec.egress, [egressRule]);
  assert.ok(r.text.includes('# deny all egress'));
});

test('kubectl-style unindented sequences stay unindented; no final newline is handled', () => {
  const text = 'kind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: shop\nspec:\n  egress:\n  - to:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n  podSelector: {}';
  const r = fixed(text, policy(['spec', 'egress']), allow);
  assert.equal(r.objects[0].spec.egress.length, 2);
  assert.deepEqual(r.objects[0].spec.egress[1], egressRule);
  assert.ok(r.text.includes('\n  - to:\n    - podSelector:'), r.text);
});

test('labels in flow style get the label; a missing labels map is created', () => {
  const flow = 'kind: Pod\nmetadata:\n  name: api  # the API\n  labels: {app: api}\n';
  const target: ManifestTarget = { kind: 'Pod', name: 'api', document: 0, field: ['metadata', 'labels'] };
  const r = fixed(flow, target, { kind: 'add-label', key: 'tier', value: 'backend' });
  assert.deepEqual(r.objects[0].metadata.labels, { app: 'api', tier: 'backend' });
  assert.ok(r.text.includes('# the API'));
  const none = 'kind: Pod\nmetadata:\n  name: api\nspec: {}\n';
  assert.deepEqual(fixed(none, target, { kind: 'add-label', key: 'app', value: 'api' }).objects[0].metadata.labels, { app: 'api' });
});

test('a targetPort is replaced by the port number, and a name that needs quotes is quoted', () => {
  const text = 'kind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    targetPort: "web"  # wrong\n';
  const target: ManifestTarget = { kind: 'Service', name: 's', document: 0, field: ['spec', 'ports', 0, 'targetPort'] };
  assert.equal(fixed(text, target, { kind: 'set-target-port', portIndex: 0, value: 8080 }).text, text.replace('"web"', '8080'));
  assert.equal(fixed(text, target, { kind: 'set-target-port', portIndex: 0, value: 'true' }).objects[0].spec.ports[0].targetPort, 'true');
});

test('the object or its document being gone gives no edit', () => {
  assert.equal(fixEdit('kind: Service\nmetadata: {name: other}\n', { kind: 'Service', name: 's', document: 0, field: ['spec'] }, { kind: 'add-label', key: 'a', value: 'b' }), undefined);
});

test('a fix title shows hostile label text as text (no line break, no control character)', () => {
  const title = fixTitle({ kind: 'add-label', key: 'app', value: 'x\nInjected line\u0007' }, { kind: 'Pod', name: 'p', document: 0, field: [] });
  assert.ok(!/[\n\u0007]/.test(title), title);
  assert.match(title, /^Add label app=x.*Injected line.* to Pod p$/);
});
