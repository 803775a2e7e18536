#!/usr/bin/env bash
# Installs what real WebGPU needs on a GPU-less Debian machine: libvulkan1 + Mesa lavapipe >= 25
# (bookworm-backports, from the machine's own configured Debian mirror), falling back to the
# SwiftShader Vulkan ICD that Debian's chromium ships; and Debian's chromium itself for the browser
# tests (test/browser, DEVELOPERS.md) unless WGSEG_NO_BROWSER=1; and the DejaVu fonts the OCR tests
# draw text with. Idempotent; fast when already done.
set -euo pipefail

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
apt_updated=""
apt_update() { [ -n "$apt_updated" ] || { $SUDO apt-get update -qq || true; apt_updated=1; }; }

# Debian's /usr/bin/chromium for the browser tests; quiet when present. A failure here is reported
# but does not stop the suite: test/browser then fails loudly naming the reason.
ensure_chromium() {
  [ "${WGSEG_NO_BROWSER:-}" != 1 ] || return 0
  [ -x /usr/bin/chromium ] && return 0
  apt_update
  if $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null && [ -x /usr/bin/chromium ]; then
    echo "setup-webgpu: $(/usr/bin/chromium --version 2>/dev/null | head -1) installed for the browser tests"
  else
    echo "setup-webgpu: could not install Debian chromium; the browser tests will fail (WGSEG_NO_BROWSER=1 skips them)" >&2
  fi
}

# DejaVu TrueType fonts (Debian fonts-dejavu-core): the OCR tests render their text with them.
ensure_fonts() {
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && return 0
  apt_update
  $SUDO apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null \
    || echo "setup-webgpu: could not install fonts-dejavu-core; the OCR tests will fail naming the missing font" >&2
}
ensure_fonts

lavapipe_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 25 && dpkg -s libvulkan1 >/dev/null 2>&1
}

if lavapipe_ok; then
  echo "setup-webgpu: lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) present"
  ensure_chromium
  exit 0
fi

# The machine's configured Debian mirror (deb822 or one-line format); no host is named here.
mirror=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
[ -n "$mirror" ] || mirror=$(grep -hE '^\s*deb\s' /etc/apt/sources.list 2>/dev/null | grep -v security | awk '{print $2}' | head -1 || true)
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

if [ -n "$mirror" ] && ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb $mirror ${codename}-backports main" | $SUDO tee /etc/apt/sources.list.d/wgseg-backports.list >/dev/null
fi
apt_update
if $SUDO apt-get install -y -qq --no-install-recommends -t "${codename}-backports" mesa-vulkan-drivers libvulkan1 && lavapipe_ok; then
  echo "setup-webgpu: lavapipe $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) installed"
  ensure_chromium
  exit 0
fi

echo "setup-webgpu: lavapipe >= 25 unavailable; falling back to SwiftShader from Debian chromium" >&2
$SUDO apt-get install -y -qq --no-install-recommends libvulkan1 chromium
[ -f /usr/lib/chromium/vk_swiftshader_icd.json ] || { echo "setup-webgpu: no Vulkan ICD could be installed" >&2; exit 1; }
