// `netpath snapshot assemble` (objects + dumps → *.netpath.json) and `netpath snapshot validate`.
import { writeFileSync } from 'node:fs';
import { parse, readInput } from './args';
import { UsageError, type CliIO, type Command } from './command';
import { echoed, shown } from '../shared/display';
import { AssembleError, assembleSnapshot, type DumpSource } from '../engine/snapshot/assemble';
import { SnapshotError, loadSnapshot } from '../engine/snapshot/load';
import { ObjectsError, type ObjectSource } from '../engine/snapshot/objects';

const assembleUsage = `netpath snapshot assemble --objects FILE.yaml [--objects ...] --dump NODE=FILE [--dump ...] -o OUT
                          [--captured-at ISO-TIME]

Builds a snapshot (*.netpath.json) from Kubernetes objects and node dumps (from netpath collect).
Objects: multi-document YAML or a \`kind: List\` (JSON works too); EndpointSlices in
discovery.k8s.io/v1 or v1beta1, or only core Endpoints. Kinds the diagnosis does not read are
listed on stderr and not stored. capturedAt defaults to the earliest dump's start time.
The same inputs always give a byte-identical file.
`;

export const snapshotAssembleCommand: Command = {
  path: ['snapshot', 'assemble'],
  summary: 'build a snapshot from Kubernetes objects (YAML) and node dumps',
  usage: assembleUsage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parse(args, {
      objects: { type: 'string', multiple: true },
      dump: { type: 'string', multiple: true },
      output: { type: 'string', short: 'o' },
      'captured-at': { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${echoed(positionals[0])}"`);
    const objectFiles = (values.objects ?? []) as string[];
    const dumpArgs = (values.dump ?? []) as string[];
    const out = values.output as string | undefined;
    if (!objectFiles.length) throw new UsageError('give at least one --objects FILE');
    if (!out) throw new UsageError('give the output file with -o OUT');
    const objects: ObjectSource[] = objectFiles.map((f) => ({ name: f, text: readInput(f, 'objects file') }));
    const dumps: DumpSource[] = dumpArgs.map((d) => {
      const eq = d.indexOf('=');
      if (eq <= 0 || eq === d.length - 1) throw new UsageError(`--dump takes NODE=FILE, got "${echoed(d)}"`);
      const file = d.slice(eq + 1);
      return { node: d.slice(0, eq), name: file, text: readInput(file, 'dump') };
    });
    let result;
    try {
      result = assembleSnapshot({ objects, dumps, capturedAt: values['captured-at'] as string | undefined });
    } catch (e) {
      if (e instanceof AssembleError || e instanceof ObjectsError || e instanceof SnapshotError) throw new UsageError(e.message);
      throw e;
    }
    writeFileSync(out, result.text);
    const o = result.snapshot.objects;
    io.stderr(
      `netpath snapshot assemble: wrote ${out}: ${o.nodes.length} nodes, ${o.pods.length} pods, ${o.services.length} services, ` +
        `${o.endpointSlices.length} EndpointSlices, ${o.networkPolicies.length} NetworkPolicies, ${Object.keys(result.snapshot.dumps).length} dumps\n`,
    );
    if (result.ignored.length) {
      const byKind = new Map<string, number>();
      for (const i of result.ignored) byKind.set(i.kind, (byKind.get(i.kind) ?? 0) + 1);
      io.stderr(`  not stored (not read by the diagnosis): ${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
      for (const i of result.ignored.slice(0, 10)) io.stderr(`    ${i.kind} ${i.name} (${i.source}): ${i.reason}\n`);
    }
    const m = result.mapping;
    if (dumps.length) {
      io.stderr(`  pods mapped to a netns by IP: ${m.pods.length}; without netns: ${m.podsWithoutNetns.length}; netns without pod: ${m.netnsWithoutPod.length}\n`);
      for (const p of m.podsWithoutNetns.slice(0, 10)) io.stderr(`    pod ${p.pod}: ${p.reason}\n`);
      for (const n of m.netnsWithoutPod.slice(0, 10)) io.stderr(`    netns ${n.netns} on ${n.node} (${n.addresses.join(', ') || 'no addresses'}): no pod has its IPs\n`);
    }
    return 0;
  },
};

export const snapshotValidateCommand: Command = {
  path: ['snapshot', 'validate'],
  summary: 'check a snapshot file against the schema',
  usage: 'netpath snapshot validate FILE\n\nExit 0 when FILE is a valid snapshot; 2 with the bad fields named on stderr otherwise.\n',
  async run(args: string[], io: CliIO): Promise<number> {
    const { positionals } = parse(args, {});
    if (positionals.length !== 1) throw new UsageError('give exactly one snapshot file');
    try {
      const s = loadSnapshot(readInput(positionals[0], 'snapshot'));
      io.stdout(`${shown(positionals[0])}: valid snapshot (captured ${s.capturedAt}; ${s.objects.pods.length} pods, ${Object.keys(s.dumps).length} dumps)\n`);
      return 0;
    } catch (e) {
      if (e instanceof SnapshotError) throw new UsageError(`${positionals[0]}: ${e.message}`);
      throw e;
    }
  },
};
