// One shard of the fuzzer: `cases` mutations of one lab snapshot (one CNI setup per shard) from one
// seed, through the engine and (every `cliEvery`-th case) the CLI, with the counts printed. Shards
// are separate test files so that the test runner can spread them over the machine's cores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../support/random';
import { main } from '../../src/cli/main';
import { Targets, check, fuzzBase, mutate, rawControl, type Outcome } from './fuzz';

/** Mutated documents per shard: 4 shards, 20,000 in `npm test` (about 3 minutes on a loaded 2-core
 * machine); `FUZZ_CASES=500` for a quick local run. */
const cases = Number(process.env.FUZZ_CASES ?? 5000);
const cliEvery = 100;
/** The issue's bound on one case (load, diagnose, three reports). */
const maxCaseMs = 5000;

export function fuzzShard(shard: number, lab: string): void {
  const seed = 0x16f0 + shard;
  test(`fuzz shard ${shard}: ${cases} mutated snapshots of ${lab} (seed ${seed}) give a result or a typed error, nothing raw shown`, async (t) => {
    const r = rng(seed);
    const { doc: base, requests } = fuzzBase(lab);
    const baseText = JSON.stringify(base);
    const targets = new Targets(base);
    const out: Outcome = { ok: 0, rejected: 0, diagnoses: 0, refused: 0, slowestMs: 0, slowestCase: '' };
    // Once unmutated first, not counted: compiling the schema and the first JIT are not a case's time.
    const warm = { ...out };
    check(baseText, requests, 'the base', r, warm);
    assert.equal(warm.diagnoses, 1, 'the unmutated base diagnoses');
    const kinds = new Map<string, number>();
    const dir = mkdtempSync(join(tmpdir(), 'netpath-fuzz-'));
    let cli = 0;
    try {
      for (let i = 0; i < cases; i++) {
        const m = mutate(baseText, targets, r);
        kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
        const what = `seed ${seed} case ${i} (${m.kind})`;
        check(m.text, requests, what, r, out);
        if (i % cliEvery === 0) {
          // The CLI as a terminal sees it: its stderr (errors, warnings) and the report on stdout.
          const file = join(dir, 'fuzz.netpath.json');
          writeFileSync(file, m.text);
          const q = requests[i % requests.length];
          let stdout = '';
          let stderr = '';
          const code = await main(['diagnose', '--snapshot', file, '--src', q.src, '--dst', q.dst, '--port', String(q.port), '--protocol', q.protocol], {
            stdout: (s) => (stdout += s),
            stderr: (s) => (stderr += s),
          });
          assert.ok(code === 0 || code === 2, `${what}: the CLI exited ${code}: ${stderr}`);
          assert.doesNotMatch(stderr, rawControl, `${what}: raw control character on the CLI's stderr`);
          assert.doesNotMatch(stdout, rawControl, `${what}: raw control character on the CLI's stdout`);
          cli++;
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    t.diagnostic(`seed ${seed}, ${lab}: ${cases} cases (${[...kinds].sort().map(([k, n]) => `${n} ${k}`).join(', ')}); ${out.rejected} rejected with a typed error, ${out.ok} loaded: ${out.diagnoses} diagnosed with three reports each, ${out.refused} requests refused with a typed error; ${cli} through the CLI; slowest ${out.slowestMs.toFixed(0)} ms (${out.slowestCase})`);
    assert.ok(out.slowestMs <= maxCaseMs, `${out.slowestCase} took ${out.slowestMs.toFixed(0)} ms (bound ${maxCaseMs} ms)`);
  });
}
