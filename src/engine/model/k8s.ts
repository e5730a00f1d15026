// Kubernetes-side views of the seed (Pod/PodMeta, NodeInfo/NodeMeta) and the dump contract
// re-exported under the seed's name. The datapath works on NodeStack/NetNS; these are what a
// plugin or a report needs to say which pod and node a NetNode stands for.
export type { NodeNetworkStackDump, NetNSInfo } from '../../shared/dump';
import type { NetNSInfo, NodeNetworkStackDump } from '../../shared/dump';

export interface PodMeta {
  namespace: string;
  podName: string;
  nodeName: string;
  hostNetwork: boolean;
}

export interface NodeMeta {
  nodeName: string;
}

/** A pod and the network namespace that holds its interfaces (the node's for hostNetwork pods). */
export interface Pod {
  meta: PodMeta;
  netns?: NetNSInfo;
}

/** A node, its own netns and every other netns found on it. */
export interface NodeInfo {
  meta: NodeMeta;
  netns?: NetNSInfo;
  subNetNSInfo: NetNSInfo[];
  dump?: NodeNetworkStackDump;
}
