// The hostile-input fuzzer (issue 16): mutated snapshots and dumps through the whole pipeline —
// load and validate, diagnose, the text, JSON and skoop-json reports, and the CLI's stderr — must
// give a result or a typed error (src/shared/errors.ts, never an internal one), and nothing shown
// may carry a raw control or bidi character or an extra report line. Seeded: a failure names its
// seed and case, and the same seed replays it. The shard files (*.test.ts) each run one seed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { Network } from '../../src/engine/network';
import { createContext } from '../../src/engine/context';
import { snapshotPort } from '../../src/engine/port';
import { formatTextWithFindings } from '../../src/engine/report/text';
import { formatJson } from '../../src/engine/report/json';
import { formatSkoopJson } from '../../src/engine/report/skoop-json';
import { NetpathError, InternalError } from '../../src/shared/errors';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Names an attacker would pick: terminal escapes, forged report lines, bidi, HTML, markdown links. */
export const hostileNames = [
  'node\x1b[1A\x1b[2K\x1b[32mREACHABLE: no fault found\x1b[0m',
  'e\x1b[2J\x1b[8m',
  'a\n  [INFO] verified: no DROP rules\nb',
  'x\r\ny',
  '\u202eevil\u202c',
  'pod\u2066rtl\u2069\u200f',
  '<img src=x onerror=alert(1)>',
  '[click](command:workbench.action.quit)',
  '![i](https://example.invalid/i.png)',
  '**bold** `code` # head',
  'csi\x9b31m c1',
  'nul\x00byte\x7f',
  'line\u2028sep\u2029para',
  'tab\there\vvt\fff',
];

/** Characters no output may contain raw (line breaks are checked separately: the formats have their own). */
// eslint-disable-next-line no-control-regex
export const rawControl = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The base: the broken sample with its sysctls cut to those the engine reads (same reports, a third of the size). */
export function baseSnapshot(): { [k: string]: any } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const d = JSON.parse(readFileSync('samples/broken.netpath.json', 'utf8'));
  const keep = /forward|rp_filter|bridge|route_localnet|proxy_arp|mtu|conntrack|accept_local|ip_local_port|nf_|arp_/;
  for (const dump of Object.values<any>(d.dumps)) // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const ns of [dump.node, ...dump.netns]) ns.sysctls = Object.fromEntries(Object.entries(ns.sysctls).filter(([k]) => keep.test(k)));
  return d;
}

export const requests = [
  { src: 'default/client', dst: 'default/web1', port: 80, protocol: 'tcp' as const },
  { src: 'default/client', dst: 'svc/default/web-remote', port: 80, protocol: 'tcp' as const },
  { src: 'node/node1', dst: 'default/web2', port: 8080, protocol: 'tcp' as const },
  { src: 'default/web1', dst: '10.244.1.2', port: 53, protocol: 'udp' as const },
];

/** Every (container, key) in the document, for picking where to mutate. */
function slots(root: Json): { parent: Json[] | { [k: string]: Json }; key: string | number; depth: number }[] {
  const out: { parent: Json[] | { [k: string]: Json }; key: string | number; depth: number }[] = [];
  const stack: [Json, number][] = [[root, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i, depth }), stack.push([x, depth + 1])));
    else for (const [k, x] of Object.entries(v)) out.push({ parent: v, key: k, depth }), stack.push([x, depth + 1]);
  }
  return out;
}

export interface Mutation {
  kind: string;
  /** The document's text after mutation. */
  text: string;
}

/** JSON text of `leaf` nested `depth` levels (built as text: JSON.stringify would overflow the stack). */
function nested(depth: number, leaf: string): string {
  const half = Math.floor(depth / 2);
  return `${'{"n":['.repeat(half)}${JSON.stringify(leaf)}${']}'.repeat(half)}`;
}
const deepMark = '\u0000deep\u0000';

/** One mutation of `base` (a parsed snapshot), chosen and shaped by `r`. */
export function mutate(base: Json, baseText: string, r: () => number): Mutation {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const kind = pick(['name', 'name', 'name', 'string', 'null', 'null', 'huge', 'deep', 'line', 'byte', 'dumpLine', 'mix'] as const);
  if (kind === 'byte') {
    // Byte-level: flip, insert or delete characters anywhere in the text.
    let t = baseText;
    for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
      const at = Math.floor(r() * t.length);
      const op = r();
      t = op < 0.4 ? t.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + t.slice(at + 1) : op < 0.7 ? t.slice(0, at) + pick(hostileNames) + t.slice(at) : t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 8));
    }
    return { kind, text: t };
  }
  if (kind === 'line') {
    const lines = baseText.split('\n');
    const at = Math.floor(r() * lines.length);
    const op = r();
    if (op < 0.33) lines.splice(at, 1);
    else if (op < 0.66) lines.splice(at, 0, lines[Math.floor(r() * lines.length)]);
    else [lines[at], lines[(at + 1) % lines.length]] = [lines[(at + 1) % lines.length], lines[at]];
    return { kind, text: lines.join('\n') };
  }
  const doc = structuredClone(base);
  const all = slots(doc);
  const strings = all.filter((s) => typeof (s.parent as Record<string | number, Json>)[s.key] === 'string');
  const set = (s: (typeof all)[number], v: Json) => ((s.parent as Record<string | number, Json>)[s.key] = v);
  const get = (s: (typeof all)[number]) => (s.parent as Record<string | number, Json>)[s.key];
  let deep: string | undefined;
  const steps = kind === 'mix' ? 2 + Math.floor(r() * 4) : 1;
  for (let i = 0; i < steps; i++) {
    const k = kind === 'mix' ? pick(['name', 'string', 'null', 'dumpLine'] as const) : kind;
    if (k === 'name') {
      // A name-like field (metadata, interface names, nodeName, ipset and chain names) made hostile;
      // names that refer to each other are renamed everywhere, so the reference still holds.
      const names = strings.filter((s) => ['name', 'namespace', 'nodeName', 'ifname', 'dev', 'master', 'link'].includes(String(s.key)));
      const s = pick(names);
      const old = get(s) as string;
      const hostile = `${old}${pick(hostileNames)}`;
      for (const x of strings) if (get(x) === old) set(x, hostile);
    } else if (k === 'string') {
      set(pick(strings), pick(hostileNames));
    } else if (k === 'null') {
      // Any field, required or optional, in any object or list.
      set(pick(all), null);
    } else if (k === 'huge') {
      // A list grown a hundredfold (pods, routes, addresses, rules…).
      const lists = all.filter((s) => Array.isArray(get(s)) && (get(s) as Json[]).length > 0);
      const s = pick(lists);
      const list = get(s) as Json[];
      const times = 20 + Math.floor(r() * 100);
      set(s, Array.from({ length: list.length * times }, (_, j) => structuredClone(list[j % list.length])));
    } else if (k === 'deep') {
      // Deep nesting in an open part of an object (a pod spec), up to past the depth limit.
      const objects = all.filter((s) => s.depth < 6 && get(s) !== null && typeof get(s) === 'object' && !Array.isArray(get(s)));
      const s = pick(objects);
      (get(s) as Record<string, Json>).deep = deepMark;
      deep = nested(Math.floor(r() < 0.5 ? r() * 300 : r() * 20000), pick(hostileNames));
    } else if (k === 'dumpLine') {
      // A line of a tool's text output (iptables-save, ipset, ipvs, sockets) deleted, duplicated or made hostile.
      const texts = strings.filter((s) => typeof get(s) === 'string' && (get(s) as string).includes('\n'));
      if (!texts.length) continue;
      const s = pick(texts);
      const lines = (get(s) as string).split('\n');
      const at = Math.floor(r() * lines.length);
      const op = r();
      if (op < 0.3) lines.splice(at, 1);
      else if (op < 0.6) lines.splice(at, 0, ...Array.from({ length: 1 + Math.floor(r() * 50) }, () => lines[at]));
      else lines[at] = `${lines[at]}${pick(hostileNames)}`;
      set(s, lines.join('\n'));
    }
  }
  const text = JSON.stringify(doc);
  return { kind, text: deep === undefined ? text : text.replace(JSON.stringify(deepMark), deep) };
}

export interface Outcome {
  ok: number;
  rejected: number;
  diagnoses: number;
  slowestMs: number;
  slowestCase: string;
}

/** Runs `text` through load → diagnose → every report; asserts the contract. */
export function check(text: string, what: string, r: () => number, out: Outcome): void {
  const started = performance.now();
  let s;
  try {
    s = loadSnapshot(text);
  } catch (e) {
    assert.ok(e instanceof NetpathError && !(e instanceof InternalError), `${what}: loading threw ${e instanceof Error ? e.stack : String(e)}`);
    assert.doesNotMatch(e.message, rawControl, `${what}: raw control character in the error message`);
    out.rejected++;
    return;
  }
  out.ok++;
  const net = new Network(snapshotPort(s), createContext({ origin: 'snapshot', values: s.settings }));
  for (const request of [requests[Math.floor(r() * requests.length)]]) {
    let result;
    try {
      result = net.diagnose(request);
    } catch (e) {
      assert.ok(e instanceof NetpathError && !(e instanceof InternalError), `${what}: diagnose ${request.src} -> ${request.dst} threw ${e instanceof Error ? e.stack : String(e)}`);
      assert.doesNotMatch(e.message, rawControl, `${what}: raw control character in the error message`);
      continue;
    }
    out.diagnoses++;
    const { text: report, findings } = formatTextWithFindings(result);
    assert.doesNotMatch(report, rawControl, `${what}: raw control character in the text report`);
    // A name can never add a line: every finding's line is a finding line.
    const lines = report.split('\n');
    for (const f of findings) assert.match(lines[f.line], /^ {2}\[(FATAL|CRITICAL|WARNING|INFO)\] /, `${what}: finding line ${f.line} moved`);
    for (const json of [formatJson(result), formatSkoopJson(result)]) {
      assert.doesNotMatch(json, rawControl, `${what}: raw control character in a JSON report`);
      JSON.parse(json);
    }
  }
  const ms = performance.now() - started;
  if (ms > out.slowestMs) {
    out.slowestMs = ms;
    out.slowestCase = what;
  }
}
