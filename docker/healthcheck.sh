#!/usr/bin/env bash
# Health checks of the mqchat images (docker-compose.yml runs them):
#
#   healthcheck.sh broker        a guest connects and subscribes to its own
#                                reply topic: the broker listens and the plugin
#                                decides (a broker without its plugin or keys
#                                fails here)
#   healthcheck.sh room-manager  reads the room manager's retained health
#                                report (chat/v1/sys/health) as the service
#                                account and checks that it says "ok" and is
#                                fresh (at most 3 report intervals old): the
#                                room manager runs, reaches the broker and
#                                its store answers
#
# Settings: MQCHAT_BROKER (its host and port are used; default
# tcp://127.0.0.1:$MQCHAT_MQTT_PORT), MQCHAT_MQTT_PORT [1883],
# MQCHAT_HEALTH_TIMEOUT in seconds [5]; for the room manager's check the
# service secret: MQCHAT_SECRET_FILE [$MQCHAT_KEYS_DIR/service-secret, with
# MQCHAT_KEYS_DIR /var/lib/mqchat/keys] and MQCHAT_SERVICE_USER
# [mqchat-service].
set -euo pipefail

url=${MQCHAT_BROKER:-tcp://127.0.0.1:${MQCHAT_MQTT_PORT:-1883}}
hostport=${url#*://}
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}
[ "$host" = "$hostport" ] && port=1883
timeout_s=${MQCHAT_HEALTH_TIMEOUT:-5}

# A guest's client id is free (but not mqchat-*: those are the room
# manager's); its reply topic needs a nonce of 16+ characters.
client_id="healthcheck-$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
nonce=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
reply_topic="chat/v1/guest/$client_id/$nonce"

broker_check() {
    # -E: exit once the subscription is acknowledged. A refused subscription
    # also exits 0 (Mosquitto 2.0.11's client), saying so on stderr.
    local out
    out=$(mosquitto_sub -h "$host" -p "$port" -V 5 -i "$client_id" -t "$reply_topic" \
        -E -W "$timeout_s" 2>&1) || {
        echo "broker check: ${out:-no connection}" >&2
        return 1
    }
    case "$out" in
    *denied*)
        echo "broker check: the plugin refused the guest's own reply topic: $out" >&2
        return 1
        ;;
    esac
}

room_manager_check() {
    local secret_file=${MQCHAT_SECRET_FILE:-${MQCHAT_KEYS_DIR:-/var/lib/mqchat/keys}/service-secret}
    if [ ! -r "$secret_file" ]; then
        echo "room manager check: cannot read the service secret $secret_file" >&2
        return 1
    fi
    # The secret goes in mosquitto_sub's options file, not on its command
    # line, where every process on the machine could read it.
    local conf_dir
    conf_dir=$(mktemp -d)
    trap 'rm -rf "$conf_dir"' RETURN
    printf -- '-P %s\n' "$(cat "$secret_file")" > "$conf_dir/mosquitto_sub"
    local report
    report=$(XDG_CONFIG_HOME=$conf_dir mosquitto_sub -h "$host" -p "$port" -V 5 \
        -i "$client_id" -u "${MQCHAT_SERVICE_USER:-mqchat-service}" \
        -t chat/v1/sys/health -C 1 -W "$timeout_s" 2>&1) || {
        echo "room manager check: no health report: ${report:-timeout}" >&2
        return 1
    }

    # One compact JSON object; its "ts" and "interval_ms" are unique keys.
    local status ts interval now
    status=$(printf '%s' "$report" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
    ts=$(printf '%s' "$report" | sed -n 's/.*"ts":\([0-9]*\).*/\1/p')
    interval=$(printf '%s' "$report" | sed -n 's/.*"interval_ms":\([0-9]*\).*/\1/p')
    now=$(date +%s%3N)
    if [ "$status" != ok ] || [ -z "$ts" ] || [ -z "$interval" ]; then
        echo "room manager check: unhealthy report: $report" >&2
        return 1
    fi
    if [ $((now - ts)) -gt $((3 * interval + 1000)) ]; then
        echo "room manager check: the last report is $(((now - ts) / 1000)) s old" >&2
        return 1
    fi
}

case "${1:-}" in
broker) broker_check ;;
room-manager) room_manager_check ;;
*)
    echo "usage: healthcheck.sh broker|room-manager" >&2
    exit 2
    ;;
esac
