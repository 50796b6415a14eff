#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Installs mqlink from a finished build and leaves mqlinkd running against a
# local mosquitto, ready for `mqlink pub` / `mqlink sub`:
#
#   meson setup build && ninja -C build && sudo tools/quickstart.sh [BUILDDIR]
#
#   1. meson install (to the build's prefix, /usr/local by default), ldconfig
#   2. /etc/mqlink/mqlinkd.conf from conf/mqlinkd.conf, unless one exists
#   3. a broker on 127.0.0.1:1883: whatever already listens there, else
#      Debian's mosquitto (which, without a listener line, listens on
#      localhost only)
#   4. mqlinkd: under systemd through mqlinkd.socket and mqlinkd.service,
#      otherwise (a container) as a detached process logging to
#      /var/log/mqlinkd.log; then waits until `mqlink ping` answers
#
# Safe to run again: it never overwrites /etc/mqlink/mqlinkd.conf, leaves a
# running broker alone and restarts mqlinkd on the freshly installed binary.
set -euo pipefail

CONF=/etc/mqlink/mqlinkd.conf
RUNDIR=/run/mqlinkd
SOCKET=$RUNDIR/mqlinkd.sock
PIDFILE=$RUNDIR/mqlinkd.pid
LOGFILE=/var/log/mqlinkd.log
BROKER_HOST=127.0.0.1
BROKER_PORT=1883
WAIT_SECONDS=10

say() { printf '==> %s\n' "$*"; }
warn() { printf 'quickstart: %s\n' "$*" >&2; }
die() {
        warn "$*"
        exit 1
}

cd "$(dirname "${BASH_SOURCE[0]}")/.."
builddir=${1:-build}

((EUID == 0)) || die "must run as root (it installs to the system): sudo $0 ${1:-}"
[[ -f $builddir/build.ninja ]] ||
        die "no build in '$builddir': run 'meson setup $builddir && ninja -C $builddir' first"

have_systemd() { [[ -d /run/systemd/system ]]; }

# True when something accepts TCP connections on HOST PORT.
port_open() {
        # shellcheck disable=SC2016 # $1 and $2 are the inner shell's
        timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Where `meson install` puts a file whose destination path ends in SUFFIX.
installed_path() {
        meson introspect --installed "$builddir" | python3 -c '
import json, sys
suffix = sys.argv[1]
for dest in json.load(sys.stdin).values():
    if dest.endswith(suffix):
        print(dest)
        break
' "$1"
}

# --- 1. install ------------------------------------------------------------

# Build as the build tree's owner, so that root leaves no files the user
# can no longer rebuild over; then install without rebuilding.
owner=$(stat -c %U "$builddir")
say "Building $builddir (as $owner)"
if [[ $owner == root ]]; then
        ninja -C "$builddir" >/dev/null
else
        runuser -u "$owner" -- ninja -C "$builddir" >/dev/null
fi

say "Installing (meson install -C $builddir)"
meson install -C "$builddir" --no-rebuild --quiet
ldconfig

mqlinkd=$(installed_path /bin/mqlinkd)
mqlink=$(installed_path /bin/mqlink)
[[ -n $mqlinkd && -x $mqlinkd && -n $mqlink && -x $mqlink ]] ||
        die "mqlinkd and mqlink were not built: install libsystemd-dev and libinih-dev, then run 'meson setup --reconfigure $builddir && ninja -C $builddir'"

# --- 2. configuration ------------------------------------------------------

install -d -m 0755 /etc/mqlink /etc/mqlink/mqlinkd.conf.d
if [[ -e $CONF ]]; then
        say "Keeping the existing $CONF"
else
        [[ -f conf/mqlinkd.conf ]] || die "conf/mqlinkd.conf is missing from the source tree"
        say "Installing $CONF"
        install -m 0644 conf/mqlinkd.conf "$CONF"
fi

# --- 3. broker -------------------------------------------------------------

if port_open "$BROKER_HOST" "$BROKER_PORT"; then
        say "A broker already listens on $BROKER_HOST:$BROKER_PORT; using it"
else
        command -v mosquitto >/dev/null || [[ -x /usr/sbin/mosquitto ]] ||
                die "nothing listens on $BROKER_HOST:$BROKER_PORT and mosquitto is not installed: apt-get install mosquitto"
        if have_systemd; then
                say "Starting mosquitto (systemctl enable --now mosquitto)"
                systemctl enable --now mosquitto
        else
                # What Debian's mosquitto.service does before it starts it.
                say "Starting mosquitto -d -c /etc/mosquitto/mosquitto.conf"
                mkdir -p /var/log/mosquitto /run/mosquitto
                chmod 0740 /run/mosquitto
                chown mosquitto /var/log/mosquitto /run/mosquitto
                /usr/sbin/mosquitto -d -c /etc/mosquitto/mosquitto.conf
        fi
        for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
                port_open "$BROKER_HOST" "$BROKER_PORT" && break
                sleep 0.2
        done
        if ! port_open "$BROKER_HOST" "$BROKER_PORT"; then
                warn "mosquitto started but nothing listens on $BROKER_HOST:$BROKER_PORT"
                if have_systemd; then
                        journalctl -u mosquitto -n 20 --no-pager >&2 || true
                else
                        tail -n 20 /var/log/mosquitto/mosquitto.log >&2 || true
                fi
                exit 1
        fi
fi

# --- 4. mqlinkd ------------------------------------------------------------

ping_ok() { timeout 2 "$mqlink" ping >/dev/null 2>&1; }

# Polls `mqlink ping` for WAIT_SECONDS; PID, when given, must stay alive.
wait_for_daemon() {
        local pid=${1:-}
        for ((i = 0; i < WAIT_SECONDS * 5; i++)); do
                if [[ -S $SOCKET ]] && ping_ok; then
                        return 0
                fi
                if [[ -n $pid ]] && ! alive "$pid"; then
                        return 1
                fi
                sleep 0.2
        done
        return 1
}

# True while PID runs. Not kill -0: in a container whose PID 1 reaps no
# orphans, a daemon from an earlier run stays a zombie after it exits.
alive() {
        local stat
        stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
        stat=${stat##*) }
        [[ ${stat%% *} != Z ]]
}

# The pid in PIDFILE if it is a live mqlinkd (not a recycled pid).
our_daemon() {
        local pid
        [[ -f $PIDFILE ]] || return 1
        read -r pid <"$PIDFILE" || return 1
        [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == mqlinkd ]] || return 1
        alive "$pid" || return 1
        echo "$pid"
}

if have_systemd; then
        sysusers=$(installed_path /sysusers.d/mqlinkd.conf)
        tmpfiles=$(installed_path /tmpfiles.d/mqlinkd.conf)
        say "Creating user mqlinkd and its directories"
        systemd-sysusers "$sysusers"
        systemd-tmpfiles --create "$tmpfiles"
        systemctl daemon-reload
        say "Starting mqlinkd.socket and mqlinkd.service"
        systemctl enable mqlinkd.socket mqlinkd.service
        systemctl start mqlinkd.socket
        # restart, not start: a second run must pick up the new binary.
        systemctl restart mqlinkd.service
        if ! wait_for_daemon; then
                warn "mqlinkd does not answer 'mqlink ping' after $WAIT_SECONDS s"
                systemctl status mqlinkd.service --no-pager >&2 || true
                journalctl -u mqlinkd.service -n 30 --no-pager >&2 || true
                exit 1
        fi
        stop_hint="systemctl disable --now mqlinkd.service mqlinkd.socket"
else
        if pid=$(our_daemon); then
                say "Stopping the mqlinkd this script started before (pid $pid)"
                kill -TERM "$pid"
                for ((i = 0; i < 50; i++)); do
                        alive "$pid" || break
                        sleep 0.1
                done
                if alive "$pid"; then
                        warn "pid $pid ignored SIGTERM for 5 s; killing it"
                        kill -KILL "$pid" 2>/dev/null || true
                fi
        fi
        rm -f "$PIDFILE"
        if [[ -S $SOCKET ]] && ping_ok; then
                die "another mqlinkd, not started by this script, already serves $SOCKET; stop it first"
        fi

        install -d -m 0755 "$RUNDIR"
        say "Starting $mqlinkd -c $CONF (log: $LOGFILE)"
        printf '=== %s quickstart: starting %s\n' "$(date -Is)" "$mqlinkd" >>"$LOGFILE"
        # A new session, no terminal, nothing inherited from a service
        # manager this script might itself run under.
        setsid env -u NOTIFY_SOCKET -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES \
                -u WATCHDOG_USEC -u WATCHDOG_PID \
                "$mqlinkd" -c "$CONF" </dev/null >>"$LOGFILE" 2>&1 &
        pid=$!
        echo "$pid" >"$PIDFILE"
        if ! wait_for_daemon "$pid"; then
                if alive "$pid"; then
                        warn "mqlinkd (pid $pid) does not answer 'mqlink ping' after $WAIT_SECONDS s; stopping it"
                        kill -TERM "$pid" 2>/dev/null || true
                else
                        warn "mqlinkd exited at start"
                fi
                rm -f "$PIDFILE"
                echo "--- last lines of $LOGFILE:" >&2
                tail -n 20 "$LOGFILE" >&2 || true
                exit 1
        fi
        stop_hint="kill \$(cat $PIDFILE)"
        # The mosquitto this run or an earlier one started (its pid file).
        mpid=$(cat /run/mosquitto/mosquitto.pid 2>/dev/null || true)
        if [[ $mpid =~ ^[0-9]+$ && $(cat "/proc/$mpid/comm" 2>/dev/null) == mosquitto ]] &&
                alive "$mpid"; then
                stop_hint+=$'\n'"    kill \$(cat /run/mosquitto/mosquitto.pid)   # the broker"
        fi
fi

# --- 5. how to use it ------------------------------------------------------

bindir=$(dirname "$mqlink")
cli=mqlink
[[ ":$PATH:" == *":$bindir:"* ]] || cli=$mqlink
cat <<EOF

mqlinkd is running: local socket $SOCKET, broker $BROKER_HOST:$BROKER_PORT,
configuration $CONF.

Try it:
    $cli sub -t 'test/#' -v &
    $cli pub -t test/hello -m hi

Stop it:
    $stop_hint
EOF
