#!/usr/bin/env bash
# Smoke test of mqchat_plugin.so on a real Mosquitto, started here on free
# 127.0.0.1 ports and killed on exit:
#   - a guest may publish chat/v1/ctl/login but nothing else;
#   - a username with a bad password is refused (MQTT v5 and v3.1.1);
#   - a forged `sender` user property is replaced by the plugin's.
# Usage: plugin_smoke_test.sh <mqchat_plugin.so> <mosquitto.conf.in>
# As in scripts/backend.sh, MQCHAT_PLUGIN (if set) replaces the plugin given
# as first argument and MQCHAT_MOSQUITTO the broker command; with them
# scripts/test-sanitized.sh runs this very test (through ctest) on the
# sanitized plugin.
set -euo pipefail

plugin=$(realpath "${MQCHAT_PLUGIN:-$1}")
template=$(realpath "$2")
work=$(mktemp -d)
broker_pid=""
cleanup() {
    if [[ -n "$broker_pid" ]]; then
        kill "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "--- broker log" >&2
    cat "$work/broker.log" >&2 || true
    exit 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Data folder: key pair, service secret, generated config.
mkdir -p "$work/mosquitto"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/signing-key.pem" 2>/dev/null
openssl ec -in "$work/signing-key.pem" -pubout -out "$work/signing-key.pub.pem" 2>/dev/null
openssl rand -hex 32 > "$work/service-secret"
secret=$(cat "$work/service-secret")
port=$(free_port)
ws_port=$(free_port)
sed -e "s|@MQTT_PORT@|$port|g" -e "s|@WS_PORT@|$ws_port|g" -e "s|@BIND@|127.0.0.1|g" \
    -e "s|@PLUGIN_PATH@|$plugin|g" -e "s|@DATA_DIR@|$work|g" -e "s|@RUN_USER@|$(id -un)|g" \
    -e "s|@MAX_QUEUED@|1000|g" \
    "$template" > "$work/mosquitto/mosquitto.conf"

timeout 90 "${MQCHAT_MOSQUITTO:-mosquitto}" -c "$work/mosquitto/mosquitto.conf" \
    > "$work/broker.log" 2>&1 &
broker_pid=$!

# Wait until the broker answers (a guest login request is allowed).
pub() { timeout 5 mosquitto_pub -p "$port" "$@"; }
for _ in $(seq 50); do
    if pub -V 5 -i probe -t chat/v1/ctl/login -m '{}' 2>/dev/null; then
        break
    fi
    sleep 0.1
done
grep -q "mqchat: plugin ready" "$work/broker.log" || fail "plugin did not load"

# The room manager's view: everything on the control topics and the room.
timeout 10 mosquitto_sub -p "$port" -V 5 -i svc-sub -u mqchat-service -P "$secret" \
    -t 'chat/v1/ctl/+' -t 'chat/v1/rooms/+/msg' -t 'other/#' -F '%t|%P|%p' -W 8 \
    > "$work/service.txt" 2>/dev/null &
sub_pid=$!
sleep 0.5

# 1. Guest rights, with a forged sender on the allowed request.
pub -V 5 -i guest-1 -q 1 -t chat/v1/ctl/login -m '{"n":1}' \
    -D publish user-property sender alice -D publish user-property keep yes \
    2>/dev/null || fail "guest could not publish a login request"
pub -V 5 -i guest-1 -q 1 -t chat/v1/ctl/create -m '{"n":2}' 2>/dev/null || true
pub -V 311 -i guest-1 -q 1 -t other/topic -m '{"n":3}' 2>/dev/null || true
pub -V 5 -i guest-1 -q 1 -t '$CONTROL/mqchat/v1' -m '{"op":"present"}' 2>/dev/null || true

# 2. A username with a bad password is refused, v5 and v3.1.1.
if pub -V 5 -i bad-1 -u alice -P wrong -t chat/v1/ctl/login -m x 2>/dev/null; then
    fail "bad password accepted (v5)"
fi
if pub -V 311 -i bad-2 -u alice -P wrong -t chat/v1/ctl/login -m x 2>/dev/null; then
    fail "bad password accepted (v3.1.1)"
fi
if pub -V 5 -i bad-3 -u mqchat-service -P wrong -t chat/v1/ctl/login -m x 2>/dev/null; then
    fail "bad service secret accepted"
fi

# 3. A forged sender on a room message is replaced, and seq starts at 1.
pub -V 5 -i svc-pub -u mqchat-service -P "$secret" -q 1 \
    -t chat/v1/rooms/0123456789ab/msg -m '{"id":"x","text":"hi"}' \
    -D publish user-property sender mallory -D publish user-property seq 99 \
    || fail "service could not publish a room message"

wait "$sub_pid" || true
got=$(cat "$work/service.txt")
echo "$got"

expect() { grep -qF -- "$1" <<<"$got" || fail "expected line containing: $1"; }
refuse() { if grep -qF -- "$1" <<<"$got"; then fail "unexpected: $1"; fi; }

expect 'chat/v1/ctl/login|keep:yes client-id:guest-1|{"n":1}'
refuse 'sender:alice'
refuse '{"n":2}'
refuse '{"n":3}'
expect 'chat/v1/rooms/0123456789ab/msg|sender:mqchat-service seq:1 ts:'
refuse 'mallory'
refuse 'seq:99'
grep -q 'client=bad-1 user=alice | connect | result=refused' "$work/broker.log" ||
    fail "refusal not logged"
if grep -q -- "wrong" "$work/broker.log"; then
    fail "a password appeared in the log"
fi
echo "PASS"
