// Pods as NetworkPolicy sees them, reduced to what the verdicts depend on (evaluate.ts): which
// policies select the pod for ingress and for egress, which policy peers (selectors, ipBlocks,
// in their policy's namespace) match it as the other side, and its named ports. Pods with the same
// reduction get the same verdicts; a direction's verdict is computed once per (selecting set,
// matching peers, named ports, port) and shared. hostNetwork pods are their node to a policy (the
// "own node" rule needs the other side's node), so they keep their node and address.
import type { ClusterPod } from '../k8s/objects';
import { matches } from '../k8s/selector';
import { contains, parseIP } from '../netstack/ip';
import type { PolicyPeer, PolicyPort } from '../policy/compile';
import type { PolicySet } from '../policy/evaluate';
import type { MatrixPort } from './scope';

export interface PolicyOutcome {
  allowed: boolean;
  checks: string[];
  policies: string[];
}

interface Reduced {
  ingress: number;
  egress: number;
  peer: number;
  named: number;
  /** Class id: every part above (and the node for hostNetwork pods). */
  id: number;
}

export class PolicyClasses {
  private readonly reduced: Reduced[];
  readonly count: number;
  evaluations = 0;

  constructor(private readonly set: PolicySet, private readonly pods: ClusterPod[]) {
    this.compiled = set.policies;
    const policyIndex = new Map(set.policies.map((p, i) => [p, i]));
    const sets = new Map<string, number>();
    const setId = (list: number[]) => {
      const k = list.join(',');
      let id = sets.get(k);
      if (id === undefined) sets.set(k, (id = sets.size));
      return id;
    };
    this.egressSel = pods.map((p) => set.selecting(p, 'egress').map((x) => policyIndex.get(x)!));
    this.ingressSel = pods.map((p) => set.selecting(p, 'ingress').map((x) => policyIndex.get(x)!));
    this.egressSetId = this.egressSel.map(setId);
    this.ingressSetId = this.ingressSel.map(setId);
    this.setCount = sets.size;
    this.simple = pods.map((p) => !p.hostNetwork && p.ips.some((ip) => !ip.includes(':')));
    const peers: { ns: string; peer: PolicyPeer }[] = [];
    for (const p of set.policies) for (const r of [...(p.ingress ?? []), ...(p.egress ?? [])]) for (const x of r.peers ?? []) peers.push({ ns: p.namespace, peer: x });
    const ids = new Map<string, number>();
    const intern = (kind: string, text: string) => {
      const k = `${kind}\u0000${text}`;
      let id = ids.get(k);
      if (id === undefined) ids.set(k, (id = ids.size));
      return id;
    };
    const classes = new Map<string, number>();
    this.reduced = pods.map((pod) => {
      const ingress = intern('i', set.selecting(pod, 'ingress').map((p) => p.key).join(','));
      const egress = intern('e', set.selecting(pod, 'egress').map((p) => p.key).join(','));
      const peer = intern('p', peers.map(({ ns, peer: x }) => (peerMatches(set, ns, x, pod) ? '1' : '0')).join(''));
      const named = intern('n', pod.containerPorts.filter((c) => c.name).map((c) => `${c.name}=${c.port}/${c.protocol}`).sort().join(','));
      const key = `${ingress}|${egress}|${peer}|${named}|${pod.hostNetwork ? `${pod.nodeName}|${pod.ips.join(',')}` : ''}`;
      let id = classes.get(key);
      if (id === undefined) classes.set(key, (id = classes.size));
      return { ingress, egress, peer, named, id };
    });
    this.count = classes.size;
    this.namedCount = ids.size;
  }

  /** The memo key of a pair for a whole-flow evaluation: both classes, and the nodes when the "own node" rule may apply. */
  pairKey(si: number, di: number): string {
    const s = this.pods[si];
    const d = this.pods[di];
    return `${this.reduced[si].id}|${this.reduced[di].id}|${s.hostNetwork ? d.nodeName ?? '' : ''}|${d.hostNetwork ? s.nodeName ?? '' : ''}`;
  }

  /**
   * What checkNetworkPolicies gives for pod → pod: egress at the source, ingress at the
   * destination. A direction is allowed when no policy selects the pod, or when one of the
   * selecting policies allows the peer (evaluate.ts); whether a policy allows depends only on
   * which of its own peers match the other pod, the port and the destination's named ports, so it
   * is computed once per such combination. The outcome is identified by the two selecting sets
   * and which of their policies allow — `make` builds it only the first time that combination is
   * met, and its id is returned for every cell with it. Undefined when the pair needs the
   * whole-flow evaluation (a hostNetwork side, or not both with an IPv4 address).
   */
  outcomeId(si: number, di: number, port: MatrixPort, portIdx: number, make: (o: PolicyOutcome) => number): number | undefined {
    if (!this.simple[si] || !this.simple[di]) return undefined;
    const egress = this.egressSel[si];
    const ingress = this.ingressSel[di];
    let eMask = 0;
    for (let k = 0; k < egress.length; k++) if (this.allows(egress[k], 1, di, di, port, portIdx)) eMask |= 1 << k;
    let iMask = 0;
    for (let k = 0; k < ingress.length; k++) if (this.allows(ingress[k], 0, si, di, port, portIdx)) iMask |= 1 << k;
    const key = (this.egressSetId[si] * this.setCount + this.ingressSetId[di]) * 4294967296 + (eMask >>> 0) * 65536 + iMask;
    const wide = egress.length > 16 || ingress.length > 16;
    const memoKey = wide ? `${this.egressSetId[si]}|${this.ingressSetId[di]}|${eMask}|${iMask}` : key;
    let id = this.outcomes.get(memoKey);
    if (id === undefined) {
      const eAllowed = egress.filter((_, k) => eMask & (1 << k));
      const iAllowed = ingress.filter((_, k) => iMask & (1 << k));
      const eOk = !egress.length || eAllowed.length > 0;
      const iOk = !ingress.length || iAllowed.length > 0;
      const allowed = eOk && iOk;
      const checks: string[] = [];
      if (!eOk) checks.push('policy.egress-deny');
      if (!iOk) checks.push('policy.ingress-deny');
      if ([...egress, ...ingress].some((p) => this.compiled[p].problems.length)) checks.push('policy.invalid');
      const deciding = allowed ? [...eAllowed, ...iAllowed] : [...(eOk ? [] : egress), ...(iOk ? [] : ingress)];
      id = make({ allowed, checks: checks.sort(), policies: [...new Set(deciding.map((p) => this.compiled[p].key))].sort() });
      this.outcomes.set(memoKey, id);
    }
    return id;
  }

  private readonly compiled: PolicySet['policies'];
  /** Per pod: a pod-network pod with an IPv4 address (the per-direction path applies). */
  private readonly simple: boolean[];
  private readonly egressSel: number[][];
  private readonly ingressSel: number[][];
  private readonly egressSetId: number[];
  private readonly ingressSetId: number[];
  private readonly setCount: number;
  private readonly namedCount: number;
  private readonly outcomes = new Map<number | string, number>();
  /** Per policy and direction: the pod's bits over that policy's peers (interned), computed on first use. */
  private readonly peerBits = new Map<number, Int32Array>();
  private readonly peerBitIds = new Map<number, Map<string, number>>();
  private readonly peerBitTexts = new Map<number, string[][]>();
  private readonly allowMemo = new Map<number, Map<number, boolean>>();

  /** Which of policy p's peers (of the direction's rules) match pod i, as an interned id. */
  private bitsOf(p: number, d: 0 | 1, i: number): number {
    const dir = d === 0 ? 'ingress' : 'egress';
    const slot = p * 2 + d;
    let arr = this.peerBits.get(slot);
    if (!arr) this.peerBits.set(slot, (arr = new Int32Array(this.pods.length).fill(-1)));
    if (arr[i] >= 0) return arr[i];
    const pol = this.compiled[p];
    const bits = (pol[dir] ?? []).map((r) => (r.peers ?? []).map((x) => (peerMatches(this.set, pol.namespace, x, this.pods[i]) ? '1' : '0')).join('')).join('|');
    let ids = this.peerBitIds.get(slot);
    if (!ids) this.peerBitIds.set(slot, (ids = new Map()));
    let id = ids.get(bits);
    if (id === undefined) {
      ids.set(bits, (id = ids.size));
      let texts = this.peerBitTexts.get(slot);
      if (!texts) this.peerBitTexts.set(slot, (texts = []));
      texts.push(bits.split('|'));
    }
    arr[i] = id;
    return id;
  }

  /** Does policy p allow the flow (d: 0 ingress, 1 egress) with pod `peer` on the other side and pod `dst` as the destination (for named ports)? */
  private allows(p: number, d: 0 | 1, peer: number, dst: number, port: MatrixPort, portIdx: number): boolean {
    const slot = p * 2 + d;
    let memo = this.allowMemo.get(slot);
    if (!memo) this.allowMemo.set(slot, (memo = new Map()));
    const bits = this.bitsOf(p, d, peer);
    const key = (bits * this.namedCount + this.reduced[dst].named) * 65536 * 4 + portIdx;
    let v = memo.get(key);
    if (v === undefined) {
      this.evaluations++;
      const text = this.peerBitTexts.get(slot)![bits];
      const rules = this.compiled[p][d === 0 ? 'ingress' : 'egress'] ?? [];
      v = rules.some((r, k) => (!r.ports || portsMatch(r.ports, port, this.pods[dst])) && (!r.peers || text[k].includes('1')));
      memo.set(key, v);
    }
    return v;
  }
}

/** evaluate.ts's port matching: protocol, number or range, or the destination pod's named container port. */
function portsMatch(ports: PolicyPort[], port: MatrixPort, dst: ClusterPod): boolean {
  const proto = port.protocol.toUpperCase();
  return ports.some((p) => {
    if (p.protocol !== proto) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number') return port.port >= p.port && port.port <= (p.endPort ?? p.port);
    const cp = dst.containerPorts.find((c) => c.name === p.port && c.protocol === p.protocol);
    return !!cp && cp.port === port.port;
  });
}

/** Whether a policy peer (of a policy in namespace `ns`) matches the pod as the other side: evaluate.ts's rules. */
function peerMatches(set: PolicySet, ns: string, x: PolicyPeer, pod: ClusterPod): boolean {
  if (x.kind === 'invalid') return false;
  if (pod.hostNetwork) return false; // never reached: hostNetwork pairs take the whole-flow path
  if (x.kind === 'ipBlock') {
    if (!set.settings.ipBlockMatchesPods) return false;
    // The address a flow uses (IPv4 first, as the pair resolves it).
    const a = parseIP(pod.ips.find((ip) => !ip.includes(':')) ?? pod.ips[0] ?? '');
    return !!a && contains(x.cidr, a) && !x.except.some((e) => contains(e, a));
  }
  if (x.namespaceSelector) {
    if (!matches(x.namespaceSelector, set.cache.namespace(pod.namespace).labels)) return false;
  } else if (pod.namespace !== ns) return false;
  return !x.podSelector || matches(x.podSelector, pod.labels);
}
