// The pickers of "Diagnose Connectivity…": source, destination, address family (only when both
// ends have both), port, protocol. Recent choices come first; the lists come from the source
// (netpath/listEndpoints); typing anything that is not in the list (an IP, `ns/pod`) is always
// accepted as typed. Namespaces filter by typing `ns/`.
import * as vscode from 'vscode';
import { isClusterSpec, ListEndpointsRequest, type ListEndpointsResult, type PortInfo, type SourceSpec } from '../shared/protocol';
import type { Ctx, PickerShown } from './ctx';
import { addressesOf, familyChoice, familyOrder } from './families';
import { familyItem, nodeItem, pickerText, podItem, portItem, protocolItem, protocols, recentItem, serviceItem, typedItem, type PickedProtocol } from './labels';

interface Item extends vscode.QuickPickItem {
  value?: string;
  port?: PortInfo;
}

/** One QuickPick; resolves to the chosen value, the typed text, or undefined when dismissed. */
function pick(ctx: Ctx, step: PickerShown['step'], title: string, placeholder: string, items: Item[], opts: { typed?: (v: string) => string | undefined; value?: string } = {}): Promise<string | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = title;
    qp.placeholder = placeholder;
    qp.items = items;
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    qp.ignoreFocusOut = true;
    if (opts.value) qp.value = opts.value;
    let done = false;
    const finish = (v: string | undefined) => {
      if (done) return;
      done = true;
      resolve(v);
      qp.dispose();
    };
    // What was typed is offered as the first item, so Enter takes it even when nothing matches.
    const refresh = () => {
      const v = qp.value.trim();
      const problem = v && opts.typed ? opts.typed(v) : undefined;
      const exact = items.some((i) => i.value === v);
      const typed: Item[] = !v || exact ? [] : [{ ...typedItem(v, problem), alwaysShow: true }];
      qp.items = [...typed, ...items];
    };
    qp.onDidChangeValue(refresh);
    qp.onDidAccept(() => {
      const chosen = qp.selectedItems[0] ?? qp.activeItems[0];
      if (chosen?.value !== undefined) return finish(chosen.value);
      const typed = qp.value.trim();
      if (typed && !(opts.typed && opts.typed(typed))) finish(typed);
    });
    qp.onDidHide(() => finish(undefined));
    refresh();
    qp.show();
    ctx.firePickerShown({ step, quickPick: qp as vscode.QuickPick<vscode.QuickPickItem> });
  });
}

function sep(label: string): Item {
  return { label, kind: vscode.QuickPickItemKind.Separator };
}

function recentItems(values: string[]): Item[] {
  return values.length ? [sep('recent'), ...values.map((v) => ({ ...recentItem(v), iconPath: new vscode.ThemeIcon('history') }))] : [];
}

function endpointItems(eps: ListEndpointsResult, services: boolean, recent: string[]): Item[] {
  const out: Item[] = [];
  const pods = eps.pods.filter((p) => !recent.includes(`${p.namespace}/${p.name}`));
  if (pods.length) out.push(sep('pods'));
  for (const p of pods) out.push({ ...podItem(p), iconPath: new vscode.ThemeIcon('package') });
  if (services) {
    const svcs = eps.services.filter((s) => !recent.includes(`svc/${s.namespace}/${s.name}`));
    if (svcs.length) out.push(sep('services'));
    for (const s of svcs) out.push({ ...serviceItem(s), iconPath: new vscode.ThemeIcon('plug') });
  }
  const nodes = eps.nodes.filter((n) => !recent.includes(`node/${n.name}`));
  if (nodes.length) out.push(sep('nodes'));
  for (const n of nodes) out.push({ ...nodeItem(n), iconPath: new vscode.ThemeIcon('server') });
  return out;
}

/** Ports of what the destination names (service ports, or the pod's container ports), by name or IP. */
export function portsOf(eps: ListEndpointsResult, dst: string): PortInfo[] {
  const svc = /^svc\/([^/]+)\/([^/]+)$/.exec(dst);
  if (svc) return eps.services.find((s) => s.namespace === svc[1] && s.name === svc[2])?.ports ?? [];
  const pod = /^([^/]+)\/([^/]+)$/.exec(dst);
  if (pod && !dst.startsWith('node/')) return eps.pods.find((p) => p.namespace === pod[1] && p.name === pod[2])?.ports ?? [];
  const bySvcIP = eps.services.find((s) => s.clusterIPs.includes(dst));
  if (bySvcIP) return bySvcIP.ports;
  return eps.pods.find((p) => p.ips.includes(dst))?.ports ?? [];
}

const portProblem = (v: string) => (/^\d+$/.test(v) && +v >= 1 && +v <= 65535 ? undefined : 'a port is a number from 1 to 65535');

/** The source's pods, services and nodes; a live cluster's are read with a progress notification (it takes a moment). */
function endpointsOf(ctx: Ctx, source: SourceSpec): Promise<ListEndpointsResult | undefined> {
  if (isClusterSpec(source)) return ctx.sourceRequest(ListEndpointsRequest, { source }, `Network Path: reading ${ctx.sourceLabel(source)}`);
  return ctx.server.quiet(ListEndpointsRequest, { source, limits: ctx.settings.limits });
}

export interface Choice {
  src: string;
  dst: string;
  port: number;
  protocol: PickedProtocol;
  /** Only when the family step was answered; otherwise the server applies the CLI's default. */
  family?: 4 | 6;
}

/** The family step: the families both ends share, the last choice (else the CLI's default) first. */
function pickFamily(ctx: Ctx, eps: ListEndpointsResult, src: string, dst: string, title: string): Promise<string | undefined> {
  const choice = familyChoice(eps, src, dst);
  const items: Item[] = familyOrder(choice, ctx.recent('family')[0]).map((f) => familyItem(f, addressesOf(eps, src, f), addressesOf(eps, dst, f), f === choice.default));
  return pick(ctx, 'family', title, 'Address family: both ends have IPv4 and IPv6 addresses', items, { typed: () => 'choose IPv4 or IPv6' });
}

/** The protocol step: the protocol the destination lists for the port first, else the last one chosen, else tcp. */
function protocolItems(ctx: Ctx, known: PortInfo | undefined): Item[] {
  const listed = known?.protocol.toLowerCase();
  const first = listed ?? ctx.recent('protocol')[0] ?? 'tcp';
  return [...protocols].sort((x, y) => Number(y === first) - Number(x === first)).map((p) => protocolItem(p, p === listed));
}

const protocolProblem = (v: string) => ((protocols as readonly string[]).includes(v) ? undefined : 'tcp, udp or sctp');

/** Whether the source lists any end with both families: then the family step may come (counted in the titles). */
function dualStack(eps: ListEndpointsResult): boolean {
  return [...eps.pods, ...eps.services, ...eps.nodes].some((e) => e.families.length === 2);
}

/** Walks the pickers; `preset` skips the ones already answered (explorer menus, Set as Source). */
export async function pickRequest(ctx: Ctx, source: SourceSpec, preset: Partial<Pick<Choice, 'src' | 'dst'>> = {}): Promise<Choice | undefined> {
  const eps = await endpointsOf(ctx, source);
  if (!eps) return undefined;
  // The family step is counted from the start when it may come; once both ends are known and it
  // does not (a single-stack pair, an IP typed), the count drops it.
  const mayAskFamily = preset.src && preset.dst ? familyChoice(eps, preset.src, preset.dst).ask : dualStack(eps);
  let total = (preset.src ? (preset.dst ? 2 : 3) : 4) + (mayAskFamily ? 1 : 0);
  let n = 0;
  const title = (what: string) => `Diagnose Connectivity (${++n}/${total}): ${what}`;

  let src = preset.src;
  if (!src) {
    const recent = ctx.recent('source');
    src = await pick(ctx, 'source', title('source'), 'Source pod, node or IP (type ns/ to filter a namespace)', [...recentItems(recent), ...endpointItems(eps, false, recent)]);
    if (!src) return undefined;
  }
  let dst = preset.dst;
  if (!dst) {
    const recent = ctx.recent('destination');
    dst = await pick(ctx, 'destination', title(`destination from ${pickerText(src)}`), 'Destination pod, service, node or IP', [...recentItems(recent), ...endpointItems(eps, true, recent)]);
    if (!dst) return undefined;
  }
  const askFamily = familyChoice(eps, src, dst).ask;
  if (mayAskFamily && !askFamily) total--;
  let family: string | undefined;
  if (askFamily) {
    family = await pickFamily(ctx, eps, src, dst, title(`address family from ${pickerText(src)} to ${pickerText(dst)}`));
    if (!family) return undefined;
  }
  const ports = portsOf(eps, dst);
  const portItems: Item[] = ports.map((p) => ({ ...portItem(p), port: p }));
  const recentPorts = ctx.recent('port').filter((p) => !ports.some((x) => String(x.port) === p));
  const shownDst = pickerText(dst);
  const portText = await pick(ctx, 'port', title(`port on ${shownDst}`), ports.length ? `Ports of ${shownDst} (or type one)` : 'Destination port', [...(portItems.length ? [sep(`ports of ${shownDst}`), ...portItems] : []), ...recentItems(recentPorts)], { typed: portProblem });
  if (!portText) return undefined;
  const port = Number(portText);
  const known = ports.find((p) => p.port === port);
  const protocol = await pick(ctx, 'protocol', title('protocol'), 'Protocol', protocolItems(ctx, known), { typed: protocolProblem });
  if (!protocol) return undefined;

  if (!preset.src) await ctx.remember('source', src);
  await ctx.remember('destination', dst);
  await ctx.remember('port', portText);
  await ctx.remember('protocol', protocol);
  if (family) await ctx.remember('family', family);
  return { src, dst, port, protocol: protocol as PickedProtocol, ...(family ? { family: Number(family) as 4 | 6 } : {}) };
}

/** One choice among fixed items (the cluster-or-snapshot picker); undefined when dismissed. */
export function pickOne(ctx: Ctx, step: PickerShown['step'], title: string, placeholder: string, items: { label: string; description?: string; detail?: string; value: string }[]): Promise<string | undefined> {
  // Typed text is never a valid answer here.
  return pick(ctx, step, title, placeholder, items, { typed: () => 'choose one of the items' });
}

/** Only the source picker (Set as Connectivity Source from the palette). */
export async function pickSource(ctx: Ctx, source: SourceSpec): Promise<string | undefined> {
  const eps = await endpointsOf(ctx, source);
  if (!eps) return undefined;
  const recent = ctx.recent('source');
  return pick(ctx, 'source', 'Set as Connectivity Source', 'Source pod, node or IP', [...recentItems(recent), ...endpointItems(eps, false, recent)]);
}

/** Picks a snapshot file (the dialog) — the source of every diagnosis until live clusters land. */
export async function pickSnapshotFile(): Promise<vscode.Uri | undefined> {
  const uris = await vscode.window.showOpenDialog({
    title: 'Open a Network Path snapshot',
    canSelectMany: false,
    openLabel: 'Use Snapshot',
    filters: { 'Network Path snapshot': ['json'] },
  });
  return uris?.[0];
}
