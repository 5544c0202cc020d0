#!/usr/bin/env bash
# `cmake --install` into a temporary prefix gives what an app needs, and an
# app outside the tree (tests/install/app) builds against it twice, with
# find_package(mqchat CONFIG) and with pkg-config + g++, and both builds chat
# against a real backend: the first registers, logs in and creates the room,
# the second joins it; each sends and receives its own message, and the
# second also sees the first's message from the room's history.
set -euo pipefail
source "$MQCHAT_SOURCE_DIR/tests/support/backend_env.sh"
start_backend

app_src=$MQCHAT_SOURCE_DIR/tests/install/app

# The README shows this app in full: the same bytes as the file built here.
python3 - "$MQCHAT_SOURCE_DIR/README.md" "$app_src/hello_room.cpp" <<'PY' ||
import re, sys
readme, source = open(sys.argv[1]).read(), open(sys.argv[2]).read()
section = readme.split("## Linking the client library", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```cpp\n(.*?)```", section, re.S)
sys.exit(0 if blocks and blocks[0] == source else 1)
PY
    fail "README's \"Linking the client library\" does not show hello_room.cpp as it is"
prefix=$TEST_DIR/prefix
cmake --install "$MQCHAT_BUILD_DIR" --prefix "$prefix" >"$TEST_DIR/install.log"

# What the prefix holds.
for f in lib/libmqchat_client.a lib/libmqchat_common.a \
    include/mqchat/client/client.hpp include/mqchat/protocol.hpp \
    lib/cmake/mqchat/mqchatConfig.cmake lib/cmake/mqchat/mqchatConfigVersion.cmake \
    lib/pkgconfig/mqchat.pc bin/mqchat bin/mqchat-room-manager \
    lib/mqchat/mqchat_plugin.so share/mqchat/mosquitto.conf.in \
    libexec/mqchat/broker-conf.sh; do
    [ -e "$prefix/$f" ] || fail "cmake --install did not install $f"
done

# Every installed header compiles on its own with only the prefix (and the
# system) on the include path: none includes a header that is not installed.
mapfile -t headers < <(cd "$prefix/include" && find . -name '*.hpp' | sed 's|^\./||' | sort)
[ "${#headers[@]}" -ge 5 ] || fail "too few headers installed: ${headers[*]}"
for h in "${headers[@]}"; do
    echo "#include <$h>" | g++ -std=c++20 -fsyntax-only -I"$prefix/include" -x c++ - \
        2>"$TEST_DIR/header.err" || fail "installed $h does not compile alone:
$(cat "$TEST_DIR/header.err")"
done

# Build 1: CMake, find_package(mqchat CONFIG), target mqchat::client.
cmake -S "$app_src" -B "$TEST_DIR/app-cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$TEST_DIR/app-cmake.log" 2>&1 ||
    fail "configuring the app with find_package failed: $(tail -20 "$TEST_DIR/app-cmake.log")"
cmake --build "$TEST_DIR/app-cmake" >>"$TEST_DIR/app-cmake.log" 2>&1 ||
    fail "building the app with find_package failed: $(tail -20 "$TEST_DIR/app-cmake.log")"

# Build 2: pkg-config and g++, nothing else.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046  # the flags are words
g++ -std=c++20 -O1 -o "$TEST_DIR/hello_room_pc" "$app_src/hello_room.cpp" \
    $(pkg-config --cflags --libs mqchat) 2>"$TEST_DIR/app-pc.log" ||
    fail "building the app with pkg-config failed: $(tail -20 "$TEST_DIR/app-pc.log")"
[ "$(pkg-config --modversion mqchat)" = "0.1.0" ] || fail "mqchat.pc has the wrong version"

run_app() {
    local binary=$1 user=$2 text=$3 out=$4
    MQCHAT_USER=$user MQCHAT_PASSWORD="$user-pw" MQCHAT_ROOM_PASSWORD=books \
        timeout 60 "$binary" "Book club" "$text" >"$out" 2>&1 ||
        fail "$binary as $user failed: $(cat "$out")"
}

run_app "$TEST_DIR/app-cmake/hello_room" alice "hello from cmake" "$TEST_DIR/alice.out"
out() { cat "$TEST_DIR/$1.out"; }
grep -qx "created Book club" "$TEST_DIR/alice.out" || fail "alice did not create: $(out alice)"
grep -q "^#1 alice (you): hello from cmake$" "$TEST_DIR/alice.out" ||
    fail "alice did not get her message back stamped: $(cat "$TEST_DIR/alice.out")"
grep -qx "received my own message" "$TEST_DIR/alice.out" || fail "alice: $(out alice)"

run_app "$TEST_DIR/hello_room_pc" bob "hello from pkg-config" "$TEST_DIR/bob.out"
grep -qx "joined Book club" "$TEST_DIR/bob.out" || fail "bob did not join: $(out bob)"
grep -q "^#1 alice: hello from cmake$" "$TEST_DIR/bob.out" ||
    fail "bob did not see alice's message in the history: $(cat "$TEST_DIR/bob.out")"
grep -q "^#2 bob (you): hello from pkg-config$" "$TEST_DIR/bob.out" ||
    fail "bob did not get his message back stamped: $(cat "$TEST_DIR/bob.out")"

# The message really is in the room for others: the installed CLI reads it.
MQCHAT_PASSWORD=alice-pw "$prefix/bin/mqchat" --user alice login >/dev/null
history=$("$prefix/bin/mqchat" --user alice --json history "Book club")
echo "$history" | grep -q '"sender":"bob".*"text":"hello from pkg-config"' ||
    fail "the room's history lacks bob's message: $history"
echo "install test passed"
