// Provider (seed): where the cluster runs, found from the nodes' `spec.providerID`, and the
// InfraShim it contributes. Only the generic provider exists today; a recognised cloud is named in
// an INFO finding so the user knows its infrastructure (security groups, route tables) was not
// examined, instead of silently passing.
import type { NodeSummary } from '../port';
import { SuspicionLevel, type Suspicion } from '../model/suspicion';
import type { InfraShim } from './infrashim';

export interface Provider {
  readonly name: string;
  /** The provider's checks of its network, when it has any. */
  infraShim(): InfraShim | undefined;
}

const CLOUDS: [RegExp, string][] = [
  [/^aws:\/\//, 'aws'],
  [/^gce:\/\//, 'gce'],
  [/^azure:\/\//, 'azure'],
  [/^(alicloud|alibaba):\/\/|^cn-[a-z]+\.i-/, 'alibaba'],
  [/^openstack:\/\//, 'openstack'],
  [/^vsphere:\/\//, 'vsphere'],
  [/^kind:\/\//, 'kind'],
];

export const genericProvider: Provider = { name: 'generic', infraShim: () => undefined };

/** The provider for these nodes (`settings.cloudProvider` wins), with a note when a cloud is recognised but not modelled. */
export function selectProvider(nodes: readonly NodeSummary[], override?: string): { provider: Provider; notes: Suspicion[] } {
  const ids = nodes.map((n) => n.providerID).filter((id) => id !== '');
  const detected = override ?? CLOUDS.find(([re]) => ids.some((id) => re.test(id)))?.[1];
  const notes: Suspicion[] = [];
  if (detected && detected !== 'generic' && detected !== 'kind') {
    notes.push({
      level: SuspicionLevel.INFO,
      check: 'infra.not-modelled',
      message: `the nodes run on ${detected}${override ? ' (from settings)' : ` (spec.providerID ${ids[0]})`}: its network (security groups, route tables, NAT, load balancers) is not examined; only the nodes' own stacks are`,
      evidence: [],
    });
  }
  return { provider: genericProvider, notes };
}
