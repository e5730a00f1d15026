// Properties of honest verdicts (issue 13), on a real lab cluster (flannel host-gw): client on
// node1 → web2 on node2, TCP 8080, with random rules in front of node2's FORWARD chain; and
// client → the lab internet with node1's masquerade chain replaced by random rules.
// Every generated rule is one the simulator models (addresses, protocol, ports, verdicts, a user
// chain), where it agrees with the kernel (test/engine/netstack/netfilter-kernel.test.ts): the verdict on
// the original rules is the kernel's. Then one rule gets an unknown match (`-m foobar --baz 1`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Verdict } from '../../src/engine/model/result';
import { addFilterRules, diagnose, labSnapshot, WEB2 } from './honest-fixture';

const CASE = 'flannel-host-gw--healthy';
const RUNS = 100;

interface GenRule {
  src?: string;
  dst?: string;
  proto?: string;
  target?: string;
}

const rule = (targets: string[]) =>
  fc.record(
    {
      src: fc.constantFrom('10.244.1.2/32', '10.244.1.0/24', '10.0.0.0/8', '192.168.0.0/16'),
      dst: fc.constantFrom('10.244.2.2/32', '10.244.2.0/24', '10.244.9.9/32'),
      proto: fc.constantFrom('-p tcp -m tcp --dport 8080', '-p tcp -m tcp --dport 80', '-p tcp -m tcp --sport 8080', '-p udp'),
      target: fc.constantFrom(...targets),
    },
    { requiredKeys: [] },
  );

const ruleSet = fc.record({
  forward: fc.array(rule(['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'NP-X']), { minLength: 1, maxLength: 5 }),
  chain: fc.array(rule(['ACCEPT', 'DROP', 'RETURN', 'REJECT']), { maxLength: 3 }),
});

function line(chain: string, r: GenRule, unknown = false): string {
  const parts = [`-A ${chain}`];
  if (r.src) parts.push(`-s ${r.src}`);
  if (r.dst) parts.push(`-d ${r.dst}`);
  if (r.proto) parts.push(r.proto);
  if (unknown) parts.push('-m foobar --baz 1');
  if (r.target) parts.push(`-j ${r.target}`);
  return parts.join(' ');
}

type Pick = { chain: 'forward' | 'chain'; i: number };

/** The verdict with the rule at `pick` as generated, removed, or with an unknown match added. */
function verdict(rs: { forward: GenRule[]; chain: GenRule[] }, pick?: Pick, mode?: 'remove' | 'unknown'): Verdict {
  const lines = (name: 'forward' | 'chain', chain: string) =>
    rs[name].flatMap((r, i) => {
      const here = pick?.chain === name && pick.i === i;
      if (here && mode === 'remove') return [];
      return [line(chain, r, here && mode === 'unknown')];
    });
  const s = labSnapshot(CASE);
  addFilterRules(s, 'node2', [...lines('forward', 'FORWARD'), ...lines('chain', 'NP-X')], ['NP-X']);
  return diagnose(s, WEB2.src, WEB2.dst, WEB2.port).verdict;
}

const withPick = ruleSet.chain((rs) =>
  fc.record({
    rs: fc.constant(rs),
    pick: rs.chain.length
      ? fc.oneof(fc.record({ chain: fc.constant('forward' as const), i: fc.nat(rs.forward.length - 1) }), fc.record({ chain: fc.constant('chain' as const), i: fc.nat(rs.chain.length - 1) }))
      : fc.record({ chain: fc.constant('forward' as const), i: fc.nat(rs.forward.length - 1) }),
  }),
);

test(`property: replacing one rule on the path with one that has an unknown match never turns a kernel-unreachable path into reachable (${RUNS} rule sets)`, () => {
  const seen = { unreachable: 0, checked: 0 };
  fc.assert(
    fc.property(withPick, ({ rs, pick }) => {
      seen.checked++;
      if (verdict(rs) !== 'unreachable') return true;
      seen.unreachable++;
      return verdict(rs, pick, 'unknown') !== 'reachable';
    }),
    { numRuns: RUNS, seed: 13 },
  );
  console.log(`undecided property (a): ${seen.checked} rule sets, ${seen.unreachable} kernel-unreachable, none became reachable`);
  assert.ok(seen.unreachable > 5, 'the generator must produce unreachable cases');
});

test(`property: an unknown element evaluated both ways — reachable only if both ways reach, unreachable only if both ways fail, else unknown (${RUNS} rule sets)`, () => {
  const seen: Record<string, number> = {};
  fc.assert(
    fc.property(withPick, ({ rs, pick }) => {
      const matches = verdict(rs);
      const notMatches = verdict(rs, pick, 'remove');
      const both = verdict(rs, pick, 'unknown');
      const key = `${matches}/${notMatches} -> ${both}`;
      seen[key] = (seen[key] ?? 0) + 1;
      const expected = matches === notMatches ? matches : 'unknown';
      assert.equal(both, expected, `matching: ${matches}, not matching: ${notMatches}`);
    }),
    { numRuns: RUNS, seed: 31 },
  );
  console.log(`undecided property (b): ${Object.entries(seen).sort().map(([k, n]) => `${k}: ${n}`).join(', ')}`);
  assert.ok(Object.keys(seen).some((k) => k.endsWith('-> unknown')), 'the generator must produce deciding unknown elements');
});

/**
 * Rules that rewrite the packet: node1's FLANNEL-POSTRTG (flannel's masquerade chain) replaced by
 * random RETURN / MASQUERADE / ACCEPT rules, for client → the lab internet (203.0.113.10:80, which
 * answers only masqueraded traffic). One rule gets the unknown match.
 */
const natRule = fc.record(
  {
    src: fc.constantFrom('10.244.0.0/16', '10.244.1.2/32', '10.244.2.0/24', '192.168.0.0/16'),
    dst: fc.constantFrom('! 10.244.0.0/16', '203.0.113.0/24', '10.244.0.0/16', '224.0.0.0/4'),
    target: fc.constantFrom('RETURN', 'MASQUERADE', 'ACCEPT'),
  },
  { requiredKeys: ['target'] },
);

function natVerdict(rules: GenRule[], pick: number, mode?: 'remove' | 'unknown'): Verdict {
  const s = labSnapshot(CASE);
  const info = s.dumps.node1.node;
  const text = info.iptables!.nft!;
  const kept = text.split('\n').filter((l) => !l.startsWith('-A FLANNEL-POSTRTG '));
  const at = kept.indexOf('-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG');
  assert.ok(at > 0);
  const natLine = (r: GenRule, unknown: boolean) =>
    ['-A FLANNEL-POSTRTG', r.src && `-s ${r.src}`, r.dst && (r.dst.startsWith('! ') ? `! -d ${r.dst.slice(2)}` : `-d ${r.dst}`), unknown && '-m foobar --baz 1', `-j ${r.target}`].filter(Boolean).join(' ');
  const lines = rules.flatMap((r, i) => (i === pick && mode === 'remove' ? [] : [natLine(r, i === pick && mode === 'unknown')]));
  kept.splice(at + 1, 0, ...lines);
  info.iptables!.nft = kept.join('\n');
  return diagnose(s, 'default/client', '203.0.113.10', 80).verdict;
}

test(`property: an unknown match on a rule that rewrites the packet (masquerade) — unknown exactly when the two ways differ (${RUNS} rule sets)`, () => {
  const seen: Record<string, number> = {};
  fc.assert(
    fc.property(fc.array(natRule, { minLength: 1, maxLength: 4 }).chain((rules) => fc.record({ rules: fc.constant(rules), pick: fc.nat(rules.length - 1) })), ({ rules, pick }) => {
      const matches = natVerdict(rules, pick);
      const notMatches = natVerdict(rules, pick, 'remove');
      const both = natVerdict(rules, pick, 'unknown');
      const key = `${matches}/${notMatches} -> ${both}`;
      seen[key] = (seen[key] ?? 0) + 1;
      assert.equal(both, matches === notMatches ? matches : 'unknown', `matching: ${matches}, not matching: ${notMatches}`);
    }),
    { numRuns: RUNS, seed: 7 },
  );
  console.log(`undecided property (c, masquerade): ${Object.entries(seen).sort().map(([k, n]) => `${k}: ${n}`).join(', ')}`);
  assert.ok(Object.keys(seen).some((k) => k.endsWith('-> unknown')), 'the generator must produce deciding unknown elements');
});
