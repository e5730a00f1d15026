#!/usr/bin/env bash
# What CI runs before `npm test` so the real-VS Code and browser tests run instead of failing:
# the cached install of Debian chromium (+ build deps), Node 24 and code-server (setup.sh).
# Cold about 3 min on 2 cores (apt + npm registry only), warm well under a second.
set -euo pipefail
cd "$(dirname "$0")/../.."
t0=$(date +%s)
bash test/vscode/setup.sh
[ -x /usr/bin/chromium ] && echo "ci-setup: chromium $(dpkg-query -W -f '${Version}' chromium)"
echo "ci-setup: VS Code test prerequisites ready after $(( $(date +%s) - t0 )) s"
