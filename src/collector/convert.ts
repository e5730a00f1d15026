// Turns the collector's framed output into the typed NodeNetworkStackDump: each tool's output
// goes to its field (JSON tools parsed, text tools kept as text); a missing or failing tool
// leaves its field absent and adds a collector error; output the netstack parsers reject stays
// in the dump (it is evidence) and adds an error naming tool, netns and line. Never throws for
// bad tool output — only CollectorOutputError when the stream itself is not a collector dump.
import type { CollectorError, IprouteJson, IptablesSave, JsonValue, KernelInfo, NetNSInfo, NodeNetworkStackDump } from '../shared/dump';
import { version } from '../shared/version';
import { collectorFormat, type FramedDump, type FramedNetns, type ToolFrame, parseFramedOutput } from './frames';
import { parseSysctlLines, parseProcSysNet } from './sysctl-text';
import { validateNetns } from './validate';

/** The command each frame name stands for, as the user would type it (named in errors). */
export const toolCommands: Record<string, string> = {
  'ip-link': 'ip -j -d link show',
  'ip-addr': 'ip -j -d addr show',
  'ip-route': 'ip -j route show table all',
  'ip6-route': 'ip -6 -j route show table all',
  'ip-rule': 'ip -j rule show',
  'ip6-rule': 'ip -6 -j rule show',
  'ip-neigh': 'ip -4 -j neigh show',
  'ip6-neigh': 'ip -6 -j neigh show',
  'ip6-neigh-proxy': 'ip -6 -j neigh show proxy',
  'bridge-fdb': 'bridge -j fdb show',
  'iptables-nft': 'iptables-nft-save',
  'iptables-legacy': 'iptables-legacy-save',
  'ip6tables-nft': 'ip6tables-nft-save',
  'ip6tables-legacy': 'ip6tables-legacy-save',
  ipset: 'ipset save',
  ipvs: 'ipvsadm -Sn',
  nft: 'nft -j list ruleset',
  'nft-text': 'nft list ruleset',
  'xt-recent': 'cat /proc/net/xt_recent/*',
  ss: 'ss -Htuln',
  'proc-net-tcp': 'cat /proc/net/tcp',
  'proc-net-tcp6': 'cat /proc/net/tcp6',
  'proc-net-udp': 'cat /proc/net/udp',
  'proc-net-udp6': 'cat /proc/net/udp6',
  'proc-sys-net': 'grep -r "" /proc/sys/net',
  sysctl: 'sysctl net',
  nsenter: 'nsenter --net=/proc/PID/ns/net',
};

const jsonArrayFields: Record<string, keyof NetNSInfo> = {
  'ip-link': 'links',
  'ip-addr': 'addresses',
  'ip-route': 'routes',
  'ip6-route': 'routes6',
  'ip-rule': 'rules',
  'ip6-rule': 'rules6',
  'ip-neigh': 'neighbours',
  'ip6-neigh': 'neighbours6',
  'ip6-neigh-proxy': 'neighbours6Proxy',
  'bridge-fdb': 'fdb',
};

export interface ConvertOptions {
  /** Run the netstack parsers over each field (default true). */
  validate?: boolean;
}

export function convertCollectorOutput(raw: Buffer, options: ConvertOptions = {}): NodeNetworkStackDump {
  const framed = parseFramedOutput(raw);
  const errors: CollectorError[] = [];
  for (const g of framed.global) {
    errors.push({ tool: 'collector', exitCode: g.exitCode, message: `${g.tool}: ${firstLine(g.stderr) || 'failed'}` });
  }
  const all = framed.netns.map((ns) => convertNetns(ns, errors, options.validate ?? true));
  const node = all[framed.netns.findIndex((n) => n.role === 'host')];
  const netns = all.filter((n) => n !== node).sort((a, b) => a.id - b.id);
  const kernel = kernelInfo(framed, errors);
  return {
    node,
    netns,
    ...(kernel ? { kernel } : {}),
    collector: {
      version: `netpath ${version}, format ${collectorFormat}`,
      startedAt: framed.startedAt,
      durationMs: framed.durationMs,
      errors: sortErrors(errors),
    },
  };
}

/**
 * The node's kernel from the `kernel` record. A release that is not one printable line of at most
 * 64 bytes (the kernel's own limit) is not a real `uname -r`: it is reported, not recorded.
 */
function kernelInfo(framed: FramedDump, errors: CollectorError[]): KernelInfo | undefined {
  if (!framed.kernel) {
    errors.push({ tool: 'collector', message: 'kernel release: neither /proc/sys/kernel/osrelease nor uname -r could be read; the simulators assume the newest kernel' });
    return undefined;
  }
  const { release, ipv6MulticastRouting } = framed.kernel;
  if (Buffer.byteLength(release) > 64 || /[\u0000-\u001f\u007f]/.test(release)) {
    errors.push({ tool: 'collector', message: `kernel release ${JSON.stringify(release.slice(0, 80))} is not a plain release string; not recorded` });
    return undefined;
  }
  return { release, ipv6MulticastRouting };
}

function convertNetns(ns: FramedNetns, errors: CollectorError[], validate: boolean): NetNSInfo {
  const info: NetNSInfo = { id: ns.id, pids: ns.pids };
  const frames = new Map<string, ToolFrame>(ns.frames.map((f) => [f.tool, f]));
  const failed = (f: ToolFrame) => {
    const cmd = toolCommands[f.tool] ?? f.tool;
    const why = f.exitCode === 127 ? 'not found' : `failed with exit code ${f.exitCode}`;
    const detail = firstLine(f.stderr);
    const e: CollectorError = { tool: cmd, netns: ns.id, exitCode: f.exitCode, message: `${cmd}: ${why}${detail ? `: ${detail}` : ''}` };
    if (f.stderr.trim()) e.stderr = f.stderr.trim();
    errors.push(e);
  };
  const ok = (tool: string): ToolFrame | undefined => {
    const f = frames.get(tool);
    if (!f) return undefined;
    if (f.exitCode !== 0) {
      failed(f);
      return undefined;
    }
    return f;
  };

  const nsenter = frames.get('nsenter');
  if (nsenter) failed(nsenter);

  const texts: Record<string, string> = {};
  for (const [tool, field] of Object.entries(jsonArrayFields)) {
    const f = ok(tool);
    if (!f) continue;
    const value = parseJsonTool(f, ns.id, errors);
    if (value === undefined) continue;
    if (!Array.isArray(value)) {
      errors.push({ tool: toolCommands[tool], netns: ns.id, line: 1, column: 1, message: `${toolCommands[tool]}: expected a JSON array` });
      continue;
    }
    (info as unknown as Record<string, unknown>)[field] = value as IprouteJson;
    texts[tool] = f.stdout;
  }

  for (const fam of ['iptables', 'ip6tables'] as const) {
    const save: IptablesSave = {};
    const read: IptablesSave = {};
    for (const backend of ['nft', 'legacy'] as const) {
      const f = ok(`${fam}-${backend}`);
      if (!f) continue;
      read[backend] = f.stdout;
      if (holdsRules(f.stdout)) save[backend] = f.stdout;
    }
    // None holds rules: keep one that was read, so "empty" is distinguishable from "not read".
    if (!save.nft && !save.legacy) {
      if (read.nft !== undefined) save.nft = read.nft;
      else if (read.legacy !== undefined) save.legacy = read.legacy;
    }
    if (save.nft !== undefined || save.legacy !== undefined) info[fam] = save;
  }

  const ipset = ok('ipset');
  if (ipset) info.ipsets = ipset.stdout;
  const ipvs = ok('ipvs');
  if (ipvs) info.ipvs = ipvs.stdout;
  const nft = ok('nft');
  if (nft) {
    const v = parseJsonTool(nft, ns.id, errors);
    if (v !== undefined) info.nftables = v;
  }
  const nftText = ok('nft-text');
  if (nftText) info.nftablesText = nftText.stdout;

  const recent = ok('xt-recent');
  if (recent) info.xtRecent = recent.stdout;

  const ss = frames.get('ss');
  if (ss && ss.exitCode === 0) info.sockets = ss.stdout;
  else {
    const proc: Record<string, string> = {};
    for (const t of ['tcp', 'tcp6', 'udp', 'udp6']) {
      const f = frames.get(`proc-net-${t}`);
      if (f && f.exitCode === 0) proc[t] = f.stdout;
    }
    // ss failing is worth reporting only when the fallback did not cover for it.
    if (Object.keys(proc).length > 0) info.procNet = proc;
    else if (ss) failed(ss);
  }

  const procSys = frames.get('proc-sys-net');
  const sysctl = frames.get('sysctl');
  if (procSys && procSys.exitCode === 0) info.sysctls = parseProcSysNet(procSys.stdout);
  else if (sysctl && sysctl.exitCode === 0) {
    info.sysctls = parseSysctlLines(sysctl.stdout);
    texts.sysctl = sysctl.stdout;
  } else {
    if (procSys) failed(procSys);
    if (sysctl) failed(sysctl);
  }
  if (info.sysctls) {
    const count = Number(info.sysctls['net.netfilter.nf_conntrack_count']);
    const max = Number(info.sysctls['net.netfilter.nf_conntrack_max']);
    if (info.sysctls['net.netfilter.nf_conntrack_count'] !== undefined && Number.isSafeInteger(count) && Number.isSafeInteger(max)) {
      info.conntrack = { count, max };
    }
  }

  if (validate) {
    for (const e of validateNetns(info, texts)) errors.push({ ...e, netns: ns.id });
  }
  return info;
}

/** Parses a JSON tool's stdout; empty output (some iproute2 versions, no entries) is `[]`. */
function parseJsonTool(f: ToolFrame, netns: number, errors: CollectorError[]): JsonValue | undefined {
  if (f.stdout.trim() === '') return [];
  try {
    return JSON.parse(f.stdout) as JsonValue;
  } catch (e) {
    const cmd = toolCommands[f.tool] ?? f.tool;
    const { line, column } = jsonErrorPosition(f.stdout, e);
    errors.push({ tool: cmd, netns, line, column, message: `${cmd}: invalid JSON at line ${line}, column ${column}: ${(e as Error).message.replace(/, ".*$/s, '')}` });
    return undefined;
  }
}

/** Line/column of a JSON.parse failure, from V8's "at position N" when it gives one. */
function jsonErrorPosition(text: string, e: unknown): { line: number; column: number } {
  const m = /position (\d+)/.exec(e instanceof Error ? e.message : '');
  const offset = m ? Number(m[1]) : text.length;
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/**
 * Whether an iptables-save text holds rules: any rule, any user chain, or a built-in chain whose
 * policy is not ACCEPT (a DROP policy with no rules still filters).
 */
export function holdsRules(save: string): boolean {
  return /^(-A |:\S+ (?!ACCEPT )\S+ )/m.test(save);
}

function firstLine(s: string): string {
  const t = s.trim();
  const nl = t.indexOf('\n');
  return (nl < 0 ? t : t.slice(0, nl)).slice(0, 300);
}

function sortErrors(errors: CollectorError[]): CollectorError[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.netns ?? 0) - (b.e.netns ?? 0) || a.i - b.i)
    .map((x) => x.e);
}
