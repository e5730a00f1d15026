// The packaged extension: `vsce package` (3.9, Node 20) builds a .vsix that a real VS Code
// (code-server 4.139.1 = VS Code 1.139.1) installs, with the bundles it needs and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cacheDir, readCacheEnv } from './run';

const env = readCacheEnv();
const skip = !env && !process.env.CI && `no VS Code cache at ${cacheDir}: run \`bash test/vscode/setup.sh\``;

test('npm run package builds a .vsix that installs into VS Code (code-server)', { skip, timeout: 10 * 60_000 }, () => {
  assert.ok(env, `CI must have run test/vscode/ci-setup.sh (no ${cacheDir}/env.json)`);
  const dir = mkdtempSync(join(tmpdir(), 'netpath-vsix-'));
  try {
    const vsix = join(dir, 'netpath.vsix');
    const out = execFileSync(process.execPath, ['node_modules/@vscode/vsce/vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', vsix], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5 * 60_000 });
    assert.ok(existsSync(vsix), out);
    const listing = execFileSync(process.execPath, ['node_modules/@vscode/vsce/vsce', 'ls', '--no-dependencies'], { encoding: 'utf8' });
    for (const f of ['dist/extension.js', 'dist/server.js', 'dist/webview.js', 'package.json']) assert.match(listing, new RegExp(`^${f.replace('.', '\\.')}$`, 'm'), `${f} is packaged`);
    // The layout runs in the diagnosis server (dist/server.js): no separate layout bundle ships.
    assert.doesNotMatch(listing, /^dist\/layout\.js$/m, 'dist/layout.js is not packaged');
    assert.doesNotMatch(listing, /^(src|test|node_modules|samples)\//m, 'no sources, tests, samples or node_modules');
    console.log(`vsix: ${(statSync(vsix).size / 1024).toFixed(0)} KiB`);

    // serverMain = <code-server>/lib/vscode/out/server-main.js; the CLI is <code-server>/out/node/entry.js
    const codeServer = join(dirname(dirname(dirname(dirname(env!.serverMain)))), 'out', 'node', 'entry.js');
    const cs = (...args: string[]) => spawnSync(env!.node, [codeServer, '--extensions-dir', join(dir, 'ext'), '--user-data-dir', join(dir, 'ud'), ...args], { encoding: 'utf8', timeout: 120_000 });
    const inst = cs('--install-extension', vsix);
    assert.equal(inst.status, 0, inst.stdout + inst.stderr);
    assert.match(inst.stdout, /successfully installed/);
    const list = cs('--list-extensions', '--show-versions');
    assert.match(list.stdout, /^netpath\.netpath@\d+\.\d+\.\d+$/m, list.stdout + list.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
