// The match modules and targets whose meaning the netfilter simulator models. The parser marks
// everything else "unknown" (kept verbatim, never a parse failure) so that a trace can say which
// rules it could not judge instead of silently guessing. Keep in sync with netfilter/matches.ts
// and netfilter/targets.ts (a unit test checks that each name listed here is implemented).

export const KNOWN_MATCHES: ReadonlySet<string> = new Set([
  '', 'tcp', 'udp', 'sctp', 'udplite', 'icmp', 'icmp6', 'multiport', 'set', 'mark', 'connmark',
  'conntrack', 'state', 'addrtype', 'comment', 'statistic', 'physdev', 'iprange', 'length', 'limit',
  'mac', 'owner', 'rpfilter', 'socket', 'pkttype', 'devgroup', 'cgroup', 'helper', 'recent',
  'hashlimit', 'connlimit', 'dscp', 'tos', 'ttl', 'hl', 'nfacct',
]);

/** Built-in verdicts (`-j ACCEPT`), not extensions. */
export const VERDICTS: ReadonlySet<string> = new Set(['ACCEPT', 'DROP', 'RETURN', 'QUEUE']);

export const KNOWN_TARGETS: ReadonlySet<string> = new Set([
  'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'MARK', 'CONNMARK', 'LOG', 'NFLOG',
  'ULOG', 'CT', 'NOTRACK', 'CHECKSUM', 'TPROXY', 'TRACE', 'NFQUEUE', 'TCPMSS', 'DSCP', 'TOS', 'TTL',
  'HL', 'CLASSIFY', 'AUDIT',
]);

/** Options whose value iptables-save writes through `xtables_save_string` (quoted unless plain). */
export const STRING_OPTIONS: ReadonlySet<string> = new Set([
  '--comment', '--log-prefix', '--nflog-prefix', '--string', '--u32', '--prefix',
]);
