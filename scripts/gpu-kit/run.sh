#!/usr/bin/env bash
# gpu-kit/run.sh (copied by scripts/gpu-kit/build.sh; docs/gpu-kit.md): the wgseg benchmarks on a
# machine with an NVIDIA GPU and neither Node.js nor network. Unpacks the kit into a scratch folder,
# points the Vulkan loader at the NVIDIA driver, then runs, each step under its own timeout and all
# within WGSEG_KIT_BUDGET_S (default 450 s, so the whole run ends in under 8 minutes):
#   probe    Dawn's adapters, the one used
#   kernels  bench/kernels.ts (GPU timestamps where the adapter has them)
#   peers    bench/peers/node.ts, wgseg vs onnxruntime-web WebGPU, one process per row
#   tuning   the autotuner's choice per node (session.tuning), every candidate measured
#   report   GFLOP/s and % of FP32 peak per conv layer, the peer table
# Everything goes to $OUT (default gpu-kit/out): run.log, <step>.log, kernels.json, peers.json,
# tuning.json (the tuning cache the steps filled), env.txt, summary.txt.
# Env: OUT; WGSEG_KIT_ICD (a Vulkan ICD json, e.g. lavapipe's for a dry run), WGSEG_ADAPTER (Dawn
# adapter name; default the first Vulkan adapter), WGSEG_KIT_PEERS (rows, comma-separated),
# WGSEG_KIT_RUNS (warm runs per peer row, default 20), WGSEG_KIT_BUDGET_S, WGSEG_KIT_KEEP=1 (keep the
# scratch folder), WGSEG_KIT_HOST_VULKAN=1 (the host's libvulkan.so.1 instead of the kit's).
set -uo pipefail
KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$KIT/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
START=$(date +%s)
DEADLINE=$((START + ${WGSEG_KIT_BUDGET_S:-450}))
PEERS=${WGSEG_KIT_PEERS:-conv3x3,atrous-d12,conv_transpose-k4s2,grid_sample,resize-x8,unet,deeplabv3-aspp}
RUNS=${WGSEG_KIT_RUNS:-20}
exec > >(tee -a "$OUT/run.log") 2>&1
say() { echo "[kit $(($(date +%s) - START)) s] $*"; }
left() { echo $((DEADLINE - $(date +%s))); }
: >"$OUT/summary.txt"

WORK=${WGSEG_KIT_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/wgseg-kit.XXXXXX")}
mkdir -p "$WORK"
cleanup() { [ -n "${WGSEG_KIT_KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT

# --- unpacking: xz and dpkg-deb, else python3's lzma / tarfile ----------------------------------
unxz_to() { # file.xz dest
  if command -v xz >/dev/null; then
    xz -dc "$1" >"$2"
  else
    python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"
  fi
}
deb_x() { # file.deb dir
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$1" "$2"
  else
    python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
pos = 8  # "!<arch>\n", then 60-byte member headers
while pos < len(data):
    name, size = data[pos:pos + 16].decode().strip(), int(data[pos + 48:pos + 58])
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(data[pos + 60:pos + 60 + size])).extractall(sys.argv[2])
    pos += 60 + size + (size & 1)
PY
  fi
}

say "kit $KIT -> scratch $WORK, output $OUT"
mkdir -p "$WORK/bin" "$WORK/vk" "$WORK/cxx"
unxz_to "$KIT/node.xz" "$WORK/bin/node" && chmod +x "$WORK/bin/node"
cp -r "$KIT/app" "$WORK/app"
find "$WORK/app" -name '*.xz' | while read -r f; do unxz_to "$f" "${f%.xz}" && rm "$f"; done
for d in "$KIT"/debs/*.deb; do deb_x "$d" "$WORK/root"; done
cp -a "$WORK"/root/usr/lib/x86_64-linux-gnu/libvulkan.so.1* "$WORK/vk/" 2>/dev/null
cp -a "$WORK"/root/usr/lib/x86_64-linux-gnu/libstdc++.so.6* "$WORK"/root/usr/lib/x86_64-linux-gnu/libgcc_s.so.1 "$WORK/cxx/" 2>/dev/null
NODE=$WORK/bin/node
[ -n "${WGSEG_KIT_HOST_VULKAN:-}" ] || export LD_LIBRARY_PATH="$WORK/vk${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
DAWN=$WORK/app/node_modules/webgpu/dist/linux-x64/dawn.node
if ! "$NODE" -e "require('$DAWN')" 2>"$WORK/dawn-load.txt"; then
  # dawn.node wants GLIBCXX_3.4.30 (GCC 12's libstdc++): Debian's, from the kit
  say "node or dawn.node does not load with the host's libraries ($(head -c 300 "$WORK/dawn-load.txt")): adding the kit's libstdc++"
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$WORK/cxx"
  "$NODE" -e "require('$DAWN')" || { say "dawn.node still does not load: stop"; exit 1; }
fi
say "unpacked: node $("$NODE" --version), $(du -sh "$WORK" | cut -f1)"

# --- the Vulkan driver ---------------------------------------------------------------------------
find_icd() {
  local d f lib
  for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
    for f in "$d"/nvidia_icd*.json; do [ -f "$f" ] && { echo "$f"; return; }; done
  done
  lib=$( (ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ { print $NF; exit }'))
  [ -n "$lib" ] || lib=$(find /usr/lib /usr/lib64 /usr/local/nvidia /usr/local/lib -name 'libGLX_nvidia.so.0' 2>/dev/null | head -1)
  [ -n "$lib" ] || return 1
  for f in "$(dirname "$lib")"/nvidia_icd*.json "$(dirname "$lib")"/vulkan/icd.d/nvidia_icd*.json; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
  # the driver is there without its ICD file (containers often mount the library alone): write one
  printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' \
    "$lib" >"$WORK/nvidia_icd.json"
  echo "$WORK/nvidia_icd.json"
}
if [ -n "${WGSEG_KIT_ICD:-}" ] && [ ! -f "$WGSEG_KIT_ICD" ]; then
  say "WGSEG_KIT_ICD=$WGSEG_KIT_ICD: no such file ($(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | tr '\n' ' '))"
  exit 1
fi
ICD=${WGSEG_KIT_ICD:-$(find_icd)}
if [ -z "$ICD" ] || [ ! -f "$ICD" ]; then
  say "no NVIDIA Vulkan ICD (nvidia_icd.json or libGLX_nvidia.so.0) found; set WGSEG_KIT_ICD"
else
  export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD
  say "Vulkan ICD $ICD: $(tr -s ' \n' ' ' <"$ICD")"
fi
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm); $(grep PRETTY_NAME /etc/os-release 2>/dev/null)"
  echo "cpus: $(nproc)"
  echo "ICD: ${ICD:-none}; LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi -L
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv
  else
    echo "nvidia-smi: not found"
  fi
  echo
  cat "$KIT/MANIFEST.txt"
} >"$OUT/env.txt" 2>&1
command -v nvidia-smi >/dev/null && nvidia-smi -L
GPU=$(nvidia-smi -L 2>/dev/null | sed -n '1s/^GPU [0-9]*: \(.*\) (UUID.*/\1/p')

# --- the steps -----------------------------------------------------------------------------------
export WGSEG_BENCH_ROOT=$WORK/app WGSEG_TUNING_CACHE=$WORK/tuning.json MESA_SHADER_CACHE_DISABLE=true
cd "$WORK/app"
step() { # name limit_s reserve_s (seconds kept for the steps after it) command...
  local name=$1 limit=$2 reserve=$3 t rc s0
  shift 3
  t=$(($(left) - reserve))
  [ "$t" -lt "$limit" ] && limit=$t
  if [ "$limit" -lt 10 ]; then
    say "$name: skipped, $(left) s left"
    echo "$name skipped" >>"$OUT/summary.txt"
    return 1
  fi
  say "$name: $* (timeout ${limit} s)"
  s0=$(date +%s)
  timeout -k 5 "$limit" "$@" 2>&1 | tee -a "$OUT/$name.log"
  rc=${PIPESTATUS[0]}
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && say "$name: timed out after $limit s"
  echo "$name rc=$rc $(($(date +%s) - s0)) s" >>"$OUT/summary.txt"
  return "$rc"
}

step probe 60 300 "$NODE" kit.mjs probe || { say "no adapter: stop"; cat "$OUT/summary.txt"; exit 1; }
[ -n "${WGSEG_ADAPTER:-}" ] || export WGSEG_ADAPTER=$(sed -n 's/^ADAPTER=//p' "$OUT/probe.log" | tail -1)
# the % of peak is the NVIDIA GPU's only when Dawn runs on it (not on a software adapter beside it)
case "$WGSEG_ADAPTER" in *NVIDIA* | *nvidia*) [ -n "$GPU" ] || GPU=$WGSEG_ADAPTER ;; *) GPU=$WGSEG_ADAPTER ;; esac
say "adapter \"$WGSEG_ADAPTER\", GPU \"$GPU\""

step kernels 120 240 "$NODE" kernels.mjs --json "$OUT/kernels.json"
rm -f "$OUT/peers.json"
IFS=, read -ra rows <<<"$PEERS"
for r in "${rows[@]}"; do
  # one process tree per row; --merge adds its rows to peers.json
  step "peers-$r" 100 100 "$NODE" peers.mjs --only "$r" --engines wgseg,ort-webgpu --runs "$RUNS" \
    --json "$OUT/peers.json" --merge
done
step tuning 80 20 "$NODE" kit.mjs tuning --only conv3x3,unet,deeplabv3-aspp
step report 20 0 "$NODE" kit.mjs report --gpu "$GPU" --kernels "$OUT/kernels.json" --peers "$OUT/peers.json"
cp "$OUT/report.log" "$OUT/report.txt" 2>/dev/null
[ -f "$WGSEG_TUNING_CACHE" ] && cp "$WGSEG_TUNING_CACHE" "$OUT/tuning.json"
say "done in $(($(date +%s) - START)) s; steps:"
cat "$OUT/summary.txt"
