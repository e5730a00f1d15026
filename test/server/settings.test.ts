// The VS Code settings that override detection reach the engine under the names it reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { effectiveSettings } from '../../src/server/endpoints';
import { detectPlugin } from '../../src/engine/plugins/detect';
import { loadSnapshot } from '../../src/engine/snapshot/load';

test('podCIDRs and nodeUplink overrides win over detection in the engine', () => {
  const s = loadSnapshot(readFileSync('samples/healthy.netpath.json', 'utf8'));
  const { effective, overridden } = effectiveSettings(s.settings, { podCIDRs: ['10.200.0.0/16'], nodeUplink: 'ens5', networkPlugin: 'generic' });
  assert.deepEqual(overridden, ['networkPlugin', 'nodeUplink', 'podCIDRs']);
  const cfg = detectPlugin({ ...s, settings: effective });
  assert.deepEqual(cfg.clusterCIDRs.value, ['10.200.0.0/16']);
  assert.equal(cfg.plugin.value, 'generic');
  assert.equal(cfg.uplinkOverride?.value, 'ens5');
});
