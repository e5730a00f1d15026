// ipset vs kernel: seeded random sets of every type this kernel supports are loaded into a
// network namespace, `ipset save` output is parsed back, and `ipset test` (which runs the same
// kernel lookup as `-m set`) answers ≥ 1,000 random queries per set; matchSet must agree.
// The recorded kernel answers are committed (test/fixtures/netstack/ipset/kernel-*.json) so that
// the comparison also runs without root; NETPATH_WRITE_FIXTURES=1 regenerates them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { kernelTestSkip } from '../../support/machine';
import { parseIpsetSave, matchSet, type SetQueryPacket, type SetFlag } from '../../../src/engine/netstack/ipset';
import { parseIP, formatIP, type IP } from '../../../src/engine/netstack/ip';
import { rng } from '../../support/random';

const FIXTURES = join(__dirname, '../../fixtures/netstack/ipset');
const QUERIES_PER_SET = 1000;


type Rand = () => number;
const pick = <T>(r: Rand, xs: T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Addresses from a small universe so that random queries hit members and their prefixes. */
function randIP(r: Rand, fam: 4 | 6): string {
  if (fam === 4) return `10.${int(r, 0, 3)}.${int(r, 0, 7)}.${int(r, 0, 15)}`;
  return `fd00::${int(r, 0, 3).toString(16)}:${int(r, 0, 7).toString(16)}:${int(r, 0, 15).toString(16)}`;
}
function netOf(ip: string, len: number): string {
  const p = parseIP(ip)!;
  const bits = p.family === 4 ? 32 : 128;
  const m = ((1n << BigInt(len)) - 1n) << BigInt(bits - len);
  return `${formatIP({ family: p.family, value: p.value & m })}/${len}`;
}
function randNet(r: Rand, fam: 4 | 6): string {
  const len = fam === 4 ? pick(r, [8, 14, 16, 20, 24, 26, 28, 29, 30, 32]) : pick(r, [64, 100, 112, 116, 120, 124, 126, 128]);
  return netOf(randIP(r, fam), len);
}
const PORTS = [22, 53, 80, 443, 8080, 9000];
function randPort(r: Rand, fam: 4 | 6): { text: string; proto: string; port?: number; icmp?: [number, number] } {
  const x = r();
  if (x < 0.4) {
    const p = pick(r, PORTS);
    return { text: `tcp:${p}`, proto: 'tcp', port: p };
  }
  if (x < 0.7) {
    const p = pick(r, PORTS);
    return { text: `udp:${p}`, proto: 'udp', port: p };
  }
  if (x < 0.8) {
    const p = pick(r, PORTS);
    return { text: `sctp:${p}`, proto: 'sctp', port: p };
  }
  if (x < 0.95) {
    const [t, c] = fam === 4 ? pick(r, [[8, 0], [0, 0], [3, 3], [3, 1], [11, 0]]) : pick(r, [[128, 0], [129, 0], [1, 4], [2, 0]]);
    return { text: `${fam === 4 ? 'icmp' : 'icmpv6'}:${t}/${c}`, proto: fam === 4 ? 'icmp' : 'icmpv6', icmp: [t, c] };
  }
  return { text: 'gre:0', proto: 'gre' };
}
const MACS = ['02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03', '0a:bc:de:f0:12:34'];
const IFACES = ['eth0', 'eth1', 'veth12', 'cali0a', 'vxlan.calico'];

interface Query {
  /** Element text for `ipset test`. */
  elem: string;
  flags: SetFlag[];
  pkt: { src: string; dst: string; proto: string; sport?: number; dport?: number; icmpType?: number; icmpCode?: number; iif?: string; oif?: string; srcMac?: string; dstMac?: string };
}
interface SetCase {
  name: string;
  restore: string[];
  queries: Query[];
}

type Dim =
  | { k: 'ip'; v: string }
  | { k: 'net'; v: string }
  | { k: 'port'; v: ReturnType<typeof randPort> }
  | { k: 'bport'; v: number }
  | { k: 'iface'; v: string; wild?: boolean }
  | { k: 'mac'; v?: string };

/** A random host inside a network (the query side of a net dimension). */
function hostIn(r: Rand, net: string): string {
  const [a, l] = net.split('/');
  const p = parseIP(a)!;
  const bits = p.family === 4 ? 32 : 128;
  const hostBits = bits - Number(l);
  const rnd = hostBits === 0 ? 0n : BigInt(Math.floor(r() * 2 ** Math.min(hostBits, 30)));
  return formatIP({ family: p.family, value: p.value | (rnd & ((1n << BigInt(hostBits)) - 1n)) });
}

function genCases(seed: number): SetCase[] {
  const r = rng(seed);
  const cases: SetCase[] = [];
  const flag = (): SetFlag => (r() < 0.5 ? 'src' : 'dst');
  /**
   * `gen` draws one element's dimensions; members are `gen()` plus options, queries are either
   * fresh `gen()` values or a member with some dimensions redrawn (so that hits and near misses
   * are both frequent).
   */
  const mk = (name: string, create: string, fam: 4 | 6, n: number, gen: () => Dim[], opts: () => string = () => '', qgen = gen) => {
    const restore = [`create ${name} ${create}`];
    const members: Dim[][] = [];
    const seen = new Set<string>();
    const text = (ds: Dim[]) =>
      ds
        .map((d) => (d.k === 'port' ? d.v.text : d.k === 'mac' ? d.v : d.k === 'bport' ? String(d.v) : d.v))
        .filter((x) => x !== undefined)
        .join(',');
    for (let i = 0; i < n; i++) {
      const m = gen();
      const tx = text(m);
      if (seen.has(tx)) continue;
      seen.add(tx);
      members.push(m);
      const wild = m.some((d) => d.k === 'iface' && d.wild);
      restore.push(`add ${name} ${tx}${wild ? ' wildcard' : ''}${opts()}`.trimEnd());
    }
    const queries: Query[] = [];
    for (let i = 0; i < QUERIES_PER_SET; i++) {
      let ds = qgen();
      if (r() < 0.6 && members.length) {
        const m = pick(r, members);
        ds = m.map((d, j) => (r() < 0.25 ? ds[j] : d));
      }
      // Query values: hosts for nets, full names for wildcard interfaces.
      const qd = ds.map((d): Dim => {
        if (d.k === 'net') return { k: 'ip', v: hostIn(r, d.v) };
        if (d.k === 'iface' && d.wild) return { k: 'iface', v: pick(r, IFACES.filter((x) => x.startsWith(d.v)).concat([d.v + 'x'])) };
        if (d.k === 'mac' && !d.v) return { k: 'mac', v: pick(r, MACS) };
        return d;
      });
      const other = fam === 4 ? '192.0.2.1' : '2001:db8::1';
      const pkt: Query['pkt'] = { src: other, dst: other, proto: 'udp', sport: 1111, dport: 2222 };
      const flags: SetFlag[] = [];
      const ipFlags: SetFlag[] = [];
      for (const d of qd) {
        let f = flag();
        if (d.k === 'ip') {
          // Two address dimensions must read different packet fields (or the query is moot).
          if (ipFlags.length) f = ipFlags[0] === 'src' ? 'dst' : 'src';
          ipFlags.push(f);
          pkt[f] = d.v;
        } else if (d.k === 'port') {
          pkt.proto = d.v.proto;
          if (d.v.port !== undefined) pkt[f === 'src' ? 'sport' : 'dport'] = d.v.port;
          if (d.v.icmp) [pkt.icmpType, pkt.icmpCode] = d.v.icmp;
        } else if (d.k === 'bport') {
          pkt.proto = r() < 0.5 ? 'tcp' : 'udp';
          pkt[f === 'src' ? 'sport' : 'dport'] = d.v;
        } else if (d.k === 'iface') pkt[f === 'src' ? 'iif' : 'oif'] = d.v;
        else if (d.k === 'mac') {
          f = 'src'; // ipset test compares the source MAC semantics
          pkt.srcMac = d.v;
        }
        flags.push(f);
      }
      queries.push({ elem: text(qd), flags, pkt });
    }
    cases.push({ name, restore, queries });
  };
  const nomatch = (p: number) => () => (r() < p ? ' nomatch' : '');
  for (const fam of [4, 6] as const) {
    const f = fam === 4 ? 'inet' : 'inet6';
    const ip = (): Dim => ({ k: 'ip', v: randIP(r, fam) });
    const net = (): Dim => ({ k: 'net', v: randNet(r, fam) });
    const port = (): Dim => ({ k: 'port', v: randPort(r, fam) });
    const iface = (): Dim => {
      const ifc = pick(r, IFACES);
      return r() < 0.3 ? { k: 'iface', v: ifc.slice(0, 3), wild: true } : { k: 'iface', v: ifc };
    };
    mk(`ip${fam}`, `hash:ip family ${f}`, fam, 300, () => [ip()]);
    mk(`ipmask${fam}`, `hash:ip family ${f} netmask ${fam === 4 ? 28 : 120}`, fam, 60, () => [ip()]);
    mk(`net${fam}`, `hash:net family ${f}`, fam, 120, () => [net()], nomatch(0.25));
    mk(`ipport${fam}`, `hash:ip,port family ${f}`, fam, 300, () => [ip(), port()]);
    mk(`netport${fam}`, `hash:net,port family ${f}`, fam, 200, () => [net(), port()], nomatch(0.25));
    mk(`ipportip${fam}`, `hash:ip,port,ip family ${f}`, fam, 300, () => [ip(), port(), ip()]);
    mk(`ipportnet${fam}`, `hash:ip,port,net family ${f}`, fam, 300, () => [ip(), port(), net()], nomatch(0.2));
    mk(`netiface${fam}`, `hash:net,iface family ${f}`, fam, 150, () => [net(), iface()], nomatch(0.15));
  }
  const ip4 = (): Dim => ({ k: 'ip', v: randIP(r, 4) });
  const low = (): Dim => ({ k: 'ip', v: randIP(r, 4).replace(/^10\.[123]\./, '10.0.') });
  const none = () => '';
  mk('bmip', 'bitmap:ip range 10.0.0.0-10.0.255.255', 4, 300, () => [low()], none, () => [r() < 0.8 ? low() : ip4()]);
  mk('bmipnm', 'bitmap:ip range 10.0.0.0/14 netmask 26', 4, 60, () => [ip4()]);
  mk('bmipmac', 'bitmap:ip,mac range 10.0.0.0/16', 4, 200, () => [low(), { k: 'mac', v: r() < 0.8 ? pick(r, MACS) : undefined }], none, () => [
    r() < 0.8 ? low() : ip4(),
    { k: 'mac', v: pick(r, MACS) },
  ]);
  mk('bmport', 'bitmap:port range 0-10000', 4, 200, () => [{ k: 'bport', v: r() < 0.5 ? pick(r, PORTS) : int(r, 0, 10000) }], none, () => [
    { k: 'bport', v: r() < 0.5 ? pick(r, PORTS) : int(r, 0, 12000) },
  ]);
  return cases;
}

function toPacket(p: Query['pkt']): SetQueryPacket {
  const ip = (s: string): IP => parseIP(s)!;
  return { ...p, src: ip(p.src), dst: ip(p.dst) };
}


interface Recorded {
  save: string;
  answers: Record<string, boolean[]>;
}

/** Runs the cases against the kernel in a fresh netns; returns `ipset save` and the answers. */
function runKernel(ns: string, cases: SetCase[]): Recorded {
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const restore = cases.flatMap((c) => c.restore).join('\n') + '\n';
    const rr = spawnSync('ip', ['netns', 'exec', ns, 'ipset', '-exist', 'restore'], { input: restore, encoding: 'utf8' });
    assert.equal(rr.status, 0, `ipset restore failed: ${rr.stderr}`);
    const save = execFileSync('ip', ['netns', 'exec', ns, 'ipset', 'save'], { encoding: 'utf8' });
    const answers: Record<string, boolean[]> = {};
    for (const c of cases) {
      const script = c.queries.map((q) => `ipset test ${c.name} ${q.elem} 2>&1; echo "@@$?"`).join('\n');
      const out = execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const blocks = out.split(/@@\d+\n/).slice(0, -1);
      const codes = [...out.matchAll(/@@(\d+)\n/g)].map((m) => m[1]);
      assert.equal(blocks.length, c.queries.length);
      answers[c.name] = blocks.map((b, i) => {
        if (codes[i] === '0' && /is in set/.test(b)) return true;
        if (/is NOT in set/.test(b)) return false;
        throw new Error(`${c.name}: ipset test ${c.queries[i].elem}: unexpected answer ${JSON.stringify(b)}`);
      });
    }
    return { save, answers };
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function compare(t: { diagnostic: (s: string) => void }, cases: SetCase[], rec: Recorded, label: string) {
  const reg = parseIpsetSave(rec.save);
  let total = 0;
  let agree = 0;
  const bad: string[] = [];
  for (const c of cases) {
    const kernel = rec.answers[c.name];
    assert.ok(kernel, `no kernel answers for ${c.name}`);
    let n = 0;
    let hits = 0;
    c.queries.forEach((q, i) => {
      const ours = matchSet(reg, c.name, q.flags, toPacket(q.pkt));
      total++;
      n++;
      if (kernel[i]) hits++;
      if (ours === kernel[i]) agree++;
      else if (bad.length < 10) bad.push(`${c.name} ${q.elem} flags=${q.flags}: kernel ${kernel[i]}, ours ${ours}`);
    });
    t.diagnostic(`${label} ${c.name} (${reg.sets.get(c.name)?.type}, ${reg.sets.get(c.name)?.entries.length} members): ${n} queries, ${hits} in set`);
  }
  t.diagnostic(`ipset matchSet vs kernel (${label}): ${total} queries compared, ${agree} agree (${((100 * agree) / total).toFixed(2)} %)`);
  assert.deepEqual(bad, []);
}

const SEED = 20240601;

test('ipset matchSet agrees with recorded kernel answers (fixture, no root needed)', (t) => {
  const file = join(FIXTURES, 'kernel-answers.json');
  if (!existsSync(file)) return t.skip('fixture missing; run test/fixtures/netstack/gen-ipset-sockets.sh');
  const stored = JSON.parse(readFileSync(file, 'utf8')) as { seed: number; answers: Record<string, string> };
  const rec: Recorded = {
    save: readFileSync(join(FIXTURES, 'kernel-sets.save'), 'utf8'),
    answers: Object.fromEntries(Object.entries(stored.answers).map(([k, v]) => [k, [...v].map((c) => c === '1')])),
  };
  compare(t, genCases(stored.seed), rec, 'fixture');
});

test('ipset matchSet agrees with the live kernel (ipset test in a netns)', { timeout: 300_000 }, (t) => {
  const skip = kernelTestSkip(['ipset']);
  if (skip) return t.skip(skip);
  const cases = genCases(SEED);
  const rec = runKernel(`npips-${process.pid}`, cases);
  if (process.env.NETPATH_WRITE_FIXTURES === '1') {
    mkdirSync(FIXTURES, { recursive: true });
    // Answers as '0'/'1' strings per set: compact, and the queries are regenerated from the seed.
    const answers = Object.fromEntries(Object.entries(rec.answers).map(([k, v]) => [k, v.map((b) => (b ? '1' : '0')).join('')]));
    writeFileSync(join(FIXTURES, 'kernel-answers.json'), JSON.stringify({ seed: SEED, answers }, null, 1) + '\n');
    writeFileSync(join(FIXTURES, 'kernel-sets.save'), rec.save);
  }
  compare(t, cases, rec, 'live');
});
