#!/bin/bash
# Start the lab control plane on 127.0.0.1: etcd (Debian) + kube-apiserver + kube-controller-manager
# (v1.20.2 built by build.sh). RBAC, static-token auth (admin in system:masters, an unprivileged
# `viewer`), service-account signing keys. NETPATH_APISERVER_ARGS adds kube-apiserver flags (e.g. the
# kubelet address types the cluster tests' fake kubelet needs), NETPATH_KCM_ARGS kube-controller-manager
# flags (later flags win: the dual-stack lab passes both families' CIDRs and the IPv6DualStack gate). Writes $LAB_CP/kubeconfig (admin) and
# $LAB_CP/kubeconfig-viewer, context `lab`. Idempotent: a healthy running control plane is reused.
set -euo pipefail
. "$(dirname "$0")/env.sh"
mkdir -p "$LAB_CP/pki"
alive() { [ -f "$LAB_CP/$1.pid" ] && kill -0 "$(cat "$LAB_CP/$1.pid")" 2>/dev/null; }
ready() { [ -f "$LAB_CP/pki/tokens.csv" ] && curl -sk --http1.1 --max-time 2 -H "Authorization: Bearer $(head -1 "$LAB_CP/pki/tokens.csv" | cut -d, -f1)" \
  "https://127.0.0.1:$API_PORT/readyz" 2>/dev/null | grep -q '^ok$'; }
if alive etcd && alive apiserver && alive kcm && ready; then echo "lab control plane already running ($LAB_CP/kubeconfig)"; exit 0; fi
# something half-running: stop it cleanly first
"$(dirname "$0")/stop.sh" >/dev/null
for b in kube-apiserver kube-controller-manager; do [ -x "$K8S_DIR/bin/$b" ] || { echo "missing $K8S_DIR/bin/$b: run test/lab/k8s/build.sh" >&2; exit 1; }; done
command -v etcd >/dev/null || { echo "missing etcd: run test/lab/k8s/build.sh" >&2; exit 1; }
t0=$(date +%s%N)

# etcd, data in a fresh directory (removed by stop.sh)
D=$(mktemp -d "$LAB_CP/etcd-data.XXXX")
ETCD_UNSUPPORTED_ARCH= setsid etcd --name lab --data-dir "$D" \
  --listen-client-urls http://127.0.0.1:$ETCD_PORT --advertise-client-urls http://127.0.0.1:$ETCD_PORT \
  --listen-peer-urls http://127.0.0.1:$ETCD_PEER_PORT --initial-advertise-peer-urls http://127.0.0.1:$ETCD_PEER_PORT \
  --initial-cluster lab=http://127.0.0.1:$ETCD_PEER_PORT --log-level warn --logger zap >"$LAB_CP/etcd.log" 2>&1 </dev/null &
echo $! > "$LAB_CP/etcd.pid"
for i in $(seq 100); do ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:$ETCD_PORT endpoint health >/dev/null 2>&1 && break
  alive etcd || { echo "etcd died"; tail "$LAB_CP/etcd.log"; exit 1; }; sleep 0.1; done

# kube-apiserver
[ -f "$LAB_CP/pki/sa.key" ] || openssl genrsa -out "$LAB_CP/pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$LAB_CP/pki/sa.key" -pubout -out "$LAB_CP/pki/sa.pub" 2>/dev/null
tok() { head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
ADMIN_TOKEN=$(tok); VIEW_TOKEN=$(tok)
printf '%s,admin,uid-admin,"system:masters"\n%s,viewer,uid-viewer\n' "$ADMIN_TOKEN" "$VIEW_TOKEN" > "$LAB_CP/pki/tokens.csv"
chmod 600 "$LAB_CP/pki/tokens.csv" "$LAB_CP/pki/sa.key"
setsid "$K8S_DIR/bin/kube-apiserver" --etcd-servers=http://127.0.0.1:$ETCD_PORT --etcd-prefix=/netpath-lab \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=$API_PORT --insecure-port=0 --cert-dir="$LAB_CP/pki" \
  --token-auth-file="$LAB_CP/pki/tokens.csv" --authorization-mode=RBAC \
  --service-account-key-file="$LAB_CP/pki/sa.pub" --service-account-signing-key-file="$LAB_CP/pki/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range=10.96.0.0/16 --service-node-port-range=30000-32767 --allow-privileged=true \
  --disable-admission-plugins=ServiceAccount --enable-priority-and-fairness=false \
  --v=1 ${NETPATH_APISERVER_ARGS:-} >"$LAB_CP/apiserver.log" 2>&1 </dev/null &
echo $! > "$LAB_CP/apiserver.pid"
for kc in admin:$ADMIN_TOKEN viewer:$VIEW_TOKEN; do u=${kc%%:*}; f=$LAB_CP/kubeconfig$([ "$u" = admin ] || echo "-$u")
  cat > "$f" <<EOK
apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: "$LAB_CP/pki/apiserver.crt"}}]
users: [{name: $u, user: {token: "${kc#*:}"}}]
contexts: [{name: lab, context: {cluster: lab, user: $u}}]
current-context: lab
EOK
  chmod 600 "$f"
done
for i in $(seq 600); do ready && break
  alive apiserver || { echo "kube-apiserver died"; tail -20 "$LAB_CP/apiserver.log"; exit 1; }; sleep 0.1; done
ready || { echo "kube-apiserver not ready after 60 s"; tail -20 "$LAB_CP/apiserver.log"; exit 1; }

# kube-controller-manager: derives Endpoints/EndpointSlices, aggregates cluster roles, deletes namespaces
setsid "$K8S_DIR/bin/kube-controller-manager" --kubeconfig="$LAB_CP/kubeconfig" --leader-elect=false \
  --bind-address=127.0.0.1 --secure-port=$KCM_PORT --port=0 \
  --service-account-private-key-file="$LAB_CP/pki/sa.key" --root-ca-file="$LAB_CP/pki/apiserver.crt" \
  --cluster-cidr=10.244.0.0/16 --service-cluster-ip-range=10.96.0.0/16 --use-service-account-credentials=false \
  --controllers='*,-daemonset,-nodeipam,-nodelifecycle,-attachdetach,-persistentvolume-binder,-ttl' --v=1 ${NETPATH_KCM_ARGS:-} >"$LAB_CP/kcm.log" 2>&1 </dev/null &
echo $! > "$LAB_CP/kcm.pid"
sleep 1; alive kcm || { echo "kube-controller-manager died"; tail "$LAB_CP/kcm.log"; exit 1; }
# The unprivileged user may read what netpath reads, nothing more.
# The unprivileged `viewer` gets a read-only role (netpath's needs, nothing more). Through kubectl:
# this apiserver (old vendored reflect2 built with Go 1.23) panics decoding a JSON ClusterRoleBinding,
# kubectl sends protobuf for built-in types.
if command -v kubectl >/dev/null; then
  k() { KUBECONFIG="$LAB_CP/kubeconfig" kubectl "$@" 2> >(grep -v 'WARNING: version difference' >&2); }
  for i in $(seq 30); do k get clusterrole netpath-reader >/dev/null 2>&1 || k create clusterrole netpath-reader --verb=get,list,watch \
    --resource=pods,nodes,services,endpoints,namespaces,configmaps,endpointslices.discovery.k8s.io,networkpolicies.networking.k8s.io >/dev/null 2>&1
    k get clusterrolebinding netpath-reader >/dev/null 2>&1 || k create clusterrolebinding netpath-reader --clusterrole=netpath-reader --user=viewer >/dev/null 2>&1
    k get clusterrolebinding netpath-reader >/dev/null 2>&1 && break; sleep 0.3; done
else echo "no kubectl: viewer has no read role (it can only authenticate)" >&2; fi
echo "lab control plane up in $(( ($(date +%s%N)-t0)/1000000 )) ms: etcd $(cat "$LAB_CP/etcd.pid"), kube-apiserver $(cat "$LAB_CP/apiserver.pid") on 127.0.0.1:$API_PORT, kube-controller-manager $(cat "$LAB_CP/kcm.pid"); KUBECONFIG=$LAB_CP/kubeconfig (context lab)"
