// Native egress chains (`type filter hook egress device X`, netdev tables) on a frame a bridge
// sends out of one of its ports: br_dev_queue_push_xmit hands it to dev_queue_xmit on the port,
// whose egress chains see it as any packet transmitted there. (A routed or locally sent packet
// meets the egress chains of its output interface inside the walk's trace, after POSTROUTING.)
import type { Packet } from '../model/packet';
import { SuspicionLevel, type Evidence, type Suspicion } from '../model/suspicion';
import type { NotUnderstood } from '../netstack/netfilter/packet';
import { traceEgress } from '../netstack/netfilter/stages';
import { newRun, toOutcome } from '../netstack/netfilter/trace';
import { decidingElements, enumerateWorlds } from '../netstack/netfilter/undecided';
import type { NetNS } from '../netstack/netns';
import { netfilterEnv } from './netfilter-env';
import { familyOf, netfilterRules, nuEvidence, toNf, undecidedOf } from './walk';

/**
 * The egress chains of port `port` of bridge `bridge` for `packet`: a drop or reject (FATAL, the
 * rule as nft prints it), or undefined when they let it through; an outcome that depends on
 * elements not modelled (a chain whose device the dump leaves out, a statement netpath does not
 * know) is a WARNING pushed to `findings`, evaluated both ways.
 */
export function bridgePortEgress(ns: NetNS, bridge: string, port: string, packet: Packet, findings: Suspicion[]): Suspicion | undefined {
  if (!ns.nftables?.tables.some((t) => t.family === 'netdev')) return undefined;
  const family = familyOf(packet.dst);
  const rules = netfilterRules(ns, family);
  const nf = { ...toNf(packet, family, undefined), oif: port };
  const notUnderstood = new Map<string, NotUnderstood>();
  const ws = enumerateWorlds((assume) => {
    const outs = traceEgress(rules, [newRun(nf, 'POSTROUTING')], netfilterEnv(ns), { assume }).map(toOutcome);
    for (const o of outs) for (const n of o.notUnderstood) notUnderstood.set(n.key, n);
    return { result: outs.find((o) => o.verdict !== 'ACCEPT' && o.decidedBy), met: outs.flatMap((o) => o.notUnderstood.map((n) => n.key)) };
  });
  const way = `the packet ${bridge} sends out of its port ${port}`;
  const stop = ws.worlds[0].result;
  if (ws.worlds.every((w) => !w.result === !stop) && !ws.truncated) {
    if (!stop) return undefined;
    const s = stop.decidedBy!;
    const evidence: Evidence[] = [{ kind: 'nftables', text: s.text, where: `${ns.label} ${s.native ?? ''}`.trim() }];
    const reject = stop.verdict === 'REJECT';
    return {
      level: SuspicionLevel.FATAL,
      check: `nftables.${reject ? 'reject' : 'drop'}`,
      message: `${way} is ${reject ? 'rejected' : 'dropped'} by nftables on ${ns.label} in ${s.native ?? `${s.table} ${s.chain}`}`,
      evidence,
    };
  }
  const deciding = decidingElements(ws, (r) => (r ? 'stop' : 'pass'));
  const elements = (deciding.length ? deciding : [...notUnderstood.keys()]).map((k) => notUnderstood.get(k)!);
  findings.push({
    level: SuspicionLevel.WARNING,
    check: 'nftables.undecided',
    message: `whether ${way} passes the egress chains on ${ns.label} depends on ${elements.length} element(s) netpath does not model: evaluated both ways, it passes one way and is stopped the other`,
    evidence: elements.map(nuEvidence),
    undecided: elements.map((n) => undecidedOf(ns, n)),
  });
  return undefined;
}
