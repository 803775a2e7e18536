#!/usr/bin/env bash
# `npm start`: the first five minutes on a fresh clone. Installs what is missing (node_modules by
# `npm ci`, which also builds dist/; the software WebGPU driver by scripts/setup-webgpu.sh), then
# segments the bundled sample picture with the bundled selfie model on WebGPU in Node, writing the
# mask and a cut-out as PNG files into out/, and says what to try next. Plain bash + node: it runs
# before node_modules exist. Nothing is downloaded but npm and apt packages.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=demos/widget/person.jpg # drawn by test/helpers/widget-image.ts (tools/make-widget-image.ts)
OUT=out
t0=$(date +%s)
say() { printf '%s\n' "$*"; }
quiet() { # run "$@" with its output kept back, shown only if it fails
  local log
  log=$(mktemp)
  if "$@" >"$log" 2>&1; then rm -f "$log"; else
    local rc=$?
    cat "$log" >&2
    rm -f "$log"
    return $rc
  fi
}

bash scripts/ensure-deps.sh | sed 's/^/npm start: /'
# dist/ (the built CLI) missing or older than the sources: rebuild it
if [ ! -f dist/cli.js ] || [ -n "$(find src shaders package.json -newer dist/cli.js -print -quit)" ]; then
  say "npm start: building dist/ (npm run build:cli) ..."
  quiet npm run build:cli
fi

# the software Vulkan driver Dawn needs on a GPU-less machine (lavapipe, else SwiftShader); the
# script does nothing when it is present. No browser: npm start runs in Node.
if ! setup=$(WGSEG_NO_BROWSER=1 bash scripts/setup-webgpu.sh 2>&1); then
  printf '%s\n' "$setup" >&2
  say "npm start: could not install the WebGPU driver (above); trying anyway" >&2
elif grep -q 'installed\|falling back' <<<"$setup"; then
  grep '^setup-webgpu:' <<<"$setup" || true # what was installed, without apt's own lines
fi

mkdir -p "$OUT"
say ""
say "Segmenting $IMAGE with the bundled selfie model (models/selfie/, MediaPipe, Apache-2.0) on WebGPU in Node:"
for mode in mask cutout; do
  cmd=(node bin/wgseg.js segment "$IMAGE" --mode "$mode" --out "$OUT/person-$mode.png")
  say ""
  say "\$ npx wgseg segment $IMAGE --mode $mode --out $OUT/person-$mode.png"
  "${cmd[@]}"
done

say ""
say "Done in $(($(date +%s) - t0)) s: $OUT/person-mask.png (the mask, grey) and $OUT/person-cutout.png (the person, transparent around)."
say ""
say "Next:"
say "  npm run dev        serves the live demos (webcam segmentation, the <wgseg-view> widget, OCR, ...):"
say "                     open the printed http://localhost URL in Chrome or Edge (WebGPU)"
say "  your own picture   npx wgseg segment photo.jpg --mode blur --out blurred.png   (mask|cutout|blur|replace)"
say "  your own model     npx wgseg segment photo.jpg --model my-mask-model.onnx --out mask.png"
say "                     (one RGB input, [1,h,w,3] or [1,3,h,w] in [0,1], one mask output; .onnx or .tflite)"
say "  any ONNX model     npx wgseg inspect model.onnx; npx wgseg run model.onnx --input x=x.npy --out out/"
say "  in code            import { Session } from 'wgseg'   (README.md, docs/api.md)"
say "  the tests          npm test"
