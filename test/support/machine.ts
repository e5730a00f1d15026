// What a test that drives the real kernel needs from this machine, as the reason to skip when
// something is missing: such tests skip and say why on a fresh machine (no root, a tool not
// installed, a container where network namespaces cannot be made), and never fail for it.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name]).status === 0;
}

/**
 * The tools the collector script runs whose absence shows up as a collector error (ss has a
 * /proc fallback, ipvsadm is run only when ip_vs is loaded), for tests that expect no error.
 */
export function collectorTools(): string[] {
  return ['ip', 'bridge', 'nsenter', 'iptables-nft-save', 'ip6tables-nft-save', 'ipset', 'nft', 'ss', ...(existsSync('/proc/net/ip_vs') ? ['ipvsadm'] : [])];
}

let netnsProbe: string | undefined | null = null;

/** Can this process create a network namespace? (root in a container without CAP_SYS_ADMIN cannot.) */
function netnsRefused(): string | undefined {
  if (netnsProbe !== null) return netnsProbe;
  const name = `np-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'delete', name]);
  netnsProbe = r.status === 0 ? undefined : `cannot create a network namespace here (ip netns add: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()})`;
  return netnsProbe;
}

/**
 * Why a kernel test cannot run here, or undefined when it can: it needs root, `ip` and the given
 * tools, and a network namespace it may create.
 */
export function kernelTestSkip(tools: readonly string[] = []): string | undefined {
  if (!isRoot()) return 'needs root (network namespaces)';
  const missing = ['ip', ...tools].filter((t, i, all) => all.indexOf(t) === i && !haveTool(t));
  if (missing.length) return `missing tools: ${missing.join(', ')} (scripts/setup-machine.sh installs them)`;
  return netnsRefused();
}
