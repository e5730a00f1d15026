// What the extension shows of outside strings in VS Code's own widgets — the consent dialog, the
// quick picks and a run's request label — built without `vscode` so that unit tests can check
// them. Context, server, namespace, pod, node and image names come from a kubeconfig, a cluster or
// a snapshot: each piece goes through src/shared/display.ts where it is placed, so no name adds a
// line to the dialog, forms a link, or draws an icon in a picker. The values chosen stay as they are.
import type { DiagnosisRequest } from '../engine/model/result';
import type { ConsentDetails } from '../shared/errors';
import type { NodeEndpoint, PodEndpoint, PortInfo, ServiceEndpoint } from '../shared/protocol';
import { iconless, notice, shown } from '../shared/display';

/** A quick-pick item's text; `value` is what choosing it answers (raw: the name itself). */
export interface ItemText {
  label: string;
  description?: string;
  detail?: string;
  value?: string;
}

export const typedDetail = 'as typed: an IP, ns/pod, svc/ns/name or node/name';

export function podItem(p: PodEndpoint): ItemText {
  const id = `${p.namespace}/${p.name}`;
  return { label: iconless(id), value: id, description: iconless(p.ips.join(', ')), detail: iconless(`${p.node ? `on ${p.node}` : 'not scheduled'} · ${p.phase}${p.hostNetwork ? ' · hostNetwork' : ''}`) };
}

export function serviceItem(s: ServiceEndpoint): ItemText {
  const id = `svc/${s.namespace}/${s.name}`;
  return { label: iconless(id), value: id, description: iconless(s.clusterIPs.join(', ') || s.type), detail: iconless(s.ports.map((p) => `${p.port}/${p.protocol}`).join(', ')) };
}

export function nodeItem(n: NodeEndpoint): ItemText {
  const id = `node/${n.name}`;
  return { label: iconless(id), value: id, description: iconless(n.addresses.join(', ')) };
}

export function portItem(p: PortInfo): ItemText {
  return { label: String(p.port), value: String(p.port), description: iconless(`${p.protocol}${p.name ? ` · ${p.name}` : ''}`) };
}

/**
 * One address family of the family step: the addresses each end has in it (from the cluster,
 * escaped), and which one the command line would take without `--family`.
 */
export function familyItem(f: 4 | 6, src: string[], dst: string[], isDefault: boolean): ItemText {
  return {
    label: `IPv${f}`,
    value: String(f),
    description: isDefault ? `default · --family ${f}` : `--family ${f}`,
    detail: iconless(`${src.join(', ') || '?'} → ${dst.join(', ') || '?'}`),
  };
}

export const protocols = ['tcp', 'udp', 'sctp'] as const;
export type PickedProtocol = (typeof protocols)[number];

/** One protocol of the protocol step; `listed`: the destination lists the port chosen with this protocol. */
export function protocolItem(p: PickedProtocol, listed: boolean): ItemText {
  const item: ItemText = { label: p, value: p };
  if (listed) item.description = 'the port is listed with it';
  // The engine judges SCTP wherever it models it, and says where it cannot (e.g. no socket list for SCTP).
  if (p === 'sctp') item.detail = 'judged where modelled; where a dump cannot show SCTP, the report says so';
  return item;
}

/**
 * The request as one line for the run in the tree, titles and the status bar: `src → dst:port/protocol`,
 * with ` (IPv6)` when the request asked for IPv6 (IPv4, the default, is not said). Escaped: `src` may be a pasted name.
 */
export function requestLabel(r: DiagnosisRequest): string {
  return shown(`${r.src} → ${r.dst}:${r.port}/${r.protocol}${r.family === 6 ? ' (IPv6)' : ''}`);
}

/** A value chosen before (it was a name from a cluster or typed). */
export function recentItem(v: string): ItemText {
  return { label: iconless(v), value: v };
}

/** What was typed, first in the list: taken as is, or marked with why it cannot be. */
export function typedItem(v: string, problem?: string): ItemText {
  return problem ? { label: `$(error) ${iconless(v)}`, detail: iconless(problem) } : { label: iconless(v), detail: typedDetail, value: v };
}

/** A picker title or placeholder that names an earlier choice. */
export function pickerText(s: string): string {
  return iconless(s);
}

/** One outside string in the modal dialog: one line, escaped visibly, no link. */
function inDialog(s: string): string {
  return notice(shown(s));
}

/** The consent dialog's text: what will be created and the privileges it runs with. */
export function consentMessage(d: ConsentDetails): { message: string; detail: string } {
  const where = d.context ? `${inDialog(d.context)}${d.server ? ` (${inDialog(d.server)})` : ''}` : d.server ? inDialog(d.server) : 'this cluster';
  const image = inDialog(d.image);
  return {
    message: `Network Path has not run in ${where} before. To read the nodes' network stacks it will create a namespace and privileged collector pods.`,
    detail: [
      `Namespace: ${inDialog(d.namespace)} (labels ${Object.entries(d.namespaceLabels).map(([k, v]) => inDialog(`${k}=${v}`)).join(', ')})`,
      `Pods: ${inDialog(d.pod)}`,
      'Privileges:',
      ...d.privileges.map((p) => `  • ${inDialog(p)}`),
      `Your permissions needed: ${d.permissions.map(inDialog).join('; ')}`,
      d.imagePinned === false
        ? `Image: ${image} (not pinned by digest: your answer is not remembered)`
        : `Image: ${image}. Your answer is remembered for this cluster, namespace and image.`,
    ].join('\n'),
  };
}
