#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Recording: takes read back sample for sample against the signal that went
# in (a ramp known from its JACK frame), jack_capture's file of the same
# ports, two takes from one time-tagged bundle on the same frame, the sample
# formats and containers, confinement to the record directory, and the
# errors a user meets.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE" "$RTL_WAVCHECK"
command -v jack_capture >/dev/null || fail "jack_capture is missing (Debian package jack-capture)"
start_jackd 48000 256

REC=$TMP/rec
OUTSIDE=$TMP/outside
mkdir -p "$REC" "$OUTSIDE"
RAMP=4801:0.5

start_daemon -i 2 --record-dir "$REC"
start_player "$DAEMON_NAME:in_1=ramp:$RAMP"
# in_1 hard left at 0 dB: out_L is the ramp to the bit, out_R silence
set_ok /ch/1/pan f -1

# xruns: the daemon's count, from /status.
xruns() { status_field 5; }
status_field() {
  local line
  line=$(osc -n 1 /status) || fail "/status: no reply"
  field "$line" $(($1 + 2))
}

# started OUTPUT FILE: the first frame /record/started gave for FILE.
started() {
  printf '%s\n' "$1" | awk -v f="$2" '$1 == "/record/started" && $3 == f { print $4; exit }'
}

# --- a take, read back, and jack_capture's file of the same ports ---------

# A take is judged sample for sample; one that does not match while the
# server had xruns (jack_capture's start and stop bring many on two cores)
# proves nothing and is made again.
for try in 1 2 3 4; do
  rm -f "$REC/take.wav" "$TMP/jc.wav"
  x0=$(xruns)
  (cd "$TMP" && timeout 30 jack_capture -s -dc -b FLOAT -d 3.5 -p "$DAEMON_NAME:out_L" -p "$DAEMON_NAME:out_R" "$TMP/jc.wav" \
    >"$TMP/jc.out" 2>&1) &
  jc=$!
  PIDS+=("$jc")
  sleep 0.7
  out=$(osc -t 10000 -n 0 /record/start s take.wav @wait "/record/started *" @listen 2 /record/stop @wait "/record/stopped *") ||
    fail "take: $out"
  rc=0
  wait "$jc" || rc=$?
  [ $rc = 0 ] || fail "jack_capture exited with status $rc: $(cat -v "$TMP/jc.out")"
  first=$(started "$out" take.wav)
  [ -n "$first" ] || fail "no /record/started for take.wav: $out"
  cmp=
  check=$("$RTL_WAVCHECK" "$REC/take.wav" -r "0:$first:$RAMP" -z 1) &&
    cmp=$("$RTL_WAVCHECK" -c "$REC/take.wav" "$TMP/jc.wav") && break
  [ "$(xruns)" != "$x0" ] || fail "take.wav against the ramp from frame $first and jack_capture's file: $check $cmp"
  [ $try = 4 ] && fail "take: server too loaded (xruns in 4 tries)"
  log "take: the server had xruns, recording again"
done
printf '%s\n' "$out" | sed 's/^/#   /'
stopped=$(printf '%s\n' "$out" | awk '$1 == "/record/stopped" && $3 == "take.wav"')
[ -n "$stopped" ] || fail "no /record/stopped for take.wav: $out"
frames=$(field "$stopped" 4)
expect_eq "$(field "$stopped" 5)" 0 "take: frames lost"
log "$check"
expect_eq "$(kv "$check" frames channels)" 2 "take: channels"
expect_eq "$(kv "$check" frames rate)" 48000 "take: rate"
expect_eq "$(kv "$check" frames format)" wav:float "take: format"
expect_eq "$(kv "$check" frames frames)" "$frames" "take: frames in the file against /record/stopped"
# No length from the wall clock: a server that waits for late clients runs
# behind it.  The take is judged by its samples, its count and jack_capture.
fcheck "n > 0" "take: no frames" -v n="$frames"
pass "a take holds every sample of out_L and out_R from its first frame, as /record/started and /record/stopped say"

log "$cmp"
expect_eq "$(kv "$cmp" offset overlap)" "$frames" "take: frames that jack_capture's file covers"
pass "jack_capture's file of the same ports holds the same samples"

# --- two takes from one time-tagged bundle start on the same frame -----------

for try in 1 2 3 4; do
  rm -f "$REC"/both-*.wav
  x0=$(xruns)
  out=$(osc -t 10000 -n 0 @bundle +0.3 /record/start ss both-mix.wav mix /record/start ss both-in.wav inputs @end \
    @wait "/record/started sh both-in.wav *" @listen 1 /record/stop @wait "/record/stopped shi both-in.wav *" @listen 0.3) ||
    fail "bundle: $out"
  f_mix=$(started "$out" both-mix.wav)
  f_in=$(started "$out" both-in.wav)
  [ -n "$f_mix" ] && [ "$f_mix" = "$f_in" ] || fail "bundle: first frames '$f_mix' and '$f_in' differ: $out"
  check=$("$RTL_WAVCHECK" "$REC/both-mix.wav" -r "0:$f_mix:$RAMP" -z 1) &&
    check=$("$RTL_WAVCHECK" "$REC/both-in.wav" -r "0:$f_in:$RAMP" -z 1) && break
  [ "$(xruns)" != "$x0" ] || fail "bundle: $check"
  [ $try = 4 ] && fail "bundle: server too loaded (xruns in 4 tries)"
  log "bundle: the server had xruns, recording again"
done
expect_eq "$(kv "$check" frames channels)" 2 "inputs take: one channel per input"
pass "mix and inputs takes of one bundle start on frame $f_mix, each sample where it belongs"

# --- formats and containers ----------------------------------------------------

take_fmt() { # FORMAT NAME EXPECTED [FILE]
  local out check file=${4:-$2}
  out=$(osc -t 10000 -n 0 /record/format s "$1" /record/start s "$2" @wait "/record/started *" @listen 0.3 \
    /record/stop @wait "/record/stopped *") || fail "format $1 $2: $out"
  check=$("$RTL_WAVCHECK" "$REC/$file") || true
  expect_eq "$(kv "$check" frames format)" "$3" "format $1 into $2"
  fcheck "n > 0" "format $1 into $2: no frames" -v n="$(kv "$check" frames frames)"
}
take_fmt 16 f16.flac flac:16
take_fmt float ffloat.flac flac:24
take_fmt 24 f24.w64 w64:24
take_fmt float ffloat.rf64 rf64:float
take_fmt 16 noext wav:16 noext.wav
out=$(osc -n 1 /record/start s take.mp3)
expect_error "$out" /record/start "an unknown file type"
out=$(osc -n 1 /record/format s 32)
expect_error "$out" /record/format "an unknown format"
osc -n 0 /record/format s float >/dev/null
pass "FLAC (16, 24; float takes 24), W64, RF64 and WAV by extension, /record/format for the next take"

# --- confinement and the errors a user meets -----------------------------------

ln -s "$OUTSIDE" "$REC/link"
ln -s "$OUTSIDE/target.wav" "$REC/dangling.wav"
before=$(ls -A "$REC" | sort | md5sum)
sum=$(md5sum <"$REC/take.wav")
for bad in ../x.wav "$OUTSIDE/abs.wav" link/x.wav dangling.wav take.wav sub/../../x.wav; do
  out=$(osc -n 1 /record/start s "$bad")
  expect_error "$out" /record/start "/record/start $bad"
  log "/record/start $bad: $out"
done
expect_eq "$(ls -A "$OUTSIDE")" "" "files created outside the record directory"
expect_eq "$(ls -A "$REC" | sort | md5sum)" "$before" "files created in the record directory by refused takes"
expect_eq "$(md5sum <"$REC/take.wav")" "$sum" "take.wav after a take asked to overwrite it"
out=$(osc -n 1 /record/start s take.wav)
printf '%s\n' "$out" | grep -q 'exists' || fail "an existing file: expected 'exists', got $out"
pass "../, absolute paths and symlinks out are refused, nothing is created, an existing file is never overwritten"

out=$(osc -n 1 /record/stop)
expect_error "$out" /record/stop "/record/stop with nothing recording"
out=$(osc -n 1 /record/start ss x.wav stems)
expect_error "$out" /record/start "an unknown kind of take"
out=$(osc -t 10000 -n 0 /record/start s busy.wav @wait "/record/started *" /record/start s busy2.wav @listen 0.3 /record/status @listen 0.3 \
  /record/stop @wait "/record/stopped *")
expect_error "$out" /record/start "a second mix take"
[ ! -e "$REC/busy2.wav" ] || fail "a refused second take created its file"
printf '%s\n' "$out" | grep -q '^/record/status.reply ssshi mix recording busy.wav [0-9]* 0$' ||
  fail "/record/status while recording: $out"
printf '%s\n' "$out" | grep -q '^/record/status.reply ssshi inputs idle  0 0$' || fail "/record/status of the idle kind: $out"
pass "stop with nothing recording, an unknown kind, a second take of one kind get /error; /record/status tells"

# --- SIGTERM finalises an open take ----------------------------------------------

out=$(osc -t 10000 -n 0 /record/start s term.wav @wait "/record/started *") || fail "term.wav: $out"
sleep 0.5
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status after SIGTERM while recording"
first=$(started "$out" term.wav)
check=$("$RTL_WAVCHECK" "$REC/term.wav" -r "0:$first:$RAMP" -z 1) ||
  printf '%s\n' "$check" | grep -q ' mismatches [0-9]' || fail "term.wav is not a valid file: $check"
grep -q "XRun\|xrun" "$DAEMON_ERR" || expect_eq "$(kv "$check" frames mismatches)" 0 "term.wav against the ramp"
fcheck "n > 0" "term.wav holds no frames" -v n="$(kv "$check" frames frames)"
grep -q "recorded term.wav" "$DAEMON_ERR" || fail "no 'recorded term.wav' in the log"
pass "SIGTERM ends an open take with a valid file"
