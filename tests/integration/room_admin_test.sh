#!/usr/bin/env bash
# Room administration against a real backend: kick, ban / unban, password
# change with revocation and delete cut the removed user off at once, their
# old join tokens are refused when presented again, and a broker restart
# lets members back in without a password while the removed stay out.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
start_backend

mqchat() { timeout 30 "$MQCHAT_BUILD_DIR/client-lib/mqchat" "$@"; }
pub() { timeout 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" -V 5 "$@"; }
sub() { timeout 15 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 "$@"; }

# The join token the CLI saved for USER in ROOM.
saved_token() {
    python3 -c '
import json, sys
rooms = json.load(open(sys.argv[1])).get("rooms", {})
print(rooms[sys.argv[2]]["token"] if sys.argv[2] in rooms else "")' \
        "$MQCHAT_HOME"/*/"$1".json "$2"
}

# Presents TOKEN as USER (session SESSION) under client id CID, then tries
# to subscribe to TOPIC with the same client id. Prints "granted" or "denied".
try_enter() {
    local user=$1 session=$2 cid=$3 token=$4 topic=$5
    pub -i "$cid" -u "$user" -P "$session" -q 1 -t '$CONTROL/mqchat/v1' \
        -m "{\"op\":\"present\",\"token\":\"$token\"}"
    if sub -i "$cid" -u "$user" -P "$session" -t "$topic" -E 2>&1 | grep -q denied; then
        echo denied
    else
        echo granted
    fi
}

# Starts a listener for USER in "Club" that writes to $TEST_DIR/USER.out.
listen_in_background() {
    local user=$1
    : >"$TEST_DIR/$user.err"
    # Not through the mqchat() function: killing $! must reach the CLI itself
    # (timeout passes the signal on), not just a subshell around it.
    timeout 30 "$MQCHAT_BUILD_DIR/client-lib/mqchat" --user "$user" --json listen Club \
        --timeout 20 >"$TEST_DIR/$user.out" 2>"$TEST_DIR/$user.err" &
    for _ in $(seq 1 100); do
        grep -q listening "$TEST_DIR/$user.err" && return 0
        sleep 0.1
    done
    fail "$user never started listening: $(cat "$TEST_DIR/$user.err")"
}

got() { grep -c "\"text\":\"$2\"" "$TEST_DIR/$1.out" || true; }

# Three accounts; alice owns "Club", bob and carol join it.
for u in alice bob carol; do
    MQCHAT_PASSWORD=$u-pw mqchat --user "$u" register >/dev/null
    MQCHAT_PASSWORD=$u-pw mqchat --user "$u" login >/dev/null
done
MQCHAT_ROOM_PASSWORD=pw1 mqchat --user alice create Club >/dev/null
MQCHAT_ROOM_PASSWORD=pw1 mqchat --user bob join Club >/dev/null
MQCHAT_ROOM_PASSWORD=pw1 mqchat --user carol join Club >/dev/null
room_id=$(mqchat --user alice --json rooms | python3 -c '
import json, sys
print([json.loads(l)["id"] for l in sys.stdin if json.loads(l)["name"] == "Club"][0])')
msg_topic="chat/v1/rooms/$room_id/msg"
bob_session=$(MQCHAT_PASSWORD=bob-pw mqchat --user bob login)
carol_session=$(MQCHAT_PASSWORD=carol-pw mqchat --user carol login)

# members: everyone, owner first; only the owner administers.
members=$(mqchat --user bob --json members Club)
echo "$members" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert [(r["user"], r["role"]) for r in rows] == \
    [("alice", "owner"), ("bob", "member"), ("carol", "member")], rows' ||
    fail "members: $members"
if mqchat --user bob kick Club carol 2>"$TEST_DIR/err"; then fail "bob could kick"; fi
grep -q not_owner "$TEST_DIR/err" || fail "kick by non-owner: $(cat "$TEST_DIR/err")"

# 1. Kick: bob is listening, is kicked, and sees nothing sent afterwards.
bob_token=$(saved_token bob Club)
[ "$(try_enter bob "$bob_session" bob-raw0 "$bob_token" "$msg_topic")" = granted ] ||
    fail "bob's valid token does not admit him"
listen_in_background bob
bob_listen=$!
mqchat --user alice send Club "before kick"
for _ in $(seq 1 50); do [ "$(got bob "before kick")" -eq 1 ] && break; sleep 0.1; done
[ "$(got bob "before kick")" -eq 1 ] || fail "bob missed the message before the kick"
mqchat --user alice kick Club bob >/dev/null
mqchat --user alice send Club "after kick"
sleep 1
kill "$bob_listen" 2>/dev/null || true
wait "$bob_listen" 2>/dev/null || true
[ "$(got bob "after kick")" -eq 0 ] || fail "bob still received after the kick"
[ "$(try_enter bob "$bob_session" bob-raw "$bob_token" "$msg_topic")" = denied ] ||
    fail "bob's pre-kick token still admits him"

# A kicked user may rejoin with the password.
MQCHAT_ROOM_PASSWORD=pw1 mqchat --user bob join Club >/dev/null

# 2. Ban: bob is out, the right password no longer helps, unban restores it.
mqchat --user alice ban Club bob >/dev/null
if MQCHAT_ROOM_PASSWORD=pw1 mqchat --user bob join Club 2>"$TEST_DIR/err"; then
    fail "banned bob could rejoin"
fi
grep -q banned "$TEST_DIR/err" || fail "ban code: $(cat "$TEST_DIR/err")"
mqchat --user alice unban Club bob >/dev/null
MQCHAT_ROOM_PASSWORD=pw1 mqchat --user bob join Club >/dev/null

# 3. Password change without --revoke keeps members; with it, they are out.
MQCHAT_ROOM_PASSWORD=pw2 mqchat --user alice passwd Club >/dev/null
[ "$(mqchat --user carol --json members Club | wc -l)" -eq 3 ] || fail "passwd removed members"
carol_token=$(saved_token carol Club)
revoked=$(MQCHAT_ROOM_PASSWORD=pw3 mqchat --user alice --json passwd Club --revoke)
[ "$(echo "$revoked" | python3 -c 'import json,sys; print(json.load(sys.stdin)["revoked"])')" \
    -eq 2 ] || fail "passwd --revoke: $revoked"
[ "$(try_enter carol "$carol_session" carol-raw "$carol_token" "$msg_topic")" = denied ] ||
    fail "carol's token survived the password change"
if MQCHAT_ROOM_PASSWORD=pw1 mqchat --user carol join Club 2>/dev/null; then
    fail "the old password still works"
fi
MQCHAT_ROOM_PASSWORD=pw3 mqchat --user bob join Club >/dev/null

# 4. Broker restart: bob (a member) gets back in with his saved token, carol
# (revoked) stays out even with hers.
stop_backend
restart_backend
listen_in_background bob
bob_listen=$!
mqchat --user alice send Club "after restart"
for _ in $(seq 1 50); do [ "$(got bob "after restart")" -eq 1 ] && break; sleep 0.1; done
kill "$bob_listen" 2>/dev/null || true
wait "$bob_listen" 2>/dev/null || true
[ "$(got bob "after restart")" -eq 1 ] || fail "bob did not get back in after the restart"
[ "$(try_enter carol "$carol_session" carol-raw2 "$carol_token" "$msg_topic")" = denied ] ||
    fail "carol's revoked token works again after the restart"

# 5. Delete: access ends, and the metadata is gone, also after a restart.
bob_token=$(saved_token bob Club)
mqchat --user alice delete Club >/dev/null
[ "$(try_enter bob "$bob_session" bob-raw2 "$bob_token" "$msg_topic")" = denied ] ||
    fail "bob's token survived the deletion"
stop_backend
restart_backend
meta=$(sub -u bob -P "$bob_session" -t "chat/v1/rooms/$room_id/meta" -W 2 2>/dev/null || true)
[ -z "$meta" ] || fail "deleted room's metadata is back: $meta"
mqchat --user bob --json rooms | grep -q '"Club"' && fail "deleted room still listed"

echo "room admin: ok"
