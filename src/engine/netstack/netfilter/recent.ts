// `-m recent` (xt_recent) as the kernel evaluates it, against the lists the collector read from
// /proc/net/xt_recent. A list entry keeps the last packets' time stamps in jiffies; without the
// node's clock their age is unknown, so `--seconds` is decided only when no stamp (or every
// stamp) could count — otherwise the match is undecided and the trace evaluates it both ways.
// `--set` and a matching `--update` add a stamp for this packet, which later rules of the same
// trace see (ufw's `limit`: --set, then --update --hitcount 6).
import { parseIP, mask as prefixMask, formatIP, type Family } from '../ip';
import type { RuleOption } from '../iptables/model';
import type { RecentEntry } from './packet';
import type { MatchFn, MatchResult } from './matches';
import type { State } from './state';

/**
 * The collector's `xtRecent` text: for each list, a line `list <name length> <name>` and then
 * the file's lines (`src=10.0.0.1 ttl: 64 last_seen: 4295 oldest_pkt: 1 4295, 4290`). The
 * length makes any name unambiguous. Lines that do not read as an entry are skipped.
 */
export function parseXtRecent(text: string): Map<string, Map<string, RecentEntry>> {
  const lists = new Map<string, Map<string, RecentEntry>>();
  let cur: Map<string, RecentEntry> | undefined;
  let i = 0;
  while (i < text.length) {
    const head = /^list (\d+) /.exec(text.slice(i, i + 20));
    if (head) {
      const start = i + head[0].length;
      const end = afterBytes(text, start, Number(head[1]));
      cur = new Map();
      lists.set(text.slice(start, end), cur);
      i = end;
      if (text[i] === '\n') i++;
      continue;
    }
    const nl = text.indexOf('\n', i);
    const line = text.slice(i, nl < 0 ? text.length : nl);
    i = nl < 0 ? text.length : nl + 1;
    const m = /^src=(\S+) ttl: (\d+) last_seen: \d+ oldest_pkt: \d+((?:,? ?\d+)*)\s*$/.exec(line);
    const ip = m && parseIP(m[1]);
    if (!cur || !m || !ip) continue;
    const stamps = m[3].split(/[ ,]+/).filter((x) => x !== '').length;
    cur.set(`${ip.family}/${ip.value}`, { ttl: Number(m[2]), stamps });
  }
  return lists;
}

/** The index `n` UTF-8 bytes after `start` (the collector counts a name's length in bytes). */
function afterBytes(text: string, start: number, n: number): number {
  let i = start;
  while (n > 0 && i < text.length) {
    const c = text.codePointAt(i)!;
    n -= c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    i += c >= 0x10000 ? 2 : 1;
  }
  return i;
}

type Command = '--set' | '--rcheck' | '--update' | '--remove';
const COMMANDS = new Set(['--set', '--rcheck', '--update', '--remove']);

/** Compiles `-m recent`; `fail` rejects an option the kernel module does not have. */
export function compileRecent(opts: RuleOption[], family: Family, fail: (msg: string) => never): MatchFn {
  let command: Command | undefined;
  let invert = false;
  let name = 'DEFAULT';
  let seconds = 0;
  let hitcount = 0;
  let rdest = false;
  let rttl = false;
  let maskText: string | undefined;
  for (const o of opts) {
    const v = () => (o.values.length === 1 ? o.values[0] : fail(`${o.name} expects one value`));
    if (COMMANDS.has(o.name)) {
      if (command) fail(`${command} and ${o.name} together`);
      command = o.name as Command;
      invert = o.negated;
      continue;
    }
    switch (o.name) {
      case '--name': name = v(); break;
      case '--seconds': seconds = Number(v()); break;
      case '--hitcount': hitcount = Number(v()); break;
      case '--rsource': rdest = false; break;
      case '--rdest': rdest = true; break;
      case '--rttl': rttl = true; break;
      case '--reap': break; // forgets old entries: does not change this packet's answer
      case '--mask': maskText = v(); break;
      default: fail(`option ${o.name} is not modelled`);
    }
  }
  if (!command) fail('one of --set, --rcheck, --update, --remove is required');
  if (!Number.isInteger(seconds) || !Number.isInteger(hitcount)) fail('--seconds and --hitcount take whole numbers');
  const maskIP = maskText !== undefined ? parseIP(maskText) : undefined;
  if (maskText !== undefined && (!maskIP || maskIP.family !== family)) fail(`bad --mask ${maskText}`);
  const maskValue = maskIP ? maskIP.value : prefixMask(family, family === 4 ? 32 : 128);
  const cmd = command!;

  return (s: State, env): MatchResult => {
    const addr = rdest ? s.dst : s.src;
    const key = `${family}/${addr.value & maskValue}`;
    const local = (s.recent ??= new Map());
    const lkey = `${name}\u0000${key}`;
    const fresh = local.get(lkey)?.fresh ?? 0;
    const removed = local.get(lkey)?.removed ?? false;
    const list = env.recent?.(name);
    const dumped = removed ? undefined : list?.get(key);
    // Stamps from before this packet: counted when the list was collected, unknown otherwise.
    const old = removed ? 0 : list ? dumped?.stamps ?? 0 : undefined;
    const exists = fresh > 0 || (removed ? false : list ? dumped !== undefined : undefined);
    const stamp = () => local.set(lkey, { fresh: fresh + 1, removed });
    const who = `-m recent ${cmd} --name ${name} (${rdest ? 'destination' : 'source'} ${formatIP(addr)})`;

    if (cmd === '--set') {
      stamp();
      return !invert;
    }
    if (exists === false) return invert;
    if (exists === undefined) return { unknown: `${who}: the recent lists were not collected, so whether the address is in the list is unknown` };
    // --rttl: the entry counts only if the TTL of the packet that last updated it equals this one's.
    if (rttl && fresh === 0 && dumped && dumped.ttl !== (s.pkt.ttl ?? 64)) return invert;
    let hit: boolean | undefined = true;
    if (cmd === '--remove') local.set(lkey, { fresh: 0, removed: true });
    else if (seconds || hitcount) {
      // This trace's stamps are within any --seconds; the dump's may or may not be.
      const need = Math.max(1, hitcount);
      const certain = fresh + (seconds ? 0 : old ?? 0);
      const possible = old === undefined ? Infinity : fresh + old;
      hit = certain >= need ? true : possible < need ? false : undefined;
    }
    if (hit === undefined) {
      return {
        unknown: `${who}: ${old === undefined ? 'the recent lists were not collected' : `the list holds ${old} time stamp(s) for it whose age netpath cannot tell (--seconds ${seconds})`}`,
      };
    }
    const r = hit !== invert;
    if (cmd === '--update' && r) stamp();
    return r;
  };
}
