#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Write-ahead mode (-l 50, L = 2400 frames at 48 kHz).
#
# - The output is the direct-mode output delayed by exactly L frames,
#   sample for sample: a noise whose every sample is a function of its
#   frame comes out of direct mode at delay 0 and out of write-ahead mode at
#   delay L, bit for bit (and with a gain and pan applied, equally in both).
# - An input step made at frame F is on out_L at F + L.
# - A bundle time-tagged for frame F still changes the output at exactly F
#   (the worker applies it to input frame F - L); an untimed command lands
#   L frames after the next period; the transport's first click falls on
#   its tagged frame.
# - Meters describe what is played.
# - Inserts: an RT-safe one (insert_gain) runs without -l on the audio
#   thread and with -l on the worker; one that is not RT-safe
#   (insert_stall) is refused without -l (one line, exit 2), as is a file
#   that cannot be loaded, and runs with -l.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wa_lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE" "$RTL_DELAY" "$INSERT_GAIN" "$INSERT_STALL"
start_jackd 48000 256
L=2400
P=$JACK_PERIOD

# Trials with xruns are left out (see test_timing.sh); MIN_CLEAN must pass.
MIN_CLEAN=2

UNITY=(/ch/1/gain f 0 /ch/1/pan f -1 /ch/1/mute i 0 /master/gain f 0)
MIXED=(/ch/1/gain f -6 /ch/1/pan f 0 /ch/1/mute i 0 /master/gain f -3)
# out_L gain for MIXED: 10^(-9/20) cos(pi/4)
MIXED_GAIN=$(awk 'BEGIN { printf "%.9f", 10 ^ (-9 / 20) * cos(atan2(1, 1)) }')
NOISE=(-P "$DAEMON_NAME:in_1" -C "$DAEMON_NAME:out_L")

# --- direct mode: the reference ------------------------------------------------
start_daemon -i 1
set_ok "${UNITY[@]}"
delay_check 0 2 "direct mode, unity gain" "${NOISE[@]}" -S 0.5 -R 4 -G 0.2
set_ok "${MIXED[@]}"
delay_check 0 2 "direct mode, gain -6, pan 0, master -3" "${NOISE[@]}" -S 0.5 -R 4 -G 0.2 -g "$MIXED_GAIN" -T 1e-6
pass "direct mode: out_L is in_1 at delay 0 (bit for bit at unity gain)"
stop_daemon TERM

# --- write-ahead: the same, L later -------------------------------------------
start_daemon -i 1 -l 50
expect_eq "$(osc /latency)" "/latency.reply if $L 50" "/latency"
set_ok "${UNITY[@]}"
delay_check "$L" 2 "write-ahead, unity gain" "${NOISE[@]}" -S 0.5 -R 4 -G 0.2
set_ok "${MIXED[@]}"
delay_check "$L" 2 "write-ahead, gain -6, pan 0, master -3" "${NOISE[@]}" -S 0.5 -R 4 -G 0.2 -g "$MIXED_GAIN" -T 1e-6
pass "write-ahead: out_L is the direct-mode output delayed by exactly $L frames"

set_ok "${UNITY[@]}"
STEP=(-P "$DAEMON_NAME:in_1=dc:0.5" -C "$DAEMON_NAME:out_L" -w 0.3 -T 1e-6)
run_trials step "v == l" "input step through write-ahead" "${STEP[@]}" --step=0.1 -W 0.1 -n 3
pass "an input step at frame F is on out_L at F + $L"

TOGGLES=(/ch/1/gain f -20 /ch/1/gain f 0 /ch/1/mute i 1 /ch/1/mute i 0 /master/gain f -6 /master/gain f 0)
run_trials timed "v == 0" "timed bundle in write-ahead mode" "${STEP[@]}" -p "$OSC_PORT" --timed=0.5 -W 0.1 "${TOGGLES[@]}"
pass "timed bundles change the output at exactly their frame"
run_trials untimed "v > l - p && v <= l + 2 * p" "untimed command in write-ahead mode" "${STEP[@]}" -p "$OSC_PORT" --untimed -W 0.2 "${TOGGLES[@]}"
pass "untimed commands land L after the next period"

ok=0
for attempt in $(seq 10); do
  set_ok /transport/stop /transport/reset /transport/bpm f 300
  out=$(probe -C "$DAEMON_NAME:click" -w 0.3 -T 1e-9 -W 0.45 -o 1000 -p "$OSC_PORT" --timed=0.2 /transport/start) ||
    fail "rtl-probe: $out"
  printf '%s\n' "$out" | sed 's/^/#   /'
  line=$(printf '%s\n' "$out" | grep '^timed ')
  [ "$(disturbed "$line")" = 0 ] || continue
  set -- $line
  [ "$6" != none ] || fail "no click after /transport/start"
  fcheck "e == 0 || e == 1" "first click at frame $6, /transport/start was tagged for $4" -v e="$8"
  set -- $(printf '%s\n' "$out" | grep '^onsets ')
  shift 2
  [ $# -ge 3 ] || fail "expected 3 clicks in 0.45 s at 300 bpm, got $#: $*"
  expect_eq "$(($2 - $1)) $(($3 - $2))" "9600 9600" "click spacing at 300 bpm"
  ok=1
  break
done
[ $ok = 1 ] || fail "every transport attempt had xruns: the server is too loaded to measure"
set_ok /transport/stop
pass "the first click falls on the tagged frame, then every 9600 frames"

start_player "$DAEMON_NAME:in_1=sine:1000:0.5"
set_ok /ch/1/pan f 0
meters=$(osc -n 0 /subscribe si meters 30 @listen 1.0 /unsubscribe s meters)
last=$(printf '%s\n' "$meters" | grep '^/meters ' | tail -n 1)
[ -n "$last" ] || fail "no /meters in write-ahead mode: $meters"
set -- $last
near "$3" -6.0206 0.5 "meter in_1"
near "$4" -9.0309 0.5 "meter out_L"
near "$5" -9.0309 0.5 "meter out_R"
set_ok /ch/1/mute i 1
meters=$(osc -n 0 -t 15000 /subscribe si meters 30 @wait "/meters fff * -inf -inf" /unsubscribe s meters) ||
  fail "out_L/out_R meters never reached -inf with ch1 muted: $(printf '%s\n' "$meters" | tail -n 3)"
stop_player
pass "meters: the input and what is played ($last)"
expect_eq "$(status_value 6) $(status_value 7)" "0 0" "underruns and overruns"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status"

# --- inserts ---------------------------------------------------------------------
refused() { # WHAT ARGS...: exit 2, one "rtlane: ..." line (plus the hint)
  local what=$1 rc
  shift
  timeout 20 "$RTLANE" -s "$JACK_SERVER" -p "$(free_port 7)" "$@" >"$TMP/r.out" 2>"$TMP/r.err"
  rc=$?
  expect_eq "$rc" 2 "$what: exit status"
  grep -q '^rtlane: ' "$TMP/r.err" || fail "$what: no 'rtlane: ...' line: $(cat "$TMP/r.err")"
  [ "$(grep -vc "^Try 'rtlane --help'.$" "$TMP/r.err")" = 1 ] || fail "$what: more than one line: $(cat "$TMP/r.err")"
  grep -qw ready "$TMP/r.err" && fail "$what: said ready"
  log "$what -> 2: $(head -n 1 "$TMP/r.err")"
}
refused "insert that is not RT-safe, without -l" --insert "$INSERT_STALL"
refused "insert file that does not exist" --insert "$TMP/none.so"
refused "insert file that is not a plug-in" -l 50 --insert "$RTL_OSC"
jack_lsp -s "$JACK_SERVER" | grep -q "^$DAEMON_NAME:" && fail "a refused daemon left ports behind"
pass "inserts that cannot run are refused before JACK is touched"

GAIN_DB=-6
INS_GAIN=$(awk -v d=$GAIN_DB 'BEGIN { printf "%.9f", 10 ^ (d / 20) }')
DAEMON_ENV=(RTL_INSERT_GAIN_DB=$GAIN_DB)
for mode in direct wa; do
  if [ $mode = direct ]; then
    start_daemon -i 1 --insert "$INSERT_GAIN"
    want=0
  else
    start_daemon -i 1 -l 50 --insert "$INSERT_GAIN"
    want=$L
  fi
  grep -q 'insert gain' "$DAEMON_ERR" || fail "the ready line does not name the insert: $(grep -w ready "$DAEMON_ERR")"
  set_ok "${UNITY[@]}"
  # Noise within +-0.25: after -6 dB it stays below the clipper's knee.
  delay_check "$want" 2 "insert_gain ($mode)" "${NOISE[@]}" -S 0.5 -R 4 -G 0.2 -g "$INS_GAIN" -T 1e-6
  stop_daemon TERM
  expect_eq "$STOP_STATUS" 0 "daemon exit status ($mode, insert_gain)"
done
DAEMON_ENV=()
pass "insert_gain runs after the mixer, on the audio thread without -l and on the worker with it"

start_daemon -i 1 -l 50 --insert "$INSERT_STALL"
set_ok "${UNITY[@]}"
delay_check "$L" 2 "insert_stall with -l 50" "${NOISE[@]}" -S 0.5 -R 4 -G 0.2
expect_eq "$(status_value 6)" 0 "underruns with insert_stall"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status (insert_stall)"
pass "insert_stall runs with -l 50: output exact, no underruns"
