# netpath collector: dumps the network stack of a node's network namespaces.
# POSIX sh (dash, busybox ash); no bash-isms, no jq. Runs in a collector pod (hostPID,
# hostNetwork, privileged) or locally as root:
#
#   sh collect.sh [--host-pid PID] [--pids PID,PID,...] [--jobs N (default 2)] [--gzip]
#
# Host netns = netns of --host-pid (default 1). Pod netns = netns of --pids (default: every other
# netns found under /proc/*/ns/net; `--pids ''` for none), de-duplicated by netns inode.
#
# stdout is the whole dump and nothing else (netpath reads it from the pod log); diagnostics go to
# stderr. The dump is a framed stream that netpath converts into a NodeNetworkStackDump:
#
#   netpath-collector 1 <B>                         first line; <B> is a random boundary token
#   <B> meta <startedAt ISO> <uptime seconds>
#   <B> kernel <ip6mr 0|1> <release>                the node's kernel (absent if unreadable): IPv6
#                                                   multicast routing built in (/proc/net/ip6_mr_vif
#                                                   exists), and `uname -r`
#   <B> netns <inode> host|pod <pid,pid,...>
#   <B> frame <inode> <tool> <exit> <outBytes> <errBytes>
#   <outBytes bytes of stdout><errBytes bytes of stderr>\n
#   <B> end <uptime seconds>
#
# Byte counts make the framing exact whatever a tool prints; the boundary and the `end` line
# detect a truncated or corrupted stream (e.g. a rotated pod log).
# With --gzip the whole stream is gzip'ed and base64'ed after a `netpath-collector-gzip 1` line
# (pod logs are size-limited; iptables dumps of big clusters compress ~20x).

NP_FORMAT=1
host_pid=1
pids=
pids_given=
jobs=2
gzip_out=
while [ $# -gt 0 ]; do
  case $1 in
    --host-pid) host_pid=$2; shift 2 ;;
    --host-pid=*) host_pid=${1#*=}; shift ;;
    --pids) pids=$2; pids_given=1; shift 2 ;;
    --pids=*) pids=${1#*=}; pids_given=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    --gzip) gzip_out=1; shift ;;
    *) echo "netpath-collector: unknown argument: $1" >&2; exit 2 ;;
  esac
done
case $host_pid in ''|*[!0-9]*) echo "netpath-collector: --host-pid must be a process id, got '$host_pid'" >&2; exit 2 ;; esac
case $jobs in ''|*[!0-9]*|0) echo "netpath-collector: --jobs must be a positive number, got '$jobs'" >&2; exit 2 ;; esac
case $pids in *[!0-9,]*) echo "netpath-collector: --pids must be a comma-separated list of process ids, got '$pids'" >&2; exit 2 ;; esac

# The per-netns dumper. It runs inside the target netns (nsenter … sh -c "$NS_DUMP"), or in this
# shell when the target is our own netns. Inputs come in the environment: NP_B (boundary), NP_NS
# (netns inode), NP_T (scratch file prefix), NP_IPT_* (iptables-save commands per backend).
NS_DUMP=$(cat <<'NETPATH_NS_DUMP_EOF'
np_emit() { # tool exit: frame of the captured $NP_T.o / $NP_T.e (stderr kept only on failure)
  np_ob=$(wc -c <"$NP_T.o")
  if [ "$2" = 0 ]; then
    printf '%s frame %s %s 0 %d 0\n' "$NP_B" "$NP_NS" "$1" $np_ob
    cat "$NP_T.o"
  else
    head -c 2000 "$NP_T.e" >"$NP_T.e2"
    printf '%s frame %s %s %d %d %d\n' "$NP_B" "$NP_NS" "$1" "$2" $np_ob "$(wc -c <"$NP_T.e2")"
    cat "$NP_T.o" "$NP_T.e2"
  fi
  printf '\n'
}
np_run() { # tool command...: run the command and emit its frame
  np_tool=$1; shift
  "$@" >"$NP_T.o" 2>"$NP_T.e"
  np_emit "$np_tool" $?
}
np_has_tables() { # /proc/net/ip{,6}_tables_names non-empty: the legacy backend has tables here
  [ -r "/proc/net/$1" ] && [ -n "$(cat "/proc/net/$1" 2>/dev/null)" ]
}
np_run ip-link ip -j -d link show
np_run ip-addr ip -j -d addr show
np_run ip-route ip -j route show table all
np_run ip6-route ip -6 -j route show table all
np_run ip-rule ip -j rule show
np_run ip6-rule ip -6 -j rule show
np_run ip-neigh ip -4 -j neigh show
np_run ip6-neigh ip -6 -j neigh show
np_run ip6-neigh-proxy ip -6 -j neigh show proxy
np_run bridge-fdb bridge -j fdb show
# iptables: read every backend that can hold rules here; netpath keeps those that do. The legacy
# backend is read only when its tables exist (running it otherwise would load ip_tables).
[ -n "$NP_IPT_NFT" ] && np_run iptables-nft $NP_IPT_NFT
[ -n "$NP_IPT_LEGACY" ] && np_has_tables ip_tables_names && np_run iptables-legacy $NP_IPT_LEGACY
[ -n "$NP_IP6T_NFT" ] && np_run ip6tables-nft $NP_IP6T_NFT
[ -n "$NP_IP6T_LEGACY" ] && np_has_tables ip6_tables_names && np_run ip6tables-legacy $NP_IP6T_LEGACY
np_run ipset ipset save
# ipvsadm would modprobe ip_vs; without the module there are no virtual servers to read.
if [ -e /proc/net/ip_vs ]; then np_run ipvs ipvsadm -Sn; else : >"$NP_T.o"; np_emit ipvs 0; fi
np_run nft nft -j list ruleset
# nft -j (1.0.6 among others) leaves out the devices of netdev chains, which the text listing
# prints: list it too when a base chain at ingress or egress has none in the JSON. The JSON is cut
# at each `{` into lines; `{"` cannot occur inside a JSON string, so a line starting with `"` is
# an object's start and one that does not continues the one before (a `{` in a name). The object
# after a `"chain": ` line is the chain (it holds no object), so no name can hide a chain or fake one.
np_nft_devices_missing() { # file: nft -j output
  tr '{\n' '\n ' <"$1" | awk '
    function done() { if (o ~ /"hook": *"(ingress|egress)"/ && o !~ /"dev(ices)?": */) found = 1; o = ""; c = 0 }
    /^ *"/ { if (c) done(); if (h) { o = $0; c = 1 }; h = ($0 ~ /^ *"chain": *$/); next }
    c { o = o "{" $0 }
    END { if (c) done(); exit !found }'
}
np_nft_devices_missing "$NP_T.o" && np_run nft-text nft list ruleset
# The -m recent lists (per netns; no directory = xt_recent not loaded, no list exists): each as a
# line `list <name length> <name>`, then the file, so that no list name can fake another line.
: >"$NP_T.o"
for np_f in /proc/net/xt_recent/*; do
  [ -f "$np_f" ] || continue
  np_n=${np_f##*/}
  printf 'list %d %s\n' "$(printf %s "$np_n" | wc -c)" "$np_n" >>"$NP_T.o"
  cat "$np_f" >>"$NP_T.o" 2>>"$NP_T.e"
done
np_emit xt-recent 0
if command -v ss >/dev/null 2>&1 && ss -Htuln >"$NP_T.o" 2>"$NP_T.e"; then
  np_emit ss 0
else
  np_run ss ss -Htuln
  for np_f in tcp tcp6 udp udp6; do np_run "proc-net-$np_f" cat "/proc/net/$np_f"; done
fi
# Sysctls: the netns-scoped net.* keys, read straight from /proc/sys/net (one grep: ~6x faster
# than `sysctl net`, which matters with 100+ netns); `sysctl net` is the fallback. grep exits 2
# when some file is unreadable (write-only keys such as route/flush): the rest is still valid.
grep -r '' /proc/sys/net >"$NP_T.o" 2>"$NP_T.e"
np_rc=$?
if [ -s "$NP_T.o" ]; then
  np_emit proc-sys-net 0
else
  np_emit proc-sys-net $np_rc
  np_run sysctl sysctl net
fi
rm -f "$NP_T.o" "$NP_T.e" "$NP_T.e2"
NETPATH_NS_DUMP_EOF
)

NP_SH=${NETPATH_SH:-sh}
NP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/netpath-collector.XXXXXX") || { echo "netpath-collector: cannot create a scratch directory" >&2; exit 1; }
trap 'rm -rf "$NP_DIR"' EXIT
trap 'exit 130' INT TERM HUP

uptime_now() { read -r np_up _ </proc/uptime; echo "$np_up"; }
kernel_line() { # the kernel record, or nothing when the release cannot be read
  np_rel=$(head -n 1 /proc/sys/kernel/osrelease 2>/dev/null) || np_rel=
  [ -n "$np_rel" ] || np_rel=$(uname -r 2>/dev/null | head -n 1)
  [ -n "$np_rel" ] || return 0
  if [ -e /proc/net/ip6_mr_vif ]; then np_mr=1; else np_mr=0; fi
  printf '%s kernel %s %s\n' "$NP_B" "$np_mr" "$np_rel"
}
netns_of() { # pid -> inode of its netns, or nothing
  np_l=$(readlink "/proc/$1/ns/net" 2>/dev/null) || return 1
  np_l=${np_l#net:[}; echo "${np_l%]}"
}

# iptables-save commands per backend; plain iptables-save is classified by its version banner.
pick_ipt() { # family(iptables|ip6tables) -> sets ipt_nft ipt_legacy
  ipt_nft=; ipt_legacy=
  command -v "$1-nft-save" >/dev/null 2>&1 && ipt_nft="$1-nft-save"
  command -v "$1-legacy-save" >/dev/null 2>&1 && ipt_legacy="$1-legacy-save"
  if [ -z "$ipt_nft$ipt_legacy" ] && command -v "$1-save" >/dev/null 2>&1; then
    case $("$1-save" --version 2>&1) in
      *nf_tables*) ipt_nft="$1-save" ;;
      *) ipt_legacy="$1-save" ;;
    esac
  fi
}
pick_ipt iptables; NP_IPT_NFT=$ipt_nft; NP_IPT_LEGACY=$ipt_legacy
pick_ipt ip6tables; NP_IP6T_NFT=$ipt_nft; NP_IP6T_LEGACY=$ipt_legacy
export NP_IPT_NFT NP_IPT_LEGACY NP_IP6T_NFT NP_IP6T_LEGACY

NP_B="@NP$(tr -d '-' </proc/sys/kernel/random/uuid 2>/dev/null || date +%s)$$"
export NP_B
self_ns=$(netns_of self)
host_ns=$(netns_of "$host_pid") || { echo "netpath-collector: cannot read the netns of host pid $host_pid" >&2; exit 1; }

# "inode pid" lines of the pod netns, sorted, then grouped to "inode pid,pid,...".
if [ -n "$pids_given" ]; then
  for p in $(echo "$pids" | tr ',' ' '); do
    if ns=$(netns_of "$p"); then echo "$ns $p"; else echo "$p" >>"$NP_DIR/badpids"; fi
  done
else
  # One ls for all processes: "... /proc/PID/ns/net -> net:[INODE]".
  ls -l /proc/[0-9]*/ns/net 2>/dev/null | awk '$(NF-1) == "->" { t = $NF; p = $(NF-2); gsub(/[^0-9]/, "", t); sub(/^\/proc\//, "", p); sub(/\/.*/, "", p); if (t != "" && p != "") print t, p }'
fi | awk -v host="$host_ns" '$1 != host' | sort -n -k1,1 -k2,2 | awk '
  $1 != ns { if (ns != "") print ns, list; ns = $1; list = $2; next }
  { list = list "," $2 }
  END { if (ns != "") print ns, list }' >"$NP_DIR/netns"

dump_netns() { # inode role pids
  printf '%s netns %s %s %s\n' "$NP_B" "$1" "$2" "$3"
  NP_NS=$1; NP_T="$NP_DIR/t.$1"; export NP_NS NP_T
  if [ "$1" = "$self_ns" ]; then
    ( eval "$NS_DUMP" )
  else
    np_pid=${3%%,*}
    if command -v nsenter >/dev/null 2>&1; then
      nsenter "--net=/proc/$np_pid/ns/net" $NP_SH -c "$NS_DUMP" 2>"$NP_T.ns"
    else
      # Fallback: name the netns for `ip netns exec` just for this run.
      ip netns attach "netpath-$$-$1" "$np_pid" 2>"$NP_T.ns" &&
        ip netns exec "netpath-$$-$1" $NP_SH -c "$NS_DUMP" 2>>"$NP_T.ns"
      np_rc=$?; ip netns delete "netpath-$$-$1" 2>/dev/null; (exit $np_rc)
    fi
    np_rc=$?
    if [ $np_rc != 0 ]; then
      : >"$NP_T.o"; head -c 2000 "$NP_T.ns" >"$NP_T.e"
      printf '%s frame %s %s %d %d %d\n' "$NP_B" "$1" nsenter $np_rc 0 "$(wc -c <"$NP_T.e")"
      cat "$NP_T.e"; printf '\n'
    fi
    rm -f "$NP_T.ns" "$NP_T.o" "$NP_T.e"
  fi
}

main() {
  printf 'netpath-collector %s %s\n' "$NP_FORMAT" "$NP_B"
  printf '%s meta %s %s\n' "$NP_B" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uptime_now)"
  kernel_line
  if [ -s "$NP_DIR/badpids" ]; then
    for p in $(cat "$NP_DIR/badpids"); do
      printf 'no such process (or no access to /proc/%s/ns/net)\n' "$p" >"$NP_DIR/e"
      printf '%s frame 0 pid:%s 1 0 %d\n' "$NP_B" "$p" "$(wc -c <"$NP_DIR/e")"
      cat "$NP_DIR/e"; printf '\n'
    done
  fi
  dump_netns "$host_ns" host "$host_pid"
  if [ "$jobs" = 1 ]; then
    while read -r ns list; do dump_netns "$ns" pod "$list"; done <"$NP_DIR/netns"
  else
    # Up to $jobs netns at once, each into its own file, printed in order afterwards.
    n=0
    while read -r ns list; do
      dump_netns "$ns" pod "$list" >"$NP_DIR/out.$ns" &
      n=$((n + 1))
      if [ $((n % jobs)) = 0 ]; then wait; fi
    done <"$NP_DIR/netns"
    wait
    while read -r ns list; do cat "$NP_DIR/out.$ns"; rm -f "$NP_DIR/out.$ns"; done <"$NP_DIR/netns"
  fi
  printf '%s end %s\n' "$NP_B" "$(uptime_now)"
}

if [ -n "$gzip_out" ]; then
  echo "netpath-collector-gzip $NP_FORMAT"
  main | gzip -c | base64
else
  main
fi
