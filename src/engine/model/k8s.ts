// The seed's Kubernetes-side structures, and where each lives in netpath:
// * NodeNetworkStackDump / NetNSInfo — the dump contract (src/shared/dump.ts), re-exported here;
// * Pod / PodMeta — ClusterPod (k8s/objects.ts): metadata, node, hostNetwork, IPs, readiness;
//   its netns is found by IP (snapshot/pod-netns.ts);
// * NodeInfo / NodeMeta — ClusterNode (k8s/objects.ts) and NodeStack (datapath/node-stack.ts),
//   which holds the node's own netns and every other netns found on it.
export type { NodeNetworkStackDump, NetNSInfo } from '../../shared/dump';
