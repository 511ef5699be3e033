#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# /sync is an ordering barrier: /synced comes back only after every earlier
# command is applied, and after the replies to every earlier request from
# the same socket.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd
start_daemon -i 8

# A batch of sets, interleaved with requests that reply (/get, /ping, a bad
# request), then /sync: all from one socket, in one run.
batch=()
for ch in $(seq 8); do
  batch+=(/ch/$ch/gain f "-$ch.5" /ch/$ch/pan f "0.$ch" /ch/$ch/mute i $((ch % 2)) /ch/$ch/solo i 0)
done
batch+=(/master/gain f -2.5 /transport/bpm f 97 /get s /ch/3/gain /ping /ch/9/gain f 0 /get s /master/gain)
out=$(osc -n 0 -t 5000 "${batch[@]}" /sync i 42 @wait "/synced i 42") || fail "no /synced 42: $out"
log "replies:"
printf '%s\n' "$out" | sed 's/^/#   /'
expect_eq "$(printf '%s\n' "$out" | tail -n 1)" "/synced i 42" "the last reply"
expect_line "$out" "/ch/3/gain f -3.5" "/get in the batch sees the earlier set"
expect_line "$out" "/master/gain f -2.5" "/get in the batch sees the earlier set"
expect_line "$out" "/pong" "/ping in the batch"
expect_error "$out" /ch/9/gain "unknown channel in the batch"
expect_eq "$(printf '%s\n' "$out" | wc -l)" 5 "number of replies to the batch"
pass "/synced comes after every earlier reply"

for ch in $(seq 8); do
  expect_eq "$(get /ch/$ch/gain)" "/ch/$ch/gain f -$ch.5" "/get after /synced"
  expect_eq "$(get /ch/$ch/pan)" "/ch/$ch/pan f 0.$ch" "/get after /synced"
  expect_eq "$(get /ch/$ch/mute)" "/ch/$ch/mute i $((ch % 2))" "/get after /synced"
done
expect_eq "$(get /transport/bpm)" "/transport/bpm f 97" "/get after /synced"
pass "every set of the batch is applied after /synced"

# Several barriers in a row come back in order, each after the replies to
# the requests before it.  (A reply to a request sent after a barrier may
# overtake that barrier's /synced: /sync orders what came before it.)
out=$(osc -n 0 -t 5000 /ch/1/gain f -1 /sync i 1 /ch/1/gain f -2 /sync i 2 /get s /ch/1/gain /sync i 3 \
  @wait "/synced i 3")
log "replies: $(printf '%s\n' "$out" | tr '\n' ' ')"
line_no() { printf '%s\n' "$out" | grep -nxF -- "$1" | head -n 1 | cut -d: -f1; }
s1=$(line_no "/synced i 1")
s2=$(line_no "/synced i 2")
s3=$(line_no "/synced i 3")
g=$(line_no "/ch/1/gain f -2")
[ -n "$s1" ] && [ -n "$s2" ] && [ -n "$s3" ] && [ -n "$g" ] || fail "missing replies: $out"
fcheck "s1 < s2 && s2 < s3 && g < s3" "barriers out of order (synced 1 at $s1, 2 at $s2, 3 at $s3, /get at $g)" \
  -v s1="$s1" -v s2="$s2" -v s3="$s3" -v g="$g"
expect_eq "$(printf '%s\n' "$out" | wc -l)" 4 "number of replies"
pass "barriers in order"

# Every command before the barrier is counted as applied once /synced
# arrives (the audio-level proof of "applied" is in test_timing).
applied0=$(field "$(osc /status)" 12)
out=$(osc -n 0 -t 5000 -u "/status.reply *" @burst 100 /ch/2/gain f -6 /sync i 77 @wait "/synced i 77" /status)
applied1=$(field "$(printf '%s\n' "$out" | grep '^/status.reply')" 12)
fcheck "b - a >= 100" "/status cmds_applied went from $applied0 to $applied1 across 100 sets and /synced" \
  -v a="$applied0" -v b="$applied1"
pass "/status counts every command applied before /synced ($applied0 -> $applied1)"
