#!/bin/bash
# Stop the lab control plane started by start.sh, by PID (never by name), and remove etcd's data.
. "$(dirname "$0")/env.sh"
for p in kcm apiserver etcd; do
  f=$LAB_CP/$p.pid; [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    echo "stopped $p ($pid)"
  fi
  rm -f "$f"
done
rm -rf "$LAB_CP"/etcd-data.*
