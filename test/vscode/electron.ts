// Runs the same in-VS Code mocha suite under @vscode/test-electron, for machines that can
// download VS Code (this one cannot: use run.ts / `npm run test:codeserver` here). On a Linux
// machine without a display, run it under `xvfb-run -a`.
// usage: npm run test:vscode       env: NETPATH_VSCODE_VERSION (default: stable)
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSuite } from './build-suite';
import type { SuiteOutcome } from './suite/index';

async function main(): Promise<number> {
  const repo = resolve(__dirname, '../..');
  const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repo, stdio: 'inherit' });
  if (b.status !== 0) return 1;
  const tmp = mkdtempSync(join(tmpdir(), 'netpath-vscode-electron-'));
  try {
    const suite = await buildSuite(join(tmp, 'suite'));
    const workspace = join(tmp, 'workspace');
    mkdirSync(workspace);
    const resultFile = join(tmp, 'result.json');
    let code: number;
    try {
      code = await runTests({
        version: process.env.NETPATH_VSCODE_VERSION ?? 'stable',
        extensionDevelopmentPath: repo,
        extensionTestsPath: suite,
        extensionTestsEnv: { NETPATH_VSCODE_RESULT: resultFile },
        launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--user-data-dir', join(tmp, 'user-data')],
      });
    } catch (e) {
      console.error(`test-electron: ${(e as Error).message ?? e}`);
      code = 1;
    }
    // Same guard as run.ts: success with no recorded test means nothing ran.
    const outcomes = existsSync(resultFile) ? (JSON.parse(readFileSync(resultFile, 'utf8')).outcomes as SuiteOutcome[]) : [];
    const failed = outcomes.filter((o) => o.state === 'failed').length;
    console.log(`in-VS Code suite (test-electron): ${outcomes.length - failed} passing, ${failed} failing`);
    return code === 0 && outcomes.length > 0 && failed === 0 ? 0 : 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then((c) => process.exit(c));
