// Property: mutated real `ip -j -d link/addr` output either parses or throws ParseError, and
// whatever parses can be used by the lookups without throwing.
import { test } from 'node:test';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  bridgePorts, downReason, pairVeths, parseInterfaces, parseNetnsIds, primaryAddress,
} from '../../../src/engine/netstack/interfaces';
import { jsonInputs, parsesOrParseError, takeOutcomes } from './fixture-mutations';

const FIX = join(import.meta.dirname, '../../fixtures/netstack/links');
const read = (p: string) => readFileSync(join(FIX, p), 'utf8');
const LINKS = ['gen/node.link.json', 'gen/pod1.link.json', 'gen/node.link-nod.json', 'two-node-dump/node1.link.json'].map(read);
const ADDRS = ['gen/node.addr.json', 'gen/ext.addr.json', 'gen/node.addr-nod.json', 'two-node-dump/pod1.addr.json'].map(read);
const RUNS = 10_000;

function exercise(linkJson: string, addrJson: string) {
  const ifs = parseInterfaces(linkJson, addrJson);
  for (const i of ifs) {
    downReason(i);
    primaryAddress(i, 4, { dst: '10.244.1.9' });
    primaryAddress(i, 6, { dst: 'fe80::1', maxScope: 'host' });
    if (i.kind === 'bridge') bridgePorts(ifs, i);
  }
  pairVeths([{ id: 'a', interfaces: ifs }, { id: 'b', interfaces: ifs, netnsIds: new Map([[0, 'a'], [1, 'b']]) }]);
}

test(`ip -j -d link: ${RUNS} mutated inputs parse or throw ParseError`, () => {
  const start = Date.now();
  fc.assert(fc.property(jsonInputs(LINKS), (link) => parsesOrParseError(() => exercise(link, ADDRS[0]))), { numRuns: RUNS, seed: 1 });
  console.log(`ip -j -d link: ${RUNS} mutated inputs: ${takeOutcomes()}, nothing else (${Date.now() - start} ms)`);
});

test(`ip -j -d addr: ${RUNS} mutated inputs parse or throw ParseError`, () => {
  const start = Date.now();
  fc.assert(fc.property(jsonInputs(ADDRS), (addr) => parsesOrParseError(() => exercise(LINKS[0], addr))), { numRuns: RUNS, seed: 2 });
  console.log(`ip -j -d addr: ${RUNS} mutated inputs: ${takeOutcomes()}, nothing else (${Date.now() - start} ms)`);
});

test(`ip -j netns list-id: ${RUNS} mutated inputs parse or throw ParseError`, () => {
  const ids = ['gen/node.netns.json', 'gen/pod1.netns.json'].map(read);
  fc.assert(fc.property(jsonInputs(ids), (t) => parsesOrParseError(() => parseNetnsIds(t))), { numRuns: RUNS, seed: 3 });
  console.log(`ip -j netns list-id: ${RUNS} mutated inputs: ${takeOutcomes()}, nothing else`);
});
