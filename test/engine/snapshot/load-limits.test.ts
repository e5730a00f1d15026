// The limits of loading a snapshot: text size and number of problems reported. Each names itself
// in its error, and raising it lets the same input through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BadInputError } from '../../../src/shared/errors';
import { DEFAULT_SNAPSHOT_LIMITS, SnapshotError, checkDump, loadSnapshot } from '../../../src/engine/snapshot/load';

const fixtureText = readFileSync('test/fixtures/snapshot/healthy.netpath.json', 'utf8');

test('a snapshot over maxSnapshotChars is refused before parsing, naming the limit; raising it lets it through', () => {
  const limit = fixtureText.length - 1;
  assert.throws(
    () => loadSnapshot(fixtureText, { maxSnapshotChars: limit }),
    (e: unknown) => e instanceof SnapshotError && e instanceof BadInputError && e.part === 'source' && e.message.includes(`maxSnapshotChars = ${limit}`) && e.message.includes(`${fixtureText.length} characters`),
  );
  // Not even JSON: the size check comes first.
  assert.throws(() => loadSnapshot('x'.repeat(100), { maxSnapshotChars: 10 }), /maxSnapshotChars = 10/);
  assert.equal(loadSnapshot(fixtureText, { maxSnapshotChars: fixtureText.length }).kind, 'NetpathSnapshot');
  assert.ok(DEFAULT_SNAPSHOT_LIMITS.maxSnapshotChars > fixtureText.length);
});

/** The fixture with `n` pods whose podIP is not an IP: n schema problems. */
function withBadPods(n: number): string {
  const d = JSON.parse(fixtureText);
  const pod = d.objects.pods[0];
  d.objects.pods = Array.from({ length: n }, (_, k) => ({ ...pod, metadata: { ...pod.metadata, name: `p${k}` }, status: { ...pod.status, podIP: `bad-${k}` } }));
  return JSON.stringify(d);
}

test('problems are collected up to maxSnapshotProblems, then "… and more" naming the limit; raising it lists them all', () => {
  const text = withBadPods(500);
  let err: SnapshotError | undefined;
  try {
    loadSnapshot(text);
  } catch (e) {
    err = e as SnapshotError;
  }
  assert.ok(err instanceof SnapshotError);
  assert.equal(err.problems.length, DEFAULT_SNAPSHOT_LIMITS.maxSnapshotProblems);
  assert.equal(err.truncated, true);
  assert.match(err.message, /… and more \(95 more listed, collection stopped at the limit maxSnapshotProblems = 100 \(raise it with --max-snapshot-problems N, in VS Code the setting netpath\.limits\.maxSnapshotProblems\)\)/);

  const small = (() => {
    try {
      loadSnapshot(text, { maxSnapshotProblems: 3 });
    } catch (e) {
      return e as SnapshotError;
    }
  })()!;
  assert.deepEqual([small.problems.length, small.truncated], [3, true]);
  assert.match(small.message, /… and more \(collection stopped at the limit maxSnapshotProblems = 3 \(raise it with --max-snapshot-problems N/);

  const all = (() => {
    try {
      loadSnapshot(text, { maxSnapshotProblems: 1000 });
    } catch (e) {
      return e as SnapshotError;
    }
  })()!;
  assert.deepEqual([all.problems.length, all.truncated], [500, false]);
  assert.match(all.message, /… and 495 more$/);
  assert.ok(all.problems.every((p, k) => p.path === `objects.pods[${k}].status.podIP`));
});

test('checkDump caps its problems the same way', () => {
  const d = JSON.parse(fixtureText).dumps.node1;
  d.netns = Array.from({ length: 50 }, () => ({ bogus: true }));
  assert.throws(() => checkDump(d, 'dump n1', { maxSnapshotProblems: 4 }), (e: unknown) => e instanceof SnapshotError && e.problems.length === 4 && e.truncated && /maxSnapshotProblems = 4/.test(e.message));
});
