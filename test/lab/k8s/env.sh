# Shared paths and ports of the lab control plane (sourced by start.sh/stop.sh).
# Ports differ from the recipes' so a recipe run elsewhere on the machine cannot collide.
K8S_DIR=${NETPATH_K8S_DIR:-${HOME:-/root}/.cache/netpath/k8s}
LAB_CP=${NETPATH_LAB_CP:-${HOME:-/root}/.cache/netpath/lab-cp}
ETCD_PORT=${NETPATH_ETCD_PORT:-23890}; ETCD_PEER_PORT=$((ETCD_PORT+10))
API_PORT=${NETPATH_API_PORT:-16543}; KCM_PORT=${NETPATH_KCM_PORT:-10357}
