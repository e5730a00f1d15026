// InfraShim (seed): the checks a cloud provider adds where a packet crosses the provider's network
// — security groups, VPC route tables, NAT gateways, load balancers. The datapath calls it at every
// hop that leaves a node; the generic provider has none (an on-premises or unknown network).
import type { Packet } from '../model/packet';
import type { Suspicion } from '../model/suspicion';

export interface InfraShim {
  readonly name: string;
  /** A packet leaves node `from` on `oif` for node `to` over the provider's network. */
  nodeToNode(from: string, oif: string, to: string, packet: Packet): Suspicion[];
  /** A packet leaves node `from` on `oif` for an address outside the cluster. */
  nodeToExternal(from: string, oif: string, packet: Packet): Suspicion[];
  /** A packet from outside the cluster enters node `to`. */
  externalToNode(to: string, packet: Packet): Suspicion[];
  /** A packet from outside reaches a service's load balancer (`namespace/name`) with these backends. */
  externalToLoadBalancer(service: string, packet: Packet, backends: string[]): Suspicion[];
}
