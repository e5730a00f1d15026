// The IPv6 datapath cases of ipv6-datapath-kernel.test.ts replayed without root: each fixture holds
// the snapshot the collector took of the npv6 topology (pod a → node → pod b) with one thing broken,
// and what the kernel then did with a real datagram. The engine must still say the same. Regenerate
// (root) with `NETPATH_IPV6_FIXTURES=test/fixtures/ipv6-datapath node scripts/test.mjs
// test/engine/ipv6-datapath-kernel.test.ts`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { agrees, type Case, type Seen } from '../support/ipv6-datapath';

const DIR = join(import.meta.dirname, '../fixtures/ipv6-datapath');

test('ipv6 datapath fixtures: netpath says what the kernel did in every recorded case', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 16, `${files.length} fixtures`);
  const failures: string[] = [];
  for (const f of files) {
    const fx = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { case: Case; kernel: Seen; snapshot: unknown };
    const r = new Network(loadSnapshot(JSON.stringify(fx.snapshot))).diagnose({ src: 'default/a', dst: 'default/b', port: 7000, protocol: 'udp', ...(fx.case.size ? { size: fx.case.size } : {}) });
    const why = agrees(fx.case, fx.kernel, r);
    if (why) failures.push(why);
  }
  console.log(`ipv6 datapath fixtures vs recorded kernel: ${files.length - failures.length}/${files.length}`);
  assert.deepEqual(failures, []);
});
