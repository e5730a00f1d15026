// netpath/matrix: who can talk to whom in the namespaces asked for (the engine's connectivity
// matrix, as `netpath matrix` computes it), answered in the server's worker for the matrix view.
// A datapath matrix names no policy in its cells (only check ids), so for its policy-denied cells
// the deciding NetworkPolicies come from the policy-only matrix of the same scope (cheap: it is
// built on policy classes, no datapath).
import { buildMatrix, type Matrix } from '../engine/matrix/matrix';
import { podsInScope, portsOf, type MatrixPort, type MatrixScope } from '../engine/matrix/scope';
import type { Network } from '../engine/network';
import type { NetpathSnapshot } from '../engine/snapshot/types';
import { BadInputError } from '../shared/errors';
import type { RequestLimits } from '../shared/limits';
import { MatrixRequest, maxMatrixCells, type MatrixCellWire, type MatrixParams, type MatrixResult, type SettingOverrides } from '../shared/protocol';
import { bad, limits, overrides, params, source, workDoneToken } from './params';
import { sourceFor } from './source';
import type { Steps } from './steps';

const method = MatrixRequest.method;
const nsName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function matrixParams(p: unknown): MatrixParams {
  const o = params(method, p);
  const ns = o.namespaces;
  if (!Array.isArray(ns) || !ns.length || ns.length > 100 || !ns.every((n) => typeof n === 'string' && nsName.test(n)))
    throw bad(method, 'params.namespaces', 'a non-empty array of namespace names', ns);
  let ports: MatrixParams['ports'];
  if (o.ports !== undefined) {
    if (!Array.isArray(o.ports) || !o.ports.length || o.ports.length > 100) throw bad(method, 'params.ports', 'a non-empty array of { port, protocol }', o.ports);
    ports = o.ports.map((x: unknown, i) => {
      const q = x as Record<string, unknown>;
      if (typeof q !== 'object' || q === null || !Number.isInteger(q.port) || (q.port as number) < 1 || (q.port as number) > 65535)
        throw bad(method, `params.ports[${i}].port`, 'an integer from 1 to 65535', q?.port);
      const protocol = q.protocol ?? 'tcp';
      if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') throw bad(method, `params.ports[${i}].protocol`, '"tcp", "udp" or "sctp"', q.protocol);
      return { port: q.port as number, protocol };
    });
  }
  if (o.policyOnly !== undefined && typeof o.policyOnly !== 'boolean') throw bad(method, 'params.policyOnly', 'a boolean', o.policyOnly);
  const policyOnly = o.policyOnly === true;
  return {
    source: source(method, o.source),
    namespaces: [...new Set(ns as string[])].sort(),
    ...(ports ? { ports } : {}),
    policyOnly,
    overrides: overrides(method, o.overrides),
    ...limits(method, o.limits),
    ...workDoneToken(method, o),
  };
}

const isDenyCheck = (c: string) => c.startsWith('policy.') && c.endsWith('-deny');

export async function matrixFor(p: MatrixParams, steps: Steps, networkFor: (s: NetpathSnapshot, o: SettingOverrides | undefined, l?: RequestLimits) => Network): Promise<MatrixResult> {
  const src = sourceFor(p.source, p.limits);
  const snapshot = await src.load(steps);
  const net = networkFor(snapshot, p.overrides, p.limits);
  const scope: MatrixScope = { namespaces: p.namespaces, ...(p.ports ? { ports: p.ports as MatrixPort[] } : {}) };
  const policyOnly = p.policyOnly === true;

  // Counted before any diagnosis: a scope too large for one view is refused at once.
  steps.step(`Finding the pods of ${p.namespaces.join(', ')}`);
  const { pods } = podsInScope(net.cache, scope);
  const policies = net.policySet();
  const cellCount = pods.reduce((n, d) => n + portsOf(d, scope, policies).filter((x) => policyOnly || x.protocol !== 'sctp').length * (pods.length - 1), 0);
  if (cellCount > maxMatrixCells)
    throw new BadInputError(`${p.namespaces.join(', ')}: ${pods.length} pods make ${cellCount} cells, more than the view shows (${maxMatrixCells}); choose fewer ports or namespaces, or use \`netpath matrix\` on the command line`, 'request');

  steps.step(`Judging ${cellCount} pod pairs and ports${policyOnly ? ' by their NetworkPolicies' : ''}`);
  const m = await buildMatrix(net, scope, { policyOnly });
  const deciding = policyOnly ? undefined : await buildMatrix(net, scope, { policyOnly: true });
  steps.step('Naming the deciding policies');
  return {
    sourceLabel: src.label,
    namespaces: p.namespaces,
    policyOnly,
    pods: m.pods,
    ports: m.ports,
    left: m.left,
    cells: wireCells(m, deciding),
  };
}

/** The matrix's cells as the view takes them; datapath cells denied by a policy name it from `deciding`. */
export function wireCells(m: Matrix, deciding: Matrix | undefined): MatrixCellWire[] {
  const denying = new Map<string, string[]>();
  if (deciding) {
    for (let i = 0; i < deciding.cells.length; i++) {
      const r = deciding.results[deciding.cells.result[i]];
      if (r.verdict !== 'denied' || !r.policies?.length) continue;
      const port = deciding.ports[deciding.cells.port[i]];
      denying.set(`${deciding.pods[deciding.cells.src[i]]}|${deciding.pods[deciding.cells.dst[i]]}|${port.port}/${port.protocol}`, r.policies);
    }
  }
  const out: MatrixCellWire[] = [];
  for (let i = 0; i < m.cells.length; i++) {
    const r = m.results[m.cells.result[i]];
    const cell: MatrixCellWire = { src: m.cells.src[i], dst: m.cells.dst[i], port: m.cells.port[i], verdict: r.verdict, checks: r.checks };
    if (r.policies) cell.policies = r.policies;
    else if (r.checks.some(isDenyCheck)) {
      const port = m.ports[cell.port];
      const pol = denying.get(`${m.pods[cell.src]}|${m.pods[cell.dst]}|${port.port}/${port.protocol}`);
      if (pol) cell.policies = pol;
    }
    out.push(cell);
  }
  return out;
}
