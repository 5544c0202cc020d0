#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors,
# and runs every test (unit and integration) through ctest.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

export MQCHAT_BUILD_DIR=${MQCHAT_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" -DMQCHAT_WERROR=ON -DMQCHAT_BUILD_TESTS=ON

cd "$MQCHAT_BUILD_DIR"
ctest --output-on-failure --timeout 600 "$@"
