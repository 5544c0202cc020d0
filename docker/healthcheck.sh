#!/usr/bin/env bash
# Health checks of the mqchat images (docker-compose.yml runs them):
#
#   healthcheck.sh broker        a guest connects and subscribes to its own
#                                reply topic: the broker listens and the plugin
#                                decides (a broker without its plugin or keys
#                                fails here)
#   healthcheck.sh room-manager  a guest sends a control request and the room
#                                manager answers it: a full MQTT round trip
#                                through broker, plugin and room manager
#
# The room manager's check sends `register` with an empty object, which it
# refuses with bad_request before touching the store or hashing anything,
# so a check every few seconds costs nothing. When the room manager
# publishes its retained health topic (issue 7, "Health and metrics"), only
# room_manager_check below changes: read that topic as the operator instead.
#
# Settings: MQCHAT_BROKER (its host and port are used; default
# tcp://127.0.0.1:$MQCHAT_MQTT_PORT), MQCHAT_MQTT_PORT [1883],
# MQCHAT_HEALTH_TIMEOUT in seconds [5].
set -euo pipefail

url=${MQCHAT_BROKER:-tcp://127.0.0.1:${MQCHAT_MQTT_PORT:-1883}}
hostport=${url#*://}
hostport=${hostport%%/*}
host=${hostport%:*}
port=${hostport##*:}
[ "$host" = "$hostport" ] && port=1883
timeout_s=${MQCHAT_HEALTH_TIMEOUT:-5}

# A guest's client id is free; its reply topic needs a nonce of 16+ characters.
client_id="mqchat-health-$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
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
    local reply
    reply=$(mosquitto_rr -h "$host" -p "$port" -V 5 -q 1 -i "$client_id" -W "$timeout_s" \
        -t chat/v1/ctl/register -e "$reply_topic" -m '{}')
    case "$reply" in
    *'"code":"bad_request"'*) return 0 ;;
    *)
        echo "unexpected reply from the room manager: $reply" >&2
        return 1
        ;;
    esac
}

case "${1:-}" in
broker) broker_check ;;
room-manager) room_manager_check ;;
*)
    echo "usage: healthcheck.sh broker|room-manager" >&2
    exit 2
    ;;
esac
