#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# A graph that comes back as it was: the daemon, recording and patched to
# two other clients (jack_metro into in_1, midi_out into jack_midi_dump)
# and to the system's playback, loses its JACK server (SIGTERM, then
# SIGKILL); OSC keeps answering; once the server and the two clients are
# started again, every connection is back within seconds, the settings are
# intact and the interrupted take is a valid file.  With the server up, a
# connection a user broke, or whose client quit, is let go.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_WAVCHECK"
start_jackd 48000 256

REC=$TMP/rec
mkdir -p "$REC"
start_daemon -i 2 --record-dir "$REC"
set_ok /ch/1/gain f -5 /midi/map is 7 /ch/2/pan

PEERS=()
# Started bare, not under timeout(1): a timeout killed in turn would leave
# its child running, and the test stops exactly what it started, by PID.
start_peers() {
  jack_metro -n metro-$$ -b 120 >"$TMP/metro.out" 2>&1 &
  PEERS=($!)
  jack_midi_dump dump-$$ >"$TMP/dump.out" 2>&1 &
  PEERS+=($!)
  PIDS+=("${PEERS[@]}")
  local out
  out=$(wait_ports "metro-$$:120_bpm" "dump-$$:input" 2>&1) ||
    fail "jack_metro and jack_midi_dump did not register their ports: $out"
}
stop_peers() {
  local p
  for p in "${PEERS[@]}"; do stop_pid "$p"; done
}

# The connections as jack_lsp -c shows them, from our side, sorted.
WANT="$DAEMON_NAME:in_1 metro-$$:120_bpm
$DAEMON_NAME:midi_out dump-$$:input
$DAEMON_NAME:out_L system:playback_1"
connections() {
  jack_lsp -s "$JACK_SERVER" -c 2>/dev/null | awk -v d="$DAEMON_NAME:" '
    /^[^ ]/ { port = $0; next }
    index(port, d) == 1 { sub(/^ +/, ""); print port, $0 }' | sort
}
wait_connections() { # WHAT: up to 10 s for exactly WANT
  for i in $(seq 100); do
    [ "$(connections)" = "$WANT" ] && return 0
    sleep 0.1
  done
  fail "$1: connections are
$(connections)
expected
$WANT"
}

start_peers
jack_connect -s "$JACK_SERVER" "metro-$$:120_bpm" "$DAEMON_NAME:in_1" || fail "jack_connect metro"
jack_connect -s "$JACK_SERVER" "$DAEMON_NAME:midi_out" "dump-$$:input" || fail "jack_connect dump"
jack_connect -s "$JACK_SERVER" "$DAEMON_NAME:out_L" system:playback_1 || fail "jack_connect playback"
wait_connections "as patched"
expect_eq "$(osc /jack)" "/jack.reply ssii connected $DAEMON_NAME 3 3" "/jack while connected"

for sig in TERM KILL; do
  out=$(osc -t 10000 -n 0 /record/start s take-$sig.wav @wait "/record/started *") || fail "take-$sig.wav: $out"
  sleep 0.5
  kill -$sig "$JACKD_PID"
  wait "$JACKD_PID" 2>/dev/null
  stop_peers
  for i in $(seq 50); do
    [ "$(field "$(osc /jack)" 3)" = disconnected ] && break
    sleep 0.1
  done
  expect_eq "$(osc /jack)" "/jack.reply ssii disconnected $DAEMON_NAME 3 0" "/jack with the server gone (SIG$sig)"
  expect_eq "$(osc /ping)" "/pong" "/ping with the server gone (SIG$sig)"
  check=$("$RTL_WAVCHECK" "$REC/take-$sig.wav") || [ "$(kv "$check" frames mismatches)" = 0 ] ||
    fail "take-$sig.wav is not a valid file: $check"
  fcheck "n > 0" "take-$sig.wav is empty" -v n="$(kv "$check" frames frames)"

  # The same server name again (a SIGKILLed server keeps its slot until
  # then), then the peers, in that order, once the daemon is back.
  restart_jackd 48000 256
  wait_ports "$DAEMON_NAME:out_L" >/dev/null 2>&1 ||
    fail "the daemon's ports did not come back within 15 s of the server's return (SIG$sig)"
  start_peers
  wait_connections "after SIG$sig to jackd and the peers' return"
  expect_eq "$(osc /jack)" "/jack.reply ssii connected $DAEMON_NAME 3 3" "/jack after SIG$sig"
  expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -5" "/ch/1/gain after SIG$sig"
  pass "SIG$sig to jackd: the take is a valid file, OSC answered, and every connection came back with the server and the peers"
done

# With the server up, a connection a user broke is forgotten, and so are
# those of a client that quits: JACK's own manners.
jack_disconnect -s "$JACK_SERVER" "metro-$$:120_bpm" "$DAEMON_NAME:in_1" || fail "jack_disconnect"
sleep 1.5
expect_eq "$(osc /jack)" "/jack.reply ssii connected $DAEMON_NAME 2 2" "/jack after a user's disconnect"
stop_peers
sleep 1.5
expect_eq "$(osc /jack)" "/jack.reply ssii connected $DAEMON_NAME 1 1" "/jack after the peers quit"
start_peers
sleep 1.5
WANT="$DAEMON_NAME:out_L system:playback_1"
wait_connections "after the peers quit and started again with the server up"
pass "with the server up, a connection a user broke and those of a client that quit are let go"
stop_daemon TERM
stop_peers
stop_pid "$JACKD_PID"
