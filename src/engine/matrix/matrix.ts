// The connectivity matrix: for every ordered pair of pods in scope (a pod and itself excepted) and
// every port of the destination, the verdict `diagnose` would give — or, policy-only, whether the
// NetworkPolicies allow it and which policies decide. Built on equivalence classes, not pair by
// pair: NetworkPolicy verdicts depend on a pod's namespace, labels, the ipBlocks its addresses
// fall in, its named ports (and, for hostNetwork pods, its node), so pods alike in these share
// them; the datapath of a pod-to-pod flow depends on the pods' node-path shapes (shape.ts), not
// on their labels, so a diagnosis of one pair of shapes serves every pair of pods with those
// shapes, with the NetworkPolicy findings of the actual pair put in place of the representative's.
import { BadInputError } from '../../shared/errors';
import type { ClusterPod } from '../k8s/objects';
import { resolvePair, EndpointError } from '../k8s/resolve';
import type { DiagnosisRequest, DiagnosisResult } from '../model/result';
import { SuspicionLevel, type Suspicion } from '../model/suspicion';
import { verdictOf, type Network } from '../network';
import { checkNetworkPolicies, type PolicyCheck } from '../policy/check';
import type { PolicySet } from '../policy/evaluate';
import { comparePorts, podsInScope, portsOf, type MatrixPort, type MatrixScope } from './scope';
import { ShapeIndex } from './shape';
import { NodeShapes } from './node-shape';
import { PolicyClasses, type PolicyOutcome as BaseOutcome } from './policy-classes';

export interface CellResult {
  verdict: string;
  checks: string[];
  /** Policy-only: the policies that decide (allowing, or selecting and not allowing). */
  policies?: string[];
}

export interface Matrix {
  request: { scope: MatrixScope; policyOnly: boolean };
  pods: string[];
  ports: MatrixPort[];
  /** Cell i: pods[src[i]] → pods[dst[i]] on ports[port[i]], with results[result[i]]. Ordered by src, dst, port. */
  cells: { src: Int32Array; dst: Int32Array; port: Int32Array; result: Int32Array; length: number };
  results: CellResult[];
  /** Pods in scope left out, and why. */
  left: { pod: string; reason: string }[];
  /** How much the equivalence classes saved: classes and the evaluations actually made. */
  stats: { policyClasses: number; policyEvaluations: number; shapes: number; diagnoses: number };
}

/** Diagnoses one request (the CLI passes Network.diagnose, or diagnoseAsync for a live cluster). */
export type Diagnose = (request: DiagnosisRequest) => DiagnosisResult | Promise<DiagnosisResult>;

const isPolicyFinding = (s: Suspicion) => s.check.startsWith('policy.');

export async function buildMatrix(net: Network, scope: MatrixScope, opts: { policyOnly: boolean; diagnose?: Diagnose }): Promise<Matrix> {
  const { pods, left } = podsInScope(net.cache, scope);
  const policies = net.policySet();
  const policyClass = new PolicyClasses(policies, pods);
  const portsByDst = pods.map((p) => portsOf(p, scope, policies));
  const allPorts = new Map<string, MatrixPort>();
  for (const list of portsByDst) for (const p of list) allPorts.set(`${p.port}/${p.protocol}`, p);
  const ports = [...allPorts.values()].sort(comparePorts);
  const portIndex = new Map(ports.map((p, i) => [`${p.port}/${p.protocol}`, i]));

  const n = pods.reduce((acc, _p, d) => acc + portsByDst[d].length * (pods.length - 1), 0);
  const cells = { src: new Int32Array(n), dst: new Int32Array(n), port: new Int32Array(n), result: new Int32Array(n), length: n };
  const results: CellResult[] = [];
  const resultIds = new Map<string, number>();
  const intern = (r: CellResult) => {
    const key = `${r.verdict}|${r.checks.join(',')}|${r.policies?.join(',') ?? ''}`;
    let id = resultIds.get(key);
    if (id === undefined) {
      id = results.length;
      results.push(r);
      resultIds.set(key, id);
    }
    return id;
  };

  // Whole-flow evaluations (with the findings diagnose would show), once per pair of classes.
  const policyMemo = new Map<string, PolicyOutcome>();
  const policyOf = (s: ClusterPod, d: ClusterPod, si: number, di: number, p: MatrixPort): PolicyOutcome => {
    const key = `${policyClass.pairKey(si, di)}|${p.port}/${p.protocol}`;
    let o = policyMemo.get(key);
    if (!o) {
      o = evaluatePolicies(net, policies, s, d, p);
      policyMemo.set(key, o);
    }
    return o;
  };

  const nodeShapes = opts.policyOnly ? undefined : new NodeShapes(net);
  const shapes = nodeShapes ? new ShapeIndex(net, nodeShapes) : undefined;
  const shapeIds = new Map<string, number>();
  const shapeOf = shapes ? pods.map((p) => {
    const s = shapes.shape(p);
    let id = shapeIds.get(s);
    if (id === undefined) shapeIds.set(s, (id = shapeIds.size));
    return id;
  }) : [];
  const datapathMemo = new Map<string, DiagnosisResult | { error: string }>();
  /** Pods' shapes and their nodes' relation: what makes two pairs' datapaths alike. */
  const datapathKey = (si: number, di: number): string => {
    const S = pods[si].nodeName;
    const D = pods[di].nodeName;
    const own = `${shapeOf[si]}|${shapeOf[di]}`;
    const bS = S ? nodeShapes!.base(S) : undefined;
    const bD = D ? nodeShapes!.base(D) : undefined;
    if (!S || !D || bS === undefined || bD === undefined) return `${S}|${D}|${own}`;
    if (S === D) return `same|${bS}|${own}`;
    const rSD = nodeShapes!.relation(S, D);
    const rDS = nodeShapes!.relation(D, S);
    if (rSD === undefined || rDS === undefined) return `${S}|${D}|${own}`;
    return `${bS}|${rSD}|${bD}|${rDS}|${own}`;
  };
  let diagnoses = 0;

  let i = 0;
  for (let si = 0; si < pods.length; si++) {
    for (let di = 0; di < pods.length; di++) {
      if (si === di) continue;
      for (const p of portsByDst[di]) {
        const s = pods[si];
        const d = pods[di];
        let r: CellResult;
        if (opts.policyOnly) {
          // Per direction and class where it can (pod-network pods); the whole flow otherwise.
          const portIdx = portIndex.get(`${p.port}/${p.protocol}`)!;
          const fast = policyClass.outcomeId(si, di, p, portIdx, (o) => intern({ verdict: o.allowed ? 'allowed' : 'denied', checks: o.checks, policies: o.policies }));
          if (fast !== undefined) {
            cells.src[i] = si;
            cells.dst[i] = di;
            cells.port[i] = portIdx;
            cells.result[i] = fast;
            i++;
            continue;
          }
          const pol = policyOf(s, d, si, di, p);
          r = pol.error ? { verdict: 'unknown', checks: ['request.error'], policies: [] } : { verdict: pol.allowed ? 'allowed' : 'denied', checks: pol.checks, policies: pol.policies };
        } else {
          const pol = policyOf(s, d, si, di, p);
          const key = `${datapathKey(si, di)}|${p.port}/${p.protocol}`;
          let rep = datapathMemo.get(key);
          if (!rep) {
            diagnoses++;
            rep = await diagnoseOr(opts.diagnose ?? ((q) => net.diagnose(q)), { src: s.key, dst: d.key, port: p.port, protocol: p.protocol });
            datapathMemo.set(key, rep);
          }
          r = combine(rep, pol);
        }
        cells.src[i] = si;
        cells.dst[i] = di;
        cells.port[i] = portIndex.get(`${p.port}/${p.protocol}`)!;
        cells.result[i] = intern(r);
        i++;
      }
    }
  }
  return {
    request: { scope, policyOnly: opts.policyOnly },
    pods: pods.map((p) => p.key),
    ports,
    cells,
    results,
    left,
    stats: { policyClasses: policyClass.count, policyEvaluations: policyMemo.size + policyClass.evaluations, shapes: shapeIds.size, diagnoses },
  };
}

async function diagnoseOr(diagnose: Diagnose, request: DiagnosisRequest): Promise<DiagnosisResult | { error: string }> {
  try {
    return await diagnose(request);
  } catch (e) {
    if (e instanceof BadInputError) return { error: e.message };
    throw e;
  }
}

/** What `diagnose` gives for the pair: the representative's datapath with this pair's NetworkPolicy findings. */
function combine(rep: DiagnosisResult | { error: string }, pol: PolicyOutcome): CellResult {
  if ('error' in rep) return { verdict: 'unknown', checks: ['request.error'] };
  const cluster = [...rep.clusterSuspicions.filter((s) => !isPolicyFinding(s)), ...pol.suspicions];
  const verdict = verdictOf(rep.nodes, cluster);
  const checks = new Set<string>();
  for (const s of [...cluster, ...rep.nodes.flatMap((x) => x.suspicions)]) if (s.level >= SuspicionLevel.WARNING) checks.add(s.check);
  return { verdict, checks: [...checks].sort() };
}

/** The check ids a diagnosis result gives a matrix cell (what `combine` computes from classes). */
export function cellOf(r: DiagnosisResult): CellResult {
  const checks = new Set<string>();
  for (const s of [...r.clusterSuspicions, ...r.nodes.flatMap((x) => x.suspicions)]) if (s.level >= SuspicionLevel.WARNING) checks.add(s.check);
  return { verdict: r.verdict, checks: [...checks].sort() };
}

interface PolicyOutcome extends BaseOutcome {
  /** The findings `diagnose` would put among the cluster suspicions (deny, invalid, notes). */
  suspicions: Suspicion[];
  error?: string;
}

function evaluatePolicies(net: Network, policies: PolicySet, s: ClusterPod, d: ClusterPod, p: MatrixPort): PolicyOutcome {
  let check: PolicyCheck;
  try {
    const pair = resolvePair(net.cache, s.key, d.key, p.port);
    check = checkNetworkPolicies(policies, pair.source, pair.destination, p.protocol);
  } catch (e) {
    if (e instanceof EndpointError) return { allowed: false, checks: [], policies: [], suspicions: [], error: e.message };
    throw e;
  }
  const suspicions = [...check.suspicions, ...check.notes.map((message): Suspicion => ({ level: SuspicionLevel.INFO, check: 'policy.note', message, evidence: [] }))];
  const deciding = new Set<string>();
  for (const t of check.targets) {
    for (const v of [t.egress, t.ingress]) {
      if (!v || !v.isolated) continue;
      if (check.allowed) for (const k of v.allowedBy) deciding.add(k);
      else if (!v.allowed) for (const pv of v.policies) deciding.add(pv.policy);
    }
  }
  const checks = [...new Set(check.suspicions.filter((x) => x.level >= SuspicionLevel.WARNING).map((x) => x.check))].sort();
  return { allowed: check.allowed, checks, policies: [...deciding].sort(), suspicions };
}
