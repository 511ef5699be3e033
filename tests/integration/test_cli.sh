#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Command line: --help and --version exit 0 on stdout; a bad option or value
# exits 2 with one "rtlane: ..." line; an unreachable server or an OSC port
# that is taken exits 1 with one clear line.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"

for opt in -h --help; do
  out=$(timeout 10 "$RTLANE" "$opt" 2>"$TMP/err")
  rc=$?
  expect_eq "$rc" 0 "rtlane $opt exit status"
  [ -s "$TMP/err" ] && fail "rtlane $opt wrote to stderr: $(cat "$TMP/err")"
  printf '%s\n' "$out" | grep -qi 'usage' || fail "rtlane $opt: no usage text on stdout: $out"
  for o in --name --server --inputs --osc-port --osc-tcp --osc-bind --connect --help --version; do
    printf '%s\n' "$out" | grep -q -- "$o" || fail "rtlane $opt does not mention $o"
  done
done
pass "--help"

for opt in -V --version; do
  out=$(timeout 10 "$RTLANE" "$opt" 2>"$TMP/err")
  rc=$?
  expect_eq "$rc" 0 "rtlane $opt exit status"
  printf '%s\n' "$out" | grep -qxE 'rtlane [0-9]+\.[0-9]+(\.[0-9]+)?([-+~.][0-9A-Za-z.~+-]*)?' ||
    fail "rtlane $opt printed '$out', expected 'rtlane VERSION'"
done
pass "--version"

# A bad option or value: exit 2, exactly one "rtlane: ..." line, at most the
# "Try 'rtlane --help'." hint besides, nothing on stdout, and no JACK needed.
bad_usage() {
  local out rc n_lines first second
  out=$(timeout 10 "$RTLANE" "$@" 2>"$TMP/err")
  rc=$?
  expect_eq "$rc" 2 "rtlane $* exit status"
  [ -z "$out" ] || fail "rtlane $*: wrote to stdout: $out"
  n_lines=$(grep -c . "$TMP/err")
  first=$(sed -n 1p "$TMP/err")
  second=$(sed -n 2p "$TMP/err")
  case $first in
  "rtlane: "?*) ;;
  *) fail "rtlane $*: first stderr line '$first' is not 'rtlane: <what is wrong>'" ;;
  esac
  if [ "$n_lines" -gt 2 ] || { [ "$n_lines" -eq 2 ] && [ "$second" != "Try 'rtlane --help'." ]; }; then
    fail "rtlane $*: expected one line (plus the --help hint), got:
$(cat "$TMP/err")"
  fi
  # "What is wrong" names the option at fault.
  # (NAMES: the accepted spellings, separated by spaces.)
  if [ -n "${NAMES:-}" ]; then
    local named=0 n
    for n in $NAMES; do
      case $first in *"$n"*) named=1 ;; esac
    done
    # Reported at the end, so the checks below still run.
    [ $named = 1 ] || NAMING+=("rtlane $*: '$first' does not name the option ($NAMES)")
  fi
  log "rtlane $* -> 2: $first"
}
NAMING=()
bad_usage --bogus
bad_usage -x
bad_usage -i 0
bad_usage -i 65
bad_usage -i abc
bad_usage -i 2x
bad_usage --inputs=-1
bad_usage -p 0
bad_usage -p 70000
bad_usage -p port
NAMES="'-i' inputs" bad_usage -i
NAMES="'-n' name" bad_usage --name
bad_usage extra-argument
bad_usage -l abc
bad_usage --write-ahead=-5
NAMES=insert bad_usage --insert
NAMES=state bad_usage --state
NAMES=record-dir bad_usage --record-dir
NAMES=osc-bind bad_usage --osc-bind
NAMES=bogus bad_usage --bogus
pass "bad options exit 2 with one line"

# Unreachable server: exit 1 with one line, promptly (bounded by timeout).
out=$(timeout 20 "$RTLANE" -s "rtlane-test-$$-nowhere" -p "$(free_port)" 2>"$TMP/err")
rc=$?
expect_eq "$rc" 1 "rtlane -s <no such server> exit status"
grep -q '^rtlane: ' "$TMP/err" || fail "no 'rtlane: ...' line for an unreachable server: $(cat "$TMP/err")"
grep -qw ready "$TMP/err" && fail "daemon said ready without a server"
log "unreachable server -> 1: $(grep -m1 '^rtlane: ' "$TMP/err")"
pass "unreachable server exits 1"

start_jackd

# --state and --record-dir are accepted; -l 0 is direct mode.
start_daemon --state "$TMP/state" --record-dir "$TMP" -l 0
expect_eq "$(osc /ping)" "/pong" "daemon with --state, --record-dir, -l 0"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status"

# -l 50 runs in write-ahead mode.
start_daemon -l 50
grep -m1 -w ready "$DAEMON_ERR" | grep -q 'write-ahead 50 ms' ||
  fail "rtlane -l 50: ready line does not say write-ahead: $(grep -m1 -w ready "$DAEMON_ERR")"
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "rtlane -l 50 exit status"

# A plug-in that does not exist is refused with one line, before any JACK
# client is made: a bad value (2) or a failure to load (1).
for later in "--insert $TMP/none.so" "-l 50 --insert $TMP/none.so"; do
  timeout 20 "$RTLANE" -s "$JACK_SERVER" -p "$(free_port 5)" $later >"$TMP/out" 2>"$TMP/err"
  rc=$?
  case "$rc" in
  1 | 2) ;;
  *) fail "rtlane $later: exit status $rc (expected 1 or 2)" ;;
  esac
  grep -q '^rtlane: ' "$TMP/err" || fail "rtlane $later: no 'rtlane: ...' line"
  grep -qw ready "$TMP/err" && fail "rtlane $later: said ready with a missing plug-in"
  log "rtlane $later -> $rc: $(head -n 1 "$TMP/err")"
done
pass "options of later issues"

# OSC port taken (by a first daemon): the second one exits 1.
start_daemon
first_port=$OSC_PORT
out=$(timeout 20 "$RTLANE" -s "$JACK_SERVER" -n rtlane-second -p "$first_port" 2>"$TMP/err")
rc=$?
expect_eq "$rc" 1 "second daemon on a taken OSC port, exit status"
grep -q '^rtlane: ' "$TMP/err" || fail "no 'rtlane: ...' line for a taken port: $(cat "$TMP/err")"
grep -qw ready "$TMP/err" && fail "second daemon said ready on a taken port"
log "taken OSC port -> 1: $(grep -m1 '^rtlane: ' "$TMP/err")"
# The first daemon is unharmed, and the second left no JACK client behind.
expect_eq "$(osc /ping)" "/pong" "first daemon after the failed second one"
jack_lsp -s "$JACK_SERVER" | grep -q '^rtlane-second:' && fail "the failed daemon left ports behind"
pass "taken OSC port exits 1"

if [ ${#NAMING[@]} -gt 0 ]; then
  printf '%s\n' "${NAMING[@]}"
  fail "${#NAMING[@]} error messages for a missing value do not say which option"
fi
pass "every bad-usage message names its option"
