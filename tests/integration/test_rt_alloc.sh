#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# No allocation on the RT thread.  rt_alloc_guard.so (LD_PRELOAD) counts
# malloc-family calls made inside the JACK process callback.  First it is
# shown to work: a client that allocates in its callback is flagged, one
# that does not is not, and RT_ALLOC_GUARD_ABORT=1 aborts.  Then the daemon
# runs under it with audio, meter and state subscribers, the transport, two
# takes and an OSC burst load: cycles must be > 0 and violations 0.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE" "$RTL_BAD_CLIENT" "$RT_ALLOC_GUARD"
start_jackd

# guard_report FILE: "CYCLES VIOLATIONS" from the guard's exit line.
guard_report() {
  sed -n 's/^rt_alloc_guard: \([0-9]*\) cycles, \([0-9]*\) allocations in the process callback$/\1 \2/p' "$1" | tail -n 1
}

timeout 60 env LD_PRELOAD="$RT_ALLOC_GUARD" "$RTL_BAD_CLIENT" -s "$JACK_SERVER" -c 50 >"$TMP/bad.out" 2>&1 ||
  fail "rtl-bad-client failed: $(cat "$TMP/bad.out")"
set -- $(guard_report "$TMP/bad.out")
[ $# -eq 2 ] || fail "no guard report from rtl-bad-client: $(cat "$TMP/bad.out")"
fcheck "c >= 50 && v >= 50" "guard on an allocating client: $1 cycles, $2 violations (expected >= 50 each)" -v c="$1" -v v="$2"
pass "negative test: an allocating client is flagged ($1 cycles, $2 violations)"

timeout 60 env LD_PRELOAD="$RT_ALLOC_GUARD" "$RTL_BAD_CLIENT" -s "$JACK_SERVER" -c 50 -g >"$TMP/good.out" 2>&1 ||
  fail "rtl-bad-client -g failed: $(cat "$TMP/good.out")"
set -- $(guard_report "$TMP/good.out")
fcheck "c >= 50 && v == 0" "guard on a well-behaved client: $1 cycles, $2 violations" -v c="$1" -v v="$2"
pass "a client that does not allocate is not flagged ($1 cycles)"

timeout 60 env RT_ALLOC_GUARD_ABORT=1 LD_PRELOAD="$RT_ALLOC_GUARD" "$RTL_BAD_CLIENT" -s "$JACK_SERVER" \
  >"$TMP/abort.out" 2>&1
rc=$?
expect_eq "$rc" 134 "exit status of an allocating client under RT_ALLOC_GUARD_ABORT=1 (SIGABRT)"
pass "RT_ALLOC_GUARD_ABORT=1 aborts"

# The daemon, under load, recording both kinds of take meanwhile.
mkdir -p "$TMP/rec"
DAEMON_ENV=(LD_PRELOAD="$RT_ALLOC_GUARD")
start_daemon -i 4 --record-dir "$TMP/rec"
start_player "$DAEMON_NAME:in_1=sine:1000:0.5" "$DAEMON_NAME:in_2=sine:440:0.3"
timeout 60 "$RTL_OSC" -p "$OSC_PORT" -n 0 -q /subscribe si meters 100 /subscribe s state @listen 6 \
  /unsubscribe s meters /unsubscribe s state >/dev/null 2>&1 &
PIDS+=($!)
timeout 60 "$RTL_OSC" -p "$OSC_PORT" -n 0 -q /subscribe si meters 30 @listen 6 /unsubscribe s meters >/dev/null 2>&1 &
PIDS+=($!)
set_ok /transport/bpm f 180 /transport/start /record/start ss mix.wav mix /record/start ss inputs.wav inputs
load=()
for k in $(seq 0 99); do
  load+=(/ch/$((k % 4 + 1))/gain f "-$((k % 30))" /ch/$((k % 4 + 1))/pan f "0.$((k % 10))"
    /ch/$((k % 4 + 1))/mute i $((k % 2)) /master/gain f "-$((k % 7))" /get s /ch/1/gain)
done
# About 4 s of load, while the subscribers above are being served.
for round in $(seq 8); do
  osc -n 0 -t 200 -q "${load[@]}" @burst 2000 /ch/3/solo i 1 @burst 2000 /ch/3/solo i 0 \
    /status /list @bundle +0.05 /ch/1/gain f -3 /ch/2/gain f -4 @end \
    /transport/pause /transport/start /transport/bpm f $((60 + round * 20)) @garbage 50 @listen 0.3 >/dev/null
done
set_ok /transport/stop /transport/reset
out=$(osc -t 10000 -n 0 /record/stop @wait "/record/stopped shi inputs.wav *" @listen 0.3)
printf '%s\n' "$out" | grep -q '^/record/stopped shi mix.wav [1-9][0-9]* ' || fail "no mix take under load: $out"
sleep 1
expect_eq "$(osc /ping)" "/pong" "daemon alive after the load"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status under the guard"
set -- $(guard_report "$DAEMON_ERR")
[ $# -eq 2 ] || fail "no guard report in the daemon's stderr (did it exit through exit()?)"
grep 'called in the process callback' "$DAEMON_ERR" | head -n 5 | sed 's/^/#   /'
fcheck "c > 0" "the guard saw no process cycles in the daemon: it cannot have checked anything" -v c="$1"
expect_eq "$2" 0 "allocations in the daemon's process callback over $1 cycles"
pass "daemon: $1 cycles, 0 allocations in the process callback"
