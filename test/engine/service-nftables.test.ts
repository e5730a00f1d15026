// kube-proxy's nftables mode in the ServiceProcessor: the lab's flannel host-gw cluster with three
// more services (LoadBalancer + externalIP + source ranges over two endpoints, NodePort with
// externalTrafficPolicy Local, a service without endpoints) and each node's `ip kube-proxy` table as
// the real nft printed it (test/support/nft-kube-proxy.ts). Healthy: every service type on both
// nodes gives no finding above INFO, in both NodePort forms (nodeport-ips set, fib daddr type
// local). Then each fault, made by editing that JSON the way a stale or broken kube-proxy leaves it.
// Last, `netpath diagnose`'s text report on the committed lab cases of that mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { ClusterCache } from '../../src/engine/k8s/cache';
import { ServiceProcessor } from '../../src/engine/service/processor';
import { configuredProxyMode, proxyModeFromRules } from '../../src/engine/service/proxy-mode';
import { SuspicionLevel, type Suspicion } from '../../src/engine/model/suspicion';
import type { Packet } from '../../src/engine/model/packet';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatText } from '../../src/engine/report/text';
import { labDir } from '../support/lab-cases';
import { fixturesPresent, nftProxySnapshot, type NodePortForm } from '../support/nft-kube-proxy';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Snap = any;

const skip = !fixturesPresent() && 'test/fixtures/nft-kube-proxy missing: npx tsx test/lab/nft-proxy.ts --fixtures (root)';

function checks(s: Snap, node: string, p: Partial<Packet> & { dst: string; dport: number }): Suspicion[] {
  const snap = loadSnapshot(JSON.stringify(s));
  const net = new Network(snap);
  const sp = new ServiceProcessor(snap, new ClusterCache(snap.objects));
  return sp.checks(node, net.stack(node)!.host, { src: '10.244.1.2', sport: 40000, protocol: 'tcp', mark: 0, ...p });
}

const readLabCase = (name: string) => readFileSync(join(labDir, name, 'snapshot.netpath.json'), 'utf8');
const serious = (f: Suspicion[]) => f.filter((x) => x.level >= SuspicionLevel.WARNING).map((x) => `${SuspicionLevel[x.level]} ${x.check}: ${x.message}`);
const find = (f: Suspicion[], check: string) => f.find((x) => x.check === check);

/** node1's kube-proxy table objects, to edit in place. */
function kp(s: Snap, node = 'node1'): Snap[] {
  return s.dumps[node].node.nftables.nftables.filter((o: Snap) => (o.rule ?? o.chain ?? o.map ?? o.set ?? o.table)?.table === 'kube-proxy' || o.table?.name === 'kube-proxy');
}
const rulesOf = (s: Snap, chainPrefix: string, node = 'node1') => kp(s, node).filter((o) => o.rule && o.rule.chain.startsWith(chainPrefix)).map((o) => o.rule);
const mapOf = (s: Snap, name: string, node = 'node1') => kp(s, node).find((o) => o.map?.name === name).map;
const keyText = (k: Snap) => JSON.stringify(k.elem?.val ?? k);

test('proxy mode: nftables from the ConfigMap, and from the table ip kube-proxy alone', { skip }, () => {
  const s = nftProxySnapshot();
  assert.equal(configuredProxyMode(loadSnapshot(JSON.stringify(s)))?.value, 'nftables');
  s.objects.configMaps = s.objects.configMaps.filter((c: Snap) => c.metadata.name !== 'kube-proxy');
  const snap = loadSnapshot(JSON.stringify(s));
  assert.equal(configuredProxyMode(snap), undefined);
  const net = new Network(snap);
  assert.deepEqual(proxyModeFromRules(net.stack('node1')!.host), { value: 'nftables', source: 'node1: nftables table ip kube-proxy' });
  // no mode is configured: the checks follow the rules, and a healthy ClusterIP has nothing to say
  assert.deepEqual(serious(checks(s, 'node1', { dst: '10.96.0.20', dport: 80 })), []);
});

for (const form of ['nodeport-ips', 'fib'] as NodePortForm[]) {
  test(`healthy (${form}): every service type on both nodes, no finding above INFO`, { skip }, () => {
    const s = nftProxySnapshot(form);
    const cases: [string, Partial<Packet> & { dst: string; dport: number }, string[]][] = [
      ['node1', { dst: '10.96.0.10', dport: 80 }, ['10.244.1.3:8080']],
      ['node1', { dst: '10.96.0.20', dport: 80 }, ['10.244.2.2:8080']],
      ['node1', { dst: '10.96.0.53', dport: 53, protocol: 'udp' }, ['10.244.2.2:5353']],
      ['node1', { dst: '10.96.0.30', dport: 80 }, ['10.244.1.3:8080', '10.244.2.2:8080']],
      // externalIP and LB ingress IP from an allowed source outside the cluster
      ['node1', { src: '203.0.113.10', dst: '192.0.2.50', dport: 80 }, ['10.244.1.3:8080', '10.244.2.2:8080']],
      ['node1', { src: '203.0.113.10', dst: '192.0.2.60', dport: 80 }, ['10.244.1.3:8080', '10.244.2.2:8080']],
      // NodePorts on the node's own address
      ['node2', { src: '203.0.113.10', dst: '198.51.100.12', dport: 30080 }, ['10.244.2.2:8080']],
      ['node1', { src: '203.0.113.10', dst: '198.51.100.11', dport: 30081 }, ['10.244.1.3:8080', '10.244.2.2:8080']],
      // ETP Local: node2 has the endpoint; a pod on node1 is short-circuited to all endpoints
      ['node2', { src: '203.0.113.10', dst: '198.51.100.12', dport: 30082 }, ['10.244.2.2:8080']],
      ['node1', { src: '10.244.1.2', dst: '198.51.100.11', dport: 30082 }, ['10.244.2.2:8080']],
      // ... and so is the node itself (fib saddr type local)
      ['node1', { src: '198.51.100.11', dst: '198.51.100.11', dport: 30082 }, ['10.244.2.2:8080']],
      ['node1', { dst: '10.96.0.40', dport: 80 }, ['10.244.2.2:8080']],
    ];
    for (const [node, p, targets] of cases) {
      const f = checks(s, node, p);
      assert.deepEqual(serious(f), [], `${node} ${p.dst}:${p.dport}`);
      const b = find(f, 'kube-proxy.branches');
      if (targets.length > 1) assert.match(b?.message ?? '', new RegExp(targets.map((t) => `${t.replace(/\./g, '\\.')} 50%`).join(', ')), `${node} ${p.dst}:${p.dport}`);
      else assert.equal(b, undefined);
      assert.equal(find(f, 'kube-proxy.not-checked'), undefined);
    }
  });
}

test('ETP Local without a local endpoint (node1, from outside): the service finding only; kube-proxy drops it in filter-input', { skip }, () => {
  const f = checks(nftProxySnapshot(), 'node1', { src: '203.0.113.10', dst: '198.51.100.11', dport: 30082 });
  assert.deepEqual(serious(f).map((x) => x.split(':')[0]), ['FATAL service.no-local-endpoints']);
});

test('no endpoints: service.no-endpoints and nothing about kube-proxy, whose no-endpoint-services element rejects', { skip }, () => {
  const f = checks(nftProxySnapshot(), 'node1', { dst: '10.96.0.50', dport: 80 });
  assert.deepEqual(serious(f).map((x) => x.split(':')[0]), ['FATAL service.no-endpoints']);
});

test('LB source ranges: a source outside them is the service finding; the firewall chain drops it', { skip }, () => {
  const f = checks(nftProxySnapshot(), 'node1', { src: '192.0.2.99', dst: '192.0.2.60', dport: 80 });
  assert.deepEqual(serious(f).map((x) => x.split(':')[0]), ['CRITICAL service.source-range-deny']);
});

test('missing endpoint element: the numgen vmap of web-lb lost web2 → kube-proxy.missing-endpoint WARNING', { skip }, () => {
  const s = nftProxySnapshot();
  const r = rulesOf(s, 'service-7CESZMOH-default/web-lb/').find((x: Snap) => x.expr[0].vmap);
  r.expr[0].vmap.key.numgen.mod = 1;
  r.expr[0].vmap.data.set = r.expr[0].vmap.data.set.slice(0, 1);
  const f = checks(s, 'node1', { dst: '10.96.0.30', dport: 80 });
  const m = find(f, 'kube-proxy.missing-endpoint');
  assert.ok(m, serious(f).join('\n'));
  assert.equal(m.level, SuspicionLevel.WARNING);
  assert.match(m.message, /ready endpoint 10\.244\.2\.2:8080 \(pod default\/web2\) of default\/web-lb TCP 10\.96\.0\.30:80/);
  assert.deepEqual(m.evidence.map((e) => e.text), ['10.244.2.2:8080 ready=true node=node2', 'dnat to 10.244.1.3:8080 (100%)']);
  assert.equal(find(f, 'kube-proxy.chain-missing'), undefined);
});

test('half of the numgen values lead nowhere (mod 2, one element) → kube-proxy.chain-missing CRITICAL 50% un-DNATed', { skip }, () => {
  const s = nftProxySnapshot();
  const r = rulesOf(s, 'service-7CESZMOH-default/web-lb/').find((x: Snap) => x.expr[0].vmap);
  r.expr[0].vmap.data.set = r.expr[0].vmap.data.set.slice(0, 1);
  const f = checks(s, 'node1', { dst: '10.96.0.30', dport: 80 });
  const c = find(f, 'kube-proxy.chain-missing');
  assert.ok(c, serious(f).join('\n'));
  assert.equal(c.level, SuspicionLevel.CRITICAL);
  assert.match(c.message, /leaves 50% of new connections/);
  assert.ok(find(f, 'kube-proxy.missing-endpoint'));
});

test('stale endpoint: an endpoint chain DNATs to an address that is no ready endpoint → kube-proxy.stale-endpoint CRITICAL with the nft rule', { skip }, () => {
  const s = nftProxySnapshot();
  const r = rulesOf(s, 'endpoint-').find((x: Snap) => x.chain.includes('default/web-remote/') && x.expr.some((e: Snap) => e.dnat));
  r.expr.find((e: Snap) => e.dnat).dnat.addr = '10.244.2.9';
  const f = checks(s, 'node1', { dst: '10.96.0.20', dport: 80 });
  const st = find(f, 'kube-proxy.stale-endpoint');
  assert.ok(st, serious(f).join('\n'));
  assert.equal(st.level, SuspicionLevel.CRITICAL);
  assert.match(st.message, /sends 100% of new connections to default\/web-remote TCP 10\.96\.0\.20:80 to 10\.244\.2\.9:8080/);
  const texts = st.evidence.map((e) => e.text);
  assert.ok(texts.some((t) => /^table ip kube-proxy chain services handle \d+: ip daddr \. meta l4proto \. th dport vmap @service-ips$/.test(t)), texts.join('\n'));
  assert.ok(texts.some((t) => /^table ip kube-proxy chain endpoint-[A-Z0-9]{8}-default\/web-remote\/tcp\/http__10\.244\.2\.2\/8080 handle \d+: meta l4proto tcp dnat to 10\.244\.2\.9:8080$/.test(t)), texts.join('\n'));
  assert.ok(st.evidence.every((e) => e.kind === 'nftables' && e.where === 'node1'));
  assert.ok(find(f, 'kube-proxy.missing-endpoint'));
});

test('wrong DNAT port: web-remote DNATed to web2:8081 → stale-endpoint CRITICAL for :8081, missing-endpoint for :8080', { skip }, () => {
  const s = nftProxySnapshot();
  const r = rulesOf(s, 'endpoint-').find((x: Snap) => x.chain.includes('default/web-remote/') && x.expr.some((e: Snap) => e.dnat));
  r.expr.find((e: Snap) => e.dnat).dnat.port = 8081;
  const f = checks(s, 'node1', { dst: '10.96.0.20', dport: 80 });
  assert.match(find(f, 'kube-proxy.stale-endpoint')?.message ?? serious(f).join('\n'), /to 10\.244\.2\.2:8081, which is not a ready endpoint of the service \(ready: 10\.244\.2\.2:8080\)/);
  assert.match(find(f, 'kube-proxy.missing-endpoint')?.message ?? '', /10\.244\.2\.2:8080/);
});

test('service-ips element missing → kube-proxy.chain-missing FATAL naming the absent element', { skip }, () => {
  const s = nftProxySnapshot();
  const m = mapOf(s, 'service-ips');
  m.elem = m.elem.filter((e: Snap) => !keyText(e[0]).includes('10.96.0.20'));
  const f = checks(s, 'node1', { dst: '10.96.0.20', dport: 80 });
  const c = find(f, 'kube-proxy.chain-missing');
  assert.ok(c, serious(f).join('\n'));
  assert.equal(c.level, SuspicionLevel.FATAL);
  assert.match(c.message, /does not DNAT default\/web-remote TCP 10\.96\.0\.20:80 to any of its 1 ready endpoint \(10\.244\.2\.2:8080\)/);
  const texts = c.evidence.map((e) => e.text);
  assert.ok(texts.includes('no element 10.96.0.20 . tcp . 80 in map service-ips (6 elements)'), texts.join('\n'));
  assert.ok(texts.some((t) => /chain nat-prerouting handle \d+: jump services$/.test(t)), texts.join('\n'));
});

test('kube-proxy takes a service with endpoints for one without: the no-endpoint-services element is the evidence', { skip }, () => {
  const s = nftProxySnapshot();
  const m = mapOf(s, 'service-ips');
  m.elem = m.elem.filter((e: Snap) => !keyText(e[0]).includes('10.96.0.20'));
  mapOf(s, 'no-endpoint-services').elem.push([{ elem: { val: { concat: ['10.96.0.20', 'tcp', 80] }, comment: 'default/web-remote:http' } }, { goto: { target: 'reject-chain' } }]);
  const f = checks(s, 'node1', { dst: '10.96.0.20', dport: 80 });
  const texts = find(f, 'kube-proxy.chain-missing')?.evidence.map((e) => e.text) ?? [];
  assert.ok(texts.includes('element 10.96.0.20 . tcp . 80 : goto reject-chain in map no-endpoint-services: kube-proxy takes the service for one without endpoints'), texts.join('\n'));
  // from node1 itself the filter-output reject of that element is met on the way: the walk reports it
  const local = checks(s, 'node1', { src: '198.51.100.11', dst: '10.96.0.20', dport: 80 });
  assert.equal(find(local, 'kube-proxy.chain-missing'), undefined, serious(local).join('\n'));
});

test('service chain flushed → chain-missing FATAL: the element leads to a chain without rules', { skip }, () => {
  const s = nftProxySnapshot();
  const list = s.dumps.node1.node.nftables.nftables;
  s.dumps.node1.node.nftables.nftables = list.filter((o: Snap) => !(o.rule && o.rule.chain.startsWith('service-CMJYN56S-default/web-remote/')));
  const f = checks(s, 'node1', { dst: '10.96.0.20', dport: 80 });
  const texts = find(f, 'kube-proxy.chain-missing')?.evidence.map((e) => e.text) ?? [];
  assert.ok(texts.includes('element 10.96.0.20 . tcp . 80 : goto service-CMJYN56S-default/web-remote/tcp/http'), texts.join('\n'));
  assert.ok(texts.includes('chain service-CMJYN56S-default/web-remote/tcp/http has no rules'), texts.join('\n'));
});

test('NodePort element missing from service-nodeports → chain-missing FATAL (both NodePort forms)', { skip }, () => {
  for (const form of ['nodeport-ips', 'fib'] as NodePortForm[]) {
    const s = nftProxySnapshot(form);
    const m = mapOf(s, 'service-nodeports', 'node2');
    m.elem = m.elem.filter((e: Snap) => !keyText(e[0]).includes('30080'));
    const f = checks(s, 'node2', { src: '203.0.113.10', dst: '198.51.100.12', dport: 30080 });
    const c = find(f, 'kube-proxy.chain-missing');
    assert.equal(c?.level, SuspicionLevel.FATAL, `${form}: ${serious(f).join('\n')}`);
    assert.ok(c.evidence.some((e) => e.text === 'no element tcp . 30080 in map service-nodeports (2 elements)'), c.evidence.map((e) => e.text).join('\n'));
    assert.equal(c.undecided, undefined, form);
  }
});

test('no table ip kube-proxy on a node in nftables mode → chain-missing FATAL', { skip }, () => {
  const s = nftProxySnapshot();
  s.dumps.node1.node.nftables.nftables = s.dumps.node1.node.nftables.nftables.filter((o: Snap) => !kp(s).includes(o));
  const f = checks(s, 'node1', { dst: '10.96.0.20', dport: 80 });
  const c = find(f, 'kube-proxy.chain-missing');
  assert.equal(c?.level, SuspicionLevel.FATAL, serious(f).join('\n'));
  assert.match(c.evidence[0].text, /^no table ip kube-proxy among ip nat, ip filter/);
});

test('an expression netpath does not model on the way: findings at most WARNING and marked undecided', { skip }, () => {
  const s = nftProxySnapshot();
  const m = mapOf(s, 'service-ips');
  m.elem = m.elem.filter((e: Snap) => !keyText(e[0]).includes('10.96.0.20'));
  rulesOf(s, 'nat-prerouting')[0].expr.unshift({ match: { op: '==', left: { osf: { key: 'name' } }, right: 'Linux' } });
  const f = checks(s, 'node1', { dst: '10.96.0.20', dport: 80 });
  const c = find(f, 'kube-proxy.chain-missing');
  assert.equal(c?.level, SuspicionLevel.WARNING, serious(f).join('\n'));
  assert.match(c.undecided?.[0].where ?? '', /table ip kube-proxy chain nat-prerouting handle \d+/);
});

test('ip6 kube-proxy: an IPv6 ClusterIP is traced through the ip6 table; a stale dnat there is found', { skip }, () => {
  const s = nftProxySnapshot();
  const p = { src: 'fd00:244:1::2', dst: 'fd00:96::20', dport: 80 };
  assert.deepEqual(serious(checks(s, 'node1', p)), []);
  const r = kp(s).find((o) => o.rule?.family === 'ip6' && o.rule.chain.startsWith('endpoint-') && o.rule.expr.some((e: Snap) => e.dnat)).rule;
  r.expr.find((e: Snap) => e.dnat).dnat.addr = 'fd00:244:2::9';
  const f = checks(s, 'node1', p);
  const st = find(f, 'kube-proxy.stale-endpoint');
  assert.match(st?.message ?? serious(f).join('\n'), /to \[fd00:244:2::9\]:8080, which is not a ready endpoint of the service \(ready: \[fd00:244:2::2\]:8080\)/);
  assert.ok(st!.evidence.some((e) => /^table ip6 kube-proxy chain services handle \d+: ip6 daddr \. meta l4proto \. th dport vmap @service-ips$/.test(e.text)), st!.evidence.map((e) => e.text).join('\n'));
});

test('netpath diagnose on the lab cluster in nftables mode: ClusterIP → backend pod through the table, the nft rule as evidence', () => {
  const healthy = readLabCase('flannel-host-gw-nftproxy--healthy');
  const r = new Network(loadSnapshot(healthy)).diagnose({ src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' });
  assert.equal(r.verdict, 'reachable');
  const text = formatText(r);
  assert.match(text, /node1 eth0 --infra--> node2 eth0 {2}\[tcp 10\.244\.1\.2:0 -> 10\.244\.2\.2:8080\] .*DNAT 10\.96\.0\.20:80 -> 10\.244\.2\.2:8080 \(nftables table ip kube-proxy chain endpoint-[A-Z0-9]{8}-default\/web-remote\/tcp\/http__10\.244\.2\.2\/8080 handle \d+: meta l4proto tcp dnat to 10\.244\.2\.2:8080\)/);
  assert.match(text, /node2 veth\w+ --veth--> default\/web2 eth0 .*serve/);
  assert.doesNotMatch(text, /kube-proxy\.not-checked/);

  const wrong = readLabCase('flannel-host-gw-nftproxy--nft-dnat-wrong-port');
  const w = new Network(loadSnapshot(wrong)).diagnose({ src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' });
  assert.equal(w.verdict, 'unreachable');
  const wt = formatText(w);
  assert.match(wt, /\[CRITICAL\] kube-proxy on node1 sends 100% of new connections to default\/web-remote TCP 10\.96\.0\.20:80 to 10\.244\.2\.2:8081/);
  assert.match(wt, /node1: table ip kube-proxy chain endpoint-[A-Z0-9]{8}-default\/web-remote\/tcp\/http__10\.244\.2\.2\/8080 handle \d+: meta l4proto tcp counter dnat to 10\.244\.2\.2:8081/);
});

test('the lab cluster\'s kube-proxy NodePort rule in upstream\'s default form (fib daddr type local): a NodePort from outside and from a pod is followed to the backend, nothing undecided', () => {
  const healthy = readLabCase('flannel-host-gw-nftproxy--healthy');
  const net = new Network(loadSnapshot(healthy));
  for (const src of ['198.51.100.200', 'default/client']) {
    const r = net.diagnose({ src, dst: 'node/node2', port: 30080, protocol: 'tcp' });
    assert.equal(r.verdict, 'reachable', src);
    assert.ok(!r.nodes.some((n) => n.suspicions.some((s) => s.undecided || s.check.startsWith('nftables.'))), `${src}: ${r.nodes.flatMap((n) => n.suspicions.map((s) => s.check)).join(' ')}`);
    assert.ok(r.links.some((l) => /DNAT 198\.51\.100\.12:30080 -> 10\.244\.2\.2:8080 \(nftables table ip kube-proxy chain endpoint-/.test(l.sourceAttributes.nat ?? '') || /DNAT 198\.51\.100\.12:30080 -> 10\.244\.2\.2:8080 \(nftables table ip kube-proxy chain endpoint-/.test(l.destinationAttributes?.nat ?? '')), src);
  }
});
