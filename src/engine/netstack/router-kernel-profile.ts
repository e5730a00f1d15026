// The route-lookup behaviours that differ between the Linux kernels a dump may come from, as one
// small explicit profile the router follows. Built from what the collector recorded about the
// node's kernel (NodeNetworkStackDump.kernel); what the dump does not say falls back to the newest
// behaviour known here, and the profile says so (`assumed`), so that the router's `why` can too.
// How the boundaries are known: each behaviour below was seen on the kernel the router-vs-kernel
// test ran on (6.18.44, built without CONFIG_IPV6_MROUTE); the versions where the other behaviour
// ends come from the kernel sources and change history named at each field, not from running
// those older kernels.
import type { KernelInfo } from '../../shared/dump';
import type { RouteErrno } from './router-model';

export interface KernelRelease {
  major: number;
  minor: number;
  patch: number;
}

/**
 * The version numbers at the start of `uname -r`: `6.18.44-fc-v1300` → 6.18.44,
 * `5.15.0-91-generic` → 5.15.0, `4.19` → 4.19.0. Undefined when it does not start with N.N.
 */
export function parseKernelRelease(release: string): KernelRelease | undefined {
  const m = /^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?/.exec(release.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

function atLeast(r: KernelRelease, major: number, minor: number): boolean {
  return r.major !== major ? r.major > major : r.minor >= minor;
}

export interface KernelProfile {
  /** The kernel as the router's explanations name it, e.g. `Linux 6.18.44-fc-v1300`. */
  name: string;
  /**
   * Errno of an IPv4 input-path lookup (`ip route get … iif`) that fails the reverse-path check
   * (rp_filter). Before Linux 6.13 fib_validate_source's -EXDEV reached user space ("Invalid
   * cross-device link", as cilium-cli#2113 quotes it on 2023 kernels); since 6.13 the input path
   * returns drop reasons and inet_rtm_getroute turns every one into -EINVAL (the series that made
   * ip_route_input_slow/ip_route_input_rcu return `enum skb_drop_reason`). Seen as EINVAL on
   * 6.18.44 by the router-vs-kernel test.
   */
  rpFilterErrno: RouteErrno;
  /**
   * IPv4 output over a multipath route with a source address: the kernel picks among the
   * nexthops whose source is the flow's, when any (fib_select_multipath since Linux 6.15, "ipv4:
   * prefer multipath nexthop that matches source address"); before, the flow hash picks among all.
   */
  multipathPrefersSource: boolean;
  /**
   * The kernel was built with IPv6 multicast routing (CONFIG_IPV6_MROUTE). This is a build
   * option, not a version: rt6_fill_node has the same `#ifdef CONFIG_IPV6_MROUTE` branch for an
   * input lookup (`iif`) whose route prefix is multicast in 3.x (then with `nowait`) and in current
   * mainline (net/ipv6/route.c) — with it, the answer comes
   * from the multicast forwarding cache (ip6mr_get_route) and without an entry the lookup fails
   * with EMSGSIZE; without it, the kernel answers the multicast route itself (seen on 6.18.44
   * built without it, `multicast ff02::1 … dev v0 table local … iif v0`).
   */
  ipv6MulticastRouting: boolean;
  /** What the profile had to assume because the dump did not say, per behaviour (for explanations). */
  assumed: { release?: string; ipv6MulticastRouting?: string };
}

/**
 * The profile of the kernel a dump describes. Unknown release → the newest behaviour; unknown
 * IPv6 multicast routing → built with it, as the kernels of the common distributions are.
 */
export function kernelProfile(kernel?: KernelInfo): KernelProfile {
  const assumed: KernelProfile['assumed'] = {};
  const release = kernel ? parseKernelRelease(kernel.release) : undefined;
  const rpFilterErrno: RouteErrno = !release || atLeast(release, 6, 13) ? 'EINVAL' : 'EXDEV';
  const multipathPrefersSource = !release || atLeast(release, 6, 15);
  if (!release) assumed.release = kernel ? `kernel release ${JSON.stringify(kernel.release)} not understood: newest behaviour assumed` : 'kernel release not in the dump: newest behaviour assumed';
  const ipv6MulticastRouting = kernel?.ipv6MulticastRouting ?? true;
  if (kernel?.ipv6MulticastRouting === undefined) assumed.ipv6MulticastRouting = 'IPv6 multicast routing support not in the dump: assumed built in (CONFIG_IPV6_MROUTE)';
  return { name: kernel ? `Linux ${JSON.stringify(kernel.release).slice(1, -1)}` : 'Linux (release unknown)', rpFilterErrno, multipathPrefersSource, ipv6MulticastRouting, assumed };
}
