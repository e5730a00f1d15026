// The detected network configuration: which plugin runs the cluster and how, every value with
// how it was found. Produced by detect.ts, read by the checks and shown to the user as evidence.
import type { CalicoPool } from './ippools';

/** A configuration value and how it was found (`settings.backend`, `ConfigMap kube-flannel/kube-flannel-cfg net-conf.json`). */
export interface Found<T> {
  value: T;
  source: string;
}

export interface PluginConfig {
  /** The name of a registered plugin (registry.ts): flannel, calico, generic … */
  plugin: Found<string>;
  /** flannel: host-gw | vxlan | …; calico: bgp | ipip | vxlan (the default pool's mode); generic: none. */
  backend?: Found<string>;
  /** The pod network as a whole (flannel `Network`, kube-proxy `clusterCIDR`, Calico pools, node podCIDRs). */
  clusterCIDRs: Found<string[]>;
  /** The bridge pods hang off (flannel `cni0`); undefined for routed CNIs. */
  bridge?: Found<string>;
  /**
   * Does the plugin program an IPv6 pod network (flannel `EnableIPv6`)? Undefined: the plugin has
   * no such switch (calico: by its IPv6 pools) or it was not found.
   */
  ipv6?: Found<boolean>;
  /** Does the plugin masquerade pod traffic leaving the cluster? */
  masquerade: Found<boolean>;
  /** Per-node uplink overrides (`settings.uplink`: a name, or node → name). */
  uplinkOverride?: Found<string | Record<string, string>>;
  /** Calico IPPools in the snapshot, whichever plugin was detected (see ippools.ts). */
  calicoPools: CalicoPool[];
  notes: string[];
}
