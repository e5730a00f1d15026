// Builders of Kubernetes objects for the k8s / policy / service tests: plain objects as the API
// serves them, so that the tests go through the same readers as a snapshot.
import { ClusterCache } from '../../src/engine/k8s/cache';
import type { K8sObject, SnapshotObjects } from '../../src/engine/snapshot/types';

type Port = { name?: string; containerPort: number; protocol?: string };

export function pod(key: string, o: { ip?: string | string[]; node?: string; labels?: Record<string, string>; phase?: string; hostNetwork?: boolean; ports?: Port[]; deleting?: boolean } = {}): K8sObject {
  const [namespace, name] = key.split('/');
  const ips = o.ip === undefined ? [] : Array.isArray(o.ip) ? o.ip : [o.ip];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, ...(o.labels ? { labels: o.labels } : {}), ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { ...(o.node ? { nodeName: o.node } : {}), ...(o.hostNetwork ? { hostNetwork: true } : {}), containers: [{ name: 'c', image: 'x', ...(o.ports ? { ports: o.ports } : {}) }] },
    status: { phase: o.phase ?? 'Running', ...(ips.length ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}) },
  };
}

export function node(name: string, ip: string | string[], podCIDR?: string): K8sObject {
  const ips = Array.isArray(ip) ? ip : [ip];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
    status: { addresses: [...ips.map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: name }], conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): K8sObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function service(key: string, spec: Record<string, unknown>, status?: Record<string, unknown>): K8sObject {
  const [namespace, name] = key.split('/');
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec, ...(status ? { status } : {}) };
}

type SliceEndpoint = { ip: string; node?: string; pod?: string; ready?: boolean; serving?: boolean; terminating?: boolean };

export function slice(key: string, serviceName: string, endpoints: SliceEndpoint[], ports: { name?: string; port?: number; protocol?: string }[], addressType = 'IPv4'): K8sObject {
  const [namespace, name] = key.split('/');
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    ports,
    endpoints: endpoints.map((e) => {
      const conditions: Record<string, boolean> = {};
      if (e.ready !== undefined) conditions.ready = e.ready;
      if (e.serving !== undefined) conditions.serving = e.serving;
      if (e.terminating !== undefined) conditions.terminating = e.terminating;
      return {
        addresses: [e.ip],
        conditions,
        ...(e.node ? { nodeName: e.node } : {}),
        ...(e.pod ? { targetRef: { kind: 'Pod', namespace: e.pod.split('/')[0], name: e.pod.split('/')[1] } } : {}),
      };
    }),
  };
}

export function policy(key: string, spec: Record<string, unknown>): K8sObject {
  const [namespace, name] = key.split('/');
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

export function objects(list: K8sObject[]): SnapshotObjects {
  const out: SnapshotObjects = { nodes: [], pods: [], services: [], endpointSlices: [], endpoints: [], networkPolicies: [], namespaces: [], configMaps: [] };
  const where: Record<string, keyof SnapshotObjects> = {
    Node: 'nodes', Pod: 'pods', Service: 'services', EndpointSlice: 'endpointSlices', Endpoints: 'endpoints',
    NetworkPolicy: 'networkPolicies', Namespace: 'namespaces', ConfigMap: 'configMaps',
  };
  for (const o of list) out[where[o.kind]]!.push(o);
  return out;
}

export function cacheOf(list: K8sObject[]): ClusterCache {
  return new ClusterCache(objects(list));
}
