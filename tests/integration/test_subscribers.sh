#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Meter subscribers: each gets its own rate (counted over 3 s with generous
# bounds), the default is 30 Hz, /unsubscribe stops the flow, and meters
# decay to -inf after the input stops instead of sticking.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE"
start_jackd
start_daemon -i 2
start_player "$DAEMON_NAME:in_1=sine:1000:0.5"

# Three subscribers at once, each on its own socket.
for spec in "a 10" "b 50" "c default"; do
  set -- $spec
  if [ "$2" = default ]; then sub=(/subscribe s meters); else sub=(/subscribe si meters "$2"); fi
  timeout 30 "$RTL_OSC" -p "$OSC_PORT" -n 0 "${sub[@]}" @listen 0.5 @mark counting @listen 3 \
    /unsubscribe s meters >"$TMP/sub-$1.out" 2>&1 &
  PIDS+=($!)
  eval "pid_$1=$!"
done
for s in a b c; do
  eval "wait \$pid_$s" || fail "subscriber $s failed: $(cat "$TMP/sub-$s.out")"
done
count() { sed -n '/^counting$/,$p' "$TMP/sub-$1.out" | grep -c '^/meters '; }
na=$(count a)
nb=$(count b)
nc=$(count c)
log "meters in 3 s: 10 Hz -> $na, 50 Hz -> $nb, default -> $nc"
fcheck "n >= 15 && n <= 45" "10 Hz subscriber got $na messages in 3 s (expected about 30)" -v n="$na"
fcheck "n >= 75 && n <= 225" "50 Hz subscriber got $nb messages in 3 s (expected about 150)" -v n="$nb"
fcheck "n >= 45 && n <= 135" "default-rate subscriber got $nc messages in 3 s (expected about 90)" -v n="$nc"
fcheck "b > 2 * a" "the 50 Hz subscriber ($nb) does not get clearly more than the 10 Hz one ($na)" -v a="$na" -v b="$nb"
# A graph that stalls longer than the meters' hold (the server waiting for
# a late client on a loaded machine) reads as silence meanwhile: judge the
# latest live reading, and that such readings are the rare exception.
last=$(grep '^/meters ' "$TMP/sub-a.out" | awk '$3 != "-inf"' | tail -n 1)
[ -n "$last" ] || fail "subscriber a never got a live in_1 reading: $(cat "$TMP/sub-a.out")"
near "$(field "$last" 3)" -6.0206 0.5 "in_1 meter of subscriber a"
silent=$(sed -n '/^counting$/,$p' "$TMP/sub-a.out" | grep '^/meters ' | awk '$3 == "-inf"' | wc -l)
fcheck "s * 5 <= n" "subscriber a: $silent of $na readings of in_1 were silence while it played" -v s="$silent" -v n="$na"
pass "per-subscriber meter rates"

# A rate change by subscribing again replaces the old rate (no duplicate).
out=$(osc -n 0 /subscribe si meters 50 @listen 0.5 /subscribe si meters 10 @listen 0.3 @mark counting \
  @listen 2 /unsubscribe s meters)
n=$(printf '%s\n' "$out" | sed -n '/^counting$/,$p' | grep -c '^/meters ')
fcheck "n >= 10 && n <= 30" "after re-subscribing at 10 Hz: $n messages in 2 s (expected about 20)" -v n="$n"
pass "re-subscribing changes the rate ($n in 2 s)"

# /unsubscribe stops them.
out=$(osc -n 0 /subscribe si meters 20 @listen 1 /unsubscribe s meters /sync i 1 @wait "/synced i 1" \
  @listen 0.2 @mark after @listen 1.5)
before=$(printf '%s\n' "$out" | sed '/^after$/,$d' | grep -c '^/meters ')
after=$(printf '%s\n' "$out" | sed -n '/^after$/,$p' | grep -c '^/meters ')
fcheck "n >= 5" "only $before meters before /unsubscribe" -v n="$before"
expect_eq "$after" 0 "meters 0.2 s after /unsubscribe"
pass "unsubscribe stops the meters ($before before, $after after)"

# Decay: the input stops (the player goes away), the levels fall to -inf.
out=$(osc -n 0 /subscribe si meters 20 @listen 0.5 /unsubscribe s meters)
expect_no_line "$(printf '%s\n' "$out" | grep '^/meters' | tail -n 1)" "^/meters ffff -inf" "in_1 meter while playing"
timeout 30 "$RTL_OSC" -p "$OSC_PORT" -n 0 -t 15000 /subscribe si meters 20 @listen 0.3 @mark stopped \
  @wait "/meters ffff -inf -inf -inf -inf" @mark silent @listen 1 /unsubscribe s meters >"$TMP/decay.out" 2>&1 &
dec=$!
PIDS+=("$dec")
sleep 0.3
stop_player
wait "$dec"
rc=$?
log "decay: $(sed -n '/^stopped$/,$p' "$TMP/decay.out" | grep -c '^/meters ') reports until all -inf"
[ $rc -eq 0 ] || fail "meters never all reached -inf after the input stopped; last: $(grep '^/meters' "$TMP/decay.out" | tail -n 2)"
stuck=$(sed -n '/^silent$/,$p' "$TMP/decay.out" | grep '^/meters ' | grep -vc '^/meters ffff -inf -inf -inf -inf$')
expect_eq "$stuck" 0 "meter reports that were not -inf after silence was reached"
pass "meters decay to -inf and stay there"
