// ServiceProcessor: proxy mode detection, kube-proxy iptables chains traced against the ready
// endpoints (lab kube-svc-flushed, no-ready-endpoints, and mutations: a stale DNAT, a missing
// branch), IPVS virtual/real servers on a hand-made node (no IPVS in this kernel), and KubeSkoop's
// e2e service cases 18-19 (service without endpoints from a pod and from a node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { NetNS } from '../../src/engine/netstack/netns';
import { ClusterCache } from '../../src/engine/k8s/cache';
import { ServiceProcessor } from '../../src/engine/service/processor';
import { configuredProxyMode, proxyModeFromRules } from '../../src/engine/service/proxy-mode';
import { SuspicionLevel } from '../../src/engine/model/suspicion';
import { diagnose, findings, host, lab, on } from './plugin-fixtures';

function natOf(s: ReturnType<typeof lab>, node: string): { get: () => string; set: (t: string) => void } {
  const ipt = host(s, node).iptables;
  const k = Object.keys(ipt).find((x) => ipt[x])!;
  return { get: () => ipt[k], set: (t: string) => { ipt[k] = t; } };
}

test('proxy mode: settings, else the kube-proxy ConfigMap, else the node rules', () => {
  const s = lab('flannel-host-gw--healthy');
  const snap = loadSnapshot(JSON.stringify(s));
  assert.deepEqual(configuredProxyMode(snap), { value: 'iptables', source: 'ConfigMap kube-system/kube-proxy config.conf mode' });
  assert.equal(proxyModeFromRules(new NetNS(snap.dumps.node1.node, 'node1'))?.value, 'iptables');
  s.settings.proxyMode = 'ipvs';
  assert.deepEqual(configuredProxyMode(loadSnapshot(JSON.stringify(s))), { value: 'ipvs', source: 'settings.proxyMode' });
  s.settings.proxyMode = undefined;
  delete s.settings.proxyMode;
  s.objects.configMaps = s.objects.configMaps.filter((c: { metadata: { name: string } }) => c.metadata.name !== 'kube-proxy');
  assert.equal(configuredProxyMode(loadSnapshot(JSON.stringify(s))), undefined);
});

test('lab kube-svc-flushed: node1 has no DNAT for web-remote → kube-proxy.chain-missing FATAL with the empty chain as evidence', () => {
  const r = diagnose(lab('flannel-host-gw--kube-svc-flushed'), 'default/client', 'svc/default/web-remote', 80);
  const s = on(r, 'node1', 'kube-proxy.chain-missing');
  assert.ok(s, findings(r).join(' '));
  assert.equal(s.level, SuspicionLevel.FATAL);
  const texts = s.evidence.map((e) => e.text);
  assert.ok(texts.some((t) => /-A KUBE-SERVICES -d 10\.96\.0\.20\/32 .* -j KUBE-SVC-BTRGN6O3XN3GFUSJ/.test(t)), texts.join('\n'));
  assert.ok(texts.includes(':KUBE-SVC-BTRGN6O3XN3GFUSJ - (no rules)'), texts.join('\n'));
  assert.equal(r.verdict, 'unreachable');
  // the other services of that node are fine
  assert.equal(on(diagnose(lab('flannel-host-gw--kube-svc-flushed'), 'default/client', 'svc/default/web-local', 80), 'node1', 'kube-proxy.chain-missing'), undefined);
});

test('lab no-ready-endpoints (e2e 18/19): the service finding sits on the node whose kube-proxy handles it, from a pod and from a node', () => {
  const r = diagnose(lab('flannel-host-gw--no-ready-endpoints'), 'default/client', 'svc/default/web-remote', 80);
  assert.ok(on(r, 'node1', 'service.no-ready-endpoints'), findings(r).join(' '));
  assert.deepEqual(r.nodes.map((n) => n.id), ['default/client', 'node1']);
  const r2 = diagnose(lab('flannel-host-gw--no-ready-endpoints'), 'node/node1', 'svc/default/web-remote', 80);
  assert.ok(on(r2, 'node1', 'service.no-ready-endpoints'), findings(r2).join(' '));
  assert.deepEqual(r2.nodes.map((n) => n.id), ['node1']);
  // a service whose selector matches nothing: service.no-endpoints
  const s = lab('flannel-host-gw--healthy');
  const svc = s.objects.services.find((x: { metadata: { name: string } }) => x.metadata.name === 'web-remote');
  svc.spec.selector = { app: 'nothing' };
  s.objects.endpointSlices = s.objects.endpointSlices.filter((e: { metadata: { labels?: Record<string, string> } }) => e.metadata.labels?.['kubernetes.io/service-name'] !== 'web-remote');
  delete s.objects.originalEndpointSlices;
  s.objects.endpoints = s.objects.endpoints.filter((e: { metadata: { name: string } }) => e.metadata.name !== 'web-remote');
  const r3 = diagnose(s, 'default/client', 'svc/default/web-remote', 80);
  const ne = on(r3, 'node1', 'service.no-endpoints');
  assert.ok(ne, findings(r3).join(' '));
  assert.match(ne.message, /matches no pod/);
});

test('stale DNAT: a KUBE-SEP pointing at an address that is no ready endpoint → kube-proxy.stale-endpoint CRITICAL', () => {
  const s = lab('flannel-host-gw--healthy');
  const nat = natOf(s, 'node1');
  assert.ok(nat.get().includes('--to-destination 10.244.2.2:8080'));
  nat.set(nat.get().replace('--to-destination 10.244.2.2:8080', '--to-destination 10.244.2.9:8080'));
  const r = diagnose(s, 'default/client', 'svc/default/web-remote', 80);
  const st = on(r, 'node1', 'kube-proxy.stale-endpoint');
  assert.ok(st, findings(r).join(' '));
  assert.equal(st.level, SuspicionLevel.CRITICAL);
  assert.match(st.message, /100% of new connections .* 10\.244\.2\.9:8080/);
  assert.ok(on(r, 'node1', 'kube-proxy.missing-endpoint'), 'the ready endpoint 10.244.2.2:8080 has no branch');
});

test('a second ready endpoint kube-proxy has not programmed → kube-proxy.missing-endpoint WARNING, branches listed with probabilities', () => {
  const s = lab('flannel-host-gw--healthy');
  const slice = s.objects.endpointSlices.find((e: { metadata: { labels?: Record<string, string> } }) => e.metadata.labels?.['kubernetes.io/service-name'] === 'web-remote');
  slice.endpoints.push({ addresses: ['10.244.2.7'], conditions: { ready: true }, nodeName: 'node2' });
  const r = diagnose(s, 'default/client', 'svc/default/web-remote', 80);
  const m = on(r, 'node1', 'kube-proxy.missing-endpoint');
  assert.ok(m, findings(r).join(' '));
  assert.equal(m.level, SuspicionLevel.WARNING);
  assert.match(m.message, /10\.244\.2\.7:8080/);
  // two statistic branches: each 50%
  const nat = natOf(lab('flannel-host-gw--healthy'), 'node1').get();
  const two = nat
    .replace(':KUBE-SEP-WO6W74E3ZZR2YDBQ - [0:0]', ':KUBE-SEP-WO6W74E3ZZR2YDBQ - [0:0]\n:KUBE-SEP-EXTRA - [0:0]')
    .replace(/-A KUBE-SVC-BTRGN6O3XN3GFUSJ (.*) -j KUBE-SEP-WO6W74E3ZZR2YDBQ/, '-A KUBE-SVC-BTRGN6O3XN3GFUSJ -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-EXTRA\n-A KUBE-SVC-BTRGN6O3XN3GFUSJ $1 -j KUBE-SEP-WO6W74E3ZZR2YDBQ\n-A KUBE-SEP-EXTRA -p tcp -m tcp -j DNAT --to-destination 10.244.2.7:8080');
  assert.notEqual(two, nat);
  natOf(s, 'node1').set(two);
  const r2 = diagnose(s, 'default/client', 'svc/default/web-remote', 80);
  assert.equal(on(r2, 'node1', 'kube-proxy.missing-endpoint'), undefined, findings(r2).join(' '));
  assert.match(on(r2, 'node1', 'kube-proxy.branches')!.message, /10\.244\.2\.2:8080 50%, 10\.244\.2\.7:8080 50%/);
});

function ipvsSnapshot(realServers: string[], withDummy: boolean, setMember: boolean) {
  const s = lab('flannel-host-gw--healthy');
  s.settings.proxyMode = 'ipvs';
  const n = host(s, 'node1');
  n.ipvs = `-A -t 10.96.0.20:80 -s rr\n${realServers.map((r) => `-a -t 10.96.0.20:80 -r ${r} -m -w 1`).join('\n')}\n`;
  if (withDummy) {
    n.links.push({ ifindex: 99, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP'], mtu: 1500, operstate: 'DOWN', link_type: 'ether', linkinfo: { info_kind: 'dummy' } });
    n.addresses.push({ ifindex: 99, ifname: 'kube-ipvs0', flags: ['BROADCAST', 'NOARP'], mtu: 1500, operstate: 'DOWN', addr_info: [{ family: 'inet', local: '10.96.0.20', prefixlen: 32, scope: 'global' }] });
  }
  n.ipsets = `create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\n${setMember ? 'add KUBE-CLUSTER-IP 10.96.0.20,tcp:80\n' : ''}`;
  return s;
}

function ipvsChecks(s: ReturnType<typeof lab>) {
  const snap = loadSnapshot(JSON.stringify(s));
  const net = new Network(snap);
  const sp = new ServiceProcessor(snap, new ClusterCache(snap.objects));
  return sp.checks('node1', net.stack('node1')!.host, { src: '10.244.1.2', sport: 40000, dst: '10.96.0.20', dport: 80, protocol: 'tcp', mark: 0 });
}

test('ipvs (hand-made node): healthy virtual server, then each fault', (t) => {
  const ok = ipvsChecks(ipvsSnapshot(['10.244.2.2:8080'], true, true));
  assert.deepEqual(ok.filter((x) => x.level >= SuspicionLevel.WARNING).map((x) => x.check), []);
  const cases: [string, ReturnType<typeof lab>, string[]][] = [
    ['stale real server', ipvsSnapshot(['10.244.2.2:8080', '10.244.2.9:8080'], true, true), ['kube-proxy.stale-endpoint']],
    ['endpoint not a real server', ipvsSnapshot([], true, true), ['kube-proxy.missing-endpoint']],
    ['no kube-ipvs0 address', ipvsSnapshot(['10.244.2.2:8080'], false, true), ['kube-proxy.ipvs-address-missing']],
    ['not in KUBE-CLUSTER-IP', ipvsSnapshot(['10.244.2.2:8080'], true, false), ['kube-proxy.ipset-missing']],
  ];
  for (const [what, s, want] of cases) {
    const got = ipvsChecks(s).filter((x) => x.level >= SuspicionLevel.WARNING).map((x) => x.check);
    t.diagnostic(`${what}: ${got.join(', ')}`);
    assert.deepEqual(got, want, what);
  }
  const none = ipvsSnapshot([], true, true);
  host(none, 'node1').ipvs = '-A -t 10.96.0.99:80 -s rr\n';
  const missing = ipvsChecks(none).filter((x) => x.level >= SuspicionLevel.WARNING);
  assert.deepEqual(missing.map((x) => [x.check, SuspicionLevel[x.level]]), [['kube-proxy.ipvs-service-missing', 'FATAL']]);
});
