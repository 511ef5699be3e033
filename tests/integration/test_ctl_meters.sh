#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# rtlane-ctl meters in a terminal: a private tmux server runs it in a pane
# of a fixed size, fed by a sine on in_1.  Bars appear, follow the level
# (shorter, with the peak held above them; CLIP at 0 dBFS, cleared by c),
# re-lay out when the window is resized, empty (and say so) when the
# daemon goes away and come back from a daemon started again on the port,
# and Ctrl-C (or q) ends the view with status 0 and the terminal restored:
# the normal screen as it was, the cursor shown, the tty's modes as before.
. "$(dirname "$0")/lib.sh"
CTL=$BUILD_DIR/rtlane-ctl
need "$RTLANE" "$RTL_PROBE" "$CTL"
unset TMUX # a test run from inside tmux still starts its own server
command -v tmux >/dev/null || fail "tmux is not installed (debian/control lists it; scripts/install-deps)"
start_jackd
start_daemon -i 2
start_player "$DAEMON_NAME:in_1=sine:1000:0.5"

# A tmux server of our own (its socket in $TMP), stopped with the test.
printf 'set -g status off\n' >"$TMP/tmux.conf"
tm() { timeout 10 tmux -S "$TMP/tmux.sock" -f "$TMP/tmux.conf" "$@"; }

# The pane runs a shell that outlives rtlane-ctl, so the terminal can be
# looked at afterwards: a line before, then the status and whether the
# tty's modes (stty) are what they were.
cat >"$TMP/pane.sh" <<'EOF'
modes=$(stty -g)
echo before-meters
"$@"
status=$?
[ "$(stty -g)" = "$modes" ] && tty=restored || tty=changed
echo "exit=$status tty=$tty"
exec sleep 600
EOF

# start_view NAME COLS ROWS [ENV...]: rtlane-ctl meters in the pane of a
# new session, every byte it writes kept in $TMP/NAME.raw.
start_view() {
  local name=$1 cols=$2 rows=$3
  shift 3
  tm new-session -d -s "$name" -x "$cols" -y "$rows" \
    "exec bash '$TMP/pane.sh' env $* '$CTL' -p '$OSC_PORT' meters" || fail "tmux new-session failed"
  if [ -z "${TMUX_PID:-}" ]; then
    TMUX_PID=$(tm display -p -t "$name" '#{pid}')
    PIDS+=("$TMUX_PID")
  fi
  tm pipe-pane -o -t "$name" "cat >>'$TMP/$name.raw'"
}

pane() { tm display -p -t "$1" "$2"; }

# wait_screen NAME WHAT TEST...: polls the pane (its text in $SCREEN) until
# TEST succeeds, for up to 30 s (a synchronous server under load runs
# behind the wall clock, and the meters fall 20 dB per second of audio).
wait_screen() {
  local name=$1 what=$2 i
  shift 2
  for i in $(seq 300); do
    SCREEN=$(tm capture-pane -p -t "$name")
    "$@" && return 0
    sleep 0.1
  done
  fail "$what; the pane shows:
$SCREEN"
}

# row LABEL: the line of $SCREEN for that meter (in_1, in_2, L, R) or dB.
row() { printf '%s\n' "$SCREEN" | grep -m 1 "^$1 "; }
# bar LABEL: cells of the meter's bar filled ('#').
bar() { row "$1" | tr -cd '#' | wc -c; }
# cells LABEL: the width of the meter's bar.
cells() { row "$1" | cut -c 6- | sed 's/ .*//' | tr -cd '#.|!' | wc -c; }

# The levels the signal gives (a graph that stalls gives -inf for a while):
# -6 dBFS fills 54 of 60 dB, 56 of 62 cells; -9 dBFS 53; -29 dBFS 32.
levels() { [ "$(bar in_1)" = "$1" ] && [ "$(bar in_2)" = 0 ] && [ "$(bar L)" = "$2" ] && [ "$(bar R)" = "$2" ]; }
L_clips() { row L | grep -q ' CLIP$' && row R | grep -q ' CLIP$'; }
L_clear() { ! row L | grep -q CLIP && ! row R | grep -q CLIP; }
is_narrow() { [ "$(cells in_1)" -eq "$1" ] && ! row in_2 >/dev/null; }
is_wide() { [ "$(cells in_1)" -eq "$1" ] && row in_2 >/dev/null; }

# ended: rtlane-ctl is done; the shell said how.
ended() { printf '%s\n' "$SCREEN" | grep -q '^exit=[0-9]* tty=[a-z]*$'; }

# expect_restored NAME HOW: rtlane-ctl ended with status 0 and left the
# terminal as it found it.
expect_restored() {
  wait_screen "$1" "rtlane-ctl meters did not end after $2" ended
  expect_eq "$(printf '%s\n' "$SCREEN" | grep -v '^$')" "before-meters
exit=0 tty=restored" "the normal screen after $2 (status, tty modes)"
  expect_eq "$(pane "$1" '#{alternate_on} #{cursor_flag}')" "0 1" "alternate screen off, cursor shown after $2"
}

ctl() { timeout 45 "$CTL" -p "$OSC_PORT" "$@" || fail "rtlane-ctl $*: status $?"; }

# --- bars ---------------------------------------------------------------------

start_view meters 80 24
wait_screen meters "no bars for in_1 at -6 dBFS and L, R at -9 dBFS" levels 56 53
expect_eq "$(pane meters '#{alternate_on} #{cursor_flag}')" "1 0" "alternate screen on, cursor hidden"
printf '%s\n' "$SCREEN" | head -n 1 | grep -q "^rtlane meters  127.0.0.1:$OSC_PORT  20 Hz" ||
  fail "title: $(printf '%s\n' "$SCREEN" | head -n 1)"
row dB | grep -q '^dB   -60 .* -10 .* 0  peak$' || fail "scale: $(row dB)"
expect_eq "$(cells in_1)" 62 "bar width at 80 columns"
row in_1 | grep -q ' -6\.0$' || fail "in_1 peak readout: $(row in_1)"
row in_2 | grep -q ' -inf$' || fail "in_2 peak readout: $(row in_2)"
printf '%s\n' "$SCREEN" | grep -q '^q or Ctrl-C: quit' || fail "no keys line"
pass "a bar per input and for L and R, on a dB scale, with the held peak"

# --- the level moves ----------------------------------------------------------

ctl set /ch/1/gain -20
wait_screen meters "L and R did not fall 20 dB (in_1, before the fader, stays)" levels 56 32
# While the bar fell, the peak stayed where it was, in cell 53.
sed 's/\x1b\[[0-9;]*m//g' "$TMP/meters.raw" | grep -aq 'L    #\+\.*|\.\{9\} ' ||
  fail "no frame shows L's peak held in cell 53 above a shorter bar"
pass "a bar follows the level (53 cells, then 32), its peak held above it"

ctl set /ch/1/gain 12
wait_screen meters "no CLIP on L and R at +3 dBFS" L_clips
ctl set /ch/1/gain -20
wait_screen meters "L did not fall again" levels 56 32
row L | grep -q ' CLIP$' || fail "CLIP did not stay: $(row L)"
tm send-keys -t meters c
wait_screen meters "c did not clear CLIP" L_clear
pass "CLIP lights at 0 dBFS and stays until c"

# --- resizing -----------------------------------------------------------------

tm resize-window -t meters -x 50 -y 6
wait_screen meters "no re-layout at 50x6" is_narrow 32
expect_eq "$(pane meters '#{pane_width}x#{pane_height}')" 50x6 "pane size"
printf '%s\n' "$SCREEN" | awk 'length > 49 { exit 1 }' || fail "a line wider than 49 columns:
$SCREEN"
printf '%s\n' "$SCREEN" | grep -q '^1 input hidden: make the terminal taller' || fail "no word of the hidden input"
row L >/dev/null && row R >/dev/null || fail "L and R are not shown at 50x6"
tm resize-window -t meters -x 80 -y 24
wait_screen meters "no re-layout back at 80x24" is_wide 62
pass "the view follows the window's size (SIGWINCH)"

# --- leaving ------------------------------------------------------------------

tm send-keys -t meters C-c
expect_restored meters Ctrl-C
# The last modes it set: the cursor shown, then the normal screen.
last=$(grep -ao $'\x1b\\[?\\(25\\|1049\\)[hl]' "$TMP/meters.raw" | tail -n 2 | tr -d '\033' | tr '\n' ' ')
expect_eq "$last" "[?25h [?1049l " "the last modes rtlane-ctl set"
pass "Ctrl-C: exit status 0, terminal restored"

start_view quit 80 24 LC_ALL=C.UTF-8
utf8_bars() { [ "$(row L | grep -o '█' | wc -l)" = 32 ]; }
wait_screen quit "no bars of block characters" utf8_bars
pass "block characters in a UTF-8 locale"

# --- a daemon that restarts ---------------------------------------------------

stale() { printf '%s\n' "$SCREEN" | head -n 1 | grep -q -- '-- no readings, asking again$'; }
fresh() { ! stale && row L | grep -q ' -inf$'; }
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status"
wait_screen quit "no word that the readings stopped" stale
expect_eq "$(row L | grep -o '█' | wc -l)" 0 "L's bar without readings"
# The same port again; its in_1 is not connected to the player: silence.
DAEMON_ERR=$TMP/daemon-again.err
"$RTLANE" -s "$JACK_SERVER" -p "$OSC_PORT" -i 2 >/dev/null 2>"$DAEMON_ERR" &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
wait_ready "$DAEMON_PID" "$DAEMON_ERR" || fail "the daemon did not start again on port $OSC_PORT"
wait_screen quit "no readings from the daemon started again" fresh
pass "readings that stop empty the bars; meters subscribes again to a restarted daemon"

tm send-keys -t quit q
expect_restored quit q
pass "q quits too"

tm kill-server
stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "daemon exit status"
