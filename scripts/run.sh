#!/usr/bin/env bash
# The run command: installs what is missing, builds, and runs the backend
# (Mosquitto with the mqchat plugin + the room manager, SQLite store) in the
# foreground. Ctrl-C stops both. See scripts/backend.sh for the settings
# (MQCHAT_MQTT_PORT, MQCHAT_WS_PORT, MQCHAT_MQTTS_PORT, MQCHAT_WSS_PORT,
# MQCHAT_TLS_CERT, MQCHAT_DATA_DIR, ...). Without a configured certificate,
# the first start makes a local CA for the TLS listeners (scripts/tls-certs.sh)
# and prints where its ca.pem is, for clients' --cafile.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" -DMQCHAT_BUILD_TESTS=OFF
exec "$root/scripts/backend.sh"
