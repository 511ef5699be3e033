#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# A full command queue is an /error "busy" reply and a counter, never a
# silent drop.  Over TCP (no loss in transport) a burst of N sets is sent
# as fast as possible: every one of them must be either applied (counted in
# /status cmds_applied) or answered with /error /ch/1/gain busy (counted in
# cmds_rejected), exactly N in all.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd
start_daemon -i 1 --osc-tcp

N=20000
status_field() { field "$(printf '%s\n' "$1" | grep '^/status.reply ' | tail -n 1)" "$2"; }
before=$(osc -T /status) || fail "/status"
applied0=$(status_field "$before" 12)
rejected0=$(status_field "$before" 13)

# The barrier after the burst may itself find the queue full (/error /sync
# busy): several are sent, and the first /synced is the barrier.  Replies
# share the connection in order, so every busy reply of the burst precedes
# it.
syncs=()
for k in $(seq 10); do syncs+=(/sync i "$k" @listen 0.3); done
out=$(osc -T -n 0 -t 30000 -u "/synced i *" @burst "$N" /ch/1/gain f -3 "${syncs[@]}") ||
  fail "no /synced after the burst: $(printf '%s\n' "$out" | tail -n 3)"
after=$(osc -T /status) || fail "/status"
busy=$(printf '%s\n' "$out" | grep -c '^/error ss /ch/1/gain busy$')
other=$(printf '%s\n' "$out" | grep -v '^/error ss /ch/1/gain busy$' | grep -vc '^/synced i \|^/error ss /sync busy$')
sync_busy=$(printf '%s\n' "$out" | grep -c '^/error ss /sync busy$')
applied=$(($(status_field "$after" 12) - applied0))
rejected=$(($(status_field "$after" 13) - rejected0 - sync_busy))
log "burst of $N over TCP: $applied applied, $busy busy replies, cmds_rejected +$rejected (+$sync_busy busy /sync)"
expect_eq "$other" 0 "replies other than busy errors and /synced"
expect_eq "$((applied + busy))" "$N" "applied + busy"
expect_eq "$rejected" "$busy" "cmds_rejected increase (less busy /sync) vs busy replies to the burst"
[ "$busy" -gt 0 ] || log "the queue never filled on this machine: no busy replies to check"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -3" "/get after the burst"
pass "$N commands: $applied applied + $busy busy, none lost"

# For the record: UDP gives no such guarantee before the daemon sees a
# datagram (the kernel drops what overflows the socket buffer).
out=$(osc -n 0 -t 30000 -u "/synced i *" @burst "$N" /ch/1/gain f -4 "${syncs[@]}") || true
a2=$(status_field "$(osc -T /status)" 12)
b2=$(printf '%s\n' "$out" | grep -c 'busy$')
[ -n "$a2" ] && log "burst of $N over UDP: $((a2 - applied0 - applied)) applied, $b2 busy (the rest lost by the kernel, if any)"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status"
