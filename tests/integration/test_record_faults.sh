#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Recording when things go wrong: a take whose thread stalls (a test hook,
# as a slow disk would) loses exactly what it reports, as silence in place,
# while the other take and the audio thread lose nothing; a take that hits
# the file size limit ends cleanly with a valid file and the daemon lives
# on; a JACK server that goes away (SIGTERM or SIGKILL) ends the take with
# a valid file, and the daemon records again once the server is back.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE" "$RTL_WAVCHECK"
start_jackd 48000 256

REC=$TMP/rec
mkdir -p "$REC"
RAMP=4801:0.5

xruns() { field "$(osc -n 1 /status)" 7; }
started() {
  printf '%s\n' "$1" | awk -v f="$2" '$1 == "/record/started" && $3 == f { print $4; exit }'
}
stopped() { # OUTPUT FILE FIELD: frames (4) or lost (5) from /record/stopped
  printf '%s\n' "$1" | awk -v f="$2" -v n="$3" '$1 == "/record/stopped" && $3 == f { print $n; exit }'
}
# listen SEC FILE [UNTIL]: a record subscriber in the background, printing
# to FILE for SEC seconds, or until a reply prints UNTIL.
listen() {
  if [ -n "${3:-}" ]; then
    osc -t "$(($1 * 1000))" -n 0 /subscribe s record @wait "$3" @listen 0.2 >"$2" 2>&1 &
  else
    osc -t 200 -n 0 /subscribe s record @listen "$1" >"$2" 2>&1 &
  fi
  PIDS+=($!)
  LISTENER=$!
  sleep 0.2
}

# --- a slow reader loses exactly what it says, and nobody else loses -------

# The inputs take stalls 1 s after 0.25 s; its ring holds about 0.34 s.
DAEMON_ENV=(RTLANE_TEST_RECORD_STALL=inputs:12000:1000)
start_daemon -i 2 --record-dir "$REC" --record-buffer 200
DAEMON_ENV=()
start_player "$DAEMON_NAME:in_1=ramp:$RAMP"
set_ok /ch/1/pan f -1

# The counts are judged every time; the samples only when they are exact or
# the server had no xrun (a glitch of the player's is not the daemon's).
for try in 1 2 3 4; do
  rm -f "$REC"/slow-*.wav
  x0=$(xruns)
  listen 20 "$TMP/sub.out" "/record/stopped shi slow-in.wav *"
  # The takes stop once the stall has cost frames (a /record/dropout), not
  # after a time: a loaded synchronous server runs behind the wall clock,
  # and the stall can only cost frames once the graph has run past it.
  if ! out=$(osc -t 15000 -n 0 /subscribe s record \
    @bundle +0.2 /record/start ss slow-mix.wav mix /record/start ss slow-in.wav inputs @end \
    @wait "/record/started sh slow-in.wav *" @wait "/record/dropout *" @listen 0.3 \
    /record/stop @wait "/record/stopped shi slow-in.wav *" @listen 0.5); then
    printf '%s\n' "$out" | sed 's/^/#   /'
    osc -t 10000 -n 0 /record/stop @wait "/record/stopped shi slow-in.wav *" >/dev/null || fail "slow takes: /record/stop: no reply"
    wait "$LISTENER"
    [ "$(xruns)" != "$x0" ] || fail "slow takes: the stall cost no frames in 15 s, with no xrun"
    [ $try = 4 ] && fail "slow take: server too loaded (the graph did not run past the stall in 4 tries)"
    log "slow take: the graph did not run past the stall (xruns), recording again"
    continue
  fi
  wait "$LISTENER"
  printf '%s\n' "$out" | sed 's/^/#   /'
  sed 's/^/#   subscriber: /' "$TMP/sub.out"
  [ -n "$(stopped "$out" slow-mix.wav 4)" ] && [ -n "$(stopped "$out" slow-in.wav 4)" ] || fail "slow takes: a /record/stopped is missing"
  first=$(started "$out" slow-mix.wav)
  expect_eq "$(started "$out" slow-in.wav)" "$first" "slow takes: first frames"
  expect_eq "$(stopped "$out" slow-mix.wav 5)" 0 "the mix take's loss while the inputs take stalled"
  lost=$(stopped "$out" slow-in.wav 5)
  # How much the stall costs depends on how far the graph ran meanwhile;
  # what it costs is judged exactly below, against the dropouts and file
  fcheck "n > 0" "the stalled take lost nothing: the stall did not happen" -v n="$lost"
  gaps=() sum=0
  while read -r path types frames position; do
    gaps+=(-g "$position:$frames")
    sum=$((sum + frames))
  done < <(awk '$1 == "/record/dropout"' "$TMP/sub.out")
  [ ${#gaps[@]} -gt 0 ] || fail "no /record/dropout reached the record subscriber"
  expect_eq "$sum" "$lost" "frames in /record/dropout against the loss in /record/stopped"
  check=$("$RTL_WAVCHECK" "$REC/slow-mix.wav" -r "0:$first:$RAMP" -z 1) &&
    check=$("$RTL_WAVCHECK" "$REC/slow-in.wav" -r "0:$first:$RAMP" -z 1 "${gaps[@]}") && break
  [ "$(xruns)" != "$x0" ] || fail "slow takes: not the ramp (with silence exactly where the dropouts were): $check"
  [ $try = 4 ] && fail "slow take: server too loaded (xruns in 4 tries)"
  log "slow take: the server had xruns, recording again"
done
expect_eq "$(kv "$check" frames frames)" "$(stopped "$out" slow-in.wav 4)" "slow-in.wav: frames"
pass "a stalled take loses exactly the $lost frames it reports, as silence in place; the other take and the audio thread lose nothing"
stop_daemon TERM

# --- the file size limit ends a take cleanly ---------------------------------

DAEMON_ENV=(prlimit --fsize=300000 --)
start_daemon -i 2 --record-dir "$REC"
DAEMON_ENV=()
stop_player
start_player "$DAEMON_NAME:in_1=ramp:$RAMP"
set_ok /ch/1/pan f -1
for try in 1 2 3 4; do
  big=big-$try.wav
  x0=$(xruns)
  listen 10 "$TMP/sub2.out" "/record/stopped *"
  out=$(osc -t 10000 -n 0 /record/start s $big @wait "/record/started *") || fail "$big: $out"
  first=$(started "$out" $big)
  wait "$LISTENER"
  sed 's/^/#   subscriber: /' "$TMP/sub2.out"
  grep -q "^/record/error ss $big file too large\$" "$TMP/sub2.out" || fail "no /record/error for $big"
  frames=$(awk -v f=$big '$1 == "/record/stopped" && $3 == f { print $4 }' "$TMP/sub2.out")
  [ -n "$frames" ] || fail "no /record/stopped for $big"
  fcheck "s <= 300000" "$big is larger than the limit" -v s="$(stat -c %s "$REC/$big")"
  check=$("$RTL_WAVCHECK" "$REC/$big" -r "0:$first:$RAMP" -z 1) && break
  printf '%s\n' "$check" | grep -q ' mismatches [0-9]' || fail "$big is not a valid file: $check"
  [ "$(xruns)" != "$x0" ] || fail "$big: $check"
  [ $try = 4 ] && fail "file size limit: server too loaded (xruns in 4 tries)"
  log "file size limit: the server had xruns, recording again"
done
expect_eq "$(kv "$check" frames frames)" "$frames" "$big: frames in the file against /record/stopped"
expect_eq "$(osc /ping)" "/pong" "/ping after the take failed"
pass "a take that reaches the file size limit ends with a valid file of $frames frames, /record/error and /record/stopped; the daemon lives on"
stop_daemon TERM

# --- the server goes away while recording ----------------------------------------

start_daemon -i 2 --record-dir "$REC"
stop_player
start_player "$DAEMON_NAME:in_1=ramp:$RAMP"
set_ok /ch/1/pan f -1
for sig in TERM KILL; do
  listen 4 "$TMP/sub3.out"
  out=$(osc -t 10000 -n 0 /record/start s gone-$sig.wav @wait "/record/started *") || fail "gone-$sig.wav: $out"
  first=$(started "$out" gone-$sig.wav)
  x0=$(xruns)
  sleep 0.5
  x1=$(xruns)
  kill -$sig "$JACKD_PID"
  wait "$JACKD_PID" 2>/dev/null
  wait "$LISTENER"
  frames=$(awk -v f="gone-$sig.wav" '$1 == "/record/stopped" && $3 == f { print $4 }' "$TMP/sub3.out")
  [ -n "$frames" ] || fail "SIG$sig to jackd: no /record/stopped: $(cat "$TMP/sub3.out")"
  check=$("$RTL_WAVCHECK" "$REC/gone-$sig.wav" -r "0:$first:$RAMP" -z 1) ||
    [ "$x1" != "$x0" ] || fail "gone-$sig.wav: $check"
  [ "$x1" = "$x0" ] || log "gone-$sig.wav: the server had xruns, samples not judged"
  expect_eq "$(kv "$check" frames frames)" "$frames" "gone-$sig.wav: frames"
  fcheck "n > 0" "gone-$sig.wav holds no frames" -v n="$frames"
  expect_eq "$(osc /ping)" "/pong" "/ping with the server gone (SIG$sig)"
  # The same name again (a SIGKILLed server keeps its slot until then)
  restart_jackd 48000 256
  wait_ports "$DAEMON_NAME:out_L" >/dev/null 2>&1 ||
    fail "the daemon's ports did not come back within 15 s of the server's return"
  stop_player
  start_player "$DAEMON_NAME:in_1=ramp:$RAMP"
  pass "SIG$sig to jackd ends the take with a valid file of $frames frames; the daemon reconnects"
done
out=$(osc -t 10000 -n 0 /record/start s again.wav @wait "/record/started *" @listen 0.5 /record/stop @wait "/record/stopped *") ||
  fail "again.wav: $out"
"$RTL_WAVCHECK" "$REC/again.wav" -r "0:$(started "$out" again.wav):$RAMP" -z 1 >/dev/null || fail "again.wav"
pass "recording works again after the server came back"
stop_daemon TERM
stop_pid "$JACKD_PID"
