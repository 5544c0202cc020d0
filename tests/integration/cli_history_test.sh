#!/usr/bin/env bash
# History through the mqchat binary against a real backend: `history` pages
# oldest first (also beyond one 500-message page), `listen` shows history
# first and counts it, `--history 0` shows only live messages, `chat` sends
# piped lines (queued) and waits for them, and only members read history.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
start_backend

mqchat() { timeout 60 "$MQCHAT_BUILD_DIR/client-lib/mqchat" "$@"; }

# Prints the "text" fields of JSON lines on stdin, space-separated.
texts() { python3 -c '
import json, sys
print(" ".join(json.loads(l)["text"] for l in sys.stdin if l.strip()))'; }

# Waits until USER's `history ROOM` shows N messages.
wait_archived() {
    local user=$1 room=$2 n=$3
    for _ in $(seq 1 100); do
        [ "$(mqchat --user "$user" --json history "$room" --limit "$n" | wc -l)" -ge "$n" ] &&
            return 0
        sleep 0.2
    done
    fail "the archive never showed $n messages of $room"
}

# Starts `listen` for USER with extra arguments; output in $TEST_DIR/USER.out.
listen_in_background() {
    local user=$1
    shift
    : >"$TEST_DIR/$user.err"
    mqchat --user "$user" --json listen Talk --timeout 20 "$@" \
        >"$TEST_DIR/$user.out" 2>"$TEST_DIR/$user.err" &
    LISTEN_PID=$!
    for _ in $(seq 1 100); do
        grep -q listening "$TEST_DIR/$user.err" && return 0
        sleep 0.1
    done
    fail "$user never started listening: $(cat "$TEST_DIR/$user.err")"
}

for u in alice bob mallory; do
    MQCHAT_PASSWORD=$u-pw mqchat --user "$u" register >/dev/null
    MQCHAT_PASSWORD=$u-pw mqchat --user "$u" login >/dev/null
done
MQCHAT_ROOM_PASSWORD=pw mqchat --user alice create Talk >/dev/null
MQCHAT_ROOM_PASSWORD=pw mqchat --user bob join Talk >/dev/null
for i in 1 2 3 4 5; do mqchat --user alice send Talk "h$i"; done
wait_archived bob Talk 5

# 1. history: oldest first, the same objects as listen prints.
out=$(mqchat --user bob --json history Talk)
[ "$(echo "$out" | texts)" = "h1 h2 h3 h4 h5" ] || fail "history: $out"
echo "$out" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5], rows
for r in rows:
    assert set(r) == {"room", "id", "sender", "text", "ts", "mine", "seq"}, r
    assert r["room"] == "Talk" and r["sender"] == "alice" and r["mine"] is False, r' ||
    fail "history objects: $out"
[ "$(mqchat --user bob --json history Talk --limit 2 | texts)" = "h4 h5" ] ||
    fail "history --limit 2"
[ "$(mqchat --user bob --json history Talk --before 4 --limit 2 | texts)" = "h2 h3" ] ||
    fail "history --before 4 --limit 2"
mqchat --user bob history Talk | grep -q '] alice: h1$' || fail "human history line"

# 2. listen: history first, counted by --count, then live.
listen_in_background bob --count 7
mqchat --user alice send Talk h6
mqchat --user alice send Talk h7
wait "$LISTEN_PID" || fail "listen failed: $(cat "$TEST_DIR/bob.err")"
[ "$(texts <"$TEST_DIR/bob.out")" = "h1 h2 h3 h4 h5 h6 h7" ] ||
    fail "listen with history: $(cat "$TEST_DIR/bob.out")"

# 3. listen --history 0: only what is sent after entering.
listen_in_background bob --count 1 --history 0
mqchat --user alice send Talk h8
wait "$LISTEN_PID" || fail "listen --history 0 failed: $(cat "$TEST_DIR/bob.err")"
[ "$(texts <"$TEST_DIR/bob.out")" = "h8" ] ||
    fail "listen --history 0: $(cat "$TEST_DIR/bob.out")"

# 4. chat sends piped lines and waits for every one before exiting; history
# then pages back past the 500-message page limit.
seq 1 600 | sed 's/^/c/' | mqchat --user alice chat Talk --history 0 >/dev/null \
    2>"$TEST_DIR/chat.err" || fail "chat failed: $(cat "$TEST_DIR/chat.err")"
wait_archived bob Talk 608
mqchat --user bob --json history Talk --limit 605 >"$TEST_DIR/long.out"
python3 - "$TEST_DIR/long.out" <<'PY' || fail "long history is wrong"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 605, len(rows)
assert [r["seq"] for r in rows] == list(range(4, 609)), [r["seq"] for r in rows][:5]
assert [r["text"] for r in rows[:5]] == ["h4", "h5", "h6", "h7", "h8"], rows[:5]
assert [r["text"] for r in rows[5:]] == ["c%d" % i for i in range(1, 601)]
assert len({r["id"] for r in rows}) == 605
PY

# 5. A malformed message (published raw by a member) counts as seen: it is
# neither shown nor taken for a gap, in history or live.
alice_session=$(MQCHAT_PASSWORD=alice-pw mqchat --user alice login)
alice_join=$(python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["rooms"]["Talk"]["token"])' "$MQCHAT_HOME"/*/alice.json)
room_id=$(mqchat --user alice --json rooms | python3 -c '
import json, sys
print([json.loads(l)["id"] for l in sys.stdin if json.loads(l)["name"] == "Talk"][0])')
raw() { timeout 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" -V 5 -q 1 -i alice-raw \
    -u alice -P "$alice_session" "$@"; }
raw -t '$CONTROL/mqchat/v1' -m "{\"op\":\"present\",\"token\":\"$alice_join\"}"
raw -t "chat/v1/rooms/$room_id/msg" -m '{"not":"a chat message"}'
raw -t "chat/v1/rooms/$room_id/msg" -m '{"id":"rawrawrawrawrawraw01","text":"probe"}'
for _ in $(seq 1 100); do
    [ "$(mqchat --user bob --json history Talk --limit 1 | texts)" = probe ] && break
    sleep 0.2
done
# --limit counts messages shown; the malformed one between is left out.
mqchat --user bob --json history Talk --limit 2 >"$TEST_DIR/tail.out"
python3 - "$TEST_DIR/tail.out" <<'PY' ||
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["seq"], r["text"]) for r in rows] == [(608, "c600"), (610, "probe")], rows
PY
    fail "history around a malformed message: $(cat "$TEST_DIR/tail.out")"
: >"$TEST_DIR/bob.err"
MQCHAT_DEBUG=1 mqchat --user bob --json listen Talk --history 3 --count 3 --timeout 20 \
    >"$TEST_DIR/bob.out" 2>"$TEST_DIR/bob.err" &
LISTEN_PID=$!
for _ in $(seq 1 100); do grep -q listening "$TEST_DIR/bob.err" && break; sleep 0.1; done
raw -t "chat/v1/rooms/$room_id/msg" -m '{"id":"rawrawrawrawrawraw02","text":"after bad"}'
wait "$LISTEN_PID" || fail "listen after a malformed message: $(cat "$TEST_DIR/bob.err")"
[ "$(texts <"$TEST_DIR/bob.out")" = "c600 probe after bad" ] ||
    fail "malformed message handling: $(cat "$TEST_DIR/bob.out")"
if grep -q "gap room=" "$TEST_DIR/bob.err"; then
    fail "a malformed message was taken for a gap: $(grep gap "$TEST_DIR/bob.err")"
fi

# 6. Only members read history.
if mqchat --user mallory history Talk 2>"$TEST_DIR/err"; then fail "mallory read history"; fi
grep -q not_member "$TEST_DIR/err" || fail "non-member history: $(cat "$TEST_DIR/err")"

echo "cli history: ok"
