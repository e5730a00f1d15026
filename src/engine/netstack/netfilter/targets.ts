// Targets as the kernel applies them: verdicts end the table, NAT rewrites the packet and its
// conntrack reply tuple then accepts, MARK/CONNMARK/TOS/TTL rewrite and continue, logging and
// bookkeeping targets continue. Compiled once per rule, like matches.
import { formatIP, mask as prefixMask, parseIP, sameIP, type Family } from '../ip';
import type { RuleOption, Target } from '../iptables/model';
import { dscpClass, parseMarkMask, parseNum, parseTos, Unsupported } from './matches';
import type { NatRewrite, NetfilterEnv, Verdict } from './packet';
import { setDst, setSrc, type State } from './state';

export type TargetResult =
  | { kind: 'continue' }
  | { kind: 'verdict'; verdict: Verdict; rejectWith?: string }
  | { kind: 'return' }
  | { kind: 'jump'; chain: string; goto: boolean };

export type TargetFn = (s: State, env: NetfilterEnv, where: { chain: string; rule: number }) => TargetResult;

const fail = (msg: string): never => {
  throw new Unsupported(msg);
};
const CONTINUE: TargetResult = { kind: 'continue' };
const ACCEPT: TargetResult = { kind: 'verdict', verdict: 'ACCEPT' };

function one(o: RuleOption): string {
  if (o.values.length !== 1) fail(`${o.name} expects one value`);
  return o.values[0];
}

export function compileTarget(t: Target, family: Family): TargetFn | { unknown: string } {
  if (t.kind === 'chain') {
    const r: TargetResult = { kind: 'jump', chain: t.name, goto: t.goto };
    return () => r;
  }
  if (t.kind === 'verdict') {
    const r: TargetResult =
      t.name === 'RETURN' ? { kind: 'return' } : { kind: 'verdict', verdict: t.name as Verdict };
    return () => r;
  }
  const c = TARGETS[t.name];
  if (t.kind === 'unknown' || !c) {
    return { unknown: `target ${t.name} is neither a modelled target nor a chain of this table` };
  }
  try {
    return c(t.options, family);
  } catch (e) {
    if (e instanceof Unsupported) return { unknown: `-j ${t.name}: ${e.message}` };
    throw e;
  }
}

type Compiler = (opts: RuleOption[], family: Family) => TargetFn;

function onlyOptions(opts: RuleOption[], allowed: string[]): void {
  for (const o of opts) if (!allowed.includes(o.name)) fail(`option ${o.name} is not modelled`);
}

// ---- marks -----------------------------------------------------------------------------------

/** MARK / CONNMARK --set-xmark style operations on a 32-bit value. */
function markOp(o: RuleOption): (v: number) => number {
  switch (o.name) {
    case '--set-xmark': {
      const { value, mask } = parseMarkMask(one(o), o.name);
      return (v) => ((v & ~mask) ^ value) >>> 0;
    }
    case '--set-mark': {
      const { value, mask } = parseMarkMask(one(o), o.name);
      return (v) => ((v & ~mask) | value) >>> 0;
    }
    case '--and-mark': {
      const m = parseNum(one(o), o.name);
      return (v) => (v & m) >>> 0;
    }
    case '--or-mark': {
      const m = parseNum(one(o), o.name);
      return (v) => (v | m) >>> 0;
    }
    case '--xor-mark': {
      const m = parseNum(one(o), o.name);
      return (v) => (v ^ m) >>> 0;
    }
    default:
      return fail(`option ${o.name} is not modelled`);
  }
}

const MARK: Compiler = (opts) => {
  const ops = opts.map(markOp);
  return (s) => {
    for (const op of ops) s.mark = op(s.mark);
    return CONTINUE;
  };
};

const tracked = (s: State) => s.ct.state !== 'INVALID' && s.ct.state !== 'UNTRACKED';

const CONNMARK: Compiler = (opts) => {
  const get = (n: string) => opts.find((o) => o.name === n);
  const nfmaskO = get('--nfmask') ?? get('--mask');
  const ctmaskO = get('--ctmask') ?? get('--mask');
  const nfmask = nfmaskO ? parseNum(one(nfmaskO), '--nfmask') >>> 0 : 0xffffffff;
  const ctmask = ctmaskO ? parseNum(one(ctmaskO), '--ctmask') >>> 0 : 0xffffffff;
  const ops: ((s: State) => void)[] = [];
  for (const o of opts) {
    if (o.name === '--save-mark') ops.push((s) => (s.ct.mark = ((s.ct.mark & ~ctmask) ^ (s.mark & nfmask)) >>> 0));
    else if (o.name === '--restore-mark') ops.push((s) => (s.mark = ((s.mark & ~nfmask) ^ (s.ct.mark & ctmask)) >>> 0));
    else if (['--nfmask', '--ctmask', '--mask'].includes(o.name)) continue;
    else {
      const op = markOp(o);
      ops.push((s) => (s.ct.mark = op(s.ct.mark)));
    }
  }
  return (s) => {
    // Without a conntrack entry CONNMARK does nothing.
    if (tracked(s)) for (const op of ops) op(s);
    return CONTINUE;
  };
};

// ---- NAT -------------------------------------------------------------------------------------

interface NatRange {
  lo?: string;
  hi?: string;
  portLo?: number;
  portHi?: number;
}

/** `a[-b][:p[-q]]`, `[v6[-v6]][:p[-q]]`, `:p[-q]`, as DNAT/SNAT write them. */
export function parseNatRange(text: string, family: Family): NatRange {
  let addr = text;
  let ports: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) fail(`bad address range ${text}`);
    addr = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) fail(`bad range ${text}`);
      ports = rest.slice(1);
    }
  } else if (family === 4) {
    const colon = text.indexOf(':');
    if (colon >= 0) {
      addr = text.slice(0, colon);
      ports = text.slice(colon + 1);
    }
  }
  const r: NatRange = {};
  if (addr !== '') {
    const [a, b] = addr.split(/-(?=[0-9a-fA-F:.]+$)/);
    const ipa = parseIP(a);
    const ipb = b === undefined ? ipa : parseIP(b);
    if (!ipa || ipa.family !== family || !ipb || ipb.family !== family) fail(`bad address range ${addr}`);
    r.lo = formatIP(ipa!);
    r.hi = formatIP(ipb!);
  }
  if (ports !== undefined) {
    const [p, q] = ports.split('-');
    r.portLo = parseNum(p, 'port');
    r.portHi = q === undefined ? r.portLo : parseNum(q, 'port');
  }
  return r;
}

function natTarget(kind: 'DNAT' | 'SNAT'): Compiler {
  return (opts, family) => {
    onlyOptions(opts, [kind === 'DNAT' ? '--to-destination' : '--to-source', '--random', '--random-fully', '--persistent']);
    const ranges = opts.filter((o) => o.name.startsWith('--to-')).map((o) => ({ text: one(o), r: parseNatRange(one(o), family) }));
    const random = opts.some((o) => o.name === '--random' || o.name === '--random-fully');
    return (s, _env, where) => {
      const before = tupleOf(s);
      let range: string | undefined;
      if (ranges.length) {
        // The kernel picks within the range (hash of the tuple, or random); the trace takes the
        // first address/port and reports the range.
        const { r, text } = ranges[0];
        const port = r.portLo;
        if (kind === 'DNAT') setDst(s, r.lo ?? s.pkt.dst, port);
        else setSrc(s, r.lo ?? s.pkt.src, port);
        if (r.lo !== r.hi || r.portLo !== r.portHi || ranges.length > 1 || random) {
          range = ranges.map((x) => x.text).join(' ') + (random ? ' (random)' : '');
        } else if (text) range = undefined;
      }
      recordNat(s, kind, where, before, range);
      return ACCEPT;
    };
  };
}

function tupleOf(s: State) {
  return { src: s.pkt.src, dst: s.pkt.dst, sport: s.pkt.sport, dport: s.pkt.dport };
}

export function recordNat(s: State, kind: NatRewrite['kind'], where: { chain: string; rule: number }, before: NatRewrite['before'], range?: string) {
  const after = tupleOf(s);
  // The reply tuple follows the rewrite: a reply comes from the new destination to the new source.
  if ((after.dst !== before.dst && !sameIP(after.dst, before.dst)) || after.dport !== before.dport) {
    s.ct.reply.src = after.dst;
    s.ct.reply.sport = after.dport;
  }
  if ((after.src !== before.src && !sameIP(after.src, before.src)) || after.sport !== before.sport) {
    s.ct.reply.dst = after.src;
    s.ct.reply.dport = after.sport;
  }
  s.nat.push({ kind, hook: s.hook, chain: where.chain, rule: where.rule, before, after, ...(range ? { range } : {}) });
}

function portsOption(opts: RuleOption[]): { lo: number; hi: number } | undefined {
  const o = opts.find((x) => x.name === '--to-ports' || x.name === '--to-port');
  if (!o) return undefined;
  const [a, b] = one(o).split('-');
  const lo = parseNum(a, 'port');
  return { lo, hi: b === undefined ? lo : parseNum(b, 'port') };
}

const MASQUERADE: Compiler = (opts, family) => {
  onlyOptions(opts, ['--to-ports', '--random', '--random-fully']);
  const ports = portsOption(opts);
  return (s, env, where) => {
    const before = tupleOf(s);
    const addr = s.pkt.oif && env.masqueradeSource ? env.masqueradeSource(s.pkt.oif, s.pkt.dst, family) : undefined;
    if (addr) setSrc(s, addr, ports?.lo);
    else s.notes.push(`MASQUERADE (${where.chain} rule ${where.rule}): the address of ${s.pkt.oif ?? 'the output interface'} is unknown; source left unchanged`);
    recordNat(s, 'MASQUERADE', where, before, ports && ports.lo !== ports.hi ? `ports ${ports.lo}-${ports.hi}` : undefined);
    return ACCEPT;
  };
};

const REDIRECT: Compiler = (opts, family) => {
  onlyOptions(opts, ['--to-ports', '--random']);
  const ports = portsOption(opts);
  return (s, env, where) => {
    const before = tupleOf(s);
    let addr: string | undefined;
    if (s.hook === 'OUTPUT') addr = family === 4 ? '127.0.0.1' : '::1';
    else if (s.pkt.iif && env.interfaceAddress) addr = env.interfaceAddress(s.pkt.iif, family);
    if (addr) setDst(s, addr, ports?.lo);
    else {
      if (ports) s.pkt.dport = ports.lo;
      s.notes.push(`REDIRECT (${where.chain} rule ${where.rule}): the address of ${s.pkt.iif ?? 'the input interface'} is unknown`);
    }
    recordNat(s, 'REDIRECT', where, before, ports && ports.lo !== ports.hi ? `ports ${ports.lo}-${ports.hi}` : undefined);
    return ACCEPT;
  };
};

const NETMAP: Compiler = (opts, family) => {
  onlyOptions(opts, ['--to']);
  const o = opts.find((x) => x.name === '--to');
  if (!o) fail('--to missing');
  const [a, l] = one(o!).split('/');
  const ip = parseIP(a);
  if (!ip || ip.family !== family) fail(`bad --to ${one(o!)}`);
  const len = l === undefined ? (family === 4 ? 32 : 128) : Number(l);
  const m = prefixMask(family, len);
  return (s, _env, where) => {
    const before = tupleOf(s);
    const dstSide = s.hook === 'PREROUTING' || s.hook === 'OUTPUT';
    const cur = dstSide ? s.dst : s.src;
    const mapped = formatIP({ family, value: (cur.value & ~m) | (ip!.value & m) });
    if (dstSide) setDst(s, mapped, undefined);
    else setSrc(s, mapped, undefined);
    recordNat(s, 'NETMAP', where, before);
    return ACCEPT;
  };
};

// ---- other targets ---------------------------------------------------------------------------

const REJECT: Compiler = (opts, family) => {
  onlyOptions(opts, ['--reject-with']);
  const o = opts.find((x) => x.name === '--reject-with');
  const r: TargetResult = { kind: 'verdict', verdict: 'REJECT', rejectWith: o ? one(o) : family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable' };
  return () => r;
};

const CT: Compiler = (opts) => {
  const notrack = opts.some((o) => o.name === '--notrack');
  const helper = opts.find((o) => o.name === '--helper');
  return (s) => {
    if (notrack) untrack(s);
    else if (helper) s.ct.helper = one(helper);
    return CONTINUE;
  };
};

function untrack(s: State): void {
  s.ct.state = 'UNTRACKED';
  s.ct.status = [];
}

const TPROXY: Compiler = (opts, family) => {
  onlyOptions(opts, ['--on-port', '--on-ip', '--tproxy-mark']);
  const markO = opts.find((o) => o.name === '--tproxy-mark');
  const mm = markO ? parseMarkMask(one(markO), '--tproxy-mark') : undefined;
  const port = opts.find((o) => o.name === '--on-port');
  const ip = opts.find((o) => o.name === '--on-ip');
  return (s) => {
    if (mm) s.mark = ((s.mark & ~mm.mask) ^ mm.value) >>> 0;
    s.notes.push(`TPROXY: delivered to the local socket ${ip ? one(ip) : family === 4 ? '0.0.0.0' : '::'}:${port ? one(port) : s.pkt.dport} if one listens (else the kernel drops it)`);
    return ACCEPT;
  };
};

const TOS: Compiler = (opts) => {
  const ops = opts.map((o): ((t: number) => number) => {
    switch (o.name) {
      case '--set-tos': {
        const { value, mask } = parseTos(one(o));
        return (t) => (t & ~mask & 0xff) ^ value;
      }
      case '--and-tos': { const m = parseNum(one(o), o.name); return (t) => t & m; }
      case '--or-tos': { const m = parseNum(one(o), o.name); return (t) => t | m; }
      case '--xor-tos': { const m = parseNum(one(o), o.name); return (t) => t ^ m; }
      default: return fail(`option ${o.name} is not modelled`);
    }
  });
  return (s) => {
    for (const op of ops) s.pkt.tos = op(s.pkt.tos ?? 0) & 0xff;
    return CONTINUE;
  };
};

const DSCP: Compiler = (opts) => {
  onlyOptions(opts, ['--set-dscp', '--set-dscp-class']);
  const o = opts[0];
  if (!o) fail('--set-dscp missing');
  const v = o.name === '--set-dscp' ? parseNum(one(o), o.name) : dscpClass(one(o));
  return (s) => {
    s.pkt.tos = (((s.pkt.tos ?? 0) & 3) | (v << 2)) & 0xff;
    return CONTINUE;
  };
};

function ttlTarget(p: 'ttl' | 'hl'): Compiler {
  return (opts) => {
    const o = opts[0];
    if (!o || opts.length !== 1) fail(`exactly one --${p}-set/--${p}-inc/--${p}-dec expected`);
    const v = parseNum(one(o), o.name);
    return (s) => {
      const t = s.pkt.ttl ?? 64;
      if (o.name === `--${p}-set`) s.pkt.ttl = v;
      else if (o.name === `--${p}-inc`) s.pkt.ttl = Math.min(255, t + v);
      else if (o.name === `--${p}-dec`) s.pkt.ttl = Math.max(0, t - v);
      else fail(`option ${o.name} is not modelled`);
      return CONTINUE;
    };
  };
}

const continues: Compiler = () => () => CONTINUE;

const TARGETS: Record<string, Compiler> = {
  REJECT,
  DNAT: natTarget('DNAT'),
  SNAT: natTarget('SNAT'),
  MASQUERADE,
  REDIRECT,
  NETMAP,
  MARK,
  CONNMARK,
  LOG: continues,
  NFLOG: continues,
  ULOG: continues,
  TRACE: continues,
  AUDIT: continues,
  CHECKSUM: continues,
  TCPMSS: continues,
  CLASSIFY: continues,
  CT,
  NOTRACK: () => (s) => {
    untrack(s);
    return CONTINUE;
  },
  TPROXY,
  NFQUEUE: () => () => ({ kind: 'verdict', verdict: 'QUEUE' }),
  TOS,
  DSCP,
  TTL: ttlTarget('ttl'),
  HL: ttlTarget('hl'),
};

export const MODELLED_TARGETS: ReadonlySet<string> = new Set(Object.keys(TARGETS));
