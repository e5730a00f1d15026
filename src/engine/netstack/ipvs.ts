// IPVS: parser of `ipvsadm -Sn` (= `ipvsadm-save -n`) and the kernel's virtual-service lookup
// (ip_vs_service_find): fwmark services first (when the packet has a mark), then
// (proto, vip, vport), then — for FTP-less setups — the catch-all port-0 service of that vip.
// The format follows ipvsadm's print_service/print_dest in "save" mode:
//   -A -t|-u|--sctp-service ADDR:PORT | -f MARK [-6] -s SCHED [-p TIMEOUT [-M NETMASK]] [-b FLAGS] [-o] [--pe NAME]
//   -a -t|-u|--sctp-service ADDR:PORT | -f MARK -r ADDR:PORT -g|-i|-m -w WEIGHT [-x UPPER] [-y LOWER] [--tun-type ...]
// IPv6 addresses are in brackets (`[fd00::1]:80`).
import { type IP, type Family, parseIP } from './ip';
import { ParseError } from './parse-error';
import { words, type Token } from './tokens';

export type IpvsProto = 'tcp' | 'udp' | 'sctp';
export type IpvsForwarding = 'masq' | 'gate' | 'ipip';

export interface IpvsReal {
  ip: IP;
  port: number;
  /** -m masquerading (NAT), -g gatewaying (direct routing), -i ipip tunnelling. */
  forwarding: IpvsForwarding;
  weight: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  /** --tun-type and friends, verbatim (only meaningful with -i). */
  tunnelOptions?: string[];
  line: number;
}

export interface IpvsService {
  /** 'fwmark' services match on the packet mark instead of the address. */
  kind: 'address' | 'fwmark';
  proto?: IpvsProto;
  vip?: IP;
  port?: number;
  fwmark?: number;
  family: Family;
  scheduler: string;
  /** -p: persistence timeout in seconds. */
  persistent?: number;
  /** -M: persistence netmask (prefix length for IPv6). */
  persistentNetmask?: string;
  /** -b: scheduler flags, e.g. sh-fallback,sh-port. */
  schedFlags?: string[];
  onePacket: boolean;
  pe?: string;
  reals: IpvsReal[];
  line: number;
}

export type IpvsTable =
  | { available: true; services: IpvsService[] }
  /** ipvsadm ran on a kernel without IPVS: not an error in the dump, a fact about the node. */
  | { available: false; reason: string };

const SRC = 'ipvsadm -Sn';

const NOT_AVAILABLE = [/Can't initialize ipvs/i, /Protocol not available/i, /Module ip_vs not found/i, /IP Virtual Server is built in the kernel/i];

function parseAddrPort(tok: Token, line: number, what: string): { ip: IP; port: number } {
  const t = tok.text;
  let host: string;
  let portText: string;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  if (m) {
    host = m[1];
    portText = m[2];
  } else {
    const c = t.lastIndexOf(':');
    if (c < 0) throw new ParseError(SRC, `${what} "${t}" has no ":port"`, line, tok.column);
    host = t.slice(0, c);
    portText = t.slice(c + 1);
    if (host.includes(':')) throw new ParseError(SRC, `${what} "${t}": IPv6 addresses must be in brackets`, line, tok.column);
  }
  const ip = parseIP(host);
  if (!ip) throw new ParseError(SRC, `bad ${what} address "${host}"`, line, tok.column);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new ParseError(SRC, `bad ${what} port "${portText}"`, line, tok.column);
  return { ip, port: Number(portText) };
}

function uint(tok: Token | undefined, what: string, line: number, after: Token, max = 0xffffffff): number {
  if (!tok) throw new ParseError(SRC, `${what} needs a value`, line, after.column + after.text.length);
  if (!/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(tok.text) || Number(tok.text) > max) {
    throw new ParseError(SRC, `bad ${what} "${tok.text}"`, line, tok.column);
  }
  return Number(tok.text);
}

function serviceKey(s: { kind: string; proto?: string; vip?: IP; port?: number; fwmark?: number; family: Family }): string {
  return s.kind === 'fwmark' ? `f:${s.family}:${s.fwmark}` : `${s.proto}:${s.vip!.family}:${s.vip!.value.toString(16)}:${s.port}`;
}

/** Parses `ipvsadm -Sn` output; the "IPVS missing" error text yields `{ available: false }`. */
export function parseIpvsadmSave(text: string): IpvsTable {
  if (NOT_AVAILABLE.some((re) => re.test(text))) {
    const reason = text.split('\n').map((l) => l.trim()).filter(Boolean).join(' / ');
    return { available: false, reason };
  }
  const services: IpvsService[] = [];
  const byKey = new Map<string, IpvsService>();
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const lineNo = li + 1;
    const raw = lines[li].replace(/\r$/, '');
    if (raw.trim() === '' || raw.trim().startsWith('#')) continue;
    const toks = words(raw, 'columns', SRC, lineNo);
    const cmd = toks[0];
    if (cmd.text !== '-A' && cmd.text !== '-a') throw new ParseError(SRC, `unknown command "${cmd.text}" (expected -A or -a)`, lineNo, cmd.column);
    let kind: 'address' | 'fwmark' | undefined;
    let proto: IpvsProto | undefined;
    let addr: { ip: IP; port: number } | undefined;
    let fwmark: number | undefined;
    let family: Family = 4;
    let scheduler: string | undefined;
    let persistent: number | undefined;
    let persistentNetmask: string | undefined;
    let schedFlags: string[] | undefined;
    let onePacket = false;
    let pe: string | undefined;
    let real: { ip: IP; port: number } | undefined;
    let forwarding: IpvsForwarding | undefined;
    let weight: number | undefined;
    let upper: number | undefined;
    let lower: number | undefined;
    const tunnelOptions: string[] = [];
    for (let i = 1; i < toks.length; i++) {
      const t = toks[i];
      const next = toks[i + 1];
      const needNext = () => {
        if (!next) throw new ParseError(SRC, `${t.text} needs a value`, lineNo, t.column + t.text.length);
        i++;
        return next;
      };
      switch (t.text) {
        case '-t':
        case '--tcp-service':
        case '-u':
        case '--udp-service':
        case '--sctp-service': {
          if (kind) throw new ParseError(SRC, 'more than one service given', lineNo, t.column);
          kind = 'address';
          proto = t.text === '-t' || t.text === '--tcp-service' ? 'tcp' : t.text === '--sctp-service' ? 'sctp' : 'udp';
          addr = parseAddrPort(needNext(), lineNo, 'service');
          family = addr.ip.family;
          break;
        }
        case '-f':
        case '--fwmark-service':
          if (kind) throw new ParseError(SRC, 'more than one service given', lineNo, t.column);
          kind = 'fwmark';
          fwmark = uint(next, 'fwmark', lineNo, t);
          i++;
          break;
        case '-6':
        case '--ipv6':
          family = 6;
          break;
        case '-s':
        case '--scheduler': {
          const v = needNext();
          if (!/^[a-z][a-z0-9_-]*$/.test(v.text)) throw new ParseError(SRC, `bad scheduler "${v.text}"`, lineNo, v.column);
          scheduler = v.text;
          break;
        }
        case '-p':
        case '--persistent':
          // ipvsadm accepts -p without a value (default 300 s); save always prints one.
          if (next && /^\d+$/.test(next.text)) {
            persistent = uint(next, 'persistence timeout', lineNo, t);
            i++;
          } else persistent = 300;
          break;
        case '-M':
        case '--netmask':
          persistentNetmask = needNext().text;
          if (!parseIP(persistentNetmask) && !/^\d{1,3}$/.test(persistentNetmask)) {
            throw new ParseError(SRC, `bad persistence netmask "${persistentNetmask}"`, lineNo, toks[i].column);
          }
          break;
        case '-b':
        case '--sched-flags':
          schedFlags = needNext().text.split(',');
          break;
        case '-o':
        case '--ops':
          onePacket = true;
          break;
        case '--pe':
          pe = needNext().text;
          break;
        case '-r':
        case '--real-server':
          real = parseAddrPort(needNext(), lineNo, 'real server');
          break;
        case '-g':
        case '--gatewaying':
          forwarding = 'gate';
          break;
        case '-i':
        case '--ipip':
          forwarding = 'ipip';
          break;
        case '-m':
        case '--masquerading':
          forwarding = 'masq';
          break;
        case '-w':
        case '--weight':
          weight = uint(next, 'weight', lineNo, t, 65535);
          i++;
          break;
        case '-x':
        case '--u-threshold':
          upper = uint(next, 'upper threshold', lineNo, t);
          i++;
          break;
        case '-y':
        case '--l-threshold':
          lower = uint(next, 'lower threshold', lineNo, t);
          i++;
          break;
        case '--tun-type':
        case '--tun-port':
        case '--tun-nocsum':
        case '--tun-csum':
        case '--tun-remcsum':
          tunnelOptions.push(t.text);
          if ((t.text === '--tun-type' || t.text === '--tun-port') && next) {
            tunnelOptions.push(next.text);
            i++;
          }
          break;
        default:
          throw new ParseError(SRC, `unknown option "${t.text}"`, lineNo, t.column);
      }
    }
    if (!kind) throw new ParseError(SRC, `${cmd.text} needs a service (-t, -u, --sctp-service or -f)`, lineNo, cmd.column + cmd.text.length);
    // ipvsadm prints `-f MARK -6` on both lines; tolerate a real-server line that omits -6.
    if (kind === 'fwmark' && cmd.text === '-a' && real?.ip.family === 6) family = 6;
    const key = serviceKey({ kind, proto, vip: addr?.ip, port: addr?.port, fwmark, family });
    if (cmd.text === '-A') {
      if (real || forwarding || weight !== undefined) throw new ParseError(SRC, '-A (service) line carries real-server options', lineNo, cmd.column);
      if (byKey.has(key)) throw new ParseError(SRC, 'service defined twice', lineNo, cmd.column);
      const svc: IpvsService = {
        kind,
        family,
        scheduler: scheduler ?? 'wlc', // ipvsadm's default scheduler
        onePacket,
        reals: [],
        line: lineNo,
        ...(proto ? { proto } : {}),
        ...(addr ? { vip: addr.ip, port: addr.port } : {}),
        ...(fwmark !== undefined ? { fwmark } : {}),
        ...(persistent !== undefined ? { persistent } : {}),
        ...(persistentNetmask !== undefined ? { persistentNetmask } : {}),
        ...(schedFlags ? { schedFlags } : {}),
        ...(pe ? { pe } : {}),
      };
      services.push(svc);
      byKey.set(key, svc);
    } else {
      if (!real) throw new ParseError(SRC, '-a (real server) line needs -r ADDR:PORT', lineNo, cmd.column);
      const svc = byKey.get(key);
      if (!svc) throw new ParseError(SRC, 'real server for a service that was not defined before', lineNo, cmd.column);
      if (scheduler || persistent !== undefined) throw new ParseError(SRC, '-a (real server) line carries service options', lineNo, cmd.column);
      svc.reals.push({
        ip: real.ip,
        port: real.port,
        forwarding: forwarding ?? 'gate', // ipvsadm's default method is direct routing
        weight: weight ?? 1,
        ...(upper !== undefined ? { upperThreshold: upper } : {}),
        ...(lower !== undefined ? { lowerThreshold: lower } : {}),
        ...(tunnelOptions.length ? { tunnelOptions } : {}),
        line: lineNo,
      });
    }
  }
  return { available: true, services };
}

export interface IpvsPacket {
  proto: string;
  dst: IP;
  dport?: number;
  mark?: number;
}

/**
 * The virtual service a packet hits (ip_vs_service_find): fwmark service of the packet's mark
 * and family first, then the (proto, vip, port) service, then the vip's port-0 catch-all.
 */
export function lookupIpvsService(table: IpvsTable, pkt: IpvsPacket): IpvsService | undefined {
  if (!table.available) return undefined;
  let index = indexes.get(table);
  if (!index) {
    index = new Map();
    for (const s of table.services) index.set(serviceKey(s), s);
    indexes.set(table, index);
  }
  const family = pkt.dst.family;
  if (pkt.mark) {
    const f = index.get(serviceKey({ kind: 'fwmark', fwmark: pkt.mark, family }));
    if (f) return f;
  }
  const proto = pkt.proto.toLowerCase();
  const byAddr = (port: number | undefined) => index.get(serviceKey({ kind: 'address', proto, vip: pkt.dst, port, family }));
  return byAddr(pkt.dport ?? 0) ?? byAddr(0);
}

/** Lookup maps per parsed table (tables are immutable after parsing). */
const indexes = new WeakMap<IpvsTable, Map<string, IpvsService>>();
