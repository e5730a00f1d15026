// How much netpath reads from a cluster at most. Everything it reads there is controlled by
// others (object sizes, collector logs), so each answer is capped while it streams in and each
// cap names itself in its error; the user raises a cap with the flag of the same name.

export interface ClusterLimits {
  /** One API server answer (a list page, a pod log), as received. */
  maxResponseBytes: number;
  /** One node's collector dump after gunzip (a small log can inflate enormously). */
  maxDumpBytes: number;
}

const MiB = 1024 * 1024;

export const defaultLimits: ClusterLimits = {
  // A page of 500 large objects fits; a page over it is read again in smaller pages (loader.ts).
  maxResponseBytes: 64 * MiB,
  // A node with 100,000 iptables rules dumps ~30 MiB.
  maxDumpBytes: 256 * MiB,
};

/** The flag that raises each limit (named in the limit's error). */
export const limitFlags: Record<keyof ClusterLimits, string> = {
  maxResponseBytes: '--max-response-bytes',
  maxDumpBytes: '--max-dump-bytes',
};

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
