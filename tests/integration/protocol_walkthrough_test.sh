#!/usr/bin/env bash
# Replays the "Walkthrough with mosquitto_pub / mosquitto_sub" section of
# docs/protocol.md against a real backend: every ```sh block of that section,
# in order, in one bash shell. Then checks what a reader would check by eye.
# The commands come from the doc itself, so the doc and this test cannot drift.
# The walkthrough's variables come from a sourced state file, hence SC2154 off.
# shellcheck disable=SC2154
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"

doc="$MQCHAT_SOURCE_DIR/docs/protocol.md"
heading="## Walkthrough with mosquitto_pub / mosquitto_sub"
grep -qxF "$heading" "$doc" || fail "no walkthrough heading in $doc"

start_backend
script="$TEST_DIR/walkthrough.sh"
work="$TEST_DIR/walk"
mkdir -p "$work"

# The walkthrough's variables the checks below read, dumped after its last block.
state_vars="alice_token bob_token room_id created refused joined left"

# Extract the blocks: from the heading to the next level-2 heading (or the end
# of the file), fenced with ```sh ... ```. Each block is announced in the log.
awk -v heading="$heading" '
    !in_block && /^## / { in_section = ($0 == heading) }
    in_section && !in_block && /^```sh$/ {
        in_block = 1; blocks++
        printf "echo \"### walkthrough block %d (docs/protocol.md:%d)\"\n", blocks, NR
        next
    }
    in_block && /^```$/ { in_block = 0; next }
    in_block { print }
    END {
        if (in_block) { print "unterminated sh block" > "/dev/stderr"; exit 1 }
        if (blocks < 10) { print "only " blocks " sh blocks" > "/dev/stderr"; exit 1 }
    }' "$doc" >"$TEST_DIR/blocks.sh" || fail "cannot extract the walkthrough from $doc"
{
    echo "set -euo pipefail"
    cat "$TEST_DIR/blocks.sh"
    echo "declare -p $state_vars >\"\$WALK_STATE\""
} >"$script"

# Run it in one bash shell, in its own folder, with the test backend's port.
# timeout bounds the whole run and, on expiry, kills its process group (the
# background listeners included); the listeners bound themselves with -W.
set +e
(cd "$work" && PORT="$PORT" WALK_STATE="$TEST_DIR/state.sh" \
    timeout 120 bash "$script" >"$TEST_DIR/walk.log" 2>&1)
status=$?
set -e
cat "$TEST_DIR/walk.log"
[ "$status" -eq 0 ] || fail "the walkthrough failed with status $status (log above)"
# Defines the walkthrough's $state_vars.
# shellcheck source=/dev/null
source "$TEST_DIR/state.sh"

# Both users got a session token (a JWT); it then worked as their password.
for token in "$alice_token" "$bob_token"; do
    [ "$(printf '%s' "$token" | tr -cd . | wc -c)" -eq 2 ] || fail "not a JWT: $token"
done

# Create, join and leave succeeded; the wrong password was refused by code.
python3 - "$created" "$joined" "$left" "$refused" "$room_id" <<'PY' ||
import json, re, sys
created, joined, left, refused = (json.loads(a) for a in sys.argv[1:5])
room_id = sys.argv[5]
assert re.fullmatch(r"[0-9a-f]{12}", room_id), room_id
for reply in (created, joined, left):
    assert reply["ok"] is True, reply
    assert reply["room"]["id"] == room_id and reply["room"]["name"] == "Book club", reply
assert created["token"].count(".") == 2 and joined["token"].count(".") == 2
assert created["room"]["owner"] == "alice", created
assert joined["room"]["members"] == 2 and left["room"]["members"] == 1, (joined, left)
assert refused["ok"] is False and refused["error"]["code"] == "wrong_password", refused
PY
    fail "a control reply is wrong (created/joined/left/refused above)"

# The listeners: each line is "sender:<u> seq:<n> ts:<ms> <payload>". Bob saw
# Alice's message and his own, then nothing after leaving; Alice saw all three.
check_room_log() {
    local file=$1 expected=$2
    python3 - "$file" "$expected" <<'PY' || fail "$file is wrong: $(cat "$file")"
import json, re, sys
path, expected = sys.argv[1], sys.argv[2].split(",")
got = []
for line in open(path):
    m = re.fullmatch(r"sender:(\S+) seq:(\S+) ts:(\S+) (\{.*\})\n?", line)
    assert m, "unexpected line: %r" % line
    sender, seq, ts, payload = m.groups()
    assert seq.isdigit() and ts.isdigit() and int(ts) > 0, line
    got.append((sender + ":" + json.loads(payload)["text"], int(seq)))
assert [g[0] for g in got] == expected, got
seqs = [g[1] for g in got]
assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), got
PY
}
check_room_log "$work/alice-room.txt" "alice:hello bob,bob:hi alice,alice:bye bob"
check_room_log "$work/bob-room.txt" "alice:hello bob,bob:hi alice"
# Bob's listener (-W 10, started before "hello bob") was surely still connected
# when "bye bob" was routed, so its absence means the delivery was refused.
python3 - "$work/alice-room.txt" <<'PY' || fail "the walkthrough was too slow to show it"
import sys
ts = [int(line.split()[2][3:]) for line in open(sys.argv[1])]
assert ts[2] - ts[0] < 5000, ts
PY
# The same message carries the same stamps for every receiver.
[ "$(head -n 2 "$work/alice-room.txt")" = "$(cat "$work/bob-room.txt")" ] ||
    fail "alice and bob saw different stamps for the same messages"

# Bob's publish after leaving was refused by the broker (PUBACK "not authorized").
grep -q "Publish 1 failed: Not authorized" "$TEST_DIR/walk.log" ||
    fail "bob's publish after leave was not refused"
[ "$(grep -c "Not authorized" "$TEST_DIR/walk.log")" -eq 1 ] ||
    fail "more than one publish was refused"

echo "protocol walkthrough: ok"
