// `netpath snapshot capture --context NAME [--nodes a,b] -o OUT`: a snapshot from a live cluster —
// the objects the diagnosis reads and the dumps of the given nodes (collector pods).
import { writeFileSync } from 'node:fs';
import { parse } from './args';
import { UsageError, type CliIO, type Command } from './command';
import { echoed } from '../shared/display';
import { liveFailure, liveFlagOptions, liveFlagsUsage, liveOptions, withCancellation } from './live-flags';
import { limitFlagOptions, limitFlagsUsage } from './limit-flags';
import { liveModule } from '../cluster/live-module';

const usage = `netpath snapshot capture --context NAME [--nodes a,b] -o OUT [--kubeconfig FILE] [--namespace NS]
                         [--collector-image IMG] [--timeout SECONDS] [--yes]
                         [--max-response-bytes N] [--max-dump-bytes N] [--max-snapshot-chars N]
                         [--max-snapshot-problems N] [--max-json-depth N] [--format-version 1|2]

Captures a snapshot (*.netpath.json) of a live cluster: the objects the diagnosis reads, and the
network stack dumps of --nodes (default: every node), collected by one short-lived collector pod
per node, started in parallel and deleted when its log has been read.

${liveFlagsUsage}
  --nodes a,b             nodes to collect (default: all)
  -o, --output OUT        the snapshot file
  --format-version 1|2    1 (default): one JSON document; 2: the lazily read format (parts read
                          and checked on first use), for large clusters

Limits (an input over one is refused, the error names the limit and this flag; raise it for a
large honest input; K, M, G multiply by 1024):
${limitFlagsUsage}
`;

export const snapshotCaptureCommand: Command = {
  path: ['snapshot', 'capture'],
  summary: 'capture a snapshot from a live cluster (objects + node dumps via collector pods)',
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parse(args, { ...liveFlagOptions, ...limitFlagOptions, nodes: { type: 'string' }, output: { type: 'string', short: 'o' }, 'format-version': { type: 'string' } });
    if (positionals.length) throw new UsageError(`unexpected argument "${echoed(positionals[0])}"`);
    if (values.context === undefined) throw new UsageError('--context NAME is required');
    const out = values.output as string | undefined;
    if (!out) throw new UsageError('give the output file with -o OUT');
    const fv = values['format-version'] as string | undefined;
    if (fv !== undefined && fv !== '1' && fv !== '2') throw new UsageError(`--format-version must be 1 or 2, not "${echoed(fv)}"`);
    let nodes: string[] | undefined;
    if (values.nodes !== undefined) {
      nodes = String(values.nodes).split(',').map((n) => n.trim()).filter((n) => n !== '');
      if (!nodes.length) throw new UsageError('--nodes needs at least one node name');
    }
    try {
      const r = await withCancellation((signal) => liveModule().captureLive(liveOptions(values, io, signal), nodes, fv === '2' ? 2 : 1));
      writeFileSync(out, r.text);
      const failed = r.collections.filter((c) => c.error);
      io.stderr(`netpath snapshot capture: wrote ${out}: ${r.snapshot.objects.nodes.length} nodes, ${r.snapshot.objects.pods.length} pods, ${Object.keys(r.snapshot.dumps).length} dumps\n`);
      for (const n of r.session.notes) io.stderr(`  ${n.message}\n`);
      return failed.length && !Object.keys(r.snapshot.dumps).length && r.collections.length ? 1 : 0;
    } catch (e) {
      return liveFailure(e, io, 'snapshot capture');
    }
  },
};
