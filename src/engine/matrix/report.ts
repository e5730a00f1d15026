// The matrix as the CLI prints it, in chunks (a million cells do not fit one string comfortably):
// JSON `{ request, pods, ports, cells: [{ src, dst, port, protocol, verdict, checks }] }` in the
// matrix's deterministic order (policy-only cells add `policies`), CSV with the same columns, and
// a compact text table per namespace pair for a terminal.
import type { Matrix } from './matrix';
import { printable } from '../diff/printable';

const CHUNK = 20000;

export function* matrixJson(m: Matrix): Generator<string> {
  const request = { namespaces: m.request.scope.namespaces ?? 'all', ports: m.request.scope.ports ?? 'declared', policyOnly: m.request.policyOnly };
  yield `{\n  "request": ${JSON.stringify(request)},\n  "pods": ${JSON.stringify(m.pods)},\n  "ports": ${JSON.stringify(m.ports)},\n  "left": ${JSON.stringify(m.left)},\n  "cells": [`;
  // Each distinct result is serialised once; cells only join strings.
  const tails = m.results.map((r) => `,"verdict":${JSON.stringify(r.verdict)},"checks":${JSON.stringify(r.checks)}${r.policies ? `,"policies":${JSON.stringify(r.policies)}` : ''}}`);
  const pods = m.pods.map((p) => JSON.stringify(p));
  const ports = m.ports.map((p) => `,"port":${p.port},"protocol":"${p.protocol}"`);
  let buf: string[] = [];
  for (let i = 0; i < m.cells.length; i++) {
    buf.push(`${i ? ',' : ''}\n    {"src":${pods[m.cells.src[i]]},"dst":${pods[m.cells.dst[i]]}${ports[m.cells.port[i]]}${tails[m.cells.result[i]]}`);
    if (buf.length >= CHUNK) {
      yield buf.join('');
      buf = [];
    }
  }
  yield `${buf.join('')}\n  ]\n}\n`;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) || /^[=+\-@\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function* matrixCsv(m: Matrix): Generator<string> {
  yield `src,dst,port,protocol,verdict,checks${m.request.policyOnly ? ',policies' : ''}\n`;
  const tails = m.results.map((r) => `,${r.verdict},${csvField(r.checks.join(' '))}${r.policies ? `,${csvField(r.policies.join(' '))}` : ''}\n`);
  const pods = m.pods.map(csvField);
  const ports = m.ports.map((p) => `,${p.port},${p.protocol}`);
  let buf: string[] = [];
  for (let i = 0; i < m.cells.length; i++) {
    buf.push(`${pods[m.cells.src[i]]},${pods[m.cells.dst[i]]}${ports[m.cells.port[i]]}${tails[m.cells.result[i]]}`);
    if (buf.length >= CHUNK) {
      yield buf.join('');
      buf = [];
    }
  }
  yield buf.join('');
}

const mark: Record<string, string> = { reachable: 'ok', allowed: 'ok', unreachable: 'X', denied: 'X', unknown: '?' };

/** Text: per source namespace → destination namespace, one row per source, one column per destination:port. */
export function* matrixText(m: Matrix): Generator<string> {
  const pol = m.request.policyOnly;
  yield `netpath matrix: ${m.pods.length} pods, ${m.ports.length} port(s), ${m.cells.length} cells (${pol ? 'NetworkPolicies only' : 'datapath + NetworkPolicies'}); ok = ${pol ? 'allowed' : 'reachable'}, X = ${pol ? 'denied' : 'unreachable'}, ? = unknown\n`;
  yield `classes: ${m.stats.policyClasses} policy class(es), ${m.stats.policyEvaluations} policy evaluation(s)${pol ? '' : `, ${m.stats.shapes} node-path shape(s), ${m.stats.diagnoses} diagnosis(es)`}\n`;
  for (const l of m.left) yield `left out: ${printable(l.pod)}: ${l.reason}\n`;
  const nsOf = (p: number) => m.pods[p].split('/')[0];
  // Group cells by (source namespace, destination namespace); cells are in src, dst, port order.
  const groups = new Map<string, number[]>();
  for (let i = 0; i < m.cells.length; i++) {
    const key = `${nsOf(m.cells.src[i])}\u0000${nsOf(m.cells.dst[i])}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  for (const [key, cells] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [sns, dns] = key.split('\u0000');
    const cols = [...new Set(cells.map((i) => `${m.cells.dst[i]}:${m.cells.port[i]}`))];
    const colName = (c: string) => { const [d, p] = c.split(':').map(Number); return `${m.pods[d].split('/')[1]}:${m.ports[p].port}${m.ports[p].protocol === 'tcp' ? '' : `/${m.ports[p].protocol}`}`; };
    const rows = [...new Set(cells.map((i) => m.cells.src[i]))];
    const at = new Map(cells.map((i) => [`${m.cells.src[i]}|${m.cells.dst[i]}:${m.cells.port[i]}`, m.results[m.cells.result[i]]]));
    const width = Math.max(...rows.map((r) => m.pods[r].split('/')[1].length), 4);
    const lines = [`\n${printable(sns)} -> ${printable(dns)}`, `  ${''.padEnd(width)}  ${cols.map((c) => printable(colName(c))).join('  ')}`];
    for (const r of rows) {
      lines.push(`  ${printable(m.pods[r].split('/')[1]).padEnd(width)}  ${cols.map((c) => { const x = at.get(`${r}|${c}`); return (x ? mark[x.verdict] ?? '?' : '-').padEnd(printable(colName(c)).length); }).join('  ')}`.trimEnd());
    }
    yield `${lines.join('\n')}\n`;
  }
}
