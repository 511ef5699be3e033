#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Measured equals reported.  jack_iodelay sends a test signal out and
# measures how long it takes to come back.  Looped through `rtlane -l 50`
# it must measure exactly what it measures looped through
# `jack_latent_client 2400` (a JACK example client that delays by 2400
# frames and reports that latency) on the same server: both are L = 2400
# frames plus the same graph overhead (the loop is a feedback cycle, which
# JACK breaks with one period of delay).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/wa_lib.sh"
need "$RTLANE" "$RTL_OSC"
command -v jack_iodelay >/dev/null || fail "jack_iodelay is not installed (jackd2 examples)"
command -v jack_latent_client >/dev/null || fail "jack_latent_client is not installed (jackd2 examples)"

start_jackd 48000 256 # exports JACK_DEFAULT_SERVER: neither tool takes -s
L=2400

# iodelay_through IN OUT: runs jack_iodelay looped through the ports
# jack_delay:out -> IN and OUT -> jack_delay:in for a few seconds, prints
# the roundtrip it measured most often (in frames).
iodelay_through() {
  local in=$1 out=$2 pid up
  # jack_iodelay writes to a pipe: unbuffered, or its lines die with it.
  timeout -s INT 20 stdbuf -o0 jack_iodelay >"$TMP/iodelay.out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  up=$(wait_ports -p "$pid" jack_delay:in jack_delay:out 2>&1) ||
    fail "jack_iodelay did not come up: $up $(cat "$TMP/iodelay.out")"
  jack_connect -s "$JACK_SERVER" jack_delay:out "$in" || fail "connect jack_delay:out $in"
  jack_connect -s "$JACK_SERVER" "$out" jack_delay:in || fail "connect $out jack_delay:in"
  sleep 4
  stop_pid "$pid"
  awk '$2 == "frames" && /total roundtrip latency/ { n[$1]++ }
       END { for (v in n) if (n[v] > best) { best = n[v]; mode = v }; if (best) print mode + 0 }' \
    "$TMP/iodelay.out"
}

# Through jack_latent_client 2400 (its ports autoconnect to the system
# ports: cut those, so the loop is the only path).
timeout -s INT 60 jack_latent_client "$L" >"$TMP/latent.out" 2>&1 &
latent_pid=$!
PIDS+=("$latent_pid")
# Up once it has made those connections.
out=$(wait_ports -p "$latent_pid" -c latent:input latent:output 2>&1) ||
  fail "jack_latent_client did not come up: $out $(cat "$TMP/latent.out")"
jack_disconnect -s "$JACK_SERVER" system:capture_1 latent:input 2>/dev/null
jack_disconnect -s "$JACK_SERVER" latent:output system:playback_1 2>/dev/null
ref=$(iodelay_through latent:input latent:output)
[ -n "$ref" ] || fail "jack_iodelay measured nothing through jack_latent_client: $(tail -n 5 "$TMP/iodelay.out")"
log "jack_iodelay through jack_latent_client $L: $ref frames"
stop_pid "$latent_pid"

start_daemon -i 1 -l 50
set_ok /ch/1/gain f 0 /ch/1/pan f -1 /master/gain f 0
expect_port_latency "$DAEMON_NAME:out_L" capture "$L $L" "reported latency"
got=$(iodelay_through "$DAEMON_NAME:in_1" "$DAEMON_NAME:out_L")
[ -n "$got" ] || fail "jack_iodelay measured nothing through rtlane: $(tail -n 5 "$TMP/iodelay.out")"
log "jack_iodelay through rtlane -l 50: $got frames"
expect_eq "$got" "$ref" "roundtrip through rtlane -l 50 (frames) vs through jack_latent_client $L"
fcheck "g >= l && (g - l) % p == 0" "roundtrip $got is not L = $L plus whole periods of graph overhead" \
  -v g="$got" -v l="$L" -v p="$JACK_PERIOD"
pass "jack_iodelay: rtlane -l 50 measures $got frames, as jack_latent_client $L does ($((got - L)) frames of graph overhead)"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status"
