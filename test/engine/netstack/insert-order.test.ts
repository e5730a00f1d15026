// `-I` positions placed in O(n log n) give exactly what inserting one line after another gives:
// placeInserts against array splices, and the iptables parser (strict, lazy and tolerant readers)
// against a splice model of iptables-restore on random -A / -I / -I n sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { placeInserts } from '../../../src/engine/netstack/insert-order';
import { chainRulesTolerant, isUnparsedRule, parseIptablesSave, parseIptablesSaveLazy } from '../../../src/engine/netstack/iptables/parse';
import { ParseError } from '../../../src/engine/netstack/parse-error';

test('placeInserts equals inserting one by one', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 200 }), (raw) => {
      const pos = raw.map((r, k) => r % (k + 1));
      const items = pos.map((_, k) => k);
      const model: number[] = [];
      pos.forEach((p, k) => model.splice(p, 0, items[k]));
      assert.deepEqual(placeInserts(items, pos), model);
    }),
    { numRuns: 500 },
  );
  assert.throws(() => placeInserts([1, 2], [0, 2]), RangeError);
});

type Op = { kind: 'A' } | { kind: 'I'; at?: number } | { kind: 'bad' };

function dump(ops: Op[]): string {
  const lines = ['*filter', ':FORWARD ACCEPT [0:0]'];
  ops.forEach((op, k) => {
    const tail = `-s 10.0.${k >> 8}.${k & 255}/32 -j ACCEPT`;
    if (op.kind === 'A') lines.push(`-A FORWARD ${tail}`);
    else if (op.kind === 'I') lines.push(`-I FORWARD ${op.at ?? ''} ${tail}`.replace('  ', ' '));
    else lines.push(`-A FORWARD ${tail} -m`);
  });
  lines.push('COMMIT', '');
  return lines.join('\n');
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Op>({ kind: 'A' }) },
  { weight: 3, arbitrary: fc.constant<Op>({ kind: 'I' }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 40 }).map((at): Op => ({ kind: 'I', at })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'bad' }) },
);

test('iptables -I: strict, lazy and tolerant readers agree with a splice model', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      const text = dump(ops);
      // The tolerant model: every line takes its place, a bad one (or a bad index) goes last.
      const model: number[] = [];
      let firstBad: number | undefined;
      ops.forEach((op, k) => {
        const at = op.kind === 'A' ? model.length : op.kind === 'I' ? (op.at ?? 1) - 1 : -1;
        if (op.kind === 'bad' || at < 0 || at > model.length) {
          firstBad ??= k;
          model.push(k);
        } else model.splice(at, 0, k);
      });
      const ruleIndex = (r: { line: number }) => r.line - 3;
      if (firstBad === undefined) {
        const rules = parseIptablesSave(text).tables[0].chainsByName.get('FORWARD')!.rules;
        assert.deepEqual(rules.map(ruleIndex), model);
        assert.deepEqual(rules.map((r) => r.num), model.map((_, i) => i + 1));
      } else {
        assert.throws(() => parseIptablesSave(text), (e: unknown) => e instanceof ParseError && e.line === firstBad! + 3);
      }
      const lazy = parseIptablesSaveLazy(text).tables[0].chainsByName.get('FORWARD')!;
      const tolerant = chainRulesTolerant(lazy);
      assert.deepEqual(tolerant.map(ruleIndex), model);
      assert.deepEqual(tolerant.map((r) => r.num), model.map((_, i) => i + 1));
      assert.equal(tolerant.filter(isUnparsedRule).length > 0, firstBad !== undefined);
    }),
    { numRuns: 400 },
  );
});
