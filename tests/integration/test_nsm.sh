#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Under a session manager (NSM_URL), against rtl-nsmd, a minimal server of
# the NSM API: rtlane announces itself, takes its JACK client name and its
# files' directory from /nsm/client/open, answers it once JACK runs, saves
# on /nsm/client/save into that directory, does not save on SIGTERM (the
# manager's abort), reads the state back in the next session, and records
# into the session.  A refused announce ends the start with one line.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_NSMD"
start_jackd

ID=rtlane.nTEST
DIR=$TMP/session/$ID
mkdir -p "$TMP/session"

# nsmd [ARGS...]: rtl-nsmd in the background on a free port; NSMD_PID, NSMD_OUT.
nsmd() {
  NSM_PORT=$(free_port 7)
  NSMD_OUT=$TMP/nsmd-$NSM_PORT.out
  timeout 60 "$RTL_NSMD" -p "$NSM_PORT" -d "$DIR" -c "$ID" -n "test session" "$@" >"$NSMD_OUT" 2>&1 &
  NSMD_PID=$!
  PIDS+=("$NSMD_PID")
  for i in $(seq 100); do
    grep -q '^listening' "$NSMD_OUT" && return 0
    sleep 0.05
  done
  fail "rtl-nsmd did not start: $(cat "$NSMD_OUT")"
}

nsmd -w 2
DAEMON_ENV=(NSM_URL="osc.udp://127.0.0.1:$NSM_PORT/")
start_daemon -i 2
DAEMON_ENV=()
read -r word name caps exe major minor pid < <(grep '^announce' "$NSMD_OUT")
expect_eq "$name $caps $major.$minor" "rtlane : 1.1" "the announce"
expect_eq "$pid" "$DAEMON_PID" "the pid in the announce"
grep -qx 'reply /nsm/client/open rtlane is ready' "$NSMD_OUT" || fail "no /reply to the open: $(cat "$NSMD_OUT")"
jack_lsp -s "$JACK_SERVER" | grep -qx "$ID:out_L" || fail "no JACK client named $ID: $(jack_lsp -s "$JACK_SERVER")"
[ -d "$DIR" ] || fail "the session directory $DIR was not made"
pass "announce, open: the client id is the JACK client name, the path the session's directory"

set_ok /ch/1/gain f -4.5 /midi/map is 9 /ch/2/gain
wait "$NSMD_PID" || fail "rtl-nsmd: $(cat "$NSMD_OUT")"
grep -qx 'reply /nsm/client/save saved' "$NSMD_OUT" || fail "no /reply to the save: $(cat "$NSMD_OUT")"
grep -qx '/ch/1/gain f -4.5' "$DIR/rtlane.state" || fail "the save did not keep /ch/1/gain: $(cat "$DIR/rtlane.state")"
grep -qx '/midi/map is 9 /ch/2/gain' "$DIR/rtlane.state" || fail "the save did not keep the CC map"
pass "/nsm/client/save writes the state into the session's directory and answers /reply"

out=$(osc -t 10000 -n 0 /record/start s take.wav @wait "/record/started *" @listen 0.3 /record/stop @wait "/record/stopped *") ||
  fail "a take under NSM: $out"
[ -f "$DIR/take.wav" ] || fail "the take is not in the session's directory"
set_ok /ch/1/gain f -9
sum=$(md5sum <"$DIR/rtlane.state")
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status on SIGTERM"
expect_eq "$(md5sum <"$DIR/rtlane.state")" "$sum" "the state file after SIGTERM (the manager's abort)"
pass "takes go into the session; SIGTERM does not save over the session's state"

nsmd -w 0.2
DAEMON_ENV=(NSM_URL="osc.udp://127.0.0.1:$NSM_PORT/")
start_daemon -i 2
DAEMON_ENV=()
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -4.5" "/ch/1/gain in the session opened again"
wait "$NSMD_PID" || fail "rtl-nsmd: $(cat "$NSMD_OUT")"
stop_daemon TERM
pass "the next session starts with the saved state"

nsmd -r
NSM_URL="osc.udp://127.0.0.1:$NSM_PORT/" timeout 30 "$RTLANE" -s "$JACK_SERVER" -p "$(free_port 3)" >"$TMP/refused.out" 2>&1
rc=$?
expect_eq "$rc" 1 "exit status when the manager refuses the announce"
grep -q 'refused the announce (-3): refused by rtl-nsmd -r' "$TMP/refused.out" || fail "no reason given: $(cat "$TMP/refused.out")"
pass "a refused announce ends the start with exit status 1 and the manager's reason"
