#!/usr/bin/env bash
# node_modules on a fresh clone: `npm ci` (which also builds dist/) when they are missing, its output
# shown only if it fails. Plain bash: `npm start` and `npm test` run it before node_modules exist.
set -euo pipefail
cd "$(dirname "$0")/.."
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null \
  || { echo "wgseg needs Node.js >= 20 (this is $(node --version 2>/dev/null || echo 'no node'))" >&2; exit 1; }
if [ ! -x node_modules/.bin/vite ] || [ ! -d node_modules/webgpu ]; then
  echo "installing node_modules (npm ci; it also builds dist/) ..."
  s=$(date +%s)
  log=$(mktemp)
  if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  echo "installed in $(($(date +%s) - s)) s"
fi
