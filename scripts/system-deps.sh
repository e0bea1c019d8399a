#!/usr/bin/env bash
# Installs the Debian packages the kiosk needs (zbar, Xvfb, Mesa/SDL runtime, FreeRADIUS for
# its integration test) when they are missing: as root with apt-get, otherwise it prints the
# exact command to run. Fast when everything is present (one dpkg-query).
set -euo pipefail

# $1: "run" (what `make run` needs) or "test" (also what the test suite needs).
purpose="${1:-test}"

packages=(python3-venv libzbar0 xvfb xauth libgl1 libgl1-mesa-dri libegl1 libsdl2-2.0-0 libmtdev1 xsel fonts-dejavu-core)
if [ "$purpose" = "test" ]; then
    packages+=(xdotool x11-apps xserver-xephyr openssl freeradius freeradius-utils freeradius-postgresql freeradius-mysql eapoltest postgresql mariadb-server chromium faketime nginx poppler-utils)
fi

missing=()
# npm installs axe-core for the console's accessibility tests (make test: npm ci).
if [ "$purpose" = "test" ] && ! command -v npm >/dev/null 2>&1; then
    missing+=(npm)
fi
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: not a Debian system; install the equivalents of: ${missing[*]}" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing Debian packages: ${missing[*]}" >&2
    echo "system-deps: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The freeradius package starts its daemon on the standard ports; the tests run their own.
if [[ " ${missing[*]} " == *" freeradius "* ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now freeradius >/dev/null 2>&1 || true
fi
# Likewise the database servers and nginx: the tests start their own in temp dirs.
for service in postgresql mariadb nginx; do
    if [[ " ${missing[*]} " == *" ${service/mariadb/mariadb-server} "* ]] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now "$service" >/dev/null 2>&1 || true
    fi
done
