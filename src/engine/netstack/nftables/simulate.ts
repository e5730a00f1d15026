// One packet through native nftables: the base chains of a hook in the kernel's order, each rule's
// statements in turn, jump/goto/return, policies, verdict maps, NAT. Where the packet's fields do
// not decide (numgen, limit) every way is followed, each with its probability; where an expression
// is not modelled both ways are followed and the outcome names the rule as undecided.
import type { UndecidedElement } from '../../model/suspicion';
import { isObj, type Json, type NftChain, type NftRule, type NftRuleset } from './model';
import { formatRule, ruleWhere, formatChain } from './format';
import { Fork, NotModelled, elementsOf, field, intValue, lookup, matches, NoField, type EvalContext, type FibQuery, type NftPacket } from './expr';

export type NftHook = 'ingress' | 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'egress';
export type NftVerdict = 'accept' | 'drop' | 'reject';

export interface NftEnv {
  /** The address masquerade picks on the way out of `oif`. */
  masqueradeSource(oif: string): string | undefined;
  /** The primary address of an interface (redirect's destination). */
  interfaceAddress(iface: string): string | undefined;
  route(p: NftPacket): { kind: 'local' } | { kind: 'forward'; oif: string } | { kind: 'unroutable'; reason: string };
  /** `fib … type` (see EvalContext.addressType); without it fib is evaluated both ways. */
  addressType?(addr: string, family: 4 | 6, dev?: string): string | undefined;
  /** `fib … oif` (see EvalContext.fibRoute); without it fib is evaluated both ways. */
  fibRoute?(q: FibQuery): string[] | undefined;
}

/** A rule the packet matched (every match passed), as evidence. */
export interface NftStep {
  hook: NftHook;
  rule: NftRule;
  /** The rule as nft prints it, with table, chain and handle. */
  text: string;
}

export interface NftOutcome {
  verdict: NftVerdict;
  packet: NftPacket;
  probability: number;
  path: NftStep[];
  /** Rules whose `counter` the packet reached, `family table chain handle`, once per pass. */
  counted: string[];
  /** The choices taken (numgen values, limit sides, undecided ways), in order. */
  branches: string[];
  undecided: UndecidedElement[];
  /** What decided a drop/reject: the rule, or the base chain whose policy it was. */
  decidedBy?: string;
  reject?: { type?: string; expr?: string };
  /** NAT bindings made, per manip type. */
  nat: { dst?: boolean; src?: boolean; /** `random`/`fully-random`: the kernel picks the source port. */ randomPort?: boolean };
  /** Where a forwarded or local packet went after routing. */
  route?: ReturnType<NftEnv['route']>;
  /** Elements not modelled that the packet met, and the way taken at each (see NftRunOptions.assume). */
  met: NftUnknown[];
}

/** An element the simulator does not model, met by the packet: a statement, or a jump the dump cannot resolve. */
export interface NftUnknown {
  /** Names the element for NftRunOptions.assume. */
  key: string;
  rule: NftRule;
  reason: string;
  /** The way taken: true = it matched and took effect. */
  assumed: boolean;
}

export interface NftRunOptions {
  /**
   * The way to take at an element not modelled, by NftUnknown.key (undefined: the default way,
   * not matching). Without it every such element forks the outcome both ways.
   */
  assume?: (key: string) => boolean | undefined;
}

export const counterKey = (r: NftRule) => `${r.family} ${r.table} ${r.chain} ${r.handle}`;

type Action =
  | { kind: 'next' }
  | { kind: 'verdict'; verdict: NftVerdict | 'return' | 'continue'; reject?: NftOutcome['reject'] }
  | { kind: 'jump' | 'goto'; target: string };

const clone = (o: NftOutcome): NftOutcome => ({
  ...o, packet: { ...o.packet, ct: { ...o.packet.ct } }, path: [...o.path], counted: [...o.counted],
  branches: [...o.branches], undecided: [...o.undecided], nat: { ...o.nat }, met: [...o.met],
});

/** A statement that takes the packet away (NF_STOLEN: `fwd` to another device): followed both ways, matching ends the packet's way here. */
class Stolen extends NotModelled {}

const NAT_PRIO: Partial<Record<NftHook, number>> = { prerouting: -100, output: -100, input: 100, postrouting: 100 };
const CONNTRACK_PRIO = -200;

function verdictOf(v: Json): Action | undefined {
  if (!isObj(v)) return undefined;
  if ('accept' in v) return { kind: 'verdict', verdict: 'accept' };
  if ('drop' in v) return { kind: 'verdict', verdict: 'drop' };
  if ('return' in v) return { kind: 'verdict', verdict: 'return' };
  if ('continue' in v) return { kind: 'verdict', verdict: 'continue' };
  if (isObj(v.jump)) return { kind: 'jump', target: String(v.jump.target) };
  if (isObj(v.goto)) return { kind: 'goto', target: String(v.goto.target) };
  return undefined;
}

/** Address (and port) a NAT statement writes; `addr` may be a map keyed by packet fields. */
function natTarget(o: { [k: string]: Json }, p: NftPacket, cx: EvalContext): { addr?: string; port?: number } | 'break' {
  const out: { addr?: string; port?: number } = {};
  const single = (v: Json, what: string): Json => {
    if (isObj(v) && isObj(v.map)) {
      const els = elementsOf(v.map.data ?? null, cx);
      if (!els) throw new NotModelled(`${what} map ${JSON.stringify(v.map.data)}`);
      let key;
      try {
        key = field(v.map.key ?? null, p, cx);
      } catch (e) {
        if (e instanceof NoField) return null;
        throw e;
      }
      const hit = lookup(els, key);
      return hit?.data ?? null;
    }
    return v;
  };
  if (o.addr !== undefined) {
    const a = single(o.addr, 'address');
    if (a === null) return 'break';
    if (isObj(a) && Array.isArray(a.concat) && a.concat.length === 2 && typeof a.concat[0] === 'string' && typeof a.concat[1] === 'number') {
      out.addr = a.concat[0];
      out.port = a.concat[1];
    } else if (typeof a === 'string') out.addr = a;
    else throw new NotModelled(`NAT address ${JSON.stringify(a)}`);
  }
  if (o.port !== undefined) {
    const pt = single(o.port, 'port');
    if (pt === null) return 'break';
    if (typeof pt !== 'number') throw new NotModelled(`NAT port ${JSON.stringify(pt)}`);
    out.port = pt;
  }
  return out;
}

interface RuleRun {
  st: NftOutcome;
  action: Action;
  matched: boolean;
}

/** One rule, statements in order, with the choices given; throws Fork for a choice not made yet. */
function evalRule(rs: NftRuleset, chain: NftChain, rule: NftRule, hook: NftHook, st: NftOutcome, env: NftEnv, choices: Map<string, number>, tracked: boolean): RuleRun {
  const p = st.packet;
  const t = rs.tables.find((x) => x.family === rule.family && x.name === rule.table);
  for (let i = 0; i < rule.expr.length; i++) {
    const e = rule.expr[i];
    const cx: EvalContext = {
      set: (n) => t?.sets.get(n),
      tracked,
      at: `${counterKey(rule)}#${i}`,
      hook,
      addressType: env.addressType && ((addr, family, dev) => env.addressType!(addr, family, dev)),
      fibRoute: env.fibRoute && ((q) => env.fibRoute!(q)),
      choice: (key, options) => {
        const c = choices.get(key);
        if (c === undefined) throw new Fork(key, options);
        return c;
      },
    };
    const unknownKey = `${cx.at}/undecided`;
    try {
      if (!isObj(e) || Object.keys(e).length !== 1) throw new NotModelled(`statement ${JSON.stringify(e)}`);
      const [k] = Object.keys(e);
      const a = e[k];
      const o = isObj(a) ? a : {};
      switch (k) {
        case 'match':
          if (!matches(o.left ?? null, String(o.op), o.right ?? null, p, cx)) return { st, action: { kind: 'next' }, matched: false };
          break;
        case 'counter':
          st.counted.push(counterKey(rule));
          break;
        case 'log':
          break;
        case 'notrack':
          // Only before conntrack (priority < -200) is there no entry yet to leave out.
          if (!tracked && hook !== 'ingress') p.ct.state = 'untracked';
          break;
        case 'limit': {
          const over = cx.choice(`${cx.at}/limit`, [
            { value: 0, label: `limit within rate (${formatRule(rule)})` },
            { value: 1, label: `limit over rate (${formatRule(rule)})` },
          ]);
          // `limit rate N` passes within the rate; `limit rate over N` passes beyond it.
          if ((over === 1) !== (o.inv === true)) return { st, action: { kind: 'next' }, matched: false };
          break;
        }
        case 'accept': case 'drop': case 'return': case 'continue': case 'jump': case 'goto':
          return { st, action: verdictOf(e)!, matched: true };
        case 'reject':
          return { st, action: { kind: 'verdict', verdict: 'reject', reject: { type: o.type === undefined ? undefined : String(o.type), expr: o.expr === undefined ? undefined : String(o.expr) } }, matched: true };
        case 'vmap': {
          let key;
          try {
            key = field(o.key ?? null, p, cx);
          } catch (err) {
            if (err instanceof NoField) return { st, action: { kind: 'next' }, matched: false };
            throw err;
          }
          const els = elementsOf(o.data ?? null, cx);
          if (!els) throw new NotModelled(`verdict map ${JSON.stringify(o.data)}`);
          const hit = lookup(els, key);
          const v = hit?.data !== undefined ? verdictOf(hit.data) : undefined;
          if (!v) return { st, action: { kind: 'next' }, matched: false };
          return { st, action: v, matched: true };
        }
        case 'mangle': {
          if (p.bridge !== undefined) throw new NotModelled('a change made in a bridge-family chain');
          const key = isObj(o.key) ? o.key : {};
          let v: number;
          try {
            v = intValue(o.value ?? null, p, cx);
          } catch (err) {
            if (err instanceof NoField) return { st, action: { kind: 'next' }, matched: false };
            throw err;
          }
          if (isObj(key.meta) && key.meta.key === 'mark') p.mark = v;
          else if (isObj(key.ct) && key.ct.key === 'mark' && key.ct.dir === undefined) {
            if (tracked && p.ct.state !== 'untracked') p.ct.mark = v;
          } else throw new NotModelled(`${JSON.stringify(o.key)} set`);
          break;
        }
        case 'dnat': case 'snat': case 'masquerade': case 'redirect': {
          if (p.bridge !== undefined) throw new NotModelled(`${k} in a bridge-family chain`);
          if (chain.base?.type !== 'nat' && !isNatChainCalled(rs, chain)) throw new NotModelled(`${k} outside a nat chain`);
          const flags = Array.isArray(o.flags) ? o.flags.map(String) : o.flags !== undefined ? [String(o.flags)] : [];
          if (flags.some((f) => f !== 'random' && f !== 'fully-random' && f !== 'persistent') || (flags.length && k !== 'masquerade' && k !== 'snat')) throw new NotModelled(`${k} ${flags.join(',')}`);
          if (flags.includes('random') || flags.includes('fully-random')) st.nat.randomPort = true;
          if (k === 'masquerade') {
            const src = p.oif !== undefined ? env.masqueradeSource(p.oif) : undefined;
            if (!src) throw new NotModelled(`masquerade without an address on ${JSON.stringify(p.oif ?? '')}`);
            p.src = src;
            if (o.port !== undefined) throw new NotModelled('masquerade to a port');
            st.nat.src = true;
          } else if (k === 'redirect') {
            const dst = hook === 'output' ? (p.family === 4 ? '127.0.0.1' : '::1') : p.iif !== undefined ? env.interfaceAddress(p.iif) : undefined;
            if (!dst) throw new NotModelled(`redirect without an address on ${JSON.stringify(p.iif ?? '')}`);
            const to = natTarget(o, p, cx);
            if (to === 'break') return { st, action: { kind: 'next' }, matched: false };
            p.dst = dst;
            if (to.port !== undefined) p.dport = to.port;
            st.nat.dst = true;
          } else {
            const to = natTarget(o, p, cx);
            if (to === 'break') return { st, action: { kind: 'next' }, matched: false };
            if (k === 'dnat') {
              if (to.addr !== undefined) p.dst = to.addr;
              if (to.port !== undefined) p.dport = to.port;
              st.nat.dst = true;
            } else {
              if (to.addr !== undefined) p.src = to.addr;
              if (to.port !== undefined) p.sport = to.port;
              st.nat.src = true;
            }
          }
          // A NAT statement sets up the connection's binding and ends the chain with accept.
          return { st, action: { kind: 'verdict', verdict: 'accept' }, matched: true };
        }
        case 'fwd':
          throw new Stolen(`fwd ${JSON.stringify(o.dev ?? null)}: the packet is taken to another device, where netpath does not follow it`);
        default:
          throw new NotModelled(`statement ${k} is not modelled`);
      }
    } catch (err) {
      if (!(err instanceof NotModelled)) throw err;
      // Not modelled: one way it does not match (the rule ends here), the other it does and the
      // rule goes on. Both are followed; the outcome names the rule.
      const way = choices.get(unknownKey);
      if (way === undefined) throw new Fork(unknownKey, [
        { value: 0, label: `assumed not matching: ${formatRule(rule)}` },
        { value: 1, label: `assumed matching: ${formatRule(rule)}` },
      ]);
      if (!st.undecided.some((u) => u.where === ruleWhere(rule))) st.undecided.push({ where: ruleWhere(rule), reason: err.message });
      st.met.push({ key: unknownKey, rule, reason: err.message, assumed: way === 1 });
      if (way === 0) return { st, action: { kind: 'next' }, matched: false };
      // Taken away, the packet does not go on here: the other way ends it (as a drop would, for this path).
      if (err instanceof Stolen) return { st, action: { kind: 'verdict', verdict: 'drop' }, matched: true };
    }
  }
  return { st, action: { kind: 'next' }, matched: true };
}

/** Regular chains called from nat base chains run as nat: NAT statements are allowed in them. */
function isNatChainCalled(rs: NftRuleset, chain: NftChain): boolean {
  const t = rs.tables.find((x) => x.family === chain.family && x.name === chain.table);
  return !!t && [...t.chains.values()].some((c) => c.base?.type === 'nat');
}

/** Every way one rule can go: evaluation rerun with each choice until none is left open. */
function ruleRuns(rs: NftRuleset, chain: NftChain, rule: NftRule, hook: NftHook, st: NftOutcome, env: NftEnv, tracked: boolean, opts: NftRunOptions): RuleRun[] {
  const out: RuleRun[] = [];
  const todo: { choices: Map<string, number>; prob: number; labels: string[] }[] = [{ choices: new Map(), prob: 1, labels: [] }];
  while (todo.length) {
    const c = todo.pop()!;
    const s = clone(st);
    try {
      const r = evalRule(rs, chain, rule, hook, s, env, c.choices, tracked);
      r.st.probability *= c.prob;
      r.st.branches.push(...c.labels);
      out.push(r);
    } catch (err) {
      if (!(err instanceof Fork)) throw err;
      const undecided = err.key.endsWith('/undecided');
      if (undecided && opts.assume) {
        // One way per run: the caller enumerates the combinations (netfilter/undecided.ts).
        const way = opts.assume(err.key) ? 1 : 0;
        todo.push({ choices: new Map(c.choices).set(err.key, way), prob: c.prob, labels: [...c.labels, err.options.find((o) => o.value === way)!.label] });
        continue;
      }
      for (const opt of [...err.options].reverse()) {
        todo.push({
          choices: new Map(c.choices).set(err.key, opt.value),
          // An undecided way has no known probability: each is followed as certain.
          prob: undecided ? c.prob : c.prob / err.options.length,
          labels: [...c.labels, opt.label],
        });
      }
    }
  }
  return out;
}

interface ChainEnd {
  st: NftOutcome;
  verdict: NftVerdict;
}

const MAX_DEPTH = 64;

/** A base chain from its first rule: every way it can end (policy included). */
function runBaseChain(rs: NftRuleset, base: NftChain, hook: NftHook, st0: NftOutcome, env: NftEnv, opts: NftRunOptions): ChainEnd[] {
  // Conntrack runs at −200 (registered before any chain, so a chain at −200 comes after it).
  // At egress (after POSTROUTING) conntrack has long run, whatever the chain's priority.
  const tracked = hook === 'egress' || (hook !== 'ingress' && (base.base?.prio ?? 0) >= CONNTRACK_PRIO);
  const ends: ChainEnd[] = [];
  const table = rs.tables.find((x) => x.family === base.family && x.name === base.table)!;
  const walk = (st: NftOutcome, chain: NftChain, ri: number, stack: { chain: NftChain; rule: number }[]): void => {
    for (;;) {
      if (ri >= chain.rules.length) {
        // End of a regular chain returns; end of the base chain applies its policy.
        const top = stack[stack.length - 1];
        if (!top) {
          const policy = base.base?.policy ?? 'accept';
          if (policy === 'drop') st.decidedBy = `policy drop of ${formatChain(base)}`;
          ends.push({ st, verdict: policy });
          return;
        }
        stack = stack.slice(0, -1);
        chain = top.chain;
        ri = top.rule;
        continue;
      }
      const rule = chain.rules[ri];
      const runs = ruleRuns(rs, chain, rule, hook, st, env, tracked, opts);
      for (const r of runs) {
        if (r.matched) r.st.path.push({ hook, rule, text: formatRule(rule) });
      }
      const go = (r: RuleRun): void => {
        const a = r.action;
        if (a.kind === 'next' || (a.kind === 'verdict' && a.verdict === 'continue')) return walk(r.st, chain, ri + 1, stack);
        if (a.kind !== 'verdict') {
          const target = table.chains.get(a.target);
          if (!target || stack.length >= MAX_DEPTH) {
            // nft refuses both (a missing chain, a loop), so only a damaged dump has them: the
            // chain's outcome is unknown, and said to be.
            const reason = !target ? `${a.kind} to ${JSON.stringify(a.target)}, a chain the dump does not have` : `${a.kind} deeper than ${MAX_DEPTH} chains`;
            const key = `${counterKey(rule)}/target`;
            const ways = opts.assume ? [opts.assume(key) ? ('drop' as const) : ('accept' as const)] : (['accept', 'drop'] as const);
            for (const verdict of ways) {
              const s = clone(r.st);
              s.undecided.push({ where: ruleWhere(rule), reason });
              s.met.push({ key, rule, reason, assumed: verdict === 'drop' });
              s.branches.push(`assumed ${verdict}: ${formatRule(rule)}`);
              if (verdict === 'drop') s.decidedBy = formatRule(rule);
              ends.push({ st: s, verdict });
            }
            return;
          }
          return walk(r.st, target, 0, a.kind === 'jump' ? [...stack, { chain, rule: ri + 1 }] : stack);
        }
        if (a.verdict === 'return') {
          const top = stack[stack.length - 1];
          if (!top) return walk(r.st, chain, chain.rules.length, stack);
          return walk(r.st, top.chain, top.rule, stack.slice(0, -1));
        }
        if (a.verdict !== 'accept') r.st.decidedBy = formatRule(rule);
        if (a.verdict === 'reject') r.st.reject = a.reject;
        ends.push({ st: r.st, verdict: a.verdict as NftVerdict });
      };
      if (runs.length === 1 && runs[0].action.kind === 'next') {
        st = runs[0].st;
        ri++;
        continue;
      }
      for (const r of runs) go(r);
      return;
    }
  };
  walk(st0, base, 0, []);
  return ends;
}

const FAMILIES = { 4: ['ip', 'inet'], 6: ['ip6', 'inet'] } as const;

/**
 * The base chains a packet meets at a hook, in the kernel's order: by priority, except that nat
 * chains all run inside the NAT core's hook (dstnat −100 / srcnat 100), among themselves by their
 * own priority. Of equal priorities the one added last runs first (the kernel inserts a hook before
 * the first of equal or higher priority); the dump lists tables and chains in the order added.
 */
export function chainsAtHook(rs: NftRuleset, family: 4 | 6, hook: NftHook, iif?: string): NftChain[] {
  const all: NftChain[] = [];
  for (const t of rs.tables) {
    for (const c of t.chains.values()) {
      if (!c.base || c.base.hook !== hook) continue;
      if (hook === 'ingress' ? (t.family === 'netdev' || t.family === 'inet') && iif !== undefined && c.base.devices.includes(iif) : (FAMILIES[family] as readonly string[]).includes(t.family)) all.push(c);
    }
  }
  const nat = all.filter((c) => c.base!.type === 'nat');
  // The NAT core's hook is added with the first nat chain.
  const natOrder = Math.min(...nat.map((c) => c.order));
  const key = (c: NftChain): [number, number, number] =>
    c.base!.type === 'nat' && NAT_PRIO[hook] !== undefined ? [NAT_PRIO[hook]!, -natOrder, c.base!.prio * 1e6 - c.order] : [c.base!.prio, -c.order, 0];
  return all.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}

/**
 * The bridge-family base chains a bridged frame meets at a bridge hook (prerouting, forward,
 * postrouting), in the kernel's order: by priority; of equal ones the one added last first.
 */
export function bridgeChainsAtHook(rs: NftRuleset, hook: BridgeHook): NftChain[] {
  const all: NftChain[] = [];
  for (const t of rs.tables) if (t.family === 'bridge') for (const c of t.chains.values()) if (c.base?.hook === hook) all.push(c);
  return all.sort((a, b) => a.base!.prio - b.base!.prio || b.order - a.order);
}

export type BridgeHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/**
 * A frame through the bridge-family chains (`p.bridge` set): from port `iif` bridged to port `oif`
 * — prerouting, forward, postrouting —, from port `iif` passed up to the host (no `oif`) —
 * prerouting, input —, or sent by the host out of port `oif` (no `iif`) — output, postrouting.
 * Every way it can end.
 */
export function traceNftBridge(rs: NftRuleset, p: NftPacket, env: NftEnv, opts: NftRunOptions = {}): NftOutcome[] {
  // At prerouting the bridge has not picked the output port yet.
  const { oif, ...arriving } = p;
  let live = [startOutcome(p.iif === undefined ? p : arriving)];
  const done: NftOutcome[] = [];
  const hooks: readonly BridgeHook[] = p.iif === undefined ? ['output', 'postrouting'] : oif === undefined ? ['prerouting', 'input'] : ['prerouting', 'forward', 'postrouting'];
  for (const hook of hooks) {
    const next: NftOutcome[] = [];
    for (const s of live) {
      if (hook !== 'prerouting' && oif !== undefined) s.packet.oif = oif;
      for (const o of runChains(rs, hook, s, env, bridgeChainsAtHook(rs, hook), opts)) (o.verdict === 'accept' ? next : done).push(o);
    }
    live = next;
  }
  return [...done, ...live];
}

/** A fresh outcome for a packet about to meet its first hook. */
export function startOutcome(p: NftPacket): NftOutcome {
  return { verdict: 'accept', packet: { ...p, ct: { ...p.ct } }, probability: 1, path: [], counted: [], branches: [], undecided: [], nat: {}, met: [] };
}

/**
 * Every way a packet (already in `st`) can leave one hook: accepted ones go on, others are final.
 * `only` limits it to some of the hook's base chains (in their order), so that a caller can put
 * other stages — iptables-legacy tables — between them by priority.
 */
export function runHook(rs: NftRuleset, hook: NftHook, st: NftOutcome, env: NftEnv, only?: (c: NftChain) => boolean, opts: NftRunOptions = {}): NftOutcome[] {
  const chains = chainsAtHook(rs, st.packet.family, hook, st.packet.iif);
  return runChains(rs, hook, st, env, only ? chains.filter(only) : chains, opts);
}

/** runHook over the given base chains of `hook`, in the order given (the caller has placed them). */
export function runChains(rs: NftRuleset, hook: NftHook, st: NftOutcome, env: NftEnv, chains: readonly NftChain[], opts: NftRunOptions = {}): NftOutcome[] {
  let live = [st];
  const done: NftOutcome[] = [];
  const manip = hook === 'prerouting' || hook === 'output' ? 'dst' : 'src';
  for (const chain of chains) {
    const next: NftOutcome[] = [];
    for (const s of live) {
      // NAT chains see only a connection's first packet, and only until one of them binds it.
      if (chain.base!.type === 'nat' && (s.packet.ct.state !== 'new' || s.nat[manip])) {
        next.push(s);
        continue;
      }
      for (const end of runBaseChain(rs, chain, hook, s, env, opts)) {
        end.st.verdict = end.verdict;
        (end.verdict === 'accept' ? next : done).push(end.st);
      }
    }
    live = next;
  }
  return [...done, ...live];
}

/**
 * A packet arriving on `iif` through ingress, prerouting, routing, then input (local) or forward
 * and postrouting: every way it can end, with its probability.
 */
export function traceNftReceive(rs: NftRuleset, p: NftPacket, env: NftEnv): NftOutcome[] {
  const out: NftOutcome[] = [];
  const go = (hook: NftHook, sts: NftOutcome[], then: (s: NftOutcome) => void) => {
    for (const s of sts) for (const r of runHook(rs, hook, s, env)) (r.verdict === 'accept' ? then(r) : out.push(r));
  };
  go('ingress', [startOutcome(p)], (s1) =>
    go('prerouting', [s1], (s2) => {
      const route = env.route(s2.packet);
      s2.route = route;
      if (route.kind === 'unroutable') return void out.push(s2);
      if (route.kind === 'local') return go('input', [s2], (s3) => void out.push(s3));
      s2.packet.oif = route.oif;
      go('forward', [s2], (s3) => go('postrouting', [s3], (s4) => void out.push(s4)));
    }),
  );
  return out;
}

/**
 * Does conntrack run for this family at all? A network namespace tracks connections only once
 * something needs it — a nat chain or a rule that reads or sets `ct` (here, or iptables-nft's
 * conntrack/state matches, which nft lists as `xt`) — so with none, no packet gets an entry.
 */
export function conntrackInUse(rs: NftRuleset, family: 4 | 6): boolean {
  const fams = FAMILIES[family] as readonly string[];
  return rs.tables.some((t) =>
    fams.includes(t.family) &&
    [...t.chains.values()].some((c) => c.base?.type === 'nat' || c.rules.some((r) => /"ct":|"xt":\{[^}]*"name":"(conntrack|state|CONNMARK|connmark)"/.test(JSON.stringify(r.expr)))),
  );
}
