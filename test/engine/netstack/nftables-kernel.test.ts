// nftables simulator vs the kernel. Builds client → router → server network namespaces (prefix
// npnfk-, or $NETPATH_NFK_PREFIX), loads native rule sets into the router with the real `nft -f` (some mixed with
// iptables-nft rules, which nft lists natively too), sends real UDP datagrams, TCP SYNs and ICMP /
// ICMPv6 messages of many types from the client and, after each packet, compares the simulator — fed only with the router's
// `nft -j list ruleset`, as the collector records it — with the kernel: the per-rule counters must
// be exactly those of one enumerated outcome, and that outcome's verdict and NAT must be what the
// server's arrival counters and the router's conntrack table show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelTestSkip } from '../../support/machine';
import { CLIENT4, CLIENT6, ROUTER4, ROUTER6, SERVER4, SERVER6, conntrackEntries, flushConntrack, inNs, inNsIn, routerTopology, sh, Sender, type Probe } from '../../support/router-topology';
import { parseIP, parsePrefix, contains } from '../../../src/engine/netstack/ip';
import { isObj, parseNftRuleset } from '../../../src/engine/netstack/nftables/model';
import type { NftPacket } from '../../../src/engine/netstack/nftables/expr';
import { conntrackInUse, traceNftReceive, type NftEnv, type NftOutcome } from '../../../src/engine/netstack/nftables/simulate';

// Two runs at once (several worktrees on one machine) need their own namespace names.
const PREFIX = process.env.NETPATH_NFK_PREFIX || 'npnfk';
const topo = routerTopology({ prefix: PREFIX, macByte: 1, defaultViaServer: true });
const { C, R, S } = topo;

const TOOLS = ['nft', 'conntrack', 'iptables-nft-restore', 'python3'];

function cleanup(): void {
  topo.cleanup();
}

function buildTopology(): void {
  topo.build();
  // The server drops everything before conntrack (no replies), one counter per destination
  // address, so that its counters tell where a packet arrived and with which source.
  const per = (fam: string, addrs: string[]) => addrs.map((a) => `${fam} daddr ${a} counter drop`).join('\n    ');
  inNsIn(S, `table inet arrivals {
  chain pre {
    type filter hook prerouting priority -400; policy drop;
    ${per('ip', SERVER4)}
    ${per('ip6', SERVER6)}
  }
}
`, 'nft', '-f', '-');
}

/** nft (1.0) wants a newline or `;` before a one-line chain's closing brace; the cases read better without. */
const nftText = (text: string) => text.replace(/chain (\S+) \{((?:[^{}]|\{[^{}]*\})*)\}/g, (_, name: string, body: string) => `chain ${name} {${body.replace(/\s*;?\s*$/, '')};\n}`).replace(/\}\s*\}/g, '}\n}');

/** Empties the router's rule sets (native and iptables-nft alike: both are nftables). */
function resetRouter(): void {
  inNs(R, 'nft', 'flush', 'ruleset');
}


interface RuleSetCase {
  name: string;
  family: 4 | 6;
  /** `nft -f` input. */
  nft: string;
  /** iptables-nft-restore input loaded before the native rules (mixed rule sets). */
  iptables?: string;
  probes: Probe[];
}

let nextPort = 30000;
function probes(family: 4 | 6, list: [proto: 'udp' | 'tcp', dst: string, dport: number, srcIndex?: number][]): Probe[] {
  const srcs = family === 4 ? CLIENT4 : CLIENT6;
  return list.map(([proto, dst, dport, si]) => ({ proto, src: srcs[si ?? 0], dst, sport: nextPort++, dport }));
}

/** ICMP (ICMPv6 for family 6) messages `[type, code, dst, srcIndex?]`; the identifier is unique per probe. */
function icmpProbes(family: 4 | 6, list: [type: number, code: number, dst: string, srcIndex?: number][]): Probe[] {
  const srcs = family === 4 ? CLIENT4 : CLIENT6;
  return list.map(([icmpType, icmpCode, dst, si]) => ({ proto: 'icmp', src: srcs[si ?? 0], dst, sport: nextPort++, dport: 0, icmpType, icmpCode }));
}

/**
 * The conntrack state of an ICMP message that belongs to no connection (conntrack is flushed
 * before each probe): requests start one; NDP and MLD are left untracked
 * (nf_conntrack_icmpv6_error's noct_valid_new); anything else — replies, errors without a
 * connection they refer to, unknown types — is invalid.
 */
function icmpCtState(family: 4 | 6, type: number): 'new' | 'untracked' | 'invalid' {
  if (family === 4) return [8, 13, 15, 17].includes(type) ? 'new' : 'invalid';
  if (type === 128 || type === 139) return 'new';
  return [130, 131, 132, 133, 134, 135, 136, 143].includes(type) ? 'untracked' : 'invalid';
}

function repeat<T>(n: number, f: (i: number) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(...f(i));
  return out;
}

// Upstream kube-proxy's nftables proxier, in shape: service-ips verdict map → per-service chain
// (masquerade mark for outside-cluster sources) → numgen vmap → endpoint chains with dnat;
// no-endpoint services rejected in filter chains; masquerading by mark in nat-postrouting.
const KUBE_PROXY = `
table ip kube-proxy {
  comment "rules for kube-proxy"
  set cluster-ips { type ipv4_addr; elements = { 10.96.0.10, 10.96.0.20, 10.96.0.30 } }
  map no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; elements = { 10.96.0.30 . tcp . 80 comment "ns/empty:http" : goto reject-chain } }
  map service-ips { type ipv4_addr . inet_proto . inet_service : verdict
    elements = { 10.96.0.10 . tcp . 80 : goto service-WEB-ns/web/tcp/http, 10.96.0.10 . udp . 53 : goto service-DNS-ns/dns/udp/dns, 10.96.0.20 . tcp . 8080 : goto service-ONE-ns/one/tcp/p } }
  chain reject-chain { counter reject }
  chain filter-forward {
    type filter hook forward priority -110; policy accept;
    ct state new jump service-endpoints-check
    ct state new jump cluster-ips-check
  }
  chain service-endpoints-check { ip daddr . meta l4proto . th dport vmap @no-endpoint-services }
  chain cluster-ips-check { ip daddr @cluster-ips counter reject comment "Reject traffic to invalid ports of ClusterIPs" }
  chain nat-prerouting { type nat hook prerouting priority dstnat; policy accept; jump services }
  chain nat-postrouting { type nat hook postrouting priority srcnat; policy accept; jump masquerading }
  chain mark-for-masquerade { counter meta mark set meta mark | 0x4000 }
  chain masquerading {
    meta mark & 0x4000 == 0 return
    meta mark set meta mark ^ 0x4000
    counter masquerade fully-random
  }
  chain services { ip daddr . meta l4proto . th dport vmap @service-ips }
  chain service-WEB-ns/web/tcp/http {
    ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.10.1.0/25 jump mark-for-masquerade
    numgen random mod 3 vmap { 0 : goto endpoint-A-ns/web/tcp/http__10.10.2.2/8080, 1 : goto endpoint-B-ns/web/tcp/http__10.10.2.3/8080, 2 : goto endpoint-C-ns/web/tcp/http__10.10.2.4/8080 }
  }
  chain endpoint-A-ns/web/tcp/http__10.10.2.2/8080 { ip saddr 10.10.2.2 jump mark-for-masquerade; counter meta l4proto tcp dnat to 10.10.2.2:8080 }
  chain endpoint-B-ns/web/tcp/http__10.10.2.3/8080 { ip saddr 10.10.2.3 jump mark-for-masquerade; counter meta l4proto tcp dnat to 10.10.2.3:8080 }
  chain endpoint-C-ns/web/tcp/http__10.10.2.4/8080 { ip saddr 10.10.2.4 jump mark-for-masquerade; counter meta l4proto tcp dnat to 10.10.2.4:8080 }
  chain service-DNS-ns/dns/udp/dns {
    ip daddr 10.96.0.10 udp dport 53 ip saddr != 10.10.1.0/25 jump mark-for-masquerade
    numgen random mod 2 vmap { 0 : goto endpoint-D-ns/dns/udp/dns__10.10.2.2/5353, 1 : goto endpoint-E-ns/dns/udp/dns__10.10.2.3/5353 }
  }
  chain endpoint-D-ns/dns/udp/dns__10.10.2.2/5353 { counter meta l4proto udp dnat to 10.10.2.2:5353 }
  chain endpoint-E-ns/dns/udp/dns__10.10.2.3/5353 { counter meta l4proto udp dnat to 10.10.2.3:5353 }
  chain service-ONE-ns/one/tcp/p { counter goto endpoint-F-ns/one/tcp/p__10.10.2.4/80 }
  chain endpoint-F-ns/one/tcp/p__10.10.2.4/80 { counter meta l4proto tcp dnat to 10.10.2.4:80 }
}
`;

const FIREWALLD = `
table inet firewalld {
  set allowed-tcp { type inet_service; flags interval; elements = { 22, 80, 443, 8000-8099 } }
  chain filter_INPUT {
    type filter hook input priority filter + 10; policy accept;
    ct state { established, related } accept
    ct state invalid counter drop
    iifname "lo" accept
    jump filter_INPUT_ZONES
    counter reject with icmpx admin-prohibited
  }
  chain filter_FORWARD {
    type filter hook forward priority filter + 10; policy accept;
    ct state { established, related } accept
    ct state invalid counter drop
    iifname "lo" accept
    jump filter_FORWARD_ZONES
    counter reject with icmpx admin-prohibited
  }
  chain filter_OUTPUT { type filter hook output priority filter + 10; policy accept; oifname "lo" accept }
  chain filter_INPUT_ZONES { iifname "r0" goto filter_IN_public; iifname "r1" goto filter_IN_internal; goto filter_IN_public }
  chain filter_FORWARD_ZONES { iifname "r0" goto filter_FWD_public; goto filter_FWD_internal }
  chain filter_IN_public { jump filter_IN_public_allow; meta l4proto { icmp, ipv6-icmp } accept }
  chain filter_IN_public_allow { tcp dport 22 ct state { new, untracked } counter accept; udp dport 546 ct state { new, untracked } counter accept }
  chain filter_IN_internal { counter accept }
  chain filter_FWD_public { jump filter_FWD_public_allow }
  chain filter_FWD_public_allow {
    tcp dport @allowed-tcp ct state { new, untracked } counter accept
    udp dport { 53, 123, 5000-5010 } counter accept
    ip saddr 10.10.1.200 counter accept
    ip6 saddr fd10:1::3 counter accept
  }
  chain filter_FWD_internal { counter accept }
}
`;

const FW_PROBES = (f: 4 | 6, srv: string[], router: string) =>
  repeat(3, (i) =>
    probes(f, [
      ['tcp', srv[i % srv.length], 22],
      ['tcp', srv[0], 80, i % 2],
      ['tcp', srv[1], 8050],
      ['tcp', srv[1], 8100],
      ['udp', srv[0], 53],
      ['udp', srv[1], 5005],
      ['udp', srv[1], 5011],
      ['udp', srv[0], 9999, 1],
      ['tcp', srv[0], 3306, 1],
      ['udp', router, 546],
      ['udp', router, 7777],
      ['tcp', router, 80],
    ]),
  );

// firewalld's shape for ICMP: NDP accepted early by type (before rp_filter in prerouting and in
// input before the invalid drop), the zones' ICMP blocks by type and code, `meta l4proto` accepts.
const FIREWALLD_ICMP = `
table inet fwicmp {
  chain filter_PREROUTING {
    type filter hook prerouting priority filter + 10; policy accept;
    icmpv6 type { nd-router-advert, nd-neighbor-solicit } counter accept
  }
  chain filter_INPUT {
    type filter hook input priority filter + 10; policy accept;
    ct state { established, related } accept
    iifname "lo" accept
    icmpv6 type { nd-neighbor-advert, mld-listener-query, mld2-listener-report } counter accept
    ct state invalid counter drop
    jump filter_IN_public
    counter reject with icmpx admin-prohibited
  }
  chain filter_FORWARD {
    type filter hook forward priority filter + 10; policy accept;
    ct state { established, related } accept
    ct state invalid counter drop
    jump filter_FWD_public
    counter reject with icmpx admin-prohibited
  }
  chain filter_IN_public {
    icmp type { echo-request, timestamp-request } icmp code 0 counter accept
    icmpv6 type echo-request ip6 saddr fd10:1::3 counter drop
    icmpv6 type . icmpv6 code { echo-request . no-route, nd-router-solicit . 0 } counter accept
    meta l4proto { icmp, ipv6-icmp } counter accept
  }
  chain filter_FWD_public {
    icmp type echo-request icmp code != 0 counter drop
    icmp type echo-request ip saddr 10.10.1.200 counter reject with icmp type admin-prohibited
    icmp type { echo-request, address-mask-request } counter accept
    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report } counter accept
    icmpv6 type echo-request icmpv6 code 0 counter accept
    icmpv6 type 128-129 counter drop
    meta l4proto ipv6-icmp icmpv6 type != nd-router-advert counter accept
    icmp code 0-3 counter accept
  }
}
`;

const ICMP4 = (i: number): [number, number, string, number?][] => [
  [8, 0, SERVER4[i % 3], i % 2], [8, 1, SERVER4[0]], [8, 0, ROUTER4.r0], [8, 0, ROUTER4.r0, 1], [13, 0, ROUTER4.r0], [13, 0, SERVER4[1]],
  [17, 0, SERVER4[2]], [0, 0, SERVER4[0]], [3, 3, SERVER4[1]], [11, 0, ROUTER4.r0], [10, 0, ROUTER4.r0], [15, 0, SERVER4[0]], [200, 0, SERVER4[0]],
];
const ICMP6 = (i: number): [number, number, string, number?][] => [
  [128, 0, SERVER6[i % 2], i % 2], [128, 1, SERVER6[0]], [128, 0, ROUTER6.r0], [128, 0, ROUTER6.r0, 1], [128, 1, ROUTER6.r0], [129, 0, SERVER6[1]],
  [135, 0, SERVER6[0]], [135, 0, ROUTER6.r0], [136, 0, SERVER6[1]], [136, 0, ROUTER6.r0], [134, 0, ROUTER6.r0], [134, 0, SERVER6[0]],
  [133, 0, ROUTER6.r0], [130, 0, ROUTER6.r0], [131, 0, SERVER6[0]], [143, 0, ROUTER6.r0], [2, 0, SERVER6[0]], [1, 4, ROUTER6.r0], [137, 0, SERVER6[1]], [200, 0, SERVER6[0]],
];

const CASES: RuleSetCase[] = [
  {
    name: 'kube-proxy nftables: service-ips vmap, numgen endpoints, dnat, masquerade mark, no-endpoint reject',
    family: 4,
    nft: KUBE_PROXY,
    probes: repeat(10, (i) =>
      probes(4, [
        ['tcp', '10.96.0.10', 80, i % 2],
        ['udp', '10.96.0.10', 53, (i + 1) % 2],
        ['tcp', '10.96.0.20', 8080, i % 2],
        ['tcp', '10.96.0.30', 80],
        ['tcp', '10.96.0.10', 443],
        ['udp', '10.10.2.2', 9],
      ]),
    ),
  },
  { name: 'firewalld-like inet filter (IPv4)', family: 4, nft: FIREWALLD, probes: FW_PROBES(4, SERVER4, ROUTER4.r0) },
  { name: 'firewalld-like inet filter (IPv6)', family: 6, nft: FIREWALLD, probes: FW_PROBES(6, SERVER6, ROUTER6.r0) },
  { name: 'firewalld-like ICMP: icmp type/code matches (IPv4)', family: 4, nft: FIREWALLD_ICMP, probes: repeat(3, (i) => icmpProbes(4, ICMP4(i))) },
  { name: 'firewalld-like ICMPv6: NDP, MLD, echo, errors by icmpv6 type/code', family: 6, nft: FIREWALLD_ICMP, probes: repeat(3, (i) => icmpProbes(6, ICMP6(i))) },
  {
    name: 'mixed: iptables-nft filter + native chains at -150, -5, 0 (inet), 10 on forward',
    family: 4,
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
table ip early { chain f { type filter hook forward priority mangle; policy accept; udp dport 1002 counter meta mark set 0x2; tcp dport 1003 counter meta mark set 0x3 } }
table ip mid { chain f { type filter hook forward priority -5; policy accept; meta mark 0x3 counter drop; udp dport 1004 counter accept } }
table inet late { chain f { type filter hook forward priority 0; policy accept; udp dport 1004 counter drop; tcp dport 1001 counter drop } }
table ip last { chain f { type filter hook forward priority 10; policy drop; counter meta l4proto udp accept; tcp dport < 1010 counter accept } }
`,
    probes: repeat(6, (i) =>
      probes(4, [
        ['udp', '10.10.2.2', 1000 + (i % 6)],
        ['tcp', '10.10.2.3', 1000 + (i % 6), i % 2],
        ['udp', '10.10.2.4', 1002, 1],
        ['tcp', '10.10.2.2', 1003],
        ['tcp', '10.10.2.2', 1001, 1],
        ['tcp', '10.10.2.2', 1020],
        ['udp', '10.10.2.3', 1004],
      ]),
    ),
  },
  {
    name: 'named sets: intervals and concatenations, negations, port ranges',
    family: 4,
    nft: `
table inet t {
  set blocked { type ipv4_addr . inet_service; flags interval; elements = { 10.10.2.0/31 . 1000-1999, 10.10.2.4 . 7 } }
  set clients { type ipv4_addr; flags interval; elements = { 10.10.1.128/25 } }
  map portmark { type inet_service : mark; elements = { 2000 : 0x10, 2001 : 0x20 } }
  chain f {
    type filter hook forward priority 0; policy accept;
    ip daddr . udp dport @blocked counter drop
    ip saddr @clients tcp dport != 2000-2100 counter drop
    meta mark set udp dport map @portmark
    meta mark 0x20 counter drop
    tcp dport { 3000, 3002-3004 } counter reject with tcp reset
    ip saddr != @clients udp dport > 2500 counter drop
  }
}
`,
    probes: repeat(4, (i) =>
      probes(4, [
        ['udp', '10.10.2.2', 1500 + i],
        ['udp', '10.10.2.3', 1500],
        ['udp', '10.10.2.4', 7],
        ['udp', '10.10.2.4', 8],
        ['tcp', '10.10.2.2', 80, 1],
        ['tcp', '10.10.2.2', 2050, 1],
        ['udp', '10.10.2.2', 2001],
        ['udp', '10.10.2.2', 2000],
        ['tcp', '10.10.2.3', 3003],
        ['tcp', '10.10.2.3', 3001],
        ['udp', '10.10.2.3', 2600, i % 2],
      ]),
    ),
  },
  {
    name: 'NAT: dnat maps (address, address . port), snat with port, masquerade',
    family: 4,
    nft: `
table ip nat {
  map svc { type ipv4_addr . inet_service : ipv4_addr . inet_service; elements = { 10.96.1.1 . 80 : 10.10.2.2 . 8080, 10.96.1.1 . 81 : 10.10.2.3 . 8181 } }
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    tcp dport 9000 counter dnat to 10.10.2.4
    ip daddr 10.96.1.1 counter dnat ip to ip daddr . tcp dport map @svc
    udp dport { 53, 54 } counter dnat to udp dport map { 53 : 10.10.2.2, 54 : 10.10.2.3 }
    ip daddr 10.96.1.2 udp dport 99 counter dnat to 10.10.2.4:9999
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.10.1.200 meta l4proto tcp counter snat to 10.10.2.1:40000
    ip saddr 10.10.1.200 counter snat to 10.10.2.1
    ip daddr 10.10.2.3 counter masquerade
  }
}
`,
    probes: repeat(5, (i) =>
      probes(4, [
        ['tcp', '10.10.2.2', 9000, i % 2],
        ['tcp', '10.96.1.1', 80],
        ['tcp', '10.96.1.1', 81, 1],
        ['tcp', '10.96.1.1', 82],
        ['udp', '10.10.2.4', 53],
        ['udp', '10.10.2.4', 54, 1],
        ['udp', '10.96.1.2', 99],
        ['udp', '10.10.2.2', 7, i % 2],
      ]),
    ),
  },
  {
    name: 'chains: jump/goto/return, verdict maps, continue, policy drop, reject kinds, ct mark',
    family: 4,
    nft: `
table ip flowtest {
  chain fw_main {
    type filter hook forward priority 0; policy drop;
    jump classify
    meta mark vmap { 0x1 : jump allow, 0x2 : goto deny, 0x3 : drop }
    udp dport 4000 counter accept
  }
  chain classify {
    udp dport 4001 counter meta mark set 0x1 return
    udp dport 4002 counter meta mark set 0x2
    tcp dport 4003 counter meta mark set 0x3 ct mark set 0x33
    ip saddr 10.10.1.200 counter continue
    tcp dport 4004 counter ct mark set 0x44 goto allow
  }
  chain allow { counter ct mark set ct mark | 0x100 accept }
  chain deny {
    udp dport 4002 ip saddr 10.10.1.200 counter reject with icmp type host-unreachable
    counter reject with icmp type admin-prohibited
  }
}
`,
    probes: repeat(5, (i) =>
      probes(4, [
        ['udp', '10.10.2.2', 4000 + (i % 5), i % 2],
        ['udp', '10.10.2.3', 4001],
        ['udp', '10.10.2.3', 4002, 1],
        ['udp', '10.10.2.3', 4002],
        ['tcp', '10.10.2.4', 4003],
        ['tcp', '10.10.2.4', 4004],
        ['tcp', '10.10.2.4', 4005],
      ]),
    ),
  },
  {
    name: 'limit (both sides) and numgen inc vmap',
    family: 4,
    nft: `
table ip lim {
  chain f {
    type filter hook forward priority 0; policy accept;
    udp dport 6000 limit rate 3/minute burst 2 packets counter accept
    udp dport 6000 counter drop
    tcp dport 6001 limit rate over 2/minute burst 1 packets counter drop
    udp dport 6002 numgen inc mod 3 vmap { 0 : accept, 1 : jump one, 2 : drop }
  }
  chain one { counter udp dport 6002 reject }
}
`,
    probes: [
      ...repeat(6, () => probes(4, [['udp', '10.10.2.2', 6000], ['tcp', '10.10.2.3', 6001]])),
      ...repeat(9, (i) => probes(4, [['udp', '10.10.2.4', 6002, i % 2]])),
    ],
  },
  {
    name: 'priorities around conntrack: ct state before (-300) and after (-150) it, prerouting drops',
    family: 4,
    nft: `
table ip raw { chain pre { type filter hook prerouting priority raw; policy accept; ct state invalid udp dport 7000 counter drop; ct state new counter accept } }
table ip mangle { chain pre { type filter hook prerouting priority mangle; policy accept; ct state new udp dport 7001 counter drop; iifname "r0" tcp dport 7002 counter meta mark set 0x7 } }
table inet filter { chain fw_main { type filter hook forward priority 0; policy accept; meta mark 0x7 counter drop; oifname != "r1" counter drop; tcp flags & (syn | ack) == syn tcp dport 7003 counter reject with tcp reset } }
`,
    probes: repeat(5, (i) =>
      probes(4, [
        ['udp', '10.10.2.2', 7000, i % 2],
        ['udp', '10.10.2.2', 7001],
        ['tcp', '10.10.2.3', 7002],
        ['tcp', '10.10.2.3', 7003],
        ['tcp', '10.10.2.4', 7004, 1],
        ['udp', '10.10.2.4', 7005],
      ]),
    ),
  },
  {
    name: 'IPv6: ip6 nat dnat/masquerade, inet filter with ip6 sets',
    family: 6,
    nft: `
table ip6 nat6 {
  chain pre { type nat hook prerouting priority dstnat; policy accept; tcp dport 80 counter dnat to [fd10:2::3]:8080; ip6 daddr fd10:2::99 udp dport 53 counter dnat to fd10:2::2 }
  chain post { type nat hook postrouting priority srcnat; policy accept; ip6 saddr fd10:1::3 counter masquerade }
}
table inet f6 {
  set deny6 { type ipv6_addr; flags interval; elements = { fd10:2::2/128 } }
  chain fw6 { type filter hook forward priority 0; policy accept; ip6 daddr @deny6 tcp dport 22 counter drop; ip daddr 10.0.0.0/8 counter drop; meta nfproto ipv6 udp dport 9 counter reject }
}
`,
    probes: repeat(5, (i) =>
      probes(6, [
        ['tcp', 'fd10:2::2', 80, i % 2],
        ['udp', 'fd10:2::99', 53, i % 2],
        ['tcp', 'fd10:2::2', 22],
        ['tcp', 'fd10:2::3', 22, 1],
        ['udp', 'fd10:2::3', 9],
        ['udp', 'fd10:2::3', 10, 1],
      ]),
    ),
  },
  {
    name: 'Calico-like nft dataplane: interface wildcards, mark bits, per-endpoint chains, ct mark',
    family: 4,
    nft: `
table ip calico {
  map cali-to-wl { type ipv4_addr : verdict; flags interval; elements = { 10.10.2.2/32 : goto cali-tw-A, 10.10.2.3/32 : goto cali-tw-B } }
  chain cali-FORWARD {
    type filter hook forward priority 0; policy accept;
    meta mark set meta mark & 0xfff0ffff
    ct state established,related accept
    iifname "r*" counter jump cali-from-hep
    meta mark & 0x10000 == 0x10000 counter accept
    oifname != "r1*" counter drop
    ip daddr vmap @cali-to-wl
    counter drop
  }
  chain cali-from-hep { ip saddr 10.10.1.0/25 counter meta mark set meta mark | 0x20000; ip saddr 10.10.1.128/25 udp dport 9100-9199 counter meta mark set meta mark | 0x10000 }
  chain cali-tw-A {
    meta mark & 0x20000 == 0x20000 tcp dport { 80, 443 } counter ct mark set 0xa accept
    counter drop
  }
  chain cali-tw-B { udp dport != 53 counter accept; counter reject with icmp type port-unreachable }
}
`,
    probes: repeat(6, (i) =>
      probes(4, [
        ['tcp', '10.10.2.2', 80, i % 2],
        ['tcp', '10.10.2.2', 8080],
        ['udp', '10.10.2.3', 53, i % 2],
        ['udp', '10.10.2.3', 54],
        ['udp', '10.10.2.4', 9150, 1],
        ['udp', '10.10.2.4', 9150, 0],
        ['tcp', '10.10.2.4', 443, i % 2],
      ]),
    ),
  },
  {
    name: 'redirect to local ports (with and without a port map), input chain after the NAT',
    family: 4,
    nft: `
table ip redir {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    udp dport 53 counter redirect to :5353
    udp dport { 60, 61 } counter redirect to udp dport map { 60 : 6060, 61 : 6161 }
    udp dport 70 counter redirect
  }
  chain in {
    type filter hook input priority 0; policy drop;
    udp dport { 5353, 6060, 70 } counter accept
    udp dport 6161 counter reject
  }
}
`,
    probes: repeat(5, (i) =>
      probes(4, [
        ['udp', '10.10.2.2', 53, i % 2],
        ['udp', '10.10.2.3', 60],
        ['udp', '10.10.2.3', 61, 1],
        ['udp', '10.10.2.4', 70],
        ['udp', '10.10.2.4', 71, i % 2],
      ]),
    ),
  },
];

// ---- kernel observations ---------------------------------------------------------------------

type Counts = Map<string, number>;

/** Packets per rule (the sum of the rule's counter statements), keyed as the simulator counts. */
function ruleCounters(ns: string): Counts {
  const m: Counts = new Map();
  const dump = JSON.parse(inNs(ns, 'nft', '-j', 'list', 'ruleset')) as { nftables: unknown[] };
  for (const item of dump.nftables) {
    if (!isObj(item) || !isObj(item.rule)) continue;
    const r = item.rule;
    let n = 0;
    for (const e of Array.isArray(r.expr) ? r.expr : []) if (isObj(e) && isObj(e.counter)) n += Number(e.counter.packets);
    m.set(`${r.family} ${r.table} ${r.chain} ${r.handle}`, n);
  }
  return m;
}

function diff(after: Counts, before: Counts): Counts {
  const d: Counts = new Map();
  for (const [k, v] of after) {
    const n = v - (before.get(k) ?? 0);
    if (n) d.set(k, n);
  }
  return d;
}

function routerEnv(family: 4 | 6): NftEnv {
  const addrs = family === 4 ? ROUTER4 : ROUTER6;
  const local = Object.values(addrs);
  const net = (iface: 'r0' | 'r1') => parsePrefix(`${addrs[iface]}/${family === 4 ? 24 : 64}`)!;
  const isLocal = (a: string) => local.some((l) => parseIP(l)!.value === parseIP(a)?.value);
  return {
    masqueradeSource: (oif) => addrs[oif as 'r0' | 'r1'],
    interfaceAddress: (iface) => addrs[iface as 'r0' | 'r1'],
    route: (p) => {
      if (isLocal(p.dst)) return { kind: 'local' };
      const ip = parseIP(p.dst);
      if (ip && contains(net('r0'), ip)) return { kind: 'forward', oif: 'r0' };
      return { kind: 'forward', oif: 'r1' };
    },
  };
}

function counted(o: NftOutcome): Counts {
  const m: Counts = new Map();
  for (const k of o.counted) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

function sameCounts(a: Counts, b: Counts): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

const fmt = (m: Counts) => [...m].map(([k, v]) => `${k} +${v}`).join(', ');
const norm = (a: string) => (parseIP(a) ? String(parseIP(a)!.value) : a);

test(`nftables simulator agrees with the kernel on real packets (${PREFIX}- netns)`, { timeout: 600_000 }, async (t) => {
  const why = kernelTestSkip(TOOLS);
  if (why) {
    t.skip(why);
    return;
  }
  cleanup();
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}-`));
  let sender: Sender | undefined;
  let compared = 0;
  const disagreements: string[] = [];
  const perCase: string[] = [];
  const branchesSeen = new Set<string>();
  try {
    buildTopology();
    sender = new Sender(C, dir);
    // Interfaces send MLD reports for a moment after coming up; let them pass before counting.
    await new Promise((r) => setTimeout(r, 2500));
    for (const c of CASES) {
      resetRouter();
      if (c.iptables) inNsIn(R, c.iptables, c.family === 6 ? 'ip6tables-nft-restore' : 'iptables-nft-restore');
      inNsIn(R, nftText(c.nft), 'nft', '-f', '-');
      // The collector's view: the JSON dump.
      const rs = parseNftRuleset(JSON.parse(inNs(R, 'nft', '-j', 'list', 'ruleset')));
      const env = routerEnv(c.family);
      const tracking = conntrackInUse(rs, c.family);
      const servers = c.family === 4 ? SERVER4 : SERVER6;
      let agree = 0;
      let before = ruleCounters(R);
      let serverBefore = ruleCounters(S);
      for (const probe of c.probes) {
        flushConntrack(R);
        await sender.send(probe, c.family);
        await new Promise((r) => setTimeout(r, 30));
        const after = ruleCounters(R);
        const serverAfter = ruleCounters(S);
        const kernel = diff(after, before);
        const arrivedAt = [...diff(serverAfter, serverBefore).keys()].map((k) => Number(k.split(' ').pop()));
        before = after;
        serverBefore = serverAfter;
        // Server rules are handles in address order, IPv4 first.
        const serverRules = JSON.parse(inNs(S, 'nft', '-j', 'list', 'ruleset')).nftables.filter((x: unknown) => isObj(x) && isObj(x.rule)).map((x: { rule: { handle: number } }) => x.rule.handle);
        const arrived = arrivedAt.map((h) => [...SERVER4, ...SERVER6][serverRules.indexOf(h)]);
        const icmp = probe.proto === 'icmp';
        const ct = conntrackEntries(R, c.family).find((e) => (icmp ? e.orig.id : e.orig.sport) === String(probe.sport) && norm(e.orig.src) === norm(probe.src));
        const ctState = icmp ? icmpCtState(c.family, probe.icmpType!) : 'new';
        const pkt: NftPacket = icmp
          ? { family: c.family, src: probe.src, dst: probe.dst, proto: c.family === 4 ? 'icmp' : 'icmpv6', icmpType: probe.icmpType, icmpCode: probe.icmpCode, iif: 'r0', mark: 0, ct: { state: ctState, mark: 0 } }
          : {
            family: c.family, src: probe.src, dst: probe.dst, proto: probe.proto, sport: probe.sport, dport: probe.dport, iif: 'r0',
            ...(probe.proto === 'tcp' ? { tcpFlags: ['syn'] } : {}), mark: 0, ct: { state: 'new', mark: 0 },
          };
        const outcomes = traceNftReceive(rs, pkt, env);
        compared++;
        const label = icmp
          ? `${c.name}: icmp type ${probe.icmpType} code ${probe.icmpCode} id ${probe.sport} ${probe.src} -> ${probe.dst}`
          : `${c.name}: ${probe.proto} ${probe.src}:${probe.sport} -> ${probe.dst}:${probe.dport}`;
        const check = (match: NftOutcome): string[] => {
          const problems: string[] = [];
          // Agreement by a guess does not count: every expression on the way was understood.
          if (match.undecided.length) problems.push(`undecided: ${match.undecided.map((u) => `${u.where} (${u.reason})`).join('; ')}`);
          const simArrives = match.verdict === 'accept' && match.route?.kind === 'forward' && match.packet.oif === 'r1';
          const expectArrival = simArrives ? servers.filter((s) => norm(s) === norm(match.packet.dst)) : [];
          if (arrived.map(String).join() !== expectArrival.map(String).join()) problems.push(`server arrivals ${JSON.stringify(arrived)} but simulator says ${JSON.stringify(expectArrival)} (${match.verdict}, dst ${match.packet.dst})`);
          // Only a new connection leaves an entry (untracked and invalid messages make none).
          const confirmed = match.verdict === 'accept' && tracking && ctState === 'new';
          if (!!ct !== confirmed) problems.push(`conntrack entry ${ct ? 'present' : 'absent'} but simulator verdict ${match.verdict} (${JSON.stringify(conntrackEntries(R, c.family))})`);
          if (ct && confirmed) {
            const want = { src: match.packet.dst, dst: match.packet.src, sport: String(match.packet.dport), dport: String(match.packet.sport) };
            for (const k of icmp ? (['src', 'dst'] as const) : (['src', 'dst', 'sport', 'dport'] as const)) {
              if (k === 'dport' && match.nat.randomPort) continue;
              if (norm(ct.reply[k]) !== norm(want[k])) problems.push(`conntrack reply ${k}=${ct.reply[k]} but simulator NAT gives ${want[k]}`);
            }
            if (ct.mark !== match.packet.ct.mark) problems.push(`conntrack mark ${ct.mark} but simulator ${match.packet.ct.mark}`);
          }
          return problems;
        };
        // The outcomes whose counters are the kernel's; of those (several when the choice that
        // differs passed no counter) the kernel's is the one whose verdict and NAT it shows.
        const candidates = outcomes.filter((o) => sameCounts(counted(o), kernel));
        if (!candidates.length) {
          disagreements.push(`${label}\n  kernel counters: ${fmt(kernel)}\n${outcomes.map((o) => `  sim ${o.verdict} p=${o.probability.toFixed(2)} [${o.branches.join('; ')}]: ${fmt(counted(o))}`).join('\n')}`);
          continue;
        }
        const judged = candidates.map((m) => ({ m, problems: check(m) }));
        const best = judged.find((j) => !j.problems.length) ?? judged[0];
        const match = best.m;
        const problems = best.problems;
        if (!problems.length) for (const b of match.branches) branchesSeen.add(`${c.name}|${b}`);
        if (problems.length) disagreements.push(`${label}\n  ${problems.join('\n  ')}`);
        else agree++;
      }
      perCase.push(`${c.name}: ${agree}/${c.probes.length}`);
    }
  } finally {
    sender?.close();
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
    const agreed = compared - disagreements.length;
  const summary = `nftables vs kernel: ${agreed}/${compared} packets agree over ${CASES.length} rule sets; numgen/limit branch sides seen: ${branchesSeen.size}`;
  t.diagnostic(summary);
  for (const p of perCase) t.diagnostic(p);
  console.log(summary);
  for (const p of perCase) console.log(`  ${p}`);
  for (const d of disagreements.slice(0, 40)) console.log(d);
  assert.ok(compared >= 400, `only ${compared} packets compared`);
  assert.deepEqual(disagreements, []);
});
