#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Who may talk to the mixer.  By default the OSC sockets (UDP and TCP)
# are bound to 127.0.0.1, as the kernel's socket tables show, and nothing
# is logged about exposure; bound wider (--osc-bind 0.0.0.0) the daemon
# warns that anyone who can reach it controls the mixer.  With
# --osc-allow, packets from other senders are dropped and counted
# (/status refused) and never answered, and their commands are not
# applied; a sender the list takes is served as before.  127.0.0.2 is the
# other sender here: rtl-osc -B sends from a socket bound to it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wa_lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd 48000 256

# local_addr PROTO PORT: the local address (hex, as /proc/net shows it) of
# the socket bound to PORT (TCP: the listening one).
local_addr() {
  local hex
  hex=$(printf '%04X' "$2")
  awk -v h="$hex" -v tcp="$([ "$1" = tcp ] && echo 1)" '
    NR > 1 { n = split($2, a, ":"); if (a[n] == h && (tcp != 1 || $4 == "0A")) print a[1] }' \
    "/proc/net/$1" "/proc/net/${1}6" 2>/dev/null
}

# --- default: loopback only -------------------------------------------------------
start_daemon --osc-tcp
expect_eq "$(local_addr udp "$OSC_PORT")" 0100007F "UDP socket's local address (127.0.0.1)"
expect_eq "$(local_addr tcp "$OSC_PORT")" 0100007F "TCP listening socket's local address (127.0.0.1)"
expect_no_line "$(cat "$DAEMON_ERR")" "warning" "daemon log on loopback"
# 127.0.0.2 is loopback too: without --osc-allow it is answered
expect_eq "$("$RTL_OSC" -B 127.0.0.2 -p "$OSC_PORT" /ping)" /pong "/ping from 127.0.0.2 without --osc-allow"
expect_eq "$(status_value 12)" 0 "/status refused without --osc-allow"
stop_daemon TERM
pass "by default the OSC sockets are bound to 127.0.0.1 and nothing warns"

# --- bound wider: a warning ------------------------------------------------------------
start_daemon --osc-bind 0.0.0.0
expect_eq "$(local_addr udp "$OSC_PORT")" 00000000 "UDP socket's local address (0.0.0.0)"
expect_line "$(cat "$DAEMON_ERR")" "rtlane: warning: OSC listens on 0.0.0.0 beyond this machine: anyone who can reach it controls the mixer (--osc-allow limits who)" "daemon log bound to 0.0.0.0"
stop_daemon TERM
pass "--osc-bind 0.0.0.0 warns that anyone on the network can control the mixer"

# --- --osc-allow ---------------------------------------------------------------------
start_daemon --osc-tcp --osc-bind 0.0.0.0 --osc-allow 10.0.0.0/8 --osc-allow 127.0.0.1
grep -q "warning: OSC listens on 0.0.0.0 beyond this machine: anyone who can reach it controls the mixer$" "$DAEMON_ERR" ||
  fail "no warning (without the --osc-allow hint) bound to 0.0.0.0 with --osc-allow: $(cat "$DAEMON_ERR")"
expect_eq "$(osc /ping)" /pong "/ping from 127.0.0.1, which the list takes"
set_ok /ch/1/gain f -6
rc=0
out=$("$RTL_OSC" -B 127.0.0.2 -p "$OSC_PORT" -t 1000 /ping 2>&1) || rc=$?
expect_eq "$rc" 1 "rtl-osc -B 127.0.0.2 /ping: exit status (1: no reply in time)"
expect_eq "$out" "" "replies to 127.0.0.2's /ping"
rc=0
out=$("$RTL_OSC" -B 127.0.0.2 -p "$OSC_PORT" -t 500 /ch/1/gain f -20 2>&1) || rc=$?
expect_eq "$rc" 1 "rtl-osc -B 127.0.0.2 /ch/1/gain: exit status"
expect_eq "$out" "" "replies to 127.0.0.2's /ch/1/gain"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -6" "/ch/1/gain after 127.0.0.2 sent -20"
# Over TCP the connection is closed at once, unanswered
rc=0
out=$("$RTL_OSC" -T -B 127.0.0.2 -p "$OSC_PORT" -t 2000 /ping 2>&1) || rc=$?
expect_eq "$rc" 1 "rtl-osc -T -B 127.0.0.2 /ping: exit status"
expect_eq "$out" "rtl-osc: the connection was closed" "127.0.0.2's TCP /ping"
expect_eq "$(osc -T /ping)" /pong "/ping over TCP from 127.0.0.1"
expect_eq "$(status_value 12)" 3 "/status refused: 127.0.0.2's two packets and one connection"
expect_eq "$(status_value 11)" 0 "/status cmds_rejected (refused packets are not rejections)"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status"
pass "--osc-allow: another sender's packets and connections are dropped, counted and never answered, and its command is not applied"

# The control: a list that takes 127.0.0.2 answers it.
start_daemon --osc-tcp --osc-allow 127.0.0.0/8
expect_eq "$("$RTL_OSC" -B 127.0.0.2 -p "$OSC_PORT" /ping)" /pong "/ping from 127.0.0.2 with --osc-allow 127.0.0.0/8"
expect_eq "$("$RTL_OSC" -T -B 127.0.0.2 -p "$OSC_PORT" /ping)" /pong "TCP /ping from 127.0.0.2 with --osc-allow 127.0.0.0/8"
expect_eq "$(status_value 12)" 0 "/status refused with 127.0.0.2 allowed"
stop_daemon TERM

# A bad list stops the start with a usage error.
rc=0
out=$("$RTLANE" -s "$JACK_SERVER" -p "$(free_port 7)" --osc-allow studio 2>&1) || rc=$?
expect_eq "$rc" 2 "rtlane --osc-allow studio: exit status"
expect_line "$out" "rtlane: invalid --osc-allow 'studio' (an IPv4 or IPv6 address, optionally /PREFIX)" "rtlane --osc-allow studio"
pass "--osc-allow 127.0.0.0/8 takes 127.0.0.2; a bad --osc-allow is a usage error"
