// The netpath.limits.* settings: declared in package.json with the defaults, scope and minimum the
// code has (src/shared/limits.ts), and read into the request's `limits` only when changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readSettings } from '../../src/shared/settings';
import { engineLimits, limitDefaults, requestLimitNames } from '../../src/shared/limits';
import { limitSettings } from '../../src/cluster/limits';

const declared = JSON.parse(readFileSync('package.json', 'utf8')).contributes.configuration.properties as Record<string, { type: string; default: unknown; minimum?: number; scope?: string }>;

test('every limit is an application-scope integer setting with the code\'s default, named as its errors name it', () => {
  const settingOf = (n: (typeof requestLimitNames)[number]) => (n in engineLimits ? engineLimits[n as keyof typeof engineLimits].setting : limitSettings[n as keyof typeof limitSettings]);
  for (const name of requestLimitNames) {
    const key = settingOf(name);
    assert.equal(key, `netpath.limits.${name}`);
    const s = declared[key];
    assert.ok(s, `${key} is declared`);
    assert.deepEqual([s.type, s.default, s.minimum, s.scope], ['integer', limitDefaults[name], 1, 'application'], key);
  }
  assert.deepEqual(Object.keys(declared).filter((k) => k.startsWith('netpath.limits.')).sort(), requestLimitNames.map((n) => `netpath.limits.${n}`).sort());
});

test('readSettings sends only the limits changed from their defaults, and ignores invalid values', () => {
  const get = (values: Record<string, unknown>) => <T>(k: string) => (k in values ? values[k] : k.startsWith('limits.') ? limitDefaults[k.slice(7) as keyof typeof limitDefaults] : undefined) as T | undefined;
  assert.deepEqual(readSettings(get({})).limits, {});
  assert.deepEqual(readSettings(get({ 'limits.maxJsonDepth': 400, 'limits.maxDumpBytes': 2 ** 30 })).limits, { maxJsonDepth: 400, maxDumpBytes: 2 ** 30 });
  assert.deepEqual(readSettings(get({ 'limits.maxJsonDepth': 0, 'limits.ipsetElementBudget': 1.5, 'limits.maxSnapshotChars': 'big' })).limits, {});
});
