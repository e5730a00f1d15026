// An expected route: what a plugin programs on a node for a pod address (which device, which next
// hop), set beside the route the kernel actually took. Each plugin module computes its own; this
// is the shape and its printed form, shared by all of them.

export interface ExpectedRoute {
  /** Prefix the route should cover (the node's pod CIDR); undefined when the plugin's block size is not known (calico). */
  prefix?: string;
  dev: string;
  /** Next hop; undefined = on-link to the destination itself. */
  gateway?: string;
  onlink?: boolean;
  /** `dev` is a tunnel adding this many bytes per packet: its MTU plus this must fit the uplink's. */
  overhead?: number;
  /** Why this is expected, for the evidence. */
  why: string;
}

export function formatExpected(e: ExpectedRoute, dst: string): string {
  return `${e.prefix ?? dst}${e.gateway ? ` via ${e.gateway}` : ''} dev ${e.dev}${e.onlink ? ' onlink' : ''}`;
}
