// Reads the framed stream collect.sh prints (format described at the top of collect.sh) into
// netns records holding each tool's raw output. Works on bytes, because the frame lengths are byte
// counts and tool output may be anything (binary, invalid UTF-8, lines that look like headers).
import { gunzipSync } from 'node:zlib';

export const collectorFormat = 1;

export interface ToolFrame {
  tool: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface FramedNetns {
  id: number;
  role: 'host' | 'pod';
  pids: number[];
  /** Frames in the order the script ran the tools. */
  frames: ToolFrame[];
}

export interface FramedDump {
  startedAt: string;
  /** From /proc/uptime at start and end (10 ms resolution). */
  durationMs: number;
  netns: FramedNetns[];
  /** The `kernel` record, when the script could read the release. */
  kernel?: { release: string; ipv6MulticastRouting: boolean };
  /** Frames not tied to a netns (netns 0), e.g. `pid:123` for a pid that does not exist. */
  global: ToolFrame[];
}

/** The collector output is not a complete, well-formed stream (truncated log, wrong program…). */
export class CollectorOutputError extends Error {
  override name = 'CollectorOutputError';
}

/** The gzip body inflates past the caller's limit (a small log can inflate to gigabytes). */
export class CollectorOutputTooLargeError extends CollectorOutputError {
  override name = 'CollectorOutputTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`collector output: the gzip body inflates to more than ${maxBytes} bytes`);
  }
}

/** Undoes `--gzip` if the stream starts with its marker line; returns the framed bytes, at most `maxBytes`. */
export function unwrapCollectorOutput(raw: Buffer, maxBytes?: number): Buffer {
  const marker = 'netpath-collector-gzip ';
  if (!raw.subarray(0, marker.length).equals(Buffer.from(marker))) return raw;
  const nl = raw.indexOf(10);
  const b64 = raw.subarray(nl < 0 ? raw.length : nl + 1).toString('latin1').replace(/\s+/g, '');
  try {
    return gunzipSync(Buffer.from(b64, 'base64'), maxBytes === undefined ? {} : { maxOutputLength: maxBytes });
  } catch (e) {
    if (maxBytes !== undefined && (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new CollectorOutputTooLargeError(maxBytes);
    throw new CollectorOutputError(`collector output: the gzip+base64 body does not decode (${(e as Error).message}); the log may be truncated`);
  }
}

export function parseFramedOutput(input: Buffer): FramedDump {
  const buf = unwrapCollectorOutput(input);
  let pos = 0;
  const line = (): string | undefined => {
    if (pos >= buf.length) return undefined;
    const nl = buf.indexOf(10, pos);
    const end = nl < 0 ? buf.length : nl;
    const text = buf.toString('utf8', pos, end);
    pos = end + 1;
    return text;
  };
  const fail = (why: string): never => {
    throw new CollectorOutputError(`collector output, byte ${pos}: ${why}`);
  };

  const first = line();
  const head = /^netpath-collector (\d+) (\S+)$/.exec(first ?? '');
  if (!head) {
    const shown = (first ?? '').slice(0, 80);
    throw new CollectorOutputError(`collector output does not start with the netpath-collector header (got "${shown}")`);
  }
  if (Number(head[1]) !== collectorFormat) fail(`format ${head[1]} is not supported (this netpath reads format ${collectorFormat})`);
  const b = head[2];

  const out: FramedDump = { startedAt: '', durationMs: 0, netns: [], global: [] };
  let startUptime = NaN;
  const byId = new Map<number, FramedNetns>();
  for (;;) {
    const text = line();
    if (text === undefined) fail('stream ends before its end line: the output is truncated');
    const f = text!.split(' ');
    if (f[0] !== b) fail(`expected a header line starting with the boundary, got "${text!.slice(0, 80)}"`);
    switch (f[1]) {
      case 'meta': {
        if (f.length !== 4 || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(f[2]) || !Number.isFinite(Number(f[3]))) fail(`bad meta line "${text}"`);
        out.startedAt = f[2];
        startUptime = Number(f[3]);
        break;
      }
      case 'kernel': {
        // The release is the rest of the line (a release with spaces stays whole).
        if (f.length < 4 || (f[2] !== '0' && f[2] !== '1') || out.kernel) fail(`bad kernel line "${text!.slice(0, 80)}"`);
        out.kernel = { release: f.slice(3).join(' '), ipv6MulticastRouting: f[2] === '1' };
        break;
      }
      case 'netns': {
        const id = Number(f[2]);
        if (f.length !== 5 || !Number.isSafeInteger(id) || (f[3] !== 'host' && f[3] !== 'pod') || !/^\d+(,\d+)*$/.test(f[4])) fail(`bad netns line "${text}"`);
        if (byId.has(id)) fail(`netns ${id} appears twice`);
        const current: FramedNetns = { id, role: f[3] as 'host' | 'pod', pids: f[4].split(',').map(Number).sort((x, y) => x - y), frames: [] };
        byId.set(id, current);
        out.netns.push(current);
        break;
      }
      case 'frame': {
        const [ns, exit, ob, eb] = [f[2], f[4], f[5], f[6]].map(Number);
        if (f.length !== 7 || ![ns, exit, ob, eb].every((n) => Number.isSafeInteger(n) && n >= 0)) fail(`bad frame line "${text}"`);
        if (pos + ob + eb + 1 > buf.length) fail(`frame ${f[3]} of netns ${ns} announces ${ob + eb} bytes but the stream is shorter: the output is truncated`);
        const frame: ToolFrame = {
          tool: f[3],
          exitCode: exit,
          stdout: buf.toString('utf8', pos, pos + ob),
          stderr: buf.toString('utf8', pos + ob, pos + ob + eb),
        };
        pos += ob + eb;
        if (buf[pos] !== 10) fail(`frame ${f[3]} of netns ${ns} is not followed by a newline: the byte counts are wrong`);
        pos++;
        if (ns === 0) out.global.push(frame);
        else {
          const target = byId.get(ns);
          if (!target) fail(`frame ${f[3]} for netns ${ns} before its netns line`);
          target!.frames.push(frame);
        }
        break;
      }
      case 'end': {
        const end = Number(f[2]);
        if (f.length !== 3 || !Number.isFinite(end)) fail(`bad end line "${text}"`);
        if (!out.startedAt) fail('no meta line before the end line');
        out.durationMs = Math.max(0, Math.round((end - startUptime) * 1000));
        if (!out.netns.some((n) => n.role === 'host')) fail('no host netns in the output');
        return out;
      }
      default:
        fail(`unknown record "${f[1]}"`);
    }
  }
}
