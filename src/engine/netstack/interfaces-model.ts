// Typed view of a network namespace's interfaces and their addresses, produced from
// `ip -j -d link` and `ip -j -d addr` (interfaces.ts parses them) and consumed by the
// router (source-address selection, oif state), the neighbour/FDB lookups and the assertions.
import type { Family } from './ip';

export type AddressScope = 'global' | 'site' | 'link' | 'host' | 'nowhere' | number;

export interface InterfaceAddress {
  family: Family;
  /** The local address, e.g. `10.244.1.2`. */
  address: string;
  prefixLen: number;
  scope: AddressScope;
  /** Secondary (not the first of its subnet on this interface). */
  secondary: boolean;
  /** Point-to-point peer (`peer` in iproute2), when set. */
  peer?: string;
  broadcast?: string;
  label?: string;
  /** IPv6 flags such as `tentative`, `dadfailed`, `deprecated`, `nodad`. */
  flags: string[];
}

/**
 * Kind of link as the kernel names it (`linkinfo.info_kind`), or `device` for a plain NIC.
 * `unknown` when the dump was taken without `-d` (no `linkinfo`), so a veth cannot be told
 * from a NIC; `loopback` is still recognised from `link_type`.
 */
export type InterfaceKind =
  | 'device' | 'loopback' | 'veth' | 'bridge' | 'vxlan' | 'ipip' | 'gre' | 'ip6tnl' | 'sit'
  | 'macvlan' | 'ipvlan' | 'dummy' | 'tun' | 'vlan' | 'bond' | 'wireguard' | 'geneve' | 'vrf' | 'unknown'
  | (string & {});

export interface VxlanInfo {
  vni: number;
  /** Local VTEP address, if configured. */
  local?: string;
  /** Default remote (`remote`/`group`), if configured. */
  remote?: string;
  /** UDP destination port (`dstport`); the kernel default is 8472 when iproute2 prints 0. */
  port: number;
  /** Underlay device name (`dev`), if bound. */
  underlay?: string;
  learning: boolean;
}

export interface TunnelInfo {
  local?: string;
  remote?: string;
  underlay?: string;
  ttl?: number;
}

export interface BridgeInfo {
  vlanFiltering?: boolean;
  stp?: boolean;
  /** Per-bridge `nf_call_iptables`: ORs with net.bridge.bridge-nf-call-iptables. */
  nfCallIptables?: boolean;
  nfCallIp6tables?: boolean;
}

export interface Interface {
  index: number;
  name: string;
  kind: InterfaceKind;
  mtu: number;
  /** `UP` flag (administratively up). */
  adminUp: boolean;
  /** Carrier (`LOWER_UP`). */
  lowerUp: boolean;
  /** `operstate` as printed: UP, DOWN, UNKNOWN, LOWERLAYERDOWN, ... */
  operState: string;
  flags: string[];
  mac?: string;
  /** Bridge/bond master, by ifindex and name (name may be unknown if the master is elsewhere). */
  masterIndex?: number;
  master?: string;
  /**
   * The other end / lower device (`link_index`, `@ifN`): for a veth, the peer's ifindex;
   * `linkNetnsId` set means it lives in another namespace (by the local netnsid).
   */
  linkIndex?: number;
  linkNetnsId?: number;
  /**
   * The other end / lower device by name, as iproute2 printed it (`link`), when it is in this
   * namespace (or `ifN` when iproute2 could not name it). Absent for cross-namespace links.
   */
  linkName?: string;
  /** `link_type`: ether, loopback, none (tun, ipip…), … */
  linkType?: string;
  /** What kind of master this interface is enslaved to (`info_slave_kind`: bridge, bond, vrf…). */
  slaveKind?: string;
  /** Bridge port slave info (state, e.g. `forwarding`), when this interface is a bridge port. */
  bridgePortState?: string;
  vxlan?: VxlanInfo;
  tunnel?: TunnelInfo;
  /** Bridge options (`-d` dumps of a bridge only). */
  bridge?: BridgeInfo;
  /** macvlan/ipvlan mode. */
  mode?: string;
  addresses: InterfaceAddress[];
}
