#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Every OSC address: the happy path, then each kind of bad input (wrong type,
# wrong count, out of range, unknown channel, unknown address, oversized
# string) gets /error naming the request and leaves the state unchanged.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd
start_daemon -i 2

# --- happy paths ----------------------------------------------------------------

expect_eq "$(osc /ping)" "/pong" "/ping"
expect_eq "$(osc /sync i 7)" "/synced i 7" "/sync"
expect_eq "$(osc /sync i -3)" "/synced i -3" "/sync with a negative id"

status=$(osc /status) || fail "/status: no reply"
set -- $status
expect_eq "$1" "/status.reply" "/status reply path"
expect_eq "$2" "siiiiiihfiii" "/status reply types"
expect_eq "$3" "rtlane" "/status name"
expect_eq "$4" "$JACK_RATE" "/status rate"
expect_eq "$5" "$JACK_PERIOD" "/status period"
expect_eq "$6" 0 "/status latency_frames without write-ahead"
fcheck "f > 0" "/status frames must advance" -v f="${10}"
sleep 0.05 # ten periods: two requests inside one period see the same count
status2=$(osc /status)
fcheck "b > a" "/status frames did not advance between two requests" -v a="${10}" -v b="$(field "$status2" 10)"
pass "/ping /sync /status"

list=$(osc -u /list.reply -t 5000 /list) || fail "/list: no closing /list.reply: $list"
expect_eq "$(printf '%s\n' "$list" | tail -n 1)" "/list.reply" "/list ends with an empty /list.reply"
n_entries=$(printf '%s\n' "$list" | grep -c '^/list.reply sss ')
n_other=$(printf '%s\n' "$list" | grep -vc '^/list.reply')
expect_eq "$n_other" 0 "/list sent something other than /list.reply"
fcheck "n >= 15" "/list has only $n_entries entries" -v n="$n_entries"
# list_types ADDRESS_REGEX: the type tags listed for the first matching address.
list_types() { printf '%s\n' "$list" | awk -v re="$1" '$1 == "/list.reply" && $3 ~ re { print $4; exit }'; }
for a in /ping /sync /list /status /master/gain /get /subscribe /unsubscribe \
  /transport/start /transport/stop /transport/pause /transport/reset /transport/bpm; do
  printf '%s\n' "$list" | awk -v a="$a" '$1 == "/list.reply" && $3 == a { f = 1 } END { exit !f }' ||
    fail "/list does not describe $a"
done
for p in gain pan mute solo; do
  printf '%s\n' "$list" | grep -q "^/list.reply sss /ch/[^ ]*/$p " || fail "/list does not describe /ch/N/$p"
done
expect_eq "$(list_types '^/ch/.*/gain$')" f "/list type tags of /ch/N/gain"
expect_eq "$(list_types '^/ch/.*/mute$')" i "/list type tags of /ch/N/mute"
expect_eq "$(list_types '^/master/gain$')" f "/list type tags of /master/gain"
expect_eq "$(list_types '^/sync$')" i "/list type tags of /sync"
pass "/list describes the address space ($n_entries entries)"

# set_and_get ADDRESS TYPE VALUE: set, then /get returns exactly that.
set_and_get() {
  local out
  out=$(osc -n 0 -t 300 "$1" "$2" "$3" /sync i 1 @wait "/synced i 1")
  expect_no_line "$out" "^/error" "$1 $2 $3"
  expect_eq "$(get "$1")" "$1 $2 $3" "/get $1 after setting $3"
}
set_and_get /ch/1/gain f -6
set_and_get /ch/2/gain f 3.5
set_and_get /ch/1/gain f 12
set_and_get /ch/1/gain f -90
set_and_get /ch/1/gain f 0
set_and_get /ch/1/pan f 0.5
set_and_get /ch/1/pan f -1
set_and_get /ch/1/pan f 1
set_and_get /ch/1/pan f 0
set_and_get /ch/2/mute i 1
set_and_get /ch/2/mute i 0
set_and_get /ch/1/solo i 1
set_and_get /ch/1/solo i 0
set_and_get /master/gain f -10
set_and_get /master/gain f 0
set_and_get /transport/bpm f 140
set_and_get /transport/bpm f 20
set_and_get /transport/bpm f 300
set_and_get /transport/bpm f 120
pass "setters and /get"

for a in /transport/start /transport/pause /transport/stop /transport/reset /transport/start /transport/stop; do
  out=$(osc -n 0 -t 300 "$a" /sync i 2 @wait "/synced i 2")
  expect_no_line "$out" "^/error" "$a"
done
pass "transport commands"

out=$(osc -n 0 /subscribe si meters 20 @listen 0.5 /unsubscribe s meters /subscribe s state /unsubscribe s state /sync i 3 @wait "/synced i 3")
expect_no_line "$out" "^/error" "/subscribe and /unsubscribe"
printf '%s\n' "$out" | grep -q '^/meters ffff ' || fail "/subscribe meters 20: no '/meters ffff ...' with 2 inputs in:
$out"
pass "/subscribe and /unsubscribe"

# --- bad input ----------------------------------------------------------------

# The state every rejection must leave alone.
snapshot() {
  local a
  for a in /ch/1/gain /ch/2/gain /ch/1/pan /ch/2/pan /ch/1/mute /ch/2/mute \
    /ch/1/solo /ch/2/solo /master/gain /transport/bpm; do
    get "$a" || echo "no reply to /get $a"
  done
}
# Distinct, non-default values make a wrong write visible.
osc -n 0 -t 300 /ch/1/gain f -7 /ch/2/gain f -8 /ch/1/pan f 0.25 /ch/2/pan f -0.25 \
  /ch/1/mute i 0 /ch/2/mute i 1 /ch/1/solo i 0 /ch/2/solo i 0 /master/gain f -3 \
  /transport/bpm f 133 /sync i 4 @wait "/synced i 4" >/dev/null || fail "setting up the state"
before=$(snapshot)
expect_line "$before" "/ch/1/gain f -7" "state before the bad requests"

n_bad=0
# rejects REQUEST_PATH ITEM...: sends the items, expects /error REQUEST_PATH.
rejects() {
  local path=$1 out
  shift
  out=$(osc -n 1 -t 3000 "$@") || fail "$*: no reply (expected /error $path)"
  expect_error "$out" "$path" "$*"
  n_bad=$((n_bad + 1))
}

# wrong type (any number, T or F is a number: test_osc_types.sh)
rejects /ch/1/gain /ch/1/gain s loud
rejects /ch/1/gain /ch/1/gain S loud
rejects /ch/1/gain /ch/1/gain c x
rejects /ch/1/gain /ch/1/gain N
rejects /ch/1/pan /ch/1/pan s left
rejects /ch/1/pan /ch/1/pan I
rejects /ch/1/mute /ch/1/mute s yes
rejects /ch/1/solo /ch/1/solo N
rejects /master/gain /master/gain s 0
rejects /transport/bpm /transport/bpm s 120
rejects /get /get i 1
rejects /get /get f 1
rejects /sync /sync s x
rejects /sync /sync N
rejects /subscribe /subscribe i 1
rejects /subscribe /subscribe ss meters 10
rejects /unsubscribe /unsubscribe i 1
# wrong count
rejects /ch/1/gain /ch/1/gain
rejects /ch/1/gain /ch/1/gain ff -6 -6
rejects /ch/1/pan /ch/1/pan ff 0 0
rejects /ch/1/mute /ch/1/mute
rejects /ch/1/mute /ch/1/mute ii 1 1
rejects /ch/1/solo /ch/1/solo ii 1 0
rejects /master/gain /master/gain
rejects /transport/bpm /transport/bpm
rejects /get /get
rejects /get /get ss /ch/1/gain /ch/2/gain
rejects /sync /sync
rejects /sync /sync ii 1 2
rejects /subscribe /subscribe
rejects /subscribe /subscribe sii meters 10 10
rejects /unsubscribe /unsubscribe
rejects /ping /ping i 1
rejects /status /status i 1
rejects /list /list s x
rejects /transport/start /transport/start i 1
# out of range
rejects /ch/1/gain /ch/1/gain f 12.01
rejects /ch/1/gain /ch/1/gain f 100
rejects /ch/1/gain /ch/1/gain f -90.01
rejects /ch/1/gain /ch/1/gain f -1000
rejects /ch/1/gain /ch/1/gain f inf
rejects /ch/1/gain /ch/1/gain f -inf
rejects /ch/1/gain /ch/1/gain f nan
rejects /ch/1/pan /ch/1/pan f 1.01
rejects /ch/1/pan /ch/1/pan f -1.5
rejects /ch/1/pan /ch/1/pan f nan
rejects /ch/1/mute /ch/1/mute i 2
rejects /ch/1/mute /ch/1/mute i -1
rejects /ch/1/mute /ch/1/mute f 1.5
rejects /ch/1/mute /ch/1/mute d -0.25
rejects /ch/1/mute /ch/1/mute f nan
rejects /ch/1/solo /ch/1/solo i 7
rejects /ch/1/solo /ch/1/solo h 2
rejects /ch/1/gain /ch/1/gain d 12.01
rejects /ch/1/gain /ch/1/gain d inf
rejects /ch/1/gain /ch/1/gain h 100
rejects /ch/1/pan /ch/1/pan i 2
rejects /transport/bpm /transport/bpm i 19
rejects /transport/bpm /transport/bpm F
rejects /sync /sync h 4294967296
rejects /sync /sync f inf
rejects /master/gain /master/gain f 12.5
rejects /master/gain /master/gain f -91
rejects /master/gain /master/gain f nan
rejects /transport/bpm /transport/bpm f 19.9
rejects /transport/bpm /transport/bpm f 300.5
rejects /transport/bpm /transport/bpm f 0
rejects /transport/bpm /transport/bpm f nan
rejects /subscribe /subscribe si meters 0
rejects /subscribe /subscribe si meters 101
rejects /subscribe /subscribe si meters -5
# unknown channel
rejects /ch/3/gain /ch/3/gain f -6
rejects /ch/0/gain /ch/0/gain f -6
rejects /ch/99/mute /ch/99/mute i 1
rejects /ch/65/pan /ch/65/pan f 0
rejects /ch/x/gain /ch/x/gain f -6
rejects /ch/-1/solo /ch/-1/solo i 1
rejects /ch/4294967297/gain /ch/4294967297/gain f -6
rejects /get /get s /ch/3/gain
rejects /get /get s /ch/0/mute
# unknown address
rejects /nope /nope
rejects /nope /nope f 1
rejects /ch/1/volume /ch/1/volume f -6
rejects /ch/1 /ch/1 f -6
rejects /ch /ch
rejects /master /master f 0
rejects /master/gain/x /master/gain/x f 0
rejects /transport/rewind /transport/rewind
rejects /get /get s /nope
rejects /get /get s ""
rejects /subscribe /subscribe s bogus
rejects /subscribe /subscribe si bogus 10
rejects /unsubscribe /unsubscribe s bogus
# oversized strings (> 255 bytes)
long=$(printf 'x%.0s' $(seq 300))
longaddr=/ch/1/$(printf 'g%.0s' $(seq 300))
rejects /get /get s "/ch/1/gain$long"
rejects /get /get s "$long"
rejects /subscribe /subscribe s "meters$long"
rejects /subscribe /subscribe si "$long" 10
rejects /unsubscribe /unsubscribe s "$long"
# An oversized address may come back truncated (the daemon's strings are
# bounded at 255 bytes): the /error must name a prefix of it.
out=$(osc -n 1 -t 3000 "$longaddr" f 0) || fail "$longaddr: no reply"
printf '%s\n' "$out" | awk -v p="$longaddr" '$1 == "/error" && length($3) >= 16 && index(p, $3) == 1 { f = 1 } END { exit !f }' ||
  fail "oversized address: expected /error naming (a prefix of) it, got: $out"
n_bad=$((n_bad + 1))
after=$(snapshot)
[ "$before" = "$after" ] || fail "state changed by rejected requests:
before:
$before
after:
$after"
pass "$n_bad bad requests each got /error and changed nothing"

# Rejections are counted.
rejected=$(field "$(osc /status)" 13)
fcheck "r >= n" "/status cmds_rejected $rejected < $n_bad rejections" -v r="$rejected" -v n="$n_bad"

# A bad message inside a bundle is rejected like a plain one.
out=$(osc -n 1 -t 3000 @bundle now /ch/1/gain f 99 @end)
expect_error "$out" /ch/1/gain "bundle with an out-of-range gain"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -7" "gain after a rejected bundled set"
pass "rejections counted ($rejected), bundled bad input rejected"
