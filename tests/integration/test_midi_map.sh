#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# /midi/map i:cc s:address: a control change on midi_in moves the mapped
# parameter, its value 0..127 spanning the parameter's range (switches: 64
# and up is on), and /get, /state follow it; /midi/map i:cc s:"" unmaps
# it.  A setting made after a CC wins over it.  Bad CC numbers, unknown
# addresses and channels, and wrong argument types get /error.  In direct
# mode the audio thread applies the CC, in write-ahead mode the worker.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wa_lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_MIDI"
start_jackd 48000 256

# cc NUM:VAL...: sends control changes into midi_in, one per period, and
# listens on midi_out, which passes midi_in on (L later in write-ahead
# mode).  A control change in a cycle the daemon's client skipped never
# reaches the daemon, so unless every one came back the sequence is sent
# again: the values are state, and sending them twice changes nothing.
cc() {
  local args=() c out try
  for c in "$@"; do args+=(-c "$c"); done
  for try in 1 2 3 4 5; do
    out=$(midi_run -N rtl-cc-$$ -o "$DAEMON_NAME:midi_in" -i "$DAEMON_NAME:midi_out" -w 0.05 "${args[@]}") ||
      fail "rtl-midi ${args[*]}: $out"
    if [ "$(kv "$out" "cc sent" returned)" = $# ]; then
      return 0
    fi
    log "control changes $*: not all came back through the daemon (server had xruns), sending them again"
  done
  fail "control changes $*: server too loaded (the daemon missed some in 5 tries)"
}

# expect_value ADDRESS VALUE WHAT: /get shows VALUE within 3 s (the control
# thread hears of a CC a little after the mixer applied it).
expect_value() {
  local got i
  for i in $(seq 60); do
    got=$(get_value "$1")
    [ "$got" = "$2" ] && return 0
    sleep 0.05
  done
  fail "$3: /get $1 is '$got', expected '$2'"
}

for mode in wa direct; do
  if [ $mode = wa ]; then
    start_daemon -i 2 -l 50
  else
    start_daemon -i 2
  fi

  set_ok /midi/map is 7 /ch/1/gain /midi/map is 8 /ch/2/mute /midi/map is 9 /transport/bpm \
    /midi/map is 10 /ch/1/pan /midi/map is 11 /master/gain
  cc 7:127 8:127 9:127 10:0 11:0
  expect_value /ch/1/gain 12 "$mode: CC 7 = 127 on /ch/1/gain"
  expect_value /ch/2/mute 1 "$mode: CC 8 = 127 on /ch/2/mute"
  expect_value /transport/bpm 300 "$mode: CC 9 = 127 on /transport/bpm"
  expect_value /ch/1/pan -1 "$mode: CC 10 = 0 on /ch/1/pan"
  expect_value /master/gain -90 "$mode: CC 11 = 0 on /master/gain"
  cc 7:0 8:63 9:0 10:127
  expect_value /ch/1/gain -90 "$mode: CC 7 = 0"
  expect_value /ch/2/mute 0 "$mode: CC 8 = 63 (below 64: off)"
  expect_value /transport/bpm 20 "$mode: CC 9 = 0"
  expect_value /ch/1/pan 1 "$mode: CC 10 = 127"
  # The last of several CCs in a row is what stays.
  cc 7:10 7:100 7:64
  expect_value /ch/1/gain -38.5984 "$mode: CC 7 = 64 after 10 and 100 (-90 + 102 * 64 / 127)"
  pass "$mode: CCs move their parameters over the whole range, /get follows"

  # A setting made after a CC wins; a CC after the setting wins again.
  set_ok /ch/1/gain f -3
  expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -3" "$mode: /ch/1/gain set after a CC"
  sleep 0.3
  expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -3" "$mode: /ch/1/gain a while after the setting"
  cc 7:127
  expect_value /ch/1/gain 12 "$mode: CC after a setting"
  pass "$mode: settings and CCs take turns, the latest wins"

  # State subscribers hear of CC changes like of any other.
  cc 8:127
  expect_value /ch/2/mute 1 "$mode: CC 8 = 127"
  out=$( {
    osc -n 0 -t 5000 /subscribe s state @wait "/state si /ch/2/mute 0" /unsubscribe s state &
    sleep 0.4
    cc 8:0
    wait
  } 2>&1)
  expect_line "$out" "/state si /ch/2/mute 0" "$mode: /state after a CC"
  pass "$mode: /state reports parameters moved by CCs"

  # Unmapped: the CC no longer moves it.
  set_ok /midi/map is 7 "" /ch/1/gain f -6
  cc 7:0 7:127
  sleep 0.3
  expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -6" "$mode: /ch/1/gain after CC 7 was unmapped"
  # Remapped elsewhere: the new target moves, the old one stays.
  set_ok /midi/map is 7 /ch/2/gain
  cc 7:127
  expect_value /ch/2/gain 12 "$mode: CC 7 remapped to /ch/2/gain"
  expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -6" "$mode: /ch/1/gain after CC 7 went to /ch/2/gain"
  pass "$mode: unmapping stops a CC, remapping moves it"

  # Bad requests change nothing.
  for bad in "is 128 /ch/1/gain" "is -1 /ch/1/gain" "is 7 /nope" "is 7 /ch/3/gain" "is 7 /ch/0/gain" \
    "is 7 /ch/1" "si /ch/1/gain 7" "i 7" "s /ch/1/gain" "fs nan /ch/1/gain" "ds 128 /ch/1/gain" "ss 7 /ch/1/gain" "iss 7 /ch/1/gain x" "-"; do
    out=$(osc /midi/map $bad)
    expect_error "$out" /midi/map "/midi/map $bad"
  done
  out=$(osc /midi/map is 7 "/$(printf 'x%.0s' $(seq 300))")
  expect_error "$out" /midi/map "/midi/map with a 300-byte address"
  cc 7:0
  expect_value /ch/2/gain -90 "$mode: CC 7 still on /ch/2/gain after the refused requests"
  pass "$mode: bad CC numbers, addresses, channels and types get /error and change nothing"

  stop_daemon TERM
  expect_eq "$STOP_STATUS" 0 "daemon exit status ($mode)"
done

start_daemon -i 1
out=$(osc -u /list.reply -t 5000 /list) || fail "/list: no closing /list.reply: $out"
for a in "/midi/map is" "/latency " "/latency/set f"; do
  printf '%s\n' "$out" | grep -q "^/list.reply sss $a" || fail "/list does not describe ${a% *}: $out"
done
pass "/list describes /midi/map, /latency and /latency/set"
