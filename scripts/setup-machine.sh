#!/usr/bin/env bash
# Sets up a fresh Debian machine (as root) for the whole test suite, all in one place: the network
# tools the collector dumps and the kernel ground-truth tests drive, the lab's Kubernetes control
# plane, and code-server + Chromium for the real-VS Code and webview tests. Idempotent; the
# builds are cached outside the repo (~/.cache/netpath), so a second run takes seconds.
# Without it `npm test` still passes: the tests that need what is missing skip and say why.
#   bash scripts/setup-machine.sh          then: npm ci && npm test
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "setup-machine: needs root (apt-get, network namespaces)" >&2; exit 1; }
t0=$(date +%s)

# Network tools; dash/busybox to prove the collector script is POSIX sh.
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  iproute2 iptables ipset ipvsadm nftables conntrack socat netcat-openbsd kmod procps dash busybox >/dev/null
echo "setup-machine: apt packages ready after $(( $(date +%s) - t0 )) s"

# The lab's Kubernetes control plane (kube-apiserver, controller-manager, kube-proxy built offline
# from Debian's source package; cached in ~/.cache/netpath/k8s, ~5-7 min cold).
bash test/lab/k8s/build.sh
echo "setup-machine: Kubernetes control plane ready after $(( $(date +%s) - t0 )) s"

# VS Code (code-server) and Chromium for the real-VS Code and webview tests, cached outside the repo.
bash test/vscode/ci-setup.sh
echo "setup-machine: VS Code test environment ready after $(( $(date +%s) - t0 )) s"
