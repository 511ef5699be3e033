#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# OSC as controllers send it, through liblo's own oscsend and oscdump (not
# this project's client): every numeric type (i h f d) and T/F where a
# number or a toggle is expected, converted as scsynth does, within the
# same ranges; NaN and infinities refused; /list keeps the canonical tags.
# Replies to another port than the sender's: --reply-port and /reply/port.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
command -v oscsend >/dev/null && command -v oscdump >/dev/null || fail "oscsend/oscdump (liblo-tools) missing"
start_jackd
start_daemon -i 2

rejected() { field "$(osc /status)" 13; }

# sends ADDRESS TYPES [ARG...] EXPECTED: oscsend sets it; /get reads it back.
sends() {
  local address=$1 types=$2 expected=${*: -1}
  local args=("${@:3:$#-3}")
  oscsend 127.0.0.1 "$OSC_PORT" "$address" "$types" ${args[@]+"${args[@]}"} || fail "oscsend $*"
  sync_daemon
  expect_eq "$(get "$address")" "$address $expected" "oscsend $address $types ${args[*]:-}"
}
r0=$(rejected)
sends /ch/1/gain i -6 "f -6"
sends /ch/1/gain d -7.5 "f -7.5"
sends /ch/1/gain h -12 "f -12"
sends /ch/1/gain f -3 "f -3"
sends /ch/1/gain T "f 1"
sends /ch/1/gain F "f 0"
sends /ch/2/pan d -0.5 "f -0.5"
sends /ch/2/pan i 1 "f 1"
sends /master/gain i -10 "f -10"
sends /transport/bpm i 96 "f 96"
sends /transport/bpm h 140 "f 140"
sends /transport/bpm d 100.5 "f 100.5"
# Toggles: on from 0.5, as a TouchOSC or Pure Data button sends 1.0 and 0.0.
sends /ch/1/mute f 1 "i 1"
sends /ch/1/mute f 0 "i 0"
sends /ch/1/mute T "i 1"
sends /ch/1/mute F "i 0"
sends /ch/1/mute d 0.5 "i 1"
sends /ch/1/mute f 0.49 "i 0"
sends /ch/2/solo h 1 "i 1"
sends /ch/2/solo i 0 "i 0"
expect_eq "$(rejected)" "$r0" "rejections while sending accepted types"
pass "i h f d T F accepted for numbers and toggles, converted as scsynth does"

# Refused, with the state left alone: out of range in any type, NaN and
# infinities, types that are no numbers.  oscsend does not listen, so the
# daemon's count of rejections tells (each /error also goes to its port).
set_ok /ch/1/gain f -9
set_ok /ch/1/mute i 1
before="$(get /ch/1/gain) $(get /ch/1/mute) $(get /transport/bpm)"
r0=$(rejected)
n=0
refuses() {
  oscsend 127.0.0.1 "$OSC_PORT" "$@" || fail "oscsend $*"
  n=$((n + 1))
}
refuses /ch/1/gain d 12.5
refuses /ch/1/gain h 100
refuses /ch/1/gain f nan
refuses /ch/1/gain d inf
refuses /ch/1/gain d -inf
refuses /ch/1/gain s loud
refuses /ch/1/gain N
refuses /ch/1/mute f 1.5
refuses /ch/1/mute d -0.25
refuses /ch/1/mute i 2
refuses /ch/1/mute h -1
refuses /ch/1/mute f nan
refuses /transport/bpm i 10
refuses /transport/bpm F
sync_daemon
expect_eq "$(rejected)" "$((r0 + n))" "rejections counted for $n refused sends"
expect_eq "$(get /ch/1/gain) $(get /ch/1/mute) $(get /transport/bpm)" "$before" "state after refused sends"
# The reasons, through a client that hears them.
expect_eq "$(osc /ch/1/gain d nan)" "/error ss /ch/1/gain not a finite number" "NaN"
expect_eq "$(osc /ch/1/mute f 1.5)" "/error ss /ch/1/mute out of range" "a toggle beyond 1"
pass "$n out-of-range, non-finite or non-numeric sends refused, state unchanged"

list=$(osc -u /list.reply -t 5000 /list) || fail "/list: $list"
for a in /ch/1/gain:f /ch/1/mute:i /transport/bpm:f /sync:i /reply/port:i; do
  printf '%s\n' "$list" | awk -v a="${a%:*}" -v t="${a#*:}" '$1 == "/list.reply" && $3 == a && $4 == t { f = 1 } END { exit !f }' ||
    fail "/list does not give ${a%:*} its canonical tag ${a#*:}"
done
pass "/list keeps the canonical type tags"

# --- replies to another port ------------------------------------------------------

# dump PORT: oscdump listening on PORT in the background (line buffered).
dump() {
  oscdump -L "$1" >"$TMP/dump-$1.out" 2>&1 &
  PIDS+=($!)
  DUMP_PID=$!
  for _ in $(seq 50); do
    bound udp "$1" && return
    sleep 0.1
  done
  fail "oscdump did not bind port $1"
}
# heard PORT LINE [N]: oscdump on PORT printed LINE (after its time tag), N
# times in all (default 1), within 5 s.
heard() {
  local n
  for _ in $(seq 50); do
    n=$(awk '{ $1 = ""; sub(/^ /, ""); print }' "$TMP/dump-$1.out" | grep -cxF -- "$2")
    [ "$n" -ge "${3:-1}" ] && return
    sleep 0.1
  done
  fail "oscdump on port $1 did not print '$2' ${3:-1} times: $(cat "$TMP/dump-$1.out")"
}

# Per sender: rtl-osc sends from one port and, after /reply/port, hears
# nothing there while oscdump hears the replies on the other.
P1=$(free_port 1)
dump "$P1"
out=$(osc -n 0 /reply/port i "$P1" /ping /sync i 5 /ch/9/gain f 0 @listen 0.5)
expect_eq "$out" "" "replies at the sender's own port after /reply/port"
heard "$P1" "/pong"
heard "$P1" "/synced i 5"
heard "$P1" '/error ss "/ch/9/gain" "unknown channel"'
out=$(osc -n 0 /reply/port i "$P1" /reply/port i 0 /ping @listen 0.3)
expect_eq "$out" "/pong" "/reply/port i 0 brings the replies back"
expect_eq "$(osc /ping)" "/pong" "another sender is not redirected"
expect_eq "$(osc /reply/port i 65536)" "/error ss /reply/port out of range (0..65535)" "/reply/port beyond 65535"
pass "/reply/port sends one sender's replies to another port, until /reply/port i 0"
stop_pid "$DUMP_PID"
stop_daemon TERM

# Daemon-wide: --reply-port, for controllers that listen on a fixed port.
P2=$(free_port 2)
start_daemon -i 2 --reply-port "$P2" --osc-tcp
dump "$P2"
oscsend 127.0.0.1 "$OSC_PORT" /ping || fail "oscsend /ping"
heard "$P2" "/pong"
oscsend 127.0.0.1 "$OSC_PORT" /ch/1/mute f 1 || fail "oscsend"
oscsend 127.0.0.1 "$OSC_PORT" /get s /ch/1/mute || fail "oscsend /get"
heard "$P2" '/ch/1/mute i 1'
# A sender's own /reply/port wins; TCP replies stay on the connection.
P3=$(free_port 3)
out=$(osc -n 0 /reply/port i "$P3" /reply/port i 0 /ping @listen 0.3)
expect_eq "$out" "" "--reply-port: replies at the sender's port"
heard "$P2" "/pong" 2
expect_eq "$(osc -T /ping)" "/pong" "--reply-port leaves TCP replies on the connection"
expect_eq "$(osc -T /reply/port i 9000)" "/error ss /reply/port UDP only (replies go back on the TCP connection)" "/reply/port over TCP"
pass "--reply-port sends every UDP reply to that port at the sender's address"
stop_pid "$DUMP_PID"
stop_daemon TERM
