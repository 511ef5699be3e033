#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# A state file that cannot be written.  The daemon writes a new file
# beside the old one and renames it over it only once it is whole, so a
# /save that fails (here: the file size limit, set on the running daemon
# with prlimit, which holds for root too, unlike file permissions) is an
# /error, leaves the old file byte for byte and no temporary file, and
# the daemon goes on with its settings; with the limit lifted the same
# /save works (the control).
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
command -v prlimit >/dev/null || fail "prlimit is missing (Debian package util-linux)"
start_jackd

ST=$TMP/st
mkdir -p "$ST"
STATE=$ST/rtlane.state
start_daemon -i 2 --state "$STATE"
set_ok /ch/1/gain f -6.5
expect_eq "$(osc /save)" "/saved s $STATE" "/save"
cp "$STATE" "$TMP/old.state"
size=$(stat -c %s "$STATE")
log "state file: $size bytes"

prlimit --pid "$DAEMON_PID" --fsize=$((size / 2)): || fail "prlimit --fsize on the daemon (soft limit)"
set_ok /ch/1/gain f -12 /ch/2/mute i 1
out=$(osc /save) || fail "/save under the limit: no reply"
expect_error "$out" /save "/save beyond the file size limit"
log "/save beyond the limit: $out"
cmp -s "$STATE" "$TMP/old.state" || fail "the old state file changed: $(cat "$STATE")"
expect_eq "$(ls -A "$ST")" rtlane.state "files in the state directory (no temporary file left)"
expect_eq "$(osc /ping)" /pong "/ping after the failed /save"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -12" "/ch/1/gain after the failed /save"
pass "a /save that cannot be written is an /error; the old file stays whole and the daemon goes on"

prlimit --pid "$DAEMON_PID" --fsize=unlimited: || fail "prlimit --fsize=unlimited: (soft limit)"
expect_eq "$(osc /save)" "/saved s $STATE" "/save with the limit lifted"
grep -qx '/ch/1/gain f -12' "$STATE" || fail "the saved state lacks /ch/1/gain f -12: $(cat "$STATE")"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status"
pass "with the limit lifted the same /save writes the file"
