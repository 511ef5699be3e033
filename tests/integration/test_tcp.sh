#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# --osc-tcp: the same address space over TCP (replies on the connection),
# alongside UDP; a subscriber that disconnects without unsubscribing and a
# connection that sends a broken stream do not hurt the daemon.
. "$(dirname "$0")/lib.sh"
need "$RTLANE" "$RTL_OSC"
start_jackd
start_daemon -i 2 --osc-tcp
grep -w ready "$DAEMON_ERR" | grep -q tcp || fail "ready line does not mention tcp: $(grep -w ready "$DAEMON_ERR")"
bound tcp "$OSC_PORT" || fail "nothing listens on TCP port $OSC_PORT"
bound udp "$OSC_PORT" || fail "nothing is bound to UDP port $OSC_PORT"

expect_eq "$(osc -T /ping)" "/pong" "/ping over TCP"
out=$(osc -T -n 0 /ch/1/gain f -5 /sync i 3 @wait "/synced i 3" /get s /ch/1/gain @listen 0.2)
expect_eq "$(printf '%s\n' "$out" | tr '\n' ' ')" "/synced i 3 /ch/1/gain f -5 " "set, /sync, /get over TCP"
expect_eq "$(get /ch/1/gain)" "/ch/1/gain f -5" "/get over UDP after a TCP set"
out=$(osc -T -n 1 /ch/9/gain f 0)
expect_error "$out" /ch/9/gain "unknown channel over TCP"
out=$(osc -T -n 0 /subscribe si meters 20 @listen 1 /unsubscribe s meters)
n=$(printf '%s\n' "$out" | grep -c '^/meters ffff ')
fcheck "n >= 10 && n <= 30" "$n /meters over TCP in 1 s at 20 Hz" -v n="$n"
pass "requests, errors and subscriptions over TCP"

# SLIP framing (OSC 1.1, as Open Stage Control and SuperCollider send over
# TCP) on the same port, told apart per connection: a client written here
# in Python, not liblo, frames by hand and checks the replies' framing.
# /sync i 192 puts SLIP's END byte (0xC0) into both directions, escaped.
slip=$(timeout 20 python3 - "$OSC_PORT" <<'PY'
import socket, struct, sys, time
END, ESC = 0xC0, 0xDB
def pad(b): return b + b"\0" * (4 - len(b) % 4)
def msg(path, types, *args):
    out = pad(path.encode() + b"\0") + pad(("," + types).encode() + b"\0")
    for t, a in zip(types, args):
        out += struct.pack(">i", a) if t == "i" else struct.pack(">f", a) if t == "f" else pad(a.encode() + b"\0")
    return out
def slip(b, lead=True):
    body = b.replace(bytes([ESC]), bytes([ESC, 0xDD])).replace(bytes([END]), bytes([ESC, 0xDC]))
    return (bytes([END]) if lead else b"") + body + bytes([END])
def parse(p):
    path = p[:p.index(b"\0")].decode(); i = (len(path) + 4) & ~3
    types = p[i + 1:p.index(b"\0", i)].decode(); i = (i + len(types) + 5) & ~3
    args = []
    for t in types:
        if t == "i": args.append(str(struct.unpack(">i", p[i:i + 4])[0])); i += 4
        elif t == "f": args.append("%g" % struct.unpack(">f", p[i:i + 4])[0]); i += 4
        elif t == "s": e = p.index(b"\0", i); args.append(p[i:e].decode()); i = (e + 4) & ~3
    return " ".join([path, types] + args)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.sendall(slip(msg("/ch/1/gain", "f", -4.5)))
# One byte per write: a packet, and an escape, split over many reads
for byte in slip(msg("/sync", "i", 192), lead=False):
    s.sendall(bytes([byte])); time.sleep(0.002)
s.sendall(slip(msg("/get", "s", "/ch/1/gain")) + slip(msg("/ch/9/gain", "f", 0)))
buf, frames = b"", []
while len(frames) < 3:
    data = s.recv(4096)
    if not data: break
    buf += data
    while END in buf[1:] if buf[:1] == bytes([END]) else END in buf:
        if buf[:1] != bytes([END]): print("reply not SLIP-framed:", buf[:16]); sys.exit(1)
        e = buf.index(END, 1); frame, buf = buf[1:e], buf[e + 1:]
        if frame: frames.append(frame.replace(bytes([ESC, 0xDC]), bytes([END])).replace(bytes([ESC, 0xDD]), bytes([ESC])))
        buf = bytes([END]) + buf if buf else buf
for f in frames: print(parse(f))
PY
) || fail "SLIP client: $slip"
printf '%s\n' "$slip" | sed 's/^/#   SLIP reply: /'
# Each reply comes when its command is done (/sync's once the audio thread
# has seen the set), so their order is not judged.
expect_line "$slip" "/synced i 192" "SLIP: /sync i 192 (an END byte each way)"
expect_line "$slip" "/ch/1/gain f -4.5" "SLIP: /get after a SLIP set"
expect_line "$slip" "/error ss /ch/9/gain unknown channel" "SLIP: /error"
expect_eq "$(osc -T /get s /ch/1/gain)" "/ch/1/gain f -4.5" "size-prefixed TCP on the same port after SLIP"
pass "SLIP-framed TCP (OSC 1.1) and size-prefixed TCP (OSC 1.0) on the same port"

# Subscribers that go away without unsubscribing.
for i in 1 2 3; do
  osc -T -n 0 /subscribe si meters 100 /subscribe s state @listen 0.2 >/dev/null
done
osc -T -n 0 /ch/1/gain f -6 /sync i 4 @wait "/synced i 4" >/dev/null
sleep 0.5
expect_eq "$(osc -T /ping)" "/pong" "/ping over TCP after subscribers vanished"
expect_eq "$(osc /ping)" "/pong" "/ping over UDP after subscribers vanished"
pass "vanished TCP subscribers"

# Broken streams: a huge length prefix, a zero length, garbage, a
# connection closed halfway through a message.
send_tcp() { # PRINTF_FORMAT
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf "$2" >&3; sleep 0.2; exec 3>&-' _ "$OSC_PORT" "$1" \
    >/dev/null 2>&1
}
send_tcp '\xff\xff\xff\xff/ch/1/gain\0\0,f\0\0\0\0\0\0'
send_tcp '\x7f\xff\xff\xf0garbage'
send_tcp '\0\0\0\0\0\0\0\0'
send_tcp '\0\0\0\x10/ping\0\0\0'
send_tcp '\0\0\0\x05/ping\0'
send_tcp '\0\0\0\x0c/pi\0,\0\0\0\0\0\0\x08/ping\0\0\0'
head -c 100000 /dev/urandom >"$TMP/junk"
timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && cat "$2" >&3' _ "$OSC_PORT" "$TMP/junk" >/dev/null 2>&1
sleep 0.3
kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon died on a broken TCP stream"
expect_eq "$(osc -T /ping)" "/pong" "/ping over TCP after broken streams"
expect_eq "$(osc /ping)" "/pong" "/ping over UDP after broken streams"
pass "broken TCP streams"

stop_daemon TERM
expect_eq "$STOP_STATUS" 0 "exit status"
