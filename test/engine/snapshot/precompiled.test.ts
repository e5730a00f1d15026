// The snapshot validators the bundles carry (ajv standalone code, scripts/standalone-validators.ts)
// decide and report exactly as ajv compiling the same schema at run time (what runs from source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, resolve } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { snapshotAjv } from '../../../src/engine/snapshot/load';
import { validatedSchemas } from '../../../src/engine/snapshot/schema';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function standalone(): Record<string, ValidateFunction> {
  const code = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/standalone-validators.ts'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  // Loaded where build.mjs puts it, so that its `require("./formats")` is the engine's module.
  const file = resolve('src/engine/snapshot/precompiled.generated.js');
  const m = new Module(file) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(file));
  m._compile(code, file);
  return (m.exports as { precompiled: Record<string, ValidateFunction> }).precompiled;
}

const fixture = (): Doc => JSON.parse(readFileSync('test/fixtures/snapshot/healthy.netpath.json', 'utf8'));
const mutations: [string, (d: Doc) => unknown][] = [
  ['as committed', () => undefined],
  ['capturedAt not a time', (d) => (d.capturedAt = 'yesterday')],
  ['misspelt field', (d) => (d.dump = 1)],
  ['pod name breaks DNS-1123', (d) => (d.objects.pods[0].metadata.name = 'Bad_Name')],
  ['pod IP not an IP', (d) => (d.objects.pods[1].status.podIP = '10.244.1.300')],
  ['label key with an empty prefix', (d) => (d.objects.pods[0].metadata.labels = { '/x': 'y', ok: 'not ok!' })],
  ['port out of range', (d) => (d.objects.services[0].spec.ports[0].port = 70000)],
  ['routes not a list', (d) => (d.dumps.node1.netns[0].routes = {})],
  ['podCIDR without length', (d) => (d.settings.podCIDRs = ['10.244.1.0'])],
];

test('every validatedSchemas schema is compiled ahead of time, with the same verdicts and errors', () => {
  const pre = standalone();
  assert.deepEqual(Object.keys(pre).sort(), Object.keys(validatedSchemas).sort());
  const ajv = snapshotAjv();
  const parts = (d: Doc): [string, unknown][] => [
    ['snapshot', d],
    ['dump', d.dumps.node1],
    ['objects.pods', d.objects.pods],
    ['objects.pods[]', d.objects.pods[0]],
    ['objects.pods[]', d.objects.pods[1]],
    ['objects.services', d.objects.services],
  ];
  let rejected = 0;
  for (const [what, mutate] of mutations) {
    const d = fixture();
    mutate(d);
    for (const [name, data] of parts(d)) {
      const runtime = ajv.compile(validatedSchemas[name]);
      const ok = runtime(data);
      assert.equal(pre[name](data), ok, `${what}: ${name}`);
      assert.deepEqual(pre[name].errors ?? null, runtime.errors ?? null, `${what}: ${name}`);
      if (!ok) rejected++;
    }
  }
  assert.ok(rejected >= mutations.length - 1, 'the mutations are rejected');
});
