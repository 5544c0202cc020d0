#!/usr/bin/env bash
# Presence, typing and unlisted rooms on a real Mosquitto with the mqchat
# plugin and nothing else (no room manager): raw mosquitto_pub/_sub clients
# act as users with forged session and join tokens, and as the room manager
# with the service secret.
#
# Checks: chat/v1/sys/presence online/offline on connect and on kill -9,
# two devices, session takeover and quick reconnects never ending offline,
# refused CONNECTs counting nothing, guests and the service never counted;
# the presence_sync snapshot reaching only the client that asked, and only
# when the service asks; no user reading sys/presence, not even with '#';
# typing stamped with the real sender and no seq, retained typing refused;
# unlisted room metadata invisible to non-members, live and retained, while
# listed metadata and members see it.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
: "${MQCHAT_FORGE_TOKEN:?set by ctest: path of the forge_token tool}"
prepare_test_dir
start_broker

cd "$TEST_DIR"
secret=$(cat data/service-secret)
log=$TEST_DIR/backend.log
sys_topic=chat/v1/sys/presence
control='$CONTROL/mqchat/v1'
room=0123456789ab      # alice and bob are admitted (typing, unlisted meta)
unlisted=$room
listed=bbbbbbbbbbbb    # nobody is admitted

pub() { timeout 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" -V 5 "$@"; }
forge() { timeout 10 "$MQCHAT_FORGE_TOKEN" --key data/signing-key.pem "$@"; }
as_service() { pub -u mqchat-service -P "$secret" "$@"; }

# A long-lived subscriber, not wrapped in `timeout`, so that $! is the
# client itself and `kill -9 $!` is a real crash of it. -W bounds its life.
# watch OUTFILE ARGS... ; sets WATCH_PID.
watch() {
    local out=$1
    shift
    mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -W 120 -F '%t %p' "$@" >"$out" 2>&1 &
    WATCH_PID=$!
}

# wait_for FILE PATTERN [COUNT]: until FILE holds COUNT lines matching
# PATTERN (fixed string), at most 10 s.
wait_for() {
    local file=$1 pattern=$2 count=${3:-1}
    for _ in $(seq 1 100); do
        [ "$(grep -cF -- "$pattern" "$file" || true)" -ge "$count" ] && return 0
        sleep 0.1
    done
    fail "waited 10 s for $count x '$pattern' in $(basename "$file"): $(cat "$file")"
}

# The broker has handled the loss of client id $1 for the $2-th time.
wait_gone() {
    wait_for "$log" "Client $1 closed its connection" "${2:-1}"
}

# Probes both long-lived watchers through topics only they can read, and
# waits until both have it: everything the broker routed to them before the
# probe has arrived. Presence events are queued in order with the probe.
probe_n=0
sync_watchers() {
    probe_n=$((probe_n + 1))
    as_service -q 1 -t chat/v1/users/svc/inbox/probe -m "probe-$probe_n"
    as_service -q 1 -t chat/v1/users/mallory/inbox/probe -m "probe-$probe_n"
    wait_for svc.txt "probe-$probe_n"
    wait_for mallory.txt "probe-$probe_n"
}

# Presence events for user $1 seen by the room manager's watcher, one word
# ("online"/"offline") per line.
events_of() {
    python3 - "$1" <<'PY'
import json, sys
for line in open("svc.txt"):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if topic != "chat/v1/sys/presence":
        continue
    event = json.loads(payload)
    if event.get("user") == sys.argv[1]:
        print(event["event"])
PY
}

expect_events() {
    local user=$1 expected=$2 got
    got=$(events_of "$user" | paste -sd' ' -)
    [ "$got" = "$expected" ] || fail "presence of $user: expected '$expected', got '$got'"
}

alice_s=$(forge --type session --user alice)
bob_s=$(forge --type session --user bob)
carol_s=$(forge --type session --user carol)
mal_s=$(forge --type session --user mallory)

# ---------------------------------------------------------------------------
# Watchers: the room manager on sys/presence, mallory on '#'.
# ---------------------------------------------------------------------------
watch svc.txt -i svc-watch -u mqchat-service -P "$secret" -q 1 \
    -t "$sys_topic" -t chat/v1/users/svc/inbox/probe
watch mallory.txt -i mallory-all -u mallory -P "$mal_s" -q 1 -t '#'
for _ in $(seq 1 50); do
    probe_n=$((probe_n + 1))
    as_service -q 1 -t chat/v1/users/svc/inbox/probe -m "probe-$probe_n"
    as_service -q 1 -t chat/v1/users/mallory/inbox/probe -m "probe-$probe_n"
    sleep 0.2
    grep -q "probe-$probe_n" svc.txt && grep -q "probe-$probe_n" mallory.txt && break
done
grep -q "probe-$probe_n" svc.txt || fail "the service watcher never subscribed: $(cat svc.txt)"
grep -q "probe-$probe_n" mallory.txt || fail "mallory's watcher never subscribed"
echo "ok: watchers up"

# ---------------------------------------------------------------------------
# Online on connect; two devices; offline on kill -9 of the last one.
# ---------------------------------------------------------------------------
watch phone.txt -i alice-phone -u alice -P "$alice_s" -t chat/v1/users/alice/inbox/x
phone=$WATCH_PID
wait_for svc.txt '{"event":"online","user":"alice"}'
watch laptop.txt -i alice-laptop -u alice -P "$alice_s" -t chat/v1/users/alice/inbox/x
laptop=$WATCH_PID
wait_for "$log" "as alice-laptop ("
kill -9 "$phone"
wait_gone alice-phone
sync_watchers
expect_events alice "online"
echo "ok: second device keeps alice online after the first is killed"

kill -9 "$laptop"
wait_gone alice-laptop
wait_for svc.txt '{"event":"offline","user":"alice"}'
expect_events alice "online offline"
echo "ok: kill -9 of the last device publishes offline"

# ---------------------------------------------------------------------------
# Quick reconnect with the same client id ends online.
# ---------------------------------------------------------------------------
watch quick.txt -i alice-quick -u alice -P "$alice_s" -t chat/v1/users/alice/inbox/x
wait_for svc.txt '{"event":"online","user":"alice"}' 2
kill -9 "$WATCH_PID"
watch quick.txt -i alice-quick -u alice -P "$alice_s" -t chat/v1/users/alice/inbox/x
quick=$WATCH_PID
# Whether the broker saw the old socket close before the new CONNECT or
# took the session over, it is settled once the new connection is in.
wait_for "$log" "as alice-quick (" 2
sync_watchers
[ "$(events_of alice | tail -n 1)" = online ] ||
    fail "quick reconnect ended $(events_of alice | tail -n 1)"
echo "ok: quick reconnect ends online"

# ---------------------------------------------------------------------------
# Session takeover: a second connection with the same client id. The old
# one is dropped by the broker (and may come back and take over in turn).
# ---------------------------------------------------------------------------
before=$(events_of alice | wc -l)
watch takeover.txt -i alice-quick -u alice -P "$alice_s" -t chat/v1/users/alice/inbox/x
taker=$WATCH_PID
wait_for "$log" "Client alice-quick already connected, closing old connection"
sleep 1.5  # let a reconnecting loser take over back at least once
sync_watchers
[ "$(events_of alice | wc -l)" -eq "$before" ] ||
    fail "takeover changed presence: $(events_of alice | tail -n +$((before + 1)) | paste -sd' ')"
echo "ok: takeover keeps alice online without any event"

# And the count is not left stuck: when both are gone, she is offline.
kill -9 "$quick" "$taker" 2>/dev/null || true
wait_for svc.txt '{"event":"offline","user":"alice"}' 2
sync_watchers
[ "$(events_of alice | tail -n 1)" = offline ] || fail "alice stuck online after takeover"
echo "ok: after a takeover the last disconnect still ends offline"

# ---------------------------------------------------------------------------
# A refused CONNECT with a live client id counts nothing; guests and the
# service never appear.
# ---------------------------------------------------------------------------
watch tab.txt -i bob-tab -u bob -P "$bob_s" -t chat/v1/users/bob/inbox/x
bob_tab=$WATCH_PID
wait_for svc.txt '{"event":"online","user":"bob"}'
out=$(pub -i bob-tab -u bob -P not-a-token -t "$control" -m '{}' 2>&1) &&
    fail "a bad session token was accepted: $out"
pub -i guest-1 -q 1 -t chat/v1/ctl/login -m '{}'
as_service -i svc-other -q 1 -t chat/v1/users/svc/inbox/other -m hi
sync_watchers
expect_events bob "online"
for who in "" mqchat-service; do
    [ -z "$(events_of "$who")" ] || fail "presence event for '${who:-guest}'"
done
echo "ok: refused connect, guest and service change no presence"

# ---------------------------------------------------------------------------
# presence_sync: only the service, and the snapshot goes only to it.
# ---------------------------------------------------------------------------
snapshot=$(timeout 15 mosquitto_rr -h 127.0.0.1 -p "$PORT" -V 5 -q 1 -W 10 -i svc-sync \
    -u mqchat-service -P "$secret" -t "$control" -e chat/v1/users/svc/inbox/sync \
    -m '{"op":"presence_sync"}') || fail "no snapshot for the service"
# Online now: bob (bob-tab) and mallory (her '#' watcher); alice is gone.
[ "$snapshot" = '{"event":"snapshot","online":["bob","mallory"]}' ] ||
    fail "snapshot: $snapshot"
sync_watchers
grep -q snapshot svc.txt && fail "the snapshot reached another service connection"
grep -q snapshot mallory.txt && fail "the snapshot reached mallory"
echo "ok: snapshot $snapshot reaches only the client that asked"

out=$(timeout 15 mosquitto_rr -h 127.0.0.1 -p "$PORT" -V 5 -q 1 -W 2 -i bob-sync \
    -u bob -P "$bob_s" -t "$control" -e chat/v1/users/bob/inbox/sync \
    -m '{"op":"presence_sync"}' 2>&1) && fail "a user got a snapshot: $out"
wait_for "$log" \
    "client=bob-sync user=bob | presence_sync | room=- result=ignored reason=not_the_service"
echo "ok: presence_sync from a user is refused and logged"

# ---------------------------------------------------------------------------
# Nobody but the service reads sys/presence; nobody writes it.
# ---------------------------------------------------------------------------
grep -q "^$sys_topic " mallory.txt && fail "mallory's '#' got presence: $(cat mallory.txt)"
out=$(timeout 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -i mallory-sys -u mallory \
    -P "$mal_s" -t "$sys_topic" -E 2>&1) || true
grep -qi denied <<<"$out" || fail "mallory may subscribe to $sys_topic: $out"
out=$(pub -q 1 -u mallory -P "$mal_s" -t "$sys_topic" -m '{"event":"online","user":"eve"}' 2>&1)
grep -qi "not authori" <<<"$out" || fail "mallory may publish presence: $out"
out=$(as_service -q 1 -t "$sys_topic" -m '{"event":"online","user":"eve"}' 2>&1)
grep -qi "not authori" <<<"$out" || fail "the service may publish presence: $out"
sync_watchers
[ -z "$(events_of eve)" ] || fail "a forged presence event was routed"
echo "ok: sys/presence unreadable with '#', unwritable by users and the service"

# ---------------------------------------------------------------------------
# Typing: admitted members only, stamped, never retained.
# ---------------------------------------------------------------------------
admit() {  # admit USER SESSION CLIENT_ID ROOM
    local join
    join=$(forge --type join --user "$1" --room "$4")
    pub -q 1 -i "$3" -u "$1" -P "$2" -t "$control" -m "{\"op\":\"present\",\"token\":\"$join\"}"
}
admit alice "$alice_s" alice-typer "$room"
admit bob "$bob_s" bob-room "$room"
wait_for "$log" "client=bob-room user=bob | present | room=$room result=ok"
typing=chat/v1/rooms/$room/typing
mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -W 120 -F '%t|%P|%p' -i bob-room -u bob \
    -P "$bob_s" -q 1 -t "$typing" -t chat/v1/users/bob/inbox/probe >bob-typing.txt 2>&1 &
bob_typing=$!
for _ in $(seq 1 50); do
    as_service -q 1 -t chat/v1/users/bob/inbox/probe -m bob-ready
    sleep 0.2
    grep -q bob-ready bob-typing.txt && break
done
grep -q bob-ready bob-typing.txt || fail "bob's typing watcher never subscribed"

pub -q 1 -i alice-typer -u alice -P "$alice_s" -t "$typing" \
    -D publish user-property sender mallory -D publish user-property seq 99 \
    -D publish user-property ts 1 -m '{"typing": true}'
out=$(pub -q 1 -r -i alice-typer -u alice -P "$alice_s" -t "$typing" -m '{"typing": "r"}' 2>&1)
grep -qi "not authori" <<<"$out" || fail "retained typing accepted: $out"
out=$(pub -q 1 -i mallory-typer -u mallory -P "$mal_s" -t "$typing" -m '{"typing": "m"}' 2>&1)
grep -qi "not authori" <<<"$out" || fail "typing from a non-member accepted: $out"
pub -q 1 -i alice-typer -u alice -P "$alice_s" -t "$typing" -m '{"typing": false}'
wait_for bob-typing.txt '{"typing": false}'
kill "$bob_typing"
python3 - bob-typing.txt "$typing" <<'PY'
import sys, time
lines = [l.rstrip("\n").split("|", 2) for l in open(sys.argv[1]) if "|" in l]
typing = [(props, payload) for topic, props, payload in lines if topic == sys.argv[2]]
assert [p for _, p in typing] == ['{"typing": true}', '{"typing": false}'], typing
for props, _ in typing:
    # Exactly the broker's sender and ts: the forged sender, seq and ts are gone.
    pairs = [w.split(":", 1) for w in props.split()]
    assert sorted(k for k, _ in pairs) == ["sender", "ts"], props
    values = dict(pairs)
    assert values["sender"] == "alice", props
    assert abs(int(values["ts"]) - time.time() * 1000) < 60_000, props
PY
sync_watchers
grep -q "^$typing " mallory.txt && fail "mallory's '#' got typing"
echo "ok: typing stamped sender:alice (forged sender, seq, ts removed), not retained"

# ---------------------------------------------------------------------------
# Unlisted rooms: metadata only for members; listed for every user.
# ---------------------------------------------------------------------------
# Live: mallory's '#' is subscribed already. Unlisted first, so that once the
# listed one has arrived, the unlisted one would have too.
as_service -q 1 -r -t "chat/v1/rooms/$unlisted/meta" \
    -m "{\"id\":\"$unlisted\",\"name\":\"Hideout\",\"listed\":false}"
as_service -q 1 -r -t "chat/v1/rooms/$listed/meta" \
    -m "{\"id\":\"$listed\",\"name\":\"Plaza\",\"listed\":true}"
wait_for mallory.txt "chat/v1/rooms/$listed/meta"
sync_watchers
grep -q "Hideout" mallory.txt && fail "unlisted meta reached a non-member live: $(cat mallory.txt)"
echo "ok: live unlisted meta hidden from a non-member '#', listed one delivered"

# Retained: subscribing afterwards.
retained() {  # retained CLIENT_ID USER SESSION FILTER
    timeout 15 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -W 3 -F '%t %p' -i "$1" -u "$2" \
        -P "$3" -t "$4" 2>/dev/null || true
}
for filter in 'chat/v1/rooms/+/meta' '#' "chat/v1/rooms/$unlisted/meta"; do
    got=$(retained carol-meta carol "$carol_s" "$filter")
    grep -q Hideout <<<"$got" && fail "retained unlisted meta reached carol via '$filter'"
    if [ "$filter" != "chat/v1/rooms/$unlisted/meta" ]; then
        grep -q Plaza <<<"$got" || fail "retained listed meta missing for carol via '$filter'"
    fi
done
admit bob "$bob_s" bob-meta "$unlisted"
got=$(retained bob-meta bob "$bob_s" 'chat/v1/rooms/+/meta')
grep -q Hideout <<<"$got" || fail "member bob does not see his unlisted room: $got"
grep -q Plaza <<<"$got" || fail "member bob does not see the listed room: $got"
echo "ok: retained unlisted meta only for members (carol: '+/meta', '#', exact; bob sees it)"

kill "$bob_tab" 2>/dev/null || true
echo "presence_access_test: all checks passed"
