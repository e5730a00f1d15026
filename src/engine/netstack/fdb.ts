// Forwarding databases from `bridge -j fdb`: the bridge's MAC → port table and the VXLAN
// devices' MAC → remote VTEP table (what flanneld/calico write per remote node), with the
// kernel's lookup rules for each.
import { parseIP } from './ip';
import { type ElementReader, parseJsonArray } from './iproute-json';

const SOURCE = 'bridge -j fdb';

export interface FdbEntry {
  /** Lower-case MAC. `00:00:00:00:00:00` on a VXLAN device is the default (flood) entry. */
  mac: string;
  /** The device the entry is on (`ifname`): a bridge port, the bridge itself, or a VXLAN device. */
  dev: string;
  /** Bridge the entry belongs to (entries in the bridge's own table carry `master`). */
  master?: string;
  vlan?: number;
  /** VXLAN remote VTEP (`dst`). */
  dst?: string;
  /** VXLAN per-entry UDP port / VNI / source VNI, when set. */
  port?: number;
  vni?: number;
  srcVni?: number;
  /** `via` device for VXLAN remotes reached over a specific underlay. */
  via?: string;
  /** In the device's own table (`self`), e.g. VXLAN remotes and the static multicast MACs. */
  self: boolean;
  /** NUD-like state: `permanent` (local address / pinned), `static`, `stale`, or `` (learned). */
  state: string;
  permanent: boolean;
  static: boolean;
  /** Every flag printed (self, master, extern_learn, offload, sticky, router…). */
  flags: string[];
}

const ZERO_MAC = '00:00:00:00:00:00';
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function parseFdb(json: string): FdbEntry[] {
  const arr = parseJsonArray(json, SOURCE);
  const out: FdbEntry[] = [];
  for (let i = 0; i < arr.items.length; i++) {
    const el: ElementReader = arr.object(i);
    const mac = el.string('mac').toLowerCase();
    if (!MAC_RE.test(mac)) el.fail('mac', `not a MAC address: ${JSON.stringify(mac)}`);
    const flags = el.optStringArray('flags') ?? [];
    const state = el.optString('state') ?? '';
    const e: FdbEntry = {
      mac,
      dev: el.string('ifname'),
      self: flags.includes('self'),
      state,
      permanent: state === 'permanent',
      static: state === 'static',
      flags: [...flags],
    };
    const master = el.optString('master');
    if (master !== undefined) e.master = master;
    const vlan = el.optUint('vlan');
    if (vlan !== undefined) e.vlan = vlan;
    const dst = el.optString('dst');
    if (dst !== undefined) {
      if (!parseIP(dst)) el.fail('dst', `not an IP address: ${JSON.stringify(dst)}`);
      e.dst = dst;
    }
    const port = el.optUint('port');
    if (port !== undefined) e.port = port;
    const vni = el.optUint('vni');
    if (vni !== undefined) e.vni = vni;
    const srcVni = el.optUint('src_vni');
    if (srcVni !== undefined) e.srcVni = srcVni;
    const via = el.optString('via');
    if (via !== undefined) e.via = via;
    out.push(e);
  }
  return out;
}

export interface VxlanRemote {
  dst: string;
  port?: number;
  vni?: number;
  entry: FdbEntry;
}

export interface VxlanLookup {
  /**
   * `exact`: the MAC has its own entry (unicast to those VTEPs); `default`: only the
   * all-zeros entry matched, so the frame is flooded (replicated) to every one of its VTEPs;
   * `none`: no entry — the kernel drops the frame (counted as a tx error).
   */
  match: 'exact' | 'default' | 'none';
  remotes: VxlanRemote[];
}

/**
 * Indexed FDB. Built once per namespace; lookups are map reads, so a dump with thousands of
 * learned MACs costs nothing per packet.
 */
export class Fdb {
  /** VXLAN device table: `dev|mac` → entries (one per remote; `bridge fdb append` adds remotes). */
  private readonly vxlan = new Map<string, FdbEntry[]>();
  /** Bridge table: `bridge|mac|vlan` → entry. */
  private readonly bridge = new Map<string, FdbEntry>();

  constructor(readonly entries: readonly FdbEntry[]) {
    for (const e of entries) {
      if (e.self && e.master === undefined) {
        const k = `${e.dev}|${e.mac}`;
        const list = this.vxlan.get(k);
        if (list) list.push(e);
        else this.vxlan.set(k, [e]);
      }
      if (e.master !== undefined) this.bridge.set(`${e.master}|${e.mac}|${e.vlan ?? ''}`, e);
    }
  }

  /**
   * Where the VXLAN device `dev` sends a frame for `mac` (vxlan_xmit): the MAC's own entry if
   * any, else the all-zeros default entry (flood to all its remotes), else nothing.
   */
  vxlanRemotes(dev: string, mac: string): VxlanLookup {
    const m = mac.toLowerCase();
    const exact = (this.vxlan.get(`${dev}|${m}`) ?? []).filter((e) => e.dst !== undefined);
    if (exact.length) return { match: 'exact', remotes: exact.map(remote) };
    const def = (this.vxlan.get(`${dev}|${ZERO_MAC}`) ?? []).filter((e) => e.dst !== undefined);
    if (def.length) return { match: 'default', remotes: def.map(remote) };
    return { match: 'none', remotes: [] };
  }

  /**
   * Bridge forwarding decision for destination `mac` on bridge `bridge` (optionally in `vlan`
   * when VLAN filtering is on): `local` when the MAC is the bridge's or a port's own address
   * (permanent entry: the frame goes up to the host stack), `port` when learned/static on a
   * port, `flood` when unknown (the bridge sends it out of every forwarding port).
   */
  bridgeLookup(
    bridge: string,
    mac: string,
    vlan?: number,
  ): { decision: 'local'; entry: FdbEntry } | { decision: 'port'; port: string; entry: FdbEntry } | { decision: 'flood' } {
    const m = mac.toLowerCase();
    const e = this.bridge.get(`${bridge}|${m}|${vlan ?? ''}`);
    if (!e) return { decision: 'flood' };
    if (e.permanent || e.dev === bridge) return { decision: 'local', entry: e };
    return { decision: 'port', port: e.dev, entry: e };
  }
}

function remote(e: FdbEntry): VxlanRemote {
  const r: VxlanRemote = { dst: e.dst!, entry: e };
  if (e.port !== undefined) r.port = e.port;
  if (e.vni !== undefined) r.vni = e.vni;
  return r;
}
