// Property: mutated real `sysctl -a` text either parses or throws ParseError; the resolvers
// accept whatever parses.
import { test } from 'node:test';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sysctls, ipv4Conf, localPortRange, parseSysctl } from '../../../src/engine/netstack/sysctl';
import { parsesOrParseError, takeOutcomes, textMutation } from './fixture-mutations';

const FIX = join(import.meta.dirname, '../../fixtures/netstack/links');
const read = (p: string) => readFileSync(join(FIX, p), 'utf8');
// A slice of the full dump keeps each run fast; the edits land anywhere in it.
const FULL = read('gen/node.sysctl.txt');
const INPUTS = [FULL.split('\n').filter((l) => /ipv4\.(conf\.(all|eth0|cni0|eth0\/100)\.|ip_)/.test(l)).join('\n'), read('two-node-dump/node1.sysctl.txt')];
const RUNS = 10_000;

test(`sysctl -a: ${RUNS} mutated inputs parse or throw ParseError`, () => {
  const start = Date.now();
  const lines = fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('a = b', 'x=', '=', ' = 1', 'k = 1\t2', '# c')), { maxLength: 20 }).map((l) => l.join('\n'));
  fc.assert(
    fc.property(fc.oneof(...INPUTS.map(textMutation), lines), (t) =>
      parsesOrParseError(() => {
        const s = new Sysctls(parseSysctl(t));
        for (const k of ['rp_filter', 'forwarding', 'accept_redirects', 'proxy_arp']) ipv4Conf(s, 'eth0', k);
        localPortRange(s);
      }),
    ),
    { numRuns: RUNS, seed: 6 },
  );
  console.log(`sysctl -a: ${RUNS} mutated inputs: ${takeOutcomes()}, nothing else (${Date.now() - start} ms)`);
});
