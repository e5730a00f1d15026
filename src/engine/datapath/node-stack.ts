// Every network namespace of one node (the host and its pods) as NetNS objects, with the veth
// pairs that join them: what the link layer needs to know where a packet leaving an interface
// arrives. Built from one NodeNetworkStackDump, lazily per namespace.
import type { NodeNetworkStackDump } from '../model/k8s';
import { pairVeths, type NamespaceView } from '../netstack/interfaces';
import { NetNS, type NetstackLimits } from '../netstack/netns';
import { kernelProfile } from '../netstack/router-kernel-profile';

export interface End {
  ns: NetNS;
  iface: string;
}

export class NodeStack {
  readonly host: NetNS;
  /** Pod (non-host) namespaces by netns inode. */
  readonly pods = new Map<number, NetNS>();
  private peers?: Map<string, End>;
  /** Veths whose other end is not in this dump (a wire, or an unknown namespace), with the reason. */
  readonly unpaired = new Map<string, string>();

  constructor(
    readonly nodeName: string,
    readonly dump: NodeNetworkStackDump,
    /** Label for a pod netns (`namespace/name`), when a pod maps to it. */
    labelOf: (netnsId: number) => string | undefined,
    limits: NetstackLimits = {},
  ) {
    const kernel = kernelProfile(dump.kernel);
    this.host = new NetNS(dump.node, nodeName, kernel, limits);
    for (const info of dump.netns) {
      if (info.id === dump.node.id) continue;
      this.pods.set(info.id, new NetNS(info, labelOf(info.id) ?? `${nodeName} netns ${info.id}`, kernel, limits));
    }
  }

  all(): NetNS[] {
    return [this.host, ...this.pods.values()];
  }

  /** The other end of a veth (`ns`, `iface`), when it is in this node's dump. */
  peer(ns: NetNS, iface: string): End | undefined {
    if (!this.peers) this.pairAll();
    return this.peers!.get(key(ns, iface));
  }

  private pairAll(): void {
    this.peers = new Map();
    const views: NamespaceView[] = [];
    const byId = new Map<string, NetNS>();
    for (const ns of this.all()) {
      const id = String(ns.info.id);
      byId.set(id, ns);
      views.push({ id, interfaces: ns.interfaces ?? [] });
    }
    const { pairs, unresolved } = pairVeths(views);
    for (const p of pairs) {
      const a = { ns: byId.get(p.a.namespace)!, iface: p.a.iface.name };
      const b = { ns: byId.get(p.b.namespace)!, iface: p.b.iface.name };
      this.peers.set(key(a.ns, a.iface), b);
      this.peers.set(key(b.ns, b.iface), a);
    }
    for (const u of unresolved) {
      const ns = byId.get(u.namespace)!;
      const reason = u.resolution.status === 'found' ? '' : u.resolution.reason;
      this.unpaired.set(key(ns, u.iface.name), reason);
    }
  }
}

function key(ns: NetNS, iface: string): string {
  return `${ns.info.id}|${iface}`;
}
