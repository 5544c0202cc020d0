#!/usr/bin/env bash
# Renders mqchat's Mosquitto configuration from the template:
#
#   broker-conf.sh TEMPLATE OUTPUT
#
# The one place where the template's @...@ fields are filled, used by
# scripts/backend.sh and by the broker's Docker entrypoint (installed as
# libexec/mqchat/broker-conf.sh), so both run the same configuration.
#
# Settings (environment):
#   MQCHAT_DATA_DIR    folder with signing-key.pub.pem, service-secret,
#                      plugin-state/ and mosquitto/ (persistence)   [required]
#   MQCHAT_PLUGIN      the plugin .so                               [required]
#   MQCHAT_MQTT_PORT   MQTT TCP port                                [1883]
#   MQCHAT_WS_PORT     MQTT over WebSocket port                     [9001]
#   MQCHAT_BIND        address the listeners bind to                [0.0.0.0]
#   MQCHAT_MAX_QUEUED  messages queued per offline session          [10000]
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: broker-conf.sh TEMPLATE OUTPUT" >&2
    exit 2
fi
: "${MQCHAT_DATA_DIR:?MQCHAT_DATA_DIR must name the data folder}"
: "${MQCHAT_PLUGIN:?MQCHAT_PLUGIN must name the plugin .so}"

# Written next to the output and renamed, so a broker never reads half a file.
tmp="$2.tmp.$$"
sed -e "s|@MQTT_PORT@|${MQCHAT_MQTT_PORT:-1883}|g" \
    -e "s|@WS_PORT@|${MQCHAT_WS_PORT:-9001}|g" \
    -e "s|@BIND@|${MQCHAT_BIND:-0.0.0.0}|g" \
    -e "s|@PLUGIN_PATH@|$MQCHAT_PLUGIN|g" \
    -e "s|@DATA_DIR@|$MQCHAT_DATA_DIR|g" \
    -e "s|@RUN_USER@|$(id -un)|g" \
    -e "s|@MAX_QUEUED@|${MQCHAT_MAX_QUEUED:-10000}|g" \
    "$1" > "$tmp"
if grep -q '@[A-Z_]*@' "$tmp"; then
    echo "broker-conf.sh: unfilled fields left in $1: $(grep -o '@[A-Z_]*@' "$tmp" | sort -u)" >&2
    rm -f "$tmp"
    exit 1
fi
mv "$tmp" "$2"
