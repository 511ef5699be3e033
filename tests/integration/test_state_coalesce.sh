#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# 200 rapid changes of one parameter give a state subscriber a handful of
# /state notifications (at least 1, at most 10), the final value last, not a
# storm of 200.  A second parameter changed in the same burst is reported
# too, and a subscriber that unsubscribed hears nothing more.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd
start_daemon -i 2
set_ok /ch/1/gain f -50 /ch/2/pan f 0

# The subscriber, on its own socket: subscribed once it has seen /synced.
timeout 30 "$RTL_OSC" -p "$OSC_PORT" -n 0 -t 5000 /subscribe s state /sync i 1 \
  @wait "/synced i 1" @mark subscribed @listen 2.5 >"$TMP/sub.out" 2>&1 &
sub=$!
PIDS+=("$sub")
for i in $(seq 100); do
  grep -q '^subscribed$' "$TMP/sub.out" && break
  sleep 0.05
done
grep -q '^subscribed$' "$TMP/sub.out" || fail "subscriber did not start: $(cat "$TMP/sub.out")"

# 200 sets of /ch/1/gain from -40 to -20.1 dB in 0.1 dB steps, plus one pan.
msgs=()
for k in $(seq 0 199); do
  msgs+=(/ch/1/gain f "$(awk -v k="$k" 'BEGIN { printf "%.1f", -40 + k * 0.1 }')")
done
out=$(osc -n 0 -t 100 "${msgs[@]}" /ch/2/pan f -0.5)
expect_no_line "$out" "^/error" "200 gain changes"
wait "$sub" || fail "subscriber failed: $(cat "$TMP/sub.out")"
notes=$(sed -n '/^subscribed$/,$p' "$TMP/sub.out" | grep '^/state ')
gain_notes=$(printf '%s\n' "$notes" | grep -c '^/state sf /ch/1/gain ')
log "$gain_notes /state notifications for 200 gain changes:"
printf '%s\n' "$notes" | sed 's/^/#   /'
fcheck "n >= 1 && n <= 10" "$gain_notes notifications for 200 changes (expected 1..10)" -v n="$gain_notes"
expect_eq "$(printf '%s\n' "$notes" | grep '^/state sf /ch/1/gain ' | tail -n 1)" "/state sf /ch/1/gain -20.1" \
  "last /state for /ch/1/gain"
expect_line "$notes" "/state sf /ch/2/pan -0.5" "/state for the pan changed in the same burst"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -20.1" "/get after the burst"
pass "200 changes -> $gain_notes notifications, final value last"

# Unsubscribed: nothing.
out=$(osc -n 0 /subscribe s state /ch/1/gain f -30 @listen 0.5 /unsubscribe s state \
  /sync i 2 @wait "/synced i 2" @mark unsubscribed /ch/1/gain f -31 @listen 1)
expect_line "$out" "/state sf /ch/1/gain -30" "subscribed: change notified"
after=$(printf '%s\n' "$out" | sed -n '/^unsubscribed$/,$p' | grep -c '^/state ')
expect_eq "$after" 0 "/state messages after /unsubscribe"
pass "unsubscribe stops /state"
