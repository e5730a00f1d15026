// Native nftables base chains as stages of a netfilter hook, next to the iptables tables: which
// chains are native (not the tables iptables-nft made for iptables rules, which the iptables
// simulation covers from iptables-save), and one native base chain run on a trace's packet — the
// iptables trace state handed to the nftables simulator and its outcomes written back (NAT, marks,
// conntrack, verdict, evidence), so that later stages of either kind see what this one did.
import type { Family } from '../ip';
import type { Ruleset } from '../iptables/model';
import type { CtState as NftCtState, NftPacket } from '../nftables/expr';
import { formatChain, formatRule, ruleWhere } from '../nftables/format';
import type { NftChain, NftRule, NftRuleset } from '../nftables/model';
import { runChains, startOutcome, type NftEnv, type NftHook, type NftOutcome } from '../nftables/simulate';
import type { CtState, Hook, NatRewrite, NetfilterEnv, NotUnderstood, TraceStep } from './packet';
import { protoName, setDst, setSrc } from './state';
import { recordNat } from './targets';
import { cloneRun, type Run } from './trace';

export const NFT_HOOK: Record<Hook, NftHook> = {
  PREROUTING: 'prerouting', INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output', POSTROUTING: 'postrouting',
};

/**
 * Is this nftables base chain one iptables-nft made, so that iptables-save already shows its rules?
 * A chain of an ip/ip6 table the family's iptables-nft dump lists with that built-in chain, or of a
 * table iptables-nft-save could not print whole (reported on its own as incomplete).
 */
export function ownedByIptables(c: NftChain, iptables: readonly Ruleset[]): boolean {
  const family: Family | undefined = c.family === 'ip' ? 4 : c.family === 'ip6' ? 6 : undefined;
  if (!family) return false;
  return iptables.some(
    (rs) =>
      rs.family === family &&
      rs.backend !== 'legacy' &&
      (rs.incompleteTables?.includes(c.table) || rs.tables.some((t) => t.name === c.table && t.chainsByName.get(c.name)?.builtin === true)),
  );
}

/** A base chain's place, `table inet guard chain gate (hook forward priority 0)`. */
export function nativeChainWhere(c: NftChain): string {
  return `table ${c.family} ${c.table} chain ${c.name} (hook ${c.base?.hook} priority ${c.base?.prio})`;
}

/**
 * A port the trace does not know (a client's ephemeral source port, and the reply's destination
 * port): it matches no port a rule names, as in the iptables simulation (`--sport 22` does not
 * match, `! --sport 22` does).
 */
const UNKNOWN_PORT = -1;

const NFT_CT: Record<CtState, NftCtState> = { NEW: 'new', ESTABLISHED: 'established', RELATED: 'related', INVALID: 'invalid', UNTRACKED: 'untracked' };

function toNftPacket(run: Run): NftPacket {
  const s = run.state;
  const p = s.pkt;
  const proto = protoName(s.proto);
  // A connection's first TCP packet is its SYN; any later one carries ACK.
  const tcpFlags = p.tcpFlags ?? (proto === 'tcp' ? (s.ct.state === 'NEW' ? ['syn'] : ['ack']) : undefined);
  const out: NftPacket = { family: p.family, src: p.src, dst: p.dst, proto, mark: s.mark, ct: { state: NFT_CT[s.ct.state], mark: s.ct.mark } };
  const ports = proto === 'tcp' || proto === 'udp' || proto === 'sctp';
  if (p.sport !== undefined || ports) out.sport = p.sport ?? UNKNOWN_PORT;
  if (p.dport !== undefined || ports) out.dport = p.dport ?? UNKNOWN_PORT;
  if (tcpFlags) out.tcpFlags = tcpFlags;
  if (p.icmpType !== undefined) out.icmpType = p.icmpType;
  if (p.icmpCode !== undefined) out.icmpCode = p.icmpCode;
  if (p.iif !== undefined) out.iif = p.iif;
  if (p.oif !== undefined) out.oif = p.oif;
  return out;
}

const NAT_KIND: Record<string, NatRewrite['kind']> = { dnat: 'DNAT', snat: 'SNAT', masquerade: 'MASQUERADE', redirect: 'REDIRECT' };

/** The NAT statement of a rule, if it has one. */
function natKindOf(r: NftRule): NatRewrite['kind'] | undefined {
  for (const e of r.expr) {
    if (e && typeof e === 'object' && !Array.isArray(e)) {
      const k = Object.keys(e)[0];
      if (NAT_KIND[k]) return NAT_KIND[k];
    }
  }
  return undefined;
}

function lastStatement(r: NftRule): string {
  const e = r.expr[r.expr.length - 1];
  return e && typeof e === 'object' && !Array.isArray(e) ? Object.keys(e)[0] ?? '' : '';
}

/**
 * Every way the packet of `run` can leave one native base chain at `hook` (`ingress` is reported
 * as PREROUTING, which it precedes, `egress` as POSTROUTING, which it follows): each a run of its
 * own, with the rewrites, the rules met as steps, and a drop or reject as the run's verdict.
 * Elements the simulator does not model take the way `assume` gives (keys prefixed `nft `) and
 * are listed in the run's notUnderstood.
 */
export function runNativeChain(
  nft: NftRuleset,
  chain: NftChain,
  hook: Hook | 'ingress' | 'egress',
  run: Run,
  env: NetfilterEnv,
  assume?: (key: string) => boolean | undefined,
): Run[] {
  const s0 = run.state;
  const pkt = toNftPacket(run);
  // The egress hook is given the device as output only (nf_hook_egress): iifname matches nothing there.
  if (hook === 'egress') delete pkt.iif;
  const st = startOutcome(pkt);
  st.nat = { dst: s0.ct.natDst, src: s0.ct.natSrc };
  const nenv: NftEnv = {
    masqueradeSource: (oif) => env.masqueradeSource?.(oif, s0.pkt.dst, s0.pkt.family),
    interfaceAddress: (iface) => env.interfaceAddress?.(iface, s0.pkt.family),
    addressType: env.addressType && ((addr, family, dev) => (env.localTable?.(family) === false ? undefined : env.addressType!(addr, family, dev))),
    fibRoute: env.fibRoute && ((q) => env.fibRoute!(q)),
    // Base chains are run one at a time; routing happens between hooks, in the caller.
    route: () => ({ kind: 'unroutable', reason: 'not routed inside a hook' }),
  };
  const nftHook: NftHook = hook === 'ingress' || hook === 'egress' ? hook : NFT_HOOK[hook];
  const outs = runChains(nft, nftHook, st, nenv, [chain], { assume: assume && ((k) => assume(`nft ${k}`)) });
  return outs.map((o) => backToRun(run, o, chain, hook === 'ingress' ? 'PREROUTING' : hook === 'egress' ? 'POSTROUTING' : hook));
}

function backToRun(run: Run, o: NftOutcome, chain: NftChain, hook: Hook): Run {
  const r = cloneRun(run);
  const s = r.state;
  s.hook = hook;
  s.table = `${chain.family} ${chain.table}`;
  r.probability *= o.probability;
  const step = (rule: NftRule, text: string): TraceStep => ({
    hook, table: `${rule.family} ${rule.table}`, chain: rule.chain, rule: rule.handle, text, effect: lastStatement(rule),
    native: `${ruleWhere(rule)} (hook ${chain.base?.hook} priority ${chain.base?.prio})`,
  });
  const steps = o.path.map((p) => step(p.rule, p.text));
  r.path.push(...steps);
  for (const m of o.met) {
    const nu: NotUnderstood = {
      hook, table: `${m.rule.family} ${m.rule.table}`, chain: m.rule.chain, rule: m.rule.handle, text: steps.find((x) => x.rule === m.rule.handle && x.chain === m.rule.chain)?.text ?? ruleWhere(m.rule),
      reason: m.reason, key: `nft ${m.key}`, assumed: m.assumed, kind: 'nftables',
    };
    if (!r.notUnderstood.some((n) => n.key === nu.key)) r.notUnderstood.push(nu);
  }
  // Rewrites: NAT (with its rule), marks, conntrack.
  const known = (port: number | undefined) => (port === UNKNOWN_PORT ? undefined : port);
  const p = { ...o.packet, sport: known(o.packet.sport), dport: known(o.packet.dport) };
  const natRule = [...o.path].reverse().find((x) => natKindOf(x.rule))?.rule;
  const nat = (kind: NatRewrite['kind'], apply: () => void) => {
    const before = { src: s.pkt.src, dst: s.pkt.dst, sport: s.pkt.sport, dport: s.pkt.dport };
    apply();
    recordNat(s, kind, { chain: chain.name, rule: natRule?.handle ?? 0 }, before, o.nat.randomPort ? 'random source port' : undefined);
    if (natRule) s.nat[s.nat.length - 1].native = formatRule(natRule);
  };
  if (o.nat.dst && !s.ct.natDst) {
    nat(natRule ? natKindOf(natRule)! : 'DNAT', () => setDst(s, p.dst, p.dport));
    s.ct.natDst = true;
  }
  if (o.nat.src && !s.ct.natSrc) {
    nat(natRule ? natKindOf(natRule)! : 'SNAT', () => setSrc(s, p.src, p.sport));
    s.ct.natSrc = true;
  }
  s.mark = p.mark;
  s.ct.mark = p.ct.mark;
  if (p.ct.state === 'untracked') s.ct.state = 'UNTRACKED';
  if (o.verdict !== 'accept') {
    r.verdict = o.verdict === 'drop' ? 'DROP' : 'REJECT';
    if (o.reject) r.rejectWith = [o.reject.type, o.reject.expr].filter((x) => x !== undefined).join(' ') || undefined;
    const rule = o.path.find((x) => x.text === o.decidedBy);
    r.decidedBy = rule
      ? steps[o.path.indexOf(rule)]
      : {
          hook, table: `${chain.family} ${chain.table}`, chain: chain.name, rule: 0, text: formatChain(chain), effect: `POLICY ${chain.base?.policy.toUpperCase()}`,
          native: nativeChainWhere(chain),
        };
  }
  return r;
}
