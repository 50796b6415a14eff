#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Checks mqlinkd's systemd files the way they will be installed, with the
# daemon as built standing in for the installed one; prints TAP.
#
#   test-units.sh --service BUILT/mqlinkd.service --socket SRC/mqlinkd.socket
#                 --sysusers SRC/mqlinkd.sysusers --tmpfiles SRC/mqlinkd.tmpfiles
#                 --installed-daemon /usr/local/bin/mqlinkd --daemon BUILT/mqlinkd
#                 --threshold 12
#
# 1. systemd-analyze verify: the service and socket load without a single
#    warning (verify wants ExecStart= to exist, hence the built daemon).
# 2. systemd-analyze security --offline: exposure at most --threshold tenths.
# 3. systemd-sysusers creates the mqlinkd user in a scratch root.
# 4. systemd-tmpfiles creates our directories there (root only: it chowns).
#
# Works without systemd as PID 1 and without D-Bus: verify and security
# --offline only read files; generators and man page lookups are turned off.
set -euo pipefail

service='' socket='' sysusers='' tmpfiles='' installed='' daemon='' threshold='' conf=''
while (($#)); do
        case $1 in
        --service) service=$2 ;;
        --socket) socket=$2 ;;
        --sysusers) sysusers=$2 ;;
        --tmpfiles) tmpfiles=$2 ;;
        --installed-daemon) installed=$2 ;;
        --daemon) daemon=$2 ;;
        --threshold) threshold=$2 ;;
        --conf) conf=$2 ;;
        *)
                echo "Bail out! unknown argument $1"
                exit 1
                ;;
        esac
        shift 2
done

if [[ -z $daemon ]]; then
        echo "1..0 # SKIP mqlinkd is not built (no mqlinkd_exe in daemon/meson.build)"
        exit 0
fi
if ! command -v systemd-analyze >/dev/null; then
        echo "1..0 # SKIP systemd-analyze not found (apt-get install systemd)"
        exit 0
fi

export SYSTEMD_LOG_LEVEL=warning SYSTEMD_LOG_COLOR=0 SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Diagnostics: each line of a file, prefixed with "# ".
diag() {
        sed 's/^/# /' "$1"
}

# The units, named as installed, the built daemon in place of the installed
# one. Quoted, and with % doubled, so any build path is one argument.
abs() {
        case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac
}
daemon=$(abs "$daemon")
exe=\"${daemon//%/%%}\"
mkdir "$tmp/units"
while IFS= read -r line || [[ -n $line ]]; do
        printf '%s\n' "${line//"$installed"/"$exe"}"
done <"$service" >"$tmp/units/mqlinkd.service"
cp "$socket" "$tmp/units/mqlinkd.socket"

echo "1..6"

# 1
if systemd-analyze verify --man=no --generators=no \
        "$tmp/units/mqlinkd.socket" "$tmp/units/mqlinkd.service" >"$tmp/verify.log" 2>&1 &&
        [[ ! -s $tmp/verify.log ]]; then
        echo "ok 1 - systemd-analyze verify mqlinkd.socket mqlinkd.service: no warnings"
else
        echo "not ok 1 - systemd-analyze verify mqlinkd.socket mqlinkd.service"
        diag "$tmp/verify.log"
fi

# 2
rc=0
systemd-analyze security --offline=yes --threshold="$threshold" --no-pager \
        "$tmp/units/mqlinkd.service" >"$tmp/security.log" 2>&1 || rc=$?
score=$(grep -o 'Overall exposure level.*' "$tmp/security.log" || true)
if ((rc == 0)) && [[ -n $score ]]; then
        echo "ok 2 - security exposure within $threshold tenths: ${score}"
        grep '✗' "$tmp/security.log" | sed 's/^/# /' || true
else
        echo "not ok 2 - security exposure above $threshold tenths (status $rc)"
        grep -v '✓' "$tmp/security.log" | sed 's/^/# /' || true
fi

# 3
mkdir -p "$tmp/root/etc"
if ! command -v systemd-sysusers >/dev/null; then
        echo "ok 3 # SKIP systemd-sysusers not found"
elif systemd-sysusers --root="$tmp/root" "$(abs "$sysusers")" >"$tmp/sysusers.log" 2>&1 &&
        grep -q '^mqlinkd:x:[0-9]*:[0-9]*:' "$tmp/root/etc/passwd" &&
        grep -q '^mqlinkd:x:[0-9]*:' "$tmp/root/etc/group"; then
        echo "ok 3 - systemd-sysusers creates user and group mqlinkd"
else
        echo "not ok 3 - systemd-sysusers creates user and group mqlinkd"
        diag "$tmp/sysusers.log"
fi

# 4
if ! command -v systemd-tmpfiles >/dev/null; then
        echo "ok 4 # SKIP systemd-tmpfiles not found"
elif ((EUID != 0)); then
        echo "ok 4 # SKIP systemd-tmpfiles --create needs root to chown to mqlinkd"
elif systemd-tmpfiles --root="$tmp/root" --create "$(abs "$tmpfiles")" >"$tmp/tmpfiles.log" 2>&1 &&
        [[ ! -s $tmp/tmpfiles.log && -d $tmp/root/etc/mqlink/mqlinkd.conf.d ]] &&
        [[ $(stat -c %a "$tmp/root/var/lib/mqlinkd") == 700 ]] &&
        [[ $(stat -c %u "$tmp/root/var/lib/mqlinkd") == \
                $(grep '^mqlinkd:' "$tmp/root/etc/passwd" | cut -d: -f3) ]]; then
        echo "ok 4 - systemd-tmpfiles creates /etc/mqlink and /var/lib/mqlinkd (0700 mqlinkd)"
else
        echo "not ok 4 - systemd-tmpfiles creates /etc/mqlink and /var/lib/mqlinkd"
        diag "$tmp/tmpfiles.log"
fi

# 5: the shipped configuration is valid as it is.
if "$daemon" --check-config -c "$conf" >"$tmp/check.log" 2>&1; then
        echo "ok 5 - mqlinkd --check-config accepts conf/mqlinkd.conf"
else
        echo "not ok 5 - mqlinkd --check-config accepts conf/mqlinkd.conf"
        diag "$tmp/check.log"
fi

# 6: with stderr going to the journal (JOURNAL_STREAM names it), each line
# starts with its syslog priority: a config error is <3>.
printf '[mqlinkd]\nbogus = 1\n' >"$tmp/bad.conf"
: >"$tmp/journal.log"
if JOURNAL_STREAM=$(stat -c '%d:%i' "$tmp/journal.log") \
        "$daemon" -c "$tmp/bad.conf" 2>>"$tmp/journal.log"; then
        echo "not ok 6 - a bad config makes mqlinkd fail"
elif ! "$daemon" -c "$tmp/bad.conf" 2>"$tmp/plain.log" &&
        head -n 1 "$tmp/journal.log" | grep -q '^<3>.*bogus' &&
        grep -q '^mqlinkd\[error\]: .*bogus' "$tmp/plain.log"; then
        echo "ok 6 - log lines carry <N> priorities only when stderr is the journal"
else
        echo "not ok 6 - log lines carry <N> priorities only when stderr is the journal"
        diag "$tmp/journal.log"
fi
