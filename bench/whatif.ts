// Bench of the "what changed / who can talk to whom" commands (issue 17): each case generated
// (seeded), then measured in a fresh process so that its peak RSS is its own:
// * policy-only matrix: 1,000 pods (one declared port each, ≈ 1M cells) in 200 namespaces with
//   500 NetworkPolicies — matrix and its JSON (serialised, counted, not kept) ≤ 5 s, ≤ 1 GiB;
// * datapath matrix: a 100-node lab-like snapshot (every node with full dumps, a netns per pod),
//   200 pods × 1 port (≈ 40k cells) ≤ 30 s;
// * snapshot diff of two 5,000-node snapshots (b = a with a FORWARD DROP on the path, a route
//   gone elsewhere, a pod relabelled): ≤ 10 s after load, the path part first in ≤ 2 s.
// Run alone (`tsx bench/whatif.ts [--quick]`) or from bench/run.ts, which takes its TARGET lines.
// Prints `TARGET {json}` per target and PASS/FAIL lines; --quick runs small sizes, not judged.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateSnapshot } from './generate';
import type { K8sObject, NetpathSnapshot } from '../src/engine/snapshot/types';
import { loadSnapshot } from '../src/engine/snapshot/load';
import { Network } from '../src/engine/network';
import { buildMatrix } from '../src/engine/matrix/matrix';
import { matrixJson } from '../src/engine/matrix/report';
import { SnapshotDiff } from '../src/engine/diff/diff';
import { diffJson } from '../src/engine/diff/report';
import type { DiagnosisRequest } from '../src/engine/model/result';

const root = resolve(__dirname, '..');
const ms = (t: number) => Math.round((performance.now() - t) * 10) / 10;
const cpu = (c0: NodeJS.CpuUsage) => { const c = process.cpuUsage(c0); return Math.round((c.user + c.system) / 1000); };
const rssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

// ---- generators ------------------------------------------------------------------------------

/** An objects-only cluster: `pods` pods in `namespaces` namespaces, `policies` NetworkPolicies of the usual shapes. */
export function policyCluster(pods: number, namespaces: number, policies: number): NetpathSnapshot {
  const nss = Array.from({ length: namespaces }, (_, k) => `ns-${String(k).padStart(3, '0')}`);
  const objects: NetpathSnapshot['objects'] = { nodes: [], pods: [], services: [], endpointSlices: [], endpoints: [], networkPolicies: [], namespaces: [], configMaps: [] };
  const nodes = 50;
  for (let n = 0; n < nodes; n++) {
    objects.nodes.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${n}` }, status: { addresses: [{ type: 'InternalIP', address: `192.168.${n >> 8}.${n & 255}` }] } } as K8sObject);
  }
  nss.forEach((ns, k) => objects.namespaces.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns, team: `team-${k % 10}`, env: k % 2 ? 'prod' : 'dev' } } }));
  for (let i = 0; i < pods; i++) {
    const ns = nss[i % namespaces];
    const j = Math.floor(i / namespaces);
    const port = j % 4 === 3 ? { name: 'metrics', containerPort: 9090, protocol: 'TCP' } : { name: 'http', containerPort: 8080, protocol: 'TCP' };
    objects.pods.push({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `app-${j}-${String(i).padStart(4, '0')}`, namespace: ns, labels: { app: `app-${j % 3}`, tier: j % 2 ? 'web' : 'db' } },
      spec: { nodeName: `node-${i % nodes}`, containers: [{ name: 'c', image: 'x', ports: [port] }] },
      status: { phase: 'Running', podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, podIPs: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }], conditions: [{ type: 'Ready', status: 'True' }] },
    } as K8sObject);
  }
  for (let k = 0; k < policies; k++) {
    const ns = nss[k % namespaces];
    const shape = Math.floor(k / namespaces) % 4;
    const name = `pol-${String(k).padStart(3, '0')}`;
    const spec =
      shape === 0 ? { podSelector: {}, policyTypes: ['Ingress'] } // default deny
        : shape === 1 ? { podSelector: { matchLabels: { tier: 'db' } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 'http' }] }] }
          : shape === 2 ? { podSelector: { matchLabels: { app: `app-${k % 3}` } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: `team-${k % 10}` } } }, { ipBlock: { cidr: '10.0.0.0/22', except: ['10.0.1.0/24'] } }] }] }
            : { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { env: 'prod' } }, podSelector: { matchLabels: { tier: 'db' } } }], ports: [{ port: 8080, protocol: 'TCP' }] }] };
    objects.networkPolicies.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
  }
  return { kind: 'NetpathSnapshot', version: 1, capturedAt: '2026-01-01T00:00:00Z', settings: {}, objects, dumps: {} };
}

/** b = a with a FORWARD DROP for the measured pod on its node, a route gone on a far node, a pod relabelled. */
function changed(a: NetpathSnapshot, target: { node: string; ip: string; port: number }, far: string): NetpathSnapshot {
  const b = structuredClone(a);
  const info = b.dumps[target.node].node;
  const lines = info.iptables!.nft!.split('\n');
  const filter = lines.indexOf('*filter');
  const at = lines.findIndex((l, i) => i > filter && (l.startsWith('-A FORWARD') || l === 'COMMIT'));
  lines.splice(at, 0, `-A FORWARD -d ${target.ip}/32 -p tcp -m comment --comment bench-fault -m tcp --dport ${target.port} -j DROP`);
  info.iptables = { nft: lines.join('\n') };
  const farRoutes = b.dumps[far].node.routes as { dst?: string }[];
  farRoutes.splice(farRoutes.findIndex((r) => r.dst === 'default'), 1);
  const pod = b.objects.pods.find((p) => p.metadata.name.startsWith('worker-'))!;
  pod.metadata.labels = { ...pod.metadata.labels, relabelled: 'yes' };
  return b;
}

// ---- measurements (one per process) -------------------------------------------------------------

async function measure(kind: string, files: string[], extra: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  if (kind === 'policy' || kind === 'datapath') {
    let t = performance.now();
    const s = loadSnapshot(readFileSync(files[0], 'utf8'));
    out.loadMs = ms(t);
    const c0 = process.cpuUsage();
    t = performance.now();
    const net = new Network(s);
    const ports = kind === 'datapath' ? [{ port: 8080, protocol: 'tcp' as const }] : undefined;
    const m = await buildMatrix(net, { ...(ports ? { ports } : {}) }, { policyOnly: kind === 'policy' });
    out.matrixMs = ms(t);
    t = performance.now();
    let bytes = 0;
    for (const chunk of matrixJson(m)) bytes += chunk.length;
    out.jsonMs = ms(t);
    out.cpuMs = cpu(c0);
    out.jsonMB = Math.round(bytes / 1e5) / 10;
    out.cells = m.cells.length;
    out.pods = m.pods.length;
    out.stats = m.stats;
    const counts: Record<string, number> = {};
    for (let i = 0; i < m.cells.length; i++) counts[m.results[m.cells.result[i]].verdict] = (counts[m.results[m.cells.result[i]].verdict] ?? 0) + 1;
    out.verdicts = counts;
  } else if (kind === 'diff') {
    let t = performance.now();
    const a = loadSnapshot(readFileSync(files[0], 'utf8'));
    const b = loadSnapshot(readFileSync(files[1], 'utf8'));
    out.loadMs = ms(t);
    // "Load" as bench/run.ts counts it: JSON, schema, and the Network (cluster cache) of each snapshot.
    t = performance.now();
    const networks = { a: new Network(a), b: new Network(b) };
    out.networkMs = ms(t);
    const request = JSON.parse(extra) as DiagnosisRequest & { expect: string };
    const c0 = process.cpuUsage();
    t = performance.now();
    const d = new SnapshotDiff(a, b, networks);
    const p = d.path(request);
    out.pathMs = ms(t);
    out.pathCpuMs = cpu(c0);
    const first = p.onPath[0]?.difference;
    out.first = first ? (first.type === 'stack' ? `${first.node} ${first.netns} ${first.area} ${first.change}: ${first.after ?? first.before}` : `${first.kind} ${first.namespace}/${first.name}`) : 'none';
    out.firstIsFault = first?.type === 'stack' && (first.after ?? '').includes(request.expect);
    out.verdicts = `${p.before.verdict} -> ${p.after.verdict}`;
    const t2 = performance.now();
    const rest = d.rest();
    const doc = JSON.stringify(diffJson({ a: 'a', b: 'b' }, p, rest));
    out.restMs = ms(t2);
    out.diffMs = ms(t);
    out.diffCpuMs = cpu(c0);
    out.rest = { objects: rest.objects.length, stacks: rest.stacks.length, jsonKB: Math.round(doc.length / 1024) };
    out.nodes = Object.keys(a.dumps).length;
  }
  out.maxRssMB = rssMB();
  return out;
}

// ---- orchestration ------------------------------------------------------------------------------

interface Target {
  target: string;
  pass: boolean | undefined;
  figure: string;
}

export function runWhatIfBench(quick: boolean): Target[] {
  const work = mkdtempSync(join(tmpdir(), 'netpath-bench-whatif-'));
  const targets: Target[] = [];
  const judge = (target: string, pass: boolean, figure: string) => targets.push({ target, pass: quick ? undefined : pass, figure });
  const child = (kind: string, files: string[], extra = '') => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/whatif.ts'), '--measure', kind, extra, ...files], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`measure ${kind} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    return JSON.parse(line.slice(7)) as Record<string, any>;
  };
  try {
    // Policy-only matrix.
    const [pods, nss, pols] = quick ? [200, 40, 100] : [1000, 200, 500];
    const pfile = join(work, 'policy.netpath.json');
    writeFileSync(pfile, JSON.stringify(policyCluster(pods, nss, pols)));
    const p = child('policy', [pfile]);
    const pTotal = p.matrixMs + p.jsonMs;
    console.log(`policy-only matrix: ${p.pods} pods in ${nss} namespaces, ${pols} policies → ${p.cells} cells; load ${p.loadMs} ms, matrix ${p.matrixMs} ms, JSON ${p.jsonMs} ms (${p.jsonMB} MB); ${JSON.stringify(p.stats)}; ${JSON.stringify(p.verdicts)}; peak RSS ${p.maxRssMB} MB`);
    judge(`policy-only matrix, ${p.pods} pods × declared ports (${p.cells} cells), ${nss} namespaces, ${pols} policies ≤ 5 s, ≤ 1 GiB`, pTotal <= 5000 && p.maxRssMB <= 1024, `${(pTotal / 1000).toFixed(2)} s wall, ${(p.cpuMs / 1000).toFixed(2)} s CPU (matrix ${p.matrixMs} ms + JSON ${p.jsonMs} ms; load before it ${p.loadMs} ms), peak RSS ${p.maxRssMB} MB`);

    // Datapath matrix on a lab-like snapshot: every node with full dumps.
    const [dn, dp] = quick ? [20, 40] : [100, 200];
    const g = generateSnapshot({ nodes: dn, pods: dp, services: quick ? 5 : 20, endpoints: 3, seed: 1, fullDumps: dn, policies: 5 });
    const dfile = join(work, 'datapath.netpath.json');
    writeFileSync(dfile, JSON.stringify(g.snapshot));
    const d = child('datapath', [dfile]);
    console.log(`datapath matrix: ${dn} nodes (full dumps), ${d.pods} pods × 1 port → ${d.cells} cells; load ${d.loadMs} ms, matrix ${d.matrixMs} ms, JSON ${d.jsonMs} ms; ${JSON.stringify(d.stats)}; ${JSON.stringify(d.verdicts)}; peak RSS ${d.maxRssMB} MB`);
    judge(`datapath matrix, ${dn}-node lab-like snapshot, ${d.pods} pods × 1 port (${d.cells} cells) ≤ 30 s`, d.matrixMs + d.jsonMs <= 30000 && (d.verdicts.reachable ?? 0) > 0, `${((d.matrixMs + d.jsonMs) / 1000).toFixed(1)} s (${d.stats.diagnoses} diagnoses for ${d.stats.shapes} node-path shapes; load before it ${d.loadMs} ms); verdicts ${JSON.stringify(d.verdicts)}`);

    // Diff of two big snapshots.
    const nodes = quick ? 200 : 5000;
    const big = generateSnapshot({ nodes, pods: nodes * 10, services: quick ? 100 : 1000, endpoints: 3, seed: 2 });
    const target = { node: big.pathNodes[1], ip: (big.snapshot.objects.pods.find((x) => `${x.metadata.namespace}/${x.metadata.name}` === big.probes.podToPod.dst)!.status as { podIP: string }).podIP, port: big.probes.podToPod.port };
    const afile = join(work, 'a.netpath.json');
    const bfile = join(work, 'b.netpath.json');
    writeFileSync(afile, JSON.stringify(big.snapshot));
    writeFileSync(bfile, JSON.stringify(changed(big.snapshot, target, Object.keys(big.snapshot.dumps).at(-1)!)));
    const x = child('diff', [afile, bfile], JSON.stringify({ ...big.probes.podToPod, expect: 'bench-fault' }));
    console.log(`snapshot diff: ${x.nodes} nodes each; load both ${x.loadMs} ms; path part ${x.pathMs} ms (${x.verdicts}; first on the path: ${x.first}); rest ${x.restMs} ms (${JSON.stringify(x.rest)}); peak RSS ${x.maxRssMB} MB`);
    judge(`snapshot diff of two ${x.nodes}-node snapshots ≤ 10 s`, x.diffMs <= 10000, `${(x.diffMs / 1000).toFixed(2)} s wall, ${(x.diffCpuMs / 1000).toFixed(2)} s CPU after load (load: JSON + schema of both ${(x.loadMs / 1000).toFixed(1)} s, their Networks ${(x.networkMs / 1000).toFixed(1)} s)`);
    judge('snapshot diff with a path: the path part first in ≤ 2 s, naming the injected DROP first', x.pathMs <= 2000 && x.firstIsFault === true, `${x.pathMs} ms wall, ${x.pathCpuMs} ms CPU (both snapshots diagnosed cold, then the on-path differences); first on-path difference: ${x.first}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return targets;
}

if (process.argv[1] && /whatif\.ts$/.test(process.argv[1])) {
  const i = process.argv.indexOf('--measure');
  if (i >= 0) {
    const [kind, extra, ...files] = process.argv.slice(i + 1);
    measure(kind, files, extra).then((r) => console.log(`RESULT ${JSON.stringify(r)}`));
  } else {
    const quick = process.argv.includes('--quick');
    const targets = runWhatIfBench(quick);
    for (const t of targets) console.log(`TARGET ${JSON.stringify(t)}`);
    for (const t of targets) console.log(`  ${t.pass === undefined ? '----' : t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.figure}`);
    if (targets.some((t) => t.pass === false)) process.exitCode = 1;
  }
}
