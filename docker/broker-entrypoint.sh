#!/usr/bin/env bash
# Entrypoint of the mqchat broker image (Mosquitto with the mqchat plugin);
# also runs directly on a host (tests/docker/docker_test.sh does).
#
# Waits for the public key and the service secret the room manager's
# entrypoint makes on first start, renders mosquitto.conf from the installed
# template with the same script as scripts/backend.sh, and runs Mosquitto in
# the foreground.
#
# Settings (environment):
#   MQCHAT_PREFIX      where mqchat is installed                  [/opt/mqchat]
#   MQCHAT_KEYS_DIR    the room manager's keys (read only)        [/var/lib/mqchat/keys]
#   MQCHAT_BROKER_DIR  persistence, plugin state, generated conf  [/var/lib/mqchat/broker]
#   MQCHAT_KEYS_WAIT   seconds to wait for the keys; then exit 1
#                      (the restart policy tries again)          [120]
#   MQCHAT_MQTT_PORT, MQCHAT_WS_PORT, MQCHAT_BIND, MQCHAT_MAX_QUEUED, MQCHAT_CONFIG
#                      as for scripts/backend.sh                 [1883, 9001, 0.0.0.0, 10000]
#   MQCHAT_PLUGIN      the plugin       [$MQCHAT_PREFIX/lib/mqchat/mqchat_plugin.so]
#   MQCHAT_MOSQUITTO   the broker command                        [mosquitto]
#   MQCHAT_RUN_USER    as for the room manager's entrypoint
#   MQCHAT_TLS_DIR_IN  a folder with server.pem and server.key; when both are
#                      there, the TLS listeners (MQCHAT_MQTTS_PORT,
#                      MQCHAT_WSS_PORT: 8883, 9443) serve them    [/etc/mqchat/tls]
set -euo pipefail

prefix=${MQCHAT_PREFIX:-/opt/mqchat}
keys=${MQCHAT_KEYS_DIR:-/var/lib/mqchat/keys}
data=${MQCHAT_BROKER_DIR:-/var/lib/mqchat/broker}
keys_wait=${MQCHAT_KEYS_WAIT:-120}
export MQCHAT_PLUGIN=${MQCHAT_PLUGIN:-$prefix/lib/mqchat/mqchat_plugin.so}
mosquitto_bin=${MQCHAT_MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}

tls_in=${MQCHAT_TLS_DIR_IN:-/etc/mqchat/tls}
have_tls() { [ -s "$tls_in/server.pem" ] && [ -s "$tls_in/server.key" ]; }

if [ "$(id -u)" -eq 0 ] && [ -n "${MQCHAT_RUN_USER:-}" ]; then
    mkdir -p "$data"
    chown "$MQCHAT_RUN_USER:" "$data"
    # The mounted key may be readable by root only: give the broker's user
    # its own copy (0600) before dropping root.
    if have_tls; then
        install -d -m 0700 -o "$MQCHAT_RUN_USER" "$data/tls-given"
        install -m 0644 -o "$MQCHAT_RUN_USER" "$tls_in/server.pem" "$data/tls-given/server.pem"
        install -m 0600 -o "$MQCHAT_RUN_USER" "$tls_in/server.key" "$data/tls-given/server.key"
        export MQCHAT_TLS_DIR_IN=$data/tls-given
    fi
    exec setpriv --reuid="$MQCHAT_RUN_USER" --regid="$MQCHAT_RUN_USER" --init-groups \
        --inh-caps=-all -- "$0" "$@"
fi

# The key pair and the secret are the room manager's; never made here, so
# there is one owner and no race between two first starts.
waited=0
until [ -s "$keys/signing-key.pub.pem" ] && [ -s "$keys/service-secret" ]; do
    if [ "$waited" -ge "$((keys_wait * 10))" ]; then
        echo "mqchat: no public key and service secret in $keys after ${keys_wait}s;" \
            "is the room manager running?" >&2
        exit 1
    fi
    [ "$waited" -eq 0 ] && echo "mqchat: waiting for the room manager's keys in $keys"
    sleep 0.1
    waited=$((waited + 1))
done

# The template names the key files inside the data folder; link them there
# from the keys volume (mounted read only).
mkdir -p "$data/mosquitto" "$data/plugin-state"
chmod 0700 "$data"
ln -sfn "$keys/signing-key.pub.pem" "$data/signing-key.pub.pem"
ln -sfn "$keys/service-secret" "$data/service-secret"
# Keys retired by `mqchat-room-manager rotate-keys` (may not exist yet).
ln -sfn "$keys/public-keys" "$data/public-keys"

# A given certificate turns the TLS listeners on (broker-conf.sh leaves them
# off without one); no local CA is made in a container.
if have_tls && [ -z "${MQCHAT_TLS_CERT:-}" ]; then
    export MQCHAT_TLS_CERT=$tls_in/server.pem MQCHAT_TLS_KEY=$tls_in/server.key
fi

# The web chat page, served by the WebSocket listeners (http_dir), when the
# image has it with its MQTT.js copy.
web=$prefix/share/mqchat/web
if [ -z "${MQCHAT_HTTP_DIR:-}" ] && [ -f "$web/index.html" ] &&
    [ -f "$web/vendor/mqtt.min.js" ]; then
    export MQCHAT_HTTP_DIR=$web
fi

conf=$data/mosquitto/mosquitto.conf
# Ports as the room manager resolves them, so MQCHAT_CONFIG (a config file
# mounted into both services) sets them for both.
if [ -x "$prefix/bin/mqchat-room-manager" ]; then
    export MQCHAT_ROOM_MANAGER=${MQCHAT_ROOM_MANAGER:-$prefix/bin/mqchat-room-manager}
fi
MQCHAT_DATA_DIR=$data bash "$prefix/libexec/mqchat/broker-conf.sh" \
    "$prefix/share/mqchat/mosquitto.conf.in" "$conf"
echo "mqchat: broker listeners:" $(grep '^listener' "$conf" | cut -d" " -f2 | tr '\n' ' ')
exec "$mosquitto_bin" -c "$conf"
