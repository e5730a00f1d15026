// Bridge-family nftables chains on a bridged packet's way: `table bridge …` base chains at the
// bridge's prerouting, forward and postrouting hooks, which see every frame the bridge forwards
// from one port to another — whether br_netfilter hands it to iptables or not —, at prerouting
// and input for a frame a port passes up to the host, at output and postrouting for one the host
// sends out of a port. Filtering is
// simulated (ports as iifname/oifname, the bridge as ibrname/obrname, IP and transport fields);
// what a bridge chain changes, `ether` fields and `ct` (whose state there depends on br_netfilter
// and nf_conntrack_bridge) are evaluated both ways, as on the routed path.
import type { Packet } from '../model/packet';
import { SuspicionLevel, type Evidence, type Suspicion } from '../model/suspicion';
import type { NetNS } from '../netstack/netns';
import type { NftPacket } from '../netstack/nftables/expr';
import { formatRule, ruleWhere } from '../netstack/nftables/format';
import type { NftChain } from '../netstack/nftables/model';
import { traceNftBridge, type NftEnv, type NftOutcome, type NftUnknown } from '../netstack/nftables/simulate';
import { decidingElements, enumerateWorlds } from '../netstack/netfilter/undecided';
import { familyOf } from './walk';

// Bridge chains filter; nothing in them routes, NATs or picks addresses.
const ENV: NftEnv = {
  masqueradeSource: () => undefined,
  interfaceAddress: () => undefined,
  route: () => ({ kind: 'unroutable', reason: 'not routed on the bridge' }),
};

function where(ns: NetNS, c: NftChain | undefined, handleText: string): string {
  return `${ns.label} ${handleText}${c?.base ? ` (hook ${c.base.hook} priority ${c.base.prio})` : ''}`;
}

/**
 * The bridge-family chains for a packet bridged by `bridge` from port `physIn` to `physOut` (or,
 * without `physOut`, passed up to the host; without `physIn`, sent by the host): a drop or reject
 * (FATAL, the rule as nft prints it), or undefined when they let it through; an outcome that
 * depends on elements not modelled is a WARNING pushed to `findings`.
 */
export function bridgeFamilyChains(ns: NetNS, bridge: string, physIn: string | undefined, physOut: string | undefined, packet: Packet, findings: Suspicion[]): Suspicion | undefined {
  const rs = ns.nftables;
  if (!rs || !rs.tables.some((t) => t.family === 'bridge')) return undefined;
  const family = familyOf(packet.dst);
  const ports = packet.protocol === 'tcp' || packet.protocol === 'udp' || packet.protocol === 'sctp';
  const p: NftPacket = {
    family, src: packet.src || (family === 4 ? '0.0.0.0' : '::'), dst: packet.dst, proto: packet.protocol,
    // A port the walk does not know (a client's ephemeral port) matches no port a rule names.
    ...(ports ? { sport: packet.sport || -1, dport: packet.dport || -1 } : {}),
    ...(packet.protocol === 'tcp' ? { tcpFlags: [packet.reply ? 'ack' : 'syn'] } : {}),
    ...(physIn !== undefined ? { iif: physIn } : {}), ...(physOut !== undefined ? { oif: physOut } : {}), bridge, mark: packet.mark, ct: { state: packet.reply ? 'established' : 'new', mark: 0 },
  };
  const met = new Map<string, NftUnknown>();
  const ws = enumerateWorlds((assume) => {
    const outs = traceNftBridge(rs, p, ENV, { assume });
    for (const o of outs) for (const m of o.met) met.set(m.key, m);
    return { result: outs.find((o) => o.verdict !== 'accept'), met: outs.flatMap((o) => o.met.map((m) => m.key)) };
  });
  const chainOf = (o: NftOutcome) => {
    const last = o.path[o.path.length - 1]?.rule;
    return last ? rs.tables.find((t) => t.family === last.family && t.name === last.table)?.chains.get(last.chain) : undefined;
  };
  const way = physIn === undefined ? `the packet ${ns.label} sends out of ${physOut} (bridge ${bridge})`
    : physOut !== undefined ? `the packet bridged by ${bridge} from ${physIn} to ${physOut}` : `the packet arriving on ${physIn} for ${ns.label} itself (bridge ${bridge})`;
  const stop = ws.worlds[0].result;
  if (ws.worlds.every((w) => !w.result === !stop) && !ws.truncated) {
    if (!stop) return undefined;
    const rule = stop.path.find((s) => s.text === stop.decidedBy)?.rule;
    const evidence: Evidence[] = [{ kind: 'nftables', text: stop.decidedBy ?? 'policy drop', where: rule ? where(ns, chainOf(stop), ruleWhere(rule)) : ns.label }];
    const verdict = stop.verdict === 'reject' ? 'rejected' : 'dropped';
    return {
      level: SuspicionLevel.FATAL,
      check: `nftables.${stop.verdict === 'reject' ? 'reject' : 'drop'}`,
      message: `${way} is ${verdict} by a bridge-family nftables chain on ${ns.label}`,
      evidence,
    };
  }
  const deciding = decidingElements(ws, (r) => (r ? 'stop' : 'pass'));
  const elements = (deciding.length ? deciding : [...met.keys()]).map((k) => met.get(k)!);
  findings.push({
    level: SuspicionLevel.WARNING,
    check: 'nftables.undecided',
    message: `whether ${way} passes the bridge-family nftables chains on ${ns.label} depends on ${elements.length} element(s) netpath does not model: evaluated both ways, it passes one way and is stopped the other`,
    evidence: elements.map((m) => ({ kind: 'nftables', text: formatRule(m.rule), where: `${ns.label} ${ruleWhere(m.rule)} (${m.reason})` })),
    undecided: elements.map((m) => ({ where: `${ns.label} nftables ${ruleWhere(m.rule)}`, reason: m.reason })),
  });
  return undefined;
}
