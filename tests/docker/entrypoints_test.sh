#!/usr/bin/env bash
# The Docker entrypoints and health checks, run directly on this machine
# (no Docker engine here) against an mqchat installed with `cmake --install`
# into a temporary prefix, with temporary folders standing in for the
# compose file's volumes and free loopback ports for 1883/9001:
#
# - the broker entrypoint waits for keys, and gives up (exit 1) without them;
# - the room manager entrypoint makes the keys once, the broker entrypoint
#   starts Mosquitto with the plugin from them, both health checks pass and
#   the installed CLI chats; the store is in the store folder;
# - with the room manager stopped its health check fails, the broker's passes;
# - a second start reuses the keys (same bytes), the store and the broker's
#   persistence: the account logs in again and the history is still there.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"

TEST_DIR=$(mktemp -d /tmp/mqchat-docker-XXXXXX)
PORT=$(free_port)
WS_PORT=$(free_port)
broker_pid=""
manager_pid=""
cleanup() {
    local status=$?
    stop_group "$manager_pid" TERM
    stop_group "$broker_pid" TERM
    if [ $status -ne 0 ]; then
        for log in "$TEST_DIR"/*.log; do
            echo "---- $log (last 40 lines) ----" >&2
            tail -n 40 "$log" >&2
        done
    fi
    rm -rf "$TEST_DIR"
    exit $status
}
trap cleanup EXIT

prefix=$TEST_DIR/prefix
cmake --install "$MQCHAT_BUILD_DIR" --prefix "$prefix" >"$TEST_DIR/install.log"
docker_dir=$MQCHAT_SOURCE_DIR/docker
export MQCHAT_PREFIX=$prefix
export MQCHAT_KEYS_DIR=$TEST_DIR/volumes/keys
export MQCHAT_STORE_DIR=$TEST_DIR/volumes/store
export MQCHAT_BROKER_DIR=$TEST_DIR/volumes/broker
export MQCHAT_MQTT_PORT=$PORT MQCHAT_WS_PORT=$WS_PORT MQCHAT_BIND=127.0.0.1
export MQCHAT_BROKER="tcp://127.0.0.1:$PORT"
export MQCHAT_ARGON2_T=1 MQCHAT_ARGON2_M=8192
export MQCHAT_HOME=$TEST_DIR/home
unset MQCHAT_RUN_USER
# No certificate on the first start: plain listeners only.
export MQCHAT_TLS_DIR_IN=$TEST_DIR/no-tls
MQTTS_PORT=$(free_port)
export MQCHAT_MQTTS_PORT=$MQTTS_PORT MQCHAT_WSS_PORT=0

start_broker_entrypoint() {
    setsid bash "$docker_dir/broker-entrypoint.sh" >>"$TEST_DIR/broker.log" 2>&1 &
    broker_pid=$!
}
start_manager_entrypoint() {
    rm -f "$TEST_DIR/ready"
    MQCHAT_READY_FILE=$TEST_DIR/ready \
        setsid bash "$docker_dir/room-manager-entrypoint.sh" >>"$TEST_DIR/manager.log" 2>&1 &
    manager_pid=$!
}
wait_ready() {
    for _ in $(seq 1 300); do
        [ -f "$TEST_DIR/ready" ] && return 0
        kill -0 "$manager_pid" 2>/dev/null || fail "room manager entrypoint exited"
        kill -0 "$broker_pid" 2>/dev/null || fail "broker entrypoint exited"
        sleep 0.1
    done
    fail "room manager not ready after 30 s"
}
health() { MQCHAT_HEALTH_TIMEOUT=5 bash "$docker_dir/healthcheck.sh" "$1"; }
mqchat() { timeout 30 "$prefix/bin/mqchat" "$@"; }
key_sums() { sha256sum "$MQCHAT_KEYS_DIR/signing-key.pem" "$MQCHAT_KEYS_DIR/service-secret"; }

# 1. No keys: the broker entrypoint waits, then gives up for the restart policy.
status=0
MQCHAT_KEYS_WAIT=1 bash "$docker_dir/broker-entrypoint.sh" >"$TEST_DIR/nokeys.log" 2>&1 ||
    status=$?
[ "$status" -eq 1 ] || fail "broker entrypoint without keys: status $status, not 1"
grep -q "no public key and service secret" "$TEST_DIR/nokeys.log" ||
    fail "broker entrypoint without keys does not say why: $(cat "$TEST_DIR/nokeys.log")"

# 2. First start, broker first as compose may do it: it waits for the keys.
start_broker_entrypoint
start_manager_entrypoint
wait_ready
grep -q "first start: making the signing key" "$TEST_DIR/manager.log" ||
    fail "room manager entrypoint did not report making keys"
for f in signing-key.pem signing-key.pub.pem service-secret; do
    [ -s "$MQCHAT_KEYS_DIR/$f" ] || fail "no $f in the keys folder"
done
[ "$(stat -c %a "$MQCHAT_KEYS_DIR/signing-key.pem")" = 600 ] || fail "signing key not 0600"
first_keys=$(key_sums)
grep -q "plugin_opt_public_key $MQCHAT_BROKER_DIR/signing-key.pub.pem" \
    "$MQCHAT_BROKER_DIR/mosquitto/mosquitto.conf" || fail "generated mosquitto.conf is off"
# The installed plugin, unless scripts/test-sanitized.sh swapped in its own.
grep -q "^plugin ${MQCHAT_PLUGIN:-$prefix/lib/mqchat/mqchat_plugin.so}" \
    "$MQCHAT_BROKER_DIR/mosquitto/mosquitto.conf" || fail "broker does not load the plugin"

health broker || fail "broker health check failed"
health room-manager || fail "room manager health check failed"
(exec 3<>"/dev/tcp/127.0.0.1/$WS_PORT") 2>/dev/null || fail "no WebSocket listener on $WS_PORT"
# The installed web chat page, over HTTP on the WebSocket port.
page=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    "http://127.0.0.1:$WS_PORT/" 2>&1) || fail "the broker serves no web page: $page"
grep -q "mqtt.min.js" <<<"$page" || fail "the page served is not the chat page: $page"

MQCHAT_PASSWORD=alice-pw mqchat --user alice register
MQCHAT_PASSWORD=alice-pw mqchat --user alice login >/dev/null
MQCHAT_ROOM_PASSWORD=books mqchat --user alice create "Book club"
mqchat --user alice send "Book club" "hello from the entrypoints"
[ -f "$MQCHAT_STORE_DIR/mqchat.db" ] && [ ! -L "$MQCHAT_STORE_DIR/mqchat.db" ] ||
    fail "the store is not a file in the store folder"
[ -L "$MQCHAT_KEYS_DIR/mqchat.db" ] || fail "keys/mqchat.db is not the link to the store"
# The guest's reply topic, the plugin's audit lines: the plugin really decides.
grep -q "mqchat" "$TEST_DIR/broker.log" || fail "no plugin lines in the broker log"

# 3. The room manager down: its health check fails; the broker's does not.
stop_group "$manager_pid" TERM
manager_pid=""
if health room-manager 2>/dev/null; then
    fail "room manager health check passed with the room manager stopped"
fi
health broker || fail "broker health check failed without the room manager"

grep -q "^listener $MQTTS_PORT" "$MQCHAT_BROKER_DIR/mosquitto/mosquitto.conf" &&
    fail "a TLS listener without a certificate"

# 4. Second start of both: same keys, same store, same broker state. This
#    time a certificate is given (as compose mounts one at /etc/mqchat/tls),
#    so the broker also serves mqtts.
stop_group "$broker_pid" TERM
broker_pid=""
tls=$(bash "$MQCHAT_SOURCE_DIR/scripts/tls-certs.sh" "$TEST_DIR/made-tls")
mkdir -p "$TEST_DIR/given-tls"
cp "$(sed -n 's/^cert=//p' <<<"$tls")" "$TEST_DIR/given-tls/server.pem"
cp "$(sed -n 's/^key=//p' <<<"$tls")" "$TEST_DIR/given-tls/server.key"
ca=$(sed -n 's/^ca=//p' <<<"$tls")
export MQCHAT_TLS_DIR_IN=$TEST_DIR/given-tls
start_manager_entrypoint
start_broker_entrypoint
wait_ready
grep -q "reusing the signing key" "$TEST_DIR/manager.log" ||
    fail "second start did not report reusing the keys"
[ "$(key_sums)" = "$first_keys" ] || fail "second start changed the keys"
health broker || fail "broker health check failed after restart"
health room-manager || fail "room manager health check failed after restart"
rm -rf "$MQCHAT_HOME"
MQCHAT_PASSWORD=alice-pw mqchat --user alice login >/dev/null ||
    fail "the account did not survive the restart"
history=$(mqchat --user alice --json history "Book club")
echo "$history" | grep -q '"text":"hello from the entrypoints"' ||
    fail "the room's history did not survive the restart: $history"
for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$MQTTS_PORT") 2>/dev/null && break
    sleep 0.1
done
MQCHAT_PASSWORD=alice-pw mqchat --broker "mqtts://localhost:$MQTTS_PORT" --cafile "$ca" \
    --user alice rooms | grep -q "Book club" ||
    fail "no working mqtts listener with the given certificate"
echo "entrypoints test passed"
