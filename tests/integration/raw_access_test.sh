#!/usr/bin/env bash
# Raw MQTT clients (mosquitto_pub / mosquitto_sub, v5 and v3.1.1) against a
# real backend: no anonymous chatting, no reading a room you have not joined,
# no writing into it, and no forging the sender.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
start_backend

mqchat() { timeout 30 "$MQCHAT_BUILD_DIR/client-lib/mqchat" "$@"; }
pub() { timeout 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" "$@"; }
sub() { timeout 15 mosquitto_sub -h 127.0.0.1 -p "$PORT" "$@"; }

MQCHAT_PASSWORD=alice-pw mqchat --user alice register
MQCHAT_PASSWORD=mallory-pw mqchat --user mallory register
MQCHAT_PASSWORD=alice-pw mqchat --user alice login >/dev/null
mallory_token=$(MQCHAT_PASSWORD=mallory-pw mqchat --user mallory login)
alice_token=$(MQCHAT_PASSWORD=alice-pw mqchat --user alice login)
MQCHAT_ROOM_PASSWORD=secret mqchat --user alice create "Vault"
room_id=$(mqchat --user alice --json rooms | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["name"] == "Vault":
        print(r["id"])')
[ -n "$room_id" ] || fail "no room id"
room_topic="chat/v1/rooms/$room_id/msg"

# A wrong or missing session token is refused at CONNECT.
if pub -V 5 -u alice -P not-a-token -t "$room_topic" -m x 2>/dev/null; then
    fail "connect with a bad token was accepted"
fi
if pub -V 5 -u alice -P "$mallory_token" -t "$room_topic" -m x 2>/dev/null; then
    fail "mallory's token was accepted for alice"
fi

# Mallory (logged in, never joined) subscribes with wildcards, v5 and v3.1.1.
sub -V 5 -u mallory -P "$mallory_token" -t '#' -t 'chat/#' -t '+/+/+/+' \
    -t 'chat/v1/rooms/+/msg' -t "\$share/g/$room_topic" -W 8 -v \
    >"$TEST_DIR/mallory5.out" 2>&1 &
mallory5_pid=$!
sub -V 311 -u mallory -P "$mallory_token" -t '#' -t '+/+/+/+' -W 8 -v \
    >"$TEST_DIR/mallory311.out" 2>&1 &
mallory311_pid=$!

# Alice listens through the library.
mqchat --user alice --json listen Vault --count 2 --timeout 15 \
    >"$TEST_DIR/alice.out" 2>"$TEST_DIR/alice.err" &
alice_pid=$!
for _ in $(seq 1 100); do grep -q listening "$TEST_DIR/alice.err" && break; sleep 0.1; done
sleep 0.5

# Anonymous and non-member publishes into the room; a forged sender.
pub -V 5 -q 1 -t "$room_topic" -m '{"id":"anon00000000000000","text":"from nobody"}' || true
pub -V 311 -q 1 -t "$room_topic" -m '{"id":"anon11111111111111","text":"from nobody 311"}' || true
pub -V 5 -q 1 -u mallory -P "$mallory_token" -t "$room_topic" \
    -m '{"id":"mall00000000000000","text":"from mallory"}' || true
# Alice's raw connection is a member only after presenting her join token
# (from the CLI's saved state) under the client id it then publishes with.
alice_join=$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["rooms"]["Vault"]["token"])' "$MQCHAT_HOME"/*/alice.json)
pub -V 5 -q 1 -i alice-raw -u alice -P "$alice_token" -t '$CONTROL/mqchat/v1' \
    -m "{\"op\":\"present\",\"token\":\"$alice_join\"}"
pub -V 5 -q 1 -i alice-raw -u alice -P "$alice_token" -t "$room_topic" \
    -D publish user-property sender mallory -D publish user-property seq 999999 \
    -m '{"id":"forg00000000000000","text":"forged sender"}'
mqchat --user alice send Vault "the secret plan"
wait "$alice_pid" || fail "alice's listen failed: $(cat "$TEST_DIR/alice.err")"
# The attackers' subscriptions end by themselves after -W seconds.
wait "$mallory5_pid" "$mallory311_pid" || true

python3 - "$TEST_DIR/alice.out" <<'PY' || fail "alice saw the wrong messages: $(cat "$TEST_DIR/alice.out")"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
texts = [m["text"] for m in msgs]
assert texts == ["forged sender", "the secret plan"], texts
assert all(m["sender"] == "alice" for m in msgs), msgs
assert msgs[0]["seq"] != 999999 and msgs[1]["seq"] == msgs[0]["seq"] + 1, msgs
PY

for f in mallory5.out mallory311.out; do
    # The wildcard subscriptions were live: they got what a user may read.
    grep -q "chat/v1/rooms/$room_id/meta" "$TEST_DIR/$f" ||
        fail "mallory's subscription got nothing at all ($f): $(cat "$TEST_DIR/$f")"
    if grep -q -e "secret plan" -e "forged sender" -e "$room_topic" "$TEST_DIR/$f"; then
        fail "mallory read the room ($f): $(cat "$TEST_DIR/$f")"
    fi
done

echo "raw access: ok"
