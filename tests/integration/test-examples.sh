#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Runs the programs of examples/ against a real mosquitto and checks their
# exit status and what they print. TAP on stdout.
#
#   broker-run --tls -- sh test-examples.sh BUILD/examples
#
# broker-run (broker-run.c) starts the broker and hands its addresses in
# MQTT_URI, MQTT_UNIX_URI, MQTTS_URI, MQTT_CA, MQTT_WRONG_CA. Every program
# runs under `timeout 20`: an example that hangs fails, it does not stall
# the suite.

set -u

ex=${1:?usage: test-examples.sh EXAMPLES_DIR}
if [ -z "${MQTT_URI:-}" ]; then
        echo "1..0 # SKIP no broker (is mosquitto installed?)"
        exit 0
fi
if [ ! -x "$ex/simple" ]; then
        echo "1..0 # SKIP examples not built in $ex"
        exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mqlink-examples-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
topic="mqlink/test-examples/$$"
n=0
failed=0

# check NAME STATUS PATTERN -- COMMAND [ARG...]
# Runs COMMAND; passes if it exits with STATUS and its output (stdout and
# stderr) has a line matching PATTERN (grep -E).
check() {
        name=$1 want=$2 pattern=$3
        shift 4
        n=$((n + 1))
        timeout 20 "$@" >"$tmp/$n.out" 2>&1
        status=$?
        if [ "$status" -eq "$want" ] && grep -Eq -- "$pattern" "$tmp/$n.out"; then
                echo "ok $n - $name"
        else
                echo "not ok $n - $name: exit $status (want $want), looked for /$pattern/"
                sed 's/^/# /' "$tmp/$n.out"
                failed=1
        fi
}

# result NAME OK: a check whose logic lives in the caller.
result() {
        n=$((n + 1))
        if [ "$2" = 1 ]; then
                echo "ok $n - $1"
        else
                echo "not ok $n - $1"
                failed=1
        fi
}

check "simple" 0 '^received: topic=mqlink/example/simple payload=hello qos=1$' -- \
        "$ex/simple" "$MQTT_URI"
check "simple over a Unix socket" 0 '^received: .*payload=hello' -- \
        "$ex/simple" "$MQTT_UNIX_URI"

# sub in the background, pub three times at QoS 0, 1, 2 once it listens.
timeout 20 "$ex/sub" -u "$MQTT_URI" -q 2 -C 3 -W 10 "$topic/#" \
        >"$tmp/sub.out" 2>"$tmp/sub.err" &
sub=$!
i=0
until grep -q "subscribed" "$tmp/sub.err" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 $sub 2>/dev/null; then
                break
        fi
        sleep 0.1
done
check "pub QoS 0" 0 'published' -- "$ex/pub" -u "$MQTT_URI" -q 0 "$topic/0" "zero"
check "pub QoS 1" 0 'published' -- "$ex/pub" -u "$MQTT_URI" -q 1 "$topic/1" "one"
check "pub QoS 2, MQTT 3.1.1" 0 'published' -- \
        "$ex/pub" -3 -u "$MQTT_URI" -q 2 "$topic/2" "two words"
wait $sub
status=$?
ok=0
if [ $status -eq 0 ] &&
        grep -qx "$topic/0 zero" "$tmp/sub.out" &&
        grep -qx "$topic/1 one" "$tmp/sub.out" &&
        grep -qx "$topic/2 two words" "$tmp/sub.out"; then
        ok=1
fi
result "sub -C 3 got the three messages and exited" $ok
if [ $ok = 0 ]; then
        echo "# sub exited $status"
        sed 's/^/# out: /' "$tmp/sub.out"
        sed 's/^/# err: /' "$tmp/sub.err"
fi

check "sub -W gives up" 2 'timed out' -- "$ex/sub" -u "$MQTT_URI" -W 1 "$topic/silence"
check "pub to a refused port fails" 1 '^pub: ' -- \
        "$ex/pub" -u "mqtt://127.0.0.1:1" -q 1 "$topic/x" "nobody"

check "mqtt5 request/response" 0 '^requester: response .* matches correlation' -- \
        "$ex/mqtt5" "$MQTT_URI"
check "mqtt5 user properties reach the responder" 0 'request User Property: "lang" = "C"' -- \
        "$ex/mqtt5" "$MQTT_URI"
check "multi" 0 '^20 round trips' -- "$ex/multi" "$MQTT_URI" 20
check "last_will" 0 '^watcher: will received$' -- "$ex/last_will" "$MQTT_URI"
check "custom_transport" 0 '^custom transport carried [1-9][0-9]* bytes out, [1-9][0-9]* bytes in' -- \
        "$ex/custom_transport" "$MQTT_URI"

if [ -n "${MQTTS_URI:-}" ]; then
        check "tls with the right CA" 0 '^received over TLS' -- \
                "$ex/tls" "$MQTT_CA" "$MQTTS_URI"
        check "tls with the wrong CA" 1 'certificate was rejected' -- \
                "$ex/tls" "$MQTT_WRONG_CA" "$MQTTS_URI"
else
        n=$((n + 1))
        echo "ok $n - tls # SKIP no certificates (openssl missing?)"
fi

# daemon_echo talks to mqlinkd (its path in MQLINKD, when the daemon is
# built), which this script starts next to the broker.
if [ -n "${MQLINKD:-}" ] && [ -x "$ex/daemon_echo" ]; then
        sock="$tmp/mqlinkd.sock"
        cat >"$tmp/mqlinkd.conf" <<EOC
[mqlinkd]
socket_path = $sock
[broker:test]
uri = $MQTT_URI
clean_start = yes
EOC
        "$MQLINKD" -c "$tmp/mqlinkd.conf" 2>"$tmp/mqlinkd.log" &
        dpid=$!
        i=0
        while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
                sleep 0.05
                i=$((i + 1))
        done
        check "daemon_echo through mqlinkd" 0 "^$topic/echo hello from daemon_echo \\(sid 1, broker test, QoS 1\\)\$" -- \
                "$ex/daemon_echo" -S "$sock" "$topic/echo"
        check "daemon_echo: an unknown broker is refused" 1 'SUB refused: no-broker' -- \
                "$ex/daemon_echo" -S "$sock" -b nope "$topic/echo"
        check "daemon_echo without a daemon" 1 'is mqlinkd running' -- \
                "$ex/daemon_echo" -S "$tmp/none.sock" "$topic/echo"
        kill -TERM "$dpid"
        wait "$dpid"
        result "mqlinkd exits 0 on SIGTERM" "$([ $? = 0 ] && echo 1)"
else
        n=$((n + 1))
        echo "ok $n - daemon_echo # SKIP mqlinkd not built"
fi

echo "1..$n"
if [ $failed = 1 ] && [ -n "${BROKER_LOG:-}" ]; then
        echo "# ---- broker log"
        tail -n 60 "$BROKER_LOG" | sed 's/^/# /'
fi
exit $failed
