#!/usr/bin/env bash
# Two people chat through the mqchat binary against a real backend: register,
# log in, create, join with the password, exchange messages (each sees who
# sent what, own messages marked), a wrong password is refused, and leave.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
start_backend

mqchat() { timeout 30 "$MQCHAT_BUILD_DIR/client-lib/mqchat" "$@"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

# Accounts and logins.
MQCHAT_PASSWORD=alice-pw mqchat --user alice register
MQCHAT_PASSWORD=bob-pw mqchat --user bob register
token=$(MQCHAT_PASSWORD=alice-pw mqchat --user alice login)
[ "$(echo "$token" | tr -cd . | wc -c)" -eq 2 ] || fail "login did not print a JWT: $token"
MQCHAT_PASSWORD=bob-pw mqchat --user bob login >/dev/null

# Alice creates the room; Bob joins with the password.
MQCHAT_ROOM_PASSWORD=books mqchat --user alice create "Book club"
MQCHAT_ROOM_PASSWORD=books mqchat --user bob join "Book club"

# The room shows up in the retained metadata, without any secret in it.
rooms=$(mqchat --user bob --json rooms)
echo "$rooms" | grep -q '"name":"Book club"' || fail "room not listed: $rooms"
echo "$rooms" | grep -qi 'argon2' && fail "room metadata leaks a hash: $rooms"

# Both listen; wait until both report that they are subscribed.
mqchat --user alice --json listen "Book club" --count 2 --timeout 20 \
    >"$TEST_DIR/alice.out" 2>"$TEST_DIR/alice.err" &
alice_pid=$!
mqchat --user bob --json listen "Book club" --count 2 --timeout 20 \
    >"$TEST_DIR/bob.out" 2>"$TEST_DIR/bob.err" &
bob_pid=$!
for _ in $(seq 1 100); do
    grep -q listening "$TEST_DIR/alice.err" && grep -q listening "$TEST_DIR/bob.err" && break
    sleep 0.1
done
grep -q listening "$TEST_DIR/alice.err" || fail "alice never started listening"
grep -q listening "$TEST_DIR/bob.err" || fail "bob never started listening"

mqchat --user alice send "Book club" "hello bob"
mqchat --user bob send "Book club" "hi alice"
wait "$alice_pid" || fail "alice's listen failed: $(cat "$TEST_DIR/alice.err")"
wait "$bob_pid" || fail "bob's listen failed: $(cat "$TEST_DIR/bob.err")"

# Each side sees both messages, with the right sender and its own marked.
check() {
    local out=$1 sender=$2 text=$3 mine=$4
    python3 - "$out" "$sender" "$text" "$mine" <<'PY' || fail "$out lacks $sender:$text mine=$mine"
import json, sys
path, sender, text, mine = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "true"
msgs = [json.loads(line) for line in open(path) if line.strip()]
hits = [m for m in msgs if m["sender"] == sender and m["text"] == text]
assert len(hits) == 1, msgs
m = hits[0]
assert m["mine"] is mine and m["room"] == "Book club", m
assert isinstance(m["ts"], int) and m["ts"] > 0 and m["id"], m
PY
}
check "$TEST_DIR/alice.out" alice "hello bob" true
check "$TEST_DIR/alice.out" bob "hi alice" false
check "$TEST_DIR/bob.out" alice "hello bob" false
check "$TEST_DIR/bob.out" bob "hi alice" true

# A wrong room password is refused with its code and a non-zero status.
MQCHAT_PASSWORD=carol-pw mqchat --user carol register
set +e
MQCHAT_PASSWORD=carol-pw MQCHAT_ROOM_PASSWORD=guess mqchat --user carol join "Book club" \
    2>"$TEST_DIR/carol.err"
status=$?
set -e
[ $status -eq 1 ] || fail "wrong password exit status $status"
grep -q wrong_password "$TEST_DIR/carol.err" || fail "no wrong_password code: $(cat "$TEST_DIR/carol.err")"

# Bob leaves; sending into the room is then refused.
mqchat --user bob leave "Book club"
if mqchat --user bob send "Book club" "still here?" 2>"$TEST_DIR/bob-left.err"; then
    fail "send after leave succeeded"
fi

echo "cli chat: ok"
