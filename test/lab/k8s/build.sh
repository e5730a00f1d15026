#!/bin/bash
# Obtain the lab's Kubernetes control plane OFFLINE (only Debian's apt repositories are reachable):
# kube-apiserver, kube-controller-manager and kube-proxy v1.20.2 built from Debian bookworm's
# `kubernetes` source package (its orig tarball carries the full upstream tree incl. vendor/) with
# Go 1.23 from bookworm-backports; etcd from Debian's etcd-server. Binaries are cached in
# ${NETPATH_K8S_DIR:-~/.cache/netpath/k8s}/bin and reused when present (~7 min cold on 2 cores).
# Usage: build.sh            (idempotent; prints the binary paths)
set -euo pipefail
WD=${NETPATH_K8S_DIR:-${HOME:-/root}/.cache/netpath/k8s}; mkdir -p "$WD/bin" "$WD/debsrc"
WANT=(kube-apiserver kube-controller-manager kube-proxy)
missing=(); for b in "${WANT[@]}"; do [ -x "$WD/bin/$b" ] || missing+=("$b"); done
have_tools() { command -v etcd >/dev/null && command -v etcdctl >/dev/null && command -v openssl >/dev/null; }
if [ ${#missing[@]} -eq 0 ] && have_tools; then
  for b in "${WANT[@]}"; do echo "cached: $WD/bin/$b"; done; exit 0
fi
[ "$(id -u)" = 0 ] || { echo "build.sh: needs root (apt-get) for the first build" >&2; exit 1; }
t0=$(date +%s)
# Use the machine's own Debian mirror, exactly as apt is already configured.
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
added=0
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$MIRROR" > /etc/apt/sources.list.d/netpath-bookworm-backports.sources; added=1
fi
if ! grep -rqs 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb-src\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$MIRROR" > /etc/apt/sources.list.d/netpath-src.sources; added=1
fi
[ $added = 0 ] || apt-get update -qq
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq -t bookworm-backports golang-1.23-go >/dev/null
apt-get install -y -qq dpkg-dev rsync openssl etcd-server etcd-client socat >/dev/null
# kubectl: Debian's kubernetes-client, unless some kubectl is already installed.
command -v kubectl >/dev/null || apt-get install -y -qq kubernetes-client >/dev/null || echo "no kubectl from apt (the lab uses @kubernetes/client-node)"
echo "apt done: $(( $(date +%s)-t0 )) s"
cd "$WD/debsrc"
ls -d kubernetes-1.20*/ >/dev/null 2>&1 || apt-get source -qq kubernetes=1.20.5+really1.20.2-1.1+deb12u1 2>&1 | grep -v 'unsandboxed' || true
ls -d kubernetes-1.20*/ >/dev/null 2>&1 || apt-get source -qq kubernetes 2>&1 | grep -v 'unsandboxed' || true
SRC=$(ls -d "$WD"/debsrc/kubernetes-1.20*/ | head -1); echo "source ready ($SRC): $(( $(date +%s)-t0 )) s"
export PATH=/usr/lib/go-1.23/bin:$PATH GOTOOLCHAIN=local GOPROXY=off CGO_ENABLED=0 GOCACHE=$WD/gocache HOME=${HOME:-/root}
export KUBE_GIT_VERSION=v1.20.2 KUBE_GIT_TREE_STATE=clean KUBE_GIT_COMMIT=faecb196815e248d3ecfb03c680a4507229c2a56
for b in "${missing[@]}"; do
  t1=$(date +%s)
  ( cd "$SRC" && make WHAT=cmd/$b ) >"$WD/build-$b.log" 2>&1 || { tail -30 "$WD/build-$b.log"; exit 1; }
  cp "$SRC/_output/bin/$b" "$WD/bin/$b.tmp" && mv "$WD/bin/$b.tmp" "$WD/bin/$b"
  echo "built $b ($("$WD/bin/$b" --version 2>&1 | head -1)) in $(( $(date +%s)-t1 )) s"
done
echo "control plane ready in $WD/bin, total $(( $(date +%s)-t0 )) s"
