// One network namespace's state as comparable entries: each area (interfaces, routes, iptables
// chains, …) becomes a map from an entry's identity to its text as the tool prints it, with what
// changes between two captures of an unchanged system left out — packet and byte counters,
// timers, the `iptables-save` date line, nft handles, learned (dynamic) neighbour and FDB
// entries, IPv6 link-local addresses, the conntrack count. The texts are the ones the engine's
// evidence uses (formatRoute, formatRule, `-A …` lines), so a difference can be matched to what
// a diagnosis consulted.
import type { JsonValue, NetNSInfo } from '../../shared/dump';
import { parseRoutes, parseRules, formatRoute, formatRule } from '../netstack/routes';
import { ParseError } from '../netstack/parse-error';
import { parseNftRuleset } from '../netstack/nftables/model';

/** Devices of base chains that the JSON leaves out and the text listing names, by `family table chain`. */
function textDevices(info: NetNSInfo): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (info.nftablesText === undefined || info.nftables === undefined) return out;
  for (const t of parseNftRuleset(info.nftables, info.nftablesText).tables) {
    for (const c of t.chains.values()) if (c.base?.devices.length) out.set(`${t.family} ${t.name} ${c.name}`, c.base.devices);
  }
  return out;
}

export type StackArea =
  | 'interfaces' | 'addresses' | 'routes' | 'rules' | 'neighbours' | 'fdb' | 'iptables' | 'ip6tables'
  | 'nftables' | 'ipsets' | 'ipvs' | 'sysctls' | 'sockets';

export const stackAreas: readonly StackArea[] = ['interfaces', 'addresses', 'routes', 'rules', 'neighbours', 'fdb', 'iptables', 'ip6tables', 'nftables', 'ipsets', 'ipvs', 'sysctls', 'sockets'];

/** Identity → text. Entries whose identity is their text (a rule line) map to themselves. */
export type Entries = Map<string, string>;

/** Which raw fields feed an area (to skip an area whose fields are byte-identical). */
export const areaFields: Record<StackArea, (keyof NetNSInfo)[]> = {
  interfaces: ['links'], addresses: ['addresses'], routes: ['routes', 'routes6'], rules: ['rules', 'rules6'],
  neighbours: ['neighbours', 'neighbours6', 'neighbours6Proxy'], fdb: ['fdb'], iptables: ['iptables'], ip6tables: ['ip6tables'], nftables: ['nftables', 'nftablesText'],
  ipsets: ['ipsets'], ipvs: ['ipvs'], sysctls: ['sysctls'], sockets: ['sockets', 'procNet'],
};

type Obj = { [k: string]: JsonValue };
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]).filter((x) => x && typeof x === 'object') : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

export function entriesOf(info: NetNSInfo, area: StackArea): Entries {
  const out: Entries = new Map();
  switch (area) {
    case 'interfaces':
      for (const l of arr(info.links)) {
        const name = str(l.ifname);
        if (!name) continue;
        const li = (l.linkinfo ?? {}) as Obj;
        const kind = str(li.info_kind);
        const data = (li.info_data ?? {}) as Obj;
        const vx = kind === 'vxlan' ? ` id ${str(data.id)} local ${str(data.local)} dev ${str(data.link)} port ${str(data.port)}` : '';
        const flags = Array.isArray(l.flags) ? (l.flags as string[]).join(',') : '';
        out.set(name, `${name}: <${flags}> mtu ${str(l.mtu)} state ${str(l.operstate)}${l.master ? ` master ${str(l.master)}` : ''}${kind ? ` ${kind}${vx}` : ''}`);
      }
      break;
    case 'addresses':
      for (const l of arr(info.addresses)) {
        for (const a of arr(l.addr_info)) {
          const local = str(a.local);
          if (!local || /^fe80:/i.test(local)) continue;
          const t = `${str(l.ifname)} ${local}/${str(a.prefixlen)}`;
          out.set(t, t);
        }
      }
      break;
    case 'routes':
      for (const [f, raw] of [[4, info.routes], [6, info.routes6]] as const) {
        for (const r of safe(() => parseRoutes(raw ?? [], { family: f }))) {
          const text = formatRoute(r);
          // Link-local routes follow the interfaces' (random) link-local addresses.
          if (r.family === 6 && /(^|\s)fe80:/i.test(text)) continue;
          const t = `table ${r.table.name}: ${text}`;
          out.set(t, t);
        }
      }
      break;
    case 'rules':
      for (const [f, raw] of [[4, info.rules], [6, info.rules6]] as const) {
        for (const r of safe(() => parseRules(raw ?? [], { family: f }))) {
          const t = `ipv${f} ${formatRule(r)}`;
          out.set(t, t);
        }
      }
      break;
    case 'neighbours':
      // Learned entries come and go with traffic; what is configured (PERMANENT, NOARP) stays.
      for (const n of [...arr(info.neighbours), ...arr(info.neighbours6)]) {
        const states = Array.isArray(n.state) ? (n.state as string[]) : [];
        if (!states.some((s) => s === 'PERMANENT' || s === 'NOARP')) continue;
        out.set(`${str(n.dst)} dev ${str(n.dev)}`, `${str(n.dst)} dev ${str(n.dev)}${n.lladdr ? ` lladdr ${str(n.lladdr)}` : ''} ${states.join(' ')}`);
      }
      // Proxy NDP entries are configuration by nature (`ip -6 neigh add proxy`).
      for (const n of arr(info.neighbours6Proxy)) out.set(`proxy ${str(n.dst)} dev ${str(n.dev)}`, `proxy ${str(n.dst)} dev ${str(n.dev)}`);
      break;
    case 'fdb':
      // Learned MACs and the multicast entries the kernel adds for each address are not configuration.
      for (const e of arr(info.fdb)) {
        const mac = str(e.mac);
        const state = str(e.state);
        if (state !== 'permanent' && state !== 'static') continue;
        if (/^[0-9a-f][13579bdf]:/i.test(mac)) continue;
        const key = `${mac} dev ${str(e.ifname)}${e.dst ? ` dst ${str(e.dst)}` : ''}${e.vlan !== undefined ? ` vlan ${str(e.vlan)}` : ''}`;
        out.set(key, `${key}${e.master ? ` master ${str(e.master)}` : ''}${Array.isArray(e.flags) ? ` ${(e.flags as string[]).join(' ')}` : ''} ${state}`);
      }
      break;
    case 'iptables':
    case 'ip6tables': {
      const saved = info[area];
      for (const backend of ['legacy', 'nft'] as const) {
        const text = saved?.[backend];
        if (text === undefined) continue;
        let table = '';
        for (const raw of text.split('\n')) {
          const line = raw.replace(/^\[\d+:\d+\]\s+/, '').trimEnd();
          if (line.startsWith('*')) table = line.slice(1);
          else if (line.startsWith(':')) {
            const [chain, policy] = line.slice(1).split(/\s+/);
            const t = `:${chain} ${policy}`;
            out.set(`${backend} ${table}/${chain} policy`, t);
          } else if (line.startsWith('-A ')) {
            const chain = line.split(/\s+/)[1];
            const clean = line.replace(/\s+-c\s+\d+\s+\d+/, '');
            const key = `${backend} ${table}/${chain} ${clean}`;
            // The same rule twice in a chain is two rules.
            let k = key;
            for (let n = 2; out.has(k); n++) k = `${key} (#${n})`;
            out.set(k, clean);
          }
        }
      }
      break;
    }
    case 'nftables': {
      const list = (info.nftables as Obj | undefined)?.nftables;
      const fromText = textDevices(info);
      for (const item of arr(list)) {
        const [type] = Object.keys(item);
        if (type === 'metainfo') continue;
        const body = { ...(item[type] as Obj) };
        delete body.handle;
        // A netdev chain's device, when only the `nft list ruleset` text names it (nft -j leaves it out): moving the chain to another device is a change.
        if (type === 'chain' && body.hook !== undefined && body.dev === undefined && body.devices === undefined) {
          const d = fromText.get(`${String(body.family)} ${String(body.table)} ${String(body.name)}`);
          if (d?.length) body.devices = d.length === 1 ? d[0] : d;
        }
        const t = `${type} ${JSON.stringify(withoutCounters(body))}`;
        let k = t;
        for (let n = 2; out.has(k); n++) k = `${t} (#${n})`;
        out.set(k, t);
      }
      break;
    }
    case 'ipsets':
    case 'ipvs':
      for (const line of (info[area] ?? '').split('\n')) {
        const t = line.trim();
        if (t) out.set(t, t);
      }
      break;
    case 'sysctls':
      for (const [k, v] of Object.entries(info.sysctls ?? {})) {
        if (/nf_conntrack_count$/.test(k)) continue;
        out.set(k, `${k} = ${v}`);
      }
      break;
    case 'sockets':
      // `ss -Htuln`: protocol, state and local address; queue sizes change with load.
      for (const line of (info.sockets ?? '').split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f.length < 5) continue;
        const t = `${f[0]} ${f[1]} ${f[4]}`;
        out.set(t, t);
      }
      break;
  }
  return out;
}

function safe<T>(f: () => T[]): T[] {
  try {
    return f();
  } catch (e) {
    if (e instanceof ParseError) return [];
    throw e;
  }
}

function withoutCounters(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(withoutCounters);
  if (v && typeof v === 'object') {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'counter' && x && typeof x === 'object') out[k] = {};
      else out[k] = withoutCounters(x);
    }
    return out;
  }
  return v;
}
