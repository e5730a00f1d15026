// Match modules as the kernel evaluates them. Each rule's matches are compiled once (addresses,
// ports and masks parsed) into closures; an option the model does not cover turns the whole match
// into `{ unknown }`, which the trace reports instead of guessing.
import { contains, parseIP, parsePrefix, sameIP, type Family, type IP, type Prefix } from '../ip';
import type { Match, RuleOption } from '../iptables/model';
import type { NetfilterEnv } from './packet';
import { compileRecent } from './recent';
import { protoName, protoNumber, type State } from './state';

export type MatchResult = boolean | { unknown: string } | { probability: number };
export type MatchFn = (s: State, env: NetfilterEnv) => MatchResult;

export class Unsupported extends Error {}

const fail = (msg: string): never => {
  throw new Unsupported(msg);
};

/** Compiles one match; `{ unknown }` when the module or one of its options is not modelled. */
export function compileMatch(m: Match, family: Family): MatchFn | { unknown: string } {
  const compiler = COMPILERS[m.module];
  if (!compiler) return { unknown: `match module "${m.module}" is not modelled` };
  try {
    return compiler(m.options, family);
  } catch (e) {
    if (e instanceof Unsupported) return { unknown: `-m ${m.module || '(ip header)'}: ${e.message}` };
    throw e;
  }
}

type Compiler = (opts: RuleOption[], family: Family) => MatchFn;

// ---- value parsers --------------------------------------------------------------------------

function one(o: RuleOption): string {
  if (o.values.length !== 1) fail(`${o.name} expects one value, got ${o.values.length}`);
  return o.values[0];
}

export function parseNum(text: string, what: string): number {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) fail(`${what}: ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

/** `value[/mask]`, numbers in hex or decimal; mask defaults to all ones. */
export function parseMarkMask(text: string, what: string): { value: number; mask: number } {
  const [v, m] = text.split('/');
  return { value: parseNum(v, what) >>> 0, mask: m === undefined ? 0xffffffff : parseNum(m, what) >>> 0 };
}

/** `a`, `a:b`, `:b`, `a:` (iptables port ranges). */
export function parsePortRange(text: string): [number, number] {
  const i = text.indexOf(':');
  const lo = i < 0 ? text : text.slice(0, i);
  const hi = i < 0 ? text : text.slice(i + 1);
  const a = lo === '' ? 0 : parseNum(lo, 'port');
  const b = hi === '' ? 65535 : parseNum(hi, 'port');
  if (a > 65535 || b > 65535) fail(`port ${text} out of range`);
  return [a, b];
}

function prefixOf(text: string, family: Family): Prefix {
  const p = parsePrefix(text, family);
  if (!p || p.family !== family) fail(`${JSON.stringify(text)} is not an IPv${family} address/prefix`);
  return p!;
}

function ipOf(text: string, family: Family): IP {
  const ip = parseIP(text);
  if (!ip || ip.family !== family) fail(`${JSON.stringify(text)} is not an IPv${family} address`);
  return ip!;
}

function ifaceMatches(pattern: string, name: string | undefined): boolean {
  const n = name ?? '';
  if (pattern.endsWith('+')) return n.startsWith(pattern.slice(0, -1));
  return n === pattern;
}

const inv = (o: RuleOption, r: boolean) => (o.negated ? !r : r);

function all(fns: ((s: State, env: NetfilterEnv) => boolean)[]): MatchFn {
  if (fns.length === 1) return fns[0];
  return (s, env) => {
    for (const f of fns) if (!f(s, env)) return false;
    return true;
  };
}

// ---- ip header -------------------------------------------------------------------------------

const basic: Compiler = (opts, family) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    switch (o.name) {
      case '-s': case '--source': case '--src':
      case '-d': case '--destination': case '--dst': {
        const prefixes = one(o).split(',').map((t) => prefixOf(t, family));
        const isSrc = o.name === '-s' || o.name === '--source' || o.name === '--src';
        fns.push((s) => inv(o, prefixes.some((p) => contains(p, isSrc ? s.src : s.dst))));
        break;
      }
      case '-p': case '--protocol': {
        const v = one(o);
        const n = protoNumber(v);
        if (n === undefined) fail(`unknown protocol ${JSON.stringify(v)}`);
        fns.push((s) => inv(o, n === 0 || s.proto === n));
        break;
      }
      case '-i': case '--in-interface': {
        const v = one(o);
        fns.push((s) => inv(o, ifaceMatches(v, s.pkt.iif)));
        break;
      }
      case '-o': case '--out-interface': {
        const v = one(o);
        fns.push((s) => inv(o, ifaceMatches(v, s.pkt.oif)));
        break;
      }
      case '-f': case '--fragment':
        fns.push((s) => inv(o, !!s.pkt.fragment));
        break;
      default:
        fail(`option ${o.name} is not modelled`);
    }
  }
  return all(fns);
};

// ---- tcp / udp / sctp ------------------------------------------------------------------------

const TCP_FLAGS: Record<string, number> = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128, ALL: 255, NONE: 0 };

function flagBits(text: string): number {
  let b = 0;
  for (const f of text.split(',')) {
    const v = TCP_FLAGS[f.toUpperCase()];
    if (v === undefined) fail(`unknown TCP flag ${f}`);
    b |= v!;
  }
  return b;
}

function packetTcpFlags(s: State): number {
  const f = s.pkt.tcpFlags ?? (s.ct.state === 'NEW' ? ['SYN'] : ['ACK']);
  let b = 0;
  for (const x of f) b |= TCP_FLAGS[x.toUpperCase()] ?? 0;
  return b;
}

function portsCompiler(proto: number): Compiler {
  return (opts) => {
    const fns: ((s: State) => boolean)[] = [(s) => s.proto === proto && !s.pkt.fragment];
    for (const o of opts) {
      switch (o.name) {
        case '--sport': case '--source-port': case '--dport': case '--destination-port': {
          const [a, b] = parsePortRange(one(o));
          const src = o.name === '--sport' || o.name === '--source-port';
          fns.push((s) => {
            const p = src ? s.pkt.sport : s.pkt.dport;
            return inv(o, p !== undefined && p >= a && p <= b);
          });
          break;
        }
        case '--tcp-flags': case '--syn': {
          if (proto !== 6) fail(`${o.name} is a tcp option`);
          let mask: number, comp: number;
          if (o.name === '--syn') {
            mask = TCP_FLAGS.SYN | TCP_FLAGS.RST | TCP_FLAGS.ACK | TCP_FLAGS.FIN;
            comp = TCP_FLAGS.SYN;
          } else {
            if (o.values.length !== 2) fail('--tcp-flags needs MASK COMP');
            mask = flagBits(o.values[0]);
            comp = flagBits(o.values[1]);
          }
          fns.push((s) => inv(o, (packetTcpFlags(s) & mask) === comp));
          break;
        }
        case '--tcp-option': {
          if (proto !== 6) fail('--tcp-option is a tcp option');
          const k = parseNum(one(o), '--tcp-option');
          fns.push((s) => inv(o, (s.pkt.tcpOptions ?? []).includes(k)));
          break;
        }
        default:
          fail(`option ${o.name} is not modelled`);
      }
    }
    return all(fns);
  };
}

// ---- icmp ------------------------------------------------------------------------------------

const ICMP_NAMES: Record<string, [number, number?]> = {
  'echo-reply': [0], pong: [0], 'destination-unreachable': [3], 'network-unreachable': [3, 0],
  'host-unreachable': [3, 1], 'protocol-unreachable': [3, 2], 'port-unreachable': [3, 3],
  'fragmentation-needed': [3, 4], 'source-route-failed': [3, 5], 'network-unknown': [3, 6],
  'host-unknown': [3, 7], 'network-prohibited': [3, 9], 'host-prohibited': [3, 10],
  'TOS-network-unreachable': [3, 11], 'TOS-host-unreachable': [3, 12], 'communication-prohibited': [3, 13],
  'host-precedence-violation': [3, 14], 'precedence-cutoff': [3, 15], 'source-quench': [4], redirect: [5],
  'network-redirect': [5, 0], 'host-redirect': [5, 1], 'TOS-network-redirect': [5, 2], 'TOS-host-redirect': [5, 3],
  'echo-request': [8], ping: [8], 'router-advertisement': [9], 'router-solicitation': [10], 'time-exceeded': [11],
  'ttl-exceeded': [11], 'ttl-zero-during-transit': [11, 0], 'ttl-zero-during-reassembly': [11, 1],
  'parameter-problem': [12], 'ip-header-bad': [12, 0], 'required-option-missing': [12, 1],
  'timestamp-request': [13], 'timestamp-reply': [14], 'address-mask-request': [17], 'address-mask-reply': [18],
};
const ICMP6_NAMES: Record<string, [number, number?]> = {
  'destination-unreachable': [1], 'no-route': [1, 0], 'communication-prohibited': [1, 1],
  'beyond-scope': [1, 2], 'address-unreachable': [1, 3], 'port-unreachable': [1, 4],
  'failed-policy': [1, 5], 'reject-route': [1, 6], 'packet-too-big': [2], 'time-exceeded': [3],
  'ttl-exceeded': [3], 'ttl-zero-during-transit': [3, 0], 'ttl-zero-during-reassembly': [3, 1],
  'parameter-problem': [4], 'bad-header': [4, 0], 'unknown-header-type': [4, 1], 'unknown-option': [4, 2],
  'echo-request': [128], ping: [128], 'echo-reply': [129], pong: [129], 'router-solicitation': [133],
  'router-advertisement': [134], 'neighbour-solicitation': [135], 'neighbor-solicitation': [135],
  'neighbour-advertisement': [136], 'neighbor-advertisement': [136], redirect: [137],
};

function icmpCompiler(proto: number, names: Record<string, [number, number?]>): Compiler {
  return (opts) => {
    const fns: ((s: State) => boolean)[] = [(s) => s.proto === proto && !s.pkt.fragment];
    for (const o of opts) {
      if (o.name !== '--icmp-type' && o.name !== '--icmpv6-type') fail(`option ${o.name} is not modelled`);
      const v = one(o);
      if (v === 'any') {
        fns.push(() => inv(o, true));
        continue;
      }
      let type: number, code: number | undefined;
      const named = names[v];
      if (named) [type, code] = named;
      else {
        const [t, c] = v.split('/');
        type = parseNum(t, 'icmp type');
        code = c === undefined ? undefined : parseNum(c, 'icmp code');
      }
      fns.push((s) => inv(o, s.pkt.icmpType === type && (code === undefined || s.pkt.icmpCode === code)));
    }
    return all(fns);
  };
}

// ---- multiport -------------------------------------------------------------------------------

const multiport: Compiler = (opts) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    const ranges = one(o).split(',').map(parsePortRange);
    const inRanges = (p: number | undefined) => p !== undefined && ranges.some(([a, b]) => p >= a && p <= b);
    switch (o.name) {
      case '--sports': case '--source-ports':
        fns.push((s) => inv(o, inRanges(s.pkt.sport)));
        break;
      case '--dports': case '--destination-ports':
        fns.push((s) => inv(o, inRanges(s.pkt.dport)));
        break;
      case '--ports':
        fns.push((s) => inv(o, inRanges(s.pkt.sport) || inRanges(s.pkt.dport)));
        break;
      default:
        fail(`option ${o.name} is not modelled`);
    }
  }
  // multiport only looks at protocols with ports, and never at non-first fragments.
  return all([(s) => [6, 17, 132, 136, 33].includes(s.proto) && !s.pkt.fragment, ...fns]);
};

// ---- set -------------------------------------------------------------------------------------

const setMatch: Compiler = (opts) => {
  const fns: MatchFn[] = [];
  for (const o of opts) {
    switch (o.name) {
      case '--match-set': case '--set': {
        if (o.values.length !== 2) fail(`${o.name} needs NAME FLAGS`);
        const [name, flagText] = o.values;
        const flags = flagText.split(',');
        if (!flags.every((f) => f === 'src' || f === 'dst')) fail(`bad set flags ${flagText}`);
        fns.push((s, env) => {
          if (!env.ipset) return { unknown: 'no ipset matcher in the environment' };
          const r = env.ipset(name, flags as ('src' | 'dst')[], {
            src: s.src, dst: s.dst, proto: protoName(s.proto), sport: s.pkt.sport, dport: s.pkt.dport,
            icmpType: s.pkt.icmpType, icmpCode: s.pkt.icmpCode, iif: s.pkt.iif, oif: s.pkt.oif,
            physIn: s.pkt.physIn, physOut: s.pkt.physOut, srcMac: s.pkt.srcMac, mark: s.mark,
          });
          if (r === undefined) return { unknown: `ipset ${name} is not in the ipset dump` };
          return inv(o, r);
        });
        break;
      }
      case '--return-nomatch': case '--update-counters': case '--update-subcounters':
        break; // counters bookkeeping; nomatch entries are the matcher's business
      default:
        fail(`option ${o.name} is not modelled`);
    }
  }
  return (s, env) => {
    for (const f of fns) {
      const r = f(s, env);
      if (r !== true) return r;
    }
    return true;
  };
};

// ---- marks -----------------------------------------------------------------------------------

function markCompiler(ct: boolean): Compiler {
  return (opts) => {
    const fns: ((s: State) => boolean)[] = [];
    for (const o of opts) {
      if (o.name !== '--mark') fail(`option ${o.name} is not modelled`);
      const { value, mask } = parseMarkMask(one(o), '--mark');
      fns.push((s) => inv(o, (((ct ? s.ct.mark : s.mark) & mask) >>> 0) === value));
    }
    return all(fns);
  };
}

// ---- conntrack / state -----------------------------------------------------------------------

/** The conntrack states a packet is in, including the virtual SNAT/DNAT states. */
function ctStates(s: State): string[] {
  const st: string[] = [s.ct.state];
  if (s.ct.state !== 'INVALID' && s.ct.state !== 'UNTRACKED') {
    // Addresses, not texts: a NAT target may write the same address another way (`fd00::0:1`).
    if (s.ct.orig.src !== s.ct.reply.dst && !sameIP(s.ct.orig.src, s.ct.reply.dst)) st.push('SNAT');
    if (s.ct.orig.dst !== s.ct.reply.src && !sameIP(s.ct.orig.dst, s.ct.reply.src)) st.push('DNAT');
  }
  return st;
}

const CT_STATES = new Set(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'SNAT', 'DNAT']);
const CT_STATUS = new Set(['NONE', 'EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED']);

function listOf(o: RuleOption, allowed: Set<string>): string[] {
  const l = one(o).split(',').map((x) => x.toUpperCase());
  for (const x of l) if (!allowed.has(x)) fail(`unknown value ${x} for ${o.name}`);
  return l;
}

const conntrack: Compiler = (opts, family) => {
  const fns: ((s: State) => boolean)[] = [];
  const tracked = (s: State) => s.ct.state !== 'INVALID' && s.ct.state !== 'UNTRACKED';
  for (const o of opts) {
    switch (o.name) {
      case '--ctstate': case '--state': {
        const want = listOf(o, CT_STATES);
        fns.push((s) => inv(o, ctStates(s).some((x) => want.includes(x))));
        break;
      }
      case '--ctstatus': {
        const want = listOf(o, CT_STATUS);
        fns.push((s) => inv(o, tracked(s) && want.some((x) => (x === 'NONE' ? s.ct.status.length === 0 : s.ct.status.includes(x)))));
        break;
      }
      case '--ctproto': {
        const n = protoNumber(one(o));
        if (n === undefined) fail(`unknown protocol ${one(o)}`);
        fns.push((s) => inv(o, tracked(s) && s.proto === n));
        break;
      }
      case '--ctorigsrc': case '--ctorigdst': case '--ctreplsrc': case '--ctrepldst': {
        const p = prefixOf(one(o), family);
        const pick = o.name.slice(2);
        fns.push((s) => {
          if (!tracked(s)) return o.negated;
          const t = pick.startsWith('ctorig') ? s.ct.orig : s.ct.reply;
          const a = parseIP(pick.endsWith('src') ? t.src : t.dst);
          return inv(o, !!a && contains(p, a));
        });
        break;
      }
      case '--ctorigsrcport': case '--ctorigdstport': case '--ctreplsrcport': case '--ctrepldstport': {
        const [a, b] = parsePortRange(one(o));
        const pick = o.name.slice(2);
        fns.push((s) => {
          if (!tracked(s)) return o.negated;
          const t = pick.startsWith('ctorig') ? s.ct.orig : s.ct.reply;
          const port = pick.endsWith('srcport') ? t.sport : t.dport;
          return inv(o, port !== undefined && port >= a && port <= b);
        });
        break;
      }
      case '--ctdir': {
        const d = one(o).toUpperCase();
        if (d !== 'ORIGINAL' && d !== 'REPLY') fail(`bad --ctdir ${d}`);
        fns.push((s) => inv(o, tracked(s) && s.ct.direction === d));
        break;
      }
      case '--ctexpire':
        fns.push((s) => {
          s.notes.push('conntrack --ctexpire assumed to match (timers are not modelled)');
          return true;
        });
        break;
      default:
        fail(`option ${o.name} is not modelled`);
    }
  }
  return all(fns);
};

// ---- addrtype --------------------------------------------------------------------------------

const ADDR_TYPES = new Set(['UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE']);

const addrtype: Compiler = (opts, family) => {
  let limitIn = false;
  let limitOut = false;
  const checks: { o: RuleOption; src: boolean; types: string[] }[] = [];
  for (const o of opts) {
    switch (o.name) {
      case '--src-type': case '--dst-type':
        checks.push({ o, src: o.name === '--src-type', types: listOf(o, ADDR_TYPES) });
        break;
      case '--limit-iface-in':
        limitIn = true;
        break;
      case '--limit-iface-out':
        limitOut = true;
        break;
      default:
        fail(`option ${o.name} is not modelled`);
    }
  }
  return (s, env) => {
    if (!env.addressType) return { unknown: 'no address-type lookup in the environment' };
    const iface = limitIn ? s.pkt.iif : limitOut ? s.pkt.oif : undefined;
    for (const c of checks) {
      const t = env.addressType(c.src ? s.pkt.src : s.pkt.dst, family, iface);
      if (!inv(c.o, c.types.includes(t))) return false;
    }
    return true;
  };
};

// ---- statistic -------------------------------------------------------------------------------

const statistic: Compiler = (opts) => {
  const get = (n: string) => opts.find((o) => o.name === n);
  const mode = get('--mode');
  for (const o of opts) if (!['--mode', '--probability', '--every', '--packet'].includes(o.name)) fail(`option ${o.name} is not modelled`);
  if (!mode) fail('--mode missing');
  let p: number;
  let negated = false;
  if (one(mode!) === 'random') {
    const po = get('--probability');
    if (!po) fail('--probability missing');
    p = Number(one(po!));
    if (!(p >= 0 && p <= 1)) fail(`bad probability ${one(po!)}`);
    negated = po!.negated;
  } else if (one(mode!) === 'nth') {
    const every = get('--every');
    if (!every) fail('--every missing');
    const n = parseNum(one(every!), '--every');
    if (n < 1) fail('--every must be at least 1');
    p = 1 / n;
    negated = every!.negated;
  } else return fail(`unknown statistic mode ${one(mode!)}`);
  const prob = negated ? 1 - p : p;
  return () => (prob >= 1 ? true : prob <= 0 ? false : { probability: prob });
};

// ---- bridge ports ----------------------------------------------------------------------------

const physdev: Compiler = (opts) => {
  for (const o of opts) {
    if (!['--physdev-in', '--physdev-out', '--physdev-is-in', '--physdev-is-out', '--physdev-is-bridged'].includes(o.name)) {
      fail(`option ${o.name} is not modelled`);
    }
  }
  return (s) => {
    const bridged = s.pkt.physIn !== undefined || s.pkt.physOut !== undefined;
    if (!bridged) {
      // xt_physdev: a non-bridged packet matches only if every option given is negated.
      return opts.every((o) => o.negated);
    }
    for (const o of opts) {
      let r: boolean;
      switch (o.name) {
        case '--physdev-in': r = s.pkt.physIn !== undefined && ifaceMatches(one(o), s.pkt.physIn); break;
        case '--physdev-out': r = s.pkt.physOut !== undefined && ifaceMatches(one(o), s.pkt.physOut); break;
        case '--physdev-is-in': r = s.pkt.physIn !== undefined; break;
        case '--physdev-is-out': r = s.pkt.physOut !== undefined; break;
        default: r = s.pkt.physOut !== undefined; // --physdev-is-bridged: bridged, not delivered locally
      }
      if (!inv(o, r)) return false;
    }
    return true;
  };
};

// ---- misc packet fields ----------------------------------------------------------------------

const iprange: Compiler = (opts, family) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    if (o.name !== '--src-range' && o.name !== '--dst-range') fail(`option ${o.name} is not modelled`);
    const [a, b] = one(o).split('-');
    const lo = ipOf(a, family);
    const hi = b === undefined ? lo : ipOf(b, family);
    const src = o.name === '--src-range';
    fns.push((s) => {
      const v = (src ? s.src : s.dst).value;
      return inv(o, v >= lo.value && v <= hi.value);
    });
  }
  return all(fns);
};

function defaultLength(s: State): number {
  const ip = s.pkt.family === 4 ? 20 : 40;
  const l4 = s.proto === 6 ? 20 : s.proto === 17 || s.proto === 1 || s.proto === 58 ? 8 : 0;
  return ip + l4;
}

const length: Compiler = (opts) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    if (o.name !== '--length') fail(`option ${o.name} is not modelled`);
    const [a, b] = parsePortRange(one(o));
    fns.push((s) => {
      const l = s.pkt.length ?? defaultLength(s);
      return inv(o, l >= a && l <= b);
    });
  }
  return all(fns);
};

function alwaysWithNote(name: string, note: string): Compiler {
  return () => (s) => {
    s.notes.push(`-m ${name}: ${note}`);
    return true;
  };
}

const connlimit: Compiler = (opts) => {
  const above = opts.some((o) => o.name === '--connlimit-above');
  return (s) => {
    s.notes.push(`-m connlimit: connection counts are not modelled; assumed ${above ? 'not above' : 'within'} the limit`);
    return !above;
  };
};

const mac: Compiler = (opts) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    if (o.name !== '--mac-source') fail(`option ${o.name} is not modelled`);
    const v = one(o).toLowerCase();
    fns.push((s) => inv(o, s.pkt.srcMac !== undefined && s.pkt.srcMac.toLowerCase() === v));
  }
  return all(fns);
};

function idRange(text: string): [number, number] {
  const [a, b] = text.split('-');
  const lo = parseNum(a, 'id');
  return [lo, b === undefined ? lo : parseNum(b, 'id')];
}

const owner: Compiler = (opts) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    switch (o.name) {
      case '--uid-owner': {
        const [a, b] = idRange(one(o));
        fns.push((s) => inv(o, s.pkt.owner?.uid !== undefined && s.pkt.owner.uid >= a && s.pkt.owner.uid <= b));
        break;
      }
      case '--gid-owner': {
        const [a, b] = idRange(one(o));
        const supp = opts.some((x) => x.name === '--suppl-groups');
        fns.push((s) => {
          const g = s.pkt.owner?.gid;
          const groups = [...(g !== undefined ? [g] : []), ...(supp ? s.pkt.owner?.supplGroups ?? [] : [])];
          return inv(o, groups.some((x) => x >= a && x <= b));
        });
        break;
      }
      case '--socket-exists':
        fns.push((s) => inv(o, s.pkt.owner !== undefined));
        break;
      case '--suppl-groups':
        break;
      default:
        fail(`option ${o.name} is not modelled`);
    }
  }
  // Without a socket (forwarded traffic) xt_owner matches only if every option is negated.
  return (s, env) => (s.pkt.owner === undefined ? opts.filter((o) => o.name !== '--suppl-groups').every((o) => o.negated) : all(fns)(s, env) === true);
};

const rpfilter: Compiler = (opts) => {
  let loose = false, validmark = false, acceptLocal = false, invert = false;
  for (const o of opts) {
    if (o.name === '--loose') loose = true;
    else if (o.name === '--validmark') validmark = true;
    else if (o.name === '--accept-local') acceptLocal = true;
    else if (o.name === '--invert') invert = true;
    else fail(`option ${o.name} is not modelled`);
  }
  return (s, env) => {
    if (!env.rpfilter) return { unknown: 'no reverse-path lookup in the environment' };
    return env.rpfilter({ ...s.pkt, mark: s.mark }, { loose, validmark, acceptLocal }) !== invert;
  };
};

const socket: Compiler = (opts) => {
  let transparent = false, nowildcard = false;
  for (const o of opts) {
    if (o.name === '--transparent') transparent = true;
    else if (o.name === '--nowildcard') nowildcard = true;
    else if (o.name !== '--restore-skmark') fail(`option ${o.name} is not modelled`);
  }
  return (s) => {
    const k = s.pkt.socket;
    if (!k) return { unknown: 'the packet carries no socket lookup result' };
    return k.exists && (!transparent || !!k.transparent) && (!nowildcard || !k.wildcard);
  };
};

function pktTypeOf(s: State): string {
  if (s.pkt.pktType) return s.pkt.pktType;
  const d = s.dst.value;
  if (s.dst.family === 4 ? d >> 28n === 14n : d >> 120n === 0xffn) return 'multicast';
  return 'unicast';
}

const pkttype: Compiler = (opts) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    if (o.name !== '--pkt-type') fail(`option ${o.name} is not modelled`);
    const v = one(o).toLowerCase();
    if (!['unicast', 'broadcast', 'multicast', 'host'].includes(v)) fail(`unknown packet type ${v}`);
    fns.push((s) => inv(o, pktTypeOf(s) === (v === 'host' ? 'unicast' : v)));
  }
  return all(fns);
};

const devgroup: Compiler = (opts) => {
  const fns: ((s: State, env: NetfilterEnv) => boolean)[] = [];
  for (const o of opts) {
    if (o.name !== '--src-group' && o.name !== '--dst-group') fail(`option ${o.name} is not modelled`);
    const { value, mask } = parseMarkMask(one(o), o.name);
    const src = o.name === '--src-group';
    fns.push((s, env) => {
      const iface = src ? s.pkt.iif : s.pkt.oif;
      const g = (src ? s.pkt.devGroupIn : s.pkt.devGroupOut) ?? (iface && env.devGroup ? env.devGroup(iface) : 0);
      return inv(o, ((g & mask) >>> 0) === value);
    });
  }
  return all(fns);
};

const cgroup: Compiler = (opts) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    if (o.name !== '--cgroup') fail(`option ${o.name} is not modelled (cgroup v2 --path needs the socket's cgroup path)`);
    const v = parseNum(one(o), '--cgroup');
    fns.push((s) => inv(o, s.pkt.cgroup === v));
  }
  return all(fns);
};

const helper: Compiler = (opts) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    if (o.name !== '--helper') fail(`option ${o.name} is not modelled`);
    const v = one(o);
    fns.push((s) => inv(o, s.ct.helper !== undefined && s.ct.helper.startsWith(v)));
  }
  return all(fns);
};

const DSCP_CLASSES: Record<string, number> = {
  CS0: 0, CS1: 8, CS2: 16, CS3: 24, CS4: 32, CS5: 40, CS6: 48, CS7: 56, BE: 0, EF: 46,
  AF11: 10, AF12: 12, AF13: 14, AF21: 18, AF22: 20, AF23: 22, AF31: 26, AF32: 28, AF33: 30, AF41: 34, AF42: 36, AF43: 38,
};
export function dscpClass(name: string): number {
  const v = DSCP_CLASSES[name.toUpperCase()];
  if (v === undefined) fail(`unknown DSCP class ${name}`);
  return v!;
}

const dscp: Compiler = (opts) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    let v: number;
    if (o.name === '--dscp') v = parseNum(one(o), '--dscp');
    else if (o.name === '--dscp-class') v = dscpClass(one(o));
    else return fail(`option ${o.name} is not modelled`);
    fns.push((s) => inv(o, ((s.pkt.tos ?? 0) >> 2) === v));
  }
  return all(fns);
};

const TOS_NAMES: Record<string, number> = {
  'minimize-delay': 0x10, 'maximize-throughput': 0x08, 'maximize-reliability': 0x04, 'minimize-cost': 0x02, 'normal-service': 0,
};
export function parseTos(text: string): { value: number; mask: number } {
  const named = TOS_NAMES[text.toLowerCase()];
  if (named !== undefined) return { value: named, mask: 0x3f };
  const r = parseMarkMask(text, '--tos');
  return { value: r.value, mask: text.includes('/') ? r.mask : 0xff };
}

const tos: Compiler = (opts) => {
  const fns: ((s: State) => boolean)[] = [];
  for (const o of opts) {
    if (o.name !== '--tos') fail(`option ${o.name} is not modelled`);
    const { value, mask } = parseTos(one(o));
    fns.push((s) => inv(o, ((s.pkt.tos ?? 0) & mask) === value));
  }
  return all(fns);
};

function ttlCompiler(prefix: 'ttl' | 'hl'): Compiler {
  return (opts) => {
    const fns: ((s: State) => boolean)[] = [];
    for (const o of opts) {
      const v = parseNum(one(o), o.name);
      const ttl = (s: State) => s.pkt.ttl ?? 64;
      if (o.name === `--${prefix}-eq`) fns.push((s) => inv(o, ttl(s) === v));
      else if (o.name === `--${prefix}-lt`) fns.push((s) => inv(o, ttl(s) < v));
      else if (o.name === `--${prefix}-gt`) fns.push((s) => inv(o, ttl(s) > v));
      else fail(`option ${o.name} is not modelled`);
    }
    return all(fns);
  };
}

const COMPILERS: Record<string, Compiler> = {
  '': basic,
  tcp: portsCompiler(6),
  udp: portsCompiler(17),
  sctp: (opts, f) => {
    for (const o of opts) if (o.name === '--chunk-types') fail('--chunk-types is not modelled');
    return portsCompiler(132)(opts, f);
  },
  udplite: portsCompiler(136),
  icmp: icmpCompiler(1, ICMP_NAMES),
  icmp6: icmpCompiler(58, ICMP6_NAMES),
  multiport,
  set: setMatch,
  mark: markCompiler(false),
  connmark: markCompiler(true),
  conntrack,
  state: conntrack,
  addrtype,
  comment: () => () => true,
  statistic,
  physdev,
  iprange,
  length,
  limit: alwaysWithNote('limit', 'rate limits are not modelled; assumed within the rate'),
  hashlimit: alwaysWithNote('hashlimit', 'rate limits are not modelled; assumed within the rate'),
  recent: (opts, family) => compileRecent(opts, family, fail),
  // xt_nfacct counts the packet in a named accounting object and always matches.
  nfacct: (opts) => {
    for (const o of opts) if (o.name !== '--nfacct-name') fail(`option ${o.name} is not modelled`);
    return () => true;
  },
  connlimit,
  mac,
  owner,
  rpfilter,
  socket,
  pkttype,
  devgroup,
  cgroup,
  helper,
  dscp,
  tos,
  ttl: ttlCompiler('ttl'),
  hl: ttlCompiler('hl'),
};

export const MODELLED_MATCHES: ReadonlySet<string> = new Set(Object.keys(COMPILERS));
