#!/usr/bin/env bash
# Starts the mqchat backend in the foreground: Mosquitto with the mqchat
# plugin, and the room manager. Ctrl-C (or SIGTERM) stops both.
#
# Used by scripts/run.sh and by the integration tests, so there is one way
# to bring the backend up. It does not build or install anything.
#
# Settings (environment):
#   MQCHAT_CONFIG      the room manager's TOML config file (mqchat.toml.example);
#                      its ports and paths configure the broker too  [unset]
#   MQCHAT_DATA_DIR    data folder (keys, store, broker persistence)   [./data]
#   MQCHAT_MQTT_PORT   MQTT TCP port                                   [1883]
#   MQCHAT_WS_PORT     MQTT over WebSocket port                        [9001]
#   MQCHAT_BIND        address the listeners bind to                   [0.0.0.0]
#   MQCHAT_MQTTS_PORT  MQTT over TLS port; 0 turns it off              [8883]
#   MQCHAT_WSS_PORT    MQTT over WebSocket over TLS port; 0 = off      [9443]
#   MQCHAT_TLS_BIND    address the TLS listeners bind to        [MQCHAT_BIND]
#   MQCHAT_TLS_CERT    server certificate (PEM, chain after it)  [generated]
#   MQCHAT_TLS_KEY     its private key (PEM)                     [generated]
#   MQCHAT_TLS_HOSTS   extra names for the generated certificate        [none]
#                      (see scripts/tls-certs.sh)
#   MQCHAT_MAX_QUEUED  messages the broker queues per offline session  [10000]
#   MQCHAT_WEB_DIR     the web chat page the WebSocket listeners serve
#                      over HTTP; empty: none                      [./web/public]
#   MQCHAT_BUILD_DIR   where the binaries were built                   [./build]
#   MQCHAT_READY_FILE  written once the room manager serves requests   [unset]
#   MQCHAT_COMPONENTS  what to run: "broker", "manager" or both        [broker manager]
#                      (tests stop and start the two on their own)
#   MQCHAT_PLUGIN      the broker plugin [$MQCHAT_BUILD_DIR/mosquitto/mqchat_plugin.so]
#   MQCHAT_MOSQUITTO   the broker command          [mosquitto, from the PATH]
# scripts/test-sanitized.sh sets the last two: a sanitized plugin, and a
# wrapper that runs the stock broker with the sanitizer runtime preloaded.
# Other MQCHAT_* variables (Argon2 cost, log level) go to the room manager.
# Precedence for every setting: MQCHAT_* variable, then the config file, then
# the default in brackets.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${MQCHAT_BUILD_DIR:-$root/build}
web_dir=${MQCHAT_WEB_DIR-$root/web/public}

room_manager=$build_dir/service/mqchat-room-manager
plugin=${MQCHAT_PLUGIN:-$build_dir/mosquitto/mqchat_plugin.so}
for f in "$room_manager" "$plugin"; do
    if [ ! -e "$f" ]; then
        echo "mqchat: $f is missing; build first (scripts/build.sh)" >&2
        exit 1
    fi
done

# Ports and paths as the room manager resolves them (variables over the
# config file over defaults), from the top of the tree so that the default
# data folder is ./data. A bad config file stops here with its message.
settings=$(cd "$root" && "$room_manager" --print-broker-settings) || exit 2
eval "$settings"
data_dir=$MQCHAT_DATA_DIR
mqtt_port=$MQCHAT_MQTT_PORT
ws_port=$MQCHAT_WS_PORT
bind=$MQCHAT_BIND
max_queued=$MQCHAT_MAX_QUEUED
mqtts_port=$MQCHAT_MQTTS_PORT
wss_port=$MQCHAT_WSS_PORT
tls_bind=$MQCHAT_TLS_BIND
# tls-certs.sh reads MQCHAT_TLS_CERT / MQCHAT_TLS_KEY as given (or from the
# config file, through the eval above).
export MQCHAT_TLS_CERT MQCHAT_TLS_KEY
mosquitto_bin=${MQCHAT_MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}

# First start: data folder, signing keys and the service secret.
mkdir -p "$data_dir/mosquitto" "$data_dir/plugin-state"
data_dir=$(cd "$data_dir" && pwd)
"$room_manager" --data-dir "$data_dir" --init-only

# TLS: the configured certificate, or the local CA's (made on first start).
# A listener with port 0 stays commented out in the configuration.
tls_cert=""
tls_key=""
tls_ca=""
if [ "$mqtts_port" != 0 ] || [ "$wss_port" != 0 ]; then
    tls=$(bash "$root/scripts/tls-certs.sh" "$data_dir")
    tls_cert=$(sed -n 's/^cert=//p' <<<"$tls")
    tls_key=$(sed -n 's/^key=//p' <<<"$tls")
    tls_ca=$(sed -n 's/^ca=//p' <<<"$tls")
fi

# The web chat page needs MQTT.js beside it (scripts/web-deps.sh copies it
# from the npm package); without it the page could not connect.
if [ -n "$web_dir" ]; then
    if [ -f "$web_dir/index.html" ] && [ -f "$web_dir/vendor/mqtt.min.js" ]; then
        web_dir=$(cd "$web_dir" && pwd)
    else
        echo "mqchat: no web page: $web_dir lacks index.html or vendor/mqtt.min.js" \
            "(run scripts/web-deps.sh)" >&2
        web_dir=""
    fi
fi

# Broker configuration, generated from the template on every start so the
# ports and paths given above always win.
conf=$data_dir/mosquitto/mosquitto.conf
MQCHAT_DATA_DIR=$data_dir MQCHAT_PLUGIN=$plugin MQCHAT_MQTT_PORT=$mqtt_port \
    MQCHAT_WS_PORT=$ws_port MQCHAT_BIND=$bind MQCHAT_MAX_QUEUED=$max_queued \
    MQCHAT_MQTTS_PORT=$mqtts_port MQCHAT_WSS_PORT=$wss_port MQCHAT_TLS_BIND=$tls_bind \
    MQCHAT_TLS_CERT=$tls_cert MQCHAT_TLS_KEY=$tls_key MQCHAT_HTTP_DIR=$web_dir \
    bash "$root/scripts/broker-conf.sh" "$root/mosquitto/mosquitto.conf.in" "$conf"

broker_pid=""
manager_pid=""
stop() {
    # Once stopping, finish: a second INT or TERM (Ctrl-C twice, or the test
    # helper signalling both this script and its process group) must not end
    # this script half-way, which left the broker and the room manager to be
    # SIGKILLed before they had shut down.
    trap '' INT TERM
    trap - EXIT
    [ -n "$manager_pid" ] && kill -TERM "$manager_pid" 2>/dev/null || true
    [ -n "$manager_pid" ] && wait "$manager_pid" 2>/dev/null || true
    [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null || true
    [ -n "$broker_pid" ] && wait "$broker_pid" 2>/dev/null || true
    echo "mqchat: stopped"
}
# Ctrl-C reaches the whole process group, so the broker and the room manager
# may end before this script's trap runs: remember the signal and let the
# code after `wait -n` tell a requested stop from a crash.
stop_requested=""
trap 'stop_requested=1' INT TERM
trap stop EXIT

components=${MQCHAT_COMPONENTS:-broker manager}
pids=()

if [[ " $components " == *" broker "* ]]; then
    "$mosquitto_bin" -c "$conf" &
    broker_pid=$!
    pids+=("$broker_pid")
fi

# Wait (bounded) for the broker to accept connections before starting the
# room manager, so its first connect does not race the listener.
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null; then
        break
    fi
    if [ -n "$broker_pid" ] && ! kill -0 "$broker_pid" 2>/dev/null; then
        echo "mqchat: the broker did not start; see the lines above" >&2
        exit 1
    fi
    sleep 0.1
done

if [[ " $components " == *" manager "* ]]; then
    ready_args=()
    if [ -n "${MQCHAT_READY_FILE:-}" ]; then
        ready_args=(--ready-file "$MQCHAT_READY_FILE")
    fi
    "$room_manager" --data-dir "$data_dir" --broker "tcp://127.0.0.1:$mqtt_port" \
        "${ready_args[@]}" &
    manager_pid=$!
    pids+=("$manager_pid")
fi

if [ -n "$broker_pid" ]; then
    echo "mqchat: broker listening on mqtt://$bind:$mqtt_port and ws://$bind:$ws_port"
    if [ -n "$web_dir" ]; then
        echo "mqchat: web chat page on http://$bind:$ws_port/ (open http://localhost:$ws_port/)"
    fi
    tls_urls=""
    [ "$mqtts_port" = 0 ] || tls_urls="mqtts://$tls_bind:$mqtts_port"
    [ "$wss_port" = 0 ] || tls_urls="${tls_urls:+$tls_urls and }wss://$tls_bind:$wss_port"
    if [ -n "$tls_urls" ]; then
        echo "mqchat: TLS on $tls_urls"
        if [ -n "$web_dir" ] && [ "$wss_port" != 0 ]; then
            echo "mqchat: the web page chats over TLS when opened as" \
                "http://localhost:$ws_port/?broker=wss://localhost:$wss_port"
        fi
        if [ -n "$tls_ca" ]; then
            echo "mqchat: clients trust it with the local CA $tls_ca" \
                "(mqchat --cafile, MQCHAT_CAFILE, mosquitto_sub --cafile)"
        fi
    fi
fi
echo "mqchat: data in $data_dir; press Ctrl-C to stop"

# Stop everything as soon as any process ends on its own.
# Neither process exits with status 0 unless it was told to stop.
status=0
wait -n "${pids[@]}" || status=$?
if [ -n "$stop_requested" ] || [ "$status" -eq 0 ]; then
    stop
    exit 0
fi
echo "mqchat: a backend process exited; stopping the rest" >&2
exit 1
