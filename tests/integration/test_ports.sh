#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# JACK ports: in_1..in_N, out_L, out_R, click (audio) and midi_in, midi_out
# (MIDI), with the right types and directions, for -i 2, -i 8 and a custom
# client name; nothing else.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd

# port_table CLIENT: "port type direction" per port of CLIENT, sorted.
port_table() {
  jack_lsp -s "$JACK_SERVER" -t -p "$1:" 2>/dev/null | awk -v c="$1:" '
    index($0, c) == 1 { if (name != "") print name, type, dir; name = $0; type = "?"; dir = "?"; next }
    /audio/ { type = "audio" }
    /midi/ { type = "midi" }
    /properties:/ { dir = ($0 ~ /input/) ? "input" : (($0 ~ /output/) ? "output" : "?") }
    END { if (name != "") print name, type, dir }' | sort
}

expected_table() { # CLIENT N
  {
    for i in $(seq "$2"); do echo "$1:in_$i audio input"; done
    echo "$1:out_L audio output"
    echo "$1:out_R audio output"
    echo "$1:click audio output"
    echo "$1:midi_in midi input"
    echo "$1:midi_out midi output"
  } | sort
}

check_ports() { # CLIENT N [DAEMON ARGS...]
  local client=$1 n=$2 got want
  shift 2
  start_daemon "$@"
  got=$(port_table "$client")
  want=$(expected_table "$client" "$n")
  [ "$got" = "$want" ] || fail "ports of $client with $*:
got:
$got
expected:
$want"
  stop_daemon TERM
  expect_eq "$STOP_STATUS" 0 "daemon exit status after SIGTERM"
  # Its ports are gone with it.
  [ -z "$(port_table "$client")" ] || fail "ports of $client remain after exit"
  pass "$client: $n inputs, types and directions"
}

check_ports rtlane 2                    # the default
check_ports rtlane 2 -i 2
check_ports rtlane 8 --inputs 8
check_ports rtlane 1 -i 1
check_ports mixer-$$ 3 -n mixer-$$ -i 3
check_ports rtlane 64 -i 64

# -c/--connect: inputs from the capture ports, outputs to the playback ports
# (the dummy backend has two of each).
start_daemon -i 2 -c
conn=$(jack_lsp -s "$JACK_SERVER" -c "$DAEMON_NAME:" 2>/dev/null)
log "connections with -c:"
printf '%s\n' "$conn" | sed 's/^/#   /'
connected() { # PORT OTHER
  printf '%s\n' "$conn" | awk -v p="$1" -v o="$2" '!/^ / { cur = $0; next } cur == p && $1 == o { f = 1 } END { exit !f }'
}
connected "$DAEMON_NAME:in_1" system:capture_1 || fail "-c: in_1 not connected from system:capture_1"
connected "$DAEMON_NAME:in_2" system:capture_2 || fail "-c: in_2 not connected from system:capture_2"
connected "$DAEMON_NAME:out_L" system:playback_1 || fail "-c: out_L not connected to system:playback_1"
connected "$DAEMON_NAME:out_R" system:playback_2 || fail "-c: out_R not connected to system:playback_2"
stop_daemon TERM
start_daemon -i 2
if jack_lsp -s "$JACK_SERVER" -c "$DAEMON_NAME:" | grep -q '^ '; then
  fail "without -c the daemon connected something: $(jack_lsp -s "$JACK_SERVER" -c "$DAEMON_NAME:")"
fi
stop_daemon TERM
pass "--connect connects capture -> in_N and out_L/out_R -> playback; nothing without it"
