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
#   MQCHAT_TLS_CERT    server certificate (PEM); without it there are
#                      no TLS listeners                              [none]
#   MQCHAT_TLS_KEY     its private key (PEM)                  [required with the cert]
#   MQCHAT_MQTTS_PORT  MQTT over TLS port; 0 turns it off           [8883]
#   MQCHAT_WSS_PORT    MQTT over WebSocket over TLS port; 0 = off   [9443]
#   MQCHAT_TLS_BIND    address the TLS listeners bind to     [MQCHAT_BIND]
#   MQCHAT_ROOM_MANAGER  the mqchat-room-manager program; when set, the
#                      settings above (and MQCHAT_DATA_DIR, when unset) come
#                      from `mqchat-room-manager --print-broker-settings`, which
#                      applies the room manager's config file (MQCHAT_CONFIG)
#                      beneath the same MQCHAT_* variables: one place for ports
#                      and paths.
#   MQCHAT_HTTP_DIR    folder the WebSocket listeners serve over HTTP
#                      (the web chat page); without it, no HTTP     [none]
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

# A TLS listener is on when it has a port and there is a certificate: its
# lines in the template start "#@MQTTS@ " / "#@WSS@ " and lose that mark.
tls_cert=${MQCHAT_TLS_CERT:-}
tls_key=${MQCHAT_TLS_KEY:-}
mqtts_port=${MQCHAT_MQTTS_PORT:-8883}
wss_port=${MQCHAT_WSS_PORT:-9443}
mqtts_on="#@MQTTS@ "
wss_on="#@WSS@ "
if [ -n "$tls_cert" ]; then
    if [ -z "$tls_key" ]; then
        echo "broker-conf.sh: MQCHAT_TLS_CERT is set but MQCHAT_TLS_KEY is not" >&2
        exit 1
    fi
    [ "$mqtts_port" = 0 ] || mqtts_on=""
    [ "$wss_port" = 0 ] || wss_on=""
fi
# The web page: "#@HTTP@ " lines lose the mark when there is a folder. On
# the TLS WebSocket listener the line carries both marks, so it is on only
# when that listener is.
http_dir=${MQCHAT_HTTP_DIR:-}
http_on="#@HTTP@ "
[ -z "$http_dir" ] || http_on=""

# Written next to the output and renamed, so a broker never reads half a file.
tmp="$2.tmp.$$"
sed -e "s|@MQTT_PORT@|${MQCHAT_MQTT_PORT:-1883}|g" \
    -e "s|@WS_PORT@|${MQCHAT_WS_PORT:-9001}|g" \
    -e "s|@BIND@|${MQCHAT_BIND:-0.0.0.0}|g" \
    -e "s|^#@MQTTS@ |$mqtts_on|" \
    -e "s|^#@WSS@ |$wss_on|" \
    -e "s|^#@HTTP@ |$http_on|" \
    -e "s|@HTTP_DIR@|$http_dir|g" \
    -e "s|@MQTTS_PORT@|$mqtts_port|g" \
    -e "s|@WSS_PORT@|$wss_port|g" \
    -e "s|@TLS_BIND@|${MQCHAT_TLS_BIND:-${MQCHAT_BIND:-0.0.0.0}}|g" \
    -e "s|@TLS_CERT@|$tls_cert|g" \
    -e "s|@TLS_KEY@|$tls_key|g" \
    -e "s|@PLUGIN_PATH@|$MQCHAT_PLUGIN|g" \
    -e "s|@DATA_DIR@|$MQCHAT_DATA_DIR|g" \
    -e "s|@RUN_USER@|$(id -un)|g" \
    -e "s|@MAX_QUEUED@|${MQCHAT_MAX_QUEUED:-10000}|g" \
    "$1" > "$tmp"
# Comments may keep marks (a TLS listener that is off); settings may not.
if grep -v '^#' "$tmp" | grep -q '@[A-Z_]*@'; then
    echo "broker-conf.sh: unfilled fields left in $1:" \
        "$(grep -v '^#' "$tmp" | grep -o '@[A-Z_]*@' | sort -u)" >&2
    rm -f "$tmp"
    exit 1
fi
mv "$tmp" "$2"
