// The IPv6 datapath vs the kernel. Builds pod a → node (a router netns) → pod b in network
// namespaces named npv6-*, breaks one thing at a time (forwarding, a next hop only proxy NDP can
// answer, disable_ipv6 on the egress interface, ip6tables dropping NDP or packet-too-big, a packet
// larger than the egress MTU), dumps all three with the collector, diagnoses `default/a` →
// `default/b` UDP with the engine from that snapshot, and only then sends a real datagram: the
// engine's verdict and findings must say what the kernel did (delivered or not; for the MTU cases
// also whether the sender learned the path MTU, and whether the next datagram arrives).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { kernelTestSkip } from '../support/machine';
import { sh, inNs } from '../support/router-topology';
import { runCollector } from '../../src/collector/run';
import { assembleSnapshot } from '../../src/engine/snapshot/assemble';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { agrees, engineSees, slug, type Case, type Seen } from '../support/ipv6-datapath';

const A = 'npv6-a';
const N = 'npv6-n';
const B = 'npv6-b';
const PORT = 7000;
const NODE = 'npv6-node';
/** `NETPATH_IPV6_FIXTURES=DIR`: also write each case (its snapshot and what the kernel did) there, for ipv6-datapath.test.ts. */
const FIXTURES = process.env.NETPATH_IPV6_FIXTURES;


function cleanup(): void {
  for (const ns of [A, N, B]) spawnSync('ip', ['netns', 'del', ns]);
}

/** pod a (fd60:a::2) — va/fd60:a::1 [node] fd60:b::1/vb — pod b (fd60:b::2); no static neighbours: NDP runs. */
function build(gatewayOfA = 'fd60:a::1'): void {
  sh(['sh', '-ec', `
for n in ${A} ${N} ${B}; do ip netns add $n; ip -n $n link set lo up; done
ip link add npv6a0 type veth peer name npv6va
ip link add npv6b0 type veth peer name npv6vb
ip link set npv6a0 netns ${A}; ip -n ${A} link set npv6a0 name eth0
ip link set npv6b0 netns ${B}; ip -n ${B} link set npv6b0 name eth0
ip link set npv6va netns ${N}; ip -n ${N} link set npv6va name va
ip link set npv6vb netns ${N}; ip -n ${N} link set npv6vb name vb
for x in "${A} eth0" "${B} eth0" "${N} va" "${N} vb"; do set -- $x
  ip netns exec $1 sysctl -qw net.ipv6.conf.$2.accept_dad=0 net.ipv6.conf.$2.accept_ra=0 net.ipv6.conf.$2.router_solicitations=0
done
ip netns exec ${N} sysctl -qw net.ipv6.conf.all.forwarding=1 net.ipv6.icmp.ratelimit=0
ip -n ${A} addr add fd60:a::2/64 dev eth0 nodad
ip -n ${B} addr add fd60:b::2/64 dev eth0 nodad
ip -n ${N} addr add fd60:a::1/64 dev va nodad
ip -n ${N} addr add fd60:b::1/64 dev vb nodad
ip -n ${N} addr add fd60:ff::1/128 dev lo
for x in "${A} eth0" "${B} eth0" "${N} va" "${N} vb"; do set -- $x; ip -n $1 link set $2 up; done
ip -n ${A} -6 route add default via ${gatewayOfA} dev eth0
ip -n ${B} -6 route add default via fd60:b::1 dev eth0
`]);
}

const OBJECTS = `
apiVersion: v1
kind: Node
metadata: { name: ${NODE} }
spec: { podCIDRs: ["fd60:a::/64", "fd60:b::/64"] }
status: { addresses: [ { type: InternalIP, address: "fd60:ff::1" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: a, namespace: default }
spec: { nodeName: ${NODE}, containers: [ { name: c, image: x } ] }
status: { phase: Running, podIP: "fd60:a::2", podIPs: [ { ip: "fd60:a::2" } ] }
---
apiVersion: v1
kind: Pod
metadata: { name: b, namespace: default }
spec: { nodeName: ${NODE}, containers: [ { name: c, image: x, ports: [ { containerPort: ${PORT}, protocol: UDP } ] } ] }
status: { phase: Running, podIP: "fd60:b::2", podIPs: [ { ip: "fd60:b::2" } ] }
`;

/** A process in `ns` that lives until killed: its pid names the netns for the collector. */
function holder(ns: string, argv: string[]): { proc: ChildProcess; lines: string[] } {
  const proc = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(l));
  return { proc, lines };
}

const RECEIVER = `const s = require('node:dgram').createSocket({ type: 'udp6', ipv6Only: true });
s.on('message', (m) => process.stdout.write('got ' + m.length + '\\n'));
s.bind(${PORT}, '::', () => process.stdout.write('ready\\n'));`;

async function until(f: () => boolean, ms: number): Promise<void> {
  for (let t = 0; t < ms && !f(); t += 20) await new Promise((r) => setTimeout(r, 20));
}

function sendFromA(size: number): void {
  inNs(A, process.execPath, '-e', `const s = require('node:dgram').createSocket('udp6');
s.send(Buffer.alloc(${size}, 120), ${PORT}, 'fd60:b::2', () => s.close());`);
}

const CASES: Case[] = [
  { name: 'healthy, NDP resolving on both links', setup: '' },
  { name: 'forwarding off (all.forwarding = 0)', setup: `ip netns exec ${N} sysctl -qw net.ipv6.conf.all.forwarding=0`, check: 'sysctl.forwarding-disabled' },
  { name: 'all.forwarding = 0 with va and vb forwarding = 1: still not forwarded', setup: `ip netns exec ${N} sysctl -qw net.ipv6.conf.all.forwarding=0 net.ipv6.conf.va.forwarding=1 net.ipv6.conf.vb.forwarding=1`, check: 'sysctl.forwarding-disabled' },
  { name: 'all.forwarding = 1 with va.forwarding = 0: forwarded', setup: `ip netns exec ${N} sysctl -qw net.ipv6.conf.va.forwarding=0` },
  { name: 'next hop fd60:a::99 nobody owns, no proxy NDP', gatewayOfA: 'fd60:a::99', setup: '', check: 'ndp.no-answer' },
  { name: 'next hop fd60:a::99 answered by proxy NDP on va', gatewayOfA: 'fd60:a::99', setup: `ip -n ${N} -6 neigh add proxy fd60:a::99 dev va; ip netns exec ${N} sysctl -qw net.ipv6.conf.va.proxy_ndp=1` },
  { name: 'proxy entry for fd60:a::99 but proxy_ndp off', gatewayOfA: 'fd60:a::99', setup: `ip -n ${N} -6 neigh add proxy fd60:a::99 dev va`, check: 'ndp.no-answer' },
  { name: 'proxy NDP on but va not forwarding', gatewayOfA: 'fd60:a::99', setup: `ip -n ${N} -6 neigh add proxy fd60:a::99 dev va; ip netns exec ${N} sysctl -qw net.ipv6.conf.va.proxy_ndp=1 net.ipv6.conf.va.forwarding=0`, check: 'ndp.no-answer' },
  { name: 'disable_ipv6 on the egress interface vb', setup: `ip netns exec ${N} sysctl -qw net.ipv6.conf.vb.disable_ipv6=1`, check: 'route.no-route' },
  { name: 'disable_ipv6 on the ingress interface va', setup: `ip netns exec ${N} sysctl -qw net.ipv6.conf.va.disable_ipv6=1`, check: 'sysctl.ipv6-disabled' },
  { name: 'ip6tables drops neighbour solicitations in INPUT', setup: `ip netns exec ${N} ip6tables-nft -A INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -j DROP`, check: 'icmpv6.ndp-dropped' },
  { name: 'INPUT policy DROP accepting only ESTABLISHED,RELATED (NDP is untracked)', setup: `ip netns exec ${N} ip6tables-nft -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT; ip netns exec ${N} ip6tables-nft -P INPUT DROP`, check: 'icmpv6.ndp-dropped' },
  { name: 'ip6tables drops neighbour advertisements leaving pod b', setup: `ip netns exec ${B} ip6tables-nft -A OUTPUT -p ipv6-icmp --icmpv6-type neighbour-advertisement -j DROP`, check: 'icmpv6.ndp-dropped' },
  { name: '1400-byte datagram, vb MTU 1280: packet-too-big reaches the sender', setup: `ip -n ${N} link set vb mtu 1280; ip -n ${B} link set eth0 mtu 1280`, size: 1400, ptb: true },
  { name: '1400-byte datagram, vb MTU 1280, packet-too-big dropped in OUTPUT', setup: `ip -n ${N} link set vb mtu 1280; ip -n ${B} link set eth0 mtu 1280; ip netns exec ${N} ip6tables-nft -A OUTPUT -p ipv6-icmp --icmpv6-type packet-too-big -j DROP`, size: 1400, ptb: true, check: 'icmpv6.ptb-dropped' },
  { name: '1200-byte datagram, vb MTU 1280: fits', setup: `ip -n ${N} link set vb mtu 1280; ip -n ${B} link set eth0 mtu 1280`, size: 1200 },
];

test('ipv6 datapath vs kernel: forwarding, NDP and proxy NDP, disable_ipv6, ICMPv6 filtering, packet-too-big', { timeout: 300_000 }, async (t) => {
  const skip = kernelTestSkip(['ip6tables-nft', 'iptables-nft-save', 'ip6tables-nft-save', 'nft', 'ss']);
  if (skip) {
    t.skip(skip);
    return;
  }
  cleanup();
  let agree = 0;
  const failures: string[] = [];
  try {
    for (const c of CASES) {
      cleanup();
      build(c.gatewayOfA);
      if (c.setup) sh(['sh', '-ec', c.setup]);
      const holders = [holder(N, ['sleep', '600']), holder(A, ['sleep', '600']), holder(B, [process.execPath, '-e', RECEIVER])];
      try {
        const rx = holders[2].lines;
        await until(() => rx.includes('ready'), 5000);
        await until(() => holders.every((h) => spawnSync('ip', ['netns', 'identify', String(h.proc.pid)], { encoding: 'utf8' }).stdout.trim() !== ''), 5000);
        const dump = await runCollector({ hostPid: holders[0].proc.pid!, pids: [holders[1].proc.pid!, holders[2].proc.pid!] });
        const snap = assembleSnapshot({ objects: [{ name: 'objects.yaml', text: OBJECTS }], dumps: [{ node: NODE, name: 'dump', text: JSON.stringify(dump) }] });
        const r = new Network(loadSnapshot(snap.text)).diagnose({ src: 'default/a', dst: 'default/b', port: PORT, protocol: 'udp', ...(c.size ? { size: c.size } : {}) });
        const engine = engineSees(r, c);
        // The kernel: one datagram (NDP may take its time: up to 3 solicitations a second apart).
        sendFromA(c.size ?? 8);
        await until(() => rx.some((l) => l.startsWith('got')), 3500);
        const kernel: Seen = { delivered: rx.some((l) => l.startsWith('got')) };
        if (c.ptb) {
          kernel.pmtuLearned = / mtu 1280 /.test(inNs(A, 'ip', '-6', 'route', 'get', 'fd60:b::2'));
          sendFromA(c.size!);
          await until(() => rx.filter((l) => l.startsWith('got')).length > (kernel.delivered ? 1 : 0), 1500);
          kernel.deliveredAgain = rx.filter((l) => l.startsWith('got')).length > (kernel.delivered ? 1 : 0);
        }
        if (FIXTURES) writeFileSync(join(FIXTURES, `${slug(c.name)}.json`), `${JSON.stringify({ case: c, kernel, snapshot: JSON.parse(snap.text) })}\n`);
        t.diagnostic(`${c.name}: kernel ${JSON.stringify(kernel)}; netpath ${r.verdict}${engine.serious.length ? ` (${engine.serious.join(', ')})` : ''}`);
        const why = agrees(c, kernel, r);
        if (why === undefined) agree++;
        else failures.push(why);
      } finally {
        for (const h of holders) h.proc.kill();
      }
    }
  } finally {
    cleanup();
  }
  t.diagnostic(`ipv6 datapath vs kernel: ${agree}/${CASES.length}`);
  console.log(`ipv6 datapath vs kernel: ${agree}/${CASES.length}`);
  assert.deepEqual(failures, []);
});
