#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# rtlane-ctl against a running daemon: every command, readable and --json,
# over UDP and TCP, and each exit status (0 done, 1 /error, 2 usage, 3 no
# answer, 4 other failure) provoked.
. "$(dirname "$0")/lib.sh"
CTL=$BUILD_DIR/rtlane-ctl
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE" "$CTL"
start_jackd

ST=$TMP/st
REC=$TMP/rec
mkdir -p "$ST" "$REC"
start_daemon -i 2 -l 50 --osc-tcp --state "$ST/rtlane.state" --record-dir "$REC"

# ctl ARG...: runs rtlane-ctl on the daemon's port; sets OUT, ERR and RC.
ctl() {
  OUT=$(timeout 45 "$CTL" -p "$OSC_PORT" "$@" 2>"$TMP/ctl.err")
  RC=$?
  ERR=$(cat "$TMP/ctl.err")
}

# expect_rc STATUS: the last ctl exited with STATUS.
expect_rc() {
  [ "$RC" = "$1" ] || fail "rtlane-ctl ${CALL:-}: exit status $RC, expected $1
stdout: $OUT
stderr: $ERR"
}

# ok ARG...: runs rtlane-ctl, which must exit 0 with nothing on stderr.
ok() {
  CALL="$*"
  ctl "$@"
  expect_rc 0
  [ -z "$ERR" ] || fail "rtlane-ctl $*: stderr: $ERR"
}

# refused PATH REASON ARG...: the daemon's /error, status 1, one line.
refused() {
  local path=$1 reason=$2
  shift 2
  CALL="$*"
  ctl "$@"
  expect_rc 1
  expect_eq "$ERR" "rtlane-ctl: $path: $reason" "stderr of rtlane-ctl $*"
}

# json_check PYTHON_EXPR: every line of $OUT is a JSON object `o`, and
# the expression holds for the list of them, `objs`.
json_check() {
  printf '%s\n' "$OUT" | python3 -c '
import json, sys
objs = [json.loads(line) for line in sys.stdin if line.strip()]
assert all(set(o) == {"path", "types", "args"} for o in objs), objs
assert all(len(o["types"]) == len(o["args"]) for o in objs), objs
sys.exit(0 if ('"$1"') else 1)' || fail "JSON of rtlane-ctl ${CALL:-}: not ($1):
$OUT"
}

# --- queries ------------------------------------------------------------------

ok ping
expect_eq "$OUT" pong "ping"

# status_value KEY: the value of "KEY: value" in $OUT.
status_value() { printf '%s\n' "$OUT" | sed -n "s/^$1: *//p"; }

ok status
expect_eq "$(printf '%s\n' "$OUT" | wc -l)" 12 "status lines"
expect_eq "$(status_value name)" rtlane "status name"
expect_eq "$(status_value rate)" "$JACK_RATE" "status rate"
expect_eq "$(status_value period)" "$JACK_PERIOD" "status period"
expect_eq "$(status_value latency_frames)" 2400 "status latency_frames (-l 50 at 48 kHz)"
status_value dsp_load | grep -qx '[0-9.e+-]*' || fail "status: no dsp_load: $OUT"
# Every value starts in the same column.
expect_eq "$(printf '%s\n' "$OUT" | awk '{ print index($0, $2) }' | sort -u | wc -l)" 1 "status value columns"

ok list
n_osc=$(osc -n 0 /list @wait "/list.reply" | grep -c '^/list.reply sss ')
expect_eq "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" "$n_osc" "list rows (one per address /list names)"
expect_eq "$(printf '%s\n' "$OUT" | head -n 1 | tr -s ' ')" "ADDRESS TYPES DESCRIPTION" "list header"
printf '%s\n' "$OUT" | grep -q '^/ch/1/gain  *f  *channel gain in dB' || fail "list: no /ch/1/gain row: $OUT"
printf '%s\n' "$OUT" | grep -q '^/midi/map  *is  *maps MIDI CC' || fail "list: no /midi/map row"
printf '%s\n' "$OUT" | grep -q '^/ping  *-  *replies /pong' || fail "list: no /ping row (no types: -)"
# The columns line up: TYPES and DESCRIPTION start at the header's columns.
printf '%s\n' "$OUT" | awk 'NR == 1 { t = index($0, "TYPES"); d = index($0, "DESCRIPTION"); next }
  substr($0, t - 1, 1) != " " || substr($0, t, 1) == " " || substr($0, d - 1, 1) != " " ||
  substr($0, d, 1) == " " { print "misaligned: " $0; bad = 1 } END { exit bad }' || fail "list columns"
pass "ping, status (named by /list), list (a table)"

# --- settings -----------------------------------------------------------------

ok get /ch/1/gain
expect_eq "$OUT" 0 "get /ch/1/gain"
ok set /ch/1/gain -6.5
expect_eq "$OUT" "" "set prints nothing"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -6.5" "/ch/1/gain after set (sent as f)"
ok get /ch/1/gain
expect_eq "$OUT" -6.5 "get /ch/1/gain after set"
ok set /ch/2/mute on
expect_eq "$(get /ch/2/mute)" "/ch/2/mute i 1" "/ch/2/mute after set on (sent as i)"
ok set /ch/2/mute 0
expect_eq "$(get /ch/2/mute)" "/ch/2/mute i 0" "/ch/2/mute after set 0"
ok set /transport/bpm 97.5
expect_eq "$(get /transport/bpm)" "/transport/bpm f 97.5" "/transport/bpm"
ok set /midi/map 7 /master/gain
ok set /transport/start
ok set /transport/stop
pass "get, set (typed as /list says, toggles as on/off), commands through set"

refused /ch/9/gain "unknown channel" set /ch/9/gain 0
expect_eq "$OUT" "" "stdout after /error"
refused /ch/1/gain "out of range" set /ch/1/gain 99
refused /nowhere "unknown address" set /nowhere 1
refused /get "unknown parameter address" get /ch/1/nothing
refused /ch/1/gain "wrong arguments (expected f)" set /ch/1/gain -1 extra
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -6.5" "/ch/1/gain after refused sets"
pass "an /error is exit status 1 with 'rtlane-ctl: PATH: REASON'"

# --- latency, state, sync -----------------------------------------------------

ok latency
expect_eq "$OUT" "50 ms (2400 frames)" "latency"
ok latency 80
expect_eq "$OUT" "80 ms (3840 frames)" "latency 80"
CALL="latency 0"
ctl latency 0
expect_rc 1
printf '%s\n' "$ERR" | grep -qx 'rtlane-ctl: /latency/set: out of range.*' || fail "latency 0: $ERR"
ok latency
expect_eq "$OUT" "80 ms (3840 frames)" "latency after a refused one"

ok save
expect_eq "$OUT" "saved $ST/rtlane.state" "save"
grep -qx '/ch/1/gain f -6.5' "$ST/rtlane.state" || fail "the state file lacks /ch/1/gain: $(cat "$ST/rtlane.state")"
ok save live.state
expect_eq "$OUT" "saved live.state" "save live.state"
[ -f "$ST/live.state" ] || fail "live.state is not in the state directory"
ok set /ch/1/gain -1
ok load live.state
printf '%s\n' "$OUT" | grep -qx 'loaded live.state ([0-9]* settings)' || fail "load: $OUT"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -6.5" "/ch/1/gain after load"
CALL="load missing.state"
ctl load missing.state
expect_rc 1
printf '%s\n' "$ERR" | grep -q '^rtlane-ctl: /load: ' || fail "load missing.state: $ERR"
ctl save ../outside.state
expect_rc 1
[ ! -e "$TMP/outside.state" ] || fail "save ../outside.state wrote outside the state directory"
ok sync
expect_eq "$OUT" "" "sync prints nothing"
pass "latency, save, load and sync"

# --- recording ----------------------------------------------------------------

ok record status
expect_eq "$OUT" "mix: idle
inputs: idle" "record status when idle"
ok record start take.wav
printf '%s\n' "$OUT" | grep -qx 'recording take.wav from frame [0-9][0-9]*' || fail "record start: $OUT"
refused /record/start "already recording mix" record start other.wav
ok record status
printf '%s\n' "$OUT" | grep -qx 'mix: recording take.wav, [0-9]* frames, 0 lost' || fail "record status: $OUT"
ok record start stems.wav inputs
printf '%s\n' "$OUT" | grep -qx 'recording stems.wav from frame [0-9]*' || fail "record start inputs: $OUT"
ok record stop mix
printf '%s\n' "$OUT" | grep -qx 'take.wav: [1-9][0-9]* frames, 0 lost' || fail "record stop mix: $OUT"
ok record status
printf '%s\n' "$OUT" | grep -q '^inputs: recording stems.wav' || fail "record status after stop mix: $OUT"
expect_line "$OUT" "mix: idle" "record status after stop mix"
ok record stop
printf '%s\n' "$OUT" | grep -qx 'stems.wav: [1-9][0-9]* frames, 0 lost' || fail "record stop: $OUT"
[ -s "$REC/take.wav" ] && [ -s "$REC/stems.wav" ] || fail "the takes are not in the record directory: $(ls -l "$REC")"
refused /record/stop "not recording" record stop
pass "record start, status and stop (waits for each take's file)"

# --- usage errors -------------------------------------------------------------

usage_error() { # ARG...: exit status 2, a line that says why, nothing changed
  CALL="$*"
  ctl "$@"
  expect_rc 2
  [ -n "$ERR" ] || fail "rtlane-ctl $*: no reason on stderr"
  expect_eq "$OUT" "" "stdout of rtlane-ctl $*"
}
ok status
rejected=$(status_value cmds_rejected)
usage_error
usage_error frobnicate
usage_error get
usage_error get /ch/1/gain /ch/2/gain
usage_error set /ch/1/gain abc
usage_error set /ch/1/gain
usage_error set /ch/1/mute maybe
usage_error set ch/1/gain 0
usage_error record
usage_error record start
usage_error record pause
usage_error latency soon
usage_error meters 0
usage_error meters 101
usage_error -p 0 ping
usage_error -p 70000 ping
usage_error -T never ping
usage_error --bogus ping
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -6.5" "/ch/1/gain after the usage errors"
ok status
expect_eq "$(status_value cmds_rejected)" "$rejected" "requests the daemon rejected during the usage errors"
out=$("$CTL" --help) || fail "--help failed"
printf '%s\n' "$out" | grep -q '^  meters \[HZ\]' || fail "--help does not list meters"
version=$("$RTLANE" --version | awk '{ print $NF }')
expect_eq "$("$CTL" --version)" "rtlane-ctl $version" "--version"
pass "usage errors exit 2, the daemon rejects nothing; --help, --version"

# --- no answer, other failures ------------------------------------------------

NOBODY=$(free_port 100)
OUT=$(timeout 45 "$CTL" -p "$NOBODY" -T 300 ping 2>"$TMP/ctl.err")
RC=$? ERR=$(cat "$TMP/ctl.err") CALL="ping to a port nobody listens on"
expect_rc 3
expect_eq "$ERR" "rtlane-ctl: no answer from 127.0.0.1:$NOBODY within 300 ms" "stderr"
OUT=$(timeout 45 "$CTL" -p "$NOBODY" -T 300 set /ch/1/gain 0 2>"$TMP/ctl.err")
RC=$? ERR=$(cat "$TMP/ctl.err") CALL="set to a port nobody listens on"
expect_rc 3
OUT=$(timeout 45 "$CTL" -t -p "$NOBODY" -T 300 status 2>"$TMP/ctl.err")
RC=$? ERR=$(cat "$TMP/ctl.err") CALL="status over TCP to a port nobody listens on"
expect_rc 3
printf '%s\n' "$ERR" | grep -q "^rtlane-ctl: cannot send to 127.0.0.1:$NOBODY over TCP: " || fail "TCP, refused: $ERR"
OUT=$(timeout 45 "$CTL" -p "$OSC_PORT" -T 300 -r "$OSC_PORT" ping 2>"$TMP/ctl.err")
RC=$? ERR=$(cat "$TMP/ctl.err") CALL="-r on the daemon's own port"
expect_rc 4
expect_eq "$ERR" "rtlane-ctl: cannot receive on UDP port $OSC_PORT (in use?)" "stderr"
timeout 45 "$CTL" -p "$OSC_PORT" list >/dev/full 2>"$TMP/ctl.err"
RC=$? ERR=$(cat "$TMP/ctl.err") OUT='' CALL="list >/dev/full"
expect_rc 4
printf '%s\n' "$ERR" | grep -qx 'rtlane-ctl: stdout: .*' || fail "list >/dev/full: stderr: $ERR"
OUT=$(RTLANE_PORT=$OSC_PORT timeout 45 "$CTL" ping 2>&1) || fail "RTLANE_PORT: $OUT"
expect_eq "$OUT" pong "ping on RTLANE_PORT"
pass "no answer exits 3 (UDP silence, TCP refused), other failures 4"

# --- JSON ---------------------------------------------------------------------

CALL="--json status"
ok --json status
json_check 'len(objs) == 1 and objs[0]["path"] == "/status.reply" and objs[0]["args"][0] == "rtlane" and objs[0]["args"][1] == '"$JACK_RATE"
ok --json get /ch/1/gain
expect_eq "$OUT" '{"path":"/ch/1/gain","types":"f","args":[-6.5]}' "--json get"
ok -j list
json_check "len(objs) == $n_osc and all(o['path'] == '/list.reply' and o['types'] == 'sss' for o in objs)"
ok -j set /ch/1/gain -6
json_check 'len(objs) == 1 and objs[0]["path"] == "/synced"'
ok -j latency
expect_eq "$OUT" '{"path":"/latency.reply","types":"if","args":[3840,80]}' "--json latency"
ok -j record status
json_check 'len(objs) == 2 and objs[0]["args"][:2] == ["mix", "idle"]'
CALL="-j set /ch/9/gain 0"
ctl -j set /ch/9/gain 0
expect_rc 1
expect_eq "$OUT" '{"path":"/error","types":"ss","args":["/ch/9/gain","unknown channel"]}' "--json /error"
expect_eq "$ERR" "rtlane-ctl: /ch/9/gain: unknown channel" "stderr of --json /error"
pass "--json: one object per reply, /error too"

# --- over TCP -----------------------------------------------------------------

ok -t status
expect_line "$OUT" "rate:           $JACK_RATE" "status over TCP"
ok -t set /ch/1/gain -2
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -2" "/ch/1/gain after a set over TCP"
ok -t get /ch/1/gain
expect_eq "$OUT" -2 "get over TCP"
refused /ch/9/gain "unknown channel" -t set /ch/9/gain 0
ok -t list
expect_eq "$(printf '%s\n' "$OUT" | sed 1d | wc -l)" "$n_osc" "list rows over TCP"
pass "TCP (-t): status, set, get, /error, list"

# --- watch and meters ---------------------------------------------------------

# bg NAME ARG...: rtlane-ctl in the background, output in $TMP/NAME.out.
bg() {
  local name=$1
  shift
  timeout 120 "$CTL" -p "$OSC_PORT" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

# stop_bg SIGNAL WHAT: the background rtlane-ctl ends, with status 0.
stop_bg() {
  kill -"$1" "$BG_PID"
  wait "$BG_PID"
  RC=$? OUT=$(cat "$TMP/$2.out") ERR=$(cat "$TMP/$2.err") CALL="$2 ended by SIG$1"
  expect_rc 0
  [ -z "$ERR" ] || fail "$2: stderr: $ERR"
}

# wait_for FILE PATTERN [ACTION...]: until FILE has a line matching PATTERN,
# doing ACTION (again) each time, for up to 30 s.
wait_for() {
  local file=$1 pattern=$2 i
  shift 2
  for i in $(seq 300); do
    [ $# -gt 0 ] && "$@" >/dev/null
    grep -q -- "$pattern" "$file" && return 0
    sleep 0.1
  done
  fail "no line '$pattern' in $file: $(cat "$file")"
}

bg watch watch
# Subscribed once a change shows up.
wait_for "$TMP/watch.out" '^/ch/2/pan 0.25$' "$CTL" -p "$OSC_PORT" set /ch/2/pan 0.25
ok set /ch/2/gain -3
wait_for "$TMP/watch.out" '^/ch/2/gain -3$'
ok -t set /ch/1/mute 1
wait_for "$TMP/watch.out" '^/ch/1/mute 1$'

# A datagram from anyone but the daemon is not believed.
inodes=$(ls -l "/proc/$(pgrep -P "$BG_PID" -x rtlane-ctl)/fd" 2>/dev/null |
  sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
hex=$(cat /proc/net/udp /proc/net/udp6 | awk -v i=" $inodes" 'index(i, " " $10 " ") { n = split($2, a, ":"); print a[n]; exit }')
[ -n "$hex" ] || fail "cannot find the UDP port of watch (sockets: $inodes)"
watch_port=$((0x$hex))
"$RTL_OSC" -p "$watch_port" -n 0 /state sf /ch/1/gain 11 @listen 0.1 >/dev/null
ok set /ch/2/gain -4
wait_for "$TMP/watch.out" '^/ch/2/gain -4$'
stop_bg INT watch
expect_no_line "$OUT" '^/ch/1/gain 11' "watch believed a stranger"
pass "watch prints /state until SIGINT (exit 0), and only the daemon's"

bg watchjson -j watch
wait_for "$TMP/watchjson.out" '"/ch/2/pan"' "$CTL" -p "$OSC_PORT" set /ch/2/pan -0.5
stop_bg TERM watchjson
json_check 'objs[-1] == {"path": "/state", "types": "sf", "args": ["/ch/2/pan", -0.5]}'
pass "watch --json"

# Meters when stdout is not a terminal: one line per reading.
ok set /ch/1/gain 0
ok set /ch/1/mute 0
start_player "$DAEMON_NAME:in_1=sine:1000:0.5"
bg meters meters 50
wait_for "$TMP/meters.out" '^in_1 -6\.[01] in_2 -inf L -9\.[01] R -9\.[01]$'
stop_bg INT meters
bad=$(grep -cvx 'in_1 [-0-9.inf]* in_2 [-0-9.inf]* L [-0-9.inf]* R [-0-9.inf]*' "$TMP/meters.out")
expect_eq "$bad" 0 "meters lines not of the form 'in_1 DB in_2 DB L DB R DB'"

bg metersjson -t -j meters
wait_for "$TMP/metersjson.out" '"args":\[-6\.0[0-9]*,"-inf",-9\.0[0-9]*,-9\.0[0-9]*\]'
stop_bg TERM metersjson
json_check 'len(objs) >= 1 and all(o["path"] == "/meters" and o["types"] == "ffff" for o in objs)'
stop_player
pass "meters as lines (not a terminal) and as JSON over TCP, ended by SIGINT and SIGTERM"

stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status"
