// The hostile-input fuzzer (issue 16): mutated snapshots and dumps through the whole pipeline —
// load and validate, diagnose, the text, JSON and skoop-json reports, and the CLI's stderr — must
// give a result or a typed error (src/shared/errors.ts, never an internal one), and nothing shown
// may carry a raw control or bidi character or an extra report line. Seeded: a failure names its
// seed and case, and the same seed replays it. The shard files (*.test.ts) each run one seed on one lab snapshot.
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

export interface FuzzRequest {
  src: string;
  dst: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

/**
 * A base to mutate: a lab snapshot (real collector output of one CNI setup) without what its reports
 * do not read (most sysctls, the nftables ruleset; a quarter of the size), and the lab's probes as
 * the requests (pods, services, NodePorts, nodes, host-network pods, an outside IP).
 */
export function fuzzBase(lab: string): { doc: { [k: string]: any }; requests: FuzzRequest[] } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const dir = `test/fixtures/lab/${lab}`;
  const doc = JSON.parse(readFileSync(`${dir}/snapshot.netpath.json`, 'utf8'));
  const keep = /forward|rp_filter|bridge|route_localnet|proxy_arp|mtu|conntrack|accept_local|ip_local_port|nf_|arp_/;
  for (const dump of Object.values<any>(doc.dumps)) { // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const ns of [dump.node, ...dump.netns]) {
      if (ns.sysctls) ns.sysctls = Object.fromEntries(Object.entries(ns.sysctls).filter(([k]) => keep.test(k)));
      delete ns.nftables;
    }
  }
  const truth = JSON.parse(readFileSync(`${dir}/truth.json`, 'utf8')) as { probes: { src: string; dst: string; port: number; protocol: string }[] };
  const requests = truth.probes.map((p) => ({ src: p.src, dst: p.dst, port: p.port, protocol: p.protocol.toLowerCase() as 'tcp' | 'udp' }));
  return { doc, requests };
}

type Path = (string | number)[];

/** Where in the base document mutations can land, indexed once (the document is re-parsed per case). */
export class Targets {
  readonly all: Path[] = [];
  readonly strings: Path[] = [];
  /** Name-like string fields grouped by value: a rename changes every reference at once. */
  readonly names = new Map<string, Path[]>();
  readonly lists: Path[] = [];
  readonly shallowObjects: Path[] = [];
  /** Multi-line tool output (iptables-save, ipset, ipvs, sockets). */
  readonly texts: Path[] = [];

  constructor(root: Json) {
    const nameKeys = new Set(['name', 'namespace', 'nodeName', 'ifname', 'dev', 'master', 'link']);
    const stack: [Json, Path][] = [[root, []]];
    while (stack.length) {
      const [v, path] = stack.pop()!;
      if (path.length) this.all.push(path);
      if (typeof v === 'string') {
        this.strings.push(path);
        if (v.includes('\n')) this.texts.push(path);
        const key = path[path.length - 1];
        if (typeof key === 'string' && nameKeys.has(key)) this.names.set(v, [...(this.names.get(v) ?? []), path]);
      }
      if (v === null || typeof v !== 'object') continue;
      if (Array.isArray(v)) {
        if (v.length) this.lists.push(path);
        v.forEach((x, i) => stack.push([x, [...path, i]]));
      } else {
        if (path.length > 0 && path.length < 6) this.shallowObjects.push(path);
        for (const [k, x] of Object.entries(v)) stack.push([x, [...path, k]]);
      }
    }
  }
}

/** The container holding `path`'s value; undefined once an earlier mutation (a null) cut the path. */
function parentOf(doc: Json, path: Path): Record<string | number, Json> | undefined {
  let cur: Json = doc;
  for (const k of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, Json>)[k];
  }
  return cur !== null && typeof cur === 'object' ? (cur as Record<string | number, Json>) : undefined;
}
const get = (doc: Json, path: Path): Json | undefined => parentOf(doc, path)?.[path[path.length - 1]];
const set = (doc: Json, path: Path, v: Json): void => {
  const parent = parentOf(doc, path);
  if (parent) parent[path[path.length - 1]] = v;
};

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

/** One mutation of the base (its text and its index), chosen and shaped by `r`. */
export function mutate(baseText: string, targets: Targets, r: () => number): Mutation {
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
    // Line-level, on the pretty-printed document: delete, duplicate or swap lines.
    const lines = JSON.stringify(JSON.parse(baseText), null, 1).split('\n');
    const at = Math.floor(r() * lines.length);
    const op = r();
    if (op < 0.33) lines.splice(at, 1);
    else if (op < 0.66) lines.splice(at, 0, lines[Math.floor(r() * lines.length)]);
    else [lines[at], lines[(at + 1) % lines.length]] = [lines[(at + 1) % lines.length], lines[at]];
    return { kind, text: lines.join('\n') };
  }
  const doc = JSON.parse(baseText) as Json;
  const names = [...targets.names.keys()];
  let deep: string | undefined;
  const steps = kind === 'mix' ? 2 + Math.floor(r() * 4) : 1;
  for (let i = 0; i < steps; i++) {
    const k = kind === 'mix' ? pick(['name', 'string', 'null', 'dumpLine'] as const) : kind;
    if (k === 'name') {
      // A name (metadata, interface, nodeName, bridge master) made hostile everywhere it is used,
      // so references still hold and the name reaches the reports.
      const old = pick(names);
      const hostile = `${old}${pick(hostileNames)}`;
      for (const path of targets.names.get(old)!) set(doc, path, hostile);
    } else if (k === 'string') {
      set(doc, pick(targets.strings), pick(hostileNames));
    } else if (k === 'null') {
      // Any field, required or optional, in any object or list.
      set(doc, pick(targets.all), null);
    } else if (k === 'huge') {
      // A list grown 20 to 120 times (pods, routes, addresses, rules…).
      const path = pick(targets.lists);
      const list = get(doc, path);
      if (!Array.isArray(list)) continue;
      const times = 20 + Math.floor(r() * 100);
      set(doc, path, Array.from({ length: list.length * times }, (_, j) => list[j % list.length]));
    } else if (k === 'deep') {
      // Deep nesting in an object near the top (a pod spec, a dump), up to far past the depth limit.
      set(doc, [...pick(targets.shallowObjects), 'deep'], deepMark);
      deep = nested(Math.floor(r() < 0.5 ? r() * 300 : r() * 20000), pick(hostileNames));
    } else if (k === 'dumpLine') {
      // A line of a tool's text output deleted, repeated or made hostile.
      const path = pick(targets.texts);
      const text = get(doc, path);
      if (typeof text !== 'string') continue;
      const lines = text.split('\n');
      const at = Math.floor(r() * lines.length);
      const op = r();
      if (op < 0.3) lines.splice(at, 1);
      else if (op < 0.6) lines.splice(at, 0, ...Array.from({ length: 1 + Math.floor(r() * 50) }, () => lines[at]));
      else lines[at] = `${lines[at]}${pick(hostileNames)}`;
      set(doc, path, lines.join('\n'));
    }
  }
  const text = JSON.stringify(doc);
  return { kind, text: deep === undefined ? text : text.replace(JSON.stringify(deepMark), deep) };
}

export interface Outcome {
  ok: number;
  rejected: number;
  diagnoses: number;
  /** Diagnoses that ended in a typed error (e.g. the request's pod was renamed away). */
  refused: number;
  slowestMs: number;
  slowestCase: string;
}

function typedOnly(e: unknown, what: string): void {
  assert.ok(e instanceof NetpathError && !(e instanceof InternalError), `${what} threw ${e instanceof Error ? e.stack : String(e)}`);
  assert.doesNotMatch(e.message, rawControl, `${what}: raw control character in the error message`);
}

/** Runs `text` through load → diagnose (one of `requests`) → every report; asserts the contract and times it all. */
export function check(text: string, requests: FuzzRequest[], what: string, r: () => number, out: Outcome): void {
  const started = performance.now();
  try {
    runCase(text, requests, what, r, out);
  } finally {
    const ms = performance.now() - started;
    if (ms > out.slowestMs) {
      out.slowestMs = ms;
      out.slowestCase = what;
    }
  }
}

function runCase(text: string, requests: FuzzRequest[], what: string, r: () => number, out: Outcome): void {
  let s;
  try {
    s = loadSnapshot(text);
  } catch (e) {
    typedOnly(e, `${what}: loading`);
    out.rejected++;
    return;
  }
  out.ok++;
  const request = requests[Math.floor(r() * requests.length)];
  let result;
  try {
    result = new Network(snapshotPort(s), createContext({ origin: 'snapshot', values: s.settings })).diagnose(request);
  } catch (e) {
    typedOnly(e, `${what}: diagnose ${request.src} -> ${request.dst}`);
    out.refused++;
    return;
  }
  out.diagnoses++;
  const { text: report, findings } = formatTextWithFindings(result);
  assert.doesNotMatch(report, rawControl, `${what}: raw control character in the text report`);
  // A name can never add a line: every finding and evidence line is where the findings say.
  const lines = report.split('\n');
  for (const f of findings) {
    assert.match(lines[f.line], /^ {2}\[(FATAL|CRITICAL|WARNING|INFO)\] /, `${what}: finding line ${f.line} moved`);
    for (const l of f.evidenceLines) assert.match(lines[l], /^ {6}/, `${what}: evidence line ${l} moved`);
  }
  for (const json of [formatJson(result), formatSkoopJson(result)]) {
    assert.doesNotMatch(json, rawControl, `${what}: raw control character in a JSON report`);
    JSON.parse(json);
  }
}
