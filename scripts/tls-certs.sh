#!/usr/bin/env bash
# Makes sure the broker has a TLS certificate. Called by scripts/backend.sh;
# prints three lines, "cert=PATH", "key=PATH" and "ca=PATH" (ca is empty
# when the certificate was configured), and nothing else on stdout.
#
# Usage: tls-certs.sh DATA_DIR
#
# With MQCHAT_TLS_CERT and MQCHAT_TLS_KEY set (a real certificate, its chain
# after it in the same PEM file, and its private key), those are checked for
# readability and used as given. Without them, a local CA and a server
# certificate signed by it live in DATA_DIR/tls/:
#   ca.pem       the CA certificate: give it to clients (--cafile)
#   ca.key       the CA's private key (0600): signs the server certificate
#   server.pem   the server certificate, for localhost, 127.0.0.1, ::1 and
#                this machine's host names (or MQCHAT_TLS_HOSTS, see below)
#   server.key   its private key (0600)
# They are made on the first start and reused after; the server certificate
# alone is made again (by the same CA, so clients need nothing new) when it
# is missing, expires within 30 days or was made for other host names.
#
# MQCHAT_TLS_HOSTS: extra names and addresses for the generated certificate,
# separated by spaces or commas (for example the name clients use to reach
# this machine, when that is not its own host name).
set -euo pipefail

data_dir=$1
cert=${MQCHAT_TLS_CERT:-}
key=${MQCHAT_TLS_KEY:-}

if [ -n "$cert$key" ]; then
    if [ -z "$cert" ] || [ -z "$key" ]; then
        echo "mqchat: set both MQCHAT_TLS_CERT and MQCHAT_TLS_KEY, or neither" >&2
        exit 1
    fi
    for f in "$cert" "$key"; do
        if [ ! -r "$f" ]; then
            echo "mqchat: TLS file $f is missing or not readable" >&2
            exit 1
        fi
    done
    echo "cert=$cert"
    echo "key=$key"
    echo "ca="
    exit 0
fi

if ! command -v openssl >/dev/null; then
    echo "mqchat: openssl is needed to make the local TLS certificate" \
        "(apt-get install openssl), or set MQCHAT_TLS_CERT and MQCHAT_TLS_KEY" >&2
    exit 1
fi

dir=$data_dir/tls
# Private keys are written readable only by their owner, from the start.
umask 077
mkdir -p "$dir"

# The names the server certificate must carry, as subjectAltName entries.
hosts="localhost 127.0.0.1 ::1 $(hostname 2>/dev/null || true)"
extra=${MQCHAT_TLS_HOSTS:-}
hosts="$hosts $(timeout 2 hostname -f 2>/dev/null || true) ${extra//,/ }"
san=""
declare -A seen=()
for h in $hosts; do
    [ -n "${seen[$h]:-}" ] && continue
    seen[$h]=1
    if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then
        san="$san,IP:$h"
    else
        san="$san,DNS:$h"
    fi
done
san=${san#,}

# openssl prints progress on stderr; keep it for failures only.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_openssl() {
    if ! openssl "$@" >>"$log" 2>&1; then
        cat "$log" >&2
        echo "mqchat: openssl $1 failed while making the local TLS certificate" >&2
        exit 1
    fi
}

if [ ! -s "$dir/ca.pem" ] || [ ! -s "$dir/ca.key" ]; then
    # A new CA invalidates any server certificate signed by the old one.
    rm -f "$dir/server.pem" "$dir/server.key"
    run_openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 -sha256 \
        -subj "/O=mqchat/CN=mqchat local CA $(hostname 2>/dev/null || echo host)" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign"
    echo "mqchat: made a local TLS CA in $dir/ca.pem" >&2
fi

# Same names as last time, and valid for 30 more days? Then keep it.
fresh=""
if [ -s "$dir/server.pem" ] && [ -s "$dir/server.key" ] &&
    [ "$(cat "$dir/server.san" 2>/dev/null || true)" = "$san" ] &&
    openssl x509 -in "$dir/server.pem" -noout -checkend $((30 * 86400)) >/dev/null 2>&1; then
    fresh=1
fi
if [ -z "$fresh" ]; then
    ext=$(mktemp)
    csr=$(mktemp)
    trap 'rm -f "$log" "$ext" "$csr"' EXIT
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
        "subjectAltName=$san" >"$ext"
    run_openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/server.key" -out "$csr" -subj "/O=mqchat/CN=localhost"
    # 825 days: the longest lifetime clients such as browsers accept.
    run_openssl x509 -req -in "$csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -CAcreateserial -out "$dir/server.pem" -days 825 -sha256 -extfile "$ext"
    printf '%s\n' "$san" >"$dir/server.san"
    echo "mqchat: made a TLS server certificate for $san" >&2
fi
chmod 600 "$dir/ca.key" "$dir/server.key"
# Certificates are public; the data folder around them stays private.
chmod 644 "$dir/ca.pem" "$dir/server.pem"

echo "cert=$dir/server.pem"
echo "key=$dir/server.key"
echo "ca=$dir/ca.pem"
