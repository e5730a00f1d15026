// The launcher's code cache (src/launch/code-cache.ts): written by a training run, used by the next
// run of the same build only, and never a reason for a run to fail (another build's cache, or one
// V8 rejects, only costs compile time). Child processes, as the launcher runs in a fresh process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Script } from 'node:vm';

const launcher = resolve('src/launch/code-cache.ts');

/** A bundle of build `id` (no id: no build line), and a host that runs it through the cache as its launcher would. */
function setup(dir: string, id: string | undefined): void {
  const body = `"use strict";
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
module.exports.answer = fib(15);
if (require.main === module) console.log('main ' + module.exports.answer + ' ' + require('node:path').basename(__filename));
`;
  writeFileSync(join(dir, 'app.bundle.js'), (id ? `/* netpath-build ${id} */\n` : '') + body);
  writeFileSync(join(dir, 'host.ts'), `import { runCachedBundle } from ${JSON.stringify(launcher)};
const use = runCachedBundle(${JSON.stringify(join(dir, 'app.bundle.js'))}, ${JSON.stringify(join(dir, 'app.bundle.js.cache'))}, { module, require, filename: __filename, dirname: __dirname });
console.error('USE ' + use);
`);
}

function runHost(dir: string, train = false) {
  const env = { ...process.env };
  delete env.NETPATH_CODE_CACHE_OUT;
  if (train) env.NETPATH_CODE_CACHE_OUT = join(dir, 'app.bundle.js.cache');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'host.ts')], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout.trim(), use: /USE (\w+)/.exec(r.stderr)?.[1], stderr: r.stderr };
}

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-cache-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a training run writes the cache; the next run of the same build uses it and runs as the entry module', () =>
  withDir((dir) => {
    setup(dir, '0f1e2d3c-aaaa-4bbb-8ccc-000000000001');
    const first = runHost(dir, true);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.use, 'none');
    assert.equal(first.stdout, 'main 610 host.ts', 'the bundle runs as the host module (require.main, __filename)');
    const cache = readFileSync(join(dir, 'app.bundle.js.cache'));
    assert.ok(cache.subarray(0, 60).toString('latin1').startsWith('/* netpath-build 0f1e2d3c-aaaa-4bbb-8ccc-000000000001 */\n'), 'the cache names its build');
    const second = runHost(dir);
    assert.deepEqual([second.code, second.use, second.stdout], [0, 'used', 'main 610 host.ts']);
  }));

test("another build's cache is not used, and a cache V8 rejects only costs compile time", () =>
  withDir((dir) => {
    setup(dir, '0f1e2d3c-aaaa-4bbb-8ccc-000000000001');
    assert.equal(runHost(dir, true).code, 0);
    // Rebuilt: same source length, another build id (V8 alone would take the old bytecode).
    setup(dir, '0f1e2d3c-aaaa-4bbb-8ccc-000000000002');
    const stale = runHost(dir);
    assert.deepEqual([stale.code, stale.use, stale.stdout], [0, 'stale', 'main 610 host.ts']);
    // The right build line, bytes V8 cannot use.
    const line = '/* netpath-build 0f1e2d3c-aaaa-4bbb-8ccc-000000000002 */\n';
    writeFileSync(join(dir, 'app.bundle.js.cache'), Buffer.concat([Buffer.from(line, 'latin1'), Buffer.alloc(4096, 7)]));
    const bad = runHost(dir);
    assert.deepEqual([bad.code, bad.use, bad.stdout], [0, 'rejected', 'main 610 host.ts']);
    rmSync(join(dir, 'app.bundle.js.cache'));
    const none = runHost(dir);
    assert.deepEqual([none.code, none.use, none.stdout], [0, 'none', 'main 610 host.ts']);
  }));

test('a bundle without a build line is run without a cache and none is written', () =>
  withDir((dir) => {
    setup(dir, undefined);
    const r = runHost(dir, true);
    assert.deepEqual([r.code, r.use, r.stdout], [0, 'none', 'main 610 host.ts']);
    assert.equal(existsSync(join(dir, 'app.bundle.js.cache')), false);
  }));

for (const name of ['cli', 'server', 'layout-worker']) {
  const built = [`dist/${name}.js`, `dist/${name}.bundle.js`, `dist/${name}.bundle.js.cache`];
  test(`the build writes a cache that this node accepts for dist/${name}.bundle.js`, { skip: !built.every(existsSync) && 'run `npm run build` first' }, () => {
    const source = readFileSync(`dist/${name}.bundle.js`, 'utf8');
    const line = /^\/\* netpath-build [0-9a-f-]+ \*\/\n/.exec(source)?.[0];
    assert.ok(line, 'the bundle names its build');
    const cache = readFileSync(`dist/${name}.bundle.js.cache`);
    assert.equal(cache.subarray(0, line.length).toString('latin1'), line, 'the cache is of this build');
    const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename: resolve(`dist/${name}.bundle.js`), cachedData: cache.subarray(line.length) });
    assert.equal(script.cachedDataRejected, false);
  });
}

test('dist/cli.js runs through its launcher', { skip: !existsSync('dist/cli.js') && 'run `npm run build` first' }, () => {
  const r = spawnSync(process.execPath, ['dist/cli.js', '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('compile only: the cache is written right after compiling and the bundle does not run', () =>
  withDir((dir) => {
    setup(dir, '0f1e2d3c-aaaa-4bbb-8ccc-000000000003');
    const env = { ...process.env, NETPATH_CODE_CACHE_OUT: join(dir, 'app.bundle.js.cache'), NETPATH_CODE_CACHE_COMPILE_ONLY: '1' };
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, 'host.ts')], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '', 'the bundle did not run');
    assert.ok(existsSync(join(dir, 'app.bundle.js.cache')));
    const next = runHost(dir);
    assert.deepEqual([next.code, next.use, next.stdout], [0, 'used', 'main 610 host.ts']);
  }));

test('a bundle that is not ASCII is read as UTF-8', () =>
  withDir((dir) => {
    setup(dir, '0f1e2d3c-aaaa-4bbb-8ccc-000000000004');
    writeFileSync(join(dir, 'app.bundle.js'), '/* netpath-build 0f1e2d3c-aaaa-4bbb-8ccc-000000000004 */\nconsole.log("größe ✓");\n');
    const r = runHost(dir);
    assert.deepEqual([r.code, r.stdout], [0, 'größe ✓']);
  }));
