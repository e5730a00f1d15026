// A launcher (dist/cli.js, dist/server.js, dist/layout-worker.js): runs the bundle next to it
// (NETPATH_BUNDLE, set per entry by scripts/build.mjs) through its code cache, as this module.
import { join } from 'node:path';
import { runCachedBundle } from './code-cache';

declare const NETPATH_BUNDLE: string;

runCachedBundle(join(__dirname, NETPATH_BUNDLE), join(__dirname, `${NETPATH_BUNDLE}.cache`), { module, require, filename: __filename, dirname: __dirname });
