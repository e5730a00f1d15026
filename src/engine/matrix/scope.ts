// Who and what a connectivity matrix covers: the pods of the namespaces in scope (sorted by
// `namespace/name`), and per destination the ports to try — those asked for, or by default the
// destination pod's declared container ports and the ports its selecting ingress policies name.
import type { ClusterCache } from '../k8s/cache';
import type { ClusterPod } from '../k8s/objects';
import type { PolicySet } from '../policy/evaluate';

export type MatrixProtocol = 'tcp' | 'udp' | 'sctp';

export interface MatrixPort {
  port: number;
  protocol: MatrixProtocol;
}

export interface MatrixScope {
  /** `undefined` = every namespace. */
  namespaces?: string[];
  /** Ports tried for every destination; absent = each destination's own (see above). */
  ports?: MatrixPort[];
}

export interface ScopedPods {
  pods: ClusterPod[];
  /** Pods in scope that cannot take part (no IP address, finished), with the reason. */
  left: { pod: string; reason: string }[];
}

export function podsInScope(cache: ClusterCache, scope: MatrixScope): ScopedPods {
  const wanted = scope.namespaces ? new Set(scope.namespaces) : undefined;
  const pods: ClusterPod[] = [];
  const left: ScopedPods['left'] = [];
  for (const p of cache.pods) {
    if (wanted && !wanted.has(p.namespace)) continue;
    if (p.phase === 'Succeeded' || p.phase === 'Failed') left.push({ pod: p.key, reason: `${p.phase}: it no longer runs` });
    else if (!p.ips.length) left.push({ pod: p.key, reason: 'no IP address (not started, or not scheduled)' });
    else pods.push(p);
  }
  pods.sort((a, b) => cmp(a.key, b.key));
  left.sort((a, b) => cmp(a.pod, b.pod));
  return { pods, left };
}

export function comparePorts(a: MatrixPort, b: MatrixPort): number {
  return a.port - b.port || cmp(a.protocol, b.protocol);
}

/** The ports a destination is tried on. */
export function portsOf(dst: ClusterPod, scope: MatrixScope, policies: PolicySet): MatrixPort[] {
  if (scope.ports) return scope.ports;
  const out = new Map<string, MatrixPort>();
  const add = (port: number, protocol: string) => {
    const p = protocol.toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') return;
    out.set(`${port}/${p}`, { port, protocol: p });
  };
  for (const c of dst.containerPorts) add(c.port, c.protocol);
  for (const pol of policies.selecting(dst, 'ingress')) {
    for (const rule of pol.ingress ?? []) {
      for (const pp of rule.ports ?? []) {
        if (typeof pp.port === 'number' && pp.port > 0) add(pp.port, pp.protocol);
        else if (typeof pp.port === 'string') for (const c of dst.containerPorts) if (c.name === pp.port && c.protocol === pp.protocol) add(c.port, c.protocol);
      }
    }
  }
  return [...out.values()].sort(comparePorts);
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
