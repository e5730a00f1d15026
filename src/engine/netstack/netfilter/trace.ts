// Traces a packet through the netfilter tables of one hook, like the kernel: tables in priority
// order, chains with jump/goto/RETURN and policies, nat only for a connection's first packet.
// `statistic` rules fork the trace, so the result lists every possible outcome with its
// probability (kube-proxy's endpoint choice). A rule whose match or target is not modelled (and
// whose other matches did match) is reported in `notUnderstood` and taken one way: not matching,
// unless `assume` says it matches — then it takes effect, and a target the simulator cannot apply
// stops the packet. undecided.ts runs the trace once per way and compares the outcomes.
import type { Ruleset } from '../iptables/model';
import { formatChainDeclaration } from '../iptables/print';
import { compiledChain, type CompiledChain } from './compile';
import type { Branch, Hook, NetfilterEnv, NfPacket, NotUnderstood, TraceOutcome, TraceStep, Verdict } from './packet';
import { cloneState, initialState, packetOf, type State } from './state';

/** Tables registered at each hook, in the kernel's priority order (raw -300, mangle -150, nat dst -100, filter 0, security 50, nat src 100). */
export const HOOK_TABLES: Record<Hook, readonly string[]> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'security', 'nat'],
  FORWARD: ['mangle', 'filter', 'security'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter', 'security'],
  POSTROUTING: ['mangle', 'nat'],
};

export interface TraceOptions {
  /** Stop forking at statistic rules beyond this many outcomes (default 4096). */
  maxOutcomes?: number;
  /** The way to take at a not-understood rule, by its NotUnderstood.key; default: it does not match. */
  assume?: (key: string) => boolean | undefined;
}

interface Run {
  state: State;
  probability: number;
  path: TraceStep[];
  branches: Branch[];
  notUnderstood: NotUnderstood[];
  verdict?: Verdict;
  rejectWith?: string;
  decidedBy?: TraceStep;
}

interface Frame {
  cc: CompiledChain;
  /** Next position to look at (index into cc.rules). */
  pos: number;
}

const MAX_DEPTH = 128;

export function cloneRun(r: Run): Run {
  return {
    ...r,
    state: cloneState(r.state),
    path: [...r.path],
    branches: [...r.branches],
    notUnderstood: [...r.notUnderstood],
  };
}

/** Every outcome of the packet passing the netfilter hook `hook` of this rule set. */
export function traceHook(rs: Ruleset, hook: Hook, packet: NfPacket, env: NetfilterEnv, opts: TraceOptions = {}): TraceOutcome[] {
  return traceRuns(rs, hook, [{ state: initialState(packet, hook), probability: 1, path: [], branches: [], notUnderstood: [] }], env, opts).map(toOutcome);
}

export function traceRuns(rs: Ruleset, hook: Hook, runs: Run[], env: NetfilterEnv, opts: TraceOptions = {}): Run[] {
  for (const r of runs) r.state.hook = hook;
  for (const table of HOOK_TABLES[hook]) runs = traceTable(rs, hook, table, runs, env, opts);
  for (const r of runs) r.verdict ??= 'ACCEPT';
  return runs;
}

/**
 * One table's built-in chain of `hook` for every run still going. After the nat table the
 * connection's binding of that kind exists (a null binding if no rule matched) — unless
 * `nullBinding` is false: then other NAT users (native nftables nat chains) still run after it,
 * inside the same NAT core, and the caller makes the null binding after the last of them.
 */
export function traceTable(rs: Ruleset, hook: Hook, table: string, runs: Run[], env: NetfilterEnv, opts: TraceOptions = {}, nullBinding = true): Run[] {
  const max = opts.maxOutcomes ?? 4096;
  const cc = compiledChain(rs, table, hook);
  if (!cc) return runs;
  const next: Run[] = [];
  const natKind = hook === 'PREROUTING' || hook === 'OUTPUT' ? 'natDst' : 'natSrc';
  for (const run of runs) {
    if (run.verdict && run.verdict !== 'ACCEPT') {
      next.push(run);
      continue;
    }
    if (table === 'nat' && !natTableApplies(run.state, natKind)) {
      next.push(run);
      continue;
    }
    run.verdict = undefined;
    run.state.hook = hook;
    run.state.table = table;
    const natBefore = run.state.nat.length;
    const results = traceChain(rs, table, hook, cc, run, env, max - next.length, opts.assume);
    if (table === 'nat') for (const r of results) if (nullBinding || r.state.nat.length > natBefore) r.state.ct[natKind] = true;
    next.push(...results);
  }
  return next;
}

/**
 * nf_nat_inet_fn: the nat table sees NEW packets, and RELATED ones that are not ICMP errors
 * (those are translated from the connection they refer to), while the binding is not made yet.
 */
export function natTableApplies(s: State, kind: 'natDst' | 'natSrc'): boolean {
  const ct = s.ct;
  if (ct[kind]) return false;
  if (ct.state === 'NEW') return true;
  if (ct.state !== 'RELATED') return false;
  const t = s.pkt.icmpType;
  const icmpError = (s.proto === 1 && t !== undefined && [3, 4, 5, 11, 12].includes(t)) || (s.proto === 58 && t !== undefined && t >= 1 && t <= 4);
  return !icmpError;
}

export function toOutcome(r: Run): TraceOutcome {
  return {
    verdict: r.verdict ?? 'ACCEPT',
    ...(r.rejectWith ? { rejectWith: r.rejectWith } : {}),
    packet: packetOf(r.state),
    probability: r.probability,
    path: r.path,
    decidedBy: r.decidedBy,
    branches: r.branches,
    nat: r.state.nat,
    notUnderstood: r.notUnderstood,
    notes: [...new Set(r.state.notes)],
  };
}

export function newRun(packet: NfPacket, hook: Hook): Run {
  return { state: initialState(packet, hook), probability: 1, path: [], branches: [], notUnderstood: [] };
}

function nextIndex(f: Frame, dst: bigint): number {
  const rules = f.cc.rules;
  if (!f.cc.index) return f.pos < rules.length ? f.pos : -1;
  const cand = f.cc.index.candidates(dst);
  // First candidate >= pos (binary search).
  let lo = 0, hi = cand.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cand[mid] < f.pos) lo = mid + 1;
    else hi = mid;
  }
  return lo < cand.length ? cand[lo] : -1;
}

/** Walks one table's built-in chain for every run, forking at statistic rules. */
function traceChain(rs: Ruleset, table: string, hook: Hook, start: CompiledChain, run0: Run, env: NetfilterEnv, budget: number, assume?: TraceOptions['assume']): Run[] {
  const done: Run[] = [];
  const todo: { run: Run; stack: Frame[]; cur: Frame }[] = [{ run: run0, stack: [], cur: { cc: start, pos: 0 } }];
  while (todo.length) {
    const w = todo.pop()!;
    const { run } = w;
    const s = run.state;
    for (;;) {
      const i = nextIndex(w.cur, s.dst.value);
      if (i < 0) {
        // End of chain: back to the caller, or the built-in chain's policy.
        const caller = w.stack.pop();
        if (caller) {
          w.cur = caller;
          continue;
        }
        finishWithPolicy(run, table, hook, start);
        done.push(run);
        break;
      }
      w.cur.pos = i + 1;
      const cr = w.cur.cc.rules[i];
      const notesBefore = s.notes.length;
      let matched = true;
      let probability: number | undefined;
      let unknown: string | undefined;
      for (const m of cr.matches) {
        if ('unknown' in m) {
          unknown ??= m.unknown;
          continue;
        }
        const r = m(s, env);
        if (r === true) continue;
        if (r === false) {
          matched = false;
          break;
        }
        if ('unknown' in r) unknown ??= r.unknown;
        else probability = (probability ?? 1) * r.probability;
      }
      if (!matched) {
        s.notes.length = notesBefore;
        continue;
      }
      if (!unknown && cr.target && 'unknown' in cr.target) unknown = cr.target.unknown;
      const where = { hook, table, chain: w.cur.cc.chain.name, rule: cr.rule.num, text: cr.text };
      let stops = false;
      if (unknown) {
        const key = `${hook} ${table}/${where.chain}#${where.rule}`;
        const assumed = assume?.(key) ?? false;
        run.notUnderstood.push({ ...where, reason: unknown, key, assumed });
        if (!assumed) {
          s.notes.length = notesBefore;
          continue;
        }
        stops = !!cr.target && 'unknown' in cr.target;
      }
      if (probability !== undefined) {
        if (done.length + todo.length + 1 < budget) {
          const other = cloneRun(run);
          other.probability *= 1 - probability;
          other.branches.push({ table, chain: where.chain, rule: where.rule, text: where.text, matched: false, probability: 1 - probability });
          other.state.notes.length = notesBefore;
          todo.push({ run: other, stack: w.stack.map((f) => ({ ...f })), cur: { ...w.cur } });
        } else s.notes.push(`more than ${budget} outcomes: statistic branches beyond that were not enumerated`);
        run.probability *= probability;
        run.branches.push({ table, chain: where.chain, rule: where.rule, text: where.text, matched: true, probability });
      }
      const t = cr.target;
      const step: TraceStep = { hook, table, chain: where.chain, rule: where.rule, text: where.text, effect: cr.rule.target?.name ?? '' };
      run.path.push(step);
      if (stops) {
        // The other way of an element the simulator cannot apply: it stops the packet.
        run.verdict = 'DROP';
        run.decidedBy = step;
        done.push(run);
        break;
      }
      if (!t || 'unknown' in t) continue;
      const res = t(s, env, { chain: where.chain, rule: where.rule });
      if (res.kind === 'continue') continue;
      if (res.kind === 'verdict') {
        run.verdict = res.verdict;
        if (res.rejectWith) run.rejectWith = res.rejectWith;
        run.decidedBy = step;
        done.push(run);
        break;
      }
      if (res.kind === 'return') {
        const caller = w.stack.pop();
        if (caller) {
          w.cur = caller;
          continue;
        }
        finishWithPolicy(run, table, hook, start);
        done.push(run);
        break;
      }
      // jump / goto
      const target = compiledChain(rs, table, res.chain)!;
      if (w.stack.length >= MAX_DEPTH) {
        // The kernel refuses loops when rules are loaded; a dump with one is not what it runs.
        run.notUnderstood.push({ ...where, reason: `chain nesting deeper than ${MAX_DEPTH} (a loop?)`, key: `${hook} ${table}/${where.chain}#${where.rule} depth`, assumed: false });
        continue;
      }
      if (!res.goto) w.stack.push(w.cur);
      w.cur = { cc: target, pos: 0 };
    }
  }
  return done;
}

function finishWithPolicy(run: Run, table: string, hook: Hook, cc: CompiledChain): void {
  // RETURN or falling off a chain always lands in the hook's built-in chain (goto never pushes it).
  const policy = cc.chain.policy ?? 'ACCEPT';
  const step: TraceStep = { hook, table, chain: cc.chain.name, rule: 0, text: formatChainDeclaration(cc.chain).replace(/ \[\d+:\d+\]$/, ''), effect: `POLICY ${policy}` };
  run.path.push(step);
  // An accepting policy of a later table (nat INPUT after filter) does not hide the rule that decided.
  if (policy !== 'ACCEPT' || !run.decidedBy) run.decidedBy = step;
  run.verdict = policy === 'DROP' ? 'DROP' : policy === 'QUEUE' ? 'QUEUE' : 'ACCEPT';
}

export type { Run };
