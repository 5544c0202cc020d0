#!/usr/bin/env bash
# Finding rooms and running them, against a real backend:
#   - listed rooms are visible to everyone (`rooms`, retained metadata);
#     unlisted ones never reach a non-member, not even a raw '#' subscriber,
#     live or retained, and not after being unlisted later;
#   - `rooms --match` searches names and descriptions;
#   - the owner edits the description and hands the room over;
#   - delete leaves no retained metadata or presence, also after a broker
#     restart with persistence.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
start_backend

mqchat() { timeout 30 "$MQCHAT_BUILD_DIR/client-lib/mqchat" "$@"; }
sub() { timeout 20 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 "$@"; }

for u in alice bob carol; do
    MQCHAT_PASSWORD=$u-pw mqchat --user "$u" register >/dev/null
    MQCHAT_PASSWORD=$u-pw mqchat --user "$u" login >/dev/null
done
carol_session=$(MQCHAT_PASSWORD=carol-pw mqchat --user carol login)
secret=$(cat "$TEST_DIR/data/service-secret")

# The id of ROOM as its member USER sees it in `rooms`.
room_id() {
    mqchat --user "$1" --json rooms | python3 -c '
import json, sys
print([r["id"] for r in map(json.loads, sys.stdin) if r["name"] == sys.argv[1]][0])' "$2"
}

# Room names USER gets from `rooms` (extra arguments passed on), one per line.
room_names() {
    local user=$1
    shift
    mqchat --user "$user" --json rooms "$@" | python3 -c '
import json, sys
for r in map(json.loads, sys.stdin):
    print(r["name"])'
}

# 1. Carol, in no room, watches everything she may see with '#' while a
#    listed and an unlisted room are created and changed.
sub -i carol-watch -u carol -P "$carol_session" -t '#' -v -W 8 >"$TEST_DIR/live.out" 2>&1 &
watcher=$!
sleep 1
MQCHAT_ROOM_PASSWORD=pw mqchat --user alice create Open --description "Board games" >/dev/null
MQCHAT_ROOM_PASSWORD=pw mqchat --user alice create Hidden --unlisted >/dev/null
MQCHAT_ROOM_PASSWORD=pw mqchat --user bob join Hidden >/dev/null
mqchat --user alice update Hidden --description "still secret" >/dev/null
wait "$watcher" || true
open_id=$(room_id alice Open)
hidden_id=$(room_id alice Hidden)
grep -q "rooms/$open_id/meta" "$TEST_DIR/live.out" ||
    fail "carol did not see the listed room live: $(cat "$TEST_DIR/live.out")"
if grep -q -e "$hidden_id" -e Hidden -e "still secret" "$TEST_DIR/live.out"; then
    fail "carol saw the unlisted room live: $(cat "$TEST_DIR/live.out")"
fi

# Retained: a fresh '#' subscription shows the listed room only.
sub -i carol-fresh -u carol -P "$carol_session" -t '#' -v -W 3 >"$TEST_DIR/fresh.out" 2>&1 || true
grep -q "rooms/$open_id/meta" "$TEST_DIR/fresh.out" || fail "no retained meta for Open"
if grep -q -e "$hidden_id" -e Hidden "$TEST_DIR/fresh.out"; then
    fail "carol got the unlisted room's retained meta"
fi

# `rooms`: carol sees Open only; bob, a member, sees Hidden too.
[ "$(room_names carol)" = Open ] || fail "carol's rooms: $(room_names carol)"
[ "$(room_names bob | sort | tr '\n' ' ')" = "Hidden Open " ] ||
    fail "bob's rooms: $(room_names bob)"
[ "$(room_names carol --match GAMES)" = Open ] || fail "match on description failed"
[ -z "$(room_names carol --match hid)" ] || fail "match revealed the unlisted room"
[ "$(room_names bob --match hid)" = Hidden ] || fail "member cannot find own unlisted room"

# Unlisting a listed room later hides its retained metadata too.
mqchat --user alice update Open --unlisted >/dev/null
sleep 2
sub -i carol-fresh2 -u carol -P "$carol_session" -t '#' -v -W 3 >"$TEST_DIR/fresh2.out" 2>&1 ||
    true
if grep -q "$open_id" "$TEST_DIR/fresh2.out"; then
    fail "unlisted Open still visible: $(cat "$TEST_DIR/fresh2.out")"
fi
[ -z "$(room_names carol)" ] || fail "carol still lists: $(room_names carol)"

# 2. Description and ownership.
mqchat --user alice update Hidden --description "Our plans" >/dev/null
mqchat --user bob --json rooms --match plans | grep -q '"description":"Our plans"' ||
    fail "description not updated"
if mqchat --user alice transfer Hidden carol 2>"$TEST_DIR/err"; then
    fail "transfer to a non-member succeeded"
fi
grep -q not_member "$TEST_DIR/err" || fail "transfer to non-member: $(cat "$TEST_DIR/err")"
mqchat --user alice transfer Hidden bob >/dev/null
mqchat --user bob --json members Hidden | python3 -c '
import json, sys
roles = {r["user"]: r["role"] for r in map(json.loads, sys.stdin)}
assert roles == {"alice": "member", "bob": "owner"}, roles' || fail "roles after transfer"
if mqchat --user alice update Hidden --description x 2>"$TEST_DIR/err"; then
    fail "the former owner still administers"
fi
grep -q not_owner "$TEST_DIR/err" || fail "former owner: $(cat "$TEST_DIR/err")"

# 3. Delete: nothing retained is left under the room, now and after a
#    restart. The room manager's own account sees every topic, so it is the
#    fresh subscriber that would see leftovers.
retained_under() {
    sub -i "observer-$RANDOM" -u mqchat-service -P "$secret" -t "chat/v1/rooms/$1/#" -v -W 3 \
        2>/dev/null || true
}
before=$(retained_under "$hidden_id")
grep -q "rooms/$hidden_id/meta" <<<"$before" || fail "observer sees no meta: $before"
grep -q "rooms/$hidden_id/presence/bob" <<<"$before" || fail "observer sees no presence: $before"
mqchat --user bob delete Hidden >/dev/null
sleep 1
after=$(retained_under "$hidden_id")
[ -z "$after" ] || fail "retained topics left after delete: $after"
stop_backend
restart_backend
after=$(retained_under "$hidden_id")
[ -z "$after" ] || fail "retained topics back after a broker restart: $after"
