// The kernel ground-truth lab, live (root only): for every topology the healthy probes all succeed,
// and every fault of the catalogue breaks its target probe FOR THE REASON INJECTED: the outcome (and
// errno where the kernel is precise) matches, the fault's own evidence holds (its rule counted the
// packets, the kernel's rp_filter counter rose, ...) and undoing exactly that fault restores the path.
// And the engine is judged on every case while it is live (healthy and each fault, the fault still
// applied): `netpath collect` dumps every node, `netpath snapshot assemble` builds the snapshot (both
// through dist/cli.js, as make-cases does), and the in-process engine diagnoses every probe under the
// same agreement rules as the committed cases (test/support/lab-judge.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { judgeCase } from '../support/lab-judge';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULTS } from './faults';
import { LAB_CP, REPO } from './lab';
import { TOPOLOGIES, writeCase } from './make-cases';
import { runTopology, type CaseResult, type Variant } from './runner';
import { DUAL_STACK_CP_ENV, VARIANTS } from './variants';
import { removeStaleNetns } from './topology';
import { kernelTestSkip } from '../support/machine';

// Several labs may run on one machine (each with its own control plane, NETPATH_LAB_CP and ports):
// each needs its own netns prefix.
const PREFIX = process.env.NETPATH_LAB_PREFIX ?? 'nptest';
const K8S = join(REPO, 'test', 'lab', 'k8s');

const skip = kernelTestSkip(['bridge', 'iptables', 'iptables-save', 'ipset', 'socat', 'sysctl']);

test('kernel ground-truth lab', { skip, timeout: 30 * 60_000 }, async (t) => {
  // the engine is judged on collected dumps: the collector and assembler are the built CLI's
  assert.ok(existsSync(join(REPO, 'dist', 'cli.js')), 'dist/cli.js missing: run npm run build (the live lab collects and assembles through it)');
  removeStaleNetns(PREFIX);
  // the control plane: built once and cached outside the repo (~5-7 min cold), reused when running
  execFileSync(join(K8S, 'build.sh'), { stdio: 'inherit', timeout: 30 * 60_000 });
  const wasRunning = spawnSync('sh', ['-c', `[ -f ${LAB_CP}/apiserver.pid ] && kill -0 $(cat ${LAB_CP}/apiserver.pid)`]).status === 0;
  // the dual-stack variants need the control plane's IPv6DualStack gate and both families' ranges
  const cpEnv = { ...process.env, ...Object.fromEntries(Object.entries(DUAL_STACK_CP_ENV).map(([k, v]) => [k, [process.env[k], v].filter(Boolean).join(' ')])) };
  execFileSync(join(K8S, 'start.sh'), { stdio: 'inherit', timeout: 120_000, env: cpEnv });
  const work = mkdtempSync(join(tmpdir(), 'netpath-lab-'));
  const all: CaseResult[] = [];
  const engine = { agree: 0, total: 0, cases: 0, failures: [] as string[], ms: 0 };
  try {
    const runs: { name: string; plugin: (typeof TOPOLOGIES)[number]; variant?: Variant }[] = [
      ...TOPOLOGIES.map((plugin) => ({ name: plugin, plugin })),
      ...VARIANTS.map((variant) => ({ name: variant.name, plugin: variant.plugin, variant })),
    ];
    for (const { name: plugin, plugin: kind, variant } of runs) {
      await t.test(plugin, async (tt) => {
        const t0 = Date.now();
        const before = { agree: engine.agree, total: engine.total };
        let snapshotChecked = false;
        const results = await runTopology(kind, {
          prefix: PREFIX, kubeconfig: join(LAB_CP, 'kubeconfig'), variant,
          onCase: async (lab, c) => {
            const dir = join(work, c.name);
            const tc = Date.now();
            await writeCase(lab, c, dir, false);
            const text = readFileSync(join(dir, 'snapshot.netpath.json'), 'utf8');
            if (!c.fault) {
              const snap = JSON.parse(text);
              assert.equal(snap.kind, 'NetpathSnapshot');
              assert.deepEqual(Object.keys(snap.dumps).sort(), ['node1', 'node2']);
              assert.equal(snap.objects.pods.length, 5, `${plugin}: pods read back from the apiserver`);
              snapshotChecked = true;
            }
            rmSync(dir, { recursive: true, force: true });
            try {
              const j = judgeCase(c.name, text, c.probes);
              engine.agree += j.agree;
              engine.total += j.total;
              engine.failures.push(...j.failures);
            } catch (e) {
              // the engine throwing on a real snapshot is a disagreement on every probe of the case
              engine.total += c.probes.length;
              engine.failures.push(`${c.name}: the engine threw: ${(e as Error).stack ?? e}`);
            }
            engine.cases++;
            engine.ms += Date.now() - tc;
          },
        });
        all.push(...results);
        const healthy = results.find((r) => !r.fault)!;
        const bad = healthy.probes.filter((p) => p.outcome !== 'reachable');
        assert.deepEqual(bad.map((p) => `${p.probe}: ${p.outcome} ${p.errno ?? ''}`), [], `${plugin}: healthy probes must all be reachable`);
        for (const c of results.filter((r) => r.fault)) {
          const f = c.fault!;
          const target = c.probes.find((p) => p.probe === c.target);
          assert.ok(target, `${c.name}: target probe ${c.target} was not run (${c.evidenceError ?? ''})`);
          assert.ok(f.expect.includes(target.outcome), `${c.name}: ${c.target} gave ${target.outcome}${target.errno ? ' ' + target.errno : ''}, expected ${f.expect.join('|')}`);
          if (f.errno) assert.ok(target.errno && f.errno.includes(target.errno), `${c.name}: errno ${target.errno} not in ${f.errno.join('|')}`);
          assert.equal(c.evidenceError, undefined, `${c.name}: the failure is not shown to come from the fault: ${c.evidenceError}`);
          assert.equal(c.restored?.outcome, 'reachable', `${c.name}: undoing the fault did not restore ${c.target}: ${JSON.stringify(c.restored)}`);
        }
        assert.ok(snapshotChecked, `${plugin}: the healthy case was not collected`);
        tt.diagnostic(`${plugin}: ${healthy.probes.length} healthy probes reachable, ${results.length - 1} faults bit for their reason; `
          + `engine agrees on ${engine.agree - before.agree}/${engine.total - before.total} probes; ${Date.now() - t0} ms`);
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    removeStaleNetns(PREFIX);
    if (!wasRunning) execFileSync(join(K8S, 'stop.sh'), { stdio: 'inherit' });
  }
  const faults = all.filter((c) => c.fault);
  const probes = all.reduce((n, c) => n + c.probes.length, 0);
  t.diagnostic(`lab: ${TOPOLOGIES.length + VARIANTS.length} topologies, ${faults.length} faults (catalogue ${FAULTS.length}), ${probes} real probes; `
    + `${faults.filter((c) => c.probes.some((p) => p.outcome !== 'reachable')).length}/${faults.length} faults broke their target for the injected reason `
    + `(${faults.filter((c) => c.fault!.expect.includes('reachable')).length} by design only degrade it: the kernel still delivers)`);
  const summary = `lab (live): engine agrees on ${engine.agree}/${engine.total} probes over ${engine.cases} cases`;
  t.diagnostic(`${summary} (collect + assemble + diagnose: ${engine.ms} ms in all)`);
  console.log(summary);
  assert.equal(engine.failures.length, 0, `engine disagrees with the kernel:\n${engine.failures.join('\n')}`);
});
