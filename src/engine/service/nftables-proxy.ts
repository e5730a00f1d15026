// kube-proxy in nftables mode, checked against the Kubernetes objects. kube-proxy (pkg/proxy/nftables)
// owns one table per family, `ip kube-proxy` / `ip6 kube-proxy`: base chains nat-prerouting and
// nat-output jump to `services`, whose rules look the packet up in the verdict maps `service-ips`
// (`daddr . l4proto . dport` of ClusterIPs, externalIPs, LB IPs) and `service-nodeports`
// (`l4proto . dport` for the node's addresses); an element goes to the service port's chain
// (`service-<hash>-ns/name/proto/port`, or `external-…` for outside traffic, which marks for
// masquerade and goes on to `service-…` or `local-…`), whose `numgen random mod N vmap` picks an
// endpoint chain (`endpoint-<hash>-…__ip/port`) that DNATs. Services without endpoints are elements
// of `no-endpoint-services` / `no-endpoint-nodeports` (goto reject-chain, or drop), rejected in
// the filter chains; LoadBalancerSourceRanges are `firewall-ips` elements going to a chain that
// drops other sources.
//
// The packet is traced through the table's own chains with the nftables simulator (numgen branches
// enumerated with their probabilities), and the DNAT branches are judged as in iptables mode
// (dnat-branches.ts). What the trace cannot see is said with the element or chain that is missing.
import { formatAddressPort, type Packet } from '../model/packet';
import { SuspicionLevel, type Evidence, type Suspicion, type UndecidedElement } from '../model/suspicion';
import type { NetNS } from '../netstack/netns';
import { parseIP } from '../netstack/ip';
import { isObj, type Json, type NftRuleset, type NftSet, type NftTable } from '../netstack/nftables/model';
import { lookup, protoNumber, type FieldType, type NftPacket, type Val } from '../netstack/nftables/expr';
import { runHook, startOutcome, type NftEnv, type NftOutcome, type NftStep } from '../netstack/nftables/simulate';
import { formatRule } from '../netstack/nftables/format';
import type { ServiceBackends } from './backends';
import { endpointKey, judgeBranches, type ProxyBranch } from './dnat-branches';

export const KUBE_PROXY_TABLE = 'kube-proxy';

/** kube-proxy's table of the packet's family. */
export function kubeProxyTable(rs: NftRuleset, family: 4 | 6): NftTable | undefined {
  return rs.tables.find((t) => t.family === (family === 4 ? 'ip' : 'ip6') && t.name === KUBE_PROXY_TABLE);
}

/**
 * What the trace needs of the node: `fib daddr|saddr type local` (the NodePort rule when every node
 * address takes NodePorts; the ETP=Local short-circuits) decided by the node's own addresses, which
 * the dump has. Nothing routes or masquerades in prerouting/output, where the trace runs.
 */
function nodeEnv(ns: NetNS, sentHere: boolean, src: string): NftEnv {
  return {
    masqueradeSource: () => undefined,
    interfaceAddress: () => undefined,
    route: () => ({ kind: 'unroutable', reason: 'not routed while checking kube-proxy' }),
    // What the node sends itself comes from a local address, whichever it is.
    addressType: (addr) => ((sentHere && addr === src) || ns.ownsAddress(addr) || /^127\./.test(addr) || addr === '::1' ? 'LOCAL' : 'UNICAST'),
  };
}

function traceTable(ns: NetNS, t: NftTable, packet: Packet, local: boolean): NftOutcome[] {
  const family = packet.dst.includes(':') ? 6 : 4;
  const p: NftPacket = {
    family, src: packet.src || (family === 4 ? '0.0.0.0' : '::'), dst: packet.dst, proto: packet.protocol,
    ...(packet.sport ? { sport: packet.sport } : {}), ...(packet.dport ? { dport: packet.dport } : {}),
    mark: packet.mark, ct: { state: 'new', mark: 0 },
  };
  const rs: NftRuleset = { tables: [t], other: [] };
  return runHook(rs, local ? 'output' : 'prerouting', startOutcome(p), nodeEnv(ns, local, p.src));
}

/**
 * The steps of the NAT part of a path: from entering a nat base chain until a filter base chain
 * (the output hook's post-DNAT filter) takes over. kube-proxy's filter chains (firewall and
 * no-endpoint checks) are met on the way too, but they are not how the packet is DNATed.
 */
function natSteps(t: NftTable, path: NftStep[]): NftStep[] {
  const type = (s: NftStep) => t.chains.get(s.rule.chain)?.base?.type;
  const start = path.findIndex((s) => type(s) === 'nat');
  if (start < 0) return [];
  const end = path.findIndex((s, i) => i > start && type(s) === 'filter');
  return path.slice(start, end < 0 ? undefined : end);
}

function stepEv(node: string, s: NftStep): Evidence {
  return { kind: 'nftables', text: formatRule(s.rule), where: node };
}

/** A verdict-map element's verdict as nft prints it (`goto service-…`, `drop`). */
function verdictText(v: Json | undefined): string {
  if (!isObj(v)) return String(v ?? '');
  const [k] = Object.keys(v);
  const a = v[k];
  return isObj(a) && a.target !== undefined ? `${k} ${String(a.target)}` : k;
}

function gotoTarget(v: Json | undefined): string | undefined {
  if (!isObj(v)) return undefined;
  const a = isObj(v.goto) ? v.goto : isObj(v.jump) ? v.jump : undefined;
  return a ? String(a.target) : undefined;
}

/** The element of a `daddr . l4proto . dport` (or `l4proto . dport`) map that holds this packet. */
function element(set: NftSet | undefined, family: 4 | 6, addr: string | undefined, proto: string, port: number) {
  if (!set) return undefined;
  const ip = addr !== undefined ? parseIP(addr) : undefined;
  const pn = protoNumber(proto);
  if (pn === undefined || (addr !== undefined && !ip)) return undefined;
  const type: FieldType[] = [...(ip ? [family === 4 ? 'addr4' as const : 'addr6' as const] : []), 'proto', 'port'];
  const v: Val[] = [...(ip ? [ip.value] : []), pn, port];
  try {
    return lookup(set.elements, { type, v });
  } catch {
    return undefined; // an element of another shape: not kube-proxy's
  }
}

export function checkNftablesProxy(node: string, ns: NetNS, packet: Packet, local: boolean, sb: ServiceBackends): Suspicion[] {
  const rs = ns.nftables;
  if (!rs) {
    return [{ level: SuspicionLevel.INFO, check: 'dump.not-checked', message: `no nftables rule set (nft -j list ruleset) in the dump of ${node}: kube-proxy's nftables rules not checked`, evidence: [] }];
  }
  const family = packet.dst.includes(':') ? 6 : 4;
  const tname = `${family === 4 ? 'ip' : 'ip6'} ${KUBE_PROXY_TABLE}`;
  const where = `${sb.service} ${packet.protocol.toUpperCase()} ${formatAddressPort(sb.address, packet.dport)}`;
  const t = kubeProxyTable(rs, family);
  if (!t) {
    if (!sb.backends.length) return [];
    return [{
      level: SuspicionLevel.FATAL,
      check: 'kube-proxy.chain-missing',
      message: `kube-proxy on ${node} does not DNAT ${where}: there is no table ${tname} (kube-proxy in nftables mode has programmed nothing for IPv${family})`,
      evidence: [{ kind: 'nftables', text: `no table ${tname} among ${rs.tables.map((x) => `${x.family} ${x.name}`).join(', ') || 'no tables'}`, where: node }],
    }];
  }

  const outcomes = traceTable(ns, t, packet, local);
  const byTarget = new Map<string, ProxyBranch>();
  let undnatted = 0;
  let filtered = 0;
  let undnattedEvidence: Evidence[] = [];
  const undecided: UndecidedElement[] = [];
  for (const o of outcomes) {
    for (const u of o.undecided) if (!undecided.some((x) => x.where === u.where)) undecided.push(u);
    if (o.verdict !== 'accept') {
      filtered += o.probability;
      continue;
    }
    if (!o.nat.dst) {
      undnatted += o.probability;
      if (!undnattedEvidence.length) undnattedEvidence = natSteps(t, o.path).map((s) => stepEv(node, s));
      continue;
    }
    const target = endpointKey(o.packet.dst, o.packet.dport ?? packet.dport);
    const prev = byTarget.get(target);
    if (prev) {
      prev.probability += o.probability;
      continue;
    }
    const nat = natSteps(t, o.path);
    byTarget.set(target, {
      target, probability: o.probability, evidence: nat.map((s) => stepEv(node, s)),
      choice: nat.filter((s) => /"(numgen|dnat)"|@affinity-/.test(JSON.stringify(s.rule.expr))).map((s) => stepEv(node, s)),
    });
  }
  const branches = [...byTarget.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
  const found = judgeBranches(node, packet, { branches, undnatted, undnattedEvidence, filtered }, sb, {
    kind: 'nftables',
    where: `${node} table ${tname}`,
    branchText: (b) => `dnat to ${b.target}`,
    affinityRules: [...t.sets.keys()].some((n) => n.startsWith('affinity-')),
    affinityRulesText: 'affinity-… sets',
    whyNoDnat: () => whyNoDnat(node, t, tname, family, packet, sb),
  });
  if (!undecided.length) return found;
  return found.map((f) => ({ ...f, level: Math.min(f.level, SuspicionLevel.WARNING), undecided }));
}

/** Why kube-proxy's table does not DNAT the packet: the map element that is not there, or the chain it leads to. */
function whyNoDnat(node: string, t: NftTable, tname: string, family: 4 | 6, packet: Packet, sb: ServiceBackends): Evidence[] {
  const out: Evidence[] = [];
  const table = `${node} table ${tname}`;
  const at = (what: string) => `${table} ${what}`;
  const nodePort = sb.kind === 'nodePort';
  const key = nodePort ? `${packet.protocol} . ${packet.dport}` : `${sb.address} . ${packet.protocol} . ${packet.dport}`;
  const mapName = nodePort ? 'service-nodeports' : 'service-ips';
  const map = t.sets.get(mapName);
  const el = element(map, family, nodePort ? undefined : packet.dst, packet.protocol, packet.dport);
  if (!map) out.push({ kind: 'nftables', text: `no map ${mapName}: kube-proxy has programmed no service dispatch`, where: table });
  else if (!el) out.push({ kind: 'nftables', text: `no element ${key} in map ${mapName} (${map.elements.length} element${map.elements.length === 1 ? '' : 's'})`, where: at(`map ${mapName}`) });
  else {
    const target = gotoTarget(el.data);
    const chain = target ? t.chains.get(target) : undefined;
    out.push({ kind: 'nftables', text: `element ${key} : ${verdictText(el.data)}`, where: at(`map ${mapName}`) });
    if (target && !chain) out.push({ kind: 'nftables', text: `no chain ${target}`, where: table });
    else if (chain && !chain.rules.length) out.push({ kind: 'nftables', text: `chain ${target} has no rules`, where: at(`chain ${target}`) });
  }
  const noEp = nodePort ? 'no-endpoint-nodeports' : 'no-endpoint-services';
  const ne = element(t.sets.get(noEp), family, nodePort ? undefined : packet.dst, packet.protocol, packet.dport);
  if (ne) {
    out.push({ kind: 'nftables', text: `element ${key} : ${verdictText(ne.data)} in map ${noEp}: kube-proxy takes the service for one without endpoints`, where: at(`map ${noEp}`) });
  }
  return out;
}
