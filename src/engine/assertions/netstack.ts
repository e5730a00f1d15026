// NetstackAssertion: facts of a namespace that break packets whatever path they take, checked once
// per namespace — today the conntrack table filling up ("nf_conntrack: table full, dropping
// packet": every new connection through that host is dropped).
import { SuspicionLevel, type Suspicion } from '../model/suspicion';
import type { NetNS } from '../netstack/netns';

export function assertNetns(ns: NetNS): Suspicion[] {
  const out: Suspicion[] = [];
  const ct = ns.info.conntrack;
  if (ct && ct.max > 0) {
    const share = ct.count / ct.max;
    const evidence = [{ kind: 'sysctl' as const, text: `net.netfilter.nf_conntrack_count = ${ct.count}, net.netfilter.nf_conntrack_max = ${ct.max}`, where: ns.label }];
    if (share >= 0.98) {
      out.push({ level: SuspicionLevel.CRITICAL, check: 'conntrack.full', message: `the conntrack table of ${ns.label} is full (${ct.count} of ${ct.max}): the kernel drops new connections`, evidence });
    } else if (share >= 0.8) {
      out.push({ level: SuspicionLevel.WARNING, check: 'conntrack.nearly-full', message: `the conntrack table of ${ns.label} is ${Math.round(share * 100)}% full (${ct.count} of ${ct.max})`, evidence });
    }
  }
  return out;
}
