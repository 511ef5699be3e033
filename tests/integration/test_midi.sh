#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# MIDI through the daemon.  Notes sent into midi_in at known frames (each
# at a different offset within its period) leave midi_out exactly L frames
# later in write-ahead mode (-l 50: 2400 frames; after /latency/set 100:
# 4800), and in the same frame in direct mode.  The worker's mixer sees the
# MIDI at its frame too: a control change mapped to /ch/1/mute at frame F
# starts the mute ramp on out_L at exactly F + L (F in direct mode).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wa_lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE" "$RTL_MIDI"
start_jackd 48000 256
NOTES=(-o "$DAEMON_NAME:midi_in" -i "$DAEMON_NAME:midi_out" -n 8 -g 30)

# cc_step DELAY WHAT: with a DC on in_1 and CC 20 mapped to /ch/1/mute,
# CC 20 = 127 sent at frame F changes out_L first at F + DELAY.
cc_step() {
  local want=$1 what=$2 run cap midi pid f sent x1 x2 first
  # Up to 16 runs: each capture spans 1.2 s, and without real-time
  # scheduling the dummy backend reports an xrun in many such windows.
  for run in $(seq 16); do
    set_ok /ch/1/mute i 0
    probe -P "$DAEMON_NAME:in_1=dc:0.5" -C "$DAEMON_NAME:out_L" -w 0.3 -S 1.2 -T 1e-6 >"$TMP/cap.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    sleep 0.6
    midi=$(midi_run -N rtl-cc-$$ -o "$DAEMON_NAME:midi_in" -c 20:127 -w 0.05) || fail "rtl-midi --cc: $midi"
    wait "$pid" || fail "rtl-probe: $(cat "$TMP/cap.out")"
    cap=$(cat "$TMP/cap.out")
    printf '%s\n%s\n' "$midi" "$cap" | sed 's/^/#   /'
    x1=$(kv "$midi" "cc sent" "$JUDGE_BY")
    x2=$(kv "$cap" start_frame "$JUDGE_BY")
    if [ "$x1" != 0 ] || [ "$x2" != 0 ]; then
      log "$what: run $run had xruns, left out"
      continue
    fi
    # On PipeWire a connection takes effect a while after jack_connect
    # returns: a capture that began before the DC reached out_L sees that
    # arrival as a change, and proves nothing about the CC.
    first=$(level "$cap" out_L first)
    if awk -v v="$first" 'BEGIN { exit !(v < 0.25) }'; then
      log "$what: run $run began before the DC reached out_L (first sample $first), left out"
      continue
    fi
    sent=$(printf '%s\n' "$midi" | awk '$1 == "cc" && $3 == "number" { print $8 }')
    f=$(level "$cap" out_L change_frame)
    [ "$f" != none ] && [ -n "$f" ] || fail "$what: out_L never changed after CC 20 = 127 at frame $sent"
    expect_eq "$((f - sent))" "$want" "$what: out_L changed at frame $f, CC sent at $sent; delay"
    return 0
  done
  fail "$what: every run had xruns or began before the signal arrived: the server is too loaded to measure"
}

# --- write-ahead -------------------------------------------------------------------
start_daemon -i 1 -l 50
set_ok /ch/1/gain f 0 /ch/1/pan f -1 /master/gain f 0 /midi/map is 20 /ch/1/mute
check_midi_delay 2400 "notes through -l 50" "${NOTES[@]}"
pass "notes leave midi_out exactly 2400 frames after they entered midi_in"
cc_step 2400 "mapped CC through -l 50"
pass "a mapped CC moves its parameter at its frame + L"

set_ok /latency/set f 100
sleep 0.3
check_midi_delay 4800 "notes after /latency/set 100" "${NOTES[@]}"
cc_step 4800 "mapped CC after /latency/set 100"
pass "after /latency/set 100 MIDI follows the new L (4800 frames)"
expect_eq "$(status_value 6)" 0 "underruns"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status"

# --- direct mode ---------------------------------------------------------------------
start_daemon -i 1
set_ok /ch/1/gain f 0 /ch/1/pan f -1 /master/gain f 0 /midi/map is 20 /ch/1/mute
check_midi_delay 0 "notes in direct mode" "${NOTES[@]}"
cc_step 0 "mapped CC in direct mode"
pass "direct mode: MIDI passes in the same frame, a mapped CC acts at its frame"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status"
