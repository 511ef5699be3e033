# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Shared helpers for the integration tests (bash; sourced by test_*.sh).
#
# Each test starts its own jackd (dummy backend, private server name) and its
# own daemon on a free OSC port, and stops exactly the processes it started,
# by PID, when it exits.  Every wait is bounded.  Assertions print what they
# compared, so a failure explains itself.

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RTLANE_BUILD=${RTLANE_BUILD:-build}
case $RTLANE_BUILD in
/*) BUILD_DIR=$RTLANE_BUILD ;;
*) BUILD_DIR=$ROOT/$RTLANE_BUILD ;;
esac
RTLANE=$BUILD_DIR/rtlane
RTL_OSC=$BUILD_DIR/tests/rtl-osc
RTL_PROBE=$BUILD_DIR/tests/rtl-probe
RTL_WAVCHECK=$BUILD_DIR/tests/rtl-wavcheck
RTL_NSMD=$BUILD_DIR/tests/rtl-nsmd
RTL_BAD_CLIENT=$BUILD_DIR/tests/rtl-bad-client
RT_ALLOC_GUARD=$BUILD_DIR/tests/rt_alloc_guard.so

export JACK_NO_AUDIO_RESERVATION=1
export JACK_NO_START_SERVER=1 # a client must never start a stray default server
export LC_ALL=C

TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rtlane-$TEST_NAME.XXXXXX")
PIDS=()
SRV_N=0
JACK_SERVER=
JACK_RATE=
JACK_PERIOD=
DAEMON_PID=
DAEMON_NAME=rtlane
DAEMON_ERR=
OSC_PORT=

log() { printf '# %s\n' "$*"; }

fail() {
  printf 'FAIL: %s\n' "$*"
  if [ -n "$DAEMON_ERR" ] && [ -s "$DAEMON_ERR" ]; then
    printf '# daemon stderr (last 20 lines):\n'
    tail -n 20 "$DAEMON_ERR" | sed 's/^/#   /'
  fi
  if [ -n "${SRV_N:-}" ] && [ -s "$TMP/jackd-$SRV_N.log" ]; then
    printf '# jackd (last 15 lines):\n'
    tail -n 15 "$TMP/jackd-$SRV_N.log" | sed 's/^/#   /'
    [ -z "${RTLANE_KEEP_JACKD_LOG:-}" ] || cp "$TMP/jackd-$SRV_N.log" "$RTLANE_KEEP_JACKD_LOG"
  fi
  exit 1
}

need() {
  for f in "$@"; do
    [ -x "$f" ] || [ -f "$f" ] || fail "missing $f (build it first: make BUILD=$RTLANE_BUILD all and the test tools)"
  done
}

# Stops one process we started: SIGTERM, then SIGKILL after 3 s.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

cleanup() {
  local i
  # A child forked for a background command runs this shell's traps until it
  # execs; a signal in that window must not tear down the test's files.
  [ "$BASHPID" = "$$" ] || return 0
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${PIDS[$i]}"
  done
  if [ -n "${KEEP_TMP:-}" ]; then
    log "kept $TMP"
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_s() { date +%s.%N; }

# --- jackd ------------------------------------------------------------------

# Real-time scheduling for jackd (and so for every client's process thread)
# where this user may have it, as a studio runs it: on two shared cores a
# jackd without it misses periods whenever anything else runs, and the
# tests that judge MIDI and timing frame by frame would then only see xruns.
if chrt -f 1 true 2>/dev/null; then
  JACKD_SCHED=-R
else
  JACKD_SCHED=--no-realtime
fi
# Synchronous mode (-S): the server waits for every client in each cycle,
# so on a loaded two-core machine a late client delays the cycle (an xrun,
# still counted and still excluded by the timing tests) instead of missing
# it, and the samples that do flow are the graph's, not a skipped period's.
JACKD_EXTRA=${JACKD_EXTRA--S}

# What disturbs a frame-exact result.  A synchronous server waits for a
# late client, so its xruns are late cycles with every sample intact (an
# 8 s take under load: 27 xruns, 0 samples off); only a jump in the frame
# times (a gap the tools see in their own cycles) breaks the timeline.  An
# asynchronous server skips late clients: there every xrun counts.  The
# tools print both counts on each line; `disturbed LINE` gives the one
# that matters here, by key.
case " $JACKD_EXTRA " in
*" -S "*) JUDGE_BY=gaps ;;
*) JUDGE_BY=xruns ;;
esac
disturbed() {
  echo "$1" | awk -v k="$JUDGE_BY" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

# start_jackd [RATE [PERIOD]]: a private jackd on the dummy backend.
start_jackd() {
  JACK_RATE=${1:-48000}
  JACK_PERIOD=${2:-256}
  SRV_N=$((SRV_N + 1))
  JACK_SERVER=rtlane-test-$$-$SRV_N
  jackd "$JACKD_SCHED" ${JACKD_EXTRA:-} -n "$JACK_SERVER" -d dummy -r "$JACK_RATE" -p "$JACK_PERIOD" \
    >"$TMP/jackd-$SRV_N.log" 2>&1 &
  JACKD_PID=$!
  PIDS+=("$JACKD_PID")
  if ! timeout 15 jack_wait -s "$JACK_SERVER" -w -t 10 >/dev/null 2>&1; then
    sed 's/^/#   /' "$TMP/jackd-$SRV_N.log"
    fail "jackd $JACK_SERVER did not come up"
  fi
  export JACK_DEFAULT_SERVER=$JACK_SERVER
  log "jackd $JACK_SERVER pid $JACKD_PID, $JACK_RATE Hz, period $JACK_PERIOD, $JACKD_SCHED"
}

# --- ports ------------------------------------------------------------------

# bound PROTO PORT: a UDP socket is bound to PORT, or a TCP socket listens
# on it (from /proc/net, so no iproute2 is needed).
bound() {
  local hex
  hex=$(printf '%04X' "$2")
  cat "/proc/net/$1" "/proc/net/${1}6" 2>/dev/null | awk -v h="$hex" -v tcp="$([ "$1" = tcp ] && echo 1)" '
    { n = split($2, a, ":"); if (a[n] == h && (tcp != 1 || $4 == "0A")) f = 1 }
    END { exit !f }'
}

port_in_use() {
  bound udp "$1" || bound tcp "$1"
}

# A free OSC port, spread by PID so parallel runs rarely collide.
free_port() {
  local base=$((18000 + ($$ % 500) * 8 + ${1:-0})) p
  for p in $(seq "$base" $((base + 200))); do
    if ! port_in_use "$p"; then
      echo "$p"
      return 0
    fi
  done
  fail "no free port near $base"
}

# --- daemon -----------------------------------------------------------------

# start_daemon [ARGS...]: starts the daemon on the current server and a free
# OSC port, waits for its ready line.  DAEMON_ENV (array) is prepended with
# env(1), e.g. DAEMON_ENV=(LD_PRELOAD=...).
DAEMON_ENV=()
DAEMON_N=0
start_daemon() {
  need "$RTLANE"
  local attempt
  for attempt in 1 2 3; do
    DAEMON_N=$((DAEMON_N + 1))
    OSC_PORT=$(free_port $((attempt * 3)))
    DAEMON_ERR=$TMP/daemon-$DAEMON_N.err
    env ${DAEMON_ENV[@]+"${DAEMON_ENV[@]}"} "$RTLANE" -s "$JACK_SERVER" -p "$OSC_PORT" "$@" \
      >"$TMP/daemon-$DAEMON_N.out" 2>"$DAEMON_ERR" &
    DAEMON_PID=$!
    PIDS+=("$DAEMON_PID")
    if wait_ready "$DAEMON_PID" "$DAEMON_ERR"; then
      log "daemon pid $DAEMON_PID: $(grep -m1 -w ready "$DAEMON_ERR")"
      return 0
    fi
    # Only a lost race for the port is worth another try.
    if kill -0 "$DAEMON_PID" 2>/dev/null || ! grep -qi 'bind\|address\|port' "$DAEMON_ERR"; then
      break
    fi
  done
  stop_pid "$DAEMON_PID"
  fail "daemon did not print its ready line (args: $*)"
}

# wait_ready PID ERRFILE: up to 10 s for a line with the word "ready" (not
# "already", as in "address already in use").
wait_ready() {
  local pid=$1 err=$2 i
  for i in $(seq 200); do
    if grep -qw ready "$err" 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# stop_daemon SIGNAL: sends it, waits up to 3 s; sets STOP_STATUS (exit
# status, or 124 when it did not exit) and STOP_SECONDS.
stop_daemon() {
  local sig=$1 t0 i
  t0=$(now_s)
  kill -"$sig" "$DAEMON_PID"
  STOP_STATUS=124
  for i in $(seq 300); do
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      break
    fi
    sleep 0.01
  done
  if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
    wait "$DAEMON_PID"
    STOP_STATUS=$?
  fi
  STOP_SECONDS=$(awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }')
}

# --- OSC ----------------------------------------------------------------------

# osc [rtl-osc options] ITEM...: talks to the daemon from one socket.
osc() {
  # A daemon that stopped answering fails the test with its log, well
  # before the runner's own limit kills it with nothing to show
  timeout 45 "$RTL_OSC" -p "$OSC_PORT" "$@"
}

# get ADDRESS: prints the /get reply line, e.g. "/ch/1/gain f -6".
get() {
  osc -n 1 /get s "$1"
}

# get_value ADDRESS: prints only the value(s) of the /get reply.
get_value() {
  local line
  line=$(get "$1") || fail "/get $1: no reply"
  set -- $line
  shift 2
  echo "$*"
}

# --- assertions ---------------------------------------------------------------

expect_eq() { # ACTUAL EXPECTED WHAT
  [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# expect_line OUTPUT LINE WHAT: OUTPUT contains LINE as a whole line.
expect_line() {
  printf '%s\n' "$1" | grep -qxF -- "$2" || fail "$3: no line '$2' in:
$1"
}

# expect_no_line OUTPUT PATTERN WHAT
expect_no_line() {
  ! printf '%s\n' "$1" | grep -q -- "$2" || fail "$3: unexpected '$2' in:
$1"
}

# expect_error OUTPUT REQUEST_PATH WHAT: an /error naming the request.
expect_error() {
  printf '%s\n' "$1" | awk -v p="$2" '$1 == "/error" && $3 == p { f = 1 } END { exit !f }' ||
    fail "$3: expected '/error ss $2 ...', got:
$1"
}

# fcheck EXPR WHAT [VAR=VALUE...]: an awk condition over numbers.
fcheck() {
  local expr=$1 what=$2
  shift 2
  awk "$@" "BEGIN { exit !($expr) }" </dev/null || fail "$what (check: $expr with $*)"
}

# near A B TOL WHAT: |A - B| <= TOL.
near() {
  fcheck "(a - b <= t) && (b - a <= t)" "$4: $1 is not within $3 of $2" -v a="$1" -v b="$2" -v t="$3"
}

# field LINE N: the Nth whitespace-separated field of LINE.
field() { echo "$1" | awk -v n="$2" '{ print $n }'; }

# kv OUTPUT PREFIX KEY: from the first line starting with PREFIX, the word
# after KEY (rtl-probe prints "key value" pairs).
kv() {
  printf '%s\n' "$1" | awk -v p="$2" -v k="$3" 'index($0, p) == 1 {
    for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

pass() {
  log "ok: $*"
}

# --- signals --------------------------------------------------------------------

# probe ARGS...: rtl-probe on the current server; with the default client
# name, returns once the server has let its clients go (their ports gone),
# so that no capture's connections linger into what the test does next.
probe() {
  local rc=0 i
  timeout 60 "$RTL_PROBE" -s "$JACK_SERVER" "$@" || rc=$?
  case " $* " in *" -N "*) return $rc ;; esac
  for i in $(seq 200); do
    jack_lsp -s "$JACK_SERVER" 2>/dev/null | grep -q '^rtl-probe_' || return $rc
    sleep 0.05
  done
  fail "the server still holds rtl-probe's ports 10 s after it ended: server too loaded"
}

# capture_levels PLAY... -- PORT...: plays (PORT=WAVE each), captures the
# daemon's PORTs for 0.5 s after 0.3 s of settling, prints rtl-probe's lines.
capture_levels() {
  local args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    args+=(-P "$1")
    shift
  done
  shift
  while [ $# -gt 0 ]; do
    args+=(-C "$DAEMON_NAME:$1")
    shift
  done
  # A capture during which the server had an xrun may hold a glitch: take
  # another (up to 8), and say so if none was clean.
  local out attempt
  for attempt in $(seq 8); do
    out=$(probe "${args[@]}" -S 0.5 -w 0.3) || fail "rtl-probe ${args[*]} failed: $out"
    [ "$(kv "$out" start_frame "$JUDGE_BY")" = 0 ] && break
    printf '# capture %s: xruns, taking another\n' "${args[*]}" >&2
  done
  printf '%s\n' "$out"
}

# level OUTPUT PORT KEY: KEY (peak_db, rms_db, ...) of a captured port.
level() {
  kv "$1" "capture $DAEMON_NAME:$2 " "$3"
}

# sync_daemon: returns once every earlier command is applied.
SYNC_ID=1000
sync_daemon() {
  SYNC_ID=$((SYNC_ID + 1))
  osc -n 0 /sync i "$SYNC_ID" @wait "/synced i $SYNC_ID" >/dev/null || fail "/sync $SYNC_ID: no /synced"
}

# set_ok ITEM...: sends the messages, fails on any /error, then syncs.
set_ok() {
  local out
  SYNC_ID=$((SYNC_ID + 1))
  out=$(osc -n 0 "$@" /sync i "$SYNC_ID" @wait "/synced i $SYNC_ID") || fail "$*: no /synced: $out"
  expect_no_line "$out" "^/error" "$*"
}

# db X: 20 log10(X).
db() { awk -v x="$1" 'BEGIN { printf "%.4f", 20 * log(x) / log(10) }'; }

# start_player PORT=WAVE...: plays in the background until stopped
# (stop_player, or the test's exit).  timeout(1) forwards SIGTERM to it.
PLAYER_PID=
start_player() {
  local args=() n=0 i
  for w in "$@"; do args+=(-P "$w"); done
  timeout 300 "$RTL_PROBE" -s "$JACK_SERVER" -N rtl-player-$$ "${args[@]}" -S 0 \
    >"$TMP/player.out" 2>&1 &
  PLAYER_PID=$!
  PIDS+=("$PLAYER_PID")
  # Playing once every one of its ports is connected.
  for i in $(seq 100); do
    n=$(jack_lsp -s "$JACK_SERVER" -c "rtl-player-$$_src:" 2>/dev/null | grep -c '^ ')
    [ "$n" -ge $# ] && return 0
    kill -0 "$PLAYER_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$TMP/player.out"
  fail "player $* did not connect"
}

stop_player() {
  [ -n "$PLAYER_PID" ] && stop_pid "$PLAYER_PID"
  PLAYER_PID=
}
