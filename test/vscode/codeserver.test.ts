// Runs the in-VS Code mocha suite in a real VS Code (code-server's bundled VS Code server +
// headless Chromium, see run.ts) so `npm test` counts it. Needs the cache built by
// test/vscode/setup.sh: without it the tests are skipped on a developer machine, but fail in CI
// (CI must have run test/vscode/ci-setup.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, readCacheEnv, type RunSummary } from './run';

const cached = readCacheEnv() !== undefined;
const skip = !cached && !process.env.CI && `no VS Code cache at ${cacheDir}: run \`bash test/vscode/setup.sh\` (about 3 min cold)`;

function runSuite(env: Record<string, string> = {}): Promise<{ code: number | null; output: string; summary: RunSummary }> {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-vscode-summary-'));
  const file = join(dir, 'summary.json');
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/vscode/run.ts', '--summary', file], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', rej);
    child.once('exit', (code) => {
      try {
        assert.ok(existsSync(file), `the runner wrote no summary (exit ${code}):\n${output}`);
        res({ code, output, summary: JSON.parse(readFileSync(file, 'utf8')) as RunSummary });
      } catch (e) {
        rej(e);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

test('the in-VS Code suite passes in code-server\'s VS Code', { skip, timeout: 300_000 }, async (t) => {
  assert.ok(cached, `CI is set but there is no VS Code cache at ${cacheDir}: .ci/run must run test/vscode/ci-setup.sh first`);
  const started = Date.now();
  const r = await runSuite();
  const passed = r.summary.outcomes.filter((o) => o.state === 'passed');
  for (const o of r.summary.outcomes) t.diagnostic(`${o.state}: ${o.title}${o.error ? ` — ${o.error.split('\n')[0]}` : ''}`);
  t.diagnostic(`VS Code ${r.summary.vscodeVersion}: ${passed.length}/${r.summary.outcomes.length} in-VS Code tests passed; build ${r.summary.seconds.build}s, server ${r.summary.seconds.server}s, suite ${r.summary.seconds.suite}s, total ${r.summary.seconds.total}s`);
  assert.equal(r.code, 0, `runner failed: ${r.summary.reason}\n${r.output}`);
  assert.ok(passed.length > 0 && passed.length === r.summary.outcomes.length, r.output);
  // The screenshot suite (suite/screens.suite.ts) wrote fresh PNGs of the tree, Problems and report.
  for (const name of ['vscode-tree', 'vscode-problems', 'vscode-report']) {
    const file = join('test/artifacts', `${name}.png`);
    assert.ok(existsSync(file) && statSync(file).mtimeMs >= started - 1000, `${file} was not written by this run`);
    t.diagnostic(`${file}: ${(statSync(file).size / 1024).toFixed(0)} KiB`);
  }
});

// Guards the runner itself: a failing test inside VS Code must fail the run, not vanish.
test('a deliberately failing in-VS Code test fails the run', { skip, timeout: 300_000 }, async (t) => {
  assert.ok(cached, `CI is set but there is no VS Code cache at ${cacheDir}`);
  const r = await runSuite({ NETPATH_VSCODE_SELFTEST: 'fail' });
  const failed = r.summary.outcomes.filter((o) => o.state === 'failed');
  t.diagnostic(`deliberate failure: runner exit ${r.code}, ${failed.length} failed: ${failed.map((o) => o.title).join('; ')}`);
  assert.equal(r.code, 1, r.output);
  assert.deepEqual(failed.map((o) => o.title), ['runner self-test deliberately fails (NETPATH_VSCODE_SELFTEST=fail)']);
  assert.ok(r.summary.screenshot && existsSync(r.summary.screenshot), 'a failed run leaves a screenshot in test/artifacts/');
});
