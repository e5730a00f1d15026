// The snapshot's objects as plugin detection reads them: every object whatever list it sits in
// (IPPools and DaemonSets have no fixed list), the Calico pools (read once, see ippools.ts), and
// one notes list every plugin's reading appends to. Plus the small accessors all plugins share.
import { objectIndexOf } from '../port';
import type { K8sObject, NetpathSnapshot } from '../snapshot/types';
import type { Family } from '../netstack/ip';
import { readCalicoPools, type CalicoPool } from './ippools';

export function annotations(o: K8sObject): Record<string, string> {
  return o.metadata.annotations ?? {};
}

/** `ConfigMap kube-flannel/kube-flannel-cfg`: how an object is named in a source. */
export function where(o: K8sObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** The node's InternalIP; with `family`, its InternalIP of that family. */
export function internalIP(node: K8sObject, family?: Family): string | undefined {
  const addrs = ((node.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? []);
  return addrs.find((x) => x.type === 'InternalIP' && (family === undefined || familyOf(x.address) === family))?.address;
}

export function familyOf(ip: string): Family {
  return ip.includes(':') ? 6 : 4;
}

export type DetectionInput = Pick<NetpathSnapshot, 'objects' | 'settings'>;

/** Lists that hold one kind each (the schema, and the API they are listed from, say so): never an IPPool. */
// (Every list but ipPools: reading 10,000 services and 5,000 nodes to find no IPPool was a fifth of a cold diagnosis.)
const singleKindLists = new Set(['pods', 'endpointSlices', 'originalEndpointSlices', 'endpoints', 'services', 'nodes', 'networkPolicies', 'namespaces', 'configMaps', 'daemonSets']);

export class ObjectView {
  private everything?: K8sObject[];
  private pools?: CalicoPool[];

  constructor(readonly snapshot: DetectionInput, readonly notes: string[]) {}

  /**
   * Every object of the snapshot, in list order; gathered on first use, since it reads every pod
   * (a lazily read snapshot would parse all 150k of them for detection alone).
   */
  get all(): K8sObject[] {
    if (!this.everything) {
      this.everything = [];
      // No spread: a 150k-pod list as call arguments overflows the stack.
      for (const list of Object.values(this.snapshot.objects)) if (Array.isArray(list)) for (const o of list as K8sObject[]) this.everything.push(o);
    }
    return this.everything;
  }

  get calicoPools(): CalicoPool[] {
    if (!this.pools) {
      const candidates: K8sObject[] = [];
      // Keys first: a lazily read list is read only when its value is taken.
      const objects = this.snapshot.objects as unknown as Record<string, unknown>;
      for (const name of Object.keys(objects)) {
        if (singleKindLists.has(name)) continue;
        const list = objects[name];
        if (Array.isArray(list)) for (const o of list as K8sObject[]) candidates.push(o);
      }
      this.pools = readCalicoPools(this.snapshot.settings, candidates);
    }
    return this.pools;
  }

  get nodes(): K8sObject[] {
    return this.snapshot.objects.nodes;
  }

  get configMaps(): K8sObject[] {
    return this.snapshot.objects.configMaps;
  }

  /** The first node carrying annotation `key` (from a lazily read snapshot's index: without reading every node). */
  nodeAnnotated(key: string): K8sObject | undefined {
    const ix = objectIndexOf(this.snapshot.objects)?.nodes;
    return ix ? ix.firstAnnotated(key) : this.nodes.find((n) => annotations(n)[key]);
  }

  /** The first DaemonSet or Pod whose name matches: a plugin's workload, when its configuration is not in the snapshot. */
  workload(name: RegExp): K8sObject | undefined {
    return this.all.find((o) => (o.kind === 'DaemonSet' || o.kind === 'Pod') && name.test(o.metadata.name));
  }
}
