// NodeNetworkStackDump: what the collector (a collector pod, or `netpath collect` locally) hands
// to the netpath process for one node. Each field keeps the tool's own output — JSON tools as the
// parsed JSON value, text tools as text — so a dump can be read and reproduced by hand, and the
// engine's parsers (src/engine/netstack/) read it exactly as they read the tool.
//
// A field that is absent means "not collected" (tool missing or failed — see collector.errors),
// never "empty": the engine then says "not checked" instead of assuming anything.

/** A JSON value as JSON.parse returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON array of objects, as `ip -j …` / `bridge -j …` print. */
export type IprouteJson = { [key: string]: JsonValue }[];

/** Netfilter backends iptables can drive; both may hold rules at once (both are then active). */
export type IptablesBackend = 'nft' | 'legacy';

/**
 * `iptables-save` (or `ip6tables-save`) text per backend: the backends that hold rules, both when
 * both do; when none holds rules, the one that could be read (so "empty" differs from "not read").
 */
export type IptablesSave = { [B in IptablesBackend]?: string };

/** `/proc/net/{tcp,tcp6,udp,udp6}` texts, the fallback when `ss` is unavailable. */
export interface ProcNetSockets {
  tcp?: string;
  tcp6?: string;
  udp?: string;
  udp6?: string;
}

export interface NetNSInfo {
  /** Inode number of the network namespace (`readlink /proc/PID/ns/net` → `net:[ID]`). */
  id: number;
  /** Processes seen in this netns (sorted); for the host netns, the host pid. */
  pids: number[];
  /** `ip -j -d link show` */
  links?: IprouteJson;
  /** `ip -j -d addr show` */
  addresses?: IprouteJson;
  /** `ip -j route show table all` (IPv4) */
  routes?: IprouteJson;
  /** `ip -6 -j route show table all` */
  routes6?: IprouteJson;
  /** `ip -j rule show` (IPv4) */
  rules?: IprouteJson;
  /** `ip -6 -j rule show` */
  rules6?: IprouteJson;
  /** `ip -4 -j neigh show` */
  neighbours?: IprouteJson;
  /** `ip -6 -j neigh show` */
  neighbours6?: IprouteJson;
  /** `ip -6 -j neigh show proxy`: the proxy NDP entries, which `neigh show` does not list */
  neighbours6Proxy?: IprouteJson;
  /** `bridge -j fdb show` */
  fdb?: IprouteJson;
  /** `iptables-save` per backend */
  iptables?: IptablesSave;
  /** `ip6tables-save` per backend */
  ip6tables?: IptablesSave;
  /** `ipset save` */
  ipsets?: string;
  /**
   * `ipvsadm -Sn`. Empty text when the ip_vs module is not loaded in this netns (no virtual
   * servers can exist then; the collector does not run ipvsadm, which would modprobe it).
   */
  ipvs?: string;
  /** `nft -j list ruleset` (an object `{ "nftables": [...] }`) */
  nftables?: JsonValue;
  /**
   * `nft list ruleset` (text), recorded only when `nftables` has an ingress or egress base chain
   * without its devices (nft -j 1.0.6 leaves `dev` out): the engine reads those devices from it.
   * Absent otherwise, and in dumps of collectors that predate it (the devices are then unknown).
   */
  nftablesText?: string;
  /** `ss -Htuln` */
  sockets?: string;
  /** Present instead of `sockets` when `ss` is missing or failed. */
  procNet?: ProcNetSockets;
  /** The netns-scoped sysctls (`net.*`, read from /proc/sys/net; `sysctl net` as fallback) as `{ key: value }`, value as `sysctl` prints it. */
  sysctls?: { [key: string]: string };
  /** From the `net.netfilter.nf_conntrack_{count,max}` sysctls, when conntrack is loaded. */
  conntrack?: { count: number; max: number };
  /**
   * `/proc/net/xt_recent/*` (the `-m recent` lists): per list a line `list <name length> <name>`,
   * then the file's lines. Empty text when no list exists (xt_recent not loaded).
   */
  xtRecent?: string;
}

/** A tool that was missing, failed, or printed something the parsers reject. */
export interface CollectorError {
  /** The command as run, e.g. `ipvsadm -Sn`, or `collector` for the collector itself. */
  tool: string;
  /** Netns inode the tool ran in; absent for errors not tied to one netns. */
  netns?: number;
  /** Exit code when the tool ran and failed (127 = not found). */
  exitCode?: number;
  /** First bytes of the tool's stderr. */
  stderr?: string;
  /** For output the parsers reject: 1-based line (0 = the document as a whole) and column. */
  line?: number;
  column?: number;
  /** One line saying what went wrong. */
  message: string;
}

export interface CollectorInfo {
  /** netpath version and collector output format, e.g. `netpath 0.1.0, format 1`. */
  version: string;
  /** ISO 8601 UTC time the collector started. */
  startedAt: string;
  durationMs: number;
  errors: CollectorError[];
}

/**
 * The node's kernel, for the behaviours that differ between Linux versions and builds (the
 * router simulator follows it; see src/engine/netstack/router-kernel-profile.ts). Absent in dumps
 * of collectors that predate it: the simulators then assume the newest behaviour and say so.
 */
export interface KernelInfo {
  /** `uname -r`, e.g. `6.18.44-fc-v1300`, `5.15.0-91-generic`. */
  release: string;
  /**
   * Whether the kernel was built with IPv6 multicast routing (CONFIG_IPV6_MROUTE), seen as
   * /proc/net/ip6_mr_vif existing; absent when the collector could not tell.
   */
  ipv6MulticastRouting?: boolean;
}

export interface NodeNetworkStackDump {
  /** The host (node) network namespace. */
  node: NetNSInfo;
  /** The other network namespaces (pods), sorted by id. */
  netns: NetNSInfo[];
  /** The node's kernel (one per node: every netns shares it). */
  kernel?: KernelInfo;
  collector: CollectorInfo;
}
