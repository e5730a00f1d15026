// Sockets: parsers of `ss -Htuln` (with or without -p, -H) and of /proc/net/{tcp,udp}{,6}, and
// the listening lookup "would the kernel deliver a connection/datagram for proto ip:port?".
//
// Dual-stack: an IPv6 socket bound to :: (or ::ffff:a.b.c.d) also accepts IPv4 unless it is
// IPV6_V6ONLY. Current ss shows that flag: a dual-stack wildcard is printed `*:80`, a v6-only one
// `[::]:80` (checked on the kernel in test/engine/netstack/sockets-kernel.test.ts). /proc/net/tcp6 does
// not show it, nor do very old ss versions (`:::80`); there the `bindv6only` sysctl value that the
// caller passes decides (net.ipv6.bindv6only, default 0 = dual-stack), which is right for every
// program that does not set IPV6_V6ONLY itself.
import { type IP, type Family, parseIP, sameIP } from './ip';
import { ParseError } from './parse-error';
import { words } from './tokens';

export type SocketProto = 'tcp' | 'udp';

export interface SocketAddress {
  /** undefined = wildcard. */
  ip?: IP;
  /** Family of the socket (a `*` wildcard from ss is an IPv6 dual-stack socket). */
  family: Family;
  /** 0 for `*`. */
  port: number;
  /** SO_BINDTODEVICE interface (`0.0.0.0%lo:53`). */
  iface?: string;
  /**
   * true: IPV6_V6ONLY known set (`[::]:80` in ss); false: known dual-stack (`*:80`);
   * undefined: unknown (from /proc or old ss), decided by the bindv6only sysctl.
   */
  v6only?: boolean;
}

export interface Socket {
  proto: SocketProto;
  /** ss state name: LISTEN, UNCONN, ESTAB, ... (/proc states are mapped to these names). */
  state: string;
  recvQ: number;
  sendQ: number;
  local: SocketAddress;
  peer: SocketAddress;
  /** The `users:((...))` column of `ss -p`, verbatim. */
  process?: string;
  /** 1-based line in the dump. */
  line: number;
}

// ---------------------------------------------------------------------------------------------
// ss

const SS = 'ss -Htuln';

/** Parses `addr:port` as ss prints it; throws a message on bad text. */
function parseSsAddress(text: string, proto: SocketProto): SocketAddress | string {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return `"${text}" has no ":port"`;
  const portText = text.slice(colon + 1);
  let port = 0;
  if (portText !== '*') {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return `bad port "${portText}" in "${text}"`;
    port = Number(portText);
  }
  let host = text.slice(0, colon);
  let iface: string | undefined;
  const pct = host.lastIndexOf('%');
  // `[fe80::1]%eth0` and `0.0.0.0%lo`: the part after % is the bound device (or the v6 scope).
  if (pct >= 0 && !host.slice(pct).includes(']')) {
    iface = host.slice(pct + 1);
    host = host.slice(0, pct);
    if (!/^[^\s/:]{1,15}$/.test(iface)) return `bad interface "${iface}" in "${text}"`;
  }
  void proto;
  if (host === '*') return { family: 6, port, iface, v6only: false };
  let v6only: boolean | undefined;
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    const scope = host.indexOf('%');
    if (scope >= 0) {
      iface ??= host.slice(scope + 1);
      host = host.slice(0, scope);
    }
  } else if (host === '::' || host === '') {
    // Old ss: `:::80`. The flag is unknown.
    host = '::';
  }
  const ip = parseIP(host);
  if (!ip) return `bad address "${host}" in "${text}"`;
  if (ip.family === 6 && ip.value === 0n && text.startsWith('[')) v6only = true;
  if (ip.value === 0n) return { family: ip.family, port, iface, v6only };
  return { ip, family: ip.family, port, iface, v6only };
}

/**
 * Parses the output of `ss -Htuln`, `ss -tuln` (header line skipped), `ss -Htulnp` and
 * `ss -lntupH`: columns Netid State Recv-Q Send-Q Local Peer [Process].
 */
export function parseSs(text: string): Socket[] {
  const out: Socket[] = [];
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li].replace(/\r$/, '');
    const lineNo = li + 1;
    if (line.trim() === '') continue;
    // Six columns; the rest of the line is the free-form process column (`users:(("nginx",pid=1,fd=6))`).
    const fields = words(line, 'columns', SS, lineNo, { max: 6 });
    if (fields[0]?.text === 'Netid' || fields[0]?.text === 'State') continue; // header (without -H)
    if (fields.length < 6) throw new ParseError(SS, `expected 6 columns (Netid State Recv-Q Send-Q Local Peer), got ${fields.length}`, lineNo, 1);
    const [netid, state, rq, sq, local, peer] = fields;
    if (netid.text !== 'tcp' && netid.text !== 'udp') {
      throw new ParseError(SS, `unsupported Netid "${netid.text}" (tcp or udp expected)`, lineNo, netid.column);
    }
    const proto = netid.text;
    if (!/^[A-Z][A-Z0-9-]*$/.test(state.text)) throw new ParseError(SS, `bad state "${state.text}"`, lineNo, state.column);
    for (const q of [rq, sq]) if (!/^\d{1,12}$/.test(q.text)) throw new ParseError(SS, `bad queue size "${q.text}"`, lineNo, q.column);
    const l = parseSsAddress(local.text, proto);
    if (typeof l === 'string') throw new ParseError(SS, `local address: ${l}`, lineNo, local.column);
    const p = parseSsAddress(peer.text, proto);
    if (typeof p === 'string') throw new ParseError(SS, `peer address: ${p}`, lineNo, peer.column);
    const rest = line.slice(peer.column - 1 + peer.text.length).trim();
    out.push({
      proto,
      state: state.text,
      recvQ: Number(rq.text),
      sendQ: Number(sq.text),
      local: l,
      peer: p,
      ...(rest ? { process: rest } : {}),
      line: lineNo,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// /proc/net/{tcp,udp}{,6}

const TCP_STATES = ['', 'ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN', 'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING', 'NEW-SYN-RECV'];

/**
 * Decodes a /proc/net address: each 32-bit word is printed in host byte order (`0100007F` =
 * 127.0.0.1 on little-endian machines — every Kubernetes node architecture in practice).
 */
function procAddr(hex: string, littleEndian: boolean): IP | undefined {
  if (hex.length !== 8 && hex.length !== 32) return undefined;
  if (!/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  let v = 0n;
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8);
    const bytes = littleEndian ? [word.slice(6, 8), word.slice(4, 6), word.slice(2, 4), word.slice(0, 2)] : [word.slice(0, 2), word.slice(2, 4), word.slice(4, 6), word.slice(6, 8)];
    for (const b of bytes) v = (v << 8n) | BigInt(parseInt(b, 16));
  }
  return { family: hex.length === 8 ? 4 : 6, value: v };
}

/**
 * Parses one /proc/net/{tcp,udp,tcp6,udp6} file. `proto` is which file it is (the content does
 * not say). IPv6 wildcard sockets get `v6only: undefined` (not shown there).
 */
export function parseProcNet(text: string, proto: SocketProto, opts: { littleEndian?: boolean } = {}): Socket[] {
  const src = `/proc/net/${proto}`;
  const le = opts.littleEndian ?? true;
  const out: Socket[] = [];
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li];
    const lineNo = li + 1;
    if (line.trim() === '' || /^\s*sl\s/.test(line)) continue;
    const toks = words(line, 'columns', src, lineNo);
    const f = toks.map((t) => t.text);
    const col = (i: number) => toks[i]?.column ?? 0;
    if (f.length < 10 || !/^\d+:$/.test(f[0])) throw new ParseError(src, 'expected "sl: local remote st tx:rx ..." columns', lineNo, 1);
    const ep = (s: string, i: number): SocketAddress => {
      const [a, p, extra] = s.split(':');
      const ip = a === undefined ? undefined : procAddr(a, le);
      if (!ip || p === undefined || extra !== undefined || !/^[0-9A-Fa-f]{4}$/.test(p)) {
        throw new ParseError(src, `bad address "${s}" (HEXADDR:HEXPORT expected)`, lineNo, col(i));
      }
      return ip.value === 0n ? { family: ip.family, port: parseInt(p, 16) } : { ip, family: ip.family, port: parseInt(p, 16) };
    };
    const local = ep(f[1], 1);
    const peer = ep(f[2], 2);
    if (!/^[0-9A-Fa-f]{2}$/.test(f[3])) throw new ParseError(src, `bad state "${f[3]}"`, lineNo, col(3));
    const st = parseInt(f[3], 16);
    const state = TCP_STATES[st];
    if (!state) throw new ParseError(src, `unknown state 0x${f[3]}`, lineNo, col(3));
    const q = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8})$/.exec(f[4]);
    if (!q) throw new ParseError(src, `bad tx_queue:rx_queue "${f[4]}"`, lineNo, col(4));
    out.push({
      proto,
      // UDP sockets use TCP_CLOSE (07) for "bound, not connected" — ss calls it UNCONN.
      state,
      recvQ: parseInt(q[2], 16),
      sendQ: parseInt(q[1], 16),
      local,
      peer,
      line: lineNo,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Listening lookup

export interface ListenQuery {
  /** net.ipv6.bindv6only of the netns (0 unless changed); used when ss/proc cannot tell. */
  bindv6only?: number;
  /** Interface the packet arrives on, for sockets bound to a device (SO_BINDTODEVICE). */
  iif?: string;
}

/** True when a socket bound to `addr` receives packets for ip (ignoring port and device). */
function addressAccepts(addr: SocketAddress, ip: IP, bindv6only: number): boolean {
  const dual = addr.family === 6 && (addr.v6only === undefined ? bindv6only === 0 : !addr.v6only);
  if (!addr.ip) {
    if (addr.family === ip.family) return true;
    return ip.family === 4 && dual;
  }
  if (sameIP(addr.ip, ip)) return true;
  // An IPv6 socket bound to ::ffff:a.b.c.d receives IPv4 for a.b.c.d (such a bind only succeeds
  // on a dual-stack socket, so the v6only flag does not matter).
  if (ip.family === 4 && addr.ip.family === 6 && addr.ip.value >> 32n === 0xffffn) {
    return (addr.ip.value & 0xffffffffn) === ip.value;
  }
  return false;
}

/** The sockets that would receive a new TCP connection / UDP datagram to ip:port. */
export function findListeners(sockets: Socket[], proto: SocketProto, ip: IP, port: number, q: ListenQuery = {}): Socket[] {
  const want = proto === 'tcp' ? 'LISTEN' : 'UNCONN';
  return sockets.filter(
    (s) =>
      s.proto === proto &&
      s.state === want &&
      s.local.port === port &&
      // A device-bound socket only sees packets that arrived on that device.
      (s.local.iface === undefined || s.local.iface === q.iif) &&
      addressAccepts(s.local, ip, q.bindv6only ?? 0),
  );
}

/**
 * Is something listening for proto ip:port? TCP: a LISTEN socket; UDP: an unconnected bound
 * socket (UNCONN; a connected UDP socket only takes datagrams from its peer). Wildcards,
 * dual-stack (see the top of this file), v4-mapped binds and device binds are honoured.
 */
export function isListening(sockets: Socket[], proto: SocketProto, ip: IP, port: number, q: ListenQuery = {}): boolean {
  return findListeners(sockets, proto, ip, port, q).length > 0;
}
