#!/usr/bin/env bash
# Configures (once) and builds kiln into build/ with Ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f build/build.ninja ]] || cmake -S . -B build -G Ninja "$@"
cmake --build build
