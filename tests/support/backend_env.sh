# Sourced by the shell integration tests. Starts a real backend (through
# scripts/backend.sh) on free loopback ports in a temporary folder, and stops
# it, with everything it started, when the test script exits.
#
# Needs MQCHAT_SOURCE_DIR and MQCHAT_BUILD_DIR in the environment (ctest sets
# them). After start_backend: $PORT, $MQCHAT_BROKER, $TEST_DIR, and a private
# $MQCHAT_HOME for the CLI's saved logins.

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

stop_backend() {
    stop_group "${BACKEND_PID:-}" TERM
    BACKEND_PID=""
}

# Stops the process group led by pid $1 with signal $2 (TERM: cleanly, with
# a bounded wait and KILL after it; KILL: at once, like a crash).
stop_group() {
    local pid=$1 signal=${2:-TERM}
    [ -n "$pid" ] || return 0
    kill "-$signal" -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Runs scripts/backend.sh with MQCHAT_COMPONENTS=$1 in a process group of
# its own; sets LAUNCHED_PID.
launch_backend() {
    setsid env MQCHAT_DATA_DIR="$TEST_DIR/data" MQCHAT_MQTT_PORT="$PORT" \
        MQCHAT_WS_PORT="$WS_PORT" MQCHAT_BIND=127.0.0.1 \
        MQCHAT_READY_FILE="$TEST_DIR/ready" MQCHAT_COMPONENTS="$1" \
        MQCHAT_ARGON2_T="${MQCHAT_ARGON2_T:-1}" MQCHAT_ARGON2_M="${MQCHAT_ARGON2_M:-8192}" \
        bash "$MQCHAT_SOURCE_DIR/scripts/backend.sh" >>"$TEST_DIR/backend.log" 2>&1 &
    LAUNCHED_PID=$!
}

# The broker and the room manager as two groups, to stop or crash one of
# them alone: start_split_backend, then stop_broker [KILL], start_broker,
# stop_manager, start_manager.
start_split_backend() {
    prepare_test_dir
    start_broker
    start_manager
}

start_broker() {
    launch_backend broker
    BROKER_PID=$LAUNCHED_PID
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "broker not listening after 10 s" >&2
    return 1
}

stop_broker() {
    stop_group "${BROKER_PID:-}" "${1:-TERM}"
    BROKER_PID=""
}

start_manager() {
    rm -f "$TEST_DIR/ready"
    launch_backend manager
    MANAGER_PID=$LAUNCHED_PID
    for _ in $(seq 1 300); do
        [ -f "$TEST_DIR/ready" ] && return 0
        sleep 0.1
    done
    echo "room manager not ready after 30 s" >&2
    return 1
}

stop_manager() {
    stop_group "${MANAGER_PID:-}" "${1:-TERM}"
    MANAGER_PID=""
}

cleanup_backend() {
    local status=$?
    # Kill anything else the test left running in the background.
    local children
    children=$(jobs -p)
    [ -n "$children" ] && kill $children 2>/dev/null || true
    stop_backend
    stop_manager
    stop_broker
    if [ $status -ne 0 ] && [ -f "$TEST_DIR/backend.log" ]; then
        echo "---- backend log (last 80 lines) ----" >&2
        tail -n 80 "$TEST_DIR/backend.log" >&2
    fi
    [ -n "${MQCHAT_KEEP_LOG:-}" ] && cp "$TEST_DIR/backend.log" "$MQCHAT_KEEP_LOG"
    rm -rf "$TEST_DIR"
    exit $status
}

# A private folder, free ports, and the exit trap that cleans up.
prepare_test_dir() {
    TEST_DIR=$(mktemp -d /tmp/mqchat-shtest-XXXXXX)
    PORT=${PORT:-$(free_port)}
    WS_PORT=${WS_PORT:-$(free_port)}
    export MQCHAT_BROKER="mqtt://127.0.0.1:$PORT"
    export MQCHAT_HOME="$TEST_DIR/home"
    trap cleanup_backend EXIT
}

start_backend() {
    prepare_test_dir
    restart_backend
}

# (Re)starts the backend on the same ports and data folder.
restart_backend() {
    rm -f "$TEST_DIR/ready"
    launch_backend "broker manager"
    BACKEND_PID=$LAUNCHED_PID
    for _ in $(seq 1 300); do
        [ -f "$TEST_DIR/ready" ] && return 0
        if ! kill -0 "$BACKEND_PID" 2>/dev/null; then
            echo "backend exited early" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "backend not ready after 30 s" >&2
    return 1
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
