#!/usr/bin/env bash
# The whole test suite: setup, build, then every GoogleTest and lit test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2
