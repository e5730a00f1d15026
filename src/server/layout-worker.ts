// The layout worker thread (dist/layout-worker.js, its own bundle): lays out link-path graphs with
// elkjs for the server's main thread (layout-thread.ts), one result at a time. elkjs is 3.3 MB of
// GWT-compiled Java, so it lives here and not in dist/server.js, where every diagnosis worker would
// compile it; and a layout no longer waits for a diagnosis worker to be free. Started at
// `initialized`, it warms ELK up on a small graph (layout-warmup.ts) while the first diagnosis runs.
import { parentPort, workerData } from 'node:worker_threads';
import { layoutResult } from '../engine/report/layout';
import { asNetpathError } from '../shared/errors';
import type { FromLayoutWorker, LayoutWorkerData, ToLayoutWorker } from './layout-messages';
import { warmUpResult } from './layout-warmup';

if (!parentPort) throw new Error('layout-worker.js runs as the diagnosis server\'s worker thread, not on its own');
const port = parentPort;
const post = (m: FromLayoutWorker) => port.postMessage(m);

port.on('message', (m: ToLayoutWorker) => {
  layoutResult(m.result, m.options).then(
    (graph) => post({ type: 'done', graph }),
    (e: unknown) => {
      const error = asNetpathError(e);
      // A bug: its stack is only here, so log it before it becomes plain data.
      if (error.meaning === 'internal') post({ type: 'log', message: `the layout failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}` });
      post({ type: 'error', error: error.plain() });
    },
  );
});

if ((workerData as LayoutWorkerData | undefined)?.warm) {
  const warmUp = warmUpResult();
  // One after the other: the second runs on code the first compiled. A request that comes meanwhile
  // is laid out alongside (ELK's steps are queued tasks), on whatever is compiled by then.
  void layoutResult(warmUp)
    .then(() => layoutResult(warmUp, { direction: 'down' }))
    .catch((e: unknown) => post({ type: 'log', message: `the layout worker's warm-up failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}` }));
}
