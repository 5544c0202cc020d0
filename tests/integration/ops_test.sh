#!/usr/bin/env bash
# Configuration, health report and key rotation (issue 7) against a real
# backend started from a config file:
# - the config file's values apply beneath MQCHAT_* variables and flags;
#   bad values stop the room manager with exit 2 and a message naming the
#   key; the sample file parses; the logged configuration has no secret;
# - the broker listens on the port the config file sets (scripts/backend.sh
#   renders mosquitto.conf from the room manager's resolution);
# - chat/v1/sys/health is retained, fresh and readable by an operator
#   (`mqchat status`, text and --json) and by the Docker health check, and
#   refused to a normal user, also through '#'; its counters move;
# - rotate-keys: a session token of the old key still connects, one of the
#   new key does too, a token of an unknown key never does, and after
#   rotate-keys --retire-previous the old tokens are refused.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
: "${MQCHAT_FORGE_TOKEN:?set by ctest: path of the forge_token tool}"
prepare_test_dir

rm_bin=$MQCHAT_BUILD_DIR/service/mqchat-room-manager
mqchat() { timeout 30 "$MQCHAT_BUILD_DIR/client-lib/mqchat" "$@"; }
sub() { timeout 15 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 "$@"; }
# Connects as USER with TOKEN and waits for the SUBACK of the user's inbox.
connects() {
    sub -u "$1" -P "$2" -i "$1:probe-$RANDOM" -t "chat/v1/users/$1/inbox/probe" -E -W 5 \
        >/dev/null 2>&1
}
# Prints the Python expression $1 over the JSON object on stdin (as d).
json_field() {
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
kid_of() {
    python3 -c '
import base64, json, sys
h = sys.argv[1].split(".")[0]
print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4))).get("kid", ""))' "$1"
}

# ---------------------------------------------------------------------------
# 1. Precedence and bad values, without a broker.
# ---------------------------------------------------------------------------
conf=$TEST_DIR/mqchat.toml
cat > "$conf" <<TOML
data_dir = "$TEST_DIR/data"
mqtt_port = $PORT
ws_port = $WS_PORT
bind = "127.0.0.1"
max_queued = 777
health_interval_ms = 500
operators = ["olivia"]
[argon2]
t = 1
m = 8192
TOML
settings() { env -u MQCHAT_MQTT_PORT -u MQCHAT_DATA_DIR "$rm_bin" "$@" --print-broker-settings; }
settings --config "$conf" | grep -qx "MQCHAT_MQTT_PORT=$PORT" || fail "file port not applied"
settings --config "$conf" | grep -qx "MQCHAT_MAX_QUEUED=777" || fail "file max_queued not applied"
settings --config "$conf" | grep -qx "MQCHAT_DATA_DIR='$TEST_DIR/data'" || fail "file data_dir"
MQCHAT_CONFIG=$conf settings | grep -qx "MQCHAT_MQTT_PORT=$PORT" || fail "MQCHAT_CONFIG ignored"
MQCHAT_MQTT_PORT=4111 "$rm_bin" --config "$conf" --print-broker-settings |
    grep -qx "MQCHAT_MQTT_PORT=4111" || fail "env does not win over the file"
MQCHAT_MQTT_PORT=4111 "$rm_bin" --config "$conf" --mqtt-port 4222 --print-broker-settings |
    grep -qx "MQCHAT_MQTT_PORT=4222" || fail "flag does not win over env"
settings | grep -qx "MQCHAT_MQTT_PORT=1883" || fail "default port is not 1883"
settings --config "$MQCHAT_SOURCE_DIR/mqchat.toml.example" >/dev/null ||
    fail "mqchat.toml.example does not parse"

# bad_value CONTENT KEY WORDS: exit 2 and a message with the key and WORDS.
bad_value() {
    printf '%s\n' "$1" > "$TEST_DIR/bad.toml"
    local out status=0
    out=$("$rm_bin" --config "$TEST_DIR/bad.toml" --print-broker-settings 2>&1) || status=$?
    [ "$status" -eq 2 ] || fail "'$1': exit $status, not 2 ($out)"
    [[ "$out" == *"$2"* && "$out" == *"$3"* ]] || fail "'$1': message lacks '$2'/'$3': $out"
}
bad_value 'mqtt_port = "1883"' "key mqtt_port" "expected an integer"
bad_value 'mqtt_port = 70000' "key mqtt_port" "not in range"
bad_value 'log_level = "loud"' "key log_level" "loud"
bad_value 'no_such_setting = 1' "key no_such_setting" "unknown key"
bad_value 'operators = ["bad/name"]' "key operators" "bad/name"
bad_value '[argon2]
t = 0' "key argon2.t" "not in range"
bad_value 'init_only = true' "key init_only" "command line only"
bad_value 'mqtt_port = ' "line 1" "config file"

# ---------------------------------------------------------------------------
# 2. The backend from the config file alone (no port variables).
# ---------------------------------------------------------------------------
setsid env -u MQCHAT_MQTT_PORT -u MQCHAT_WS_PORT -u MQCHAT_DATA_DIR -u MQCHAT_BIND \
    MQCHAT_CONFIG="$conf" MQCHAT_READY_FILE="$TEST_DIR/ready" \
    bash "$MQCHAT_SOURCE_DIR/scripts/backend.sh" >>"$TEST_DIR/backend.log" 2>&1 &
BACKEND_PID=$!
for _ in $(seq 1 300); do
    [ -f "$TEST_DIR/ready" ] && break
    kill -0 "$BACKEND_PID" 2>/dev/null || fail "backend exited early"
    sleep 0.1
done
[ -f "$TEST_DIR/ready" ] || fail "backend not ready"
grep -qx "listener $PORT 127.0.0.1" "$TEST_DIR/data/mosquitto/mosquitto.conf" ||
    fail "mosquitto.conf does not listen on the config file's port"
grep -qx "max_queued_messages 777" "$TEST_DIR/data/mosquitto/mosquitto.conf" ||
    fail "mosquitto.conf lacks the config file's max_queued"
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || fail "broker not on port $PORT"

# The effective configuration is logged, without any secret.
config_line=$(grep "room_manager: config " "$TEST_DIR/backend.log" | tail -n 1)
[[ "$config_line" == *"mqtt-port=$PORT"* && "$config_line" == *"operator=olivia"* &&
    "$config_line" == *"argon2-t=1"* ]] || fail "effective config not logged: $config_line"
secret=$(cat "$TEST_DIR/data/service-secret")
if grep -qF "$secret" "$TEST_DIR/backend.log"; then fail "the service secret is in the log"; fi
if grep -q "PRIVATE KEY" "$TEST_DIR/backend.log"; then fail "a private key is in the log"; fi

# ---------------------------------------------------------------------------
# 3. The health report.
# ---------------------------------------------------------------------------
for u in olivia bob; do
    MQCHAT_PASSWORD="$u-pw" mqchat --user "$u" register >/dev/null
done
MQCHAT_PASSWORD=olivia-pw mqchat --user olivia login >/dev/null
bob_old=$(MQCHAT_PASSWORD=bob-pw mqchat --user bob login)

report=$(mqchat --user olivia --json status) || fail "status failed for the operator"
now=$(date +%s%3N)
[ "$(json_field 'd["status"]' <<<"$report")" = ok ] || fail "status not ok: $report"
age=$((now - $(json_field 'd["ts"]' <<<"$report")))
[ "$age" -lt 3000 ] || fail "health report $age ms old with a 500 ms interval"
for f in uptime_s version rooms members online_users requests joins_refused rate_limited \
    archive store; do
    json_field "d['$f']" <<<"$report" >/dev/null || fail "report lacks $f: $report"
done
[ "$(json_field 'd["store"]["ok"]' <<<"$report")" = True ] || fail "store not ok"
[ "$(json_field 'd["archive"]["connected"]' <<<"$report")" = True ] || fail "archive down"
text=$(mqchat --user olivia status) || fail "status (text) failed"
[[ "$text" == *"room manager 0.1.0"*": ok, up"* && "$text" == *"archive: connected"* ]] ||
    fail "status text: $text"

# A normal user: a clear error with a stable code.
status=0
out=$(mqchat --user bob status 2>&1) || status=$?
[ "$status" -eq 1 ] && [[ "$out" == *"error: not_operator:"* ]] ||
    fail "non-operator status: exit $status: $out"
# ... and nothing through '#' or the exact topic, while the operator's '#'
# (the positive control) gets it. -W ends each after 2 s.
olivia_token=$(MQCHAT_PASSWORD=olivia-pw mqchat --user olivia login)
seen=$(sub -u olivia -P "$olivia_token" -i olivia:hash -t '#' -v -W 2 2>/dev/null || true)
[[ "$seen" == *"chat/v1/sys/health {"* ]] || fail "the operator's '#' missed the report: $seen"
seen=$(sub -u bob -P "$bob_old" -i bob:hash -t '#' -v -W 2 2>/dev/null || true)
[[ "$seen" != *"sys/health"* ]] || fail "a '#' subscriber read the health topic: $seen"
seen=$(sub -u bob -P "$bob_old" -i bob:exact -t chat/v1/sys/health -v -W 2 2>&1 || true)
[[ "$seen" != *"chat/v1/sys/health {"* ]] || fail "a normal user read the health topic"

# Counters move: a refused join, rate-limited after five.
before=$(mqchat --user olivia --json status)
MQCHAT_ROOM_PASSWORD=right mqchat --user olivia create "Ops room" >/dev/null
for _ in 1 2 3 4 5 6; do
    MQCHAT_ROOM_PASSWORD=wrong mqchat --user bob join "Ops room" >/dev/null 2>&1 || true
done
sleep 1.2
after=$(mqchat --user olivia --json status)
count() { json_field "$1" <<<"$2"; }
[ "$(count 'd["joins_refused"]' "$after")" -ge $(($(count 'd["joins_refused"]' "$before") + 6)) ] ||
    fail "joins_refused did not move: $before -> $after"
[ "$(count 'd["rate_limited"]' "$after")" -ge 1 ] || fail "rate_limited did not move: $after"
[ "$(count 'd["requests"]["join"]["errors"]' "$after")" -ge 6 ] || fail "join errors: $after"
[ "$(count 'd["rooms"]' "$after")" -eq 1 ] || fail "rooms: $after"

# The Docker health check reads the same report.
MQCHAT_KEYS_DIR=$TEST_DIR/data MQCHAT_BROKER=$MQCHAT_BROKER \
    bash "$MQCHAT_SOURCE_DIR/docker/healthcheck.sh" room-manager || fail "healthcheck failed"

# ---------------------------------------------------------------------------
# 4. Key rotation, with the room manager and the broker running.
# ---------------------------------------------------------------------------
old_kid=$(kid_of "$bob_old")
[ -n "$old_kid" ] || fail "session token without a kid"
connects bob "$bob_old" || fail "bob's token does not connect before rotation"

"$rm_bin" --config "$conf" rotate-keys >"$TEST_DIR/rotate.log" 2>&1 || fail "rotate-keys failed"
[ -f "$TEST_DIR/data/public-keys/$old_kid.pem" ] || fail "old public key not kept"
for _ in $(seq 1 50); do
    grep -q "signing key rotated" "$TEST_DIR/backend.log" && break
    sleep 0.1
done
grep -q "signing key rotated old_kid=$old_kid" "$TEST_DIR/backend.log" ||
    fail "the room manager did not pick up the new key"

bob_new=$(MQCHAT_PASSWORD=bob-pw mqchat --user bob login)
new_kid=$(kid_of "$bob_new")
[ "$new_kid" != "$old_kid" ] || fail "login after rotation still signs with $old_kid"
connects bob "$bob_new" || fail "a token of the new key does not connect"
connects bob "$bob_old" || fail "a token of the previous key stopped working"
mqchat --user olivia status >/dev/null || fail "status after rotation"

# A key the installation never had.
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
    openssl pkcs8 -topk8 -nocrypt -out "$TEST_DIR/stranger.pem"
stranger=$("$MQCHAT_FORGE_TOKEN" --key "$TEST_DIR/stranger.pem" --user bob)
if connects bob "$stranger"; then fail "a token of an unknown key connected"; fi

# Retiring every previous key: tokens signed before are refused.
"$rm_bin" --config "$conf" rotate-keys --retire-previous >>"$TEST_DIR/rotate.log" 2>&1 ||
    fail "rotate-keys --retire-previous failed"
[ ! -f "$TEST_DIR/data/public-keys/$old_kid.pem" ] || fail "retired key still in public-keys"
for _ in $(seq 1 50); do
    [ "$(grep -c "signing key rotated" "$TEST_DIR/backend.log")" -ge 2 ] && break
    sleep 0.1
done
sleep 0.5
if connects bob "$bob_old"; then fail "a token of a retired key connected"; fi
if connects bob "$bob_new"; then fail "a token of the retired second key connected"; fi
bob_third=$(MQCHAT_PASSWORD=bob-pw mqchat --user bob login)
connects bob "$bob_third" || fail "a token of the newest key does not connect"
grep -q "keys reloaded why=reload_keys" "$TEST_DIR/backend.log" ||
    fail "the plugin did not log a key reload"

echo "ops_test: ok"
