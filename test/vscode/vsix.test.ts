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
    // `npm run package`'s vsce command line, output to the temp dir; both streams read: vsce warns
    // (a missing icon, changelog or license, an SVG icon, a `*` activation…) without failing.
    const pkg = spawnSync('npm', ['run', 'package', '--', '-o', vsix], { encoding: 'utf8', timeout: 5 * 60_000 });
    const out = pkg.stdout + pkg.stderr;
    assert.equal(pkg.status, 0, out);
    assert.ok(existsSync(vsix), out);
    assert.doesNotMatch(out, /\bWARN(ING)?\b/i, 'npm run package warns about nothing');
    assert.match(pkg.stdout, /DONE\s+Packaged/);
    const listing = execFileSync(process.execPath, ['node_modules/@vscode/vsce/vsce', 'ls', '--no-dependencies'], { encoding: 'utf8' });
    // (The server, its layout worker and the CLI ship as a launcher, its bundle and the bundle's code cache.)
    const launched = ['server', 'layout-worker', 'cli'].flatMap((n) => [`dist/${n}.js`, `dist/${n}.bundle.js`, `dist/${n}.bundle.js.cache`]);
    for (const f of ['dist/extension.js', ...launched, 'dist/webview.js', 'package.json']) assert.match(listing, new RegExp(`^${f.replace(/\./g, '\\.')}$`, 'm'), `${f} is packaged`);
    // The layout runs in the diagnosis server's layout worker (dist/layout-worker.js): the old layout bundle does not ship.
    assert.doesNotMatch(listing, /^dist\/layout\.js$/m, 'dist/layout.js is not packaged');
    assert.doesNotMatch(listing, /^(src|test|node_modules)\//m, 'no sources, tests or node_modules');
    // The walkthrough's first step opens the broken sample from the installed extension; the other samples stay out.
    assert.deepEqual(listing.match(/^samples\/.*$/gm), ['samples/broken.netpath.json']);
    for (const f of ['media/icon.png', 'CHANGELOG.md', 'media/walkthrough-explorer.md']) assert.match(listing, new RegExp(`^${f.replace(/\./g, '\\.')}$`, 'm'), `${f} is packaged`);
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
