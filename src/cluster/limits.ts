// How much netpath reads from a cluster at most. Everything it reads there is controlled by
// others (object sizes, collector logs), so each answer is capped while it streams in and each
// cap names itself, its flag and its VS Code setting (netpath.limits.*) in its error.
import { limitDefaults } from '../shared/limits';

export interface ClusterLimits {
  /** One API server answer (a list page, a pod log), as received. */
  maxResponseBytes: number;
  /** One node's collector dump after gunzip (a small log can inflate enormously). */
  maxDumpBytes: number;
}

const MiB = 1024 * 1024;

export const defaultLimits: ClusterLimits = {
  // A page of 500 large objects fits; a page over it is read again in smaller pages (loader.ts). 64 MiB.
  maxResponseBytes: limitDefaults.maxResponseBytes,
  // A node with 100,000 iptables rules dumps ~30 MiB. 256 MiB.
  maxDumpBytes: limitDefaults.maxDumpBytes,
};

/** The flag that raises each limit (named in the limit's error). */
export const limitFlags: Record<keyof ClusterLimits, string> = {
  maxResponseBytes: '--max-response-bytes',
  maxDumpBytes: '--max-dump-bytes',
};

/** The VS Code setting that raises each limit (application scope). */
export const limitSettings: Record<keyof ClusterLimits, string> = {
  maxResponseBytes: 'netpath.limits.maxResponseBytes',
  maxDumpBytes: 'netpath.limits.maxDumpBytes',
};

/** `the limit maxDumpBytes = 4 MiB (raise it with --max-dump-bytes N, in VS Code the setting netpath.limits.maxDumpBytes)`, as the engine's limits say it. */
export function limitNamed(key: keyof ClusterLimits, max: number): string {
  return `the limit ${key} = ${formatBytes(max)} (raise it with ${limitFlags[key]} N, in VS Code the setting ${limitSettings[key]})`;
}

/** `1048576`, `512K`, `64M`, `1G` (binary multiples; an optional `i`/`iB`/`B` suffix is accepted). */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d{1,15})\s*(?:([kmg])(?:i?b)?|b)?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] ? 1024 ** ('kmg'.indexOf(m[2].toLowerCase()) + 1) : 1);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', MiB], ['KiB', 1024]] as const) {
    if (n >= size) return `${Number((n / size).toFixed(1))} ${unit}`;
  }
  return `${n} bytes`;
}
