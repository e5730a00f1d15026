// Bundles the entry points with esbuild (the server, its layout worker and the CLI each as a
// launcher and its bundle). `--production` minifies and drops sourcemaps
// (used by `npm run package`); `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
  legalComments: 'none',
};
// The collector script is inlined into the node bundles (src/collector/script.ts reads it from disk when run from source).
const collectorScript = JSON.stringify(readFileSync('src/collector/collect.sh', 'utf8'));
// The snapshot validators are compiled here, once, instead of by ajv in every process that loads a
// snapshot (scripts/standalone-validators.ts): the bundles get that code for src/engine/snapshot/precompiled.ts.
// Not in --watch, where a schema edit would leave them stale: those bundles compile at run time, as from source.
const precompiledPath = resolve('src/engine/snapshot/precompiled.ts');
const validators = watch ? '' : execFileSync(process.execPath, ['--import', 'tsx', 'scripts/standalone-validators.ts'], { encoding: 'utf8', maxBuffer: 1 << 26 });
const precompiled = {
  name: 'precompiled-validators',
  setup(build) {
    build.onLoad({ filter: /[\\/]engine[\\/]snapshot[\\/]precompiled\.ts$/ }, (args) =>
      args.path === precompiledPath ? { contents: validators, loader: 'js', resolveDir: resolve('src/engine/snapshot') } : undefined,
    );
  },
};
const node = { ...common, platform: 'node', target: 'node20', format: 'cjs', define: { NETPATH_COLLECTOR_SCRIPT: collectorScript }, plugins: watch ? [] : [precompiled] };

/** A bundle named for its build, and its launcher. */
function launched(name, entry, shebang) {
  const bundle = `${name}.bundle.js`;
  return [
    { ...node, entryPoints: [entry], outfile: `dist/${bundle}`, banner: { js: `/* netpath-build ${randomUUID()} */` } },
    { ...node, entryPoints: ['src/launch/launcher.ts'], outfile: `dist/${name}.js`, define: { NETPATH_BUNDLE: JSON.stringify(bundle) }, plugins: [], ...(shebang ? { banner: { js: shebang } } : {}) },
  ];
}

const builds = [
  { ...node, entryPoints: ['src/extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // The server, its layout worker and the CLI are each a small launcher (dist/NAME.js) that runs
  // its bundle (dist/NAME.bundle.js) through V8's code cache (src/launch/code-cache.ts).
  ...launched('server', 'src/server/main.ts'),
  // The server's layout worker: elkjs (3.3 MB) and the layout alone, out of the server's bundle,
  // which every diagnosis worker thread loads (src/server/layout-worker.ts).
  ...launched('layout-worker', 'src/server/layout-worker.ts'),
  ...launched('cli', 'src/cli/main.ts', '#!/usr/bin/env node'),
  { ...common, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' },
];

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching for changes…');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  writeCodeCaches();
}

/**
 * The code caches of the launched bundles. The CLI's by a training run (a diagnosis of the bundled
 * sample: the code a diagnosis runs, compiled); the server's and the layout worker's right after
 * compiling (they need a client to run: their scripts are then deserialized instead of parsed, and
 * what they run compiles as usual). A cache that could not be written only costs startup time, so
 * it is a warning, not a failed build.
 */
function writeCodeCaches() {
  const write = (name, args, compileOnly) => {
    const cache = `dist/${name}.bundle.js.cache`;
    rmSync(cache, { force: true });
    const r = spawnSync(process.execPath, [`dist/${name}.js`, ...args], {
      env: { ...process.env, NETPATH_CODE_CACHE_OUT: cache, ...(compileOnly ? { NETPATH_CODE_CACHE_COMPILE_ONLY: '1' } : {}) },
      encoding: 'utf8',
    });
    if (!existsSync(cache)) console.warn(`warning: ${cache} not written (exit ${r.status}: ${(r.stderr || '').slice(-500)})`);
  };
  write('cli', ['diagnose', '--snapshot', 'samples/broken.netpath.json', '--src', 'default/client', '--dst', 'svc/default/web-remote', '--port', '80'], false);
  write('server', [], true);
  write('layout-worker', [], true);
}
