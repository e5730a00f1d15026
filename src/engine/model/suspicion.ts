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
  /**
   * Present when the finding rests on elements the simulator does not model (an unknown iptables
   * match or target, a native nftables chain, state it cannot see) that could decide the outcome:
   * the finding then holds in some ways of evaluating them and not in others. Such a finding is at
   * most a WARNING (it never makes the verdict `unreachable`), and its presence keeps the verdict
   * from being `reachable`.
   */
  undecided?: UndecidedElement[];
  /**
   * The Kubernetes objects whose fields cause the finding (the policy that denies, the Service whose
   * selector selects nothing): an editor shows the finding on the object's manifest, at the field.
   */
  objects?: ObjectCause[];
}

/** A Kubernetes object a finding is about, the field that decides it, and the one fix when it is certain. */
export interface ObjectCause {
  kind: 'NetworkPolicy' | 'Service' | 'Pod' | 'EndpointSlice';
  namespace: string;
  name: string;
  /** Path of the deciding field in the object's manifest, e.g. `['spec', 'ports', 0, 'targetPort']`. */
  field: (string | number)[];
  /** A pod's controlling owner (`ReplicaSet web-5d8f7`): the workload whose template stands for the pod in manifests. */
  owner?: { kind: string; name: string };
  remedy?: Remedy;
}

/**
 * A change to the object that removes the finding, given only when it is certain: a rule allowing
 * exactly the diagnosed peer and port, the container port a Service's targetPort should name, the
 * label a pod lacks for a selector.
 */
export type Remedy =
  | { kind: 'allow-peer'; direction: 'ingress' | 'egress'; peer: { namespace: string; labels: Record<string, string> }; port: number; protocol: string }
  | { kind: 'set-target-port'; portIndex: number; value: number | string }
  | { kind: 'add-label'; key: string; value: string };

/** An element on the path the simulator does not model, and why it could decide the outcome. */
export interface UndecidedElement {
  /** Where it is: `node2 filter/FORWARD #3`, `node2 nftables inet guard chain gate`. */
  where: string;
  /** Why it is not modelled: `match module "foobar" is not modelled`. */
  reason: string;
}

/** Same check, message and evidence → the same finding (a node reached twice reports it once). */
export function suspicionKey(s: Suspicion): string {
  return JSON.stringify([s.check, s.message, s.evidence.map((e) => [e.kind, e.text, e.where ?? ''])]);
}
