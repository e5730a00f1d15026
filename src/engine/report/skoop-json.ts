// KubeSkoop's `--format json` shape (reference §9.4), so consumers of skoop output can switch:
// integer levels, `cluster.suspicions`, nodes with `actions` keyed by incoming link id (`""` for
// the node's own send), links with skoop's id form and `source_attributes`. Differences on
// purpose: `action` is filled (skoop left it empty) and encapsulated packets are shown.
import type { Link } from '../model/link';
import type { DiagnosisResult } from '../model/result';
import type { Suspicion } from '../model/suspicion';
import { jsonShown } from '../../shared/display';

function suspicions(list: Suspicion[]) {
  return list.map((s) => ({ level: s.level as number, message: s.message }));
}

function skoopLinkId(l: Link): string {
  return `${l.type},${l.source},${l.destination},${l.packet.dst}:${l.packet.dport}`;
}

export function toSkoopJson(r: DiagnosisResult): unknown {
  const ids = new Map(r.links.map((l) => [l.id, skoopLinkId(l)]));
  const actionOf = new Map<string, string>();
  for (const n of r.nodes) for (const a of n.actions) if (a.input) actionOf.set(a.input, a.type);
  return {
    cluster: { suspicions: suspicions(r.clusterSuspicions) },
    nodes: r.nodes.map((n) => ({
      id: n.id,
      type: n.type,
      suspicions: n.suspicions.length ? suspicions(n.suspicions) : null,
      actions: Object.fromEntries(n.actions.map((a) => [a.input ? ids.get(a.input) ?? a.input : '', { type: a.type }])),
    })),
    links: r.links.length
      ? r.links.map((l) => ({
        id: ids.get(l.id),
        source: l.source,
        source_attributes: Object.keys(l.sourceAttributes).length ? { ...l.sourceAttributes } : null,
        destination: l.destination,
        destination_attributes: Object.keys(l.destinationAttributes).length ? { ...l.destinationAttributes } : null,
        type: l.type,
        action: actionOf.get(l.id) ?? '',
        packet: { source: l.packet.src, destination: l.packet.dst, dport: l.packet.dport, protocol: l.packet.protocol },
      }))
      : null,
  };
}

export function formatSkoopJson(r: DiagnosisResult): string {
  // Names stay JSON strings with the same value; bidi and C1 controls are written as \u escapes
  // too (JSON.stringify leaves them raw), so no terminal or editor showing the document is misled.
  return `${jsonShown(JSON.stringify(toSkoopJson(r), null, 2))}\n`;
}
