#!/usr/bin/env bash
# Benchmarks mqchat against a plain Mosquitto on loopback and prints one
# table; the numbers also go to a JSON file. docs/benchmarks.md explains
# the scenarios and the results.
#
#   scripts/bench.sh [--smoke] [--out FILE] [--build-dir DIR] [--no-build] [--keep]
#                    [mqchat_bench flags, e.g. --fanout-messages 5000 --client-nagle]
#
#   --smoke      tiny sizes, under a minute (the ctest test "bench_smoke"); the
#                benchmark is stopped after 100 s ($MQCHAT_BENCH_TIMEOUT; full: 3600)
#   --out FILE   the JSON results                     [./bench-results.json]
#   --build-dir  where mqchat is built                [$MQCHAT_BUILD_DIR or ./build]
#   --no-build   use the binaries as they are
#   --keep       keep the temporary folder with the brokers' logs
#   --help       this text; `mqchat_bench --help` lists the size flags
#
# Everything runs in a temporary folder, on free 127.0.0.1 ports:
#   plain   Mosquitto with mqchat's shipped mosquitto.conf.in minus the plugin
#           (same listeners, persistence, queue and nodelay settings;
#           allow_anonymous true);
#   mqchat  scripts/backend.sh (plugin + room manager) with a cheap Argon2id
#           cost, so setting up thousands of accounts and joins is quick; the
#           message path never hashes;
#   joins   scripts/backend.sh at the room manager's default Argon2id cost,
#           for the joins scenario only.
# All of it is stopped when the script exits, however it exits.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${MQCHAT_BUILD_DIR:-$root/build}
out=$PWD/bench-results.json
max_queued=${MQCHAT_MAX_QUEUED:-10000}  # backend.sh's default, for the plain broker too
build=1
keep=0
smoke=0
bench_args=()
while [ $# -gt 0 ]; do
    case $1 in
    --out) out=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    -h | --help)
        # The comment block at the top of this file.
        sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    --smoke) smoke=1; bench_args+=("$1"); shift ;;
    *) bench_args+=("$1"); shift ;;
    esac
done

# Build what the benchmark runs, unless told not to.
# The benchmark is built only with MQCHAT_BUILD_BENCH=ON; a fresh build folder
# gets the project's usual build type.
if [ "$build" = 1 ]; then
    configure_args=(-DMQCHAT_BUILD_BENCH=ON)
    if [ ! -f "$build_dir/CMakeCache.txt" ]; then
        configure_args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    fi
    cmake -S "$root" -B "$build_dir" "${configure_args[@]}" >/dev/null
    # Progress to stderr: stdout is the table.
    cmake --build "$build_dir" -j"${MQCHAT_JOBS:-2}" \
        --target mqchat_bench mqchat-room-manager mqchat_plugin >&2
fi
bench_bin=$build_dir/bench/mqchat_bench
if [ ! -x "$bench_bin" ]; then
    echo "bench: $bench_bin is missing; build with -DMQCHAT_BUILD_BENCH=ON (or drop --no-build)" >&2
    exit 1
fi
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)

work=$(mktemp -d /tmp/mqchat-bench-XXXXXX)
groups=()
bench_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$bench_pid" ]; then
        kill -TERM "$bench_pid" 2>/dev/null || true
        wait "$bench_pid" 2>/dev/null || true
    fi
    # Each backend runs in its own process group: end the groups, politely first.
    for group in "${groups[@]}"; do
        kill -TERM -- "-$group" 2>/dev/null || true
    done
    for group in "${groups[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 -- "-$group" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL -- "-$group" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        for log in "$work"/*/*.log; do
            [ -f "$log" ] || continue
            echo "---- $log (last 20 lines) ----" >&2
            tail -n 20 "$log" >&2
        done
    fi
    if [ "$keep" = 1 ]; then
        echo "bench: logs kept in $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# The installed version of a Debian package, for the record.
package_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown
}

wait_for_port() {
    local port=$1 pid=$2
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: nothing listens on port $port" >&2
    return 1
}

# The plain broker: the shipped template, without the plugin lines.
start_plain() {
    local dir=$work/plain
    mkdir -p "$dir/mosquitto"
    plain_port=$(free_port)
    sed -e '/^plugin/d' \
        -e 's/^allow_anonymous false$/allow_anonymous true/' \
        -e "s|@MQTT_PORT@|$plain_port|g" \
        -e "s|@WS_PORT@|$(free_port)|g" \
        -e "s|@BIND@|127.0.0.1|g" \
        -e "s|@DATA_DIR@|$dir|g" \
        -e "s|@RUN_USER@|$(id -un)|g" \
        -e "s|@MAX_QUEUED@|$max_queued|g" \
        "$root/mosquitto/mosquitto.conf.in" >"$dir/mosquitto.conf"
    if grep -v '^#' "$dir/mosquitto.conf" | grep -q '@[A-Z_]*@' ||
        ! grep -q '^allow_anonymous true$' "$dir/mosquitto.conf"; then
        echo "bench: mosquitto.conf.in changed shape; update start_plain" >&2
        return 1
    fi
    setsid "$mosquitto_bin" -c "$dir/mosquitto.conf" >"$dir/broker.log" 2>&1 &
    plain_pid=$!
    groups+=("$plain_pid")
    wait_for_port "$plain_port" "$plain_pid"
}

# An mqchat backend named $1, with extra environment "$@" for the room manager.
# Sets started_port, started_broker_pid and started_manager_pid.
start_mqchat() {
    local name=$1 dir=$work/$1
    shift
    mkdir -p "$dir"
    local port
    port=$(free_port)
    setsid env "$@" MQCHAT_DATA_DIR="$dir/data" MQCHAT_MQTT_PORT="$port" \
        MQCHAT_WS_PORT="$(free_port)" MQCHAT_BIND=127.0.0.1 MQCHAT_BUILD_DIR="$build_dir" \
        MQCHAT_MQTTS_PORT=0 MQCHAT_WSS_PORT=0 \
        MQCHAT_READY_FILE="$dir/ready" \
        bash "$root/scripts/backend.sh" >"$dir/backend.log" 2>&1 &
    local pid=$!
    groups+=("$pid")
    for _ in $(seq 1 600); do
        [ -f "$dir/ready" ] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "bench: the $name backend exited early" >&2
            return 1
        fi
        sleep 0.1
    done
    if [ ! -f "$dir/ready" ]; then
        echo "bench: the $name backend was not ready after 60 s" >&2
        return 1
    fi
    started_port=$port
    started_broker_pid=$(pgrep -P "$pid" -x mosquitto || echo 0)
    started_manager_pid=$(pgrep -P "$pid" -f mqchat-room-manager || echo 0)
}

# "argon2-t=3" and the like, from the room manager's config log line (the
# option names; before the config file came, "argon2_t=3": both are read).
manager_config() {
    grep -oE "(^| )($2)=[0-9]+" "$work/$1/backend.log" | tail -n 1 | cut -d= -f2
}

# A setting of the plain broker's configuration (the same as mqchat's).
broker_setting() {
    awk -v key="$1" '$1 == key { print $2; exit }' "$work/plain/mosquitto.conf"
}

# Scenario 8 holds thousands of sockets in this process's children (the
# brokers) and in mqchat_bench: raise the soft limit on open files to the
# hard one. The number of connections the machine allows is about this
# limit, per process.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
echo "bench: open files limit $(ulimit -Sn) (hard $(ulimit -Hn))" >&2

start_plain
start_mqchat mqchat MQCHAT_ARGON2_T=1 MQCHAT_ARGON2_M=8 MQCHAT_ARGON2_P=1
mqchat_port=$started_port
mqchat_broker_pid=$started_broker_pid
mqchat_manager_pid=$started_manager_pid
start_mqchat joins -u MQCHAT_ARGON2_T -u MQCHAT_ARGON2_M -u MQCHAT_ARGON2_P
joins_port=$started_port

# A bound of our own, below ctest's 150 s for the smoke size: ctest's own
# timeout kills this script outright, and the brokers would outlive it.
if [ "$smoke" = 1 ]; then
    bench_timeout=${MQCHAT_BENCH_TIMEOUT:-100}
else
    bench_timeout=${MQCHAT_BENCH_TIMEOUT:-3600}
fi

# In the background, so that a signal to this script stops it at once.
timeout --signal=TERM --kill-after=10 "$bench_timeout" "$bench_bin" \
    --plain-broker "tcp://127.0.0.1:$plain_port" --plain-broker-pid "$plain_pid" \
    --mqchat-broker "tcp://127.0.0.1:$mqchat_port" \
    --mqchat-broker-pid "$mqchat_broker_pid" --room-manager-pid "$mqchat_manager_pid" \
    --mqchat-store "$work/mqchat/data/mqchat.db" \
    --joins-broker "tcp://127.0.0.1:$joins_port" \
    --joins-argon2-t "$(manager_config joins 'argon2-t|argon2_t')" \
    --joins-argon2-m "$(manager_config joins 'argon2-m|argon2_m_kib')" \
    --joins-argon2-p "$(manager_config joins 'argon2-p|argon2_p')" \
    --joins-workers "$(manager_config joins workers)" \
    --setting "mosquitto=$("$mosquitto_bin" -h 2>/dev/null | head -n 1 || true)" \
    --setting "paho_c=$(package_version libpaho-mqtt1.3)" \
    --setting "paho_cpp=$(package_version libpaho-mqttpp3-1)" \
    --setting "broker_set_tcp_nodelay=$(broker_setting set_tcp_nodelay)" \
    --setting "broker_persistence=$(broker_setting persistence)" \
    --setting "broker_max_queued_messages=$(broker_setting max_queued_messages)" \
    --setting "broker_autosave_interval=$(broker_setting autosave_interval)" \
    --setting "mqchat_setup_argon2=t=1,m=8,p=1" \
    --setting "open_files_limit=$(ulimit -Sn)" \
    --setting "load_average_at_start=$(cut -d' ' -f1-3 /proc/loadavg)" \
    --out "$out" "${bench_args[@]}" &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=""
if [ "$status" = 124 ]; then
    echo "bench: mqchat_bench did not finish within $bench_timeout s" >&2
fi
echo "bench: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exit "$status"
