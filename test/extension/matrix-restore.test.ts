// The connectivity-matrix panel after a window reload (src/extension/matrixRestore.ts, the state
// guard and the kept query of src/shared/matrix-protocol.ts): the matrix saved is drawn again, one
// saved before its answer is asked again on a snapshot (not on a live cluster), anything else says
// why with Run again; the state is the webview's, so only what the guard accepts is used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isHostToMatrix, isMatrixState, matrixQuery, type MatrixView } from '../../src/shared/matrix-protocol';
import { matrixRestore } from '../../src/extension/matrixRestore';

const view: MatrixView = {
  matrix: { sourceLabel: 'broken.netpath.json', namespaces: ['default'], policyOnly: false, pods: ['default/a', 'default/b'], ports: [{ port: 80, protocol: 'tcp' }], left: [], cells: [{ src: 0, dst: 1, port: 0, verdict: 'reachable', checks: [] }] },
  ranAt: '2026-12-07T19:00:00.000Z',
};
const snapshotQuery = { source: { kind: 'snapshot' as const, path: '/work/broken.netpath.json' }, namespaces: ['default'], policyOnly: false };
const clusterQuery = { source: { kind: 'cluster' as const, context: 'kind-dev' }, namespaces: ['web'], policyOnly: true };
/** As VS Code hands it back: the app's setState, through JSON. */
const saved = (s: unknown) => (s === undefined ? s : (JSON.parse(JSON.stringify(s)) as unknown));

test('the query a panel keeps: a snapshot path or a cluster context, never an unsaved snapshot\'s text, consent or collector settings', () => {
  assert.deepEqual(matrixQuery({ kind: 'snapshot', path: '/s.netpath.json' }, ['default'], false), { source: { kind: 'snapshot', path: '/s.netpath.json' }, namespaces: ['default'], policyOnly: false });
  assert.deepEqual(matrixQuery({ kind: 'snapshot', text: '{"big":1}', name: 'unsaved' }, ['default'], true), { namespaces: ['default'], policyOnly: true });
  assert.deepEqual(
    matrixQuery({ kind: 'cluster', context: 'kind-dev', kubeconfig: '/k', consent: true, collector: { image: 'evil', namespace: 'x', timeoutSeconds: 1 } } as never, ['web'], false),
    { source: { kind: 'cluster', context: 'kind-dev', kubeconfig: '/k' }, namespaces: ['web'], policyOnly: false },
  );
  assert.deepEqual(matrixQuery(undefined, ['web'], false), { namespaces: ['web'], policyOnly: false });
});

test('restore: a saved matrix is drawn again with its query', () => {
  assert.deepEqual(matrixRestore(saved({ version: 1, view, query: snapshotQuery, focus: { src: 0, dst: 1, port: 0 } })), { kind: 'draw', view, query: snapshotQuery });
  // Saved by an older app (no query): drawn, Refresh will ask for the source and namespace.
  assert.deepEqual(matrixRestore(saved({ version: 1, view })), { kind: 'draw', view });
});

test('restore: saved before its matrix arrived, a snapshot is asked again, a live cluster waits for Run again', () => {
  assert.deepEqual(matrixRestore(saved({ version: 1, query: snapshotQuery })), { kind: 'compute', query: snapshotQuery });
  const live = matrixRestore(saved({ version: 1, query: clusterQuery }));
  assert.equal(live.kind, 'unavailable');
  assert.deepEqual(live.query, clusterQuery);
  assert.match((live as { message: string }).message, /Run again to compute it on the live cluster/);
});

test('restore: no usable state says so and offers Run again, whatever the webview saved', () => {
  const bad = [
    undefined,
    null,
    'x',
    { version: 2, view, query: snapshotQuery },
    { version: 1 },
    { version: 1, query: { ...snapshotQuery, namespaces: [] } },
    { version: 1, query: { ...snapshotQuery, source: { kind: 'snapshot', text: '{}' } } },
    { version: 1, query: { ...snapshotQuery, source: { kind: 'bogus', path: '/x' } } },
    { version: 1, query: { ...snapshotQuery, namespaces: ['x'.repeat(254)] } },
    { version: 1, view: { matrix: { ...view.matrix, cells: [{ src: 0, dst: 9, port: 0, verdict: 'x', checks: [] }] } } },
  ];
  for (const s of bad) {
    const r = matrixRestore(saved(s));
    assert.equal(r.kind, 'unavailable', JSON.stringify(s));
    assert.equal(r.query, undefined);
    assert.match((r as { message: string }).message, /could not be restored after the window reloaded: Run again/);
  }
  // A cluster source from the state carries nothing but its context and kubeconfig.
  const forged = matrixRestore(saved({ version: 1, query: { ...clusterQuery, source: { ...clusterQuery.source, consent: true, collector: { image: 'evil' } } } }));
  assert.deepEqual(forged.query?.source, { kind: 'cluster', context: 'kind-dev' });
});

test('the messages that carry the query and the notice are checked like the others', () => {
  assert.ok(isHostToMatrix({ type: 'showQuery', query: snapshotQuery }));
  assert.ok(isHostToMatrix({ type: 'showQuery', query: { namespaces: ['default'], policyOnly: false } }), 'a query without a kept source');
  assert.ok(!isHostToMatrix({ type: 'showQuery', query: { ...snapshotQuery, policyOnly: 'no' } }));
  assert.ok(!isHostToMatrix({ type: 'showQuery' }));
  assert.ok(isHostToMatrix({ type: 'unavailable', message: 'gone' }));
  assert.ok(!isHostToMatrix({ type: 'unavailable', message: 42 }));
  assert.ok(isMatrixState({ version: 1, view, query: clusterQuery }));
  assert.ok(!isMatrixState({ version: 1, view, query: { ...clusterQuery, source: { kind: 'cluster', context: 7 } } }));
});
