// One benchmark case, run in its own process so that its peak RSS is its own: open a generated
// snapshot file as a user's process does (format version 2: the header is read now, every other
// part when the diagnosis first needs it), build one Network, diagnose (cold: includes reading and
// validating the parts on the path and the lazy parse of the dumps' rules; then warm), count what
// the engine touched, and parse the iptables dump of a node on the path in full (the anchor).
// Prints one line `RESULT {json}`. Usage: tsx bench/measure.ts SNAPSHOT META_JSON PROBE [--dump-parse]
// PROBE is podToPod or podToService: one probe per process, so that the peak RSS is that of a
// process doing what a user does (open a snapshot, build one Network, diagnose), not the sum of
// two Networks built one after the other.
import { statSync } from 'node:fs';
import { Network } from '../src/engine/network';
import type { DiagnosisRequest, DiagnosisResult } from '../src/engine/model/result';
import { parseIptablesSave, parseIptablesSaveLazy } from '../src/engine/netstack/iptables/parse';
import { compiledChain } from '../src/engine/netstack/netfilter/compile';
import type { NodeStack } from '../src/engine/datapath/node-stack';
import { parseIP } from '../src/engine/netstack/ip';
import { openSnapshotFile } from '../src/shared/snapshot-file';

interface Meta {
  probes: { podToPod: DiagnosisRequest; podToService: DiagnosisRequest };
  pathNodes: string[];
  serviceIP: string;
}

const ms = (a: number) => Math.round((performance.now() - a) * 10) / 10;
const cpuMs = (c: NodeJS.CpuUsage) => Math.round((c.user + c.system) / 100) / 10;

function main(): void {
  const [file, metaText, probeName] = process.argv.slice(2);
  const dumpParse = process.argv.includes('--dump-parse');
  const meta = JSON.parse(metaText) as Meta;
  const out: Record<string, unknown> = {};

  let t = performance.now();
  const snapshot = openSnapshotFile(file);
  out.openMs = ms(t);
  out.snapshotMB = Math.round(statSync(file).size / 1e5) / 10;

  for (const [name, probe] of Object.entries(meta.probes)) {
    if (name !== probeName) continue;
    t = performance.now();
    const net = new Network(snapshot);
    const buildMs = ms(t);
    t = performance.now();
    let r: DiagnosisResult | undefined;
    let error: string | undefined;
    try {
      r = net.diagnose(probe);
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message.split('\n')[0]}`;
    }
    const coldMs = ms(t);
    let warmMs: number | undefined;
    if (r) {
      t = performance.now();
      net.diagnose(probe);
      warmMs = ms(t);
    }
    // Laziness counters: which node stacks were built, and where iptables was parsed.
    // (Network keeps its NodeStacks in a private map; the bench reads it, nothing writes it.)
    const stacks = (net as unknown as { stacks: Map<string, NodeStack | undefined> }).stacks;
    const parsedIptables: string[] = [];
    for (const [node, st] of stacks) {
      for (const ns of st?.all() ?? []) {
        const memo = (ns as unknown as { memo: Map<string, unknown> }).memo;
        if (memo.has('iptables')) parsedIptables.push(ns === st!.host ? node : `${node}/${ns.info.id}`);
      }
    }
    out[name] = {
      networkMs: buildMs,
      coldMs,
      warmMs,
      verdict: r?.verdict ?? 'error',
      error,
      hops: r?.nodes.length,
      findings: r ? [...r.clusterSuspicions, ...r.nodes.flatMap((n) => n.suspicions)].filter((s) => s.level >= 2).map((s) => `${s.check}: ${s.message}`).slice(0, 3) : [],
      nodeStacksBuilt: stacks.size,
      iptablesParsedIn: parsedIptables,
    };
  }
  // Peak RSS of open + both diagnoses, taken before the repeated parses below add their garbage.
  out.maxRssMB = Math.round(process.resourceUsage().maxRSS / 1024);

  if (!dumpParse) {
    console.log(`RESULT ${JSON.stringify(out)}`);
    return;
  }
  // Dump parse: the iptables-save text of the first node on the path (best of 3, wall and CPU).
  const ipt = snapshot.dumps[meta.pathNodes[0]].node.iptables!.nft!;
  let best = Infinity, bestCpu = Infinity, rules = 0, bestLazy = Infinity;
  // The engine's own reading: the lazy structure pass (rules parsed per chain on first use).
  for (let k = 0; k < 3; k++) {
    t = performance.now();
    parseIptablesSaveLazy(ipt, { family: 4 });
    bestLazy = Math.min(bestLazy, ms(t));
  }
  out.lazyParseMs = bestLazy;
  for (let k = 0; k < 3; k++) {
    const c0 = process.cpuUsage();
    t = performance.now();
    const rs = parseIptablesSave(ipt, { family: 4 });
    best = Math.min(best, ms(t));
    bestCpu = Math.min(bestCpu, cpuMs(process.cpuUsage(c0)));
    rules = rs.tables.reduce((n, tb) => n + tb.chains.reduce((m, ch) => m + ch.rules.length, 0), 0);
    if (k === 0) {
      // Is kube-proxy's KUBE-SERVICES indexed, and how many rules does a packet to the service visit?
      const cc = compiledChain(rs, 'nat', 'KUBE-SERVICES')!;
      out.kubeServicesRules = cc.rules.length;
      out.kubeServicesIndexed = cc.index?.indexedRules ?? 0;
      out.kubeServicesVisited = cc.index ? cc.index.candidates(parseIP(meta.serviceIP)!.value).length : cc.rules.length;
    }
  }
  out.dumpRules = rules;
  out.dumpParseMs = best;
  out.dumpParseCpuMs = bestCpu;

  console.log(`RESULT ${JSON.stringify(out)}`);
}

main();
