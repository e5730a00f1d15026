// `netpath diagnose` (CLI contract): from a snapshot or a live cluster (--context) to a report.
// Exit 0 = the diagnosis ran, whatever it found; 2 = bad input; 1 = internal failure.
import { parse, readInput } from './args';
import { UsageError, type CliIO, type Command } from './command';
import { SnapshotError } from '../engine/snapshot/load';
import { openSnapshotFile } from '../shared/snapshot-file';
import { echoed } from '../shared/display';
import { Network } from '../engine/network';
import { BadInputError } from '../shared/errors';
import { formatJson } from '../engine/report/json';
import { formatText } from '../engine/report/text';
import { formatSkoopJson } from '../engine/report/skoop-json';
import { liveFailure, liveFlagOptions, liveFlagsUsage, liveOptions, withCancellation } from './live-flags';
import { liveModule } from '../cluster/live-module';
import { createContext } from '../engine/context';
import { snapshotPort } from '../engine/port';
import { settingsFlagOptions, settingsFlagsUsage, settingsOverrides } from './settings-flags';
import { limitFlagOptions, limitFlagsUsage, limitsFromFlags } from './limit-flags';
import { toJson } from '../engine/report/json';
import type { ClusterPort } from '../engine/port';
import type { Context } from '../engine/context';
import type { DiagnosisRequest, DiagnosisResult } from '../engine/model/result';
import { applyOverlay, OverlayError, overlayPort, parseObjectRef, type AppliedOverlay } from '../engine/overlay/overlay';
import { explainWhatIf, whatIfJson, whatIfText, type WhatIf } from '../engine/overlay/what-if';
import { printable } from '../engine/diff/printable';

const usage = `netpath diagnose --snapshot FILE --src SRC --dst DST --port N [--protocol tcp|udp|sctp] [--family 4|6]
                 [--size BYTES] [--format text|json|skoop-json]
                 [--with F.yaml ...] [--without KIND/NS/NAME ...]
netpath diagnose --context NAME --src SRC --dst DST --port N [...] [--kubeconfig FILE] [--namespace NS]
                 [--collector-image IMG] [--timeout SECONDS] [--yes]
                 [--max-response-bytes N] [--max-dump-bytes N]
                 [--max-snapshot-chars N] [--max-snapshot-problems N] [--max-json-depth N] [--ipset-element-budget N]

Diagnoses whether SRC can reach DST:N and, if not, why — on the node where the fault lives.
SRC and DST: ns/pod, svc/ns/name, node/name, or an IP address (IPv4 or IPv6).

  --snapshot FILE   a *.netpath.json snapshot (netpath snapshot assemble/capture)
  --context NAME    a live cluster: objects from the API server, node dumps from collector pods
                    on the nodes the path reaches (API-level checks only without the permissions)
  --protocol P      tcp (default), udp or sctp. SCTP is judged where netpath models it
                    (NetworkPolicy, iptables -p sctp/--dport, IPVS --sctp-service, routes); what
                    the dump cannot show for SCTP (listening SCTP sockets: ss -Htuln lists TCP and
                    UDP only) is named in a WARNING and the verdict is UNKNOWN, never REACHABLE
  --family 4|6      the address family names resolve to (pods by status.podIPs, services by
                    spec.ipFamilies and clusterIPs with EndpointSlices of that addressType, nodes
                    by their InternalIP of that family, a NodePort on it). Default: the family of
                    an IP typed; for names IPv4 when both ends have it, else IPv6. The report says
                    (INFO request.other-family) when both ends have the other family too
  --size BYTES      payload size of the packet (to find MTU problems); default: a small packet
  --format F        text (default), json (the netpath JSON document) or skoop-json
                    (KubeSkoop's --format json shape, for existing consumers)

What-if (the objects changed before diagnosing; the node dumps stay as they are):
  --with F.yaml     apply manifests (multi-document YAML or a List): each object replaces the
                    one of its kind/namespace/name, or is created; repeatable
  --without K/NS/N  remove an object (KIND/NAMESPACE/NAME, or KIND/NAME if cluster-scoped); repeatable
                    The report then says the verdict without the overlay, the changes, and which
                    findings rest on them (JSON: "whatIf").

Overriding what is detected (every detected value can be set):
${settingsFlagsUsage}

Live clusters:
${liveFlagsUsage}

Limits (an input over one is refused, the error names the limit and this flag; raise it for a
large honest input; K, M, G multiply by 1024):
${limitFlagsUsage}

The verdict: REACHABLE means every element on the path was understood and the packet gets
there; UNREACHABLE means something certainly stops it (a FATAL or CRITICAL finding). UNKNOWN
when netpath cannot tell: a node on the path has no dump, or an element it does not model could
decide the outcome — an iptables match or target it does not know (evaluated both ways: if the
outcomes differ, a WARNING names the rule), a -m recent list it did not collect, a native
nftables chain on a hook the packet passes, a table iptables-nft-save could not print whole.

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
      family: { type: 'string' },
      format: { type: 'string', default: 'text' },
      size: { type: 'string' },
      with: { type: 'string', multiple: true },
      without: { type: 'string', multiple: true },
      ...settingsFlagOptions,
      ...limitFlagOptions,
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${echoed(positionals[0])}"`);
    if (values.snapshot === undefined && values.context === undefined) throw new UsageError('--snapshot FILE or --context NAME is required');
    if (values.context !== undefined && values.snapshot !== undefined) throw new UsageError('give either --snapshot or --context, not both');
    for (const f of ['src', 'dst', 'port'] as const) if (values[f] === undefined) throw new UsageError(`--${f} is required`);
    const portText = values.port as string;
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new UsageError(`--port must be a number from 1 to 65535, not "${echoed(portText)}"`);
    const protocol = String(values.protocol).toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') throw new UsageError(`--protocol must be tcp, udp or sctp, not "${echoed(String(values.protocol))}"`);
    const familyText = values.family === undefined ? undefined : String(values.family);
    if (familyText !== undefined && familyText !== '4' && familyText !== '6') throw new UsageError(`--family must be 4 or 6, not "${echoed(familyText)}"`);
    const family = familyText === undefined ? undefined : (Number(familyText) as 4 | 6);
    const format = String(values.format);
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${echoed(format)}"`);

    let size: number | undefined;
    if (values.size !== undefined) {
      size = Number(values.size);
      if (!/^\d+$/.test(String(values.size)) || size < 1 || size > 65507) throw new UsageError(`--size must be a payload size in bytes from 1 to 65507, not "${echoed(String(values.size))}"`);
    }
    const overrides = settingsOverrides(values);
    const limits = limitsFromFlags(values);
    const request: DiagnosisRequest = { src: values.src as string, dst: values.dst as string, port, protocol, ...(family ? { family } : {}), ...(size ? { size } : {}) };
    const withFiles = (values.with ?? []) as string[];
    const withoutRefs = ((values.without ?? []) as string[]).map((t) => {
      try {
        return parseObjectRef(t);
      } catch (e) {
        throw new UsageError(`--without ${(e as Error).message}`);
      }
    });
    const manifests = withFiles.map((f) => ({ name: f, text: readInput(f, '--with manifest') }));
    const whatIf = manifests.length || withoutRefs.length ? { manifests, without: withoutRefs } : undefined;
    if (whatIf && format === 'skoop-json') throw new UsageError('--with/--without need --format text or json (skoop-json has no place for what-if)');
    let explained: WhatIf | undefined;
    const print = (result: DiagnosisResult) => {
      if (format === 'json') io.stdout(explained ? `${JSON.stringify({ ...(toJson(result) as object), whatIf: whatIfJson(explained) }, null, 2)}\n` : formatJson(result));
      else if (format === 'skoop-json') io.stdout(formatSkoopJson(result));
      else io.stdout(formatText(result) + (explained ? whatIfText(explained) : ''));
    };
    const overlayOf = (port: ClusterPort): AppliedOverlay => {
      try {
        return applyOverlay(port.objects, whatIf!.manifests, whatIf!.without, limits);
      } catch (e) {
        if (e instanceof OverlayError) throw new UsageError(e.message);
        throw e;
      }
    };
    // Base and overlay share the port's dumps: a live cluster collects each node once.
    const runWhatIf = async (port: ClusterPort, context: Context, req: DiagnosisRequest): Promise<DiagnosisResult> => {
      const applied = overlayOf(port);
      for (const i of applied.ignored) io.stderr(`netpath diagnose: --with: ${printable(`${i.kind} ${i.name} (${i.source})`)} not applied: ${i.reason}\n`);
      const base = await new Network(port, context, limits).diagnoseAsync(req).catch((e: unknown) => {
        if (e instanceof BadInputError) return { error: e.message };
        throw e;
      });
      const after = await new Network(overlayPort(port, applied), context, limits).diagnoseAsync(req);
      explained = explainWhatIf(applied, base, after);
      return explained.result;
    };
    if (values.context !== undefined) {
      try {
        const live = await withCancellation((signal) => liveModule().diagnoseLive({ ...liveOptions(values, io, signal), settings: overrides }, request, whatIf ? (port, context) => runWhatIf(port, context, request) : undefined));
        print(live.result);
        return 0;
      } catch (e) {
        if (e instanceof BadInputError && e.part === 'request') throw new UsageError(e.message);
        return liveFailure(e, io, 'diagnose');
      }
    }

    let snapshot;
    try {
      snapshot = openSnapshotFile(values.snapshot as string, false, limits);
    } catch (e) {
      if (e instanceof SnapshotError) throw new UsageError(`${values.snapshot}: ${e.message}`);
      if (e instanceof BadInputError) throw new UsageError(e.message);
      throw e;
    }
    let result;
    try {
      const context = createContext({ origin: 'snapshot', values: snapshot.settings }, { origin: 'cli', values: overrides });
      result = whatIf ? await runWhatIf(snapshotPort(snapshot), context, request) : new Network(snapshotPort(snapshot), context, limits).diagnose(request);
    } catch (e) {
      // A version 2 snapshot validates each part when the diagnosis first reads it.
      if (e instanceof SnapshotError) throw new UsageError(`${values.snapshot}: ${e.message}`);
      if (e instanceof BadInputError) throw new UsageError(e.message);
      throw e;
    }
    print(result);
    return 0;
  },
};
