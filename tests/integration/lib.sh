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
RTL_SYSTEM=$BUILD_DIR/tests/rtl-system
RTL_PORTS_WAIT=$BUILD_DIR/tests/rtl-ports-wait

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

# --- the server ---------------------------------------------------------------

# RTLANE_SERVER picks the server every test runs on: jackd (JACK2, the
# default) or pipewire (a private PipeWire with WirePlumber, and every JACK
# client here, the daemon and the tools alike, on PipeWire's libjack as
# pw-jack runs them).  The tests are the same; they ask `on_pipewire` where
# the two servers differ.
RTLANE_SERVER=${RTLANE_SERVER:-jackd}
on_pipewire() { [ "$RTLANE_SERVER" = pipewire ]; }

# skip REASON: the test does not apply on this server (the runner says
# SKIP with the reason; exit status 77, as automake's harness has it).
skip() {
  printf 'SKIP: %s\n' "$*"
  exit 77
}

case $RTLANE_SERVER in
jackd) ;;
pipewire)
  for tool in pipewire wireplumber pw-jack pw-metadata pw-cli dbus-daemon; do
    command -v "$tool" >/dev/null || fail "missing $tool (scripts/install-deps --pipewire)"
  done
  # pw-jack's own library path, taken from pw-jack itself.
  LD_LIBRARY_PATH=$(pw-jack sh -c 'printf %s "$LD_LIBRARY_PATH"') || fail "pw-jack does not run"
  export LD_LIBRARY_PATH
  # Everything of the session private to this test: sockets, the bus,
  # configuration and state.
  export XDG_RUNTIME_DIR=$TMP/run XDG_CONFIG_HOME=$TMP/config XDG_STATE_HOME=$TMP/state
  mkdir -m 700 "$XDG_RUNTIME_DIR"
  mkdir -p "$XDG_CONFIG_HOME/pipewire/pipewire.conf.d" "$XDG_STATE_HOME"
  unset PIPEWIRE_REMOTE PIPEWIRE_CORE PIPEWIRE_PROPS PIPEWIRE_LATENCY PIPEWIRE_QUANTUM
  ;;
*) fail "RTLANE_SERVER=$RTLANE_SERVER: expected jackd or pipewire" ;;
esac

# Real-time scheduling for jackd (and so for every client's process thread)
# where this user may have it, as a studio runs it: on two shared cores a
# jackd without it misses periods whenever anything else runs, and the
# tests that judge MIDI and timing frame by frame would then only see xruns.
# (PipeWire's module-rt does the same for itself and its clients.)
if chrt -f 1 true 2>/dev/null; then
  JACKD_SCHED=-R
else
  JACKD_SCHED=--no-realtime
fi
# Synchronous mode (-S): the server waits for every client in each cycle,
# so on a loaded two-core machine a late client delays the cycle (an xrun,
# still counted and still excluded by the timing tests) instead of missing
# it, and the samples that do flow are the graph's, not a skipped period's.
# It waits ten timeouts of two periods (107 ms at 48 kHz / 256) for a
# client that does not finish, one that dies mid-cycle say, then goes on
# (the cycle counts as an xrun).  Cycles that long for good, a
# "SuspendRefNum error" each, mean a client left waiting on a semaphore
# nobody signals: see wait_ports and server_up below.
JACKD_EXTRA=${JACKD_EXTRA--S}

# What disturbs a frame-exact result.  A synchronous server waits for a
# late client, so its xruns are late cycles with every sample intact (an
# 8 s take under load: 27 xruns, 0 samples off); only a jump in the frame
# times (a gap the tools see in their own cycles) breaks the timeline.  An
# asynchronous server skips late clients: there every xrun counts.
# PipeWire's dummy driver never reports an xrun to JACK clients, so there
# gaps are all there is to go by.  The tools print both counts on each
# line; `disturbed LINE` gives the one that matters here, by key.
case " $JACKD_EXTRA " in
*" -S "*) JUDGE_BY=gaps ;;
*) JUDGE_BY=xruns ;;
esac
on_pipewire && JUDGE_BY=gaps
disturbed() {
  echo "$1" | awk -v k="$JUDGE_BY" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

DBUS_PID=
WIREPLUMBER_PID=
SYSTEM_PID=

# A private session bus for WirePlumber (once per test), started by PID
# rather than through dbus-run-session, which would leave it behind.
start_bus() {
  [ -n "$DBUS_PID" ] && return 0
  dbus-daemon --session --nofork --nopidfile --address="unix:path=$XDG_RUNTIME_DIR/bus" \
    >/dev/null 2>"$TMP/dbus.log" &
  DBUS_PID=$!
  PIDS+=("$DBUS_PID")
  local i
  for i in $(seq 100); do
    [ -S "$XDG_RUNTIME_DIR/bus" ] && break
    sleep 0.05
  done
  [ -S "$XDG_RUNTIME_DIR/bus" ] || fail "dbus-daemon did not come up: $(cat "$TMP/dbus.log")"
  export DBUS_SESSION_BUS_ADDRESS="unix:path=$XDG_RUNTIME_DIR/bus"
}

# jack_socket NAME: the socket jackd NAME takes requests on.
jack_socket() { echo "/dev/shm/jack_$1_$(id -u)_0"; }

# server_up NAME: a JACK client can open on server NAME (jackd: waits up
# to 10 s; PipeWire: asks once).  jackd is asked by its socket, not by a
# client (jack_wait): after a restart the daemon opens its client again
# at once, and a client closing meanwhile can leave the daemon's libjack
# unable to wake the next client given the closed one's number
# (tests/tools/rtl-ports-wait.c).  jackd binds the socket before it
# serves, and a client that connects early is served once it does.
server_up() {
  if on_pipewire; then
    jack_lsp -s "$1" >/dev/null 2>&1
  else
    local i
    for i in $(seq 200); do
      [ -S "$(jack_socket "$1")" ] && return 0
      sleep 0.05
    done
    return 1
  fi
}

# run_server NAME RATE PERIOD LOG: starts the server (its PID in
# JACKD_PID) and waits until clients can open on it.
run_server() {
  local name=$1 rate=$2 period=$3 log=$4 i
  if ! on_pipewire; then
    # A server of this name that was killed left its socket behind.
    rm -f "$(jack_socket "$name")"
    jackd "$JACKD_SCHED" ${JACKD_EXTRA:-} -n "$name" -d dummy -r "$rate" -p "$period" >"$log" 2>&1 &
    JACKD_PID=$!
    PIDS+=("$JACKD_PID")
    if ! server_up "$name"; then
      sed 's/^/#   /' "$log"
      fail "jackd $name did not come up"
    fi
    return 0
  fi
  start_bus
  # The last server's name would override the one asked for.
  unset PIPEWIRE_REMOTE
  # No devices: the graph runs on PipeWire's Dummy-Driver, a timer, at the
  # rate and quantum asked for (the tests may force others later).
  printf '%s\n' "context.properties = {" \
    "    default.clock.rate          = $rate" \
    "    default.clock.allowed-rates = [ $rate ]" \
    "    default.clock.quantum       = $period" \
    "    default.clock.min-quantum   = 16" \
    "    default.clock.max-quantum   = 8192" \
    "    default.clock.quantum-limit = 8192" \
    "    vm.overrides = { default.clock.min-quantum = 16 }" \
    "}" >"$XDG_CONFIG_HOME/pipewire/pipewire.conf.d/rtlane-test.conf"
  [ -n "$SYSTEM_PID" ] && stop_pid "$SYSTEM_PID"
  [ -n "$WIREPLUMBER_PID" ] && stop_pid "$WIREPLUMBER_PID"
  PIPEWIRE_CORE=$name pipewire >"$log" 2>&1 &
  JACKD_PID=$!
  PIDS+=("$JACKD_PID")
  for i in $(seq 200); do
    server_up "$name" && break
    kill -0 "$JACKD_PID" 2>/dev/null || break
    sleep 0.05
  done
  if ! server_up "$name"; then
    sed 's/^/#   /' "$log"
    fail "pipewire $name did not come up"
  fi
  PIPEWIRE_REMOTE=$name wireplumber >"$log.wireplumber" 2>&1 &
  WIREPLUMBER_PID=$!
  PIDS+=("$WIREPLUMBER_PID")
  for i in $(seq 200); do
    pw-cli -r "$name" ls Client 2>/dev/null | grep -q 'application.name = "WirePlumber"' && break
    kill -0 "$WIREPLUMBER_PID" 2>/dev/null || fail "wireplumber exited: $(tail -5 "$log.wireplumber")"
    sleep 0.05
  done
  # A sound card's ports, which the Dummy-Driver does not have and jackd's
  # dummy backend does (system:capture_N, system:playback_N).
  need "$RTL_SYSTEM"
  "$RTL_SYSTEM" -s "$name" >"$log.system" 2>&1 &
  SYSTEM_PID=$!
  PIDS+=("$SYSTEM_PID")
  for i in $(seq 200); do
    grep -q ready "$log.system" && break
    kill -0 "$SYSTEM_PID" 2>/dev/null || fail "rtl-system exited: $(cat "$log.system")"
    sleep 0.05
  done
  grep -q ready "$log.system" || fail "rtl-system did not come up"
  # Tools that take no server name (jack_iodelay, jack_capture) find it
  # here; PipeWire's libjack ignores JACK_DEFAULT_SERVER.
  export PIPEWIRE_REMOTE=$name
}

# server_period RATE PERIOD: the period to run at.  PipeWire 0.3.65's
# Dummy-Driver, on this kind of two-core VM, skips cycles of its clients
# many times a second at periods under 5 ms (a lone capture client at 96
# kHz / 256: about 15 skipped cycles a second), and still now and then
# at 5 ms (48 kHz / 256: up to one a second), where jackd -S runs clean;
# a take of a few seconds or a MIDI run then rarely has a clean stretch.
# There the period is doubled until it is 10 ms or more.  Tests that force
# shorter quanta do so on purpose, later.
server_period() {
  local rate=$1 period=$2
  if on_pipewire; then
    while [ $((period * 1000)) -lt $((rate * 10)) ]; do
      period=$((period * 2))
    done
  fi
  echo "$period"
}

# start_jackd [RATE [PERIOD]]: a private server (jackd on the dummy
# backend, or PipeWire on its dummy driver) under a new name.
start_jackd() {
  JACK_RATE=${1:-48000}
  JACK_PERIOD=$(server_period "$JACK_RATE" "${2:-256}")
  SRV_N=$((SRV_N + 1))
  JACK_SERVER=rtlane-test-$$-$SRV_N
  run_server "$JACK_SERVER" "$JACK_RATE" "$JACK_PERIOD" "$TMP/jackd-$SRV_N.log"
  export JACK_DEFAULT_SERVER=$JACK_SERVER
  log "$RTLANE_SERVER $JACK_SERVER pid $JACKD_PID, $JACK_RATE Hz, period $JACK_PERIOD$(on_pipewire || echo ", $JACKD_SCHED")"
}

# restart_jackd [RATE [PERIOD]]: the same server name again, after the
# test stopped or killed the last one (a SIGKILLed jackd keeps its slot
# in JACK's registry until a server of its name starts again).
restart_jackd() {
  JACK_RATE=${1:-$JACK_RATE}
  JACK_PERIOD=$(server_period "$JACK_RATE" "${2:-$JACK_PERIOD}")
  SRV_N=$((SRV_N + 1))
  run_server "$JACK_SERVER" "$JACK_RATE" "$JACK_PERIOD" "$TMP/jackd-$SRV_N.log"
  log "$RTLANE_SERVER $JACK_SERVER back, pid $JACKD_PID, $JACK_RATE Hz, period $JACK_PERIOD"
}

# pw_force KEY VALUE: sets clock.force-rate or clock.force-quantum in the
# private PipeWire's settings (0 clears it).
pw_force() {
  pw-metadata -r "$JACK_SERVER" -n settings 0 "$1" "$2" >/dev/null || fail "pw-metadata $1 $2"
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

# wait_ports [-s SERVER] [-p PID] [-c | -g] PORT...: up to 15 s until
# every PORT exists (-c: is connected; -g: none exists), giving up early
# if process PID ends.  Never poll with jack_lsp while a client starts: a
# client closing while another opens can leave the opening process unable
# to wake the next client given the closed one's number (rtl-ports-wait.c).
wait_ports() {
  local server=$JACK_SERVER
  if [ "${1:-}" = -s ]; then
    server=$2
    shift 2
  fi
  need "$RTL_PORTS_WAIT"
  timeout 20 "$RTL_PORTS_WAIT" -s "$server" -t 15 "$@"
}

# start_player PORT=WAVE...: plays in the background until stopped
# (stop_player, or the test's exit).  timeout(1) forwards SIGTERM to it.
PLAYER_PID=
start_player() {
  local args=() ports=() n=0 out
  for w in "$@"; do
    args+=(-P "$w")
    n=$((n + 1))
    ports+=("rtl-player-$$_src:out_$n")
  done
  timeout 300 "$RTL_PROBE" -s "$JACK_SERVER" -N rtl-player-$$ "${args[@]}" -S 0 \
    >"$TMP/player.out" 2>&1 &
  PLAYER_PID=$!
  PIDS+=("$PLAYER_PID")
  # Playing once every one of its ports is connected.
  out=$(wait_ports -p "$PLAYER_PID" -c "${ports[@]}" 2>&1) && return 0
  cat "$TMP/player.out"
  fail "player $* did not connect: $out"
}

stop_player() {
  [ -n "$PLAYER_PID" ] && stop_pid "$PLAYER_PID"
  PLAYER_PID=
}

# --- timing trials ------------------------------------------------------------

# run_trials KIND CHECK_AWK WHAT PROBE_ARGS...: rtl-probe's KIND lines
# (timed, untimed or step), each judged by CHECK_AWK, a condition over v
# (the error or delay), p (the period the line reports) and l ($L, the
# write-ahead delay, 0 if unset).  Trials the server disturbed are left out
# (steps and time tags by what breaks the timeline, `disturbed`; an
# untimed command by xruns, since a late cycle moves its wall-clock send),
# and so is a timed trial during which the server's clock mapping moved
# (the probe's own mapping of the tag right after sending, `remapped`, is
# not the frame it aimed at).  Up to TRIAL_RUNS probe runs (default 10),
# until MIN_CLEAN (default 2) clean trials passed.
run_trials() {
  local kind=$1 check=$2 what=$3 out line clean=0 dirty=0 x run args
  shift 3
  args=("$@")
  for run in $(seq "${TRIAL_RUNS:-10}"); do
    out=$(probe "${args[@]}") || fail "rtl-probe ${args[*]}: $out"
    printf '%s\n' "$out" | sed 's/^/#   /'
    while read -r line; do
      set -- $line
      if [ "$kind" != untimed ]; then x=$(disturbed "$line"); else x=$(kv "$line" "$kind " xruns); fi
      if [ "$x" != 0 ]; then
        dirty=$((dirty + 1))
        log "$what, trial $2: $x xruns during the trial, excluded"
        continue
      fi
      if [ "$kind" = timed ] && [ "$(kv "$line" "timed $2" remapped)" != "$4" ]; then
        dirty=$((dirty + 1))
        log "$what, trial $2: the server's clock mapping moved while sending (aimed $4, remapped $(kv "$line" "timed $2" remapped)), excluded"
        continue
      fi
      [ "$6" != none ] || fail "$what, trial $2: the output never changed"
      clean=$((clean + 1))
      fcheck "$check" "$what, trial $2: $7 $8 frames (L ${L:-0}): $line" \
        -v v="$8" -v p="$(kv "$line" "$kind " period)" -v l="${L:-0}"
    done < <(printf '%s\n' "$out" | grep "^$kind ")
    [ $clean -ge "${MIN_CLEAN:-2}" ] && break
  done
  [ $clean -ge "${MIN_CLEAN:-2}" ] ||
    fail "$what: only $clean trials without xruns ($dirty with), need ${MIN_CLEAN:-2}: the server is too loaded to measure"
  log "$what: $clean clean trials passed, $dirty excluded for xruns"
}
