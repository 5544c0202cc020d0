#!/usr/bin/env bash
# The test command: installs what is missing, builds with warnings as errors,
# runs the broker tests once more with the plugin under AddressSanitizer and
# UndefinedBehaviorSanitizer (scripts/test-sanitized.sh: only the plugin is
# rebuilt, into $MQCHAT_BUILD_DIR-sanitize), then runs every test (unit and
# integration) through ctest, whose summary is the last thing printed when
# all is well. Exits non-zero if either pass fails; the sanitizer pass
# failing does not skip the full run. The benchmark is built too, and ctest
# runs it in its smoke size (bench_smoke, well under 2 minutes, bounded by
# its ctest timeout), so it keeps working; it checks numbers exist, not speed.
#
# Extra arguments go to the full ctest run only. MQCHAT_SKIP_SANITIZE=1
# skips the sanitizer pass (for quick local runs; CI never sets it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

export MQCHAT_BUILD_DIR=${MQCHAT_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" -DMQCHAT_WERROR=ON -DMQCHAT_BUILD_TESTS=ON -DMQCHAT_BUILD_BENCH=ON

sanitized=0
if [ "${MQCHAT_SKIP_SANITIZE:-0}" != 1 ]; then
    "$root/scripts/test-sanitized.sh" || sanitized=$?
fi

cd "$MQCHAT_BUILD_DIR"
status=0
ctest --output-on-failure --timeout 600 "$@" || status=$?

if [ "$sanitized" -ne 0 ]; then
    echo "mqchat: the sanitizer pass (scripts/test-sanitized.sh) FAILED; see its output above" >&2
    exit "$sanitized"
fi
exit "$status"
