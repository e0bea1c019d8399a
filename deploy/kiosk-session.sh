#!/bin/sh
# Started from the desktop session (kiosk-autostart.desktop): keeps the screen awake and
# restarts the kiosk after a crash; a clean exit (maintenance "Exit to desktop") ends it.
cd /opt/kiosk || exit 1
xset s off -dpms s noblank 2>/dev/null
while true; do
    .venv/bin/kiosk run --config /opt/kiosk/config.toml
    status=$?
    [ "$status" -eq 0 ] && exit 0
    echo "kiosk exited with $status; restarting in 3 s" >&2
    sleep 3
done
