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
#   MQCHAT_ROOM_MANAGER  the mqchat-room-manager program; when set, the four
#                      settings above (and MQCHAT_DATA_DIR, when unset) come
#                      from `mqchat-room-manager --print-broker-settings`, which
#                      applies the room manager's config file (MQCHAT_CONFIG)
#                      beneath the same MQCHAT_* variables: one place for ports
#                      and paths.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: broker-conf.sh TEMPLATE OUTPUT" >&2
    exit 2
fi
if [ -n "${MQCHAT_ROOM_MANAGER:-}" ]; then
    # Shell-quoted KEY=VALUE lines; a bad config file stops here (exit 2).
    given_data_dir=${MQCHAT_DATA_DIR:-}
    settings=$("$MQCHAT_ROOM_MANAGER" --print-broker-settings)
    eval "$settings"
    # The caller's data folder wins: for the broker it may differ from the
    # room manager's (Docker links the keys into the broker's own folder).
    [ -n "$given_data_dir" ] && MQCHAT_DATA_DIR=$given_data_dir
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
