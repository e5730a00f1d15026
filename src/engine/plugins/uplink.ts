// The node's uplink: the interface that holds the node's InternalIP (never an assumed `eth0`),
// else the interface of the default route; `settings.uplink` overrides.
import type { NetNS } from '../netstack/netns';
import { parseIP, sameIP } from '../netstack/ip';
import type { Found, PluginConfig } from './detect';

export function detectUplink(host: NetNS, nodeName: string, nodeIPs: string[], cfg: PluginConfig): Found<string> | undefined {
  const o = cfg.uplinkOverride;
  if (o) {
    if (typeof o.value === 'string') return { value: o.value, source: o.source };
    const v = o.value[nodeName];
    if (typeof v === 'string') return { value: v, source: `${o.source}.${nodeName}` };
  }
  const ifaces = host.interfaces ?? [];
  for (const ip of nodeIPs) {
    const a = parseIP(ip);
    if (!a) continue;
    const i = ifaces.find((x) => x.name !== 'lo' && x.addresses.some((y) => sameIP(y.address, a)));
    if (i) return { value: i.name, source: `holds the node address ${ip}` };
  }
  const def = (host.routes ?? []).find((r) => r.table.id === 254 && r.dst.len === 0 && r.dst.family === 4 && r.dev);
  if (def?.dev) return { value: def.dev, source: 'device of the default route (no interface holds the node address)' };
  return undefined;
}
