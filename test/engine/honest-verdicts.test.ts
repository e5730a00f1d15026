// Issue 13, "Why": each place where netpath used to be silent and confident at the edge of its
// model, on a real lab cluster (flannel host-gw / calico, two nodes) changed in that one place.
// Each case failed before the change (REACHABLE, a confident drop, the wrong ingress).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SuspicionLevel } from '../../src/engine/model/suspicion';
import { parseIptablesSave } from '../../src/engine/netstack/iptables/parse';
import { ParseError } from '../../src/engine/netstack/parse-error';
import { validateNetns } from '../../src/collector/validate';
import { addFilterRules, diagnose, findingsOf, hostOf, labSnapshot, pushNftDrop, WEB2, WEB2_IP } from './honest-fixture';

const FLANNEL = 'flannel-host-gw--healthy';

test('the unchanged lab case is reachable: iptables-nft\'s own nftables tables are not native chains', () => {
  for (const c of [FLANNEL, 'calico-bgp--healthy', 'calico-vxlan--healthy', 'flannel-vxlan--healthy', 'generic-bridge--healthy']) {
    const r = diagnose(labSnapshot(c), WEB2.src, WEB2.dst, WEB2.port);
    assert.equal(r.verdict, 'reachable', c);
    assert.ok(!r.nodes.some((n) => n.suspicions.some((s) => s.undecided)), c);
  }
});

test('a native nftables chain on the forward hook is simulated: its drop stops the packet, with the rule as evidence (was REACHABLE)', () => {
  const s = labSnapshot(FLANNEL);
  pushNftDrop(s, 'node2', { family: 'inet', table: 'guard', chain: 'gate', hook: 'forward', tableHandle: 90 });
  const r = diagnose(s, WEB2.src, WEB2.dst, WEB2.port);
  assert.equal(r.verdict, 'unreachable');
  const f = findingsOf(r, 'node2').find((x) => x.check === 'nftables.drop');
  assert.ok(f, 'a finding on node2');
  assert.equal(f.level, SuspicionLevel.FATAL);
  assert.match(f.message, /table inet guard chain gate handle 2 \(hook forward priority 0\)/);
  assert.deepEqual(f.evidence.map((e) => e.text), [`table inet guard chain gate handle 2: ip daddr ${WEB2_IP} tcp dport 8080 drop`]);
  assert.ok(!r.nodes.some((n) => n.suspicions.some((x) => x.check === 'nftables.not-modelled')));
});

test('a native chain on a hook the packet does not pass, or one that cannot change anything, changes nothing', () => {
  const s = labSnapshot(FLANNEL);
  const nft = hostOf(s, 'node2').nftables as { nftables: unknown[] };
  nft.nftables.push(
    { table: { family: 'inet', name: 'guard', handle: 90 } },
    // input: client → web2 is forwarded by node2, never delivered to it
    { chain: { family: 'inet', table: 'guard', name: 'in', handle: 1, type: 'filter', hook: 'input', prio: 0, policy: 'drop' } },
    // forward, but empty with policy accept
    { chain: { family: 'inet', table: 'guard', name: 'idle', handle: 2, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
  );
  assert.equal(diagnose(s, WEB2.src, WEB2.dst, WEB2.port).verdict, 'reachable');
});

test('a rule with an unknown match that would drop the packet: unknown, naming the rule (was REACHABLE)', () => {
  const s = labSnapshot(FLANNEL);
  const rule = `-A FORWARD -d ${WEB2_IP}/32 -m foobar --baz 1 -j DROP`;
  addFilterRules(s, 'node2', [rule]);
  const r = diagnose(s, WEB2.src, WEB2.dst, WEB2.port);
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node2').find((f) => f.check === 'iptables.undecided');
  assert.ok(w);
  assert.equal(w.level, SuspicionLevel.WARNING);
  assert.deepEqual(w.evidence.map((e) => e.text), [rule]);
  assert.match(w.evidence[0].where!, /^filter\/FORWARD #1 \(match module "foobar" is not modelled\)$/);
  assert.deepEqual(w.undecided, [{ where: 'node2 filter/FORWARD #1', reason: 'match module "foobar" is not modelled' }]);
  // The drop it could cause is reported, but not as a certainty.
  const drop = findingsOf(r, 'node2').find((f) => f.check === 'iptables.drop');
  assert.ok(drop && drop.level === SuspicionLevel.WARNING && drop.undecided);
});

test('an unknown rule whose known matches do not match the packet decides nothing', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node2', ['-A FORWARD -d 10.244.9.9/32 -m foobar --baz 1 -j DROP']);
  assert.equal(diagnose(s, WEB2.src, WEB2.dst, WEB2.port).verdict, 'reachable');
});

test('an unknown element that does not change the outcome either way: reachable, with an INFO', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node2', [`-A FORWARD -d ${WEB2_IP}/32 -m foobar --baz 1 -j ACCEPT`]);
  const r = diagnose(s, WEB2.src, WEB2.dst, WEB2.port);
  assert.equal(r.verdict, 'reachable');
  const info = findingsOf(r, 'node2').find((f) => f.check === 'iptables.not-understood');
  assert.ok(info && info.level === SuspicionLevel.INFO);
});

test('an unknown ACCEPT before a real DROP: unknown, never a confident drop', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node2', [`-A FORWARD -d ${WEB2_IP}/32 -m foobar --baz 1 -j ACCEPT`, `-A FORWARD -d ${WEB2_IP}/32 -j DROP`]);
  const r = diagnose(s, WEB2.src, WEB2.dst, WEB2.port);
  assert.equal(r.verdict, 'unknown');
  assert.ok(!findingsOf(r, 'node2').some((f) => f.level >= SuspicionLevel.CRITICAL && !f.undecided));
});

test('an unknown target on the path: evaluated as "no effect" and as "stops the packet"', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node2', [`-A FORWARD -d ${WEB2_IP}/32 -j FROBNICATE --level 3`]);
  const r = diagnose(s, WEB2.src, WEB2.dst, WEB2.port);
  assert.equal(r.verdict, 'unknown');
  assert.match(findingsOf(r, 'node2').find((f) => f.check === 'iptables.undecided')!.undecided![0].reason, /target FROBNICATE/);
});

const UFW_LIMIT = [
  `-A FORWARD -d ${WEB2_IP}/32 -p tcp -m tcp --dport 8080 -m conntrack --ctstate NEW -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource`,
  `-A FORWARD -d ${WEB2_IP}/32 -p tcp -m tcp --dport 8080 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 --name DEFAULT --mask 255.255.255.255 --rsource -j REJECT --reject-with tcp-reset`,
];

test('ufw limit (-m recent --set, then --update --hitcount 6): the first connection passes when the lists are known (was REJECT)', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node2', UFW_LIMIT);
  hostOf(s, 'node2').xtRecent = 'list 7 DEFAULT\n';
  assert.equal(diagnose(s, WEB2.src, WEB2.dst, WEB2.port).verdict, 'reachable');
});

test('ufw limit without collected lists: unknown, evaluated both ways', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node2', UFW_LIMIT);
  const r = diagnose(s, WEB2.src, WEB2.dst, WEB2.port);
  assert.equal(r.verdict, 'unknown');
  assert.match(findingsOf(r, 'node2').find((f) => f.check === 'iptables.undecided')!.undecided![0].reason, /recent lists were not collected/);
});

test('ufw limit with a list that already counts the client: decided when the count settles it, unknown when only the stamps\' age could', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node2', UFW_LIMIT);
  // 2 earlier stamps + this packet's = 3 < 6: passes whatever their age.
  hostOf(s, 'node2').xtRecent = 'list 7 DEFAULT\nsrc=10.244.1.2 ttl: 64 last_seen: 4295100 oldest_pkt: 2 4295000, 4295100\n';
  assert.equal(diagnose(s, WEB2.src, WEB2.dst, WEB2.port).verdict, 'reachable');
  // 5 earlier stamps: the 6th is this packet's; rejected only if all 5 are younger than 30 s.
  const t = labSnapshot(FLANNEL);
  addFilterRules(t, 'node2', UFW_LIMIT);
  hostOf(t, 'node2').xtRecent = 'list 7 DEFAULT\nsrc=10.244.1.2 ttl: 64 last_seen: 5 oldest_pkt: 5 1, 2, 3, 4, 5\n';
  const r = diagnose(t, WEB2.src, WEB2.dst, WEB2.port);
  assert.equal(r.verdict, 'unknown');
  assert.match(findingsOf(r, 'node2').find((f) => f.check === 'iptables.undecided')!.undecided![0].reason, /holds 5 time stamp\(s\) for it whose age netpath cannot tell/);
});

test('a NAT target iptables-restore rejects is rejected the same way, naming the line', () => {
  const text = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SEP-X - [0:0]', '-A KUBE-SEP-X -p tcp -m tcp -j DNAT --to-destination  --random', 'COMMIT', ''].join('\n');
  assert.throws(() => parseIptablesSave(text), (e: unknown) => e instanceof ParseError && e.line === 4 && /Bad IP address ""/.test(e.message));
  assert.throws(() => parseIptablesSave(text.replace('  --random', ' 10.0.0.300:80')), /Bad IP address "10.0.0.300"/);
  assert.throws(() => parseIptablesSave(text.replace(' --random', '')), /option "--to-destination" requires an argument/);
  // What iptables-restore accepts stays accepted.
  for (const ok of ['10.0.0.1:80 --random', ':80', '10.0.0.1-10.0.0.4:80-90']) parseIptablesSave(text.replace(' --random', ` ${ok}`).replace('  ', ' '));
  // Collection names the tool and the line.
  const errors = validateNetns({ id: 1, pids: [1], iptables: { nft: text } });
  assert.equal(errors.length, 1);
  assert.equal(errors[0].line, 4);
  assert.match(errors[0].message, /Bad IP address ""/);
});

test('a corrupt DNAT on the path makes the diagnosis unknown, naming the line (was "not understood", assumed not to match)', () => {
  const s = labSnapshot(FLANNEL);
  const info = hostOf(s, 'node1');
  const text = info.iptables!.nft!;
  const line = text.split('\n').find((l) => l.includes('-j DNAT') && l.includes(`${'10.244.2.2'}:8080`))!;
  info.iptables!.nft = text.replace(line, line.replace(/--to-destination \S+/, '--to-destination  --random'));
  const r = diagnose(s, WEB2.src, 'svc/default/web-remote', 80);
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node1').find((f) => f.check === 'iptables.undecided');
  assert.ok(w);
  assert.match(w.undecided![0].reason, /^line \d+ does not parse: .*Bad IP address ""/);
  // kube-proxy's own check met the same line: its conclusion is not a certainty either.
  assert.ok(!r.nodes.some((n) => n.suspicions.some((f) => f.level >= SuspicionLevel.CRITICAL && !f.undecided)));
});

test('"# Table `nat\' contains incompatible base-chains": the table was not printed whole, the hop is unknown naming it', () => {
  const parsed = parseIptablesSave("# Table `nat' contains incompatible base-chains, use 'nft' tool to list them.\n*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n");
  assert.deepEqual(parsed.incompleteTables, ['nat']);
  const s = labSnapshot(FLANNEL);
  const info = hostOf(s, 'node2');
  info.iptables!.nft = "# Table `nat' contains incompatible base-chains, use 'nft' tool to list them.\n" + info.iptables!.nft!;
  const r = diagnose(s, WEB2.src, WEB2.dst, WEB2.port);
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node2').find((f) => f.check === 'iptables.incomplete-table');
  assert.ok(w);
  assert.match(w.message, /table nat whole .* passes nat at PREROUTING, POSTROUTING/);
});

for (const c of [FLANNEL, 'flannel-vxlan--healthy', 'calico-bgp--healthy', 'calico-vxlan--healthy', 'generic-bridge--healthy']) {
  test(`${c}: an outside source enters the node on its uplink (was cni0 and ARP, or "cannot tell on which interface")`, () => {
    // A host on the nodes' segment (the policy allows 198.51.100.0/24) and one behind the router.
    const near = diagnose(labSnapshot(c), '198.51.100.200', WEB2.dst, WEB2.port);
    assert.equal(near.verdict, 'reachable', JSON.stringify(near.nodes.map((n) => n.suspicions.map((x) => x.message))));
    const into = near.links.find((l) => l.type === 'external' && l.destination === 'node2');
    assert.equal(into?.destinationAttributes.if, 'eth0');
    const far = diagnose(labSnapshot(c), '123.123.123.123', WEB2.dst, WEB2.port);
    assert.equal(far.links.find((l) => l.type === 'external' && l.destination === 'node2')?.destinationAttributes.if, 'eth0');
    assert.ok(!far.nodes.some((n) => n.suspicions.some((x) => x.check === 'arp.no-answer' || x.check === 'path.ingress-unknown')));
    // The NetworkPolicy denies it, and the policy agent's rule on node2 is where the kernel drops it.
    assert.equal(far.verdict, 'unreachable');
    assert.ok(findingsOf(far, 'node2').some((x) => x.check === 'iptables.drop' && x.level === SuspicionLevel.FATAL));
    // NodePort from outside, as before.
    assert.equal(diagnose(labSnapshot(c), '198.51.100.200', 'node/node2', 30080).verdict, 'reachable');
  });
}

test('bridged traffic (br_netfilter FORWARD): an unknown rule that could drop it makes it unknown; a native forward chain is simulated', () => {
  const s = labSnapshot(FLANNEL);
  addFilterRules(s, 'node1', ['-A FORWARD -d 10.244.1.3/32 -m foobar --baz 1 -j DROP']);
  const r = diagnose(s, 'default/client', 'default/web1', 8080);
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node1').find((f) => f.check === 'iptables.undecided');
  assert.ok(w);
  assert.match(w.message, /bridged by cni0/);
  const t = labSnapshot(FLANNEL);
  (hostOf(t, 'node1').nftables as { nftables: unknown[] }).nftables.push(
    { chain: { family: 'inet', table: 'guard', name: 'gate', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'drop' } },
  );
  const rt = diagnose(t, 'default/client', 'default/web1', 8080);
  assert.equal(rt.verdict, 'unreachable');
  const drop = findingsOf(rt, 'node1').find((f) => f.check === 'nftables.drop');
  assert.ok(drop && drop.level === SuspicionLevel.FATAL, 'the chain\'s policy drops the bridged packet');
  assert.deepEqual(drop.evidence.map((e) => e.text), ['table inet guard chain gate { type filter hook forward priority 0; policy drop; }']);
  // A bridge-family chain is simulated too: its policy drops the bridged packet.
  const b = labSnapshot(FLANNEL);
  (hostOf(b, 'node1').nftables as { nftables: unknown[] }).nftables.push(
    { chain: { family: 'bridge', table: 'br', name: 'fw', handle: 1, type: 'filter', hook: 'forward', prio: 0, policy: 'drop' } },
  );
  const rb = diagnose(b, 'default/client', 'default/web1', 8080);
  assert.equal(rb.verdict, 'unreachable');
  const bd = findingsOf(rb, 'node1').find((f) => f.check === 'nftables.drop');
  assert.ok(bd && /bridge-family nftables chain/.test(bd.message));
  assert.deepEqual(bd.evidence.map((e) => e.text), ['policy drop of table bridge br chain fw { type filter hook forward priority 0; policy drop; }']);
  // A certain drop stays certain.
  const u = labSnapshot(FLANNEL);
  addFilterRules(u, 'node1', ['-A FORWARD -d 10.244.1.3/32 -m foobar --baz 1 -j DROP', '-A FORWARD -d 10.244.1.3/32 -j DROP']);
  assert.equal(diagnose(u, 'default/client', 'default/web1', 8080).verdict, 'unreachable');
});

test('an unknown match on a rule that rewrites the packet (MASQUERADE): what follows only one way is not certain either', () => {
  const s = labSnapshot(FLANNEL);
  const info = hostOf(s, 'node1');
  const masq = '! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE';
  assert.ok(info.iptables!.nft!.includes(masq));
  info.iptables!.nft = info.iptables!.nft!.replace(masq, masq.replace('-m comment', '-m foobar --baz 1 -m comment'));
  const r = diagnose(s, 'default/client', '203.0.113.10', 80);
  // Without SNAT the answer never comes back (the plugin's check says so), with it the packet
  // goes out masqueraded: the verdict depends on the unknown match.
  assert.equal(r.verdict, 'unknown');
  const w = findingsOf(r, 'node1').find((f) => f.check === 'iptables.undecided')!;
  assert.match(w.message, /leaves by eth0 as 10\.244\.1\.2 -> 203\.0\.113\.10:80; or it leaves by eth0 as 198\.51\.100\.11 -> 203\.0\.113\.10:80/);
  const nomasq = findingsOf(r, 'node1').find((f) => f.check === 'nat.no-masquerade')!;
  assert.equal(nomasq.level, SuspicionLevel.WARNING);
  assert.deepEqual(nomasq.undecided?.map((u) => u.where), ['node1 nat/FLANNEL-POSTRTG #5']);
});
