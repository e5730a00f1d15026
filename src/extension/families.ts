// The address-family step of the pickers: which families both chosen ends share, and which one
// the CLI's `--family` rule would take. Pure (no `vscode`) so that unit tests check it. The
// families of a listed end come from the server (netpath/listEndpoints), which asks the engine's
// resolution, so the picker offers exactly what a diagnosis accepts.
import type { ListEndpointsResult } from '../shared/protocol';

type Family = 4 | 6;

/**
 * The family of what was typed as an IP: the server reads text without `/` as an address
 * (names are `ns/pod`, `svc/ns/name`, `node/name`), IPv6 when it has a `:`. No parser here: the
 * extension bundle carries no engine code, and the server says when the text is not an address.
 */
function typedFamily(value: string): Family | undefined {
  const v = value.trim();
  if (!v || v.includes('/')) return undefined;
  return v.includes(':') ? 6 : /^[\d.]+$/.test(v) ? 4 : undefined;
}

/** A listed end as the family step needs it: its families and its addresses. */
interface ListedEnd {
  families: Family[];
  ips: string[];
}

function listedEnd(eps: ListEndpointsResult, value: string): ListedEnd | undefined {
  const svc = /^svc\/([^/]+)\/([^/]+)$/.exec(value);
  if (svc) {
    const s = eps.services.find((x) => x.namespace === svc[1] && x.name === svc[2]);
    return s && { families: s.families, ips: s.clusterIPs };
  }
  const two = /^([^/]+)\/([^/]+)$/.exec(value);
  if (!two) return undefined;
  // `node/x` is the node x when there is one, else a pod in a namespace called "node" (as resolution reads it).
  const node = two[1] === 'node' ? eps.nodes.find((n) => n.name === two[2]) : undefined;
  if (node) return { families: node.families, ips: node.addresses };
  const pod = eps.pods.find((p) => p.namespace === two[1] && p.name === two[2]);
  return pod && { families: pod.families, ips: pod.ips };
}

/**
 * The families an end can be diagnosed in: an IP typed has its own; a listed name has those the
 * server reported; a name not in the list is undefined (the server decides, as for the CLI).
 */
export function familiesOfEnd(eps: ListEndpointsResult, value: string): Family[] | undefined {
  const typed = typedFamily(value);
  return typed ? [typed] : listedEnd(eps, value)?.families;
}

/** The addresses of `value` in family `f` as listed (for the item's description), an IP typed included. */
export function addressesOf(eps: ListEndpointsResult, value: string, f: Family): string[] {
  const ips = typedFamily(value) ? [value.trim()] : listedEnd(eps, value)?.ips ?? [];
  return ips.filter((x) => typedFamily(x) === f);
}

/** What the family step does for a source and destination. */
export interface FamilyChoice {
  /** Families both ends have, IPv4 first; empty when either end is unknown. */
  shared: Family[];
  /** The CLI's choice without `--family`; undefined when an end is unknown (the server decides). */
  default?: Family;
  /** Asked only when there is a choice: both ends named (no IP typed) and both families shared. */
  ask: boolean;
}

export function familyChoice(eps: ListEndpointsResult, src: string, dst: string): FamilyChoice {
  const a = familiesOfEnd(eps, src);
  const b = familiesOfEnd(eps, dst);
  const typed = typedFamily(src) ?? typedFamily(dst);
  if (!a || !b) return { shared: [], ask: false, ...(typed ? { default: typed } : {}) };
  const shared = ([4, 6] as const).filter((f) => a.includes(f) && b.includes(f));
  // The family of an IP typed; for names IPv4 when both ends have it, else IPv6 (README, --family).
  const def = typed ?? (shared.includes(4) ? 4 : shared.includes(6) ? 6 : undefined);
  return { shared, ...(def ? { default: def } : {}), ask: typed === undefined && shared.length === 2 };
}

/**
 * The order the family step lists its choices in: the one chosen last time first when it is
 * offered (as the other steps put recent choices first), else the CLI's default first.
 */
export function familyOrder(choice: FamilyChoice, last: string | undefined): Family[] {
  const first = choice.shared.find((f) => String(f) === last) ?? choice.default;
  return [...choice.shared].sort((x, y) => Number(y === first) - Number(x === first));
}
