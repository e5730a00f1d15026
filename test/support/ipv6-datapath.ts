// The IPv6 datapath comparison's cases and its judge, shared by the kernel test (which builds the
// topology, records what the kernel does and can write each case as a fixture) and the fixture
// test (which replays the recorded cases without root).
import { SuspicionLevel, levelName } from '../../src/engine/model/suspicion';
import type { DiagnosisResult } from '../../src/engine/model/result';

export interface Case {
  name: string;
  gatewayOfA?: string;
  /** Shell commands that break (or configure) the topology after it is built. */
  setup: string;
  size?: number;
  /** The engine check that must name the fault when the kernel does not deliver. */
  check?: string;
  /** A packet-too-big case: also compare whether the sender learned the path MTU. */
  ptb?: boolean;
}

export interface Seen { delivered: boolean; pmtuLearned?: boolean; deliveredAgain?: boolean }

export function engineSees(r: DiagnosisResult, c: Case): { seen: Seen; serious: string[]; all: string } {
  const findings = [...r.clusterSuspicions.map((s) => ({ node: 'cluster', s })), ...r.nodes.flatMap((n) => n.suspicions.map((s) => ({ node: n.id, s })))];
  const checks = new Set(findings.map((f) => f.s.check));
  const serious = findings.filter((f) => f.s.level >= SuspicionLevel.CRITICAL).map((f) => f.s.check);
  const all = findings.map((f) => `${f.node} [${levelName(f.s.level)}] ${f.s.check}: ${f.s.message}`).join('\n    ');
  const reachable = r.verdict === 'reachable';
  if (!c.ptb) return { seen: { delivered: reachable }, serious, all };
  const tooBig = checks.has('mtu.packet-too-big') || checks.has('icmpv6.ptb-dropped');
  return { seen: { delivered: !tooBig && reachable, pmtuLearned: !checks.has('icmpv6.ptb-dropped'), deliveredAgain: reachable }, serious, all };
}

/** Undefined when netpath says what the kernel did (and names the fault when it stops the packet), else why not. */
export function agrees(c: Case, kernel: Seen, r: DiagnosisResult): string | undefined {
  const engine = engineSees(r, c);
  const same = JSON.stringify(kernel) === JSON.stringify(engine.seen);
  const named = kernel.delivered || !c.check || engine.serious.includes(c.check);
  if (same && named) return undefined;
  return `${c.name}: kernel ${JSON.stringify(kernel)}, netpath ${r.verdict} ${JSON.stringify(engine.seen)}${!named ? ` (expected ${c.check} among FATAL/CRITICAL)` : ''}\n    ${engine.all}`;
}

export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}
