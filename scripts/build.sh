#!/usr/bin/env bash
# Configures and builds mqchat into ./build (or $MQCHAT_BUILD_DIR).
# Extra arguments are passed to the CMake configure step.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${MQCHAT_BUILD_DIR:-$root/build}
jobs=${MQCHAT_JOBS:-2}

cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build_dir" -j"$jobs"
