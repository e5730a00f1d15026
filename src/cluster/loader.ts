// The live cluster cache: one paginated list per kind the diagnosis reads, turned into the
// snapshot's object shape by the same code that reads objects files (collectObjects), so the
// engine sees a live cluster exactly as it sees a snapshot.
import type { ApiClient } from './api';
import { query } from './api';
import type { AccessReport } from './access';
import { describeNeed, objectNeeds } from './access';
import { ClusterApiError, ClusterLimitError } from './errors';
import { formatBytes } from './limits';
import { collectObjects, type IgnoredObject } from '../engine/snapshot/objects';
import type { K8sObject, SnapshotObjects } from '../engine/snapshot/types';

export interface SkippedList {
  what: string;
  reason: string;
}

export interface LoadedObjects {
  objects: SnapshotObjects;
  ignored: IgnoredObject[];
  /** Lists not read (permission, kind not served), with why. */
  skipped: SkippedList[];
  /** Which EndpointSlice API answered: v1, v1beta1, or none (core Endpoints only). */
  endpointSliceVersion: 'discovery.k8s.io/v1' | 'discovery.k8s.io/v1beta1' | 'none';
  /** Read for detection but not part of the snapshot's object shape. */
  extras: { daemonSets: K8sObject[]; calicoIPPools: K8sObject[] };
  /** Objects per kind as listed, and the number of list pages requested. */
  counts: Record<string, number>;
  pages: number;
}

export interface LoadOptions {
  /** Items per page (`limit`; default 500, as kubectl). */
  pageSize?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** ConfigMap namespaces detection reads (kube-proxy, flannel, calico). */
const configMapNamespaces = ['kube-system', 'kube-flannel', 'calico-system', 'tigera-operator'];

interface Lister {
  pages: number;
  all(path: string, apiVersion: string, kind: string): Promise<K8sObject[]>;
}

function lister(api: ApiClient, o: LoadOptions): Lister {
  const limit = o.pageSize ?? 500;
  const l: Lister = {
    pages: 0,
    async all(path, apiVersion, kind) {
      // A continue token can expire (410 Gone) on a busy cluster: start the list over, once.
      for (let attempt = 0; ; attempt++) {
        const items: K8sObject[] = [];
        let cont: string | undefined;
        let size = limit;
        try {
          for (;;) {
            l.pages++;
            let page: { items?: K8sObject[]; metadata?: { continue?: string } };
            try {
              page = await api.json('GET', path + query({ limit: size, continue: cont }), { signal: o.signal });
            } catch (e) {
              // A page of big objects over the byte cap: the same page again, fewer at a time
              // (the continue token stays valid); only one object over the cap is an error.
              if (!(e instanceof ClusterLimitError) || size === 1) throw e;
              size = Math.max(1, Math.floor(size / 2));
              o.onProgress?.(`${kind} list page over ${formatBytes(api.maxResponseBytes)}: reading ${size} at a time`);
              continue;
            }
            for (const i of page.items ?? []) items.push(normalize({ ...i, apiVersion, kind }));
            cont = page.metadata?.continue || undefined;
            if (!cont) return items;
          }
        } catch (e) {
          if (e instanceof ClusterApiError && e.status === 410 && attempt === 0) continue;
          throw e;
        }
      }
    },
  };
  return l;
}

export async function loadClusterObjects(api: ApiClient, access: AccessReport | undefined, o: LoadOptions = {}): Promise<LoadedObjects> {
  const list = lister(api, o);
  const skipped: SkippedList[] = [];
  const counts: Record<string, number> = {};
  const items: K8sObject[] = [];
  const allowed = (resource: string, group: string) => !access || access.allows('list', group, resource);
  const permissionSkip = (what: string, resource: string, group: string) => {
    const need = objectNeeds.find((n) => n.resource === resource && n.group === group) ?? { verb: 'list', group, resource, purpose: 'objects' as const };
    skipped.push({ what, reason: `no permission to ${describeNeed(need)}` });
  };
  /** One kind: skipped when not permitted or forbidden; `missing` kinds (404) resolve undefined. */
  const read = async (what: string, resource: string, group: string, path: string, apiVersion: string, kind: string): Promise<K8sObject[] | undefined> => {
    if (!allowed(resource, group)) {
      permissionSkip(what, resource, group);
      return [];
    }
    o.onProgress?.(`listing ${what}`);
    try {
      const got = await list.all(path, apiVersion, kind);
      counts[what] = got.length;
      return got;
    } catch (e) {
      if (e instanceof ClusterApiError && e.status === 403) {
        permissionSkip(what, resource, group);
        return [];
      }
      if (e instanceof ClusterApiError && e.status === 404) return undefined;
      throw e;
    }
  };

  const core: [string, string][] = [['nodes', 'Node'], ['pods', 'Pod'], ['services', 'Service'], ['namespaces', 'Namespace'], ['endpoints', 'Endpoints']];
  const [coreLists, policies] = await Promise.all([
    Promise.all(core.map(([res, kind]) => read(res, res, '', `/api/v1/${res}`, 'v1', kind))),
    read('networkpolicies', 'networkpolicies', 'networking.k8s.io', '/apis/networking.k8s.io/v1/networkpolicies', 'networking.k8s.io/v1', 'NetworkPolicy'),
  ]);
  for (const l of coreLists) items.push(...(l ?? []));
  if (policies === undefined) skipped.push({ what: 'networkpolicies', reason: 'the API server does not serve networking.k8s.io/v1 NetworkPolicies' });
  items.push(...(policies ?? []));

  // EndpointSlices: v1, else v1beta1 (Kubernetes < 1.21), else only core Endpoints (above).
  let endpointSliceVersion: LoadedObjects['endpointSliceVersion'] = 'none';
  for (const v of ['discovery.k8s.io/v1', 'discovery.k8s.io/v1beta1'] as const) {
    const got = await read('endpointslices', 'endpointslices', 'discovery.k8s.io', `/apis/${v}/endpointslices`, v, 'EndpointSlice');
    if (got === undefined) continue;
    if (allowed('endpointslices', 'discovery.k8s.io') && !skipped.some((s) => s.what === 'endpointslices')) endpointSliceVersion = v;
    items.push(...got);
    break;
  }
  if (endpointSliceVersion === 'none' && !skipped.some((s) => s.what === 'endpointslices')) {
    skipped.push({ what: 'endpointslices', reason: 'the API server serves no EndpointSlices; service backends come from core Endpoints' });
  }

  // Detection reads: optional, never fatal.
  for (const ns of configMapNamespaces) {
    const got = await read(`configmaps in ${ns}`, 'configmaps', '', `/api/v1/namespaces/${ns}/configmaps`, 'v1', 'ConfigMap');
    items.push(...(got ?? []));
  }
  const daemonSets = (await read('daemonsets', 'daemonsets', 'apps', '/apis/apps/v1/daemonsets', 'apps/v1', 'DaemonSet')) ?? [];
  let calicoIPPools: K8sObject[] = [];
  if (!access || access.allows('get', 'apiextensions.k8s.io', 'customresourcedefinitions')) {
    const crd = await api.send('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/ippools.crd.projectcalico.org', { signal: o.signal });
    if (crd.status === 200) calicoIPPools = (await read('calico ippools', 'ippools', 'crd.projectcalico.org', '/apis/crd.projectcalico.org/v1/ippools', 'crd.projectcalico.org/v1', 'IPPool')) ?? [];
  }

  // IPPools and the CNI's DaemonSets go into the snapshot too, so detection reads them offline alike.
  items.push(...calicoIPPools, ...daemonSets);
  const { objects, ignored } = collectObjects([{ name: `cluster ${api.server.origin}`, text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) }]);
  return { objects, ignored, skipped, endpointSliceVersion, extras: { daemonSets, calicoIPPools }, counts, pages: list.pages };
}

/** The API serves empty lists of some kinds as `null` (an EndpointSlice of a service with no
 * matching pods has `ports: null`); the snapshot shape has lists there. */
function normalize(o: K8sObject): K8sObject {
  if (o.kind === 'EndpointSlice') {
    if (o.ports === null) o.ports = [];
    if (o.endpoints === null) o.endpoints = [];
  }
  return o;
}
