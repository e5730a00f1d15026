// `netpath` (dist/cli.js): the CLI bundle (dist/cli.bundle.js, from src/cli/main.ts) run through its code cache.
import { join } from 'node:path';
import { runCachedBundle } from './code-cache';

runCachedBundle(join(__dirname, 'cli.bundle.js'), join(__dirname, 'cli.bundle.js.cache'), { module, require, filename: __filename, dirname: __dirname });
