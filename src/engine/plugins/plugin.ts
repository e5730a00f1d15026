// The seam between the shared checks and one CNI plugin. A plugin module owns how it recognises
// the cluster from the snapshot's objects and what it reads there (backend, pod network, bridge,
// masquerading), the routes it programs on a node, its tunnel, and how sure it is that pod
// traffic must be masqueraded. Everything else — settings overriding detection, the uplink, the
// pod interface and reply-route checks, masquerade and bridge-netfilter mechanics — is shared
// (detect.ts, checks.ts) and asks the plugin only through this interface. A new CNI is a module
// implementing it plus one line in registry.ts.
import type { Interface } from '../netstack/interfaces-model';
import type { ClusterPod } from '../k8s/objects';
import type { SuspicionLevel } from '../model/suspicion';
import type { K8sObject } from '../snapshot/types';
import type { Found, PluginConfig } from './config';
import type { ExpectedRoute } from './expected';
import type { ObjectView } from './objects';

/** What a plugin reads from the snapshot's objects; settings override each value (detect.ts). */
export interface PluginReading {
  /** Where its own configuration was found (a ConfigMap, node annotation, CRD): it runs the cluster. */
  configuredBy?: string;
  /** Where its workload alone was found (a DaemonSet or pod by name); asked only when no plugin's configuration is found. */
  runningAs(): string | undefined;
  backend?: Found<string>;
  /** Its own view of the pod network; detect.ts falls back to kube-proxy's and the nodes' pod CIDRs. */
  clusterCIDRs?: Found<string[]>;
  bridge?: Found<string>;
  masquerade: Found<boolean>;
  ipv6?: Found<boolean>;
}

/** A pod address on the node whose route is checked. */
export interface LocalPodAddress {
  dst: string;
  /** The pod holding it, when the objects know it. */
  pod?: ClusterPod;
  /** The node's pod CIDR of `dst`'s family. */
  podCIDR?: string;
  /** The host side of the pod's veth, found in the dump. */
  hostVeth(pod: ClusterPod): Interface | undefined;
}

/** A pod address on another node, seen from the node whose route is checked. */
export interface RemotePodAddress {
  dst: string;
  /** The Node object the address belongs to. */
  node: K8sObject;
  /** The checked node's uplink (uplink.ts). */
  uplink: string;
  /** Is `ip` on a subnet of the checked node's uplink? */
  sameSubnet(ip: string): boolean;
}

export interface Tunnel {
  dev: string;
  /** Bytes of encapsulation per packet. */
  overhead: number;
}

export interface Plugin {
  /** Lower case; what `settings.networkPlugin` names and findings print. */
  readonly name: string;
  /** Reads the plugin's objects once per detection; may append to `objects.notes`. */
  read(objects: ObjectView): PluginReading;
  /** The route a node should have for a pod address of its own. */
  localRoute(cfg: PluginConfig, pod: LocalPodAddress): ExpectedRoute | undefined;
  /** The route a node should have for a pod address on another node. */
  remoteRoute(cfg: PluginConfig, pod: RemotePodAddress): ExpectedRoute | undefined;
  /** The tunnel pod traffic between nodes crosses, whose overhead lowers the MTU pods may use. */
  tunnel(cfg: PluginConfig): Tunnel | undefined;
  /** Level of pod traffic leaving the cluster un-SNATed while `cfg.masquerade` says it should not. */
  readonly unmasqueraded: SuspicionLevel;
}
