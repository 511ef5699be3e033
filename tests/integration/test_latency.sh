#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Latency reported to the graph.  With -l 50 the outputs' capture latency
# and the inputs' playback latency are L = 50 ms in frames at 44.1, 48 and
# 96 kHz (2205, 2400, 4800), plus whatever the ports connected to them add
# (min of mins, max of maxes); MIDI likewise.  Direct mode adds nothing.
# /latency answers L in frames and ms, /status carries it, and /latency/set
# re-declares a new L to the graph, after which the measured delay follows.
# Bad /latency/set values, and /latency/set in direct mode, get /error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wa_lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_DELAY"

# check_ports L CAP PLAY WHAT: out_L/out_R capture latency CAP + L,
# in_1/in_2 playback latency PLAY + L, the unconnected MIDI ports L (capture
# on midi_out, playback on midi_in), click 0.
check_ports() {
  local L=$1 cap=$2 play=$3 what=$4 p
  for p in out_L out_R; do
    expect_port_latency "$DAEMON_NAME:$p" capture "$((cap + L)) $((cap + L))" "$what"
  done
  for p in in_1 in_2; do
    expect_port_latency "$DAEMON_NAME:$p" playback "$((play + L)) $((play + L))" "$what"
  done
  expect_port_latency "$DAEMON_NAME:midi_out" capture "$L $L" "$what"
  expect_port_latency "$DAEMON_NAME:midi_in" playback "$L $L" "$what"
  expect_port_latency "$DAEMON_NAME:click" capture "0 0" "$what"
}

for rate in 44100 48000 96000; do
  start_jackd "$rate" 256
  L=$((rate * 50 / 1000))
  start_daemon -i 2 -l 50
  check_ports "$L" 0 0 "-l 50 at $rate Hz, nothing connected"
  expect_eq "$(osc /latency)" "/latency.reply if $L 50" "/latency at $rate Hz"
  expect_eq "$(status_value 4)" "$L" "/status latency_frames at $rate Hz"
  pass "-l 50 at $rate Hz: L = $L frames on the ports, in /latency and /status"

  # Connected to the dummy backend's ports, whose own latencies add on.
  cap_sys=$(port_latency system:capture_1 capture)
  play_sys=$(port_latency system:playback_1 playback)
  set -- $cap_sys
  cap=$1
  set -- $play_sys
  play=$1
  jack_connect -s "$JACK_SERVER" system:capture_1 "$DAEMON_NAME:in_1" || fail "jack_connect capture"
  jack_connect -s "$JACK_SERVER" system:capture_2 "$DAEMON_NAME:in_2" || fail "jack_connect capture"
  jack_connect -s "$JACK_SERVER" "$DAEMON_NAME:out_L" system:playback_1 || fail "jack_connect playback"
  jack_connect -s "$JACK_SERVER" "$DAEMON_NAME:out_R" system:playback_2 || fail "jack_connect playback"
  check_ports "$L" "$cap" "$play" "-l 50 at $rate Hz, connected to system ports (capture $cap, playback $play)"
  pass "-l 50 at $rate Hz: the connected ports' latencies plus L ($((cap + L)), $((play + L)))"
  stop_daemon TERM
  expect_eq "$STOP_STATUS" 0 "daemon exit status"
  stop_pid "$JACKD_PID"
done

# Direct mode: the latencies pass through unchanged.
start_jackd 48000 256
start_daemon -i 2
check_ports 0 0 0 "direct mode"
expect_eq "$(osc /latency)" "/latency.reply if 0 0" "/latency in direct mode"
out=$(osc /latency/set f 20)
expect_error "$out" /latency/set "/latency/set in direct mode"
check_ports 0 0 0 "direct mode after a refused /latency/set"
pass "direct mode adds no latency; /latency/set there is an error"
stop_daemon TERM

# /latency/set: the graph hears the new L, and the measured delay follows.
start_daemon -i 2 -l 50
set_ok /ch/1/gain f 0 /ch/1/pan f -1 /master/gain f 0
for bad in "f 0" "f -5" "f 2500" "f 1500" "i 0" "d nan" "h 2000" "s 100" "ff 10 20" "-"; do
  out=$(osc /latency/set $bad)
  expect_error "$out" /latency/set "/latency/set $bad"
done
check_ports 2400 0 0 "after refused /latency/set values"
expect_eq "$(osc /latency)" "/latency.reply if 2400 50" "/latency after refused values"
pass "/latency/set refuses 0, negative, over 2000 ms, beyond the capacity, and wrong types"

for ms in 100 35 50; do
  L=$((48 * ms))
  set_ok /latency/set f "$ms"
  expect_eq "$(osc /latency)" "/latency.reply if $L $ms" "/latency after /latency/set $ms"
  check_ports "$L" 0 0 "after /latency/set $ms"
  expect_eq "$(status_value 4)" "$L" "/status latency_frames after /latency/set $ms"
  # The engine splices the new delay in within a few periods.
  sleep 0.3
  delay_check "$L" 2 "measured delay after /latency/set $ms" -P "$DAEMON_NAME:in_1" -C "$DAEMON_NAME:out_L" -S 0.5 -R 6 -G 0.2
  pass "/latency/set $ms: the graph sees $L frames and the output is delayed by exactly $L"
done
expect_eq "$(status_value 6)" 0 "underruns after the latency changes"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status"
