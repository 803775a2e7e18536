#!/usr/bin/env bash
# npm run bench:gpu:kit: builds gpu-kit/ (ignored), everything the benchmarks need on a machine with
# an NVIDIA GPU but no Node.js and no network (docs/gpu-kit.md):
#   run.sh                 unpacks, finds the Vulkan driver, runs the steps, writes to $OUT
#   node.xz                this Node binary (process.execPath, symbols stripped), xz
#   app/*.mjs, chunks/     bench/kernels.ts, bench/peers/node.ts, scripts/gpu-kit/kit.ts bundled
#                          by vite (scripts/gpu-kit/vite.config.ts), shaders inlined
#   app/node_modules/      webgpu (index.js + dawn.node.xz) and onnxruntime-web (its WebGPU
#                          bundle + asyncify wasm.xz): the two packages left external
#   debs/                  Debian's libvulkan1 (the Vulkan loader), and libstdc++6 + libgcc-s1
#                          used only when the host's are too old for dawn.node (GLIBCXX_3.4.30)
#   MANIFEST.txt           versions, commit, sizes
# The peer rows it runs are built in code (bench/peers/models.ts): no model files to carry.
# Env: WGSEG_KIT_DIR (default gpu-kit), WGSEG_KIT_MAX_MB (default 60).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
KIT=${WGSEG_KIT_DIR:-$ROOT/gpu-kit}
MAX_MB=${WGSEG_KIT_MAX_MB:-60}
CACHE=$ROOT/node_modules/.cache/wgseg-gpu-kit
t0=$(date +%s)
say() { echo "[gpu-kit $(($(date +%s) - t0)) s] $*"; }

# xz -9 of a file, cached by content (the node binary takes a minute or two on 2 cores)
xz_cached() { # src dest
  local sum
  sum=$(sha256sum "$1" | cut -c1-16)
  mkdir -p "$CACHE"
  if [ ! -s "$CACHE/$sum.xz" ]; then
    xz -9 -T1 -c "$1" >"$CACHE/$sum.xz.tmp"
    mv "$CACHE/$sum.xz.tmp" "$CACHE/$sum.xz"
  fi
  cp "$CACHE/$sum.xz" "$2"
}

rm -rf "$KIT"
mkdir -p "$KIT/debs" "$KIT/app/node_modules/webgpu/dist/linux-x64" "$KIT/app/node_modules/onnxruntime-web/dist"

say "bundling the benches (vite, scripts/gpu-kit/vite.config.ts)"
WGSEG_KIT_APP="$KIT/app.tmp" node_modules/.bin/vite build --config scripts/gpu-kit/vite.config.ts
cp -r "$KIT/app.tmp/." "$KIT/app/" && rm -rf "$KIT/app.tmp"

NODE=$(node -p process.execPath)
say "node $(node --version) from $NODE: strip + xz"
strip -o "$KIT/node.stripped" "$NODE"
xz_cached "$KIT/node.stripped" "$KIT/node.xz"
rm "$KIT/node.stripped"

W=node_modules/webgpu
say "webgpu $(node -p "require('./$W/package.json').version"): dawn.node xz"
cp "$W/package.json" "$W/index.js" "$KIT/app/node_modules/webgpu/"
xz_cached "$W/dist/linux-x64/dawn.node" "$KIT/app/node_modules/webgpu/dist/linux-x64/dawn.node.xz"

O=node_modules/onnxruntime-web
say "onnxruntime-web $(node -p "require('./$O/package.json').version"): WebGPU bundle + asyncify wasm xz"
cp "$O/package.json" "$KIT/app/node_modules/onnxruntime-web/"
cp "$O/dist/ort.webgpu.bundle.min.mjs" "$O/dist/ort-wasm-simd-threaded.asyncify.mjs" "$KIT/app/node_modules/onnxruntime-web/dist/"
xz_cached "$O/dist/ort-wasm-simd-threaded.asyncify.wasm" \
  "$KIT/app/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm.xz"

say "Debian packages: apt-get download libvulkan1 libstdc++6 libgcc-s1"
(cd "$KIT/debs" && apt-get download libvulkan1 libstdc++6 libgcc-s1 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
ls "$KIT"/debs/libvulkan1_*.deb >/dev/null 2>&1 ||
  { echo "apt-get download libvulkan1 failed (try apt-get update first)" >&2; exit 1; }

cp scripts/gpu-kit/run.sh "$KIT/run.sh"
chmod +x "$KIT/run.sh"

{
  echo "wgseg GPU kit built $(date -u +%FT%TZ) on $(uname -srm)"
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (working tree has changes)')"
  echo "node $(node --version); webgpu $(node -p "require('./$W/package.json').version"); onnxruntime-web $(node -p "require('./$O/package.json').version")"
  echo "debs: $(cd "$KIT/debs" && ls | tr '\n' ' ')"
  echo
  (cd "$KIT" && find . -type f ! -name MANIFEST.txt -printf '%10s  %p\n' | sort -k2)
} >"$KIT/MANIFEST.txt"

bytes=$(du -sb "$KIT" | cut -f1)
mb=$(awk "BEGIN { printf \"%.1f\", $bytes / 1048576 }")
say "gpu-kit/ is $mb MiB ($bytes bytes) in $(find "$KIT" -type f | wc -l) files (limit $MAX_MB MiB)"
if [ "$bytes" -gt $((MAX_MB * 1048576)) ]; then
  echo "gpu-kit/ is over $MAX_MB MiB" >&2
  exit 1
fi
say "run it: OUT=<dir> bash gpu-kit/run.sh (dry run on lavapipe: WGSEG_KIT_ICD=/usr/share/vulkan/icd.d/lvp_icd.json)"
