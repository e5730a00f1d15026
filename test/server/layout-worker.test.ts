// The server's layout worker (dist/layout-worker.js) driven from its main-thread side
// (LayoutThread), in this process: it lays out as the engine does; a layout cancelled while it
// runs rejects as cancelled and its worker is stopped; a worker that exits or throws fails its
// layout with an error naming the layout worker; after either, the next layout gets a fresh worker.
// Faults are injected by a wrapper script around the real bundle that acts on the request's `src`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancellationTokenSource } from 'vscode-languageserver/node';
import { layoutResult, type PositionedGraph } from '../../src/engine/report/layout';
import { CancelledError, InternalError } from '../../src/shared/errors';
import type { WireResult } from '../../src/shared/severity';
import { LayoutThread } from '../../src/server/layout-thread';
import { warmUpResult } from '../../src/server/layout-warmup';
import { SpareThread } from '../../src/server/spare-thread';
import { fanOut } from '../support/fan-out';

const bundle = resolve('dist/layout-worker.js');
const skip = !existsSync(bundle) && 'dist/layout-worker.js missing: run `npm run build` first';

/** The real worker behind a fault injector: `src` fault:exit / fault:throw / fault:hang (blocks until terminated). */
const injector = `
const { parentPort, threadId } = require('node:worker_threads');
parentPort.postMessage({ type: 'log', message: 'started thread ' + threadId });
parentPort.on('message', (m) => {
  const fault = m.result.request.src;
  if (fault === 'fault:exit') process.exit(3);
  if (fault === 'fault:throw') throw new Error('injected fault');
  if (fault === 'fault:hang') {
    parentPort.postMessage({ type: 'log', message: 'hanging on thread ' + threadId });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
});
require(${JSON.stringify(bundle)});
`;

function withFault(r: WireResult, fault: string): WireResult {
  return { ...r, request: { ...r.request, src: fault } };
}

/** A LayoutThread on the fault injector, with its log lines, and a wait for a line. */
function faulty(dir: string) {
  const file = join(dir, 'faulty-layout-worker.js');
  writeFileSync(file, injector);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const thread = new LayoutThread(file, (m) => {
    lines.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = async (re: RegExp): Promise<string> => {
    for (;;) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return hit;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { thread, lines, waitFor };
}

const none = () => new CancellationTokenSource().token;

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected the layout to fail');
}

test('the layout worker lays a result out as the engine does: folded, unfolded, top to bottom', { skip, timeout: 120_000 }, async () => {
  const logged: string[] = [];
  const thread = new LayoutThread(bundle, (m) => logged.push(m));
  thread.prewarm();
  const r = fanOut(30, (i) => i % 7 === 3);
  for (const options of [{}, { expanded: ['group:node1'], limit: 12 }, { direction: 'down' as const }]) {
    const viaWorker = await thread.layout(r, options, none());
    assert.equal(JSON.stringify(viaWorker), JSON.stringify(await layoutResult(r, options)), JSON.stringify(options));
  }
  assert.deepEqual(logged, [], 'nothing went wrong in the worker');
});

test('the warm-up graph is laid out in both directions with what a real path draws', async () => {
  const r = warmUpResult();
  for (const direction of ['right', 'down'] as const) {
    const g: PositionedGraph = await layoutResult(r, { direction });
    assert.equal(g.nodes.length, r.nodes.length, direction);
    assert.equal(g.edges.reduce((n, e) => n + e.links.length, 0), r.links.length, `${direction}: every link drawn`);
    const sides = new Set(g.nodes.flatMap((n) => n.ports.map((p) => p.side)));
    assert.deepEqual([...sides].sort(), direction === 'right' ? ['east', 'west'] : ['north', 'south'], `${direction}: ports on both sides`);
    assert.ok(g.edges.every((e) => e.labelBox), `${direction}: every edge labelled by ELK`);
    assert.ok(g.nodes.some((n) => n.decision), `${direction}: a decision line`);
  }
  assert.ok(r.links.some((l) => l.sourceAttributes.direction === 'reply') && r.links.some((l) => l.sourceAttributes.nat), 'replies and NAT');
});

test('a layout cancelled while it runs rejects as cancelled; its worker is stopped and the next layout gets a fresh one', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-layout-worker-'));
  try {
    const { thread, lines, waitFor } = faulty(dir);
    const r = fanOut(3, () => false);
    const cts = new CancellationTokenSource();
    const hung = thread.layout(withFault(r, 'fault:hang'), {}, cts.token);
    const hanging = (await waitFor(/^hanging on thread \d+$/)).replace('hanging on', 'started');
    cts.cancel();
    const e = await rejection(hung);
    assert.ok(e instanceof CancelledError, String(e));
    // The hung thread cannot answer: were it kept, this layout would never end.
    const g = await thread.layout(r, {}, none());
    assert.equal(JSON.stringify(g), JSON.stringify(await layoutResult(r)));
    const started = lines.filter((l) => l.startsWith('started thread'));
    assert.equal(started.length, 2, JSON.stringify(lines));
    assert.equal(started[0], hanging);
    // A token cancelled before the layout starts no worker and rejects at once.
    const done = new CancellationTokenSource();
    done.cancel();
    assert.ok((await rejection(thread.layout(r, {}, done.token))) instanceof CancelledError);
    assert.equal(lines.filter((l) => l.startsWith('started thread')).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a layout worker that exits or throws fails its layout with an error naming the layout worker; the next layout works', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netpath-layout-worker-'));
  try {
    const { thread, lines } = faulty(dir);
    thread.prewarm();
    const r = fanOut(3, () => false);
    const exited = await rejection(thread.layout(withFault(r, 'fault:exit'), {}, none()));
    assert.ok(exited instanceof InternalError, String(exited));
    assert.match(exited.message, /^the layout worker stopped \(exit code 3\) before it laid out the path/);
    const threw = await rejection(thread.layout(withFault(r, 'fault:throw'), {}, none()));
    assert.ok(threw instanceof InternalError, String(threw));
    assert.match(threw.message, /^the layout worker failed while laying out the path: injected fault/);
    for (const options of [{}, { direction: 'down' as const }])
      assert.equal(JSON.stringify(await thread.layout(r, options, none())), JSON.stringify(await layoutResult(r, options)));
    // One worker per failure and one for the two layouts after (kept between them).
    assert.equal(lines.filter((l) => l.startsWith('started thread')).length, 3, JSON.stringify(lines));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a spare worker that dies while idle is replaced, not handed to the next job', async () => {
  const started: Worker[] = [];
  const spare = new SpareThread((prewarm) => {
    const w = new Worker(prewarm ? 'process.exit(5)' : 'setInterval(() => {}, 1000)', { eval: true });
    started.push(w);
    return w;
  });
  spare.prewarm();
  // An idle spare does not keep the process alive: this timer does, while the test waits for its exit.
  const alive = setInterval(() => {}, 1000);
  try {
    assert.deepEqual(await once(started[0], 'exit'), [5]);
  } finally {
    clearInterval(alive);
  }
  const w = spare.take();
  assert.notEqual(w, started[0]);
  assert.equal(started.length, 2);
  // Given back after an answer, it is the next job's; a second one at once is stopped.
  spare.release(w, true);
  const other = new SpareThread(() => new Worker('setInterval(() => {}, 1000)', { eval: true }));
  const a = other.take(), b = other.take();
  other.release(a, true);
  const bExit = once(b, 'exit');
  other.release(b, true);
  await bExit;
  assert.equal(other.take(), a);
  assert.equal(spare.take(), w);
  await Promise.all([a.terminate(), w.terminate()]);
});
