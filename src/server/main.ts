// The diagnosis server: a Node child process started by the extension over IPC
// (vscode-languageclient). It owns the engine (and, with issue 5, the cluster connection) so heavy
// work never blocks the extension host. The same bundle is also the simulation worker thread
// (worker.ts), where requests that read snapshots or clusters run: one file, started twice. The
// layout worker is a bundle of its own (layout-worker.ts → dist/layout-worker.js): the layout and elkjs only.
import { isMainThread } from 'node:worker_threads';
import { runWorker } from './worker';
import { startServer } from './server';

if (isMainThread) startServer();
else runWorker();
