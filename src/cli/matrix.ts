// `netpath matrix`: who can talk to whom — every ordered pair of pods in scope on every port of the
// destination, with the verdict `netpath diagnose` would give (or, --policy-only, what the
// NetworkPolicies say), from a snapshot or a live cluster.
import { parse, readInput } from './args';
import { UsageError, type CliIO, type Command } from './command';
import { liveFailure, liveFlagOptions, liveFlagsUsage, liveOptions, withCancellation } from './live-flags';
import { settingsFlagOptions, settingsFlagsUsage, settingsOverrides } from './settings-flags';
import { SnapshotError, loadSnapshot } from '../engine/snapshot/load';
import { createContext } from '../engine/context';
import { Network } from '../engine/network';
import { snapshotPort, type ClusterPort } from '../engine/port';
import type { Context } from '../engine/context';
import { buildMatrix, type Matrix } from '../engine/matrix/matrix';
import type { MatrixPort, MatrixProtocol, MatrixScope } from '../engine/matrix/scope';
import { matrixCsv, matrixJson, matrixText } from '../engine/matrix/report';
import { limitFlagOptions, limitFlagsUsage, limitsFromFlags } from './limit-flags';
import { liveModule } from '../cluster/live-module';

const usage = `netpath matrix --snapshot FILE [--namespace NS ... | --all-namespaces] [--port P[/tcp|udp|sctp] ...]
               [--protocol tcp|udp|sctp] [--policy-only] [--format text|json|csv]
netpath matrix --context NAME [...] [--kubeconfig FILE] [--collector-namespace NS] [--collector-image IMG] [--yes]
               [--max-snapshot-chars N] [--max-snapshot-problems N] [--max-json-depth N] [--ipset-element-budget N]

Who can talk to whom: for every ordered pair of pods in the namespaces in scope (default: the
namespace "default"; a pod and itself excepted) and every port of the destination (default: its
declared container ports and the ports its selecting NetworkPolicies name), the verdict
\`netpath diagnose\` would give. Pods that are alike share results (same namespace, labels and
node-path shape), so the matrix costs one diagnosis per class pair, not per pod pair.

  --namespace NS       a namespace in scope; repeatable
  --all-namespaces     every namespace
  --port P[/proto]     try these ports on every destination instead; repeatable (proto default:
                       --protocol, else tcp)
  --protocol P         the protocol of a --port given without one. SCTP is simulated as far as
                       netpath models it (NetworkPolicy, iptables/IPVS rules, routes); SCTP
                       sockets are not in the dumps, so a cell that gets through is unknown
  --policy-only        NetworkPolicies alone: allowed or denied and the deciding policies (an
                       objects-only snapshot suffices)
  --format F           text (default; a table per namespace pair), json or csv

  JSON: { "request", "pods": [id…], "ports": [{ "port", "protocol" }…], "left": [pods left out],
          "cells": [{ "src", "dst", "port", "protocol", "verdict", "checks": [check id…] }] }
  in pod, pod, port order; --policy-only cells add "policies".

Overriding what is detected:
${settingsFlagsUsage}

Live clusters (--namespace is the scope here; the collector pods' namespace is --collector-namespace):
${liveFlagsUsage.replace('  --namespace NS          namespace of the collector pods (default netpath-system)\n', '  --collector-namespace NS  namespace of the collector pods (default netpath-system)\n')}

Limits (an input over one is refused, the error names the limit and this flag; raise it for a
large honest input; K, M, G multiply by 1024):
${limitFlagsUsage}

Exit codes: 0 the matrix ran (whatever it found), 1 internal failure, 2 bad input.
`;

const FORMATS = ['text', 'json', 'csv'] as const;

function parsePort(text: string, protocol: MatrixProtocol): MatrixPort {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(text.trim());
  const port = m ? Number(m[1]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UsageError(`--port takes PORT or PORT/tcp|udp|sctp with PORT from 1 to 65535, not "${text}"`);
  return { port, protocol: (m[2]?.toLowerCase() ?? protocol) as MatrixProtocol };
}

export const matrixCommand: Command = {
  path: ['matrix'],
  summary: 'who can talk to whom: every pod pair × port, by diagnosis or by NetworkPolicy alone',
  usage,
  async run(args: string[], io: CliIO): Promise<number> {
    const { namespace: _collectorNs, ...live } = liveFlagOptions;
    const { values, positionals } = parse(args, {
      snapshot: { type: 'string' },
      ...live,
      'collector-namespace': { type: 'string' },
      namespace: { type: 'string', multiple: true },
      'all-namespaces': { type: 'boolean', short: 'A' },
      port: { type: 'string', multiple: true },
      protocol: { type: 'string', default: 'tcp' },
      'policy-only': { type: 'boolean' },
      format: { type: 'string', default: 'text' },
      ...limitFlagOptions,
      ...settingsFlagOptions,
    });
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.snapshot === undefined && values.context === undefined) throw new UsageError('--snapshot FILE or --context NAME is required');
    if (values.context !== undefined && values.snapshot !== undefined) throw new UsageError('give either --snapshot or --context, not both');
    const namespaces = (values.namespace ?? []) as string[];
    if (namespaces.length && values['all-namespaces']) throw new UsageError('give --namespace or --all-namespaces, not both');
    for (const ns of namespaces) if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) throw new UsageError(`--namespace "${ns}" is not a valid namespace name`);
    const format = String(values.format);
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${format}"`);
    const protocol = String(values.protocol).toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') throw new UsageError(`--protocol must be tcp, udp or sctp, not "${values.protocol}"`);
    if (values.protocol !== 'tcp' && !(values.port as string[] | undefined)?.length) throw new UsageError('--protocol sets the protocol of the --port values: give --port too');
    const ports = ((values.port ?? []) as string[]).map((t) => parsePort(t, protocol));
    const policyOnly = values['policy-only'] === true;
    const scope: MatrixScope = {
      ...(values['all-namespaces'] ? {} : { namespaces: namespaces.length ? [...new Set(namespaces)].sort() : ['default'] }),
      ...(ports.length ? { ports: [...new Map(ports.map((p) => [`${p.port}/${p.protocol}`, p])).values()] } : {}),
    };
    const overrides = settingsOverrides(values);
    const print = (m: Matrix) => {
      for (const chunk of format === 'json' ? matrixJson(m) : format === 'csv' ? matrixCsv(m) : matrixText(m)) io.stdout(chunk);
    };
    const run = async (port: ClusterPort, context: Context, live: boolean) => {
      const net = new Network(port, context, limitsFromFlags(values));
      if (live && !policyOnly && port.dumps.collect) {
        // The shapes read every in-scope pod's node: collect those nodes first, in parallel.
        const nodes = [...new Set(net.cache.pods.filter((p) => !scope.namespaces || scope.namespaces.includes(p.namespace)).map((p) => p.nodeName).filter((n): n is string => !!n))].sort();
        const wanted = nodes.filter((n) => 'collectable' in port.dumps.state(n));
        if (wanted.length) await port.dumps.collect(wanted);
      }
      return buildMatrix(net, scope, { policyOnly, ...(live ? { diagnose: (q) => net.diagnoseAsync(q) } : {}) });
    };

    if (values.context !== undefined) {
      try {
        const m = await withCancellation(async (signal) => {
          const o = { ...liveOptions({ ...values, namespace: values['collector-namespace'] }, io, signal), settings: overrides, ...(policyOnly ? { collect: false } : {}) };
          const { LiveDumps, liveContext, openLive } = liveModule();
          const session = await openLive(o);
          try {
            const dumps = new LiveDumps(session, signal);
            return await run({ objects: session.loaded.objects, dumps }, liveContext(session.loaded.objects, o), true);
          } finally {
            await session.manager?.cleanup();
          }
        });
        print(m);
        return 0;
      } catch (e) {
        return liveFailure(e, io, 'matrix');
      }
    }
    let snapshot;
    try {
      snapshot = loadSnapshot(readInput(values.snapshot as string, 'snapshot'), limitsFromFlags(values));
    } catch (e) {
      if (e instanceof SnapshotError) throw new UsageError(`${values.snapshot}: ${e.message}`);
      throw e;
    }
    const context = createContext({ origin: 'snapshot', values: snapshot.settings }, { origin: 'cli', values: overrides });
    print(await run(snapshotPort(snapshot), context, false));
    return 0;
  },
};
