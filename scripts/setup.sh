#!/usr/bin/env bash
# Installs the Debian packages kiln needs (idempotent, non-interactive).
set -euo pipefail

packages=(
  cmake ninja-build g++ python3
  llvm-19-dev llvm-19-tools libzstd-dev clang-19 lld-19
  libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  openmpi-bin libopenmpi-dev graphviz
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q -o DPkg::Lock::Timeout=600 "${missing[@]}"
fi
