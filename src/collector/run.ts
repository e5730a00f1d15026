// Runs the collector script on this machine (as root) and returns the typed dump. The same
// script runs in collector pods; only the transport differs (here: a child process's stdout).
import { spawn } from 'node:child_process';
import type { NodeNetworkStackDump } from '../shared/dump';
import { convertCollectorOutput } from './convert';
import { collectorScript } from './script';

export interface RunCollectorOptions {
  /** Process whose netns is the node's (default 1). */
  hostPid?: number;
  /** Processes whose netns are the pods'; undefined = every other netns under /proc. */
  pids?: number[];
  /** Netns dumped at once (the script's --jobs). */
  jobs?: number;
  /** Ask the script for gzip+base64 output (as collector pods do). */
  gzip?: boolean;
  /** Shell that runs the script (default `sh`), e.g. `['busybox', 'sh']`. */
  shell?: string[];
  env?: NodeJS.ProcessEnv;
  script?: string;
}

/** The collector could not run at all (no shell, bad arguments, no access to the host netns). */
export class CollectorRunError extends Error {
  override name = 'CollectorRunError';
}

export function collectorArgs(o: RunCollectorOptions): string[] {
  const args: string[] = [];
  if (o.hostPid !== undefined) args.push('--host-pid', String(o.hostPid));
  if (o.pids !== undefined) args.push('--pids', o.pids.join(','));
  if (o.jobs !== undefined) args.push('--jobs', String(o.jobs));
  if (o.gzip) args.push('--gzip');
  return args;
}

/** Runs the script and returns its raw stdout (the framed stream). */
export function runCollectorRaw(o: RunCollectorOptions = {}): Promise<Buffer> {
  const shell = o.shell ?? ['sh'];
  const argv = [...shell.slice(1), '-c', o.script ?? collectorScript(), 'netpath-collector', ...collectorArgs(o)];
  return new Promise((resolve, reject) => {
    const child = spawn(shell[0], argv, { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new CollectorRunError(`cannot start ${shell[0]}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else {
        const stderr = Buffer.concat(err).toString('utf8').trim();
        reject(new CollectorRunError(`collector ${signal ? `killed by ${signal}` : `exited with code ${code}`}${stderr ? `: ${stderr}` : ''}`));
      }
    });
  });
}

export async function runCollector(o: RunCollectorOptions = {}): Promise<NodeNetworkStackDump> {
  return convertCollectorOutput(await runCollectorRaw(o));
}
