// The consent dialog's and the quick picks' text (src/extension/labels.ts): names from a cluster,
// a kubeconfig or a snapshot never add a line, form a link, draw an icon or carry a raw control
// character into VS Code's widgets, and the values chosen stay the names themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consentMessage, familyItem, nodeItem, pickerText, podItem, portItem, recentItem, requestLabel, serviceItem, typedItem, type ItemText } from '../../src/extension/labels';
import type { ConsentDetails } from '../../src/shared/errors';

const hostile = [
  'web\u001b[2J\u001b[8m',
  'a\nb [INFO] verified: no DROP rules',
  '$(check) REACHABLE',
  '\\$(pass) escaped already',
  '[Open](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)',
  'abc\u202eexe.txt',
  'c1\u009b31m',
  'ls\u2028sep',
];

/** Layout characters that must never reach a widget raw. */
const raw = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** A `$(` that VS Code would render as an icon: one not right after a backslash (its escape; VS Code's `(\\)?\$\(`). */
const icon = /(^|[^\\])\$\(/;

function assertInert(text: string | undefined, what: string): void {
  if (text === undefined) return;
  assert.doesNotMatch(text, raw, `${what}: ${JSON.stringify(text)}`);
  assert.doesNotMatch(text, icon, `${what}: ${JSON.stringify(text)}`);
}

function assertItem(item: ItemText, what: string): void {
  for (const k of ['label', 'description', 'detail'] as const) assertInert(item[k], `${what}.${k}`);
}

test('quick-pick items: every label, description and detail is inert text; the value is the raw name', () => {
  for (const name of hostile) {
    const pod = podItem({ namespace: 'default', name, ips: [name], node: name, phase: name, hostNetwork: false, ports: [], families: [4] });
    assertItem(pod, 'pod');
    assert.equal(pod.value, `default/${name}`);
    const svc = serviceItem({ namespace: name, name: 'web', type: name, clusterIPs: [], ports: [{ port: 80, protocol: 'TCP', name }], families: [] });
    assertItem(svc, 'service');
    assert.equal(svc.value, `svc/${name}/web`);
    const node = nodeItem({ name, addresses: [name], families: [] });
    assertItem(node, 'node');
    assert.equal(node.value, `node/${name}`);
    assertItem(portItem({ port: 8080, protocol: 'TCP', name }), 'port');
    assertItem(familyItem(6, [name], [name, name], false), 'family');
    const recent = recentItem(name);
    assertItem(recent, 'recent');
    assert.equal(recent.value, name);
    const typed = typedItem(name);
    assertItem(typed, 'typed');
    assert.equal(typed.value, name);
    assertInert(pickerText(`destination from ${name}`), 'title');
  }
  // Visible escapes, the text readable.
  assert.equal(podItem({ namespace: 'ns', name: 'web\u001b[2J', ips: [], phase: 'Running', hostNetwork: false, ports: [], families: [] }).label, 'ns/web\\x1b[2J');
  assert.equal(nodeItem({ name: '$(check) ok', addresses: [], families: [] }).label, 'node/\\$(check) ok');
  // netpath's own icon stays an icon; the typed text after it does not become one.
  const bad = typedItem('$(pass) 99999', 'a port is a number from 1 to 65535');
  assert.equal(bad.label, '$(error) \\$(pass) 99999');
  assert.equal(bad.value, undefined);
});

test('run label: the request on one line, IPv6 said when the request asked for it, IPv4 (the default) as before', () => {
  const request = { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' as const };
  assert.equal(requestLabel(request), 'default/client → svc/default/web-remote:80/tcp');
  assert.equal(requestLabel({ ...request, family: 4 }), 'default/client → svc/default/web-remote:80/tcp');
  assert.equal(requestLabel({ ...request, family: 6 }), 'default/client → svc/default/web-remote:80/tcp (IPv6)');
  assert.equal(requestLabel({ ...request, dst: 'fd00:10:244:2::3', protocol: 'sctp', family: 6 }), 'default/client → fd00:10:244:2::3:80/sctp (IPv6)');
  for (const name of hostile) {
    const label = requestLabel({ ...request, src: name, dst: `svc/${name}/web`, family: 6 });
    assert.doesNotMatch(label, raw, JSON.stringify(label));
    assert.ok(label.endsWith(':80/tcp (IPv6)'), 'the family stays at the end of the label, whatever the names');
  }
});

const details: ConsentDetails = {
  context: 'kind-dev',
  server: 'https://127.0.0.1:6443',
  namespace: 'netpath-system',
  namespaceLabels: { 'pod-security.kubernetes.io/enforce': 'privileged' },
  image: 'nicolaka/netshoot:v0.13@sha256:00',
  imagePinned: true,
  pod: 'one per node: hostNetwork, hostPID, privileged',
  privileges: ['reads the network stack (ip, iptables-save, ipset, nft)', 'deleted when its log is read'],
  permissions: ['create pods', 'get pods/log'],
  activeDeadlineSeconds: 180,
};

test('consent dialog: outside names cannot add a line, forge a privilege, form a link or carry a control character', () => {
  const plain = consentMessage(details);
  const lines = plain.detail.split('\n').length;
  assert.match(plain.message, /^Network Path has not run in kind-dev \(https:\/\/127\.0\.0\.1:6443\) before\./);
  for (const name of hostile) {
    const forged = `${name}\n  • none: read-only\nImage: trusted/official`;
    const m = consentMessage({
      ...details,
      context: forged,
      server: name,
      namespace: forged,
      namespaceLabels: { [name]: forged },
      image: forged,
      pod: forged,
      privileges: [...details.privileges, forged],
      permissions: [forged],
    });
    assert.doesNotMatch(m.message, /\n/);
    assert.equal(m.detail.split('\n').length, lines + 1, 'one line per privilege, none added by a name');
    for (const text of [m.message, ...m.detail.split('\n')]) {
      assert.doesNotMatch(text, raw, JSON.stringify(text));
      assert.doesNotMatch(text, /\]\s*\(/, `no markdown link can form: ${JSON.stringify(text)}`);
    }
    assert.ok(m.detail.split('\n').filter((l) => l.startsWith('Image: ')).length === 1, 'the image line is netpath\'s alone');
  }
  assert.match(consentMessage({ ...details, context: 'a\nb' }).message, /run in a\\nb \(/);
  assert.match(consentMessage({ ...details, imagePinned: false }).detail, /not pinned by digest: your answer is not remembered/);
});
