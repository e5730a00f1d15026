// IPv6 source address selection as the kernel does it (ipv6_dev_get_saddr, RFC 6724 rules
// 1, 2, 3, 5, 6, 7, 8 in that order; rule 4 (home address) never differs without Mobile IPv6).
// Candidates: the outgoing interface's addresses only for multicast and link-local (or
// narrower) destinations, else every interface's, in device order; ties keep the first.
import type { Interface, InterfaceAddress } from './interfaces-model';
import { parseIP, type IP } from './ip';

/** __ipv6_addr_src_scope: 1 node, 2 link (also ::1), 5 site, 0xe global (ULA included). */
function scope6(ip: IP): number {
  const v = ip.value;
  const top16 = Number(v >> 112n);
  if (top16 >> 8 === 0xff) return top16 & 0xf;
  if (v === 1n) return 2;
  if ((top16 & 0xffc0) === 0xfe80) return 2;
  if ((top16 & 0xffc0) === 0xfec0) return 5;
  return 0xe;
}

/** Default policy table of net/ipv6/addrlabel.c. */
const LABELS: [bigint, number, number][] = [
  [1n, 128, 0],
  [0n, 96, 3],
  [0xffffn << 32n, 96, 4],
  [0x20010010n << 96n, 28, 7],
  [0x2001n << 112n, 32, 6],
  [0x3ffen << 112n, 16, 12],
  [0x2002n << 112n, 16, 2],
  [0xfec0n << 112n, 10, 11],
  [0xfcn << 120n, 7, 5],
  [0n, 0, 1],
];
function label(ip: IP): number {
  let best = -1;
  let lab = 1;
  for (const [p, len, l] of LABELS) {
    const m = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(128 - len);
    if ((ip.value & m) === p && len > best) {
      best = len;
      lab = l;
    }
  }
  return lab;
}

function commonPrefix(a: bigint, b: bigint): number {
  let x = a ^ b;
  if (x === 0n) return 128;
  let n = 0;
  while (x < 1n << 127n) {
    x <<= 1n;
    n++;
  }
  return n;
}

/** The source address the kernel picks for `dst` when sending via `devName`; undefined if none. */
export function selectSourceV6(interfaces: readonly Interface[], devName: string | undefined, dst: IP): string | undefined {
  const dstScope = scope6(dst);
  const dstLabel = label(dst);
  const dev = devName !== undefined ? interfaces.find((i) => i.name === devName) : undefined;
  const multicast = dst.value >> 120n === 0xffn;
  const devs = dev && (multicast || dstScope <= 2) ? [dev] : [...interfaces].sort((a, b) => a.index - b.index);
  let best: { a: InterfaceAddress; ip: IP; ifindex: number; s: number[] } | undefined;
  for (const i of devs) {
    for (const a of i.addresses) {
      if (a.family !== 6) continue;
      if (a.flags.includes('tentative') && !a.flags.includes('optimistic')) continue;
      const ip = parseIP(a.address);
      if (!ip || ip.value === 0n || ip.value >> 120n === 0xffn) continue;
      const sc = scope6(ip);
      const s = [
        ip.value === dst.value ? 1 : 0, // rule 1: same address
        sc >= dstScope ? -sc : sc - 128, // rule 2: appropriate scope
        a.flags.includes('deprecated') || a.flags.includes('optimistic') ? 0 : 1, // rule 3: avoid deprecated
        !dev || dev.index === i.index ? 1 : 0, // rule 5: outgoing interface
        label(ip) === dstLabel ? 1 : 0, // rule 6: matching label
        a.flags.includes('temporary') ? 0 : 1, // rule 7: public over temporary (use_tempaddr < 2)
        Math.min(commonPrefix(ip.value, dst.value), a.prefixLen), // rule 8: longest matching prefix
      ];
      if (!best) {
        best = { a, ip, ifindex: i.index, s };
        continue;
      }
      for (let k = 0; k < s.length; k++) {
        if (s[k] > best.s[k]) {
          best = { a, ip, ifindex: i.index, s };
          break;
        }
        if (s[k] < best.s[k]) break;
      }
    }
  }
  return best?.a.address;
}
