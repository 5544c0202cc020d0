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
    if [ -n "${BACKEND_PID:-}" ]; then
        kill -TERM -- "-$BACKEND_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$BACKEND_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL -- "-$BACKEND_PID" 2>/dev/null || true
        wait "$BACKEND_PID" 2>/dev/null || true
        BACKEND_PID=""
    fi
}

cleanup_backend() {
    local status=$?
    # Kill anything else the test left running in the background.
    local children
    children=$(jobs -p)
    [ -n "$children" ] && kill $children 2>/dev/null || true
    stop_backend
    if [ $status -ne 0 ] && [ -f "$TEST_DIR/backend.log" ]; then
        echo "---- backend log (last 40 lines) ----" >&2
        tail -n 40 "$TEST_DIR/backend.log" >&2
    fi
    rm -rf "$TEST_DIR"
    exit $status
}

start_backend() {
    TEST_DIR=$(mktemp -d /tmp/mqchat-shtest-XXXXXX)
    PORT=${PORT:-$(free_port)}
    WS_PORT=${WS_PORT:-$(free_port)}
    export MQCHAT_BROKER="mqtt://127.0.0.1:$PORT"
    export MQCHAT_HOME="$TEST_DIR/home"
    trap cleanup_backend EXIT
    restart_backend
}

# (Re)starts the backend on the same ports and data folder.
restart_backend() {
    rm -f "$TEST_DIR/ready"
    setsid env MQCHAT_DATA_DIR="$TEST_DIR/data" MQCHAT_MQTT_PORT="$PORT" \
        MQCHAT_WS_PORT="$WS_PORT" MQCHAT_BIND=127.0.0.1 \
        MQCHAT_READY_FILE="$TEST_DIR/ready" \
        MQCHAT_ARGON2_T="${MQCHAT_ARGON2_T:-1}" MQCHAT_ARGON2_M="${MQCHAT_ARGON2_M:-8192}" \
        bash "$MQCHAT_SOURCE_DIR/scripts/backend.sh" >>"$TEST_DIR/backend.log" 2>&1 &
    BACKEND_PID=$!
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
