// Calico IPPools: `settings.calicoIPPools`, else the IPPool CRDs among the snapshot's objects. Read
// for every detection, not only Calico's: besides identifying Calico and its mode, a pool's
// `natOutgoing: false` tells the shared masquerade check that its pods' traffic leaves un-SNATed
// on purpose, whatever plugin routes it.
import type { K8sObject, SnapshotSettings } from '../snapshot/types';
import { parsePrefix } from '../netstack/ip';
import { where } from './objects';

export type CalicoMode = 'Always' | 'CrossSubnet' | 'Never';

export interface CalicoPool {
  cidr: string;
  ipipMode: CalicoMode;
  vxlanMode: CalicoMode;
  natOutgoing: boolean;
  /** Prefix length of the blocks the pool is cut into (a node owns whole blocks); spec.blockSize, else Calico's default (26, IPv6 122). */
  blockSize: number;
  source: string;
}

function calicoMode(v: unknown): CalicoMode {
  return v === 'Always' || v === 'CrossSubnet' ? v : 'Never';
}

function fromSpec(spec: Record<string, unknown>, source: string): CalicoPool | undefined {
  const cidr = typeof spec.cidr === 'string' && parsePrefix(spec.cidr) ? spec.cidr : undefined;
  if (!cidr) return undefined;
  const family = cidr.includes(':') ? 6 : 4;
  const max = family === 6 ? 128 : 32;
  const size = typeof spec.blockSize === 'number' && Number.isInteger(spec.blockSize) && spec.blockSize > 0 && spec.blockSize <= max ? spec.blockSize : family === 6 ? 122 : 26;
  return { cidr, ipipMode: calicoMode(spec.ipipMode), vxlanMode: calicoMode(spec.vxlanMode), natOutgoing: spec.natOutgoing === true, blockSize: size, source };
}

/** Pools from settings (objects or `{cidr, ipipMode, vxlanMode, natOutgoing}`) win over the CRDs. */
export function readCalicoPools(settings: SnapshotSettings, objects: readonly K8sObject[]): CalicoPool[] {
  const set = settings.calicoIPPools;
  if (Array.isArray(set)) {
    return set.flatMap((p, i) => {
      const o = p as Record<string, unknown>;
      const spec = (o.spec && typeof o.spec === 'object' ? o.spec : o) as Record<string, unknown>;
      const pool = fromSpec(spec, `settings.calicoIPPools[${i}]`);
      return pool ? [pool] : [];
    });
  }
  return objects
    .filter((o) => o.kind === 'IPPool' && /^(crd\.)?projectcalico\.org\//.test(o.apiVersion))
    .flatMap((o) => {
      const pool = fromSpec((o.spec ?? {}) as Record<string, unknown>, where(o));
      return pool ? [pool] : [];
    });
}
