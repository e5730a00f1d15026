// The kernel's full netfilter sequence for one packet in one netns: a received packet goes
// PREROUTING → routing decision → INPUT (local) or FORWARD → POSTROUTING; a locally sent one goes
// routing → OUTPUT → (re-route if a stage of OUTPUT that does so changed the packet) → POSTROUTING. Routing
// is the environment's callback (the router simulator), consulted after the rewrites so that a
// DNAT in PREROUTING decides where the packet goes, as in the kernel. At each hook the iptables
// tables and native nftables base chains run in priority order (stages.ts); a received packet
// first passes the ingress chains of its interface, one sent out passes after POSTROUTING the
// egress chains of its output interface (seeing the packet after NAT).
import type { Ruleset } from '../iptables/model';
import type { Hook, NetfilterEnv, NfPacket, RouteDecision, TraceOutcome } from './packet';
import { traceEgress, traceStages, type NetfilterRules } from './stages';
import { packetOf } from './state';
import { newRun, toOutcome, type Run, type TraceOptions } from './trace';

export interface PathOutcome extends TraceOutcome {
  /** Hooks passed, in order. */
  hooks: Hook[];
  /** The routing decision taken (after PREROUTING, or for the local send). */
  route?: RouteDecision;
  /** Where the packet ends: delivered locally, sent out of `oif`, dropped by netfilter, or unroutable. */
  fate: 'delivered' | 'sent' | 'filtered' | 'unroutable';
}

interface PathRun {
  run: Run;
  hooks: Hook[];
  route?: RouteDecision;
  fate?: PathOutcome['fate'];
}

function through(rs: NetfilterRules, hook: Hook, prs: PathRun[], env: NetfilterEnv, opts: TraceOptions, ingress?: string): PathRun[] {
  const out: PathRun[] = [];
  for (const pr of prs) {
    if (pr.fate) {
      out.push(pr);
      continue;
    }
    let runs = traceStages(rs, hook, [pr.run], env, opts, ingress);
    // Then the packet is transmitted on its output interface: the egress chains there.
    if (hook === 'POSTROUTING') runs = traceEgress(rs, runs, env, opts);
    for (const run of runs) {
      const fate = run.verdict && run.verdict !== 'ACCEPT' ? 'filtered' : undefined;
      out.push({ run, hooks: [...pr.hooks, hook], route: pr.route, fate });
    }
  }
  return out;
}

function routeEach(prs: PathRun[], env: NetfilterEnv, local: boolean): PathRun[] {
  for (const pr of prs) {
    if (pr.fate) continue;
    const pkt = packetOf(pr.run.state);
    const d: RouteDecision = env.route ? env.route(pkt) : { kind: 'unroutable', reason: 'no router in the environment' };
    pr.route = d;
    if (d.kind === 'unroutable') pr.fate = 'unroutable';
    else if (d.kind === 'forward' || d.kind === 'output') pr.run.state.pkt.oif = d.oif;
    else if (local) pr.fate = 'unroutable';
  }
  return prs;
}

function finish(prs: PathRun[], lastFate: 'delivered' | 'sent'): PathOutcome[] {
  return prs.map((pr) => ({ ...toOutcome(pr.run), hooks: pr.hooks, route: pr.route, fate: pr.fate ?? lastFate }));
}

/** A packet arriving on `packet.iif`: PREROUTING, route, then INPUT or FORWARD + POSTROUTING. */
export function traceReceive(rules: Ruleset | NetfilterRules, packet: NfPacket, env: NetfilterEnv, opts: TraceOptions = {}): PathOutcome[] {
  const rs = rulesOf(rules);
  let prs: PathRun[] = [{ run: newRun(packet, 'PREROUTING'), hooks: [] }];
  prs = through(rs, 'PREROUTING', prs, env, opts, packet.iif);
  prs = routeEach(prs, env, false);
  const local = prs.filter((p) => !p.fate && p.route?.kind === 'local');
  const fwd = prs.filter((p) => !p.fate && p.route?.kind !== 'local');
  const ended = prs.filter((p) => p.fate);
  const delivered = finish(through(rs, 'INPUT', local, env, opts), 'delivered');
  const forwarded = finish(through(rs, 'POSTROUTING', through(rs, 'FORWARD', fwd, env, opts), env, opts), 'sent');
  return [...finish(ended, 'sent'), ...delivered, ...forwarded];
}

/** A locally generated packet: route, OUTPUT, re-route when OUTPUT rewrote it, POSTROUTING. */
export function traceSend(rules: Ruleset | NetfilterRules, packet: NfPacket, env: NetfilterEnv, opts: TraceOptions = {}): PathOutcome[] {
  const rs = rulesOf(rules);
  let prs: PathRun[] = routeEach([{ run: newRun(packet, 'OUTPUT'), hooks: [] }], env, true);
  // To one of its own addresses (not traced through OUTPUT and POSTROUTING here): the packet is
  // still transmitted, on lo, whose egress chains see it.
  prs = prs.flatMap((pr) => {
    if (pr.route?.kind !== 'local') return [pr];
    pr.run.state.pkt.oif = 'lo';
    return traceEgress(rs, [pr.run], env, opts).map((run) => ({ ...pr, run, fate: run.verdict && run.verdict !== 'ACCEPT' ? 'filtered' : pr.fate }));
  });
  prs = through(rs, 'OUTPUT', prs, env, opts);
  // Re-route the runs a rerouting stage changed (ip_route_me_harder).
  const changed = prs.filter((pr) => !pr.fate && pr.run.reroute);
  routeEach(changed, env, true);
  prs = through(rs, 'POSTROUTING', prs, env, opts);
  return finish(prs, 'sent');
}

function rulesOf(r: Ruleset | NetfilterRules): NetfilterRules {
  return 'tables' in r ? { iptables: [r] } : r;
}
