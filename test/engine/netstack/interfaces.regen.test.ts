// When root: rebuilds the fixture topology with gen-links.sh into a temp dir and checks that
// the parsers accept what the installed iproute2 / bridge / sysctl print today, so a tool
// upgrade that changes the output is caught. Namespace prefix `npfxr-`: unique to this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelTestSkip } from '../../support/machine';
import { Fdb, parseFdb } from '../../../src/engine/netstack/fdb';
import { interfaceByName, isUp, pairVeths, parseInterfaces, parseNetnsIds } from '../../../src/engine/netstack/interfaces';
import { NeighbourTable, parseNeighbours, resolveNeighbour } from '../../../src/engine/netstack/neighbour';
import { Sysctls, rpFilter } from '../../../src/engine/netstack/sysctl';

const SCRIPT = join(import.meta.dirname, '../../fixtures/netstack/gen-links.sh');
const PREFIX = 'npfxr-';


test('gen-links.sh output of the installed tools parses, with the same facts as the fixtures', (t) => {
  const skip = kernelTestSkip(['bridge', 'sysctl', 'timeout', 'bash']);
  if (skip) return t.skip(skip);
  const dir = mkdtempSync(join(tmpdir(), 'netpath-links-'));
  try {
    const r = spawnSync('bash', [SCRIPT, dir], { env: { ...process.env, NS_PREFIX: PREFIX }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `gen-links.sh failed: ${r.stderr}`);
    const read = (p: string) => readFileSync(join(dir, p), 'utf8');
    t.diagnostic(read('VERSIONS.txt').trim().replace(/\n/g, '; '));
    const namespaces = ['node', 'pod1', 'pod2', 'ext'].map((n) => ({
      id: n,
      interfaces: parseInterfaces(read(`${n}.link.json`), read(`${n}.addr.json`)),
      netnsIds: parseNetnsIds(read(`${n}.netns.json`)),
    }));
    for (const n of ['node', 'pod1', 'pod2', 'ext']) {
      parseInterfaces(read(`${n}.link-nod.json`), read(`${n}.addr-nod.json`));
      parseNeighbours(read(`${n}.neigh.json`));
      parseNeighbours(read(`${n}.neigh6.json`));
      Sysctls.parse(read(`${n}.sysctl.txt`));
    }
    const node = namespaces[0].interfaces;
    assert.equal(interfaceByName(node, 'flannel.1')?.vxlan?.vni, 1);
    assert.equal(interfaceByName(node, 'flannel.1')?.vxlan?.port, 8472);
    assert.equal(isUp(interfaceByName(node, 'vethc')!), false);
    const { pairs, unresolved } = pairVeths(namespaces);
    assert.equal(pairs.length, 4);
    assert.deepEqual(unresolved, []);
    const neigh = new NeighbourTable(parseNeighbours(read('node.neigh-all.json')));
    assert.equal(resolveNeighbour(neigh, '10.244.1.99', 'cni0').status, 'unusable');
    assert.equal(resolveNeighbour(neigh, '10.244.2.0', 'flannel.1').status, 'usable');
    const fdb = new Fdb(parseFdb(read('node.fdb.json')));
    assert.equal(fdb.vxlanRemotes('vxlan.calico', '02:00:00:00:00:01').remotes.length, 2);
    assert.equal(rpFilter(Sysctls.parse(read('node.sysctl.txt')), 'eth0.100'), 2);
    t.diagnostic(`fresh dump: ${node.length} interfaces in node, ${pairs.length} veth pairs, ${neigh.entries.length} neighbours, ${fdb.entries.length} fdb entries`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    for (const n of ['node', 'pod1', 'pod2', 'ext']) spawnSync('ip', ['netns', 'del', `${PREFIX}${n}`]);
  }
});
