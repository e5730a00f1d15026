// What a NetNode needs to know about the cluster around it, as an interface so that the datapath
// stays independent of where the cluster view comes from (snapshot or live cache).
import type { Endpoint } from '../model/endpoint';
import type { Hop } from '../model/netnode';
import type { Packet } from '../model/packet';
import type { Suspicion } from '../model/suspicion';
import type { NetNS } from '../netstack/netns';
import type { InfraShim } from '../infra/infrashim';
import type { ConntrackTable } from './conntrack';
import type { NodeStack } from './node-stack';

export interface Topology {
  /** The destination the user asked about. */
  readonly destination: Endpoint;
  /** Where the forward packet was NATed, for translating the reply back. */
  readonly conntrack: ConntrackTable;
  /** The cloud provider's checks where packets cross its network; absent for the generic provider. */
  readonly infra?: InfraShim;
  /** Payload bytes of the packet the user asks about; undefined = a small packet. */
  readonly payloadSize?: number;
  /** Is `hop` the source of the diagnosis (where the reply must arrive)? */
  isSource(hop: Hop): boolean;
  /** The node's namespaces, built lazily from its dump; undefined when the node has no dump. */
  stack(node: string): NodeStack | undefined;
  /** The pod that lives in a namespace of a node, or the node itself for its host netns. */
  hopOfNetns(stack: NodeStack, ns: NetNS): Hop;
  /** The node that has `ip` as one of its addresses. */
  nodeWithIP(ip: string): string | undefined;
  /** The node a packet for `ip` should be handed to (the pod's node, the node itself); undefined for addresses outside the cluster. */
  expectedNodeFor(ip: string): string | undefined;
  /** Is a packet delivered at `hop` where the user wanted it to go (the pod, a backend of the service, the node)? */
  isDestination(hop: Hop, packet: Packet): boolean;
  /** Extra checks of the network plugin for a packet leaving a node (expected routes, tunnels, MTU). */
  pluginChecks?(node: string, ns: NetNS, packet: Packet, oif: string, nexthop: string): Suspicion[];
  /**
   * Checks of the service proxy (kube-proxy) for a packet addressed to a service (ClusterIP,
   * NodePort, externalIP, LB IP) entering the netfilter of a node's host netns: backends vs.
   * EndpointSlices, KUBE-SVC/KUBE-SEP chains, IPVS virtual servers.
   */
  serviceChecks?(node: string, ns: NetNS, packet: Packet): Suspicion[];
  /**
   * Checks of the network plugin for a packet entering a namespace of a node on `iif` (before its
   * netfilter and routing): the destination pod's interface, MTU and route back; for a node, the
   * local pod's host veth (up, a port of the bridge). To be called from NetnsNode.receive.
   */
  receiveChecks?(node: string, ns: NetNS, packet: Packet, iif: string): Suspicion[];
}
