// Questions asked of the router and the answers it gives. Kept apart from the lookup code so
// that assertions and reports can depend on the shapes without the algorithm.
import type { Family } from './ip';
import type { Route, Rule, TableRef, Via } from './routes';

/**
 * One lookup, as `ip route get` takes it. Without `iif` it is the output path (a locally
 * generated packet); with `iif` it is the input path (the packet arrives on that interface and
 * is delivered locally or forwarded).
 */
export interface RouteQuery {
  dst: string;
  src?: string;
  iif?: string;
  oif?: string;
  /** fwmark (skb->mark). */
  mark?: number;
  /** IPv4 TOS byte. */
  tos?: number;
  /** IP protocol number, for `ipproto` rules. */
  ipproto?: number;
  sport?: number;
  dport?: number;
  /** Socket uid for `uidrange` rules; output default 0 (root), input: none. */
  uid?: number;
}

/** Errors as the kernel returns them from a route lookup (`RTNETLINK answers: …`). */
export type RouteErrno = 'ENETUNREACH' | 'EHOSTUNREACH' | 'EACCES' | 'EINVAL' | 'EXDEV' | 'ENODEV' | 'ENETDOWN' | 'EMSGSIZE';

export const ERRNO_TEXT: Record<RouteErrno, string> = {
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  EACCES: 'Permission denied',
  EINVAL: 'Invalid argument',
  EXDEV: 'Invalid cross-device link',
  ENODEV: 'No such device',
  ENETDOWN: 'Network is down',
  EMSGSIZE: 'Message too long',
};

/** What caused a failure, more precisely than the errno (several causes share EINVAL). */
export type RouteFailureKind =
  | 'no-route' // no rule/table had a route (ENETUNREACH)
  | 'unreachable' // an unreachable route or rule
  | 'prohibit'
  | 'blackhole'
  | 'forwarding-disabled' // input path, forwarding off on the input interface
  | 'martian-source'
  | 'martian-destination'
  | 'rp-filter' // reverse-path check failed (EXDEV)
  | 'source-not-local' // output with a `from` that is not an address of this host (IPv4)
  | 'invalid-source'
  | 'no-device'
  | 'device-down'
  | 'multicast-input'; // IPv6 multicast arriving: forwarding state (ip6mr) not in the dump

export interface NexthopChoice {
  gateway?: string;
  via?: Via;
  dev: string;
  weight: number;
  /** Source address the kernel uses when this nexthop is taken (output path). */
  src?: string;
}

export interface RouteSuccess {
  ok: true;
  family: Family;
  /** Type of the resulting route: unicast (sent or forwarded), local (delivered here), broadcast, multicast. */
  type: 'unicast' | 'local' | 'broadcast' | 'multicast';
  /** Input path: delivered locally or forwarded. */
  input?: 'local' | 'forward' | 'broadcast';
  /** Table of the matching route; undefined when no table matched (IPv4 `oif` on-link fallback). */
  table?: TableRef;
  rule?: Rule;
  route?: Route;
  /**
   * Candidate nexthops. One unless the route is multipath and the kernel picks by flow hash:
   * then every nexthop it may pick is listed and `hashed` is true.
   */
  nexthops: NexthopChoice[];
  hashed: boolean;
  /** Output interface of the first candidate (`lo` for local delivery). */
  dev: string;
  gateway?: string;
  /** Source address (output path): the query's, or the one the kernel selects. */
  src?: string;
  /** Steps that led here: rule texts, tables, route lines. */
  why: string[];
}

export interface RouteFailure {
  ok: false;
  family: Family;
  errno: RouteErrno;
  kind: RouteFailureKind;
  message: string;
  table?: TableRef;
  rule?: Rule;
  route?: Route;
  why: string[];
}

export type RouteResult = RouteSuccess | RouteFailure;
