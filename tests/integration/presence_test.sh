#!/usr/bin/env bash
# Presence and typing against a real backend, as a member of a room sees
# them through `mqchat listen --events --json`:
#   - a member who connects shows online, and `kill -9` of their only client
#     shows them offline well within the keep-alive window;
#   - killed and back within a second ends online, never a stale offline;
#   - a user with two devices stays online while one of them drops;
#   - a typist who is killed stops "typing" by itself (the 6 s expiry).
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
start_backend

cli="$MQCHAT_BUILD_DIR/client-lib/mqchat"
mqchat() { timeout 30 "$cli" "$@"; }

for u in alice bob; do
    MQCHAT_PASSWORD=$u-pw mqchat --user "$u" register >/dev/null
    MQCHAT_PASSWORD=$u-pw mqchat --user "$u" login >/dev/null
done
MQCHAT_ROOM_PASSWORD=pw mqchat --user alice create Club >/dev/null
MQCHAT_ROOM_PASSWORD=pw mqchat --user bob join Club >/dev/null

# Alice watches the room's events for the whole test.
events="$TEST_DIR/alice.events"
timeout 170 "$cli" --user alice --json listen Club --events --history 0 --timeout 160 \
    >"$events" 2>"$TEST_DIR/alice.err" &
for _ in $(seq 1 100); do
    grep -q listening "$TEST_DIR/alice.err" && break
    sleep 0.1
done
grep -q listening "$TEST_DIR/alice.err" || fail "alice never listened: $(cat "$TEST_DIR/alice.err")"

# The last event of TYPE ("presence"/"typing") alice saw from USER, named
# by its boolean FIELD: prints YES when it was true, NO when false, "none".
last_event() {
    python3 - "$events" "$@" <<'EOF'
import json, sys
path, kind, user, field, yes, no = sys.argv[1:]
state = "none"
for line in open(path):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("type") == kind and e.get("user") == user:
        state = yes if e.get(field) else no
print(state)
EOF
}

# The last presence state alice saw for USER: "online", "offline" or "none".
last_seen() { last_event presence "$1" online online offline; }

# Waits up to $2 seconds for alice to see USER $1 in state $3.
wait_seen() {
    local user=$1 limit=$2 want=$3 start=$SECONDS
    while [ $((SECONDS - start)) -le "$limit" ]; do
        [ "$(last_seen "$user")" = "$want" ] && return 0
        sleep 0.2
    done
    fail "alice did not see $user $want within $limit s (saw $(last_seen "$user"))"
}

# Whether `members` reports USER online ("True"/"False").
member_online() {
    mqchat --user alice --json members Club | python3 -c '
import json, sys
rows = {r["user"]: r for r in map(json.loads, sys.stdin)}
print(rows[sys.argv[1]]["online"])' "$1"
}

# Starts a bob device in the background; sets DEVICE_PID. Not under
# timeout(1): kill -9 must hit the client itself (--timeout bounds it, and
# the exit trap kills what is left).
start_device() {
    "$cli" --user bob listen Club --history 0 --timeout 110 \
        >/dev/null 2>"$TEST_DIR/bob-$1.err" &
    DEVICE_PID=$!
}

# 1. Bob comes online; kill -9 shows him offline. The client library's
#    keep-alive is 30 s, so the window is 45 s; a killed process closes its
#    socket, so it must be far quicker than that (grace period 2 s).
start_device a
wait_seen bob 15 online
[ "$(member_online bob)" = True ] || fail "members does not show bob online"
started=$SECONDS
kill -9 "$DEVICE_PID"
wait_seen bob 45 offline
echo "offline seen $((SECONDS - started)) s after kill -9"
[ "$(member_online bob)" = False ] || fail "members still shows bob online"

# 2. Killed and back within a second: ends online, also after the grace
#    period has passed.
start_device b
wait_seen bob 15 online
kill -9 "$DEVICE_PID"
sleep 0.5
start_device c
sleep 6
[ "$(last_seen bob)" = online ] || fail "quick reconnect ended $(last_seen bob)"
[ "$(member_online bob)" = True ] || fail "members: bob not online after reconnect"
first_device=$DEVICE_PID

# 3. A second device; the first drops, bob stays online.
start_device d
sleep 1
kill -9 "$first_device"
sleep 6
[ "$(last_seen bob)" = online ] || fail "one of two devices dropped: $(last_seen bob)"
[ "$(member_online bob)" = True ] || fail "members: bob offline with one device up"
kill -9 "$DEVICE_PID"
wait_seen bob 45 offline

# 4. Typing: bob types, alice sees it; bob's typist is killed and the
#    indicator ends by itself within its 6 s lifetime (plus delivery slack).
typing_state() { last_event typing bob typing typing stopped; }
"$cli" --user bob typing Club --for 50 >/dev/null 2>"$TEST_DIR/typist.err" &
typist=$!
for _ in $(seq 1 100); do
    [ "$(typing_state)" = typing ] && break
    sleep 0.1
done
[ "$(typing_state)" = typing ] || fail "alice never saw bob typing"
sleep 4  # past one refresh: still typing
[ "$(typing_state)" = typing ] || fail "typing ended while bob was still typing"
kill -9 "$typist"
started=$SECONDS
while [ "$(typing_state)" = typing ] && [ $((SECONDS - started)) -le 9 ]; do
    sleep 0.2
done
[ "$(typing_state)" = stopped ] || fail "typing did not expire after the typist was killed"
echo "typing expired $((SECONDS - started)) s after kill -9"
