// Entry point VS Code loads as `extensionTestsPath` (real VS Code via code-server, or
// @vscode/test-electron): runs the mocha suite inside the extension host and rejects when any
// test fails, which VS Code turns into a non-zero exit. With NETPATH_VSCODE_RESULT set it also
// writes every test's outcome there, so the runner can count what ran (a suite that silently ran
// nothing must not pass).
import Mocha from 'mocha';
import { writeFileSync } from 'node:fs';

export interface SuiteOutcome {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, reporter: 'spec' });
  // Load the suite files into this instance (bundled alongside, so `require` here is esbuild's).
  mocha.suite.emit('pre-require', globalThis, 'netpath-suite', mocha);
  require('./firstrun.suite'); // first: it needs the fresh profile (no run, netpath not yet active)
  require('./manifest.suite');
  require('./netpath.suite');
  require('./live.suite');
  require('./hostile.suite');
  require('./yaml-findings.suite'); // writes its own files into the workspace and removes them
  // Screenshots only where a runner can take them (run.ts), and never in the self-test run.
  if (require('./screenshot').available() && !process.env.NETPATH_VSCODE_SELFTEST) require('./screens.suite');
  // Matrix, compare and the narrow link path (issue 18 items 4, 5, 7): not in the self-test run.
  if (!process.env.NETPATH_VSCODE_SELFTEST) require('./views.suite');
  // The responsiveness acceptance test (issue 12): a generated 1,000-backend snapshot, not in the self-test run.
  if (!process.env.NETPATH_VSCODE_SELFTEST) require('./layout.suite');
  if (process.env.NETPATH_VSCODE_SELFTEST === 'fail') require('./selftest.suite');

  const outcomes: SuiteOutcome[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const file = process.env.NETPATH_VSCODE_RESULT;
      if (file) writeFileSync(file, JSON.stringify({ vscodeVersion: require('vscode').version, outcomes }, null, 1));
      if (failures > 0) reject(new Error(`${failures} of ${outcomes.length} tests failed`));
      else if (outcomes.length === 0) reject(new Error('no test ran'));
      else resolve();
    });
    runner.on('pass', (t) => outcomes.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration }));
    runner.on('fail', (t, err: Error) => outcomes.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack ?? err) }));
    runner.on('pending', (t) => outcomes.push({ title: t.fullTitle(), state: 'pending' }));
  });
}
