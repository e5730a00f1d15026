// Runs a topology's scenarios against the kernel: the healthy case (every probe), then each fault of
// the catalogue that applies to the topology (apply -> all probes -> evidence -> undo -> target probe
// again). Callers (the lab test, make-cases) get the results and a hook while each case is live.
import { faultsFor, type Fault } from './faults';
import { Lab, type ProbeResult, type ProbeSpec } from './lab';
import { LabCluster } from './cluster';
import { standardProbes, topologyFor, type LabTopology } from './scenarios';
import type { Plugin, TopologySpec } from './topology';

/**
 * A topology other than a plugin's standard one (dual-stack, KubeSkoop's scenarios): its own spec,
 * probes and faults; its cases are named `<name>--healthy`, `<name>--<fault>`.
 */
export interface Variant {
  name: string;
  plugin: Plugin;
  spec: () => TopologySpec;
  probes: () => ProbeSpec[];
  faults: Fault[];
}

export interface ProbeTruth {
  probe: string; path: string; src: string; dst: string; address: string; port: number; protocol: string;
  /** the family netpath is asked for (dual-stack cases record it for every probe) */
  family?: 4 | 6;
  /** payload bytes, when the probe sends more than a small message (MTU faults) */
  size?: number;
  outcome: ProbeResult['outcome']; errno?: string; reply?: string;
  /** set when the probe failed in a fault case: the injected fault, its NetNode and check family */
  fault?: string; faultNode?: string; check?: string;
}

export interface CaseResult {
  name: string;                 // e.g. flannel-host-gw--healthy, flannel-host-gw--route-deleted
  plugin: LabTopology;
  fault?: Fault;
  target?: string;              // the probe the fault is meant to break
  probes: ProbeTruth[];
  /** fault cases: target probe before/after undo, evidence problem (if any) */
  restored?: ProbeResult;
  evidenceError?: string;
}

export interface RunOptions {
  prefix: string;
  kubeconfig: string;
  faults?: (f: Fault) => boolean;
  /** called while the case is live (the fault still applied), e.g. to dump it */
  onCase?: (lab: Lab, c: CaseResult) => Promise<void>;
  log?: (s: string) => void;
  /** run this variant instead of the plugin's standard topology */
  variant?: Variant;
}

async function probeAll(lab: Lab, probes: ProbeSpec[]): Promise<Map<string, ProbeResult>> {
  const out = new Map<string, ProbeResult>();
  // a few at a time: independent connections, and failing probes cost their whole timeout
  for (let i = 0; i < probes.length; i += 6) {
    const batch = probes.slice(i, i + 6);
    const rs = await Promise.all(batch.map((p) => lab.probe(p)));
    batch.forEach((p, j) => out.set(p.id, rs[j]));
  }
  return out;
}

function truth(p: ProbeSpec, r: ProbeResult, f?: Fault): ProbeTruth {
  const t: ProbeTruth = { probe: p.id, path: p.path, src: p.src, dst: p.dst, address: p.address, port: p.port, protocol: p.protocol,
    ...(p.family ? { family: p.family } : {}), ...(p.size ? { size: p.size } : {}), outcome: r.outcome };
  if (r.errno) t.errno = r.errno;
  if (r.reply) t.reply = r.reply;
  if (f && r.outcome !== 'reachable') { t.fault = f.id; t.faultNode = f.netNode; t.check = f.check; }
  // a fault the kernel survives (it expects `reachable`): its target probe still names it, and a
  // diagnosis must warn about it (lab-judge.ts)
  if (f && r.outcome === 'reachable' && f.expect.includes('reachable') && p.id === (typeof f.probe === 'string' ? f.probe : f.probe.id)) {
    t.fault = f.id; t.faultNode = f.netNode; t.check = f.check;
  }
  return t;
}

export async function runTopology(plugin: LabTopology, opts: RunOptions): Promise<CaseResult[]> {
  const log = opts.log ?? (() => {});
  const v = opts.variant;
  const name = v?.name ?? plugin;
  const lab = new Lab(v ? v.spec() : topologyFor(plugin), opts.prefix, LabCluster.fromFile(opts.kubeconfig), log);
  const results: CaseResult[] = [];
  try {
    await lab.up();
    const probes = v ? v.probes() : standardProbes();
    const healthy = await probeAll(lab, probes);
    const hc: CaseResult = { name: `${name}--healthy`, plugin, probes: probes.map((p) => truth(p, healthy.get(p.id)!)) };
    await opts.onCase?.(lab, hc);
    results.push(hc);
    for (const f of (v ? v.faults : faultsFor(plugin)).filter(opts.faults ?? (() => true))) {
      const target = typeof f.probe === 'string' ? probes.find((p) => p.id === f.probe)! : f.probe;
      const all = typeof f.probe === 'string' ? probes : [...probes, f.probe];
      const before = typeof f.probe === 'string' ? healthy.get(f.probe)! : await lab.probe(f.probe);
      const c: CaseResult = { name: `${name}--${f.id}`, plugin, fault: f, target: target.id, probes: [] };
      if (before.outcome !== 'reachable') {
        c.evidenceError = `target probe ${target.id} already fails before the fault: ${JSON.stringify(before)}`;
        results.push(c);
        continue;
      }
      await f.apply(lab);
      try {
        const during = await probeAll(lab, all);
        c.probes = all.map((p) => truth(p, during.get(p.id)!, f));
        try { c.evidenceError = f.evidence?.(lab); } catch (e) { c.evidenceError = (e as Error).message; }
        await opts.onCase?.(lab, c);
      } finally {
        await f.undo(lab);
      }
      // undo may need a moment to settle (neighbour entries, kube-proxy); a few spaced attempts
      for (let i = 0; i < 4; i++) {
        c.restored = await lab.probe(target);
        if (c.restored.outcome === 'reachable') break;
        await new Promise((r) => setTimeout(r, 750));
      }
      log(`${c.name}: ${c.probes.find((p) => p.probe === target.id)?.outcome} -> after undo ${c.restored?.outcome}`);
      results.push(c);
    }
  } finally {
    await lab.down();
  }
  return results;
}
