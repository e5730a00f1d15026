// Netfilter simulator vs the kernel. Builds client → router → server network namespaces
// (prefix npnf-), loads rule sets into the router (nft and legacy backends, IPv4 and IPv6), sends
// real UDP datagrams and TCP SYNs from the client with chosen source ports, and after each packet
// compares the simulator — fed only with the router's `iptables-save` text, as the collector sees
// it — with the kernel: the per-rule and per-policy packet counters (`iptables-save -c`) must be
// exactly those of one enumerated outcome, and that outcome's verdict and NAT rewrite must equal
// what the router's conntrack table and the server's arrival counters show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelTestSkip } from '../../support/machine';
import { CLIENT4, CLIENT6, ROUTER4, ROUTER6, SERVER4, SERVER6, conntrackEntries, flushConntrack, inNs, inNsIn, routerTopology, sh, Sender, type Probe } from '../../support/router-topology';
import { parseIptablesSave } from '../../../src/engine/netstack/iptables/parse';
import type { Ruleset } from '../../../src/engine/netstack/iptables/model';
import { parseIpsetSave, matchSet } from '../../../src/engine/netstack/ipset';
import { parseIP, parsePrefix, contains } from '../../../src/engine/netstack/ip';
import type { NetfilterEnv, NfPacket, RecentEntry, TraceStep } from '../../../src/engine/netstack/netfilter/packet';
import { parseXtRecent } from '../../../src/engine/netstack/netfilter/recent';
import { traceReceive, type PathOutcome } from '../../../src/engine/netstack/netfilter/sequence';
import { traceRuns, newRun } from '../../../src/engine/netstack/netfilter/trace';

const topo = routerTopology({ prefix: 'npnf', macByte: 0 });
const { C, R, S } = topo;

const TOOLS = [
  'iptables-nft-restore', 'iptables-nft-save', 'ip6tables-nft-restore', 'ip6tables-nft-save',
  'iptables-legacy-restore', 'iptables-legacy-save', 'ip6tables-legacy-restore', 'nft', 'conntrack', 'ipset', 'socat',
];

function cleanup(): void {
  topo.cleanup();
}

function buildTopology(): void {
  topo.build();
  // The server drops everything in raw PREROUTING (no replies, no conntrack), one counter per
  // destination address so that its counters tell where a packet arrived.
  const rules = (addrs: string[]) => `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${addrs.map((a) => `-A PREROUTING -d ${a} -j DROP`).join('\n')}\n-A PREROUTING -j DROP\nCOMMIT\n`;
  inNsIn(S, rules(SERVER4), 'iptables-nft-restore');
  inNsIn(S, rules(SERVER6), 'ip6tables-nft-restore');
}

/** Empties the router's rule sets in both backends and both families. */
function resetRouter(): void {
  inNs(R, 'nft', 'flush', 'ruleset');
  const empty = ['raw', 'mangle', 'nat', 'filter', 'security'].map((t) => `*${t}\nCOMMIT\n`).join('');
  inNsIn(R, empty, 'iptables-legacy-restore');
  inNsIn(R, empty, 'ip6tables-legacy-restore');
  try {
    inNs(R, 'ipset', 'destroy');
  } catch {
    /* none */
  }
}

interface RuleSetCase {
  name: string;
  family: 4 | 6;
  backend: 'nft' | 'legacy';
  ipsets?: string[];
  rules: string;
  probes: Probe[];
  /** A UDP listener in the router on this port (local delivery without ICMP errors). */
  listenPort?: number;
}


let nextPort = 20000;
function probes(family: 4 | 6, list: [proto: 'udp' | 'tcp', dst: string, dport: number, srcIndex?: number, sport?: number][]): Probe[] {
  const srcs = family === 4 ? CLIENT4 : CLIENT6;
  return list.map(([proto, dst, dport, si, sport]) => ({ proto, src: srcs[si ?? 0], dst, sport: sport ?? nextPort++, dport }));
}

function repeat<T>(n: number, f: (i: number) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(...f(i));
  return out;
}

const HDR = (t: string, chains: string) => `*${t}\n${chains.trim().split(/\s+/).map((c) => (c.includes('=') ? `:${c.split('=')[0]} ${c.split('=')[1]} [0:0]` : `:${c} - [0:0]`)).join('\n')}\n`;

const CASES: RuleSetCase[] = [
  {
    name: 'kube-proxy-like DNAT with nth statistic, MARK + MASQUERADE, ctstate DNAT (nft)',
    family: 4,
    backend: 'nft',
    rules:
      HDR('nat', 'PREROUTING=ACCEPT INPUT=ACCEPT OUTPUT=ACCEPT POSTROUTING=ACCEPT KUBE-SERVICES KUBE-SVC-WEB KUBE-SEP-A KUBE-SEP-B KUBE-SEP-C KUBE-MARK-MASQ KUBE-POSTROUTING') +
      `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEB
-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "default/web:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-WEB
-A KUBE-SVC-WEB -s 10.10.1.128/25 -j KUBE-MARK-MASQ
-A KUBE-SVC-WEB -m statistic --mode nth --every 3 --packet 0 -j KUBE-SEP-A
-A KUBE-SVC-WEB -m statistic --mode nth --every 2 --packet 0 -j KUBE-SEP-B
-A KUBE-SVC-WEB -j KUBE-SEP-C
-A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.10.2.2:8080
-A KUBE-SEP-A -p udp -m udp -j DNAT --to-destination 10.10.2.2:5353
-A KUBE-SEP-B -j DNAT --to-destination 10.10.2.3
-A KUBE-SEP-C -p tcp -m tcp -j DNAT --to-destination 10.10.2.4:9090
-A KUBE-SEP-C -p udp -m udp -j DNAT --to-destination 10.10.2.4:9090
COMMIT
` +
      HDR('filter', 'INPUT=ACCEPT FORWARD=DROP OUTPUT=ACCEPT KUBE-FORWARD') +
      `-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -d 10.10.2.0/24 -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -p udp -m udp --dport 7 -j ACCEPT
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
COMMIT
`,
    probes: repeat(8, (i) =>
      probes(4, [
        ['tcp', '10.96.0.10', 80, i % 2],
        ['udp', '10.96.0.10', 53, (i + 1) % 2],
        ['udp', '10.10.2.2', 7],
        ['udp', '10.10.2.3', 8],
        ['tcp', '10.96.0.10', 80, 0],
        ['udp', '10.96.0.10', 53, 1],
      ]),
    ),
  },
  {
    name: 'goto, MARK/CONNMARK, multiport, iprange, negations, REJECT, SNAT (nft)',
    family: 4,
    backend: 'nft',
    rules:
      HDR('mangle', 'PREROUTING=ACCEPT INPUT=ACCEPT FORWARD=ACCEPT OUTPUT=ACCEPT POSTROUTING=ACCEPT CLASSIFY') +
      `-A PREROUTING -i r0 -g CLASSIFY
-A PREROUTING -j MARK --set-mark 0x99
-A CLASSIFY -p udp -m multiport --dports 1000:1999,3000 -j MARK --set-xmark 0x1/0xff
-A CLASSIFY -p tcp -m multiport ! --dports 1000:1999,3000 -j MARK --set-xmark 0x2/0xff
-A CLASSIFY -m iprange --src-range 10.10.1.100-10.10.1.250 -j MARK --or-mark 0x100
-A CLASSIFY -m mark --mark 0x0/0xff -j RETURN
-A CLASSIFY -j CONNMARK --save-mark --nfmask 0xffff --ctmask 0xffff
-A FORWARD -m connmark --mark 0x1/0xff -j MARK --set-xmark 0x10000/0x10000
COMMIT
` +
      HDR('nat', 'PREROUTING=ACCEPT INPUT=ACCEPT OUTPUT=ACCEPT POSTROUTING=ACCEPT') +
      `-A POSTROUTING -o r1 -m mark --mark 0x100/0x100 -j MASQUERADE
-A POSTROUTING -o r1 -p udp -m udp --sport 20000:20100 -j SNAT --to-source 10.10.2.1:40000
COMMIT
` +
      HDR('filter', 'INPUT=ACCEPT FORWARD=ACCEPT OUTPUT=ACCEPT') +
      `-A FORWARD -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset
-A FORWARD ! -s 10.10.1.0/25 -p udp -m udp --dport 7 -j DROP
-A FORWARD -p tcp -m mark --mark 0x2/0xff -m tcp --dport 5000:5100 -j DROP
-A FORWARD -p udp -m udp --dport 9 -j REJECT
-A FORWARD -m mark --mark 0x10000/0x10000 -j ACCEPT
COMMIT
`,
    probes: repeat(5, (i) =>
      probes(4, [
        ['udp', '10.10.2.2', 1500, i % 2],
        ['udp', '10.10.2.3', 3000, 1],
        ['tcp', '10.10.2.2', 1500, 0],
        ['tcp', '10.10.2.4', 5050, i % 2],
        ['tcp', '10.10.2.2', 22, 0],
        ['udp', '10.10.2.2', 7, 0],
        ['udp', '10.10.2.2', 7, 1],
        ['udp', '10.10.2.3', 9, i % 2],
        ['udp', '10.10.2.4', 4000, 1],
        ['tcp', '10.10.2.4', 3000, 1],
      ]),
    ),
  },
  {
    name: 'ipset matches (hash:ip,port, hash:net, hash:net,iface), addrtype, conntrack states, local delivery (nft)',
    family: 4,
    backend: 'nft',
    listenPort: 5555,
    ipsets: [
      'create ALLOW hash:ip,port family inet',
      'add ALLOW 10.10.2.2,udp:5000',
      'add ALLOW 10.10.2.3,tcp:6000',
      'create SRCNET hash:net family inet',
      'add SRCNET 10.10.1.0/26',
      'create PAIR hash:net,iface family inet',
      'add PAIR 10.10.1.192/26,r0',
    ],
    rules:
      HDR('filter', 'INPUT=ACCEPT FORWARD=DROP OUTPUT=ACCEPT') +
      `-A INPUT -p udp -m addrtype --dst-type LOCAL -m udp --dport 9999 -j DROP
-A INPUT -m addrtype ! --dst-type LOCAL -j DROP
-A INPUT -p udp -m conntrack --ctstate NEW -j ACCEPT
-A FORWARD -m set --match-set ALLOW dst,dst -j ACCEPT
-A FORWARD -p udp -m set ! --match-set SRCNET src -m set --match-set PAIR src,src -j ACCEPT
-A FORWARD -p tcp -m set --match-set SRCNET src -m tcp --dport 7000:7999 -j ACCEPT
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
COMMIT
`,
    probes: repeat(5, (i) =>
      probes(4, [
        ['udp', '10.10.2.2', 5000, i % 2],
        ['udp', '10.10.2.2', 5001, 0],
        ['tcp', '10.10.2.3', 6000, i % 2],
        ['udp', '10.10.2.3', 6000, 0],
        ['udp', '10.10.2.4', 1234, 1],
        ['udp', '10.10.2.4', 1234, 0],
        ['tcp', '10.10.2.4', 7100, 0],
        ['tcp', '10.10.2.4', 7100, 1],
        ['udp', '10.10.1.1', 5555, i % 2],
        ['udp', '10.10.2.1', 9999, 0],
      ]),
    ),
  },
  {
    name: 'IPv6: DNAT, MASQUERADE, multiport REJECT, negated source (ip6tables-nft)',
    family: 6,
    backend: 'nft',
    rules:
      HDR('nat', 'PREROUTING=ACCEPT INPUT=ACCEPT OUTPUT=ACCEPT POSTROUTING=ACCEPT SVC') +
      `-A PREROUTING -d fd10:96::10/128 -j SVC
-A SVC -p udp -m udp --dport 53 -j DNAT --to-destination [fd10:2::3]:5353
-A SVC -p tcp -m tcp --dport 80 -j DNAT --to-destination fd10:2::2
-A POSTROUTING -s fd10:1::3/128 -o r1 -j MASQUERADE
COMMIT
` +
      HDR('filter', 'INPUT=ACCEPT FORWARD=ACCEPT OUTPUT=ACCEPT') +
      `-A FORWARD -p tcp -m multiport --dports 22,23 -j REJECT --reject-with icmp6-adm-prohibited
-A FORWARD ! -s fd10:1::2/128 -p udp -m udp --dport 9 -j DROP
-A FORWARD -d fd10:2::/64 -p udp -m udp --sport 20000:20400 -j ACCEPT
COMMIT
`,
    probes: repeat(6, (i) =>
      probes(6, [
        ['udp', 'fd10:96::10', 53, i % 2],
        ['tcp', 'fd10:96::10', 80, i % 2],
        ['tcp', 'fd10:2::2', 22, 0],
        ['tcp', 'fd10:2::3', 23, 1],
        ['udp', 'fd10:2::2', 9, 0],
        ['udp', 'fd10:2::2', 9, 1],
        ['udp', 'fd10:2::3', 1000, 1],
      ]),
    ),
  },
  {
    name: 'raw NOTRACK, state UNTRACKED/DNAT, random statistic DNAT (iptables-legacy)',
    family: 4,
    backend: 'legacy',
    rules:
      HDR('raw', 'PREROUTING=ACCEPT OUTPUT=ACCEPT') +
      `-A PREROUTING -p udp -m udp --dport 4000:4099 -j CT --notrack
COMMIT
` +
      HDR('nat', 'PREROUTING=ACCEPT INPUT=ACCEPT OUTPUT=ACCEPT POSTROUTING=ACCEPT') +
      `-A PREROUTING -p udp -m udp --dport 4000:4999 -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.10.2.3
-A PREROUTING -p tcp -m statistic --mode random --probability 0.30000000000 -j DNAT --to-destination 10.10.2.4
COMMIT
` +
      HDR('filter', 'INPUT=ACCEPT FORWARD=ACCEPT OUTPUT=ACCEPT') +
      `-A FORWARD -m state --state UNTRACKED -j ACCEPT
-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -p udp -m udp --sport 30000:30999 -j DROP
COMMIT
`,
    probes: repeat(8, (i) =>
      probes(4, [
        ['udp', '10.10.2.2', 4050, i % 2],
        ['udp', '10.10.2.2', 4500, 0],
        ['tcp', '10.10.2.2', 443, 1],
        ['udp', '10.10.2.2', 4500, 0, 30000 + i],
        ['udp', '10.10.2.2', 5000, 1, 30100 + i],
      ]),
    ),
  },
  {
    // -m recent against the lists as /proc/net/xt_recent shows them before each packet (what the
    // collector records): ufw's limit (--set, then --update --hitcount), a list that is checked
    // before it is filled, and --remove.
    name: 'recent: --set/--update --hitcount (ufw limit), --rcheck, --remove (legacy)',
    family: 4,
    backend: 'legacy',
    rules:
      HDR('filter', 'INPUT=ACCEPT FORWARD=ACCEPT OUTPUT=ACCEPT') +
      `-A FORWARD -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name LIM --mask 255.255.255.255 --rsource
-A FORWARD -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --hitcount 3 --name LIM --mask 255.255.255.255 --rsource -j REJECT --reject-with tcp-reset
-A FORWARD -p udp -m recent --rcheck --name SEEN --rsource -j DROP
-A FORWARD -p udp -m udp --dport 9 -m recent --set --name SEEN --rsource
-A FORWARD -p udp -m udp --dport 10 -m recent --remove --name SEEN --rdest
-A FORWARD -p udp -m udp --dport 11 -m recent ! --rcheck --name SEEN --rsource -j ACCEPT
-A FORWARD -p udp -j DROP
COMMIT
`,
    probes: [
      ...repeat(4, (i) => probes(4, [['tcp', '10.10.2.2', 22, i % 2]])),
      ...probes(4, [
        ['udp', '10.10.2.2', 11, 0],
        ['udp', '10.10.2.2', 9, 1],
        ['udp', '10.10.2.2', 11, 1],
        ['udp', '10.10.2.2', 11, 0],
        ['udp', '10.10.2.2', 10, 0],
        ['tcp', '10.10.2.2', 22, 0],
        ['tcp', '10.10.2.2', 22, 1],
      ]),
    ],
  },
];

// ---- kernel observations ---------------------------------------------------------------------

type CounterMap = Map<string, number>;

function counters(rs: Ruleset): CounterMap {
  const m: CounterMap = new Map();
  for (const t of rs.tables) {
    for (const c of t.chains) {
      if (c.builtin) m.set(`${t.name} ${c.name} 0`, c.counters?.packets ?? 0);
      for (const r of c.rules) m.set(`${t.name} ${c.name} ${r.num}`, r.counters?.packets ?? 0);
    }
  }
  return m;
}

function diff(after: CounterMap, before: CounterMap): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of after) {
    const n = v - (before.get(k) ?? 0);
    if (n) d.set(k, n);
  }
  return d;
}

function saveCmd(c: RuleSetCase): string {
  return `${c.family === 6 ? 'ip6' : 'ip'}tables-${c.backend}-save`;
}

function routerCounters(c: RuleSetCase): CounterMap {
  return counters(parseIptablesSave(inNs(R, saveCmd(c), '-c'), { family: c.family }));
}

function serverArrivals(family: 4 | 6): CounterMap {
  return counters(parseIptablesSave(inNs(S, family === 6 ? 'ip6tables-nft-save' : 'iptables-nft-save', '-c'), { family }));
}

// ---- the simulator's environment for the router ---------------------------------------------

/** The router's xt_recent lists, read as the collector reads them. */
function routerRecent(): Map<string, Map<string, RecentEntry>> {
  return parseXtRecent(inNs(R, 'sh', '-c', 'for f in /proc/net/xt_recent/*; do [ -f "$f" ] || continue; n=${f##*/}; printf \'list %d %s\\n\' "$(printf %s "$n" | wc -c)" "$n"; cat "$f"; done'));
}

function routerEnv(family: 4 | 6, ipsetText: string, recent: () => Map<string, Map<string, RecentEntry>> = () => new Map()): NetfilterEnv {
  const sets = parseIpsetSave(ipsetText);
  const local = family === 4 ? Object.values(ROUTER4) : Object.values(ROUTER6);
  const addrs = family === 4 ? ROUTER4 : ROUTER6;
  const net = (iface: 'r0' | 'r1') => parsePrefix(`${addrs[iface]}/${family === 4 ? 24 : 64}`)!;
  const isLocal = (a: string) => local.some((l) => parseIP(l)!.value === parseIP(a)?.value);
  return {
    ipset: (name, flags, pkt) => matchSet(sets, name, flags, pkt),
    addressType: (a) => (isLocal(a) ? 'LOCAL' : 'UNICAST'),
    masqueradeSource: (oif) => addrs[oif as 'r0' | 'r1'],
    interfaceAddress: (iface) => addrs[iface as 'r0' | 'r1'],
    recent: (name) => recent().get(name) ?? new Map(),
    route: (p) => {
      if (isLocal(p.dst)) return { kind: 'local' };
      const ip = parseIP(p.dst)!;
      for (const i of ['r0', 'r1'] as const) if (contains(net(i), ip)) return { kind: 'forward', oif: i };
      return { kind: 'unroutable', reason: 'no route' };
    },
  };
}

function expectedCounts(steps: TraceStep[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of steps) {
    const k = `${s.table} ${s.chain} ${s.rule}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** The error packet a REJECT sends back passes the router's OUTPUT and POSTROUTING (as RELATED). */
function rejectReplySteps(rs: Ruleset, o: PathOutcome, probe: Probe, env: NetfilterEnv, family: 4 | 6): TraceStep[] {
  const orig = o.packet;
  const tcpReset = o.rejectWith === 'tcp-reset';
  const iifAddr = (family === 4 ? ROUTER4 : ROUTER6).r0;
  // The error packet joins the rejected connection (RELATED): its NAT bindings are the connection's.
  const ct = { ...orig.ct!, state: 'RELATED' as const, direction: 'REPLY' as const };
  const pkt: NfPacket = tcpReset
    ? { family, src: orig.dst, dst: probe.src, proto: 'tcp', sport: orig.dport, dport: probe.sport, tcpFlags: ['RST', 'ACK'], oif: 'r0', ct }
    : { family, src: iifAddr, dst: probe.src, proto: family === 4 ? 'icmp' : 'icmpv6', icmpType: family === 4 ? 3 : 1, oif: 'r0', ct };
  const runs = traceRuns(rs, 'POSTROUTING', traceRuns(rs, 'OUTPUT', [newRun(pkt, 'OUTPUT')], env), env);
  assert.equal(runs.length, 1);
  return runs[0].path;
}

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

const fmt = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} +${v}`).join(', ');

test('netfilter simulator agrees with the kernel on real packets (npnf- netns)', { timeout: 600_000 }, async (t) => {
  const why = kernelTestSkip(TOOLS);
  if (why) {
    t.skip(why);
    return;
  }
  cleanup();
  const dir = mkdtempSync(join(tmpdir(), 'npnf-'));
  let sender: Sender | undefined;
  let listener: ChildProcess | undefined;
  let compared = 0;
  const disagreements: string[] = [];
  const perCase: string[] = [];
  const branchesSeen = new Set<string>();
  try {
    buildTopology();
    sender = new Sender(C, dir);
    // IPv6 neighbours are static, but interfaces still send MLD reports for a moment after
    // coming up; let them pass before counting.
    await new Promise((r) => setTimeout(r, 2500));
    for (const c of CASES) {
      resetRouter();
      for (const s of c.ipsets ?? []) inNs(R, 'ipset', ...s.split(' '));
      inNsIn(R, c.rules, `${c.family === 6 ? 'ip6' : 'ip'}tables-${c.backend}-restore`);
      listener?.kill();
      listener = c.listenPort
        ? spawn('ip', ['netns', 'exec', R, 'socat', '-u', `UDP${c.family === 6 ? '6' : '4'}-RECVFROM:${c.listenPort},fork`, '/dev/null'], { stdio: 'ignore' })
        : undefined;
      if (listener) await new Promise((r) => setTimeout(r, 300));
      // The collector's view: the plain dump, without counters.
      const rs = parseIptablesSave(inNs(R, saveCmd(c)), { family: c.family });
      let lists = new Map<string, Map<string, RecentEntry>>();
      const env = routerEnv(c.family, inNs(R, 'ipset', 'save'), () => lists);
      let agree = 0;
      let before = routerCounters(c);
      let serverBefore = serverArrivals(c.family);
      for (const probe of c.probes) {
        flushConntrack(R);
        lists = routerRecent();
        await sender.send(probe, c.family);
        await new Promise((r) => setTimeout(r, 30));
        const after = routerCounters(c);
        const serverAfter = serverArrivals(c.family);
        const kernel = diff(after, before);
        const arrived = [...diff(serverAfter, serverBefore).keys()].filter((k) => k !== 'raw PREROUTING 0' && k !== `raw PREROUTING ${(c.family === 4 ? SERVER4 : SERVER6).length + 1}`);
        before = after;
        serverBefore = serverAfter;
        const ct = conntrackEntries(R, c.family).find((e) => e.orig.sport === String(probe.sport) && e.orig.src === probe.src);
        const pkt: NfPacket = { family: c.family, src: probe.src, dst: probe.dst, proto: probe.proto, sport: probe.sport, dport: probe.dport, iif: 'r0', ...(probe.proto === 'tcp' ? { tcpFlags: ['SYN'] } : {}), ct: { state: 'NEW' } };
        const outcomes = traceReceive(rs, pkt, env);
        compared++;
        const label = `${c.name}: ${probe.proto} ${probe.src}:${probe.sport} -> ${probe.dst}:${probe.dport}`;
        const match = outcomes.find((o) => {
          const steps = o.verdict === 'REJECT' ? [...o.path, ...rejectReplySteps(rs, o, probe, env, c.family)] : o.path;
          return sameCounts(expectedCounts(steps), kernel);
        });
        if (!match) {
          disagreements.push(`${label}\n  kernel counters: ${fmt(kernel)}\n${outcomes.map((o) => `  sim ${o.verdict} p=${o.probability.toFixed(2)}: ${fmt(expectedCounts(o.path))}`).join('\n')}`);
          continue;
        }
        for (const b of match.branches) branchesSeen.add(`${c.name}|${b.chain}#${b.rule}:${b.matched}`);
        // Verdict and NAT: a forwarded packet must arrive at the server's address the simulator says.
        const problems: string[] = [];
        // Agreement by a guess does not count: every rule on the way was understood.
        if (match.notUnderstood.length) problems.push(`not understood: ${match.notUnderstood.map((n) => `${n.chain} #${n.rule} (${n.reason})`).join('; ')}`);
        const simArrives = match.fate === 'sent' && match.verdict === 'ACCEPT' && match.route?.kind === 'forward' && match.packet.oif === 'r1';
        const expectArrival = simArrives ? [`raw PREROUTING ${(c.family === 4 ? SERVER4 : SERVER6).indexOf(match.packet.dst) + 1}`] : [];
        if (arrived.join() !== expectArrival.join()) problems.push(`server arrivals ${JSON.stringify(arrived)} but simulator says ${JSON.stringify(expectArrival)} (${match.verdict}, ${match.fate}, dst ${match.packet.dst})`);
        const tracked = match.packet.ct?.state !== 'UNTRACKED';
        const confirmed = match.verdict === 'ACCEPT' && tracked;
        if (!!ct !== confirmed) problems.push(`conntrack entry ${ct ? 'present' : 'absent'} but simulator verdict ${match.verdict}${tracked ? '' : ' (untracked)'}`);
        if (ct && confirmed) {
          const want = { src: match.packet.dst, dst: match.packet.src, sport: String(match.packet.dport), dport: String(match.packet.sport) };
          const norm = (a: string) => (parseIP(a) ? String(parseIP(a)!.value) : a);
          for (const k of ['src', 'dst', 'sport', 'dport'] as const) {
            if (norm(ct.reply[k]) !== norm(want[k])) problems.push(`conntrack reply ${k}=${ct.reply[k]} but simulator NAT gives ${want[k]}`);
          }
          if (ct.mark !== (match.packet.ct?.mark ?? 0)) problems.push(`conntrack mark ${ct.mark} but simulator ${match.packet.ct?.mark}`);
        }
        if (problems.length) disagreements.push(`${label}\n  ${problems.join('\n  ')}`);
        else agree++;
      }
      perCase.push(`${c.name}: ${agree}/${c.probes.length}`);
    }
  } finally {
    sender?.close();
    listener?.kill();
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  const agreed = compared - disagreements.length;
  const summary = `netfilter vs kernel: ${compared} packets over ${CASES.length} rule sets compared, ${agreed} agree (${((100 * agreed) / Math.max(1, compared)).toFixed(1)} %); statistic branch sides seen: ${branchesSeen.size}`;
  t.diagnostic(summary);
  for (const p of perCase) t.diagnostic(p);
  console.log(summary);
  assert.ok(compared >= 200, `only ${compared} packets compared`);
  assert.deepEqual(disagreements, []);
});
