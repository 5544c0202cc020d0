#!/usr/bin/env bash
# Reads scripts/packages.txt, the one list of Debian packages mqchat uses.
#
#   packages.sh              every package (build, test and run)
#   packages.sh runtime      only those marked [runtime]: what a runtime image
#                            needs beyond the libraries its programs load
#   packages.sh libs FILE... the Debian packages owning the shared libraries
#                            that the ELF files FILE... load (ldd + dpkg -S)
#
# scripts/install-deps.sh and docker/Dockerfile use it, so no package name
# is written down twice: a runtime image gets the [runtime] packages plus the
# library packages found from the binaries the build stage produced.
set -euo pipefail

list=$(dirname "$0")/packages.txt

case "${1:-all}" in
all)
    sed -e 's/#.*//' "$list" | awk 'NF { print $1 }'
    ;;
runtime)
    sed -e 's/#.*//' "$list" | awk 'NF && $2 == "[runtime]" { print $1 }'
    ;;
libs)
    shift
    for file in "$@"; do
        # "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)"
        ldd "$file" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
    done | sort -u | while read -r lib; do
        # Debian 12 has merged /usr, but dpkg records each file at the path its
        # package shipped, /lib/... or /usr/lib/...: look up both, exactly.
        bare=${lib#/usr}
        { dpkg-query -S "$bare" 2>/dev/null || dpkg-query -S "/usr$bare" 2>/dev/null; } |
            awk -F': ' '{ split($1, owners, ", "); for (i in owners) print owners[i] }'
    done | sed 's/:.*//' | grep -v -- '-dev$' | sort -u
    ;;
*)
    echo "usage: packages.sh [all | runtime | libs FILE...]" >&2
    exit 2
    ;;
esac
