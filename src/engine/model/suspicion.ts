// A finding on a NetNode (seed: Suspicion). Unlike the original, every suspicion has a stable
// check id (for the Problems panel `code`, tests and suppression) and the evidence that caused it.

export enum SuspicionLevel {
  INFO = 0,
  WARNING = 1,
  CRITICAL = 2,
  FATAL = 3,
}

export type LevelName = keyof typeof SuspicionLevel;

export function levelName(l: SuspicionLevel): LevelName {
  return SuspicionLevel[l] as LevelName;
}

/** Where a piece of evidence comes from, so the report and the UI can show and link it. */
export type EvidenceKind =
  | 'route' | 'rule' | 'iptables' | 'nftables' | 'ipset' | 'ipvs' | 'interface' | 'neighbour'
  | 'fdb' | 'sysctl' | 'socket' | 'object' | 'dump';

export interface Evidence {
  kind: EvidenceKind;
  /** The thing itself as its tool prints it: a rule line, a route line, `key = value`. */
  text: string;
  /** Where it lives: `nat/KUBE-SERVICES #3`, `table main`, `networkpolicy default/deny-all`. */
  where?: string;
}

export interface Suspicion {
  level: SuspicionLevel;
  message: string;
  /** Stable dotted id, family first: `route.missing`, `iptables.drop`, `policy.deny`. */
  check: string;
  evidence: Evidence[];
}

/** Same check, message and evidence → the same finding (a node reached twice reports it once). */
export function suspicionKey(s: Suspicion): string {
  return JSON.stringify([s.check, s.message, s.evidence.map((e) => [e.kind, e.text, e.where ?? ''])]);
}
