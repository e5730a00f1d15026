// `netpath snapshot assemble` (objects + dumps → *.netpath.json), `netpath snapshot validate` (either
// format version, every part) and `netpath snapshot diff` (what changed between two snapshots, on a path first).
import { writeFileSync } from 'node:fs';
import { parse, readInput } from './args';
import { UsageError, type CliIO, type Command } from './command';
import { echoed, shown } from '../shared/display';
import { AssembleError, assembleSnapshot, type DumpSource } from '../engine/snapshot/assemble';
import { SnapshotError } from '../engine/snapshot/load';
import { BadInputError } from '../shared/errors';
import { openSnapshotFile } from '../shared/snapshot-file';
import { ObjectsError, type ObjectSource } from '../engine/snapshot/objects';
import { SnapshotDiff } from '../engine/diff/diff';
import { diffJson, diffTextHead, diffTextRest } from '../engine/diff/report';
import type { DiagnosisRequest } from '../engine/model/result';

const assembleUsage = `netpath snapshot assemble --objects FILE.yaml [--objects ...] --dump NODE=FILE [--dump ...] -o OUT
                          [--captured-at ISO-TIME] [--format-version 1|2]

Builds a snapshot (*.netpath.json) from Kubernetes objects and node dumps (from netpath collect).
Objects: multi-document YAML or a \`kind: List\` (JSON works too); EndpointSlices in
discovery.k8s.io/v1 or v1beta1, or only core Endpoints. Kinds the diagnosis does not read are
listed on stderr and not stored. capturedAt defaults to the earliest dump's start time.
The same inputs always give a byte-identical file. --format-version 2 writes the lazily read
layout (each pod, EndpointSlice and node dump addressable without parsing the rest; README
"Snapshot format version 2"); the default, 1, is the one JSON document every reader knows.
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
      'format-version': { type: 'string' },
    });
    const fv = values['format-version'] as string | undefined;
    if (fv !== undefined && fv !== '1' && fv !== '2') throw new UsageError(`--format-version must be 1 or 2, not "${fv}"`);
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
      result = assembleSnapshot({ objects, dumps, capturedAt: values['captured-at'] as string | undefined, formatVersion: fv === '2' ? 2 : 1 });
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
      // Every part of a version 2 file is read and checked here, not only the ones a diagnosis would touch.
      const s = openSnapshotFile(positionals[0], true);
      io.stdout(`${shown(positionals[0])}: valid snapshot (version ${s.version}, captured ${s.capturedAt}; ${s.objects.pods.length} pods, ${Object.keys(s.dumps).length} dumps)\n`);
      return 0;
    } catch (e) {
      if (e instanceof SnapshotError) throw new UsageError(`${positionals[0]}: ${e.message}`);
      if (e instanceof BadInputError) throw new UsageError(e.message);
      throw e;
    }
  },
};

const diffUsage = `netpath snapshot diff A B [--src S --dst D --port P [--protocol tcp|udp|sctp]] [--format text|json]

What changed from snapshot A to snapshot B: Kubernetes objects added, removed or changed (by
kind/namespace/name, with the changed field paths; resource versions, timestamps and other status
noise ignored), and per node and network namespace: interfaces and addresses, routes and policy
rules, configured neighbours and FDB entries, iptables rules per table/chain (counters ignored),
nftables, ipsets, IPVS, sysctls and listening sockets.

With --src/--dst/--port, both snapshots are diagnosed: the verdict change is shown first, then the
differences on the path (what the packet met in either run, the one that stopped it first), then
the rest. The JSON document is described in the README ("snapshot diff").

Exit codes: 0 the diff ran (whatever differs), 1 internal failure, 2 bad input.
`;

/** Read whole (a diff looks at every part), either format version. */
function loadFile(path: string) {
  try {
    return openSnapshotFile(path, true);
  } catch (e) {
    if (e instanceof SnapshotError) throw new UsageError(`${path}: ${e.message}`);
    if (e instanceof BadInputError) throw new UsageError(e.message);
    throw e;
  }
}

export const snapshotDiffCommand: Command = {
  path: ['snapshot', 'diff'],
  summary: 'what changed between two snapshots; with a path, what changed on it first',
  usage: diffUsage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parse(args, {
      src: { type: 'string' },
      dst: { type: 'string' },
      port: { type: 'string' },
      protocol: { type: 'string', default: 'tcp' },
      format: { type: 'string', default: 'text' },
    });
    if (positionals.length !== 2) throw new UsageError('give exactly two snapshot files: A B');
    const format = String(values.format);
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not "${format}"`);
    const given = (['src', 'dst', 'port'] as const).filter((f) => values[f] !== undefined);
    if (given.length && given.length < 3) throw new UsageError(`a path needs --src, --dst and --port (missing ${['src', 'dst', 'port'].filter((f) => !given.includes(f as 'src')).map((f) => `--${f}`).join(', ')})`);
    let request: DiagnosisRequest | undefined;
    if (given.length) {
      const portText = String(values.port);
      const port = Number(portText);
      if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new UsageError(`--port must be a number from 1 to 65535, not "${portText}"`);
      const protocol = String(values.protocol).toLowerCase();
      if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') throw new UsageError(`--protocol must be tcp, udp or sctp, not "${values.protocol}"`);
      request = { src: String(values.src), dst: String(values.dst), port, protocol };
    }
    const files = { a: positionals[0], b: positionals[1] };
    const diff = new SnapshotDiff(loadFile(files.a), loadFile(files.b));
    const path = request ? diff.path(request) : undefined;
    if (path && path.before.error && path.after.error) throw new UsageError(`the path means nothing in either snapshot: ${path.before.error}`);
    if (format === 'text') io.stdout(diffTextHead(files, path));
    const rest = diff.rest();
    io.stdout(format === 'json' ? `${JSON.stringify(diffJson(files, path, rest), null, 2)}\n` : diffTextRest(rest, path !== undefined));
    return 0;
  },
};
