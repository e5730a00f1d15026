// `netpath diagnose` (CLI contract): from a snapshot or a live cluster (--context) to a report.
// Exit 0 = the diagnosis ran, whatever it found; 2 = bad input; 1 = internal failure.
import { parse, readInput } from './args';
import { UsageError, type CliIO, type Command } from './command';
import { echoed } from '../shared/display';
import { SnapshotError, loadSnapshot } from '../engine/snapshot/load';
import { Network } from '../engine/network';
import { BadInputError } from '../shared/errors';
import { formatJson } from '../engine/report/json';
import { formatText } from '../engine/report/text';
import { formatSkoopJson } from '../engine/report/skoop-json';
import { liveFailure, liveFlagOptions, liveFlagsUsage, liveOptions, withCancellation } from './live-flags';
import { diagnoseLive } from '../cluster/live';
import { createContext } from '../engine/context';
import { snapshotPort } from '../engine/port';
import { settingsFlagOptions, settingsFlagsUsage, settingsOverrides } from './settings-flags';

const usage = `netpath diagnose --snapshot FILE --src SRC --dst DST --port N [--protocol tcp|udp] [--size BYTES] [--format text|json|skoop-json]
netpath diagnose --context NAME --src SRC --dst DST --port N [...] [--kubeconfig FILE] [--namespace NS]
                 [--collector-image IMG] [--timeout SECONDS] [--yes]

Diagnoses whether SRC can reach DST:N and, if not, why — on the node where the fault lives.
SRC and DST: ns/pod, svc/ns/name, node/name, or an IP address (IPv4 or IPv6).

  --snapshot FILE   a *.netpath.json snapshot (netpath snapshot assemble/capture)
  --context NAME    a live cluster: objects from the API server, node dumps from collector pods
                    on the nodes the path reaches (API-level checks only without the permissions)
  --protocol P      tcp (default) or udp
  --size BYTES      payload size of the packet (to find MTU problems); default: a small packet
  --format F        text (default), json (the netpath JSON document) or skoop-json
                    (KubeSkoop's --format json shape, for existing consumers)

Overriding what is detected (every detected value can be set):
${settingsFlagsUsage}

Live clusters:
${liveFlagsUsage}

Exit codes: 0 the diagnosis ran (whatever it found), 1 internal failure, 2 bad input.
`;

const FORMATS = ['text', 'json', 'skoop-json'] as const;

export const diagnoseCommand: Command = {
  path: ['diagnose'],
  summary: 'diagnose connectivity from a source to a destination (pod, service, node or IP)',
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parse(args, {
      snapshot: { type: 'string' },
      ...liveFlagOptions,
      src: { type: 'string' },
      dst: { type: 'string' },
      port: { type: 'string' },
      protocol: { type: 'string', default: 'tcp' },
      format: { type: 'string', default: 'text' },
      size: { type: 'string' },
      ...settingsFlagOptions,
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${echoed(positionals[0])}"`);
    if (values.snapshot === undefined && values.context === undefined) throw new UsageError('--snapshot FILE or --context NAME is required');
    if (values.context !== undefined && values.snapshot !== undefined) throw new UsageError('give either --snapshot or --context, not both');
    for (const f of ['src', 'dst', 'port'] as const) if (values[f] === undefined) throw new UsageError(`--${f} is required`);
    const portText = values.port as string;
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new UsageError(`--port must be a number from 1 to 65535, not "${echoed(portText)}"`);
    const protocol = String(values.protocol).toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError(`--protocol must be tcp or udp, not "${echoed(String(values.protocol))}"`);
    const format = String(values.format);
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${echoed(format)}"`);

    let size: number | undefined;
    if (values.size !== undefined) {
      size = Number(values.size);
      if (!/^\d+$/.test(String(values.size)) || size < 1 || size > 65507) throw new UsageError(`--size must be a payload size in bytes from 1 to 65507, not "${echoed(String(values.size))}"`);
    }
    const overrides = settingsOverrides(values);
    const request = { src: values.src as string, dst: values.dst as string, port, protocol, ...(size ? { size } : {}) };
    const print = (result: Parameters<typeof formatJson>[0]) =>
      io.stdout(format === 'json' ? formatJson(result) : format === 'skoop-json' ? formatSkoopJson(result) : formatText(result));
    if (values.context !== undefined) {
      try {
        const live = await withCancellation((signal) => diagnoseLive({ ...liveOptions(values, io, signal), settings: overrides }, request));
        print(live.result);
        return 0;
      } catch (e) {
        if (e instanceof BadInputError && e.part === 'request') throw new UsageError(e.message);
        return liveFailure(e, io, 'diagnose');
      }
    }

    let snapshot;
    try {
      snapshot = loadSnapshot(readInput(values.snapshot as string, 'snapshot'));
    } catch (e) {
      if (e instanceof SnapshotError) throw new UsageError(`${values.snapshot}: ${e.message}`);
      throw e;
    }
    let result;
    try {
      const context = createContext({ origin: 'snapshot', values: snapshot.settings }, { origin: 'cli', values: overrides });
      result = new Network(snapshotPort(snapshot), context).diagnose(request);
    } catch (e) {
      if (e instanceof BadInputError) throw new UsageError(e.message);
      throw e;
    }
    print(result);
    return 0;
  },
};
