#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Write-ahead across a JACK server restart.  The daemon (-l 50, the stall
# insert, a CC mapping and a /latency/set) keeps its state while the server
# is gone; when a server of the same name comes back at another sample rate
# (96 kHz), the engine is made anew for that rate: the ports report the
# same milliseconds in the new frames (/latency/set 40 ms: 3840 frames at
# 96 kHz), the output is the input delayed by exactly that, the CC mapping
# still works, and nothing underran.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wa_lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_DELAY" "$RTL_MIDI" "$INSERT_STALL"
start_jackd 48000 256
start_daemon -i 1 -l 50 --insert "$INSERT_STALL"
set_ok /ch/1/gain f 0 /ch/1/pan f -1 /master/gain f 0 /midi/map is 7 /master/gain /latency/set f 40
expect_port_latency "$DAEMON_NAME:out_L" capture "1920 1920" "/latency/set 40 at 48 kHz"

stop_pid "$JACKD_PID"
log "jackd $JACK_SERVER stopped"
sleep 1
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited when the JACK server went away: $(cat "$DAEMON_ERR")"
expect_eq "$(osc /ping)" "/pong" "/ping with the server gone"
expect_eq "$(osc /latency)" "/latency.reply if 1920 40" "/latency with the server gone"
pass "write-ahead daemon survives the server going away"

restart_jackd 96000 256
wait_ports "$DAEMON_NAME:out_L" >/dev/null 2>&1 ||
  fail "the daemon's ports did not come back within 15 s of the server's return"
expect_port_latency "$DAEMON_NAME:out_L" capture "3840 3840" "40 ms at 96 kHz after the restart"
expect_port_latency "$DAEMON_NAME:in_1" playback "3840 3840" "40 ms at 96 kHz after the restart"
expect_eq "$(osc /latency)" "/latency.reply if 3840 40" "/latency after the restart"
expect_eq "$(status_value 2) $(status_value 4)" "96000 3840" "/status rate and latency after the restart"
pass "back at 96 kHz: 40 ms is now 3840 frames on the ports"

delay_check 3840 2 "output after the restart" -P "$DAEMON_NAME:in_1" -C "$DAEMON_NAME:out_L" -S 0.5 -R 4 -G 0.2
out=$(midi_run -N rtl-cc-$$ -o "$DAEMON_NAME:midi_in" -w 0.05 -c 7:0) || fail "rtl-midi: $out"
for i in $(seq 60); do
  [ "$(get_value /master/gain)" = -90 ] && break
  sleep 0.05
done
expect_eq "$(get /master/gain)" "/master/gain f -90" "CC 7 mapped before the restart"
expect_eq "$(status_value 6)" 0 "underruns"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status"
pass "after the restart the output is exactly 3840 frames late and the CC mapping holds"
