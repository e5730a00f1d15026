// The connection tracking the diagnosis needs: where the forward packet was NATed, so that the
// reply is translated back at the same place — or, if the reply takes a path that bypasses that
// place (bridged without br_netfilter, asymmetric routing), the fault is named there.
import type { Packet } from '../model/packet';
import type { NetNS } from '../netstack/netns';
import { sameIP } from '../netstack/ip';

export interface Translation {
  /** The packet as it entered the namespace. */
  orig: Packet;
  /** As it left (after DNAT/SNAT/MASQUERADE). */
  translated: Packet;
}

export class ConntrackTable {
  private readonly byNs = new Map<NetNS, Translation[]>();

  record(ns: NetNS, orig: Packet, translated: Packet): void {
    if (sameIP(orig.src, translated.src) && sameIP(orig.dst, translated.dst) && orig.sport === translated.sport && orig.dport === translated.dport) return;
    const list = this.byNs.get(ns) ?? [];
    if (!list.some((t) => key(t.translated) === key(translated) && key(t.orig) === key(orig))) list.push({ orig, translated });
    this.byNs.set(ns, list);
  }

  /** The translation a reply belongs to in this namespace (reply = translated, reversed). */
  replyOf(ns: NetNS, reply: Packet): Translation | undefined {
    return (this.byNs.get(ns) ?? []).find(
      (t) => sameIP(reply.src, t.translated.dst) && sameIP(reply.dst, t.translated.src) && portOk(reply.sport, t.translated.dport) && portOk(reply.dport, t.translated.sport),
    );
  }

  /** The reply as conntrack rewrites it back (source = original destination, destination = original source). */
  untranslate(ns: NetNS, reply: Packet): { packet: Packet; translation?: Translation } {
    const t = this.replyOf(ns, reply);
    if (!t) return { packet: reply };
    return {
      packet: { ...reply, src: t.orig.dst, sport: t.orig.dport || reply.sport, dst: t.orig.src || reply.dst, dport: t.orig.sport || reply.dport },
      translation: t,
    };
  }
}

function portOk(a: number, b: number): boolean {
  return !a || !b || a === b;
}

function key(p: Packet): string {
  return `${p.src}|${p.sport}|${p.dst}|${p.dport}`;
}
