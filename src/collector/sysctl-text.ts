// `sysctl net` output and its fallback (`grep -r '' /proc/sys/net`) as the dump's
// `{ key: value }`. Tolerant on purpose: a line that is not `key = value` is skipped here and
// reported by the sysctl parser in validate.ts, so one odd line never costs the other keys.

/** `key = value` lines (value keeps inner whitespace, e.g. tcp_rmem's tabs). */
export function parseSysctlLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const eq = raw.indexOf('=');
    if (eq < 0) continue;
    const key = raw.slice(0, eq).trim();
    if (key === '' || /\s/.test(key)) continue;
    out[key] = raw.slice(eq + 1).trim();
  }
  return sortedRecord(out);
}

/** `/proc/sys/net/ipv4/ip_forward:1` lines → `net.ipv4.ip_forward = 1`. Interface names may
 * contain dots, which /proc/sys shows as dots and sysctl shows as slashes (`eth0/100`). */
export function parseProcSysNet(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\/proc\/sys\/(net\/[^:]*):(.*)$/.exec(raw);
    if (!m) continue;
    const key = m[1].split('/').map((part) => part.replace(/\./g, '/')).join('.');
    out[key] = m[2].trim();
  }
  return sortedRecord(out);
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}
