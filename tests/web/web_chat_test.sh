#!/usr/bin/env bash
# The web chat page in a real browser: headless Chromium (Debian's package)
# driven by playwright-core (web/node_modules, from scripts/web-deps.sh)
# against a real backend on free loopback ports, whose WebSocket listener
# serves the page. Bob, a `mqchat` CLI user, creates "Book club" and says
# something first; web_chat_test.cjs then has carol register, log in, join,
# read history, see bob's presence and typing, and chat with him both ways,
# and create a room of her own. The screenshot is left at
# $MQCHAT_BUILD_DIR/web_chat_test.png (printed at the end).
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"

chromium_bin=${MQCHAT_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium_bin" ] || fail "$chromium_bin is missing: scripts/install-deps.sh installs chromium"
[ -d "$MQCHAT_SOURCE_DIR/web/node_modules/playwright-core" ] &&
    [ -f "$MQCHAT_SOURCE_DIR/web/public/vendor/mqtt.min.js" ] ||
    fail "the web page's npm packages are missing: run scripts/web-deps.sh"

# The browser runs in a process group of its own (Playwright starts it
# detached); kill that group too when the test ends in any way.
browser_cleanup() {
    local status=$?
    if [ -s "${TEST_DIR:-/nonexistent}/browser.pid" ]; then
        stop_group "$(cat "$TEST_DIR/browser.pid")" KILL
    fi
    (exit "$status")
    cleanup_backend
}

start_backend
trap browser_cleanup EXIT

cli="$MQCHAT_BUILD_DIR/client-lib/mqchat"
mqchat() { timeout 30 "$cli" "$@"; }

# The page and its script come from the WebSocket listener.
page_url="http://127.0.0.1:$WS_PORT/"
python3 - "$page_url" <<'PY' || fail "the broker does not serve the page on $page_url"
import sys, urllib.request
base = sys.argv[1]
page = urllib.request.urlopen(base, timeout=10).read().decode()
assert '<script src="vendor/mqtt.min.js">' in page, page[:200]
lib = urllib.request.urlopen(base + "vendor/mqtt.min.js", timeout=10).read()
assert len(lib) > 100000 and b"mqtt" in lib[:200], len(lib)
PY

MQCHAT_PASSWORD=bob-pw mqchat --user bob register >/dev/null
MQCHAT_PASSWORD=bob-pw mqchat --user bob login >/dev/null
MQCHAT_ROOM_PASSWORD=books mqchat --user bob create "Book club" \
    --description "one book a month" >/dev/null
mqchat --user bob send "Book club" "welcome to the book club" >/dev/null

screenshot="$MQCHAT_BUILD_DIR/web_chat_test.png"
rm -f "$screenshot"
MQCHAT_CLI="$cli" MQCHAT_PAGE_URL="$page_url" MQCHAT_SCREENSHOT="$screenshot" \
    MQCHAT_BROWSER_PID_FILE="$TEST_DIR/browser.pid" MQCHAT_CHROMIUM="$chromium_bin" \
    timeout -k 5 160 node "$MQCHAT_SOURCE_DIR/tests/web/web_chat_test.cjs" ||
    fail "the browser test failed (see above)"
[ -s "$screenshot" ] || fail "no screenshot at $screenshot"
echo "web_chat_test: screenshot: $screenshot"
