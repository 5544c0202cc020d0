#!/usr/bin/env bash
# TLS: the backend makes a local CA and a server certificate on first start;
# two people chat over mqtts:// and wss:// trusting that CA (the message
# arrives with the right sender); mosquitto_sub works with --cafile; a wrong
# CA, a certificate for another host and a TLS client on the plain port are
# refused with tls_failed and a reason; a plain client on the TLS port gets
# nowhere; a configured certificate is served as given; port 0 turns a TLS
# listener off.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
start_backend

mqchat() { timeout 30 "$MQCHAT_BUILD_DIR/client-lib/mqchat" "$@"; }
# Runs mqchat expecting failure; its stderr goes to $TEST_DIR/$1.err.
mqchat_fails() {
    local name=$1
    shift
    if mqchat "$@" 2>"$TEST_DIR/$name.err"; then
        fail "$name: mqchat $* succeeded"
    fi
    cat "$TEST_DIR/$name.err" >&2
}
expect_in() {
    grep -q -- "$2" "$TEST_DIR/$1.err" || fail "$1: no '$2' in: $(cat "$TEST_DIR/$1.err")"
}

mqtts=mqtts://127.0.0.1:$MQTTS_PORT
wss=wss://127.0.0.1:$WSS_PORT

# First start made the CA and the server certificate, keys private, and
# said where the CA is.
[ -s "$TLS_CA" ] || fail "no CA at $TLS_CA"
[ "$(stat -c %a "$TEST_DIR/data/tls/ca.key")" = 600 ] || fail "CA key not 0600"
[ "$(stat -c %a "$TEST_DIR/data/tls/server.key")" = 600 ] || fail "server key not 0600"
# The launcher prints it while the room manager starts: allow it a moment.
for _ in $(seq 1 50); do
    grep -q "local CA $TLS_CA" "$TEST_DIR/backend.log" && break
    sleep 0.1
done
grep -q "local CA $TLS_CA" "$TEST_DIR/backend.log" || fail "the CA path was not printed"
openssl verify -CAfile "$TLS_CA" "$TEST_DIR/data/tls/server.pem" >/dev/null ||
    fail "the server certificate is not signed by the CA"
ca_before=$(sha256sum <"$TLS_CA")

# Alice works over mqtts (CA from the environment), Bob over wss (--cafile).
export MQCHAT_CAFILE=$TLS_CA
MQCHAT_PASSWORD=alice-pw mqchat --broker "$mqtts" --user alice register
MQCHAT_PASSWORD=alice-pw mqchat --broker "$mqtts" --user alice login >/dev/null
MQCHAT_ROOM_PASSWORD=books mqchat --broker "$mqtts" --user alice create "Book club"
bob() { MQCHAT_CAFILE="" mqchat --broker "$wss" --cafile "$TLS_CA" --user bob "$@"; }
MQCHAT_PASSWORD=bob-pw bob register
MQCHAT_PASSWORD=bob-pw bob login >/dev/null
MQCHAT_ROOM_PASSWORD=books bob join "Book club"

bob --json listen "Book club" --history 0 --count 1 --timeout 20 \
    >"$TEST_DIR/bob.out" 2>"$TEST_DIR/bob.err" &
bob_pid=$!
for _ in $(seq 1 100); do
    grep -q listening "$TEST_DIR/bob.err" && break
    sleep 0.1
done
grep -q listening "$TEST_DIR/bob.err" || fail "bob never started listening"
mqchat --broker "$mqtts" --user alice send "Book club" "hello over tls"
wait "$bob_pid" || fail "bob's listen failed: $(cat "$TEST_DIR/bob.err")"
python3 - "$TEST_DIR/bob.out" <<'PY' || fail "bob lacks alice's message: $(cat "$TEST_DIR/bob.out")"
import json, sys
msgs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
assert len(msgs) == 1, msgs
m = msgs[0]
assert m["sender"] == "alice" and m["text"] == "hello over tls" and m["mine"] is False, m
PY

# mosquitto_sub with the CA, by host name (the certificate lists localhost).
token=$(MQCHAT_PASSWORD=alice-pw mqchat --broker "$mqtts" --user alice login)
meta=$(timeout 15 mosquitto_sub --cafile "$TLS_CA" -h localhost -p "$MQTTS_PORT" -V 5 \
    -u alice -P "$token" -t 'chat/v1/rooms/+/meta' -C 1 -W 10)
echo "$meta" | grep -q '"name":"Book club"' || fail "mosquitto_sub over TLS got: $meta"

# A CA of its own (another local CA) is refused, and so is the system's
# trust store, which does not know the local CA.
bash "$MQCHAT_SOURCE_DIR/scripts/tls-certs.sh" "$TEST_DIR/other" >/dev/null 2>&1
mqchat_fails wrong_ca --broker "$mqtts" --cafile "$TEST_DIR/other/tls/ca.pem" --user alice rooms
expect_in wrong_ca "error: tls_failed: TLS verification failed"
expect_in wrong_ca "not signed by a trusted CA"
mqchat_fails wrong_ca_wss --broker "$wss" --cafile "$TEST_DIR/other/tls/ca.pem" \
    --user bob rooms
expect_in wrong_ca_wss "tls_failed: TLS verification failed"
MQCHAT_CAFILE="" mqchat_fails system_store --broker "$mqtts" --user alice rooms
expect_in system_store "tls_failed: TLS verification failed"
# A guest connection (register) checks the same way.
MQCHAT_PASSWORD=x mqchat_fails wrong_ca_guest --broker "$mqtts" \
    --cafile "$TEST_DIR/other/tls/ca.pem" --user carol register
expect_in wrong_ca_guest "tls_failed: TLS verification failed"
if timeout 15 mosquitto_sub --cafile "$TEST_DIR/other/tls/ca.pem" -h localhost \
    -p "$MQTTS_PORT" -V 5 -u alice -P "$token" -t 'chat/v1/rooms/+/meta' -C 1 -W 5 \
    2>/dev/null; then
    fail "mosquitto_sub trusted a wrong CA"
fi

# Plain MQTT on the TLS port gets nowhere; TLS on the plain port says so.
mqchat_fails plain_on_tls --broker "mqtt://127.0.0.1:$MQTTS_PORT" --user alice rooms
expect_in plain_on_tls "connect_failed"
if timeout 15 mosquitto_pub -h 127.0.0.1 -p "$MQTTS_PORT" -V 5 -t chat/v1/ctl/login -m '{}' \
    2>/dev/null; then
    fail "a plain mosquitto_pub got through the TLS port"
fi
MQCHAT_PASSWORD=x mqchat_fails tls_on_plain --broker "mqtts://127.0.0.1:$PORT" \
    --user dave register
expect_in tls_on_plain "tls_failed: TLS handshake with 127.0.0.1:$PORT failed"

# The generated files are reused on the next start.
stop_backend
restart_backend
[ "$(sha256sum <"$TLS_CA")" = "$ca_before" ] || fail "the CA was made again"
mqchat --broker "$mqtts" --user alice rooms >/dev/null

# A configured certificate is served as given: one for another host name,
# from another CA. Trusting that CA, 127.0.0.1 is still refused, for the
# name.
given=$TEST_DIR/given
mkdir -p "$given"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$given/server.key" -out "$given/server.pem" -subj "/CN=chat.example.test" \
    -addext "subjectAltName=DNS:chat.example.test" 2>/dev/null
stop_backend
printed=$(grep -c "clients trust it" "$TEST_DIR/backend.log")
TEST_TLS_CERT=$given/server.pem TEST_TLS_KEY=$given/server.key restart_backend
mqchat_fails wrong_host --broker "$mqtts" --cafile "$given/server.pem" --user alice rooms
expect_in wrong_host "tls_failed: TLS verification failed"
expect_in wrong_host "not for 127.0.0.1"
sleep 0.5
[ "$(grep -c "clients trust it" "$TEST_DIR/backend.log")" = "$printed" ] ||
    fail "with a configured certificate, the local CA was still offered"

# Port 0 turns a TLS listener off.
stop_backend
WSS_PORT=0
restart_backend
conf=$TEST_DIR/data/mosquitto/mosquitto.conf
[ "$(grep -c '^listener' "$conf")" -eq 3 ] ||
    fail "WSS_PORT=0 still configured: $(grep '^listener' "$conf")"
mqchat --broker "$mqtts" --user alice rooms >/dev/null

echo "PASS"
