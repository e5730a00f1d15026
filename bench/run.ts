// `npm run bench`: generates seeded synthetic clusters (snapshot format version 2), measures each in
// its own process (open, diagnosis, peak RSS), prints growth exponents between sizes, the anchor
// against `iptables-legacy-restore --test` on the same 100k-rule file, the time to answer from a
// cold file through the CLI and through the language server (fresh processes), the extension bundle
// figures, and PASS/FAIL against issue 19's targets, then issue 17's (bench/whatif.ts). Exit code 1
// when a target fails. `--quick` runs small sizes only (a smoke run, targets not judged).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { servicesForRules } from './generate';
import { runWhatIfBench } from './whatif';

const root = resolve(__dirname, '..');
const quick = process.argv.includes('--quick');
const work = mkdtempSync(join(tmpdir(), 'netpath-bench-'));
const E = 3;
/** Processes per probe and case (best cold time kept). */
const REPEAT = process.argv.includes('--quick') ? 1 : 2;
// Time to answer is judged against a target in seconds on a shared 2-core machine whose speed
// drifts by a third from one minute to the next: five fresh processes each way, alternating, best kept.
const ANSWER_REPEAT = process.argv.includes('--quick') ? 1 : 5;
const SEED = 1;
const started = performance.now();
// The CLI and the server are measured as shipped: dist/ built from this tree.
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`npm run build failed: ${build.stderr.slice(-2000)}`);

interface Case {
  label: string;
  nodes: number;
  pods: number;
  services: number;
  /** Host-gw routes in the path nodes' dumps (default: one per other node). */
  pathRoutes?: number;
}

interface Probe {
  networkMs: number;
  coldMs: number;
  warmMs?: number;
  verdict: string;
  error?: string;
  hops?: number;
  findings: string[];
  nodeStacksBuilt: number;
  iptablesParsedIn: string[];
}

interface Result {
  snapshotMB: number;
  /** openSnapshotFile: the header read and checked (every other part is read on first use). */
  openMs: number;
  kubeServicesRules: number;
  kubeServicesIndexed: number;
  kubeServicesVisited: number;
  dumpRules: number;
  dumpParseMs: number;
  dumpParseCpuMs: number;
  /** The engine's lazy reading of the same dump (structure pass; rules parsed per chain on use). */
  lazyParseMs: number;
  podToPod: Probe;
  podToService: Probe;
  maxRssMB: number;
  genMs: number;
}

const tsx = [process.execPath, '--import', 'tsx'];

interface Answer {
  /** Spawn → exit of `netpath diagnose` (CLI), or request → result (server). */
  ms: number;
  cpuMs?: number;
  rssMB: number;
  verdict: string;
  warmMs?: number;
  startMs?: number;
  resultKeys?: string[];
}

/** Cold process, file on disk → pod→service verdict printed: `node dist/cli.js diagnose --snapshot …`. */
function cliAnswer(file: string, req: { src: string; dst: string; port: number }): Answer {
  const a = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S %M', process.execPath, join(root, 'dist/cli.js'), 'diagnose', '--snapshot', file, '--src', req.src, '--dst', req.dst, '--port', String(req.port)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const ms = performance.now() - a;
  const t = /TIME ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !t) throw new Error(`netpath diagnose failed (exit ${r.status}): ${r.stderr.slice(-1000)}`);
  const verdict = /^(REACHABLE|UNREACHABLE|[A-Z-]+)\b/m.exec(r.stdout.split('\n')[1] ?? '')?.[1]?.toLowerCase() ?? 'unknown';
  return { ms, cpuMs: (Number(t[1]) + Number(t[2])) * 1000, rssMB: Math.round(Number(t[3]) / 1024), verdict };
}

/** A fresh language server: `initialize`, then `netpath/diagnose` of the file (request → result), then again (warm). */
function serverAnswer(file: string, meta: string): Answer {
  const m = spawnSync(tsx[0], [...tsx.slice(1), join(root, 'bench/server-probe.ts'), file, meta, 'podToService'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = m.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`server probe failed (exit ${m.status}): ${m.stderr.slice(-2000)}`);
  const r = JSON.parse(line.slice(7)) as { coldMs: number; coldCpuMs: number; warmMs: number; startMs: number; rssMB: number; verdict: string; resultKeys: string[] };
  return { ms: r.coldMs, cpuMs: r.coldCpuMs, rssMB: r.rssMB, verdict: r.verdict, warmMs: r.warmMs, startMs: r.startMs, resultKeys: r.resultKeys };
}

/** Time to answer from the file the capture writer made of the target cluster. */
interface Captured { bytes: number; version: number; writeMs: number; runs: Answer[] }

function run(c: Case, iptablesOut?: string, answers?: { cli: Answer[]; server: Answer[]; v1?: Answer; captured?: Captured }): Result {
  const file = join(work, `${c.label}.netpath.json`);
  const fileV1 = join(work, `${c.label}.v1.netpath.json`);
  let t = performance.now();
  const gen = spawnSync(tsx[0], [...tsx.slice(1), join(root, 'bench/generate.ts'), '--nodes', String(c.nodes), '--pods', String(c.pods), '--services', String(c.services), '--endpoints', String(E), '--seed', String(SEED), ...(c.pathRoutes !== undefined ? ['--path-routes', String(c.pathRoutes)] : []), '--out', file, ...(answers ? ['--out-v1', fileV1] : []), ...(iptablesOut ? ['--iptables-out', iptablesOut] : [])], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (gen.status !== 0) throw new Error(`generator failed for ${c.label}: ${gen.stderr}`);
  const genMs = performance.now() - t;
  const meta = gen.stdout.trim().split('\n').at(-1)!;
  // One process per probe: each loads the snapshot, builds one Network and diagnoses (cold, then
  // warm), as a user's process would; the pod→service one then times the dump parses.
  const measure = (probe: string, extra: string[]) => {
    const m = spawnSync(tsx[0], [...tsx.slice(1), join(root, 'bench/measure.ts'), file, meta, probe, ...extra], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = m.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`measure ${probe} failed for ${c.label} (exit ${m.status}): ${m.stderr.slice(-2000)}`);
    return JSON.parse(line.slice(7)) as Omit<Result, 'genMs'>;
  };
  // Each probe runs REPEAT times (fresh processes); the run with the lowest cold time is kept —
  // the usual best-of-N against the noise of a shared machine. The peak RSS is the highest seen.
  const svcRuns = [measure('podToService', ['--dump-parse'])];
  const podRuns = [measure('podToPod', [])];
  for (let k = 1; k < REPEAT; k++) {
    svcRuns.push(measure('podToService', []));
    podRuns.push(measure('podToPod', []));
  }
  if (answers) {
    // Time to answer, each in a fresh process; the file was just written, so it is in the page cache
    // as a file the user just captured or opened would be.
    const req = (JSON.parse(meta) as { probes: { podToService: { src: string; dst: string; port: number } } }).probes.podToService;
    for (let k = 0; k < ANSWER_REPEAT; k++) {
      answers.cli.push(cliAnswer(file, req));
      answers.server.push(serverAnswer(file, meta));
    }
    // The same snapshot as a version 1 file (read whole), once, for comparison.
    answers.v1 = cliAnswer(fileV1, req);
    // The same cluster as `snapshot capture --format-version 2` writes it (bench/capture-file.ts), timed as the CLI answers from it.
    const fileCap = join(work, `${c.label}.captured.netpath.json`);
    const cap = spawnSync(tsx[0], [...tsx.slice(1), join(root, 'bench/capture-file.ts'), fileV1, fileCap], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = cap.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`capture writer failed (exit ${cap.status}): ${cap.stderr.slice(-2000)}`);
    answers.captured = { ...(JSON.parse(line.slice(7)) as { bytes: number; version: number; writeMs: number }), runs: [] };
    for (let k = 0; k < ANSWER_REPEAT; k++) answers.captured.runs.push(cliAnswer(fileCap, req));
    rmSync(fileCap, { force: true });
    rmSync(fileV1, { force: true });
  }
  rmSync(file, { force: true });
  const best = (runs: Omit<Result, 'genMs'>[], f: (r: Omit<Result, 'genMs'>) => Probe) => runs.reduce((a, b) => (f(b).coldMs < f(a).coldMs ? b : a));
  const svc = best(svcRuns, (r) => r.podToService);
  const pod = best(podRuns, (r) => r.podToPod);
  const maxRssMB = Math.max(...svcRuns.map((r) => r.maxRssMB), ...podRuns.map((r) => r.maxRssMB));
  // Load figures and dump parses come from the first run (the one that timed the dump parses).
  return { ...svcRuns[0], podToService: svc.podToService, podToPod: pod.podToPod, maxRssMB, genMs };
}

const fmt = (v: number | undefined) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const exponent = (t1: number, t2: number, n1: number, n2: number) => Math.log(t2 / t1) / Math.log(n2 / n1);

function table(title: string, sizeName: string, cases: Case[], results: Result[], size: (c: Case, r: Result) => number): void {
  console.log(`\n${title}`);
  const head = [sizeName, 'nodes', 'pods', 'svcs', 'path routes', 'MB', 'open ms', 'dump rules', 'full parse ms (cpu)', 'lazy parse ms', 'Network ms', 'pod→pod cold/warm ms', 'pod→svc cold/warm ms', 'verdicts', 'stacks built', 'RSS MB'];
  const rows = cases.map((c, i) => {
    const r = results[i];
    return [
      String(size(c, r)), String(c.nodes), String(c.pods), String(c.services + 1), String(c.pathRoutes ?? c.nodes - 1), fmt(r.snapshotMB), fmt(r.openMs), String(r.dumpRules),
      `${fmt(r.dumpParseMs)} (${fmt(r.dumpParseCpuMs)})`, fmt(r.lazyParseMs), fmt(r.podToService.networkMs),
      `${fmt(r.podToPod.coldMs)}/${fmt(r.podToPod.warmMs)}`, `${fmt(r.podToService.coldMs)}/${fmt(r.podToService.warmMs)}`,
      `${r.podToPod.verdict}/${r.podToService.verdict}`, `${r.podToPod.nodeStacksBuilt}/${r.podToService.nodeStacksBuilt}`, String(r.maxRssMB),
    ];
  });
  const w = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]) => '  ' + cells.map((s, k) => s.padStart(w[k])).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  for (let i = 1; i < cases.length; i++) {
    const [a, b] = [results[i - 1], results[i]];
    const [n1, n2] = [size(cases[i - 1], a), size(cases[i], b)];
    const e = (f: (r: Result) => number) => exponent(f(a), f(b), n1, n2).toFixed(2);
    console.log(`  growth ${n1}→${n2}: open ${e((r) => r.openMs)}, full parse ${e((r) => r.dumpParseCpuMs)}, lazy parse ${e((r) => r.lazyParseMs)}, Network ${e((r) => r.podToService.networkMs)}, pod→pod ${e((r) => r.podToPod.coldMs)}, pod→svc ${e((r) => r.podToService.coldMs)}, RSS ${e((r) => r.maxRssMB)}`);
  }
  for (const [i, r] of results.entries()) {
    for (const p of [r.podToPod, r.podToService]) {
      if (p.verdict !== 'reachable') console.log(`  ! ${cases[i].label}: ${p.error ?? p.findings.join('; ') ?? p.verdict}`);
    }
  }
}

const verdicts: { target: string; pass: boolean | undefined; figure: string }[] = [];
const judge = (target: string, pass: boolean | undefined, figure: string) => verdicts.push({ target, pass: quick ? undefined : pass, figure });

// ---- sizes ------------------------------------------------------------------------------------
const rulesSizes = quick ? [1000, 3000] : [1000, 10000, 100000];
const nodeSizes = quick ? [20, 60] : [100, 1000, 5000];
// Rules series at 1k nodes (30k pods fit the 100k-rule case's 27k backends); nodes series at 10k rules, 30 pods per node.
const rulesNodes = quick ? 60 : 1000;
const rulesCases: Case[] = rulesSizes.map((r) => {
  const services = servicesForRules(r, E);
  return { label: `rules-${r}`, nodes: rulesNodes, pods: Math.max(rulesNodes * 30, services * E + E + 1), services };
});
// "Flat in the number of other nodes": only the other nodes vary — the path nodes keep the same
// dumps (same rules, same host-gw routes, to the first nodeSizes[0]-1 nodes). The second series is
// the real flannel host-gw case, where the path nodes' own route tables grow with the cluster
// (one route per node): printed for what it costs, not judged as "other nodes".
const nodeCases: Case[] = nodeSizes.map((n) => ({ label: `nodes-${n}`, nodes: n, pods: n * 30, services: servicesForRules(quick ? 1000 : 10000, E), pathRoutes: nodeSizes[0] - 1 }));
const nodeCasesFull: Case[] = nodeSizes.map((n) => ({ label: `nodes-full-${n}`, nodes: n, pods: n * 30, services: servicesForRules(quick ? 1000 : 10000, E) }));
const target: Case = quick ? { label: 'target', nodes: 60, pods: 1800, services: 300 } : { label: 'target', nodes: 5000, pods: 150000, services: 10000 };

console.log(`netpath bench — seed ${SEED}, ${E} endpoints per service, flannel host-gw, kube-proxy iptables mode${quick ? ' (quick: small sizes, targets not judged)' : ''}`);
console.log(`Machine: ${process.env.NETPATH_BENCH_MACHINE ?? 'this one'}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(', ')} (a shared machine: wall times include waiting for a core; CPU times are printed where they matter).`);
console.log('Each case: a generated snapshot (format version 2) measured in a fresh process per probe (open, new Network, diagnose). Times in ms (wall); full parse = parseIptablesSave of the first path node\'s');
console.log('iptables-save, every rule (best of 3, CPU in parentheses); lazy parse = the engine\'s reading of it (structure only; a chain\'s rules are parsed when a packet visits it).');
console.log('open = the header read and checked; Network = new Network(snapshot) (indexes are built on first use); cold = first diagnosis (includes reading and validating the parts it needs: object lists, pods, the dumps on the path, and the lazy parse of their rules);');
console.log(`warm = the same diagnosis again. Each probe is run in ${REPEAT} fresh process(es), the lowest cold time kept; RSS = the highest peak of those processes.`);

const anchorFile = join(work, 'anchor.iptables-save.txt');
const rulesResults = rulesCases.map((c, i) => run(c, i === rulesCases.length - 1 ? anchorFile : undefined));
table(`Rules on the path (${rulesNodes} nodes)`, 'rules', rulesCases, rulesResults, (_c, r) => r.dumpRules);
const nodeResults = nodeCases.map((c) => run(c));
table(`Nodes in the cluster (~${nodeResults[0].dumpRules} rules and ${nodeSizes[0] - 1} host-gw routes on each path node, whatever the cluster size)`, 'nodes', nodeCases, nodeResults, (c) => c.nodes);
const nodeResultsFull = nodeCasesFull.map((c) => run(c));
table(`Nodes in the cluster, path nodes with a host-gw route to every node (their own state grows with the cluster; not judged)`, 'nodes', nodeCasesFull, nodeResultsFull, (c) => c.nodes);
const answers = { cli: [] as Answer[], server: [] as Answer[], v1: undefined as Answer | undefined, captured: undefined as Captured | undefined };
const t = run(target, undefined, answers);
table(`Target: ${target.nodes} nodes / ${target.pods} pods / ${target.services} services (+ default/kubernetes)`, 'rules', [target], [t], (_c, r) => r.dumpRules);

console.log('\nIndexes and laziness (target case)');
console.log(`  KUBE-SERVICES (nat): ${t.kubeServicesRules} rules, ${t.kubeServicesIndexed} indexed by exact destination; a packet to the measured ClusterIP visits ${t.kubeServicesVisited} of them`);
console.log(`  node stacks built: pod→pod ${t.podToPod.nodeStacksBuilt}, pod→service ${t.podToService.nodeStacksBuilt} of ${target.nodes} nodes; iptables parsed in: ${t.podToService.iptablesParsedIn.join(', ')}`);

console.log('\nTime to answer from a cold file (target case, pod→service; fresh processes, the file just written)');
const bestOf = (xs: Answer[]) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
const cli = bestOf(answers.cli);
const srv = bestOf(answers.server);
const answerRss = Math.max(...answers.cli.map((a) => a.rssMB), ...answers.server.map((a) => a.rssMB));
for (const [k, a] of answers.cli.entries()) console.log(`  CLI ${k + 1}: ${fmt(a.ms)} ms wall, ${fmt(a.cpuMs)} ms CPU, peak RSS ${a.rssMB} MB, verdict ${a.verdict}`);
for (const [k, a] of answers.server.entries()) console.log(`  server ${k + 1}: request → result ${fmt(a.ms)} ms wall (${fmt(a.cpuMs)} ms CPU), warm ${fmt(a.warmMs)} ms; server start + initialize ${fmt(a.startMs)} ms; peak RSS ${a.rssMB} MB; verdict ${a.verdict}`);
console.log(`  server result fields (this branch): ${srv.resultKeys?.join(', ')}`);
if (answers.v1) console.log(`  the same snapshot as a version 1 file (read whole), CLI once: ${fmt(answers.v1.ms)} ms wall, ${fmt(answers.v1.cpuMs)} ms CPU, peak RSS ${answers.v1.rssMB} MB`);
const captured = answers.captured;
const capturedBest = captured?.runs.length ? bestOf(captured.runs) : undefined;
if (captured) console.log(`  the same cluster as snapshot capture --format-version 2 writes it (capture's writer, settings detected; ${(captured.bytes / 1e6).toFixed(1)} MB, written in ${captured.writeMs} ms): ${captured.runs.map((a) => `${fmt(a.ms)} ms wall (${fmt(a.cpuMs)} ms CPU, ${a.rssMB} MB, ${a.verdict})`).join(', ')}`);

// ---- anchor: iptables-legacy-restore --test on the same 100k-rule file ---------------------------
console.log('\nAnchor: the same iptables-save file parsed by iptables-legacy-restore --test and by netpath');
const anchorRules = rulesResults.at(-1)!;
let anchorRatio: number | undefined;
if (process.getuid?.() !== 0) console.log('  skipped: not root (a throwaway netns needs root)');
else {
  const ns = `npbench-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    const input = readFileSync(anchorFile);
    // The two parsers alternate, round by round, so that a busy spell of the shared machine falls on
    // both; the best of each is kept. CPU time through /usr/bin/time (10 ms resolution) for the C
    // tool, process.cpuUsage for netpath (bench/parse-anchor.ts, a fresh process, best of 3 parses).
    let cpu = Infinity;
    let wall = Infinity;
    let npCpu = Infinity;
    let npWall = Infinity;
    for (let k = 0; k < 3; k++) {
      const r = spawnSync('/usr/bin/time', ['-f', '%U %S', 'ip', 'netns', 'exec', ns, 'iptables-legacy-restore', '--test'], { input, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`iptables-legacy-restore --test failed: ${r.stderr.slice(-500)}`);
      const [u, s] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
      cpu = Math.min(cpu, (u + s) * 1000);
      const a = performance.now();
      spawnSync('ip', ['netns', 'exec', ns, 'iptables-legacy-restore', '--test'], { input });
      wall = Math.min(wall, performance.now() - a);
      const m = spawnSync(tsx[0], [...tsx.slice(1), join(root, 'bench/parse-anchor.ts'), anchorFile], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
      const line = m.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`parse-anchor failed (exit ${m.status}): ${m.stderr.slice(-500)}`);
      const p = JSON.parse(line.slice(7)) as { wallMs: number; cpuMs: number; rules: number };
      npCpu = Math.min(npCpu, p.cpuMs);
      npWall = Math.min(npWall, p.wallMs);
    }
    anchorRatio = npCpu / Math.max(cpu, 1);
    console.log(`  file: ${anchorRules.dumpRules} rules (${(statSync(anchorFile).size / 1e6).toFixed(1)} MB)`);
    console.log(`  iptables-legacy-restore --test: ${fmt(wall)} ms wall, ${fmt(cpu)} ms CPU (best of 3 rounds)`);
    console.log(`  netpath parseIptablesSave:      ${fmt(npWall)} ms wall, ${fmt(npCpu)} ms CPU (best of 3 rounds, alternating with the above; in the probe process: ${fmt(anchorRules.dumpParseMs)} ms wall, ${fmt(anchorRules.dumpParseCpuMs)} ms CPU)`);
    console.log(`  ratio netpath / iptables-legacy-restore: ${(npWall / wall).toFixed(2)} wall, ${anchorRatio.toFixed(2)} CPU`);
  } catch (e) {
    console.log(`  skipped: ${(e as Error).message}`);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

// ---- extension ----------------------------------------------------------------------------------
console.log('\nExtension');
let bundleBytes: number | undefined;
let activationMs: number | undefined;
try {
  // Same options as scripts/build.mjs gives dist/extension.js (not minified, with its sourcemap apart).
  const ext = join(work, 'ext');
  mkdirSync(join(ext, 'node_modules', 'vscode'), { recursive: true });
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({
    entryPoints: [join(root, 'src/extension/main.ts')], outfile: join(ext, 'extension.js'), bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    external: ['vscode'], sourcemap: true, legalComments: 'none', logLevel: 'error',
    define: { NETPATH_COLLECTOR_SCRIPT: JSON.stringify(readFileSync(join(root, 'src/collector/collect.sh'), 'utf8')) },
  });
  bundleBytes = statSync(join(ext, 'extension.js')).size;
  // A stub vscode: the API's namespaces and classes as own properties (bundled `import * as`
  // helpers copy own keys), each a callable, constructible no-op so top-level code runs.
  const api = ['window', 'workspace', 'commands', 'extensions', 'languages', 'env', 'debug', 'tasks', 'scm', 'tests', 'authentication', 'l10n', 'version',
    'Uri', 'EventEmitter', 'Disposable', 'TreeItem', 'TreeItemCollapsibleState', 'ThemeIcon', 'ThemeColor', 'MarkdownString', 'CodeAction', 'CodeActionKind',
    'Diagnostic', 'DiagnosticSeverity', 'Range', 'Position', 'Selection', 'Location', 'ProgressLocation', 'QuickPickItemKind', 'StatusBarAlignment',
    'TextEditorRevealType', 'ViewColumn', 'NotebookCellKind', 'ConfigurationTarget', 'CancellationTokenSource', 'RelativePattern', 'FileType', 'ExtensionMode'];
  writeFileSync(join(ext, 'node_modules', 'vscode', 'index.js'),
    `const h={get:(t,p)=>p===Symbol.toPrimitive?()=>"":p==="then"?undefined:s,apply:()=>s,construct:()=>s};const s=new Proxy(function(){},h);\n` +
    `const o={};for (const k of ${JSON.stringify(api)}) o[k]=s;\n` +
    `module.exports=new Proxy(o,{get:(t,p)=>p in t?t[p]:p==="__esModule"||p==="then"?undefined:s});\n`);
  const probe = spawnSync(process.execPath, ['-e', `const t=performance.now();require(${JSON.stringify(join(ext, 'extension.js'))});console.log(performance.now()-t)`], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`require failed: ${probe.stderr.split('\n').slice(0, 4).join(' ')}`);
  activationMs = Number(probe.stdout.trim());
  console.log(`  bundle (as dist/extension.js): ${(bundleBytes / 1024).toFixed(0)} KiB`);
  console.log(`  activation-path module load (require with a stub vscode): ${fmt(activationMs)} ms`);
} catch (e) {
  console.log(`  not measured: ${(e as Error).message.split('\n')[0]}`);
}

// ---- targets ------------------------------------------------------------------------------------
const ok = (r: Result) => r.podToPod.verdict === 'reachable' && r.podToService.verdict === 'reachable';
const svcOk = t.podToService.verdict === 'reachable';
judge(`time to answer ≤ 1.0 s: cold CLI process, file on disk → pod→service verdict printed (${target.nodes} nodes / ${target.pods} pods / ${target.services} services)`, cli.verdict === 'reachable' && cli.ms <= 1000, `${fmt(cli.ms)} ms wall (${fmt(cli.cpuMs)} ms CPU), best of ${answers.cli.length}; verdict ${cli.verdict}`);
judge('time to answer ≤ 1.3 s through the language server (request → result, fresh server)', srv.verdict === 'reachable' && srv.ms <= 1300, `${fmt(srv.ms)} ms wall (${fmt(srv.cpuMs)} ms CPU), best of ${answers.server.length}; verdict ${srv.verdict}`);
judge('peak RSS ≤ 400 MB (target case)', Math.max(answerRss, t.maxRssMB) <= 400, `${answerRss} MB (highest of the CLI and server processes); ${t.maxRssMB} MB in the in-process probes`);
judge('100k-rule full parse ≤ 1.0× iptables-legacy-restore --test (CPU)', anchorRatio === undefined ? undefined : anchorRatio <= 1.0, anchorRatio === undefined ? 'not measured' : `${anchorRatio.toFixed(2)}× (CPU, every rule parsed); the engine's lazy reading: ${fmt(anchorRules.lazyParseMs)} ms`);
judge('warm second diagnosis ≤ 20 ms (target case)', svcOk && (t.podToService.warmMs ?? Infinity) <= 20, `${fmt(t.podToService.warmMs)} ms pod→service, ${fmt(t.podToPod.warmMs)} ms pod→pod; cold in-process ${fmt(t.podToService.coldMs)} ms after open ${fmt(t.openMs)} ms + new Network ${fmt(t.podToService.networkMs)} ms`);
// Growth: the largest exponent between consecutive sizes, of both probes' cold diagnosis (an
// exponent over the whole range would hide a superlinear step behind the fixed cost of small sizes).
const maxExponent = (rs: Result[], size: (r: Result, i: number) => number, f: (r: Result) => number) =>
  Math.max(...rs.slice(1).map((r, i) => exponent(Math.max(1, f(rs[i])), Math.max(1, f(r)), size(rs[i], i), size(r, i + 1))));
const cold = [(r: Result) => r.podToService.coldMs, (r: Result) => r.podToPod.coldMs];
const eRules = Math.max(...cold.map((f) => maxExponent(rulesResults, (r) => r.dumpRules, f)));
judge('diagnosis grows at most linearly with the rules on the path', rulesResults.every(ok) && eRules <= 1.1, `largest exponent ${eRules.toFixed(2)} (pod→service and pod→pod cold, between consecutive sizes ${rulesResults.map((r) => r.dumpRules).join('→')} rules)`);
const eNodes = Math.max(...cold.map((f) => maxExponent(nodeResults, (_r, i) => nodeCases[i].nodes, f)));
const lazy = [...nodeResults, t].every((r) => ok(r) && r.podToService.nodeStacksBuilt <= 2 && r.podToPod.nodeStacksBuilt <= 2);
judge('diagnosis flat in the number of other nodes', nodeResults.every(ok) && eNodes <= 0.3 && lazy, `largest exponent ${eNodes.toFixed(2)} (pod→service and pod→pod cold, ${nodeCases.map((c) => c.nodes).join('→')} nodes, path nodes' dumps unchanged); every case diagnosed with ≤ 2 node stacks built: ${lazy}; open grows with the cluster: ${nodeResults.map((r) => fmt(r.openMs)).join('→')} ms`);
judge('healthy generated cluster diagnoses reachable (every case)', [...rulesResults, ...nodeResults, ...nodeResultsFull, t].every((r) => r.podToPod.verdict === 'reachable' && r.podToService.verdict === 'reachable'), 'pod→pod and pod→service');
judge('extension bundle ≤ 1 MiB', bundleBytes === undefined ? undefined : bundleBytes <= 1 << 20, bundleBytes === undefined ? 'not measured' : `${(bundleBytes / 1024).toFixed(0)} KiB`);
// ---- snapshot diff, what-if, connectivity matrix (bench/whatif.ts) --------------------------------
console.log('\nWhat changed / who can talk to whom (snapshot diff, connectivity matrix)');
try {
  for (const v of runWhatIfBench(quick)) verdicts.push(v);
} catch (e) {
  verdicts.push({ target: 'snapshot diff and matrix cases ran', pass: quick ? undefined : false, figure: (e as Error).message.split('\n')[0] });
}
const totalS = (performance.now() - started) / 1000;
judge('snapshot capture of a live cluster writes a file that loads within these targets (with --format-version 2; the default stays DESIGN.md\'s version 1)',
  capturedBest ? capturedBest.verdict === 'reachable' && capturedBest.ms <= 1000 && capturedBest.rssMB <= 400 : undefined,
  capturedBest ? `the target cluster through the capture's writer: ${fmt(capturedBest.ms)} ms wall to the CLI's verdict (${capturedBest.verdict}), peak RSS ${capturedBest.rssMB} MB, best of ${captured!.runs.length}; on a real cluster test/cluster/live.test.ts checks that the same writer's file validates and diagnoses as the version 1 capture; the version 1 file: ${fmt(answers.v1?.ms)} ms` : 'not measured');
judge('whole bench < 10 minutes', totalS < 600, `${totalS.toFixed(0)} s`);

console.log(`\nLoad average at the end: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
console.log('\nTargets');
for (const v of verdicts) console.log(`  ${v.pass === undefined ? '----' : v.pass ? 'PASS' : 'FAIL'}  ${v.target}: ${v.figure}`);
rmSync(work, { recursive: true, force: true });
if (verdicts.some((v) => v.pass === false)) process.exitCode = 1;
