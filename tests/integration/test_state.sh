#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Saved state: settings survive a restart through --state; a damaged file
# is reported with its line, changes nothing and is not saved over; SIGHUP
# reads the file again; /save and /load name files in the state directory
# only, and /load applies a file whole or not at all.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd

ST=$TMP/st
mkdir -p "$ST" "$TMP/outside"
STATE=$ST/rtlane.state

start_daemon -i 2 -l 50 --state "$STATE"
grep -q "state file $STATE does not exist yet" "$DAEMON_ERR" || fail "no word about the missing state file"
set_ok /ch/1/gain f -6.5 /ch/2/mute i 1 /transport/bpm f 97.5 /midi/map is 7 /ch/2/pan \
  /latency/set f 80 /record/format s 24
expect_eq "$(osc /save)" "/saved s $STATE" "/save"
grep -qx '/ch/1/gain f -6.5' "$STATE" || fail "the state file lacks /ch/1/gain: $(cat "$STATE")"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status"
grep -q "state saved to $STATE" "$DAEMON_ERR" || fail "no 'state saved' at exit"
expect_eq "$(ls -A "$ST")" rtlane.state "files in the state directory (no temporary file left)"

start_daemon -i 2 -l 50 --state "$STATE"
grep -q "state read from $STATE" "$DAEMON_ERR" || fail "no 'state read' at start"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -6.5" "/ch/1/gain after a restart"
expect_eq "$(get /ch/2/mute)" "/ch/2/mute i 1" "/ch/2/mute after a restart"
expect_eq "$(get /transport/bpm)" "/transport/bpm f 97.5" "/transport/bpm after a restart"
expect_eq "$(osc /latency)" "/latency.reply if 3840 80" "write-ahead latency after a restart"
stop_daemon TERM
grep -qx '/midi/map is 7 /ch/2/pan' "$STATE" || fail "the CC map did not survive the restart: $(cat "$STATE")"
grep -qx '/record/format s 24' "$STATE" || fail "the record format did not survive the restart"
pass "values, the CC map, the write-ahead latency and the record format survive a restart"

# A hand-broken file: reported with its line, defaults, not saved over.
sed -i 's|^/ch/2/pan f .*|/ch/9/pan f 0|' "$STATE"
line=$(grep -n '^/ch/9/pan' "$STATE" | cut -d: -f1)
sum=$(md5sum <"$STATE")
start_daemon -i 2 -l 50 --state "$STATE"
expect_eq "$(grep -c "state file $STATE: " "$DAEMON_ERR")" 1 "lines about the damaged file"
grep -q "state file $STATE: $line: unknown channel; starting with the defaults" "$DAEMON_ERR" ||
  fail "the damaged line is not reported: $(cat "$DAEMON_ERR")"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f 0" "/ch/1/gain with a damaged state file (nothing of it applied)"
stop_daemon TERM
expect_eq "$(md5sum <"$STATE")" "$sum" "the damaged file after a clean exit"
grep -q "state not saved" "$DAEMON_ERR" || fail "no word that the state was not saved"

# A truncated one, the same.
head -c $(($(head -n 4 "$STATE" | wc -c) + 12)) "$STATE" >"$STATE.cut" && mv "$STATE.cut" "$STATE"
log "truncated: $(tail -n 1 "$STATE")"
sum=$(md5sum <"$STATE")
start_daemon -i 2 -l 50 --state "$STATE"
grep -q "state file $STATE: [0-9]*: .*starting with the defaults" "$DAEMON_ERR" || fail "a truncated file is not reported"
set_ok /ch/1/gain f -2
stop_daemon TERM
expect_eq "$(md5sum <"$STATE")" "$sum" "the truncated file after a clean exit"
pass "a damaged or truncated state file is reported with its line, changes nothing and is kept as it is"

# Saving by hand writes over it; SIGHUP reads it again.
start_daemon -i 2 -l 50 --state "$STATE"
set_ok /ch/1/gain f -4
expect_eq "$(osc /save)" "/saved s $STATE" "/save over a damaged file"
sed -i 's|^/ch/1/gain f .*|/ch/1/gain f -3|' "$STATE"
kill -HUP "$DAEMON_PID"
for i in $(seq 50); do
  [ "$(get /ch/1/gain)" = "/ch/1/gain f -3" ] && break
  sleep 0.05
done
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -3" "/ch/1/gain after SIGHUP"
kill -0 "$DAEMON_PID" || fail "SIGHUP ended the daemon"
pass "/save writes the file, SIGHUP reads it again"

# /save and /load name files in the state directory only.
set_ok /ch/2/gain f -9
expect_eq "$(osc /save s live.state)" "/saved s live.state" "/save s live.state"
[ -f "$ST/live.state" ] || fail "live.state is not in the state directory"
set_ok /ch/2/gain f 0
expect_eq "$(osc /load s live.state)" "/loaded si live.state $(grep -c '^/' "$ST/live.state")" "/load s live.state"
expect_eq "$(get /ch/2/gain)" "/ch/2/gain f -9" "/ch/2/gain after /load"
ln -s "$TMP/outside" "$ST/link"
for bad in ../x.state "$TMP/outside/abs.state" link/x.state; do
  expect_error "$(osc /save s "$bad")" /save "/save s $bad"
  expect_error "$(osc /load s "$bad")" /load "/load s $bad"
done
expect_eq "$(ls -A "$TMP/outside")" "" "files written outside the state directory"
pass "/save and /load name files inside the state directory only"

# /load is all or nothing.
{
  echo '# a good line, then a bad one'
  echo '/ch/1/gain f -1'
  echo '/ch/1/pan f 7'
} >"$ST/bad.state"
out=$(osc /load s bad.state)
expect_eq "$out" "/error ss /load 3: out of range" "/load of a file with a bad line 3"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -3" "/ch/1/gain after a refused /load"
printf '/ping -\n' >"$ST/cmd.state"
expect_error "$(osc /load s cmd.state)" /load "/load of a file with a command that is not a setting"
pass "/load applies a file whole or not at all"
stop_daemon TERM
