// The packet walk (datapath/walk.ts) vs the kernel on a router with iptables-nft rules AND native
// nftables chains at several priorities on the same hooks. Builds client → router → server network
// namespaces (prefix npnfw), loads each rule set with the real iptables-nft-restore and nft, dumps
// the router with the real collector, and for every packet the client sends compares the walk's
// verdict for the router hop — forwarded (and as which source, destination and port) or stopped —
// with what the server saw arrive. Also shows, on the kernel, why chains of equal priority in
// different tables are an order the dump cannot tell: the kernel runs the one registered last first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCollector } from '../../../src/collector/run';
import type { Packet } from '../../../src/engine/model/packet';
import { SuspicionLevel } from '../../../src/engine/model/suspicion';
import { walkReceive, walkSend, type Walk } from '../../../src/engine/datapath/walk';
import { bridgeFamilyChains } from '../../../src/engine/datapath/bridge-nft';
import { bridgePortEgress } from '../../../src/engine/datapath/egress-nft';
import type { Suspicion } from '../../../src/engine/model/suspicion';
import { NetNS } from '../../../src/engine/netstack/netns';
import type { NodeNetworkStackDump } from '../../../src/shared/dump';
import { kernelProfile } from '../../../src/engine/netstack/router-kernel-profile';
import { runningKernel } from '../../support/kernel';
import { collectorTools, haveTool, isRoot } from '../../support/machine';
import { CLIENT4, CLIENT6, flushConntrack, inNs, inNsIn, routerTopology, sh, Sender, type Probe } from '../../support/router-topology';

const topo = routerTopology({ prefix: 'npnfw', macByte: 5, defaultViaServer: true });
const { C, R, S } = topo;
const TOOLS = [...collectorTools(), 'iptables-nft-restore', 'conntrack'];

function skipReason(): string | undefined {
  if (!isRoot()) return 'needs root (network namespaces)';
  const missing = TOOLS.filter((t) => !haveTool(t));
  return missing.length ? `missing tools: ${missing.join(', ')}` : undefined;
}

interface WalkCase {
  name: string;
  family?: 6;
  iptables: string;
  nft: string;
  /** Extra router setup (shell lines: ip rule/route) run before the dump. */
  setup?: string;
  /** Undoes `setup` after the case (shell lines, run outside the netns: use ip -n). */
  teardown?: string;
  probes: WalkProbe[];
}

/** A packet the client sends through the router, or (`fromRouter`) one the router itself sends. */
type WalkProbe = Probe & { fromRouter?: boolean };

let nextPort = 41000;
const probe = (proto: 'udp' | 'tcp', dst: string, dport: number, src = 0): Probe => ({ proto, src: (dst.includes(':') ? CLIENT6 : CLIENT4)[src], dst, sport: nextPort++, dport });
const twice = (ps: (() => WalkProbe)[]): WalkProbe[] => [...ps.map((f) => f()), ...ps.map((f) => f())];
const fromRouter = (proto: 'udp' | 'tcp', dst: string, dport: number): WalkProbe => ({ proto, src: '10.10.1.1', dst, sport: nextPort++, dport, fromRouter: true });

const CASES: WalkCase[] = [
  {
    name: 'forward: iptables-nft filter at 0 between native chains at -150, -5, 0 (another table), 10 (inet) and 20 (policy drop)',
    iptables: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p udp --dport 1000 -j DROP
-A FORWARD -s 10.10.1.200/32 -p tcp --dport 1001 -j ACCEPT
-A FORWARD -m mark --mark 0x2 -j DROP
COMMIT
`,
    nft: `
table ip early {
  chain f {
    type filter hook forward priority mangle; policy accept;
    udp dport 1002 meta mark set 0x2
    tcp dport 1003 meta mark set 0x3
  }
}
table ip mid {
  chain f {
    type filter hook forward priority -5; policy accept;
    meta mark 0x3 drop
    udp dport 1004 accept
  }
}
table ip zero {
  chain f {
    type filter hook forward priority 0; policy accept;
    udp dport 1005 reject
  }
}
table inet late {
  chain f {
    type filter hook forward priority 10; policy accept;
    udp dport 1004 drop
    tcp dport 1001 drop
  }
}
table ip last {
  chain f {
    type filter hook forward priority 20; policy drop;
    meta l4proto udp accept
    tcp dport < 1010 accept
  }
}
`,
    probes: twice([
      () => probe('udp', '10.10.2.2', 1000),
      () => probe('tcp', '10.10.2.2', 1001, 1),
      () => probe('tcp', '10.10.2.3', 1001),
      () => probe('udp', '10.10.2.3', 1002),
      () => probe('tcp', '10.10.2.4', 1003),
      () => probe('udp', '10.10.2.4', 1004, 1),
      () => probe('udp', '10.10.2.2', 1005),
      () => probe('udp', '10.10.2.2', 1006),
      () => probe('tcp', '10.10.2.3', 1007),
      () => probe('tcp', '10.10.2.3', 1020),
    ]),
  },
  {
    name: 'NAT: iptables-nft DNAT/MASQUERADE and native dnat/snat in the same NAT core, notrack at raw, a filter drop after the DNAT',
    iptables: `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.10.2.2:8080
-A POSTROUTING -s 10.10.1.200/32 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -d 10.10.2.4/32 -p udp -m udp --dport 7001 -j DROP
COMMIT
`,
    nft: `
table ip rawish {
  chain pre {
    type filter hook prerouting priority raw; policy accept;
    udp dport 7000 notrack
  }
}
table ip knat {
  chain pre {
    type nat hook prerouting priority -90; policy accept;
    ip daddr 10.96.0.2 tcp dport 81 dnat to 10.10.2.3:8081
    ip daddr 10.96.0.2 tcp dport 82 dnat to 10.10.2.3:8082
    udp dport { 7000, 7001 } dnat to 10.10.2.4
    ip daddr 10.96.0.1 tcp dport 80 dnat to 10.10.2.4:9999
  }
  chain post {
    type nat hook postrouting priority 110; policy accept;
    ip daddr 10.10.2.4 snat to 10.10.2.99
  }
}
table inet guard {
  chain f {
    type filter hook forward priority 10; policy accept;
    ip daddr 10.10.2.3 tcp dport 8082 drop
  }
}
`,
    probes: twice([
      () => probe('tcp', '10.96.0.1', 80),
      () => probe('tcp', '10.96.0.1', 80, 1),
      () => probe('tcp', '10.96.0.2', 81),
      () => probe('tcp', '10.96.0.2', 82),
      () => probe('udp', '10.10.2.2', 7000),
      () => probe('udp', '10.10.2.2', 7001, 1),
      () => probe('udp', '10.10.2.3', 7001),
      () => probe('tcp', '10.10.2.4', 5000),
      () => probe('tcp', '10.10.2.4', 5000, 1),
      () => probe('udp', '10.10.2.2', 5001, 1),
    ]),
  },
  {
    name: 'marks into routing: a native mangle chain marks, an fwmark rule routes the marked packet elsewhere; an iptables-nft mark drop at filter',
    iptables: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m mark --mark 0x8 -j DROP
COMMIT
`,
    nft: `
table ip mangler {
  chain pre {
    type filter hook prerouting priority mangle; policy accept;
    udp dport 8000 meta mark set 0x9
    udp dport 8001 meta mark set 0x8
    tcp dport 8002 ct mark set 0x5
    ct mark 0x5 meta mark set 0x9
  }
}
`,
    setup: `ip rule add fwmark 0x9 lookup 100 priority 100
ip route add blackhole 10.10.2.0/24 table 100`,
    teardown: `ip -n ${R} rule del fwmark 0x9 lookup 100 priority 100; ip -n ${R} route flush table 100`,
    probes: twice([
      () => probe('udp', '10.10.2.2', 8000),
      () => probe('udp', '10.10.2.3', 8001),
      () => probe('tcp', '10.10.2.4', 8002),
      () => probe('udp', '10.10.2.4', 8003),
    ]),
  },
  {
    name: 'enumerated and unknown: numgen endpoints, limit both ways, a netdev ingress drop (its device read from the text listing), reject',
    iptables: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p udp -m udp --dport 9300 -j ACCEPT
COMMIT
`,
    nft: `
table netdev edge {
  chain in {
    type filter hook ingress device "r0" priority 0; policy accept;
    ip daddr 10.10.2.2 udp dport 9100 drop
  }
}
table ip lb {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.96.0.9 tcp dport 80 numgen inc mod 3 vmap { 0 : jump e0, 1 : jump e1, 2 : jump e2 }
  }
  chain e0 { meta l4proto tcp dnat to 10.10.2.2:80; }
  chain e1 { meta l4proto tcp dnat to 10.10.2.3:80; }
  chain e2 { meta l4proto tcp dnat to 10.10.2.4:80; }
  chain filt {
    type filter hook forward priority 5; policy accept;
    udp dport 9200 limit rate 2/minute burst 1 packets accept
    udp dport 9200 drop
    udp dport 9300 reject
  }
}
`,
    probes: [
      ...twice([() => probe('tcp', '10.96.0.9', 80), () => probe('tcp', '10.96.0.9', 80, 1), () => probe('udp', '10.10.2.2', 9100), () => probe('udp', '10.10.2.3', 9100), () => probe('udp', '10.10.2.4', 9300)]),
      ...Array.from({ length: 4 }, () => probe('udp', '10.10.2.2', 9200)),
    ],
  },
  {
    name: 'IPv6: ip6tables-nft filter and nat with native ip6 and inet chains around them',
    family: 6,
    iptables: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -p tcp -m tcp --dport 2000 -j DROP
-A FORWARD -m mark --mark 0x4 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s fd10:1::3/128 -j MASQUERADE
COMMIT
`,
    nft: `
table ip6 m6 {
  chain pre {
    type filter hook prerouting priority mangle; policy accept;
    udp dport 2001 meta mark set 0x4
    udp dport 2006 fib saddr . iif oif missing drop
    udp dport 2007 fib daddr oif "r1" drop
  }
  chain dn {
    type nat hook prerouting priority dstnat; policy accept;
    ip6 daddr fd10:2::99 tcp dport 80 dnat to [fd10:2::3]:8080
  }
}
table inet f6 {
  chain f {
    type filter hook forward priority 10; policy accept;
    meta nfproto ipv6 udp dport 2002 drop
    ip6 daddr fd10:2::3 tcp dport 8080 ip6 saddr fd10:1::3 drop
    udp dport 2004 fib daddr type local drop
    udp dport 2005 fib daddr type unicast drop
  }
}
`,
    probes: twice([
      () => probe('tcp', 'fd10:2::2', 2000),
      () => probe('udp', 'fd10:2::2', 2001),
      () => probe('udp', 'fd10:2::3', 2002, 1),
      () => probe('udp', 'fd10:2::3', 2003, 1),
      () => probe('tcp', 'fd10:2::99', 80),
      () => probe('tcp', 'fd10:2::99', 80, 1),
      () => probe('udp', 'fd10:2::2', 2004),
      () => probe('udp', 'fd10:2::2', 2005),
      () => probe('udp', 'fd10:2::3', 2006),
      () => probe('udp', 'fd10:2::3', 2007),
    ]),
  },
  {
    name: 'local: input and output hooks (iptables-nft filter, mangle and nat OUTPUT with native chains; a mark set in a filter chain does not re-route, in a route chain or mangle table it does)',
    iptables: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -m udp --dport 7101 -j DROP
-A OUTPUT -p udp -m udp --dport 7201 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -d 10.96.0.5/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.10.2.2:5353
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A OUTPUT -p udp -m udp --dport 7205 -j MARK --set-xmark 0x9/0xffffffff
COMMIT
`,
    nft: `
table inet loc {
  chain in {
    type filter hook input priority 10; policy accept;
    udp dport 7102 drop
  }
  chain out {
    type filter hook output priority -10; policy accept;
    udp dport 7202 drop
    udp dport 7203 meta mark set 0x9
  }
  chain reroute {
    type route hook output priority mangle; policy accept;
    udp dport 7204 meta mark set 0x9
  }
  chain onat {
    type nat hook output priority -90; policy accept;
    ip daddr 10.96.0.6 udp dport 53 dnat to 10.10.2.3:5353
  }
}
table ip zz {
  chain seen {
    type filter hook input priority 1000; policy accept;
    meta l4proto { tcp, udp } counter
  }
}
`,
    setup: `ip rule add fwmark 0x9 lookup 100 priority 100
ip route add blackhole 10.10.2.0/24 table 100`,
    teardown: `ip -n ${R} rule del fwmark 0x9 lookup 100 priority 100; ip -n ${R} route flush table 100`,
    probes: twice([
      () => probe('udp', '10.10.1.1', 7100),
      () => probe('udp', '10.10.1.1', 7101),
      () => probe('udp', '10.10.1.1', 7102),
      () => fromRouter('udp', '10.10.2.2', 7200),
      () => fromRouter('udp', '10.10.2.2', 7201),
      () => fromRouter('udp', '10.10.2.3', 7202),
      () => fromRouter('udp', '10.10.2.4', 7203),
      () => fromRouter('udp', '10.10.2.4', 7204),
      () => fromRouter('udp', '10.10.2.4', 7205),
      () => fromRouter('udp', '10.96.0.5', 53),
      () => fromRouter('udp', '10.96.0.6', 53),
    ]),
  },
  {
    name: 'fib: type of daddr/saddr (local, unicast, broadcast, on a device), the rpfilter form saddr . iif oif, daddr oif/oifname, with a mark into fwmark routing',
    iptables: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
`,
    nft: `
table inet fibt {
  chain pre {
    type filter hook prerouting priority -150; policy accept;
    udp dport 7300 fib saddr . iif oif missing drop
    udp dport 7301 fib daddr type local drop
    udp dport 7302 fib daddr type unicast drop
    udp dport 7303 fib daddr . iif type local drop
    udp dport 7304 fib daddr type { broadcast, multicast } drop
    udp dport 7305 meta mark set 0x7
    udp dport 7305 fib daddr . mark oif "r1" drop
    udp dport 7305 meta mark set 0x0
    udp dport 7306 fib daddr oifname "r1" drop
    udp dport 7307 fib saddr type != unicast drop
    udp dport 7308 fib saddr oif exists drop
  }
  chain fw {
    type filter hook forward priority 0; policy accept;
    udp dport 7309 fib daddr . oif type unicast drop
    udp dport 7310 fib saddr . iif oif "r0" drop
  }
}
table ip zz {
  chain seen {
    type filter hook input priority 1000; policy accept;
    meta l4proto { tcp, udp } counter
  }
}
`,
    // 10.10.1.200 (the client's second address) routes back by r1: it fails the reverse path check.
    // Mark 0x7 sends 10.10.2.3 to a blackhole (table 107): `fib daddr . mark oif` finds no device
    // (the mark is cleared again, so that the packet itself is routed as before).
    setup: `ip route add 10.10.1.200/32 via 10.10.2.254 dev r1
ip rule add fwmark 0x7 lookup 107 priority 107
ip route add blackhole 10.10.2.3/32 table 107`,
    teardown: `ip -n ${R} route del 10.10.1.200/32; ip -n ${R} rule del fwmark 0x7 lookup 107 priority 107; ip -n ${R} route flush table 107`,
    probes: twice([
      () => probe('udp', '10.10.2.2', 7300),
      () => probe('udp', '10.10.2.2', 7300, 1),
      () => probe('udp', '10.10.1.1', 7301),
      () => probe('udp', '10.10.2.1', 7301),
      () => probe('udp', '10.10.2.3', 7301),
      () => probe('udp', '10.10.2.2', 7302),
      () => probe('udp', '10.10.1.1', 7302),
      () => probe('udp', '10.10.1.1', 7303),
      () => probe('udp', '10.10.2.1', 7303),
      () => probe('udp', '10.10.2.255', 7304),
      () => probe('udp', '10.10.2.2', 7304),
      () => probe('udp', '10.10.2.2', 7305),
      () => probe('udp', '10.10.2.3', 7305),
      () => probe('udp', '10.10.2.4', 7306),
      () => probe('udp', '10.10.1.1', 7306),
      () => probe('udp', '10.10.2.2', 7307),
      () => probe('udp', '10.10.2.2', 7308),
      () => probe('udp', '10.10.2.2', 7308, 1),
      () => probe('udp', '10.10.2.3', 7309),
      () => probe('udp', '10.10.2.3', 7310),
      () => probe('udp', '10.10.2.3', 7310, 1),
    ]),
  },
];

/**
 * The walk's outcomes for a router hop: where it sends the packet (one per enumerated branch) —
 * out of `towards` as `src dst:dport`, else `out of <oif>` or delivered — and, if anything stops it
 * in some branch (a CRITICAL share, a FATAL drop, an undecided drop), "stopped".
 */
function walkOutcomes(w: Walk, towards: string): { outcomes: Set<string>; undecided: boolean } {
  const outcomes = new Set(w.exits.map((e) => (e.kind === 'deliver' ? 'delivered to the router' : e.oif === towards ? `${e.packet.src} ${e.packet.dst}:${e.packet.dport}` : `out of ${e.oif}`)));
  if (w.findings.some((f) => f.level >= SuspicionLevel.CRITICAL || (f.undecided && /drop|reject|cannot route/.test(f.message)))) outcomes.add('stopped');
  return { outcomes, undecided: w.exits.some((e) => e.undecided) || w.findings.some((f) => f.undecided) };
}

/** Packets the router delivered to itself (the last input chain of the local case counts them). */
function localArrivals(): number {
  const m = /counter packets (\d+)/.exec(spawnSync('ip', ['netns', 'exec', R, 'nft', 'list', 'chain', 'ip', 'zz', 'seen'], { encoding: 'utf8' }).stdout);
  return m ? Number(m[1]) : 0;
}

const SERVER_NFT = `table inet arrivals {
  set seen {
    type ipv4_addr . ipv4_addr . inet_service
    size 65535
    flags dynamic
  }
  set seen6 {
    type ipv6_addr . ipv6_addr . inet_service
    size 65535
    flags dynamic
  }
  chain pre {
    type filter hook prerouting priority -400; policy drop;
    meta nfproto ipv4 meta l4proto { tcp, udp } add @seen { ip saddr . ip daddr . th dport }
    meta nfproto ipv6 meta l4proto { tcp, udp } add @seen6 { ip6 saddr . ip6 daddr . th dport }
  }
}
`;

/** What the server (`server`, default the router topology's) saw arrive since the last call: `src dst:dport`. */
function arrivals(server = S): string[] {
  const out: string[] = [];
  for (const name of ['seen', 'seen6']) {
    const j = JSON.parse(inNs(server, 'nft', '-j', 'list', 'set', 'inet', 'arrivals', name)) as { nftables: { set?: { elem?: { concat: [string, string, number] }[] } }[] };
    inNs(server, 'nft', 'flush', 'set', 'inet', 'arrivals', name);
    const set = j.nftables.find((x) => x.set)?.set;
    for (const e of set?.elem ?? []) {
      const c = 'concat' in e ? e.concat : (e as unknown as { elem: { val: { concat: [string, string, number] } } }).elem.val.concat;
      out.push(`${c[0]} ${c[1]}:${c[2]}`);
    }
  }
  return out;
}

/** A process in the router netns (or `ns`), for the collector's --host-pid. */
async function routerPid(ns = R): Promise<{ pid: number; proc: ChildProcess }> {
  const proc = spawn('ip', ['netns', 'exec', ns, 'sleep', '900'], { stdio: 'ignore' });
  for (let i = 0; i < 300; i++) {
    if (spawnSync('ip', ['netns', 'identify', String(proc.pid)], { encoding: 'utf8' }).stdout.trim() === ns) return { pid: proc.pid!, proc };
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('sleeper did not enter the router netns');
}

test('kernel: hooks of equal priority run the one registered last first, whatever table the dump lists first (npnfw netns)', { skip: skipReason() ?? false }, () => {
  const ns = 'npnfw-tie';
  spawnSync('ip', ['netns', 'del', ns]);
  try {
    sh(['ip', 'netns', 'add', ns]);
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    inNsIn(ns, `table ip a {
  chain f {
    type filter hook output priority 0; policy accept;
    udp dport 9 counter meta mark set 1
  }
}
table ip b {
  chain f {
    type filter hook output priority 0; policy accept;
    udp dport 9 meta mark 1 counter
    udp dport 9 meta mark 0 counter meta mark set 2
  }
}
`, 'nft', '-f', '-');
    // Added last, to the table listed first.
    inNs(ns, 'nft', 'add', 'chain', 'ip', 'a', 'g', '{ type filter hook output priority 0; policy accept; }');
    inNs(ns, 'nft', 'add', 'rule', 'ip', 'a', 'g', 'udp', 'dport', '9', 'meta', 'mark', '0', 'counter');
    inNs(ns, 'nft', 'add', 'rule', 'ip', 'a', 'g', 'udp', 'dport', '9', 'meta', 'mark', '2', 'counter');
    inNs(ns, 'bash', '-c', 'echo x > /dev/udp/127.0.0.1/9');
    const counts = inNs(ns, 'nft', 'list', 'ruleset').match(/packets \d+/g)!.map((x) => Number(x.split(' ')[1]));
    // a.f (mark set 1), a.g (mark 0 | mark 2), b.f (mark 1 | mark 0): a.g ran first (mark 0), then
    // b.f (mark 0, sets 2), then a.f — the dump's order a.f, a.g, b.f is not the kernel's.
    assert.deepEqual(counts, [1, 1, 0, 0, 1]);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});

test('nftables walk vs kernel: iptables-nft + native chains at several priorities on the same hooks (npnfw netns)', { skip: skipReason() ?? false, timeout: 600_000 }, async (t) => {
  topo.cleanup();
  const dir = mkdtempSync(join(tmpdir(), 'npnfw-'));
  let sender: Sender | undefined;
  let routerSender: Sender | undefined;
  const dirs: string[] = [];
  let sleeper: ChildProcess | undefined;
  try {
    topo.build();
    inNsIn(S, SERVER_NFT, 'nft', '-f', '-');
    sender = new Sender(C, dir);
    const routerDir = mkdtempSync(join(tmpdir(), 'npnfw-r-'));
    dirs.push(routerDir);
    routerSender = new Sender(R, routerDir);
    const sleep = await routerPid();
    sleeper = sleep.proc;
    const kernel = kernelProfile(runningKernel());
    let total = 0;
    let enumerated = 0;
    let undecidedTotal = 0;
    const wrong: string[] = [];
    for (const c of CASES) {
      inNs(R, 'nft', 'flush', 'ruleset');
      flushConntrack(R);
      inNsIn(R, c.iptables, c.family === 6 ? 'ip6tables-nft-restore' : 'iptables-nft-restore');
      inNsIn(R, c.nft, 'nft', '-f', '-');
      if (c.setup) inNs(R, 'sh', '-c', `set -e; ${c.setup.replace(/\n/g, '; ')}`);
      const dump = await runCollector({ hostPid: sleep.pid, pids: [] });
      const ns = new NetNS(dump.node, 'router', kernel);
      let agree = 0;
      let sides = 0;
      let unknown = 0;
      for (const p of c.probes) {
        arrivals();
        const local0 = localArrivals();
        await (p.fromRouter ? routerSender! : sender).send(p, c.family ?? 4);
        await new Promise((r) => setTimeout(r, 20));
        const seen = arrivals();
        if (localArrivals() > local0) seen.push('delivered to the router');
        const kernel = seen.length === 1 ? seen[0] : seen.length ? `several: ${seen.join(', ')}` : 'stopped';
        const packet: Packet = { src: p.src, sport: p.sport, dst: p.dst, dport: p.dport, protocol: p.proto, mark: 0 };
        const w = p.fromRouter ? walkSend(ns, packet) : walkReceive(ns, packet, 'r0');
        const { outcomes, undecided } = walkOutcomes(w, 'r1');
        // Certain: exactly the kernel's outcome. Enumerated (numgen, limit) or undecided: the
        // kernel's outcome is one of the walk's.
        const ok = outcomes.size === 1 ? outcomes.has(kernel) && !undecided : outcomes.has(kernel);
        if (outcomes.size > 1 && !undecided) sides++;
        if (undecided) unknown++;
        if (ok) agree++;
        else {
          wrong.push(`${c.name}: ${p.proto} ${p.src}:${p.sport} -> ${p.dst}:${p.dport}: kernel ${kernel}; walk ${[...outcomes].join(' or ') || 'nothing'}${undecided ? ', undecided' : ''} — ${w.findings.map((f) => `${f.check}: ${f.message}`).join(' | ')}`);
        }
      }
      total += c.probes.length;
      enumerated += sides;
      undecidedTotal += unknown;
      t.diagnostic(`${c.name}: ${agree}/${c.probes.length} (${sides} with enumerated outcomes, ${unknown} undecided)`);
      if (c.teardown) spawnSync('sh', ['-c', c.teardown]);
    }
    const line = `nftables walk vs kernel: ${total - wrong.length}/${total} packets (${enumerated} with enumerated numgen/limit outcomes, ${undecidedTotal} undecided with the kernel's outcome among the walk's)`;
    t.diagnostic(line);
    console.log(line);
    assert.deepEqual(wrong, []);
  } finally {
    sender?.close();
    routerSender?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    sleeper?.kill();
    topo.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

// A bridge in a netns (npnfb-br: br0 with ports pa, pb) between a sender (npnfb-a) and a receiver
// (npnfb-b) on one subnet: bridge-family chains at prerouting, forward and postrouting, several
// tables, an accept that ends only its own chain.
const BR = { A: 'npnfb-a', B: 'npnfb-b', BR: 'npnfb-br' };

/**
 * Builds the bridge namespaces `b`: br0 (10.10.9.1) with ports pa (to a0 in A: 10.10.9.2 and
 * .200) and pb (to b0 in B: 10.10.9.3 and .4); neighbours and FDB entries permanent.
 */
function buildBridge(b: { A: string; B: string; BR: string }): void {
  sh(['sh', '-c', `set -e
for n in ${b.A} ${b.B} ${b.BR}; do ip netns add $n; ip -n $n link set lo up; done
ip -n ${b.BR} link add br0 type bridge; ip -n ${b.BR} link set br0 address 02:00:00:00:09:01; ip -n ${b.BR} link set br0 up
ip -n ${b.BR} addr add 10.10.9.1/24 dev br0
ip -n ${b.A} link add a0 type veth peer name pa netns ${b.BR}
ip -n ${b.B} link add b0 type veth peer name pb netns ${b.BR}
ip -n ${b.A} link set a0 address 02:00:00:00:09:0a; ip -n ${b.B} link set b0 address 02:00:00:00:09:0b
for p in pa pb; do ip -n ${b.BR} link set $p master br0; ip -n ${b.BR} link set $p up; done
ip -n ${b.A} addr add 10.10.9.2/24 dev a0; ip -n ${b.A} addr add 10.10.9.200/24 dev a0; ip -n ${b.A} link set a0 up
ip -n ${b.B} addr add 10.10.9.3/24 dev b0; ip -n ${b.B} addr add 10.10.9.4/24 dev b0; ip -n ${b.B} link set b0 up
for d in 10.10.9.3 10.10.9.4; do ip -n ${b.A} neigh replace $d lladdr 02:00:00:00:09:0b dev a0 nud permanent; done
ip -n ${b.A} neigh replace 10.10.9.1 lladdr 02:00:00:00:09:01 dev a0 nud permanent
for d in 10.10.9.2 10.10.9.200; do ip -n ${b.BR} neigh replace $d lladdr 02:00:00:00:09:0a dev br0 nud permanent; done
for d in 10.10.9.3 10.10.9.4; do ip -n ${b.BR} neigh replace $d lladdr 02:00:00:00:09:0b dev br0 nud permanent; done
ip netns exec ${b.BR} bridge fdb replace 02:00:00:00:09:0b dev pb master static
ip netns exec ${b.BR} bridge fdb replace 02:00:00:00:09:0a dev pa master static
for d in 10.10.9.1; do ip -n ${b.B} neigh replace $d lladdr 02:00:00:00:09:01 dev b0 nud permanent; done
for d in 10.10.9.2 10.10.9.200; do ip -n ${b.B} neigh replace $d lladdr 02:00:00:00:09:0a dev b0 nud permanent; done`]);
}

const BRIDGE_NFT = `
table bridge brf {
  chain pre {
    type filter hook prerouting priority -200; policy accept;
    iifname "pa" udp dport 7400 drop
    oifname "pb" udp dport 7401 drop
  }
  chain fw {
    type filter hook forward priority -200; policy accept;
    ip daddr 10.10.9.4 udp dport 7402 drop
    meta protocol ip6 udp dport 7403 drop
    ip saddr 10.10.9.200 udp dport { 7404, 7405 } drop
    oifname "pb" udp dport 7406 drop
    meta l4proto tcp tcp dport 7407 drop
    udp dport 7409 accept
    iifname != "pa" drop
  }
  chain post {
    type filter hook postrouting priority 0; policy accept;
    ip daddr 10.10.9.3 udp dport 7408 drop
  }
  chain in {
    type filter hook input priority -200; policy accept;
    udp dport 7420 drop
    oifname "pb" udp dport 7421 drop
    iifname "pa" udp dport 7422 drop
  }
  chain out {
    type filter hook output priority -200; policy accept;
    udp dport 7430 drop
    iifname "pa" udp dport 7431 drop
    oifname "pb" udp dport 7432 drop
    oifname "pa" udp dport 7433 drop
  }
}
table ip up {
  chain seen {
    type filter hook input priority 1000; policy accept;
    meta l4proto { tcp, udp } counter
  }
}
table bridge b2 {
  chain fw {
    type filter hook forward priority 5; policy accept;
    udp dport 7409 drop
    udp dport 7410 drop
  }
}
`;

test('bridge-family nftables chains vs the kernel: a bridged frame through prerouting, forward and postrouting chains of two tables, one passed up to the host through prerouting and input, one the host sends through output and postrouting (npnfb netns)', { skip: skipReason() ?? false, timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'npnfb-'));
  const clean = () => { for (const n of Object.values(BR)) spawnSync('ip', ['netns', 'del', n]); };
  clean();
  let sender: Sender | undefined;
  let hostSender: Sender | undefined;
  let sleeper: ChildProcess | undefined;
  try {
    buildBridge(BR);
    inNsIn(BR.B, SERVER_NFT, 'nft', '-f', '-');
    inNsIn(BR.BR, BRIDGE_NFT, 'nft', '-f', '-');
    sender = new Sender(BR.A, dir);
    hostSender = new Sender(BR.BR, dir);
    const sleep = await routerPid(BR.BR);
    sleeper = sleep.proc;
    const dump = await runCollector({ hostPid: sleep.pid, pids: [] });
    const ns = new NetNS(dump.node, 'bridge', kernelProfile(runningKernel()));
    const p = (proto: 'udp' | 'tcp', src: string, dst: string, dport: number): Probe => ({ proto, src, dst, sport: nextPort++, dport });
    const probes = [
      () => p('udp', '10.10.9.2', '10.10.9.3', 7399),
      () => p('udp', '10.10.9.2', '10.10.9.3', 7400),
      () => p('udp', '10.10.9.2', '10.10.9.3', 7401),
      () => p('udp', '10.10.9.2', '10.10.9.4', 7402),
      () => p('udp', '10.10.9.2', '10.10.9.3', 7402),
      () => p('udp', '10.10.9.2', '10.10.9.3', 7403),
      () => p('udp', '10.10.9.200', '10.10.9.3', 7404),
      () => p('udp', '10.10.9.2', '10.10.9.3', 7405),
      () => p('udp', '10.10.9.2', '10.10.9.4', 7406),
      () => p('tcp', '10.10.9.2', '10.10.9.3', 7407),
      () => p('udp', '10.10.9.2', '10.10.9.3', 7407),
      () => p('udp', '10.10.9.2', '10.10.9.3', 7408),
      () => p('udp', '10.10.9.2', '10.10.9.4', 7408),
      () => p('udp', '10.10.9.2', '10.10.9.3', 7409),
      () => p('udp', '10.10.9.200', '10.10.9.4', 7410),
      // Up to the bridge's own address: prerouting and input chains, not forward.
      () => p('udp', '10.10.9.2', '10.10.9.1', 7419),
      () => p('udp', '10.10.9.2', '10.10.9.1', 7420),
      () => p('udp', '10.10.9.2', '10.10.9.1', 7421),
      () => p('udp', '10.10.9.2', '10.10.9.1', 7422),
      () => p('udp', '10.10.9.2', '10.10.9.1', 7400),
      () => p('udp', '10.10.9.2', '10.10.9.1', 7406),
      // Sent by the bridge's host out of pb: output and postrouting chains.
      () => p('udp', '10.10.9.1', '10.10.9.3', 7429),
      () => p('udp', '10.10.9.1', '10.10.9.3', 7430),
      () => p('udp', '10.10.9.1', '10.10.9.3', 7431),
      () => p('udp', '10.10.9.1', '10.10.9.3', 7432),
      () => p('udp', '10.10.9.1', '10.10.9.4', 7433),
      () => p('udp', '10.10.9.1', '10.10.9.3', 7408),
      () => p('udp', '10.10.9.1', '10.10.9.4', 7408),
      () => p('udp', '10.10.9.1', '10.10.9.4', 7402),
    ];
    const upCount = () => Number(/packets (\d+)/.exec(inNs(BR.BR, 'nft', 'list', 'chain', 'ip', 'up', 'seen'))?.[1] ?? 0);
    const wrong: string[] = [];
    let total = 0;
    for (const make of [...probes, ...probes]) {
      const pr = make();
      const toHost = pr.dst === '10.10.9.1';
      const fromHost = pr.src === '10.10.9.1';
      arrivals(BR.B);
      const up0 = upCount();
      await (fromHost ? hostSender : sender).send(pr, 4);
      await new Promise((r) => setTimeout(r, 20));
      const kernel = (toHost ? upCount() > up0 : arrivals(BR.B).length > 0) ? 'passed' : 'stopped';
      const findings: Suspicion[] = [];
      const stop = bridgeFamilyChains(ns, 'br0', fromHost ? undefined : 'pa', toHost ? undefined : 'pb', { src: pr.src, sport: pr.sport, dst: pr.dst, dport: pr.dport, protocol: pr.proto, mark: 0 }, findings);
      const walk = findings.some((f) => f.undecided) ? 'undecided' : stop ? 'stopped' : 'passed';
      total++;
      if (walk !== kernel) wrong.push(`${pr.proto} ${pr.src} -> ${pr.dst}:${pr.dport}: kernel ${kernel}, netpath ${walk} ${stop?.evidence.map((e) => e.text).join(' | ') ?? ''}`);
    }
    const line = `bridge-family nftables vs kernel: ${total - wrong.length}/${total} packets`;
    t.diagnostic(line);
    console.log(line);
    assert.deepEqual(wrong, []);
  } finally {
    sender?.close();
    hostSender?.close();
    sleeper?.kill();
    clean();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Native egress chains (netdev, `hook egress device X`) vs the kernel (npeg netns): on a router
// (client → router → server, and back) — a drop on the output interface, what a chain there sees
// after DNAT and MASQUERADE, two chains by priority (a mark set by the first, an accept ending only
// its own chain), no input interface at egress, a chain on the other interface, lo for a packet
// the router sends itself — and on a bridge:
// a frame bridged out of a port, one the bridge's host sends out of br0 and then the port.
//
// nft -j list ruleset (1.0.6) leaves the devices of netdev chains out; the text listing has them,
// and the collector records it then (`nftablesText`). Each packet is compared twice: with the dump
// as collected (the devices read from the text: the walk must be certain and right), and without
// the text, as older collectors dumped it (a chain whose device is not named is evaluated on and
// off the interface: the kernel's outcome must be among the walk's, and a packet no egress rule
// would stop stays certain).
const EG = routerTopology({ prefix: 'npeg', macByte: 6, defaultViaServer: true });
const EGB = { A: 'npeg-ba', B: 'npeg-bb', BR: 'npeg-br' };

const EGRESS_ROUTER_NFT = `
table ip enat {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.96.0.1 udp dport 53 dnat to 10.10.2.3:5353
    ip daddr 10.96.0.2 udp dport 53 dnat to 10.10.2.4:5353
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "r1" ip saddr 10.10.1.200 masquerade
  }
}
table netdev eg {
  chain r1a {
    type filter hook egress device "r1" priority -10; policy accept;
    udp dport 6001 drop
    ip saddr 10.10.2.1 udp dport 6002 drop
    ip saddr 10.10.1.200 udp dport 6003 drop
    ip daddr 10.10.2.3 udp dport 5353 drop
    ip daddr 10.96.0.2 drop
    udp dport 6004 meta mark set 0x4
    udp dport 6005 accept
    iifname "r0" udp dport 6006 drop
    oifname "r1" udp dport 6007 drop
  }
  chain r1b {
    type filter hook egress device "r1" priority 10; policy accept;
    meta mark 0x4 drop
    udp dport 6005 drop
  }
  chain r0 {
    type filter hook egress device "r0" priority 0; policy accept;
    udp dport 6008 drop
  }
  chain lo {
    type filter hook egress device "lo" priority 0; policy accept;
    udp dport 6009 drop
  }
}
table ip delivered {
  chain in {
    type filter hook input priority 1000; policy accept;
    meta l4proto udp counter
  }
}
`;

const EGRESS_BRIDGE_NFT = `
table netdev beg {
  chain pb {
    type filter hook egress device "pb" priority 0; policy accept;
    udp dport 7501 drop
    ip saddr 10.10.9.200 udp dport 7502 drop
    oifname "pb" udp dport 7503 drop
    iifname "pa" udp dport 7504 drop
  }
  chain br0 {
    type filter hook egress device "br0" priority 0; policy accept;
    udp dport 7505 drop
  }
  chain pa {
    type filter hook egress device "pa" priority 0; policy accept;
    udp dport 7506 drop
  }
}
`;

/**
 * The router's NetNS as collected — nft -j leaves the netdev chains' devices out, the collector
 * then records `nft list ruleset` and the engine reads them there (every one must be named) — and
 * as a dump without that text (collectors before it) has it.
 */
function namedAndUnnamed(dump: NodeNetworkStackDump, label: string, kernel: ReturnType<typeof kernelProfile>): { named: NetNS; unnamed: NetNS; devicesInJson: boolean } {
  const devicesInJson = JSON.stringify(dump.node.nftables).includes('"dev"');
  if (!devicesInJson) assert.ok(dump.node.nftablesText, 'nft -j leaves the devices out: the collector records the text listing');
  const named = new NetNS(dump.node, label, kernel);
  const nameless = named.nftables!.tables.flatMap((t) => [...t.chains.values()]).filter((c) => c.base && (c.base.hook === 'egress' || c.base.hook === 'ingress') && !c.base.devices.length);
  assert.deepEqual(nameless.map((c) => `${c.table} ${c.name}`), [], 'every netdev chain has its devices, from nft -j or the text listing');
  return { named, unnamed: new NetNS({ ...dump.node, nftablesText: undefined }, label, kernel), devicesInJson };
}

/** Certain: exactly the kernel's outcome; enumerated or undecided: the kernel's outcome among the walk's. */
const agrees = (kernel: string, o: { outcomes: Set<string>; undecided: boolean }) => (o.outcomes.size === 1 && !o.undecided ? o.outcomes.has(kernel) : o.outcomes.has(kernel));

test('nftables egress chains vs the kernel: routed, sent and answered through a router, after DNAT and MASQUERADE, by priority (npeg netns)', { skip: skipReason() ?? false, timeout: 300_000 }, async (t) => {
  EG.cleanup();
  const dir = mkdtempSync(join(tmpdir(), 'npeg-'));
  const senders: Sender[] = [];
  let sleeper: ChildProcess | undefined;
  try {
    EG.build();
    inNsIn(EG.S, SERVER_NFT, 'nft', '-f', '-');
    inNsIn(EG.C, SERVER_NFT, 'nft', '-f', '-');
    inNsIn(EG.R, EGRESS_ROUTER_NFT, 'nft', '-f', '-');
    flushConntrack(EG.R);
    const from = { C: new Sender(EG.C, mkdtempSync(join(dir, 'c-'))), R: new Sender(EG.R, mkdtempSync(join(dir, 'r-'))), S: new Sender(EG.S, mkdtempSync(join(dir, 's-'))) };
    senders.push(...Object.values(from));
    const sleep = await routerPid(EG.R);
    sleeper = sleep.proc;
    const dump = await runCollector({ hostPid: sleep.pid, pids: [] });
    const kernel = kernelProfile(runningKernel());
    const { named, unnamed: asDumped, devicesInJson } = namedAndUnnamed(dump, 'router', kernel);
    type P = Probe & { by: keyof typeof from };
    const c = (dst: string, dport: number, src = 0): P => ({ ...probe('udp', dst, dport, src), by: 'C' });
    const probes: P[] = [
      c('10.10.2.2', 6000), c('10.10.2.2', 6001), c('10.10.2.2', 6002), c('10.10.2.2', 6002, 1), c('10.10.2.3', 6003, 1),
      c('10.96.0.1', 53), c('10.96.0.2', 53), c('10.10.2.4', 6004), c('10.10.2.4', 6005), c('10.10.2.2', 6006), c('10.10.2.2', 6007), c('10.10.2.2', 6008),
      // Sent by the router itself out of r1.
      { ...fromRouter('udp', '10.10.2.2', 6000), by: 'R' }, { ...fromRouter('udp', '10.10.2.2', 6001), by: 'R' }, { ...fromRouter('udp', '10.10.2.3', 6007), by: 'R' },
      // Sent by the router to its own address: through lo.
      { ...fromRouter('udp', '10.10.1.1', 6000), by: 'R' }, { ...fromRouter('udp', '10.10.1.1', 6009), by: 'R' },
      // The other way, server → client: out of r0, where only r0's chain is.
      { proto: 'udp', src: '10.10.2.2', dst: '10.10.1.2', sport: nextPort++, dport: 6008, by: 'S' }, { proto: 'udp', src: '10.10.2.2', dst: '10.10.1.2', sport: nextPort++, dport: 6001, by: 'S' },
    ];
    // No egress rule matches these on any interface (6006: iifname, which egress never has): certain even as dumped.
    const matchedByNone = new Set([6000, 6006]);
    const wrong: string[] = [];
    let total = 0;
    let agreeing = 0;
    let undecided = 0;
    for (const p of [...probes, ...probes.map((x) => ({ ...x, sport: nextPort++ }))]) {
      const to = p.by === 'S' ? EG.C : EG.S;
      const delivered = () => Number(/packets (\d+)/.exec(inNs(EG.R, 'nft', 'list', 'chain', 'ip', 'delivered', 'in'))?.[1] ?? 0);
      arrivals(to);
      const d0 = delivered();
      await from[p.by].send(p, 4);
      await new Promise((r) => setTimeout(r, 20));
      const seen = arrivals(to);
      if (delivered() > d0) seen.push('delivered to the router');
      const k = seen.length === 1 ? seen[0] : seen.length ? `several: ${seen.join(', ')}` : 'stopped';
      const packet: Packet = { src: p.src, sport: p.sport, dst: p.dst, dport: p.dport, protocol: p.proto, mark: 0 };
      const walk = (ns: NetNS) => (p.by === 'R' ? walkSend(ns, packet) : walkReceive(ns, packet, p.by === 'S' ? 'r1' : 'r0'));
      const towards = p.by === 'S' ? 'r0' : 'r1';
      total++;
      const wn = walk(named);
      const on = walkOutcomes(wn, towards);
      const wd = walk(asDumped);
      const od = walkOutcomes(wd, towards);
      if (od.undecided) undecided++;
      const bad: string[] = [];
      if (on.undecided || !agrees(k, on)) bad.push(`as collected: walk ${[...on.outcomes].join(' or ')}${on.undecided ? ', undecided' : ''} — ${wn.findings.map((f) => `${f.check}: ${f.message}`).join(' | ')}`);
      if (!agrees(k, od) || (od.undecided && matchedByNone.has(p.dport))) bad.push(`without the text listing: walk ${[...od.outcomes].join(' or ')}${od.undecided ? ', undecided' : ''}`);
      if (bad.length) wrong.push(`${p.src}:${p.sport} -> ${p.dst}:${p.dport}: kernel ${k}; ${bad.join('; ')}`);
      else agreeing++;
    }
    const line = `nftables egress walk vs kernel (router): ${agreeing}/${total} packets agree (as collected, devices ${devicesInJson ? 'in nft -j' : 'from nft list ruleset'}: certain and right; without the text listing: the kernel's outcome among the walk's, ${undecided} undecided)`;
    t.diagnostic(line);
    console.log(line);
    assert.deepEqual(wrong, []);
  } finally {
    for (const s of senders) s.close();
    sleeper?.kill();
    EG.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nftables egress chains vs the kernel: a frame bridged out of a port, one the bridge\'s host sends out of br0 and the port (npeg netns)', { skip: skipReason() ?? false, timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'npeg-b-'));
  const clean = () => { for (const n of Object.values(EGB)) spawnSync('ip', ['netns', 'del', n]); };
  clean();
  const senders: Sender[] = [];
  let sleeper: ChildProcess | undefined;
  try {
    buildBridge(EGB);
    inNsIn(EGB.B, SERVER_NFT, 'nft', '-f', '-');
    inNsIn(EGB.BR, EGRESS_BRIDGE_NFT, 'nft', '-f', '-');
    const sender = new Sender(EGB.A, mkdtempSync(join(dir, 'a-')));
    const hostSender = new Sender(EGB.BR, mkdtempSync(join(dir, 'br-')));
    senders.push(sender, hostSender);
    const sleep = await routerPid(EGB.BR);
    sleeper = sleep.proc;
    const dump = await runCollector({ hostPid: sleep.pid, pids: [] });
    const kernel = kernelProfile(runningKernel());
    const { named, unnamed: asDumped } = namedAndUnnamed(dump, 'bridge', kernel);
    // Bridged: the port's egress chains (bridgePortEgress, as l2.ts calls it). Sent by the host:
    // the walk (routed out of br0, whose egress chains it meets after POSTROUTING), then the port's.
    const simulate = (ns: NetNS, packet: Packet, fromHost: boolean) => {
      const outcomes = new Set<string>();
      let undecided = false;
      let bridged = true;
      if (fromHost) {
        const w = walkSend(ns, packet);
        const o = walkOutcomes(w, 'br0');
        undecided = o.undecided;
        if (o.outcomes.has('stopped')) outcomes.add('stopped');
        bridged = w.exits.some((e) => e.kind === 'out' && e.oif === 'br0');
      }
      if (bridged) {
        const findings: Suspicion[] = [];
        const stop = bridgePortEgress(ns, 'br0', 'pb', packet, findings);
        if (findings.some((f) => f.undecided)) {
          undecided = true;
          outcomes.add('stopped').add('passed');
        } else outcomes.add(stop ? 'stopped' : 'passed');
      }
      return { outcomes, undecided };
    };
    const p = (src: string, dst: string, dport: number): Probe => ({ proto: 'udp', src, dst, sport: nextPort++, dport });
    const probes = [
      () => p('10.10.9.2', '10.10.9.3', 7500),
      () => p('10.10.9.2', '10.10.9.3', 7501),
      () => p('10.10.9.200', '10.10.9.3', 7502),
      () => p('10.10.9.2', '10.10.9.3', 7502),
      () => p('10.10.9.2', '10.10.9.4', 7503),
      () => p('10.10.9.2', '10.10.9.4', 7504),
      () => p('10.10.9.2', '10.10.9.3', 7505),
      () => p('10.10.9.2', '10.10.9.3', 7506),
      () => p('10.10.9.1', '10.10.9.3', 7500),
      () => p('10.10.9.1', '10.10.9.3', 7501),
      () => p('10.10.9.1', '10.10.9.4', 7505),
      () => p('10.10.9.1', '10.10.9.3', 7506),
    ];
    const wrong: string[] = [];
    let total = 0;
    let agreeing = 0;
    let undecided = 0;
    for (const make of [...probes, ...probes]) {
      const pr = make();
      const fromHost = pr.src === '10.10.9.1';
      arrivals(EGB.B);
      await (fromHost ? hostSender : sender).send(pr, 4);
      await new Promise((r) => setTimeout(r, 20));
      const k = arrivals(EGB.B).length > 0 ? 'passed' : 'stopped';
      const packet: Packet = { src: pr.src, sport: pr.sport, dst: pr.dst, dport: pr.dport, protocol: pr.proto, mark: 0 };
      total++;
      const on = simulate(named, packet, fromHost);
      const od = simulate(asDumped, packet, fromHost);
      if (od.undecided) undecided++;
      const bad: string[] = [];
      if (on.undecided || !agrees(k, on)) bad.push(`as collected: netpath ${[...on.outcomes].join(' or ')}${on.undecided ? ', undecided' : ''}`);
      if (!agrees(k, od) || (od.undecided && pr.dport === 7500)) bad.push(`without the text listing: netpath ${[...od.outcomes].join(' or ')}${od.undecided ? ', undecided' : ''}`);
      if (bad.length) wrong.push(`${pr.src} -> ${pr.dst}:${pr.dport}: kernel ${k}; ${bad.join('; ')}`);
      else agreeing++;
    }
    const line = `nftables egress vs kernel (bridge): ${agreeing}/${total} packets agree (as collected: certain and right; without the text listing: the kernel's outcome among netpath's, ${undecided} undecided)`;
    t.diagnostic(line);
    console.log(line);
    assert.deepEqual(wrong, []);
  } finally {
    for (const s of senders) s.close();
    sleeper?.kill();
    clean();
    rmSync(dir, { recursive: true, force: true });
  }
});
