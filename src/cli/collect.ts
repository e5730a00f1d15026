// `netpath collect [--host-pid PID] [--pids PID,PID,...] [--jobs N] [-o FILE]`: runs the
// collector script on this machine (root) and writes the NodeNetworkStackDump as JSON.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, type CliIO, type Command } from './command';
import { echoed, jsonShown } from '../shared/display';
import { CollectorRunError, runCollector } from '../collector/run';
import { CollectorOutputError } from '../collector/frames';

const usage = `netpath collect [--host-pid PID] [--pids PID,PID,...] [--jobs N] [-o FILE]

Dumps the network stack of this machine's network namespaces (needs root) as a
NodeNetworkStackDump (JSON): the node is the netns of --host-pid (default 1); pods are the
netns of --pids (default: every other netns found under /proc), one entry per netns.
Tools that are missing or fail are listed in collector.errors; the dump is still written.

  --host-pid PID   process in the node's network namespace (default 1)
  --pids LIST      comma-separated processes in pod network namespaces ('' = none)
  --jobs N         namespaces dumped in parallel (default 1)
  -o, --output F   write the dump to F instead of stdout
`;

function positiveInt(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag} must be a positive integer, got "${echoed(text)}"`);
  return Number(text);
}

export const collectCommand: Command = {
  path: ['collect'],
  summary: 'dump this machine\'s network namespaces (root) as a NodeNetworkStackDump',
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          'host-pid': { type: 'string' },
          pids: { type: 'string' },
          jobs: { type: 'string' },
          output: { type: 'string', short: 'o' },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const hostPid = values['host-pid'] === undefined ? undefined : positiveInt('--host-pid', values['host-pid']);
    const jobs = values.jobs === undefined ? undefined : positiveInt('--jobs', values.jobs);
    let pids: number[] | undefined;
    if (values.pids !== undefined) {
      pids = values.pids.trim() === '' ? [] : values.pids.split(',').map((p) => positiveInt('--pids', p.trim()));
    }
    let dump;
    try {
      dump = await runCollector({ hostPid, pids, jobs });
    } catch (e) {
      if (e instanceof CollectorRunError || e instanceof CollectorOutputError) {
        io.stderr(`netpath collect: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    // Interface names and rule comments are the node's: bidi and C1 characters as \u escapes (same value).
    const text = jsonShown(JSON.stringify(dump, null, 2)) + '\n';
    if (values.output) writeFileSync(values.output, text);
    else io.stdout(text);
    const errs = dump.collector.errors;
    io.stderr(
      `netpath collect: node netns ${dump.node.id} + ${dump.netns.length} pod netns in ${dump.collector.durationMs} ms` +
        `${errs.length ? `; ${errs.length} collector error(s):` : ''}\n`,
    );
    for (const e of errs.slice(0, 20)) io.stderr(`  ${e.netns !== undefined ? `netns ${e.netns}: ` : ''}${e.message}\n`);
    if (errs.length > 20) io.stderr(`  … and ${errs.length - 20} more (see collector.errors)\n`);
    return 0;
  },
};
