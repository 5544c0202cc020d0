#!/usr/bin/env bash
# Attacks by raw MQTT clients (mosquitto_pub / mosquitto_sub, v5 and v3.1.1)
# against a real backend: forged, tampered, expired and misdirected join and
# session tokens, client id takeover (live, admitted and persistent sessions),
# writes to $ topics, guests, payload sizes, unusable usernames and Will
# messages. Every refusal sits next to a positive control showing the same
# channel works when it should. Security holes found are named at the end.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
: "${MQCHAT_FORGE_TOKEN:?set by ctest: path of the forge_token tool}"
start_backend

mqchat() { timeout 30 "$MQCHAT_BUILD_DIR/client-lib/mqchat" "$@"; }
pub() { timeout 10 mosquitto_pub -h 127.0.0.1 -p "$PORT" "$@"; }
sub() { timeout 15 mosquitto_sub -h 127.0.0.1 -p "$PORT" "$@"; }
key=$TEST_DIR/data/signing-key.pem
pub_key=$TEST_DIR/data/signing-key.pub.pem
forge() { timeout 10 "$MQCHAT_FORGE_TOKEN" --key "$key" "$@"; }
control='$CONTROL/mqchat/v1'

# The join token the CLI saved for USER in ROOM.
saved_token() {
    python3 -c '
import json, sys
print(json.load(open(sys.argv[1]))["rooms"][sys.argv[2]]["token"])' \
        "$MQCHAT_HOME"/*/"$1".json "$2"
}

# Prints TOKEN with payload claim NAME set to VALUE; header and signature kept.
tamper() {
    python3 - "$@" <<'PY'
import base64, json, sys
token, name, value = sys.argv[1:4]
head, body, sig = token.split(".")
claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
claims[name] = value
body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
print(".".join([head, body.rstrip(b"=").decode(), sig]))
PY
}

# Prints a JWT with otherwise valid claims (TYPE, USER, optional ROOM) under
# header alg ALG: "none" with an empty signature, or "HS256" keyed with the
# bytes of KEYFILE.
make_jwt() {
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, json, sys, time
alg, keyfile, typ, user = sys.argv[1:5]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = time.time()
claims = {"exp": int(now) + 3600, "iat": int(now), "ims": int(now * 1000), "iss": "mqchat",
          "sub": user, "typ": typ}
if len(sys.argv) > 5:
    claims["room"] = sys.argv[5]
signing_input = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + \
    b64(json.dumps(claims, separators=(",", ":")).encode())
sig = "" if alg == "none" else \
    b64(hmac.new(open(keyfile, "rb").read(), signing_input.encode(), hashlib.sha256).digest())
print(signing_input + "." + sig)
PY
}

# MQTT version V: presents TOKEN as USER (session SESSION) under client id
# CID, then subscribes to TOPIC with the same id. Prints "granted"/"denied".
try_enter() {
    local v=$1 user=$2 session=$3 cid=$4 token=$5 topic=$6 out
    pub -V "$v" -i "$cid" -u "$user" -P "$session" -q 1 -t "$control" \
        -m "{\"op\":\"present\",\"token\":\"$token\"}" || fail "present as $user/$cid failed"
    out=$(sub -V "$v" -i "$cid" -u "$user" -P "$session" -t "$topic" -E 2>&1) ||
        fail "subscribe as $user/$cid failed: $out"
    if grep -q denied <<<"$out"; then echo denied; else echo granted; fi
}

# MQTT version V: CONNECT as USER with PASSWORD (client id CID, or the
# client's own). Prints "accepted", "refused" (not authorised) or the error.
connect_as() {
    local v=$1 user=$2 password=$3 cid=${4:-} out rc=0
    local args=(-V "$v" -q 1 -t "$control" -m '{"op":"ping"}')
    [ -n "$user" ] && args+=(-u "$user" -P "$password")
    [ -n "$cid" ] && args+=(-i "$cid")
    out=$(pub "${args[@]}" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
        echo accepted
    elif grep -qi "not authori[sz]ed" <<<"$out"; then
        echo refused
    else
        echo "rc=$rc: $out"
    fi
}

# Holes found are collected so that one run names all of them; the test
# fails at the end if there is any. hole TITLE DETAILS...
holes=()
hole() {
    local title=$1
    shift
    echo "SECURITY HOLE ($title): $*" >&2
    [[ " ${holes[*]-} " == *" [$title] "* ]] || holes+=("[$title]")
}

# Number of room manager replies in FILE.
replies() { grep -c '"ok":true' "$1" || true; }

# USER asks the room manager "whoami" with response topic INBOX until FILE
# (the output of a subscription to INBOX) holds more than N replies.
expect_reply() {
    local user=$1 session=$2 inbox=$3 file=$4 n=$5
    for _ in $(seq 1 20); do
        pub -V 5 -q 1 -u "$user" -P "$session" -t chat/v1/ctl/whoami \
            -D publish response-topic "$inbox" -D publish correlation-data "probe-$n" -m '{}'
        for _ in $(seq 1 5); do
            [ "$(replies "$file")" -gt "$n" ] && return 0
            sleep 0.1
        done
    done
    fail "no whoami reply for $user on $inbox after $n: $(cat "$file")"
}

# ---------------------------------------------------------------------------
# Setup: alice owns "Vault" (R) and "Lounge"; bob is in both, mallory only in
# Lounge. Everyone is logged in through the CLI.
# ---------------------------------------------------------------------------
for u in alice bob mallory; do
    MQCHAT_PASSWORD=$u-pw mqchat --user "$u" register >/dev/null
done
alice_s=$(MQCHAT_PASSWORD=alice-pw mqchat --user alice login)
bob_s=$(MQCHAT_PASSWORD=bob-pw mqchat --user bob login)
mal_s=$(MQCHAT_PASSWORD=mallory-pw mqchat --user mallory login)
MQCHAT_ROOM_PASSWORD=vault-pw mqchat --user alice create Vault >/dev/null
MQCHAT_ROOM_PASSWORD=lounge-pw mqchat --user alice create Lounge >/dev/null
MQCHAT_ROOM_PASSWORD=vault-pw mqchat --user bob join Vault >/dev/null
MQCHAT_ROOM_PASSWORD=lounge-pw mqchat --user bob join Lounge >/dev/null
MQCHAT_ROOM_PASSWORD=lounge-pw mqchat --user mallory join Lounge >/dev/null
room_id() {
    mqchat --user alice --json rooms | python3 -c '
import json, sys
print([r["id"] for r in map(json.loads, sys.stdin) if r["name"] == sys.argv[1]][0])' "$1"
}
room=$(room_id Vault)
lounge=$(room_id Lounge)
room_topic="chat/v1/rooms/$room/msg"
lounge_topic="chat/v1/rooms/$lounge/msg"
alice_join=$(saved_token alice Vault)
bob_join=$(saved_token bob Vault)
bob_lounge=$(saved_token bob Lounge)
mal_lounge=$(saved_token mallory Lounge)

# Alice watches R through a raw v5 connection for the whole test, printing
# "<payload length>|<user properties>|<payload>" per message.
[ "$(try_enter 5 alice "$alice_s" alice-watch "$alice_join" "$room_topic")" = granted ] ||
    fail "alice's own join token does not admit her"
timeout 170 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -i alice-watch -u alice -P "$alice_s" \
    -t "$room_topic" -q 1 -F '%l|%P|%p' -W 160 >"$TEST_DIR/watch.out" 2>&1 &

# Bob's raw sender, admitted the normal way: positive control for entering.
[ "$(try_enter 5 bob "$bob_s" bob-send "$bob_join" "$room_topic")" = granted ] ||
    fail "bob's valid join token does not admit him (v5)"
[ "$(try_enter 311 bob "$bob_s" bob-send311 "$bob_join" "$room_topic")" = granted ] ||
    fail "bob's valid join token does not admit him (v3.1.1)"

# Bob sends MARK into R until alice's watcher shows it: the channel works,
# and everything published before it has been delivered.
sync_watch() {
    local mark=$1
    for _ in $(seq 1 20); do
        pub -V 5 -q 1 -i bob-send -u bob -P "$bob_s" -t "$room_topic" \
            -m "{\"id\":\"mark-$mark-0000000000000000\",\"text\":\"$mark\"}"
        for _ in $(seq 1 5); do
            grep -q "\"text\":\"$mark\"" "$TEST_DIR/watch.out" && return 0
            sleep 0.1
        done
    done
    fail "alice's watcher never received $mark: $(cat "$TEST_DIR/watch.out")"
}
sync_watch mark-start
grep -q "|sender:bob seq:[0-9]* ts:[0-9]*|.*mark-start" "$TEST_DIR/watch.out" ||
    fail "the watcher's messages are not stamped: $(cat "$TEST_DIR/watch.out")"

# ---------------------------------------------------------------------------
# 1. Bad join tokens, presented the way a client enters a room, are refused:
# the subscribe to R is denied and a publish into R does not reach alice.
# ---------------------------------------------------------------------------
# USER SESSION NAME TOKEN: present under a fresh client id with v5 and v3.1.1.
expect_refused_join() {
    local user=$1 session=$2 name=$3 token=$4 v cid
    for v in 5 311; do
        cid="$user-$name-$v"
        [ "$(try_enter "$v" "$user" "$session" "$cid" "$token" "$room_topic")" = denied ] ||
            fail "$name join token admitted $user to R (MQTT v$v)"
        pub -V "$v" -q 1 -i "$cid" -u "$user" -P "$session" -t "$room_topic" \
            -m "{\"id\":\"attack-$name-$v-000000000000\",\"text\":\"attack $name v$v\"}" \
            >/dev/null 2>&1 || true
    done
}

# The tools themselves are sound: re-encoding a claim unchanged keeps the
# token byte for byte, and a token forged with the real key and honest
# claims is accepted (so each refusal below comes from the one bad part).
[ "$(tamper "$bob_join" sub bob)" = "$bob_join" ] || fail "tamper() alters untouched tokens"
honest=$(forge --type join --user mallory --room "$room")
for v in 5 311; do
    [ "$(try_enter "$v" mallory "$mal_s" "mal-honest-$v" "$honest" "$room_topic")" = granted ] ||
        fail "a correctly signed, unexpired join token was refused (v$v): forge_token broken?"
done
[ "$(try_enter 5 mallory "$mal_s" mal-lounge "$mal_lounge" "$lounge_topic")" = granted ] ||
    fail "mallory's own Lounge token does not admit her to Lounge"

# Tampered: payload changed, signature kept.
expect_refused_join mallory "$mal_s" tampered-room "$(tamper "$mal_lounge" room "$room")"
expect_refused_join mallory "$mal_s" tampered-sub "$(tamper "$bob_join" sub mallory)"
# Expired, though signed with the real key.
expect_refused_join mallory "$mal_s" expired \
    "$(forge --type join --user mallory --room "$room" --expires-in -60)"
# A valid token for another room (bob's Lounge token) does not open R.
expect_refused_join bob "$bob_s" other-room "$bob_lounge"
# Another user's valid token: mallory presents bob's.
expect_refused_join mallory "$mal_s" bobs-token "$bob_join"
# alg none, empty signature.
expect_refused_join mallory "$mal_s" alg-none "$(make_jwt none - join mallory "$room")"
# HS256 keyed with the broker's public key PEM (algorithm confusion).
expect_refused_join mallory "$mal_s" hs256-pubkey \
    "$(make_jwt HS256 "$pub_key" join mallory "$room")"
# Signed with a different EC P-256 key.
openssl ecparam -name prime256v1 -genkey -noout -out "$TEST_DIR/other-key.pem" 2>/dev/null
other=$(timeout 10 "$MQCHAT_FORGE_TOKEN" --key "$TEST_DIR/other-key.pem" --type join \
    --user mallory --room "$room")
expect_refused_join mallory "$mal_s" other-key "$other"
# A session token is not a join token.
expect_refused_join mallory "$mal_s" session-as-join "$mal_s"

# The honest forged token's client id really is in: its message arrives.
pub -V 5 -q 1 -i mal-honest-5 -u mallory -P "$mal_s" -t "$room_topic" \
    -m '{"id":"honest-000000000000000000","text":"honest forged"}'
sync_watch mark-join
grep -q '|sender:mallory .*"honest forged"' "$TEST_DIR/watch.out" ||
    fail "the admitted control publish did not reach alice: $(cat "$TEST_DIR/watch.out")"
if grep -q attack "$TEST_DIR/watch.out"; then
    fail "a refused token still let a publish into R: $(grep attack "$TEST_DIR/watch.out")"
fi

# ---------------------------------------------------------------------------
# 2. Bad session tokens at CONNECT are refused, v5 and v3.1.1.
# ---------------------------------------------------------------------------
declare -A bad_session=(
    [expired]=$(forge --type session --user bob --expires-in -60)
    [mallorys]=$mal_s
    [tampered-sub]=$(tamper "$mal_s" sub bob)
    [alg-none]=$(make_jwt none - session bob)
    [hs256-pubkey]=$(make_jwt HS256 "$pub_key" session bob)
    [other-key]=$(timeout 10 "$MQCHAT_FORGE_TOKEN" --key "$TEST_DIR/other-key.pem" --user bob)
    [join-as-session]=$bob_join
    [garbage]=garbage.garbage.garbage
    [not-a-jwt]=not-a-token
)
for v in 5 311; do
    [ "$(connect_as "$v" bob "$bob_s")" = accepted ] || fail "bob's session refused (v$v)"
    [ "$(connect_as "$v" bob "$(forge --type session --user bob)")" = accepted ] ||
        fail "a correctly forged session token was refused (v$v): forge_token broken?"
    for name in "${!bad_session[@]}"; do
        [ -n "${bad_session[$name]}" ] || fail "could not build the '$name' session token"
        r=$(connect_as "$v" bob "${bad_session[$name]}")
        [ "$r" = refused ] || fail "session token '$name' for bob: $r (MQTT v$v)"
    done
    [ "$(connect_as "$v" bob '')" = refused ] || fail "bob without a password got in (v$v)"
done

# ---------------------------------------------------------------------------
# 3. Client id takeover.
# ---------------------------------------------------------------------------
# a) Bob is connected as bob-x, listening on his inbox; his "whoami"
# replies land there.
inbox=chat/v1/users/bob/inbox/takeover
timeout 70 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -i bob-x -u bob -P "$bob_s" \
    -t "$inbox" -W 60 >"$TEST_DIR/bobx.out" 2>&1 &
bobx_pid=$!
expect_reply bob "$bob_s" "$inbox" "$TEST_DIR/bobx.out" 0
for v in 5 311; do
    [ "$(connect_as "$v" mallory "$mal_s" "mal-fresh-$v")" = accepted ] ||
        fail "mallory cannot connect at all (v$v)"
    r=$(connect_as "$v" mallory "$mal_s" bob-x)
    [ "$r" = refused ] || fail "mallory took over connected bob's client id: $r (v$v)"
    r=$(connect_as "$v" '' '' bob-x)
    [ "$r" = refused ] || fail "a guest took over connected bob's client id: $r (v$v)"
    # A failed login under bob's name must not release the id either.
    [ "$(connect_as "$v" bob not-a-token bob-x)" = refused ] || fail "bad bob login (v$v)"
    r=$(connect_as "$v" mallory "$mal_s" bob-x)
    [ "$r" = refused ] || fail "mallory took bob-x after a failed bob login: $r (v$v)"
done
kill -0 "$bobx_pid" 2>/dev/null || fail "bob-x was disconnected: $(cat "$TEST_DIR/bobx.out")"
expect_reply bob "$bob_s" "$inbox" "$TEST_DIR/bobx.out" "$(replies "$TEST_DIR/bobx.out")"

# b) Bob presented his token as bob-y and went away; the id stays his.
[ "$(try_enter 5 bob "$bob_s" bob-y "$bob_join" "$room_topic")" = granted ] ||
    fail "bob's token does not admit bob-y"
for v in 5 311; do
    r=$(connect_as "$v" mallory "$mal_s" bob-y)
    [ "$r" = refused ] || fail "mallory took over bob's admitted client id bob-y: $r (v$v)"
    r=$(connect_as "$v" '' '' bob-y)
    [ "$r" = refused ] || fail "a guest took over bob's admitted client id bob-y: $r (v$v)"
done
[ "$(try_enter 5 bob "$bob_s" bob-y "$bob_join" "$room_topic")" = granted ] ||
    fail "bob lost his own client id bob-y"

# c) Bob keeps an offline persistent session bob-z (v5, session expiry) on
# his inbox, without any room admission. Control: a reply sent while he is
# away waits for him.
zinbox=chat/v1/users/bob/inbox/persistent
resume_z() {
    sub -V 5 -i bob-z -c -x 600 -q 1 -u bob -P "$bob_s" -t "$zinbox" -C 1 -W 3 2>&1 || true
}
sub -V 5 -i bob-z -c -x 600 -q 1 -u bob -P "$bob_s" -t "$zinbox" -E >/dev/null
ask_z() {
    pub -V 5 -q 1 -u bob -P "$bob_s" -t chat/v1/ctl/whoami -D publish response-topic "$zinbox" \
        -D publish correlation-data "$1" -m '{}'
    sleep 0.5
}
ask_z queued-1
grep -q '"user":"bob"' <<<"$(resume_z)" || fail "bob's persistent session lost a queued reply"
# Mallory connecting as bob-z would take over (and wipe) bob's session.
ask_z queued-2
for v in 5 311; do
    r=$(connect_as "$v" mallory "$mal_s" bob-z)
    [ "$r" = refused ] || hole "persistent session takeover" \
        "mallory connected with bob's offline persistent client id bob-z (MQTT v$v: $r)"
done
grep -q '"user":"bob"' <<<"$(resume_z)" || hole "persistent session takeover" \
    "the reply queued in bob's session bob-z is gone after mallory's connect"

# ---------------------------------------------------------------------------
# 4. $ topics and guests.
# ---------------------------------------------------------------------------
# An operator's view of $SYS (the room manager's identity, from the data
# folder). The broker's retained $SYS/broker/version shows it can read there.
secret=$(cat "$TEST_DIR/data/service-secret")
timeout 30 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -i sys-observer -u mqchat-service \
    -P "$secret" -t '$SYS/broker/x' -t '$SYS/broker/version' -v -W 20 \
    >"$TEST_DIR/sys.out" 2>&1 &
for _ in $(seq 1 50); do
    grep -q '^\$SYS/broker/version ' "$TEST_DIR/sys.out" && break
    sleep 0.1
done
grep -q '^\$SYS/broker/version mosquitto' "$TEST_DIR/sys.out" ||
    fail "the \$SYS observer reads nothing: $(cat "$TEST_DIR/sys.out")"

# Writes to $ topics other than $CONTROL/mqchat/v1: v5 gets "not authorized"
# back, and nothing reaches the observer (v5 and v3.1.1).
out=$(pub -V 5 -q 1 -u bob -P "$bob_s" -t "$control" -m '{"op":"ping"}' 2>&1)
[ -z "$out" ] || fail "the plugin control topic refused bob: $out"
for t in '$SYS/broker/x' '$SYS/broker/version' '$CONTROL/dynamic-security/v1' \
    '$CONTROL/broker/v1' '$CONTROL/mqchat/v2' '$CONTROL/mqchat/v1/x'; do
    out=$(pub -V 5 -q 1 -u bob -P "$bob_s" -t "$t" -m "spoof-5" 2>&1 || true)
    grep -qi "not authori[sz]ed" <<<"$out" || fail "bob may write $t: '$out'"
    pub -V 311 -q 1 -u bob -P "$bob_s" -t "$t" -m "spoof-311" -r >/dev/null 2>&1 || true
    pub -V 5 -q 1 -u bob -P "$bob_s" -t "$t" -m "spoof-retained" -r >/dev/null 2>&1 || true
done
sleep 0.5
if grep -q spoof "$TEST_DIR/sys.out"; then
    fail "a user wrote into \$SYS: $(cat "$TEST_DIR/sys.out")"
fi

# Subscribing to $CONTROL is refused; the same connection may read room
# metadata (its retained message arrives).
for v in 5 311; do
    meta=$(sub -V "$v" -u bob -P "$bob_s" -t "chat/v1/rooms/$room/meta" -C 1 -W 5 2>&1 || true)
    grep -q "\"id\":\"$room\"" <<<"$meta" || fail "bob cannot read R's metadata (v$v): $meta"
    for f in '$CONTROL/#' '$CONTROL/mqchat/v1' '$share/g/$CONTROL/#' '$SYS/#'; do
        out=$(sub -V "$v" -u bob -P "$bob_s" -t "$f" -E 2>&1 || true)
        grep -q denied <<<"$out" || fail "bob may subscribe to $f (v$v): '$out'"
    done
done

# A guest: its own reply topic is readable (control), '#' and room topics
# are not, and its publishes into R are refused and never reach alice.
for v in 5 311; do
    nonce=0123456789abcdef0123456789abcdef
    out=$(sub -V "$v" -i "guest-$v" -t "chat/v1/guest/guest-$v/$nonce" -E 2>&1 || true)
    grep -q denied <<<"$out" && fail "a guest cannot read its own reply topic (v$v): $out"
    for f in '#' 'chat/#' 'chat/v1/rooms/+/msg' "$room_topic"; do
        out=$(sub -V "$v" -i "guest-$v" -t "$f" -E 2>&1 || true)
        grep -q denied <<<"$out" || fail "a guest may subscribe to $f (v$v): '$out'"
    done
    out=$(pub -V "$v" -q 1 -i "guest-$v" -t "$room_topic" \
        -m "{\"id\":\"attack-guest-$v-0000000000000\",\"text\":\"attack guest v$v\"}" 2>&1 || true)
    [ "$v" = 311 ] || grep -qi "not authori[sz]ed" <<<"$out" ||
        fail "a guest's publish into R was accepted (v$v): '$out'"
done
sync_watch mark-guest
if grep -q attack "$TEST_DIR/watch.out"; then
    fail "a guest's publish reached R: $(grep attack "$TEST_DIR/watch.out")"
fi

# ---------------------------------------------------------------------------
# 5. Payload sizes: empty and ~60 KiB messages arrive whole, stamped; a
# packet over max_packet_size (65536) is dropped; the backend survives.
# ---------------------------------------------------------------------------
head -c 61440 /dev/zero | tr '\0' x >"$TEST_DIR/big"
head -c 70000 /dev/zero | tr '\0' y >"$TEST_DIR/huge"
pub -V 5 -q 1 -i bob-send -u bob -P "$bob_s" -t "$room_topic" -n
pub -V 5 -q 1 -i bob-send -u bob -P "$bob_s" -t "$room_topic" -f "$TEST_DIR/big"
pub -V 311 -q 1 -i bob-send311 -u bob -P "$bob_s" -t "$room_topic" -n
pub -V 311 -q 1 -i bob-send311 -u bob -P "$bob_s" -t "$room_topic" -f "$TEST_DIR/big"
if pub -V 311 -q 1 -i bob-send311 -u bob -P "$bob_s" -t "$room_topic" \
    -f "$TEST_DIR/huge" 2>/dev/null; then
    fail "the broker accepted a 70000-byte publish"
fi
sync_watch mark-sizes
python3 - "$TEST_DIR/watch.out" <<'PY' || fail "payload sizes: $(cut -c1-120 "$TEST_DIR/watch.out")"
import re, sys
rows = [line.rstrip("\n").split("|", 2) for line in open(sys.argv[1]) if "|" in line]
sizes = [(int(n), props) for n, props, _ in rows if n in ("0", "61440", "70000")]
assert [n for n, _ in sizes] == [0, 61440, 0, 61440], [n for n, _ in sizes]
assert all(re.fullmatch(r"sender:bob seq:\d+ ts:\d+", p) for _, p in sizes), sizes
big = [body for n, _, body in rows if n == "61440"]
assert all(body == "x" * 61440 for body in big), "60 KiB payload altered"
PY

# The backend still works: a CLI round trip through the broker, and a room
# manager request.
: >"$TEST_DIR/alice.err"
mqchat --user alice --json listen Vault --history 0 --count 1 --timeout 15 \
    >"$TEST_DIR/alice.out" 2>"$TEST_DIR/alice.err" &
alice_pid=$!
for _ in $(seq 1 100); do grep -q listening "$TEST_DIR/alice.err" && break; sleep 0.1; done
mqchat --user bob send Vault "still alive"
wait "$alice_pid" || fail "alice's listen failed: $(cat "$TEST_DIR/alice.err")"
python3 -c '
import json, sys
msgs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
assert [(m["sender"], m["text"]) for m in msgs] == [("bob", "still alive")], msgs' \
    "$TEST_DIR/alice.out" || fail "CLI round trip after the payloads: $(cat "$TEST_DIR/alice.out")"
[ "$(mqchat --user alice --json members Vault | wc -l)" -eq 2 ] ||
    fail "the room manager stopped answering"

# ---------------------------------------------------------------------------
# 6. Usernames that are topic syntax are refused at CONNECT, even with a
# session token correctly signed for exactly that name.
# ---------------------------------------------------------------------------
for v in 5 311; do
    for name in 'bo/b' 'bo+b' 'bo#b' '$bob' '+' '#' 'alice/inbox'; do
        r=$(connect_as "$v" "$name" "$(forge --type session --user "$name")")
        [ "$r" = refused ] || fail "username '$name' at CONNECT: $r (v$v)"
    done
done

# ---------------------------------------------------------------------------
# 7. A member's Will message into the room is a publish like any other: it
# must carry the plugin's stamps, never the sender the client wrote in.
# ---------------------------------------------------------------------------
MQCHAT_ROOM_PASSWORD=vault-pw mqchat --user mallory join Vault >/dev/null
mal_join=$(saved_token mallory Vault)
for v in 5 311; do
    [ "$(try_enter "$v" mallory "$mal_s" "mal-will-$v" "$mal_join" "$room_topic")" = granted ] ||
        fail "mallory's Vault token does not admit her (v$v)"
done
# Control: a normal publish with a forged sender is restamped.
pub -V 5 -q 1 -i mal-will-5 -u mallory -P "$mal_s" -t "$room_topic" \
    -D publish user-property sender alice -m '{"id":"forged-publish-000000000","text":"forged pub"}'
for v in 5 311; do
    will_props=()
    [ "$v" = 5 ] && will_props=(-D will user-property sender alice
        -D will user-property seq 1 -D will user-property ts 1)
    # Self-bounded by -W (not `timeout`, so the kill below hits the client).
    : >"$TEST_DIR/will-$v.out"
    mosquitto_sub -h 127.0.0.1 -p "$PORT" -V "$v" -i "mal-will-$v" -u mallory -P "$mal_s" \
        -t "chat/v1/users/mallory/inbox/will-$v" -W 20 --will-topic "$room_topic" --will-qos 1 \
        --will-payload "{\"id\":\"will-$v-0000000000000000\",\"text\":\"will v$v\"}" \
        "${will_props[@]}" >"$TEST_DIR/will-$v.out" 2>&1 &
    will_pid=$!
    # Connected once the room manager's reply to her reaches it; then the
    # connection dies without DISCONNECT, so the broker sends the Will.
    expect_reply mallory "$mal_s" "chat/v1/users/mallory/inbox/will-$v" "$TEST_DIR/will-$v.out" 0
    kill -KILL "$will_pid"
    wait "$will_pid" 2>/dev/null || true
done
# The Will of a connection replaced by a takeover (a second CONNECT with its
# client id): Mosquitto sends that one BEFORE the old connection's
# DISCONNECT event, so the plugin must already know the old one is going.
: >"$TEST_DIR/will-takeover.out"
mosquitto_sub -h 127.0.0.1 -p "$PORT" -V 5 -i mal-will-5 -u mallory -P "$mal_s" \
    -t chat/v1/users/mallory/inbox/will-tk -W 20 --will-topic "$room_topic" --will-qos 1 \
    --will-payload '{"id":"will-tk-00000000000000000","text":"will takeover"}' \
    -D will user-property sender alice -D will user-property seq 1 \
    >"$TEST_DIR/will-takeover.out" 2>&1 &
will_pid=$!
expect_reply mallory "$mal_s" chat/v1/users/mallory/inbox/will-tk "$TEST_DIR/will-takeover.out" 0
sub -V 5 -i mal-will-5 -u mallory -P "$mal_s" -t chat/v1/users/mallory/inbox/will-tk2 -W 1 \
    >/dev/null 2>&1 || true
wait "$will_pid" 2>/dev/null || true
sync_watch mark-will
grep -q '^[0-9]*|sender:mallory seq:[0-9]* ts:[0-9]*|.*"forged pub"' "$TEST_DIR/watch.out" ||
    fail "the forged-sender control publish was not restamped: $(cat "$TEST_DIR/watch.out")"
if grep -q '"text":"will takeover"' "$TEST_DIR/watch.out"; then
    hole "takeover Will" "a Will sent on session takeover reached the room:" \
        "$(grep '"text":"will takeover"' "$TEST_DIR/watch.out")"
fi
while IFS='|' read -r _ props body; do
    [[ "$body" == *'"text":"will v'* ]] || continue
    [[ "$props" =~ ^sender:mallory\ seq:[0-9]+\ ts:[0-9]+$ ]] ||
        hole "unstamped Will message" "alice received $body with user properties" \
            "'$props' instead of sender:mallory seq:<n> ts:<ms>"
done <"$TEST_DIR/watch.out"

# ---------------------------------------------------------------------------
# 8. The room manager's own subscriptions, client ids and requests.
# ---------------------------------------------------------------------------
# The archive's share group: a user inside it would take every other room
# message away from the archive (the read check then drops it).
sub -V 5 -q 1 -i mal-share -u mallory -P "$mal_s" \
    -t '$share/mqchat-archive/chat/v1/rooms/+/msg' -W 12 >"$TEST_DIR/share.out" 2>&1 &
sleep 1
for i in 1 2 3 4 5 6; do
    mqchat --user alice send Vault "archived $i" >/dev/null
done
archived=$(mqchat --user alice --json history Vault --limit 6 | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
seqs = [r["seq"] for r in rows]
ok = [r["text"] for r in rows] == ["archived %d" % i for i in range(1, 7)]
print("complete" if ok and seqs == list(range(seqs[0], seqs[0] + 6)) else rows)')
[ "$archived" = complete ] ||
    hole "archive share group" "a user in \$share/mqchat-archive took messages: $archived"

# The archive's client id (its persistent session) right after a restart,
# before the room manager is back: the plugin keeps it for the service.
if sub -V 5 -i mqchat-archive-main -u mallory -P "$mal_s" -t chat/v1/users/mallory/inbox/x \
    -E >"$TEST_DIR/cid.out" 2>&1; then
    hole "service client id" "mallory connected as mqchat-archive-main"
fi
grep -qi "not authori" "$TEST_DIR/cid.out" ||
    hole "service client id" "unexpected answer: $(cat "$TEST_DIR/cid.out")"

# A retained control request would run again on every reconnect of the room
# manager: refused, and nothing is left retained under chat/v1/ctl/.
pub -V 5 -q 1 -i mal-retain -u mallory -P "$mal_s" -r -t chat/v1/ctl/leave \
    -D publish response-topic chat/v1/users/mallory/inbox/r -m '{"room":"Vault"}' \
    >"$TEST_DIR/retain.out" 2>&1 || true
retained=$(sub -V 5 -i ctl-observer -u mqchat-service -P "$secret" -t 'chat/v1/ctl/+' -v -W 3 \
    2>/dev/null || true)
[ -z "$retained" ] || hole "retained control request" "stored: $retained"

[ ${#holes[@]} -eq 0 ] ||
    fail "security holes (details above): ${holes[*]}"
echo "token attacks: ok"
