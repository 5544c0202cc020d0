#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/packages.txt that are not
# installed yet, then the web page's npm packages (scripts/web-deps.sh: `npm
# ci` in web/ when needed). Used by scripts/run.sh and scripts/test.sh; safe
# to re-run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mapfile -t wanted < <(bash "$here/packages.sh")

# Names that installed packages provide count as installed: a machine whose
# nodejs comes from NodeSource has npm inside it (that package "Provides:
# npm" and conflicts with Debian's npm, which apt could not install).
provided=" $(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null |
    awk -F'|' '$1 ~ /^ii/ && $2 != "" { print $2 }' |
    tr ',' '\n' | sed -e 's/(.*)//' -e 's/ //g' | sort -u | tr '\n' ' ') "

missing=()
for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' &&
        [[ "$provided" != *" $pkg "* ]]; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    bash "$here/web-deps.sh"
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi

echo "mqchat: installing ${#missing[@]} missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The Debian mosquitto package starts a system broker on port 1883; mqchat
# runs its own broker, so stop that one if the package install started it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
    "${sudo_cmd[@]}" systemctl stop mosquitto || true
fi

bash "$here/web-deps.sh"
