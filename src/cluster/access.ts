// RBAC before a run: one SelfSubjectAccessReview per verb and resource netpath uses, so a run
// that cannot do everything says up front exactly what is missing, and does what it can.
import type { ApiClient } from './api';
import { ClusterApiError } from './errors';

export type NeedPurpose = 'objects' | 'detection' | 'collection';

export interface ResourceNeed {
  verb: string;
  /** API group ('' = core). */
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  purpose: NeedPurpose;
}

export interface AccessCheck extends ResourceNeed {
  /** undefined: the review itself was not possible (then the call is simply tried). */
  allowed: boolean | undefined;
}

export function describeNeed(n: ResourceNeed): string {
  const res = `${n.resource}${n.subresource ? `/${n.subresource}` : ''}${n.group ? `.${n.group}` : ''}`;
  return `${n.verb} ${res}${n.namespace ? ` in namespace ${n.namespace}` : n.purpose !== 'collection' || n.resource === 'namespaces' ? ' (cluster-wide)' : ''}`;
}

/** Lists the diagnosis reads: kind → what it needs. */
export const objectNeeds: ResourceNeed[] = [
  { verb: 'list', group: '', resource: 'nodes', purpose: 'objects' },
  { verb: 'list', group: '', resource: 'pods', purpose: 'objects' },
  { verb: 'list', group: '', resource: 'services', purpose: 'objects' },
  { verb: 'list', group: 'discovery.k8s.io', resource: 'endpointslices', purpose: 'objects' },
  { verb: 'list', group: '', resource: 'endpoints', purpose: 'objects' },
  { verb: 'list', group: 'networking.k8s.io', resource: 'networkpolicies', purpose: 'objects' },
  { verb: 'list', group: '', resource: 'namespaces', purpose: 'objects' },
];

export const detectionNeeds: ResourceNeed[] = [
  { verb: 'list', group: '', resource: 'configmaps', namespace: 'kube-system', purpose: 'detection' },
  { verb: 'list', group: 'apps', resource: 'daemonsets', purpose: 'detection' },
  { verb: 'get', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', purpose: 'detection' },
];

/** What the CollectorManager does in its namespace. */
export function collectionNeeds(namespace: string): ResourceNeed[] {
  return [
    { verb: 'get', group: '', resource: 'namespaces', purpose: 'collection' },
    ...['create', 'get', 'list', 'delete'].map((verb) => ({ verb, group: '', resource: 'pods', namespace, purpose: 'collection' as const })),
    { verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace, purpose: 'collection' },
    { verb: 'list', group: '', resource: 'events', namespace, purpose: 'collection' },
  ];
}

export class AccessReport {
  constructor(readonly checks: AccessCheck[]) {}

  /** Explicitly denied (an unknown answer is not reported as missing). */
  missing(purpose?: NeedPurpose): AccessCheck[] {
    return this.checks.filter((c) => c.allowed === false && (purpose === undefined || c.purpose === purpose));
  }

  allows(verb: string, group: string, resource: string, subresource?: string): boolean {
    const c = this.checks.find((x) => x.verb === verb && x.group === group && x.resource === resource && x.subresource === subresource);
    return c?.allowed !== false;
  }

  /** Every collection step is allowed (or could not be reviewed). */
  get canCollect(): boolean {
    return this.missing('collection').length === 0;
  }

  /** Not one object list is allowed: nothing netpath can do. */
  get nothingReadable(): boolean {
    const objects = this.checks.filter((c) => c.purpose === 'objects');
    return objects.length > 0 && objects.every((c) => c.allowed === false);
  }
}

export async function reviewAccess(api: ApiClient, needs: ResourceNeed[], signal?: AbortSignal): Promise<AccessReport> {
  const checks = await Promise.all(
    needs.map(async (n): Promise<AccessCheck> => {
      const resourceAttributes: Record<string, string> = { verb: n.verb, group: n.group, resource: n.resource };
      if (n.subresource) resourceAttributes.subresource = n.subresource;
      if (n.namespace) resourceAttributes.namespace = n.namespace;
      try {
        const r = await api.json<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } },
          signal,
        });
        return { ...n, allowed: r.status?.allowed === true };
      } catch (e) {
        // A cluster that forbids or lacks access reviews: find out by trying the call itself.
        if (e instanceof ClusterApiError && (e.status === 403 || e.status === 404)) return { ...n, allowed: undefined };
        throw e;
      }
    }),
  );
  return new AccessReport(checks);
}
