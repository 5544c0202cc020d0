#!/usr/bin/env bash
# Entrypoint of the mqchat room-manager image; also runs directly on a host
# (tests/docker/docker_test.sh does), given the settings below.
#
# First start: makes the signing key pair and the service secret in the keys
# folder (the broker reads the public key and the secret from there). Every
# later start reuses them. Then runs the room manager in the foreground.
#
# Settings (environment):
#   MQCHAT_PREFIX     where mqchat is installed                   [/opt/mqchat]
#   MQCHAT_KEYS_DIR   signing key, public key, service secret     [/var/lib/mqchat/keys]
#   MQCHAT_STORE_DIR  the SQLite store (mqchat.db)                [/var/lib/mqchat/store]
#   MQCHAT_BROKER     the broker to serve                         [tcp://broker:1883]
#   MQCHAT_RUN_USER   started as root: fix the folders' owner, then run as this user
#                     (the image sets "mqchat"; unset: run as who started it)
# The room manager's own MQCHAT_* settings (MQCHAT_ARGON2_T/M/P, MQCHAT_LOG_LEVEL,
# MQCHAT_HISTORY_KEEP, MQCHAT_HISTORY_MAX_DAYS, MQCHAT_INSTANCE, MQCHAT_WORKERS,
# MQCHAT_WORKER_NICE) pass through.
# MQCHAT_READY_FILE, when set, is created once requests are answered.
set -euo pipefail

prefix=${MQCHAT_PREFIX:-/opt/mqchat}
keys=${MQCHAT_KEYS_DIR:-/var/lib/mqchat/keys}
store=${MQCHAT_STORE_DIR:-/var/lib/mqchat/store}
broker=${MQCHAT_BROKER:-tcp://broker:1883}
room_manager=$prefix/bin/mqchat-room-manager

# Volumes may come up owned by root (a volume first mounted elsewhere, or a
# host folder): as root, give them to the run user, then continue as that user.
if [ "$(id -u)" -eq 0 ] && [ -n "${MQCHAT_RUN_USER:-}" ]; then
    mkdir -p "$keys" "$store"
    chown "$MQCHAT_RUN_USER:" "$keys" "$store"
    exec setpriv --reuid="$MQCHAT_RUN_USER" --regid="$MQCHAT_RUN_USER" --init-groups \
        --inh-caps=-all -- "$0" "$@"
fi

if [ -s "$keys/signing-key.pem" ]; then
    echo "mqchat: reusing the signing key and service secret in $keys"
else
    echo "mqchat: first start: making the signing key and service secret in $keys"
fi
"$room_manager" --data-dir "$keys" --init-only

# The room manager keeps its store in its data folder; here the store has a
# volume of its own, so the data folder's mqchat.db is a link into it (SQLite
# follows the link and keeps its -wal and -shm files beside the target).
mkdir -p "$store"
chmod 0700 "$store"
if [ -e "$keys/mqchat.db" ] && [ ! -L "$keys/mqchat.db" ]; then
    echo "mqchat: $keys/mqchat.db is a real file; move it to $store/mqchat.db" >&2
    exit 1
fi
ln -sfn "$store/mqchat.db" "$keys/mqchat.db"

ready_args=()
if [ -n "${MQCHAT_READY_FILE:-}" ]; then
    ready_args=(--ready-file "$MQCHAT_READY_FILE")
fi
# The room manager connects (and reconnects) to the broker by itself, so it
# may start before the broker listens. It is PID 1's child under `init: true`
# and stops cleanly on SIGTERM.
exec "$room_manager" --data-dir "$keys" --broker "$broker" "${ready_args[@]}"
