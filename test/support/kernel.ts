// The kernel these tests run on, as the collector records it for a node (release and whether
// IPv6 multicast routing is built in), so that the simulators can be told which kernel's
// behaviour the ground truth shows.
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import type { KernelInfo } from '../../src/shared/dump';

export function runningKernel(): KernelInfo {
  return { release: release(), ipv6MulticastRouting: existsSync('/proc/net/ip6_mr_vif') };
}

/** One line naming the kernel, for test diagnostics. */
export function describeKernel(k: KernelInfo): string {
  return `Linux ${k.release} (IPv6 multicast routing ${k.ipv6MulticastRouting ? 'built in' : 'not built in'})`;
}
