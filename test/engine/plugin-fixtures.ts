// Lab snapshots mutated in memory, the way KubeSkoop's e2e suite breaks a live cluster (a route
// deleted, an interface set down, an MTU changed): helpers shared by the plugin and service tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import type { DiagnosisResult } from '../../src/engine/model/result';
import { SuspicionLevel, type Suspicion } from '../../src/engine/model/suspicion';
import { labDir } from '../support/lab-cases';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Snap = any;

export function lab(name: string): Snap {
  return JSON.parse(readFileSync(join(labDir, name, 'snapshot.netpath.json'), 'utf8'));
}

export function diagnose(snap: Snap, src: string, dst: string, port: number, protocol = 'tcp'): DiagnosisResult {
  return new Network(loadSnapshot(JSON.stringify(snap))).diagnose({ src, dst, port, protocol });
}

/** The dump of a pod's netns (by the pod's IP) on a node. */
export function podNetns(snap: Snap, node: string, ip: string): Snap {
  const ns = snap.dumps[node].netns.find((n: Snap) => (n.addresses ?? []).some((a: Snap) => (a.addr_info ?? []).some((x: Snap) => x.local === ip)));
  if (!ns) throw new Error(`no netns with ${ip} on ${node}`);
  return ns;
}

export function host(snap: Snap, node: string): Snap {
  return snap.dumps[node].node;
}

export function link(ns: Snap, name: string): Snap {
  const l = ns.links.find((x: Snap) => x.ifname === name);
  if (!l) throw new Error(`no link ${name}`);
  return l;
}

export function setDown(ns: Snap, name: string): void {
  const l = link(ns, name);
  l.operstate = 'DOWN';
  l.flags = l.flags.filter((f: string) => f !== 'UP' && f !== 'LOWER_UP');
}

export function dropRoutes(ns: Snap, pred: (r: Snap) => boolean): number {
  const before = ns.routes.length;
  ns.routes = ns.routes.filter((r: Snap) => !pred(r));
  return before - ns.routes.length;
}

/** Findings at WARNING or above, as `node:LEVEL:check`. */
export function findings(r: DiagnosisResult, min = SuspicionLevel.WARNING): string[] {
  const out = r.clusterSuspicions.filter((s) => s.level >= min).map((s) => `cluster:${SuspicionLevel[s.level]}:${s.check}`);
  for (const n of r.nodes) for (const s of n.suspicions) if (s.level >= min) out.push(`${n.id}:${SuspicionLevel[s.level]}:${s.check}`);
  return out;
}

export function on(r: DiagnosisResult, node: string, check: string): Suspicion | undefined {
  return r.nodes.find((n) => n.id === node)?.suspicions.find((s) => s.check === check);
}
