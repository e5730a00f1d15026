// What a diagnosis returns: the graph, the findings and the verdict. The CLI's `--format json`,
// the server's responses and the webview all derive from this one shape.
import type { Action } from './action';
import type { Endpoint } from './endpoint';
import type { Link } from './link';
import type { NetNodeType } from './netnode';
import type { Protocol } from './packet';
import type { Suspicion } from './suspicion';

export interface DiagnosisRequest {
  /** As the user wrote them: `ns/pod`, `svc/ns/name`, `node/name`, or an IP. */
  src: string;
  dst: string;
  port: number;
  protocol: Protocol;
  /**
   * Address family names resolve to (`--family`); absent: the family of an IP typed, else IPv4
   * when both ends have it, else IPv6.
   */
  family?: 4 | 6;
  /** Payload bytes of the packet (UDP datagram / TCP segment data); absent = a small packet. */
  size?: number;
}

export interface ResultNode {
  id: string;
  type: NetNodeType;
  description: string;
  examined: boolean;
  actions: Action[];
  suspicions: Suspicion[];
}

export type Verdict = 'reachable' | 'unreachable' | 'unknown';

/** A cluster node the packet reached but whose network stack could not be looked at, and why. */
export interface UnexaminedNode {
  node: string;
  reason: string;
}

export interface DiagnosisResult {
  request: DiagnosisRequest;
  source: Endpoint;
  destination: Endpoint;
  /** In path order: breadth-first from the source. */
  nodes: ResultNode[];
  links: Link[];
  /** Findings that belong to no single node (e.g. a NetworkPolicy verdict). */
  clusterSuspicions: Suspicion[];
  /** Cluster nodes on the path that were not examined (no dump, collection failed), by name. */
  unexamined: UnexaminedNode[];
  verdict: Verdict;
}
