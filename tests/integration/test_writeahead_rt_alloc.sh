#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# No allocation on the RT thread in write-ahead mode.  The daemon runs
# under rt_alloc_guard.so (see test_rt_alloc.sh, which also shows the guard
# catches an allocating client) with -l 50 and the stall insert, which
# allocates on every block, on the worker, where it may.  Under audio, MIDI
# (notes and mapped CCs), subscribers, timed bundles, transport and latency
# changes, the guard must count process cycles (> 0) and no allocation in
# them (0); then the same with the RT-safe gain insert on the audio thread
# in direct mode.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wa_lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE" "$RTL_MIDI" "$RT_ALLOC_GUARD" "$INSERT_STALL" "$INSERT_GAIN"
start_jackd

guard_report() {
  sed -n 's/^rt_alloc_guard: \([0-9]*\) cycles, \([0-9]*\) allocations in the process callback$/\1 \2/p' "$1" | tail -n 1
}

load() { # a few seconds of everything at once
  local subs notes
  timeout 60 "$RTL_OSC" -p "$OSC_PORT" -n 0 -q /subscribe si meters 100 /subscribe s state @listen 4 \
    /unsubscribe s meters /unsubscribe s state >/dev/null 2>&1 &
  subs=$!
  PIDS+=($subs)
  set_ok /midi/map is 7 /ch/1/gain /midi/map is 8 /ch/2/mute /transport/bpm f 180 /transport/start
  midi_run -N rtl-notes-$$ -o "$DAEMON_NAME:midi_in" -i "$DAEMON_NAME:midi_out" -n 32 -g 20 >/dev/null 2>&1 &
  notes=$!
  PIDS+=($notes)
  midi_run -N rtl-cc-$$ -o "$DAEMON_NAME:midi_in" -c 7:10 -c 7:100 -c 8:127 -c 8:0 -c 7:64 >/dev/null ||
    fail "rtl-midi --cc failed"
  local round
  for round in 1 2 3 4; do
    osc -n 0 -t 200 -q /ch/1/gain f -3 /ch/2/pan f 0.5 /master/gain f -1 @burst 500 /ch/1/mute i 1 \
      @burst 500 /ch/1/mute i 0 /status /latency /list @bundle +0.05 /ch/1/gain f -6 /ch/2/gain f -4 @end \
      /transport/pause /transport/start @listen 0.3 >/dev/null
  done
  set_ok /transport/stop /transport/reset
  wait "$subs" "$notes"
}

for mode in wa direct; do
  DAEMON_ENV=(LD_PRELOAD="$RT_ALLOC_GUARD")
  if [ $mode = wa ]; then
    start_daemon -i 2 -l 50 --insert "$INSERT_STALL"
  else
    start_daemon -i 2 --insert "$INSERT_GAIN"
  fi
  DAEMON_ENV=()
  start_player "$DAEMON_NAME:in_1=sine:1000:0.5" "$DAEMON_NAME:in_2=sine:440:0.3"
  load
  if [ $mode = wa ]; then
    set_ok /latency/set f 80
    sleep 0.5
    set_ok /latency/set f 30
    sleep 0.5
  fi
  stop_player
  expect_eq "$(osc /ping)" "/pong" "daemon alive after the load ($mode)"
  stop_daemon TERM
  expect_eq "$STOP_STATUS" 0 "daemon exit status under the guard ($mode)"
  set -- $(guard_report "$DAEMON_ERR")
  [ $# -eq 2 ] || fail "no guard report in the daemon's stderr ($mode)"
  grep 'called in the process callback' "$DAEMON_ERR" | head -n 5 | sed 's/^/#   /'
  fcheck "c > 0" "the guard saw no process cycles ($mode): it cannot have checked anything" -v c="$1"
  expect_eq "$2" 0 "allocations in the process callback over $1 cycles ($mode)"
  pass "$mode: $1 cycles, 0 allocations in the process callback"
done
