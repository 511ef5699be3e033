#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# Signal path: a sine into in_1 reaches out_L/out_R at the levels the
# contract's gain and constant-power pan formulas predict (within 0.1 dB);
# mute and solo silence what they should; the meters show in_1 and out_L.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC" "$RTL_PROBE"
start_jackd
start_daemon -i 2

A=0.5
SINE1=$DAEMON_NAME:in_1=sine:1000:$A
in_rms=$(db "$(awk -v a=$A 'BEGIN { print a / sqrt(2) }')")   # -9.0309 dB
pan_db() { # PAN SIDE: 20 log10 of the contract's pan gain
  awk -v p="$1" -v s="$2" 'BEGIN { x = (p + 1) * atan2(1, 1); g = (s == "L") ? cos(x) : sin(x); printf "%.4f", (g > 0) ? 20 * log(g) / log(10) : -1000 }'
}
silent() { # OUTPUT PORT WHAT
  local p
  p=$(level "$1" "$2" peak_db)
  fcheck "p == \"-inf\" || p + 0 <= -90" "$3: $2 peak $p dBFS, expected silence" -v p="$p"
}
expect_rms() { # OUTPUT PORT EXPECTED_DB WHAT
  local r
  r=$(level "$1" "$2" rms_db)
  [ -n "$r" ] || fail "$4: no capture of $2 in: $1"
  near "$r" "$3" 0.1 "$4: $2 RMS dB"
  log "$4: $2 rms $r dB (expected $3)"
}

set_ok /ch/1/gain f 0 /ch/2/gain f 0 /ch/1/pan f 0 /ch/2/pan f 0 /master/gain f 0 \
  /ch/1/mute i 0 /ch/2/mute i 0 /ch/1/solo i 0 /ch/2/solo i 0

# Centre: each side is cos(pi/4) = -3.01 dB below the input.
out=$(capture_levels "$SINE1" -- out_L out_R)
expect_rms "$out" out_L "$(awk -v a="$in_rms" -v b="$(pan_db 0 L)" 'BEGIN { print a + b }')" "pan 0"
expect_rms "$out" out_R "$(awk -v a="$in_rms" -v b="$(pan_db 0 R)" 'BEGIN { print a + b }')" "pan 0"
pass "centre pan: both sides at -3.01 dB"

for pan in -1 -0.5 0.5 1; do
  set_ok /ch/1/pan f $pan
  out=$(capture_levels "$SINE1" -- out_L out_R)
  for side in L R; do
    g=$(pan_db $pan $side)
    if awk -v g="$g" 'BEGIN { exit !(g < -200) }'; then # cos(pi/2) is 6e-17, not 0
      silent "$out" out_$side "pan $pan"
    else
      expect_rms "$out" out_$side "$(awk -v a="$in_rms" -v b="$g" 'BEGIN { print a + b }')" "pan $pan"
    fi
  done
done
set_ok /ch/1/pan f 0
pass "constant-power pan"

set_ok /ch/1/gain f -6
out=$(capture_levels "$SINE1" -- out_L)
expect_rms "$out" out_L "$(awk -v a="$in_rms" 'BEGIN { print a - 3.0103 - 6 }')" "ch1 gain -6"
set_ok /ch/1/gain f 0 /master/gain f -10
out=$(capture_levels "$SINE1" -- out_L out_R)
expect_rms "$out" out_L "$(awk -v a="$in_rms" 'BEGIN { print a - 3.0103 - 10 }')" "master -10"
expect_rms "$out" out_R "$(awk -v a="$in_rms" 'BEGIN { print a - 3.0103 - 10 }')" "master -10"
set_ok /ch/1/gain f -90 /master/gain f 0
out=$(capture_levels "$SINE1" -- out_L)
fcheck "p == \"-inf\" || p + 0 <= -80" "ch1 gain -90: out_L peak $(level "$out" out_L peak_db)" -v p="$(level "$out" out_L peak_db)"
set_ok /ch/1/gain f 0
pass "channel and master gain"

set_ok /ch/1/mute i 1
out=$(capture_levels "$SINE1" -- out_L out_R)
silent "$out" out_L "ch1 muted"
silent "$out" out_R "ch1 muted"
set_ok /ch/1/mute i 0
out=$(capture_levels "$SINE1" -- out_L)
expect_rms "$out" out_L "$(awk -v a="$in_rms" 'BEGIN { print a - 3.0103 }')" "ch1 unmuted"
pass "mute"

# Solo ch2: ch1 is silenced, ch2 (a quieter, different tone) passes alone.
SINE2=$DAEMON_NAME:in_2=sine:1500:0.25
in2_rms=$(db "$(awk 'BEGIN { print 0.25 / sqrt(2) }')")
set_ok /ch/2/solo i 1
out=$(capture_levels "$SINE1" -- out_L)
silent "$out" out_L "ch2 soloed, only ch1 playing"
out=$(capture_levels "$SINE1" "$SINE2" -- out_L out_R)
expect_rms "$out" out_L "$(awk -v a="$in2_rms" 'BEGIN { print a - 3.0103 }')" "ch2 soloed, both playing"
expect_rms "$out" out_R "$(awk -v a="$in2_rms" 'BEGIN { print a - 3.0103 }')" "ch2 soloed, both playing"
set_ok /ch/1/solo i 1
out=$(capture_levels "$SINE1" "$SINE2" -- out_L)
# Both soloed: the sum of two unrelated tones, powers add.
both=$(awk -v a="$in_rms" -v b="$in2_rms" 'BEGIN { p = 10 ^ (a / 10) + 10 ^ (b / 10); printf "%.4f", 10 * log(p) / log(10) - 3.0103 }')
expect_rms "$out" out_L "$both" "ch1 and ch2 soloed"
set_ok /ch/2/solo i 0
out=$(capture_levels "$SINE1" "$SINE2" -- out_L)
expect_rms "$out" out_L "$(awk -v a="$in_rms" 'BEGIN { print a - 3.0103 }')" "ch1 soloed"
set_ok /ch/1/solo i 0
pass "solo"

# Meters: a steady sine into in_1 (peak -6.02 dBFS) shows on in_1 and, panned
# centre, on out_L and out_R at -9.03; in_2, silent now, reads -inf once the
# tone it had in the solo tests has fallen by the meters' ballistics (a
# bounded wait: the peak falls at a finite rate).
# A reading with in_1 at -inf is not one (readings that stop, as under a
# loaded server, are sent as -inf everywhere): in_1 must show its sine.
start_player "$SINE1"
LIVE='-[0-9]*[0-9]'
meters=$(osc -n 0 -t 15000 /subscribe si meters 30 @wait "/meters ffff $LIVE -inf $LIVE $LIVE" @listen 1 \
  /unsubscribe s meters) ||
  fail "in_2 meter never reached -inf without input: $(printf '%s\n' "$meters" | tail -n 3)
in_2's connections: $(jack_lsp -s "$JACK_SERVER" -c "$DAEMON_NAME:in_2" 2>&1 | tr '\n' ' ')
ports: $(jack_lsp -s "$JACK_SERVER" 2>&1 | tr '\n' ' ')
jackd: $(tail -n 15 "$TMP/jackd-$SRV_N.log")"
live() { printf '%s\n' "$1" | awk '$1 == "/meters" && $3 != "-inf"' | tail -n 1; }
last=$(live "$meters")
[ -n "$last" ] || fail "no /meters while subscribed: $meters"
set -- $last
expect_eq "$2" ffff "/meters type tags with 2 inputs"
near "$3" -6.0206 0.5 "meter in_1"
[ "$4" = -inf ] || fail "meter in_2 (no input): $4, not -inf; the readings from the first live -inf on:
$(printf '%s\n' "$meters" | awk '$1 == "/meters" && $3 != "-inf" && $4 == "-inf" { f = 1 } f' | tail -n 40)"
near "$5" -9.0309 0.5 "meter out_L"
near "$6" -9.0309 0.5 "meter out_R"
log "meters: $last"
set_ok /ch/1/mute i 1
# The outputs decay to -inf (bounded wait: the peak falls at a finite rate).
meters=$(osc -n 0 -t 15000 /subscribe si meters 30 @wait "/meters ffff $LIVE * -inf -inf" /unsubscribe s meters) ||
  fail "out_L/out_R meters never reached -inf with ch1 muted: $(printf '%s\n' "$meters" | tail -n 3)"
last=$(live "$meters")
set -- $last
near "$3" -6.0206 0.5 "meter in_1 with ch1 muted"
set_ok /ch/1/mute i 0
# RMS on request: /meters/rms beside /meters, the sine's RMS (-9.03 dBFS) on
# in_1 and -12.04 on each output once the 300 ms average has settled.
meters=$(osc -n 0 /subscribe sis meters 30 rms @listen 2 /unsubscribe s meters)
last=$(printf '%s\n' "$meters" | awk '$1 == "/meters/rms" && $3 != "-inf"' | tail -n 1)
[ -n "$last" ] || fail "no /meters/rms with 'rms' subscribed: $(printf '%s\n' "$meters" | tail -n 3)"
set -- $last
expect_eq "$2" ffff "/meters/rms type tags with 2 inputs"
near "$3" -9.0309 0.3 "RMS meter in_1"
near "$5" -12.0412 0.3 "RMS meter out_L"
near "$6" -12.0412 0.3 "RMS meter out_R"
n_peak=$(printf '%s\n' "$meters" | grep -c '^/meters ')
n_rms=$(printf '%s\n' "$meters" | grep -c '^/meters/rms ')
fcheck "p - r <= 1 && r - p <= 1" "$n_rms /meters/rms for $n_peak /meters" -v p="$n_peak" -v r="$n_rms"
log "rms meters: $last"
stop_player
pass "meters"
