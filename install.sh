#!/usr/bin/env bash
# Installs musicscape on Debian/Ubuntu: system libraries (apt), then a virtual environment
# in .venv with the package in editable mode.
#   ./install.sh          the app (ONNX Runtime on CPU)
#   ./install.sh --gpu    the app with onnxruntime-gpu (CUDA) instead
#   ./install.sh --train  also torch and the training/export tools
#   ./install.sh --vj     also OSC and MIDI control (python-osc, mido, python-rtmidi, zeroconf)
#   ./install.sh --ndi    also NDI output (cyndilib, which bundles Vizrt's NDI runtime)
#   ./install.sh --link   also Ableton Link (LinkPython-extern, with Ableton's GPL Link)
#   ./install.sh --dev    training tools, OSC/MIDI, NDI, Link, plus the test tools (CI's)
set -euo pipefail
cd "$(dirname "$0")"

runtime=cpu
extras=()
for arg in "$@"; do
  case "$arg" in
    --gpu) runtime=gpu ;;
    --train) extras+=(train) ;;
    --vj) extras+=(vj) ;;
    --ndi) extras+=(ndi) ;;
    --link) extras+=(link) ;;
    --dev) extras+=(train vj ndi link dev) ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_packages=(
  python3-venv python3-pip
  libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins
  libgl1 libegl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3
  libx11-xcb1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-xfixes0 libxcb-sync1
  libxcb-shm0 libxcb-render0 libxcb-util1 libxcb-glx0
)
if [[ " ${extras[*]} " == *" dev "* ]]; then
  apt_packages+=(xvfb xauth imagemagick dbus libglib2.0-bin chromium zbar-tools)
fi
missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [[ " ${extras[*]} " == *" train "* ]]; then
  # The CPU build where this machine's pip configuration provides it; CUDA build otherwise.
  .venv/bin/python -m pip install -q "torch==2.13.0"
fi
spec="$runtime"
for extra in "${extras[@]}"; do spec="$spec,$extra"; done
.venv/bin/python -m pip install -q -e ".[$spec]"
echo "musicscape installed in .venv (extras: $spec)"
