// The three network namespaces the netfilter and nftables kernel tests send real packets through:
// a client (c0, two IPv4 and two IPv6 addresses), a router (r0 towards the client, r1 towards the
// server, forwarding on, ICMP rate limits off) and a server (s0, three IPv4 and two IPv6
// addresses). Neighbours are permanent so no ARP/NDP packet crosses the rules under test.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export function sh(args: string[], input?: string): string {
  return execFileSync(args[0], args.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** One conntrack entry of a namespace: the original and reply tuples (src, dst, sport, dport, ICMP id) and the mark. */
export interface CtEntry {
  orig: Record<string, string>;
  reply: Record<string, string>;
  mark: number;
}

/** `conntrack -L` of namespace `ns` for one family (an empty table lists nothing and exits non-zero). */
export function conntrackEntries(ns: string, family: 4 | 6): CtEntry[] {
  let out = '';
  try {
    out = sh(['ip', 'netns', 'exec', ns, 'conntrack', '-L', '-f', family === 6 ? 'ipv6' : 'ipv4']);
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  const entries: CtEntry[] = [];
  for (const line of out.split('\n')) {
    if (!line.includes('src=')) continue;
    const orig: Record<string, string> = {};
    const reply: Record<string, string> = {};
    let mark = 0;
    for (const m of line.matchAll(/(\w+)=(\S+)/g)) {
      const [, k, v] = m;
      if (k === 'mark') mark = Number(v);
      else if (['src', 'dst', 'sport', 'dport', 'id'].includes(k)) (k in orig ? reply : orig)[k] = v;
    }
    entries.push({ orig, reply, mark });
  }
  return entries;
}

/** Empties namespace `ns`'s conntrack table, both families. */
export function flushConntrack(ns: string): void {
  for (const f of ['ipv4', 'ipv6']) {
    try {
      sh(['ip', 'netns', 'exec', ns, 'conntrack', '-F', '-f', f]);
    } catch {
      /* empty table */
    }
  }
}
export const inNs = (ns: string, ...args: string[]) => sh(['ip', 'netns', 'exec', ns, ...args]);
export const inNsIn = (ns: string, input: string, ...args: string[]) => sh(['ip', 'netns', 'exec', ns, ...args], input);

export const CLIENT4 = ['10.10.1.2', '10.10.1.200'];
export const CLIENT6 = ['fd10:1::2', 'fd10:1::3'];
export const SERVER4 = ['10.10.2.2', '10.10.2.3', '10.10.2.4'];
export const SERVER6 = ['fd10:2::2', 'fd10:2::3'];
export const ROUTER4 = { r0: '10.10.1.1', r1: '10.10.2.1' };
export const ROUTER6 = { r0: 'fd10:1::1', r1: 'fd10:2::1' };

export interface RouterTopology {
  /** Namespace names: client, router, server. */
  C: string;
  R: string;
  S: string;
  MAC: { c0: string; r0: string; r1: string; s0: string };
  build(): void;
  cleanup(): void;
}

/**
 * `prefix` names the namespaces (`<prefix>-c`, `-r`, `-s`) and the veths while they are created;
 * `macByte` keeps two tests' MAC addresses apart; `defaultViaServer` routes every other address
 * out of r1 (as a node sends a ClusterIP it did not DNAT).
 */
export function routerTopology(o: { prefix: string; macByte: number; defaultViaServer?: boolean }): RouterTopology {
  const C = `${o.prefix}-c`;
  const R = `${o.prefix}-r`;
  const S = `${o.prefix}-s`;
  const b = (n: number) => (o.macByte * 16 + n).toString(16).padStart(2, '0');
  const MAC = { c0: `02:00:00:00:${b(1)}:02`, r0: `02:00:00:00:${b(1)}:01`, r1: `02:00:00:00:${b(2)}:01`, s0: `02:00:00:00:${b(2)}:02` };
  const v = o.prefix;
  const cleanup = () => {
    for (const ns of [C, R, S]) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        /* not there */
      }
    }
  };
  const build = () => {
    const script = `
set -e
for n in ${C} ${R} ${S}; do ip netns add $n; ip -n $n link set lo up; done
ip link add ${v}-c0 type veth peer name ${v}-r0
ip link add ${v}-r1 type veth peer name ${v}-s0
ip link set ${v}-c0 netns ${C}; ip -n ${C} link set ${v}-c0 name c0
ip link set ${v}-r0 netns ${R}; ip -n ${R} link set ${v}-r0 name r0
ip link set ${v}-r1 netns ${R}; ip -n ${R} link set ${v}-r1 name r1
ip link set ${v}-s0 netns ${S}; ip -n ${S} link set ${v}-s0 name s0
ip -n ${C} link set c0 address ${MAC.c0}; ip -n ${R} link set r0 address ${MAC.r0}
ip -n ${R} link set r1 address ${MAC.r1}; ip -n ${S} link set s0 address ${MAC.s0}
for x in "${C} c0" "${R} r0" "${R} r1" "${S} s0"; do set -- $x
  ip netns exec $1 sysctl -qw net.ipv6.conf.$2.router_solicitations=0 net.ipv6.conf.$2.accept_dad=0 net.ipv6.conf.$2.accept_ra=0
done
ip netns exec ${R} sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
ip -n ${C} addr add 10.10.1.2/24 dev c0; ip -n ${C} addr add 10.10.1.200/24 dev c0
ip -n ${C} addr add fd10:1::2/64 dev c0 nodad; ip -n ${C} addr add fd10:1::3/64 dev c0 nodad
ip -n ${R} addr add 10.10.1.1/24 dev r0; ip -n ${R} addr add 10.10.2.1/24 dev r1
ip -n ${R} addr add fd10:1::1/64 dev r0 nodad; ip -n ${R} addr add fd10:2::1/64 dev r1 nodad
for a in ${SERVER4.join(' ')}; do ip -n ${S} addr add $a/24 dev s0; done
for a in ${SERVER6.join(' ')}; do ip -n ${S} addr add $a/64 dev s0 nodad; done
for x in "${C} c0" "${R} r0" "${R} r1" "${S} s0"; do set -- $x; ip -n $1 link set $2 up; done
ip -n ${C} route add default via 10.10.1.1; ip -n ${C} -6 route add default via fd10:1::1
ip -n ${S} route add default via 10.10.2.1; ip -n ${S} -6 route add default via fd10:2::1
ip -n ${C} neigh replace 10.10.1.1 lladdr ${MAC.r0} dev c0 nud permanent
ip -n ${C} neigh replace fd10:1::1 lladdr ${MAC.r0} dev c0 nud permanent
for a in ${CLIENT4.join(' ')} ${CLIENT6.join(' ')}; do ip -n ${R} neigh replace $a lladdr ${MAC.c0} dev r0 nud permanent; done
for a in ${SERVER4.join(' ')} ${SERVER6.join(' ')}; do ip -n ${R} neigh replace $a lladdr ${MAC.s0} dev r1 nud permanent; done
${o.defaultViaServer ? `# Everything else (ClusterIPs without a DNAT, other addresses) leaves through r1, as from a node.
ip -n ${R} route add default via 10.10.2.254 dev r1; ip -n ${R} -6 route add default via fd10:2::254 dev r1
ip -n ${R} neigh replace 10.10.2.254 lladdr ${MAC.s0} dev r1 nud permanent
ip -n ${R} neigh replace fd10:2::254 lladdr ${MAC.s0} dev r1 nud permanent
` : ''}ip -n ${S} neigh replace 10.10.2.1 lladdr ${MAC.r1} dev s0 nud permanent
ip -n ${S} neigh replace fd10:2::1 lladdr ${MAC.r1} dev s0 nud permanent
`;
    sh(['sh', '-c', script]);
  };
  return { C, R, S, MAC, build, cleanup };
}

/**
 * One packet the client sends: UDP a datagram, TCP a connection attempt (its SYN), ICMP (ICMPv6
 * for family 6) a message of `icmpType`/`icmpCode` whose identifier is `sport` (`dport` unused).
 */
export interface Probe {
  proto: 'udp' | 'tcp' | 'icmp';
  src: string;
  dst: string;
  sport: number;
  dport: number;
  icmpType?: number;
  icmpCode?: number;
}

// One node process in the client netns, sending what it reads on stdin, one JSON line a packet.
const SENDER = `
const dgram = require('node:dgram'); const net = require('node:net'); const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const p = JSON.parse(line);
  const done = () => process.stdout.write('sent\\n');
  if (p.proto === 'udp') {
    const s = dgram.createSocket(p.family === 6 ? 'udp6' : 'udp4');
    s.bind(p.sport, p.src, () => s.send(Buffer.from('x'), p.dport, p.dst, () => { s.close(); done(); }));
  } else {
    const s = net.connect({ host: p.dst, port: p.dport, localAddress: p.src, localPort: p.sport });
    s.on('error', () => {});
    setTimeout(() => { s.destroy(); done(); }, 40);
  }
});`;

// ICMP needs a raw socket, which node has not: a python3 process in the client netns builds the
// message (type, code, identifier, a few bytes) and the kernel adds the IP header (and the
// ICMPv6 checksum; the ICMPv4 one is computed here).
const ICMP_SENDER = `
import json, socket, struct, sys
def csum(b):
    b += b'\\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff
for line in sys.stdin:
    p = json.loads(line)
    v6 = p['family'] == 6
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    s.bind((p['src'], 0))
    body = struct.pack('!HH', p['sport'], 1) + b'netpath!'
    msg = struct.pack('!BBH', p['icmpType'], p['icmpCode'], 0) + body
    if not v6:
        msg = msg[:2] + struct.pack('!H', csum(msg)) + body
    s.sendto(msg, (p['dst'], 0))
    s.close()
    print('sent', flush=True)
`;

/** The client-side packet sender; its script is written into `dir`. */
export class Sender {
  private proc: ChildProcess;
  private waiting: (() => void)[] = [];
  /** Started on the first ICMP probe (python3 is needed only by tests that send ICMP). */
  private icmp?: { proc: ChildProcess; waiting: (() => void)[] };
  constructor(private clientNs: string, private dir: string) {
    const file = join(dir, 'sender.cjs');
    writeFileSync(file, SENDER);
    this.proc = spawn('ip', ['netns', 'exec', clientNs, process.execPath, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout! }).on('line', () => this.waiting.shift()?.());
  }
  send(p: Probe, family: 4 | 6): Promise<void> {
    const to = p.proto === 'icmp' ? this.icmpSender() : { proc: this.proc, waiting: this.waiting };
    return new Promise((res) => {
      to.waiting.push(res);
      to.proc.stdin!.write(JSON.stringify({ ...p, icmpType: p.icmpType ?? 0, icmpCode: p.icmpCode ?? 0, family }) + '\n');
    });
  }
  private icmpSender(): { proc: ChildProcess; waiting: (() => void)[] } {
    if (this.icmp) return this.icmp;
    const file = join(this.dir, 'icmp-sender.py');
    writeFileSync(file, ICMP_SENDER);
    const icmp = { proc: spawn('ip', ['netns', 'exec', this.clientNs, 'python3', file], { stdio: ['pipe', 'pipe', 'inherit'] }), waiting: [] as (() => void)[] };
    createInterface({ input: icmp.proc.stdout! }).on('line', () => icmp.waiting.shift()?.());
    this.icmp = icmp;
    return icmp;
  }
  close(): void {
    for (const p of [this.proc, this.icmp?.proc]) {
      if (!p) continue;
      p.stdin!.end();
      p.kill();
    }
  }
}
