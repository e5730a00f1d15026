// Snapshot objects for the plugin module tests: the few kinds detection reads (ConfigMaps, Nodes
// with annotations, IPPools, DaemonSets), sorted into the snapshot's lists.
import type { K8sObject, SnapshotSettings } from '../../../src/engine/snapshot/types';
import type { DetectionInput } from '../../../src/engine/plugins/objects';
import { node } from '../k8s-objects';

export function configMap(key: string, data: Record<string, string>): K8sObject {
  const [namespace, name] = key.split('/');
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

export function annotatedNode(name: string, ip: string, podCIDR: string, annotations: Record<string, string> = {}): K8sObject {
  const n = node(name, ip, podCIDR);
  n.metadata.annotations = annotations;
  return n;
}

export function daemonSet(key: string): K8sObject {
  const [namespace, name] = key.split('/');
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace } };
}

export function ipPool(name: string, spec: Record<string, unknown>): K8sObject {
  return { apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name }, spec };
}

const LIST: Record<string, string> = { Node: 'nodes', Pod: 'pods', ConfigMap: 'configMaps', IPPool: 'ipPools', DaemonSet: 'daemonSets' };

export function input(objects: K8sObject[], settings: SnapshotSettings = {}): DetectionInput {
  const o: Record<string, K8sObject[]> = { nodes: [], pods: [], services: [], endpointSlices: [], endpoints: [], networkPolicies: [], namespaces: [], configMaps: [] };
  for (const x of objects) (o[LIST[x.kind]] ??= []).push(x);
  return { objects: o as unknown as DetectionInput['objects'], settings };
}
