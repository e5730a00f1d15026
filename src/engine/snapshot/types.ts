// The snapshot (`*.netpath.json`): the Kubernetes objects and node dumps a diagnosis reads, so
// that it can be re-run without a cluster. Contract in DESIGN.md "Snapshot"; schema.ts is the
// machine-checked form of these types.
import type { NodeNetworkStackDump } from '../../shared/dump';

/** A Kubernetes object as the API serves it (plain JSON; fields beyond these are kept as they are). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface SnapshotSettings {
  /** flannel | calico | generic … (detected or overridden); absent = not known yet. */
  networkPlugin?: string;
  /** Plugin backend, e.g. flannel `host-gw` / `vxlan`, calico `bgp` / `vxlan` / `ipip`. */
  backend?: string;
  /** kube-proxy mode: iptables | ipvs | nftables. */
  proxyMode?: string;
  /** Pod CIDRs of the nodes (`spec.podCIDRs`), sorted. */
  podCIDRs?: string[];
  serviceCIDRs?: string[];
  [key: string]: unknown;
}

export interface SnapshotObjects {
  nodes: K8sObject[];
  pods: K8sObject[];
  services: K8sObject[];
  /** `discovery.k8s.io/v1` shape, whatever version the cluster served (v1beta1 is converted). */
  endpointSlices: K8sObject[];
  /** The EndpointSlices as served, when they were converted from `discovery.k8s.io/v1beta1`. */
  originalEndpointSlices?: K8sObject[];
  /** Core Endpoints; services that have only these get EndpointSlices derived from them. */
  endpoints: K8sObject[];
  networkPolicies: K8sObject[];
  namespaces: K8sObject[];
  /** Only those detection reads (kube-system and CNI namespaces). */
  configMaps: K8sObject[];
  /** Calico IPPools (`crd.projectcalico.org/v1`), when the cluster has the CRD: pool CIDRs and modes. */
  ipPools?: K8sObject[];
  /** DaemonSets of kube-system and the CNI namespaces: which network plugin and proxy run. */
  daemonSets?: K8sObject[];
}

export const snapshotKind = 'NetpathSnapshot';
/** What writers write (format.ts); version 1 files are still read. */
export const snapshotVersion = 2;

export interface NetpathSnapshot {
  kind: typeof snapshotKind;
  version: 1 | typeof snapshotVersion;
  /** ISO 8601 UTC. */
  capturedAt: string;
  settings: SnapshotSettings;
  objects: SnapshotObjects;
  /** Node name → its dump. */
  dumps: Record<string, NodeNetworkStackDump>;
}

/** What detection reads: the objects and the run's settings (a snapshot, or a live cluster's objects with a Context). */
export type ClusterView = Pick<NetpathSnapshot, 'objects' | 'settings'>;
