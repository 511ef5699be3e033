# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Helpers for the write-ahead, latency and MIDI tests (sourced after lib.sh).

RTL_MIDI=$BUILD_DIR/tests/rtl-midi
RTL_DELAY=$BUILD_DIR/tests/rtl-delay
INSERT_GAIN=$BUILD_DIR/examples/insert_gain.so
INSERT_STALL=$BUILD_DIR/examples/insert_stall.so

# port_latency PORT capture|playback: "MIN MAX" as jack_lsp -l shows them.
port_latency() {
  jack_lsp -s "$JACK_SERVER" -l "$1" 2>/dev/null |
    awk -v p="$1" -v k="$2" '$0 == p { f = 1; next } /^[^ \t]/ { f = 0 }
      f && $1 == "port" && $2 == k && $3 == "latency" { print $6, $7; exit }'
}

# expect_port_latency PORT KIND "MIN MAX" WHAT: waits up to 5 s for it (the
# graph recomputes latencies asynchronously).
expect_port_latency() {
  local got i
  for i in $(seq 50); do
    got=$(port_latency "$1" "$2")
    [ "$got" = "$3" ] && return 0
    sleep 0.1
  done
  fail "$4: $1 $2 latency is [${got:-none}], expected [$3]"
}

# status_value N: field N (1-based, after the path and type tags) of
# /status.reply: 1 name, 2 rate, 3 period, 4 latency_frames, 5 xruns,
# 6 underruns, 7 overruns, 8 frames, 9 dsp_load, 10 applied, 11 rejected,
# 12 refused (senders --osc-allow leaves out).
status_value() {
  local line n=$1
  line=$(osc /status) || fail "/status: no reply"
  set -- $line
  [ "$1" = /status.reply ] || fail "/status: got '$line'"
  shift $((n + 1))
  echo "$1"
}

# delay_rounds ARGS...: runs rtl-delay on the current server.
delay_rounds() {
  timeout 120 "$RTL_DELAY" -s "$JACK_SERVER" "$@"
}

# check_rounds OUTPUT DELAY MIN_CLEAN WHAT: every round of rtl-delay OUTPUT
# without xruns found DELAY and no mismatch; at least MIN_CLEAN such rounds.
# Rounds with xruns are reported and left out: after an xrun the server's
# frame times jump by the frames it skipped, and for as long as the device's
# own delay its output is that much further from its input in frame time.
check_rounds() {
  local out=$1 want=$2 min=$3 what=$4 line clean=0 dirty=0
  while read -r line; do
    set -- $line
    # round K delay D frames N mismatches M first_mismatch F xruns X gaps G ...
    if [ "$(disturbed "$line")" != 0 ]; then
      dirty=$((dirty + 1))
      continue
    fi
    clean=$((clean + 1))
    [ "$4" = "$want" ] || fail "$what, round $2: delay $4 frames, expected $want: $line"
    [ "$8" = 0 ] || fail "$what, round $2: $8 samples differ from the input delayed by $want (first at frame ${10}): $line"
  done < <(printf '%s\n' "$out" | grep '^round ')
  log "$what: $clean rounds without xruns exact at delay $want, $dirty with xruns left out"
  ROUNDS_CLEAN=$clean ROUNDS_DIRTY=$dirty
  [ $clean -ge "$min" ] ||
    fail "$what: only $clean rounds without xruns ($dirty with), need $min: the server is too loaded to measure"
}

# delay_check DELAY MIN_CLEAN WHAT RTL_DELAY_ARGS...: runs rtl-delay (up to 8
# times) until MIN_CLEAN rounds without xruns have been seen; every one of
# them must show DELAY with no mismatch.
delay_check() {
  local want=$1 min=$2 what=$3 out run clean=0 dirty=0 args
  shift 3
  args=("$@")
  for run in $(seq 16); do
    out=$(delay_rounds "${args[@]}")
    printf '%s\n' "$out" | sed 's/^/#   /'
    printf '%s\n' "$out" | grep -q '^summary ' || fail "$what: rtl-delay ${args[*]}: $out"
    # Each clean round is checked here, clean as `disturbed` judges it
    # (not rtl-delay's own summary, which counts xruns only).
    check_rounds "$out" "$want" 0 "$what"
    clean=$((clean + ROUNDS_CLEAN))
    dirty=$((dirty + ROUNDS_DIRTY))
    [ $clean -ge "$min" ] && return 0
  done
  fail "$what: only $clean rounds without xruns ($dirty with), need $min: the server is too loaded to measure"
}

# rtlane_running_xruns JACKD_LOG: xruns the server blamed on the daemon while
# it was running (it had the CPU and did not finish its period in time), as
# opposed to Triggered (it never got the CPU: the machine was late, and every
# client in the graph is blamed alike).  Left out too: a report that follows
# the dummy driver's own lateness ("JackTimedDriver::Process XRun"), after
# which the driver starts the next cycle at once, with no wait, while the
# clients of the late cycle are still at work.
rtlane_running_xruns() {
  awk -v c="client = $DAEMON_NAME was not finished, state = Running" '
    /JackTimedDriver::Process XRun/ { late = 1 }
    index($0, c) && !late { n++ }
    /ProcessGraphAsyncMaster: Process error/ { late = 0 }
    END { print n + 0 }' "$1"
}

# midi_run ARGS...: runs rtl-midi on the current server.  A server too
# loaded to take its clients in within its timeout (rtl-midi's status 75,
# JackEngine::ClientActivate in the server's log) is given three tries.
midi_run() {
  local rc try
  for try in 1 2 3; do
    rc=0
    timeout 60 "$RTL_MIDI" -s "$JACK_SERVER" "$@" || rc=$?
    [ $rc = 75 ] || return $rc
    log "rtl-midi: the server could not activate it (too loaded), try $try" >&2
    sleep 0.5
  done
  echo "rtl-midi: server too loaded: it could not activate a client in 3 tries"
  return 75
}

# check_midi_delay DELAY WHAT ARGS...: sends notes with rtl-midi ARGS and
# checks that every event arrived exactly DELAY frames after it was sent.
# A run that is off is sent again (up to 12 runs) only if the server was
# disturbed meanwhile (`disturbed`: gaps under -S, else xruns); an exact
# run counts whatever the server logged.
check_midi_delay() {
  local want=$1 what=$2 out line run args off
  shift 2
  args=("$@")
  for run in $(seq 12); do
    out=$(midi_run "${args[@]}") || fail "$what: rtl-midi ${args[*]}: $out"
    printf '%s\n' "$out" | sed 's/^/#   /'
    line=$(printf '%s\n' "$out" | grep '^summary ')
    [ -n "$line" ] || fail "$what: no summary from rtl-midi: $out"
    off=$(printf '%s\n' "$out" | awk -v want="$want" '
      $1 == "summary" && ($3 != $5 || $3 == 0) { print "received " $5 " events of " $3; exit }
      $1 == "event" && $12 != want { print "event " $2 " (status " $4 " data " $6 ") sent at " $8 ", received at " $10 ": delay " $12 ", expected " want; exit }')
    [ -z "$off" ] && return 0
    [ "$(disturbed "$line")" != 0 ] || fail "$what: $off"
    log "$what: run $run was disturbed ($JUDGE_BY) and is off ($off); again"
  done
  fail "$what: every run was disturbed ($JUDGE_BY): the server is too loaded to measure"
}
