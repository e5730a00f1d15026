// `--format json` (CLI contract): one document, levels as upper-case names, deterministic order
// (the result's own breadth-first order; keys in a fixed order), so the same snapshot and request
// give byte-identical output.
import type { Link } from '../model/link';
import type { Packet } from '../model/packet';
import type { DiagnosisResult } from '../model/result';
import { levelName, type Suspicion } from '../model/suspicion';
import { jsonShown } from '../../shared/display';

function suspicion(s: Suspicion) {
  return { level: levelName(s.level), message: s.message, check: s.check, evidence: s.evidence.map((e) => ({ kind: e.kind, text: e.text, ...(e.where ? { where: e.where } : {}) })) };
}

function packet(p: Packet): Record<string, unknown> {
  const out: Record<string, unknown> = { protocol: p.protocol, src: p.src, sport: p.sport, dst: p.dst, dport: p.dport };
  if (p.mark) out.mark = p.mark;
  if (p.vni !== undefined) out.vni = p.vni;
  if (p.encap) out.encap = packet(p.encap);
  return out;
}

function sorted(attrs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(attrs).sort().map((k) => [k, attrs[k]]));
}

export function toJson(r: DiagnosisResult): unknown {
  // The action each link led to at its destination (skoop's empty `action`, filled).
  const actionOf = new Map<string, string>();
  for (const n of r.nodes) for (const a of n.actions) if (a.input) actionOf.set(a.input, a.type);
  return {
    request: { src: r.request.src, dst: r.request.dst, port: r.request.port, protocol: r.request.protocol, ...(r.request.family ? { family: r.request.family } : {}) },
    source: r.source,
    destination: r.destination,
    verdict: r.verdict,
    nodes: r.nodes.map((n) => ({
      id: n.id,
      type: n.type,
      description: n.description,
      examined: n.examined,
      actions: n.actions.map((a) => ({ type: a.type, ...(a.input ? { input: a.input } : {}), outputs: a.outputs })),
      suspicions: n.suspicions.map(suspicion),
    })),
    links: r.links.map((l: Link) => ({
      id: l.id,
      type: l.type,
      source: l.source,
      destination: l.destination,
      sourceAttributes: sorted(l.sourceAttributes),
      destinationAttributes: sorted(l.destinationAttributes),
      packet: packet(l.packet),
      action: actionOf.get(l.id) ?? '',
    })),
    clusterSuspicions: r.clusterSuspicions.map(suspicion),
    // Cluster nodes on the path whose stack was not looked at, and why (the verdict is then not `reachable`).
    unexamined: r.unexamined.map((u) => ({ node: u.node, reason: u.reason })),
  };
}

export function formatJson(r: DiagnosisResult): string {
  // Names stay JSON strings with the same value; bidi and C1 controls are written as \u escapes
  // too (JSON.stringify leaves them raw), so no terminal or editor showing the document is misled.
  return `${jsonShown(JSON.stringify(toJson(r), null, 2))}\n`;
}
