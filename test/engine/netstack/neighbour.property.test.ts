// Property: mutated real `ip -j neigh` output either parses or throws ParseError; the lookups
// accept whatever parses.
import { test } from 'node:test';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NeighbourTable, parseNeighbours, resolveNeighbour } from '../../../src/engine/netstack/neighbour';
import { jsonInputs, parsesOrParseError, takeOutcomes } from './fixture-mutations';

const FIX = join(import.meta.dirname, '../../fixtures/netstack/links');
const read = (p: string) => readFileSync(join(FIX, p), 'utf8');
const INPUTS = ['gen/node.neigh-all.json', 'gen/node.neigh6.json', 'gen/pod1.neigh.json'].map(read);
const RUNS = 10_000;

test(`ip -j neigh: ${RUNS} mutated inputs parse or throw ParseError`, () => {
  const start = Date.now();
  fc.assert(
    fc.property(jsonInputs(INPUTS), (t) =>
      parsesOrParseError(() => {
        const table = new NeighbourTable(parseNeighbours(t));
        for (const n of table.entries) resolveNeighbour(table, n.dst, n.dev ?? 'eth0');
        resolveNeighbour(table, '10.244.1.99', 'cni0');
      }),
    ),
    { numRuns: RUNS, seed: 4 },
  );
  console.log(`ip -j neigh: ${RUNS} mutated inputs: ${takeOutcomes()}, nothing else (${Date.now() - start} ms)`);
});
