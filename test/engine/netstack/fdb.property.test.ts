// Property: mutated real `bridge -j fdb` output either parses or throws ParseError; lookups
// accept whatever parses.
import { test } from 'node:test';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fdb, parseFdb } from '../../../src/engine/netstack/fdb';
import { jsonInputs, parsesOrParseError, takeOutcomes } from './fixture-mutations';

const FIX = join(import.meta.dirname, '../../fixtures/netstack/links');
const read = (p: string) => readFileSync(join(FIX, p), 'utf8');
const INPUTS = ['gen/node.fdb.json', 'two-node-dump/node1.fdb.json'].map(read);
const RUNS = 10_000;

test(`bridge -j fdb: ${RUNS} mutated inputs parse or throw ParseError`, () => {
  const start = Date.now();
  fc.assert(
    fc.property(jsonInputs(INPUTS), (t) =>
      parsesOrParseError(() => {
        const fdb = new Fdb(parseFdb(t));
        for (const e of fdb.entries) {
          fdb.vxlanRemotes(e.dev, e.mac);
          if (e.master) fdb.bridgeLookup(e.master, e.mac, e.vlan);
        }
      }),
    ),
    { numRuns: RUNS, seed: 5 },
  );
  console.log(`bridge -j fdb: ${RUNS} mutated inputs: ${takeOutcomes()}, nothing else (${Date.now() - start} ms)`);
});
