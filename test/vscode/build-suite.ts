// Bundles the in-VS Code mocha suite (test/vscode/suite/) into one CommonJS file that the
// extension host can require from anywhere: mocha is bundled in, `vscode` is the host's.
import * as esbuild from 'esbuild';
import { join, resolve } from 'node:path';

export async function buildSuite(outDir: string): Promise<string> {
  const outfile = join(outDir, 'suite.js');
  await esbuild.build({
    entryPoints: [resolve(__dirname, 'suite/index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'error',
  });
  return outfile;
}
