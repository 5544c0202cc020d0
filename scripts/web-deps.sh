#!/usr/bin/env bash
# Installs the web chat page's npm packages (web/package-lock.json: MQTT.js
# for the page, playwright-core for its browser test) with `npm ci`, and
# copies MQTT.js's browser bundle to web/public/vendor/mqtt.min.js, where
# the broker serves it with the page (Mosquitto's http_dir refuses symbolic
# links that leave the folder, hence a copy). The browser never fetches
# anything from elsewhere.
#
# Used by scripts/install-deps.sh; safe to re-run: `npm ci` runs only when
# web/node_modules does not match the lock file yet, so a machine that has
# them needs no registry.
set -euo pipefail

web=$(cd "$(dirname "$0")/../web" && pwd)
stamp=$web/node_modules/.mqchat-lock.sha256
want=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] ||
    [ ! -f "$web/node_modules/mqtt/dist/mqtt.min.js" ]; then
    echo "mqchat: installing the web page's npm packages (npm ci in $web)"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
fi

mkdir -p "$web/public/vendor"
if ! cmp -s "$web/node_modules/mqtt/dist/mqtt.min.js" "$web/public/vendor/mqtt.min.js"; then
    cp "$web/node_modules/mqtt/dist/mqtt.min.js" "$web/public/vendor/mqtt.min.js.tmp"
    mv "$web/public/vendor/mqtt.min.js.tmp" "$web/public/vendor/mqtt.min.js"
fi
