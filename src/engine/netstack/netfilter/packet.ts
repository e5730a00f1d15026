// The packet as netfilter sees it, the environment a trace needs from the rest of the netstack
// (ipsets, address types, interface addresses, routing), and what a trace returns. Independent of
// the engine's Packet type on purpose (netfilter needs many more fields), but field names follow it
// so that mapping is a one-liner.
import type { Family } from '../ip';
import type { SetQueryPacket } from '../ipset';

export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

export interface Tuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

export interface Conntrack {
  /** What `-m conntrack --ctstate` sees for this packet (before any raw-table NOTRACK). */
  state: CtState;
  /**
   * The connection already has an entry (this is not its first packet). The nat table is consulted
   * only for the first packet of a connection, so a NEW-state packet of a connection whose earlier
   * packets got no reply yet (UDP) skips nat. Default false.
   */
  confirmed?: boolean;
  /**
   * Which NAT bindings the connection already has. The kernel runs the nat table at a hook only
   * while the binding of that hook's kind (dst: PREROUTING/OUTPUT, src: INPUT/POSTROUTING) is not
   * yet made — also for a RELATED non-ICMP packet such as REJECT's TCP reset, which joins the
   * rejected connection (DNAT done, SNAT not) and so passes nat POSTROUTING. `confirmed` implies both.
   */
  natInitialized?: { dst?: boolean; src?: boolean };
  direction?: 'ORIGINAL' | 'REPLY';
  /** IPS_* flags by conntrack's names: EXPECTED, SEEN_REPLY, ASSURED, CONFIRMED. */
  status?: string[];
  /** ct mark (`-m connmark`, CONNMARK). */
  mark?: number;
  /** Original and reply tuples; derived from the packet when absent. */
  orig?: Tuple;
  reply?: Tuple;
  helper?: string;
}

export interface NfPacket {
  family: Family;
  src: string;
  dst: string;
  /** Protocol name (`tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, ...) or number. */
  proto: string | number;
  sport?: number;
  dport?: number;
  /** TCP flags set (SYN, ACK, FIN, RST, PSH, URG, ECE, CWR). Default: SYN for a NEW connection, else ACK. */
  tcpFlags?: string[];
  /** TCP option kinds present (for `--tcp-option`). */
  tcpOptions?: number[];
  icmpType?: number;
  icmpCode?: number;
  /** IP total length in bytes; default: headers only. */
  length?: number;
  /** A non-first fragment (`-f`). */
  fragment?: boolean;
  /** Input interface (absent for locally generated packets). */
  iif?: string;
  /** Output interface (known after routing: FORWARD, OUTPUT, POSTROUTING). */
  oif?: string;
  /** skb mark. */
  mark?: number;
  srcMac?: string;
  /** Bridge ports when the packet crosses a bridge with bridge-nf-call-iptables. */
  physIn?: string;
  physOut?: string;
  /** Link-layer packet type; default from the destination (multicast) else unicast. */
  pktType?: 'unicast' | 'broadcast' | 'multicast';
  tos?: number;
  /** IPv4 TTL / IPv6 hop limit; default 64. */
  ttl?: number;
  /** Sending socket owner (locally generated packets only). */
  owner?: { uid?: number; gid?: number; supplGroups?: number[] };
  /** cgroup classid (net_cls) of the sending socket. */
  cgroup?: number;
  /** Socket lookup result for `-m socket`: undefined = unknown. */
  socket?: { exists: boolean; transparent?: boolean; wildcard?: boolean };
  devGroupIn?: number;
  devGroupOut?: number;
  ct?: Conntrack;
}

/** Packet shape the ipset matcher receives: ipset.ts's query, one definition for both. */
export type SetMatchPacket = SetQueryPacket;

export type RouteDecision =
  | { kind: 'local' }
  | { kind: 'forward'; oif: string }
  | { kind: 'output'; oif: string }
  | { kind: 'unroutable'; reason: string };

/** What a trace needs from the rest of the netstack. A missing callback makes the rules that need it "not understood". */
export interface NetfilterEnv {
  /** `-m set --match-set NAME flags`: true/false, or undefined when the set does not exist. */
  ipset?(name: string, flags: ('src' | 'dst')[], pkt: SetMatchPacket): boolean | undefined;
  /**
   * `-m addrtype`: the kernel's address type of `addr` in this netns (LOCAL, UNICAST, BROADCAST,
   * MULTICAST, BLACKHOLE, UNREACHABLE, PROHIBIT, ANYCAST, UNSPEC, ...), restricted to `iface` when given.
   */
  addressType?(addr: string, family: Family, iface?: string): string;
  /** Does the dump have the local routing table (table 255) of the family, which addressType reads? */
  localTable?(family: Family): boolean;
  /**
   * nftables `fib … oif`: the devices of the route nft_fib looks up to `dst` (an output-style
   * lookup, `src` only for policy rules' `from`), [] when there is none or it is local; undefined
   * when the dump cannot tell.
   */
  fibRoute?(q: { family: Family; dst: string; src?: string; mark?: number; iif?: string }): string[] | undefined;
  /** MASQUERADE: the source address the kernel picks for `dst` out of `oif`. */
  masqueradeSource?(oif: string, dst: string, family: Family): string | undefined;
  /** REDIRECT in PREROUTING: the primary address of the input interface. */
  interfaceAddress?(iface: string, family: Family): string | undefined;
  /** `-m rpfilter`: does the reverse path check pass? */
  rpfilter?(pkt: NfPacket, opts: { loose: boolean; validmark: boolean; acceptLocal: boolean }): boolean;
  /** Interface group (`ip link set ... group N`), for `-m devgroup`; default 0. */
  devGroup?(iface: string): number;
  /** Routing decision after PREROUTING (and for local output), for the full-path helper. */
  route?(pkt: NfPacket): RouteDecision;
  /**
   * `-m recent`: the list `name` as /proc/net/xt_recent shows it; undefined when the lists were
   * not collected (the match is then undecided wherever the list would decide it).
   */
  recent?(name: string): RecentList | undefined;
}

/** One xt_recent list: per address (canonical, after the rule's --mask), its entry. */
export type RecentList = ReadonlyMap<string, RecentEntry>;

export interface RecentEntry {
  /** TTL of the packet that last updated it (`--rttl`). */
  ttl: number;
  /** Time stamps kept (jiffies); their age is unknown without the collector's clock. */
  stamps: number;
}

export type Verdict = 'ACCEPT' | 'DROP' | 'REJECT' | 'QUEUE';

/** One rule (or chain policy, `rule` 0) that matched on the way: the evidence of a trace. */
export interface TraceStep {
  hook: Hook;
  table: string;
  chain: string;
  /** 1-based rule number; 0 for the chain policy. */
  rule: number;
  /** `-A CHAIN ...` as iptables-save prints it, or `:CHAIN POLICY` for a policy. */
  text: string;
  /** What the rule did: its target (`ACCEPT`, `KUBE-SVC-X`, `MARK`...), or `POLICY ACCEPT`. */
  effect: string;
  /**
   * A native nftables rule (or base chain policy): where it is, `table inet guard chain gate
   * handle 2 (hook forward priority 0)`. Then `table` is `family table`, `rule` the handle, and
   * `text` the rule as nft prints it.
   */
  native?: string;
}

/** A `statistic` rule where the trace forked. */
export interface Branch {
  table: string;
  chain: string;
  rule: number;
  text: string;
  matched: boolean;
  /** Probability of this side of the fork. */
  probability: number;
}

export interface NatRewrite {
  kind: 'DNAT' | 'SNAT' | 'MASQUERADE' | 'REDIRECT' | 'NETMAP';
  hook: Hook;
  chain: string;
  rule: number;
  before: Tuple;
  after: Tuple;
  /** When the target allows a range (addresses, ports, --random): the range, as written. */
  range?: string;
  /** A native nftables rule as nft prints it with its location (`table ip nat chain pre handle 4: tcp dport 80 dnat to 10.0.0.2`), instead of `chain #rule`. */
  native?: string;
}

/**
 * A rule on the path with an element the simulator does not model (a match, a target, state it
 * cannot see), whose other matches did match: the trace cannot tell whether it applies. Each trace
 * takes one way, `assumed` — false (it does not match) unless TraceOptions.assume says otherwise —
 * so that a caller can evaluate it both ways (undecided.ts).
 */
export interface NotUnderstood {
  hook: Hook;
  table: string;
  chain: string;
  rule: number;
  text: string;
  reason: string;
  /** Names this element for TraceOptions.assume: hook, table, chain and rule number. */
  key: string;
  /** The way this trace took: true = it matched and took effect (an unknown target stopped the packet). */
  assumed: boolean;
  /**
   * Not an iptables rule: a native nftables rule (`table` is `family table`, `rule` the handle),
   * or a fact about base chains the dump does not show — the order of chains of equal priority,
   * the device of an ingress chain (`text` names them).
   */
  kind?: 'nftables' | 'chain';
}

export interface TraceOutcome {
  verdict: Verdict;
  /** REJECT's `--reject-with`. */
  rejectWith?: string;
  /** The packet after every rewrite (NAT, MARK, CONNMARK, TOS, ...), with its conntrack. */
  packet: NfPacket;
  probability: number;
  /** Every rule that matched, in order (what the per-rule counters would count). */
  path: TraceStep[];
  /** The step that gave the final verdict (a rule or a policy); undefined when every table accepted by policy-free fall-through. */
  decidedBy?: TraceStep;
  branches: Branch[];
  nat: NatRewrite[];
  notUnderstood: NotUnderstood[];
  notes: string[];
}
