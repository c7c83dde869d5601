#!/usr/bin/env bash
# trace_e2e.sh SIPTLSD - SIP message tracing end to end (issue 10 item 2, docs/operations.md
# "Tracing SIP messages"): siptlsd between a test UAC and UAS over mutual TLS, `siptlsctl debug
# ccsip messages`, a call made of the guide's sample INVITE (sips: URIs, Via SIP/2.0/TLS), and
# the trace must show it received and sent as the guide prints it, with the Conn-Id that show
# lists; `undebug all` completes the file and nothing more is written; a call before `debug` is
# not in it. Then the same call into a .pcap trace, read back as packets (and by sngrep when it
# is installed).
set -euo pipefail
SIPTLSD=$(readlink -f "$1")
CTL="$(dirname "$SIPTLSD")/siptlsctl"
HERE=$(cd "$(dirname "$0")" && pwd)
UA="python3 $HERE/sipua.py"
WORK=$(mktemp -d /tmp/siptls-trace.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() { echo "FAIL trace: $*"; echo "--- siptlsd log"; tail -40 "$WORK/siptlsd.log" 2>/dev/null; exit 1; }

# ports below the ephemeral range, apart from e2e.sh's (20000..31999)
BASE=$((32100 + $$ % 300 * 2))
PROXY=$BASE UAS=$((BASE + 1))
ctl() { "$CTL" --control "$WORK/ctl.sock" "$@"; }

bash "$HERE/../../scripts/mkpki.sh" "$WORK"
$UA uas --port "$UAS" --cert "$WORK/uas.pem" --key "$WORK/uas.key" --ca "$WORK/ca.pem" \
	--lifetime 90 --ready "$WORK/uas.ready" --log "$WORK/uas.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -e "$WORK/uas.ready" ] && break; sleep 0.1; done
[ -e "$WORK/uas.ready" ] || fail "UAS did not start"

start_proxy() { # start_proxy TRACEFILE
	"$SIPTLSD" --listen "127.0.0.1:$PROXY" --cert "$WORK/proxy.pem" --key "$WORK/proxy.key" \
		--ca "$WORK/ca.pem" --upstream "127.0.0.1:$UAS" --url-sips --no-pin -f --workers 2 \
		--log-level info --control "$WORK/ctl.sock" --trace-sip "$1" >"$WORK/siptlsd.log" 2>&1 &
	PROXY_PID=$!
	PIDS+=($PROXY_PID)
	for _ in $(seq 100); do
		grep -q "siptlsd running" "$WORK/siptlsd.log" 2>/dev/null && return
		kill -0 $PROXY_PID 2>/dev/null || fail "siptlsd exited at start"
		sleep 0.05
	done
	fail "siptlsd did not start"
}

stop_proxy() {
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" || fail "siptlsd exit status $? after SIGTERM"
	grep -q "ERROR: AddressSanitizer\|runtime error" "$WORK/siptlsd.log" && fail "sanitizer report"
	return 0
}

# The guide's sample INVITE as a call: INVITE -> 200, ACK, BYE -> 200. Prints its local port to
# PORTFILE once the call is up, then keeps the connection until HOLD exists (show reads it).
cat >"$WORK/guide_uac.py" <<'EOF'
import argparse, os, re, sys, time
sys.path.insert(0, os.environ["HERE"])
import sipua

a = argparse.Namespace(host="127.0.0.1", port=int(sys.argv[1]), cert=sys.argv[2] + "/uac.pem",
                       key=sys.argv[2] + "/uac.key", ca=sys.argv[2] + "/ca.pem", sni=None)
call_id, portfile, hold = sys.argv[3], sys.argv[4], sys.argv[5]
u = sipua.Uac(a)
SDP = (b"v=0\r\no=CiscoSystemsSIP-GW-UserAgent 8437 1929 IN IP4 172.18.201.173\r\n"
       b"s=STP Call\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\nm=audio 18378 RTP/AVP 0 19\r\n"
       b"c=IN IP4 1.1.1.1\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:19 CN/8000\r\na=ptime:20\r\n")

def send(lines, body=b""):
    lines = lines + ["Content-Length: %d" % len(body)]
    u.st.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

# the guide's lines as it prints them (its To lost an '@' in transcription)
send(["INVITE sips:777@172.18.203.181 SIP/2.0",
      "Via: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C419",
      "From: <sips:333@172.18.201.173>;tag=581BB98-1663",
      "To: <sips:5555555@172.18.197.154>",
      "Date: Wed, 28 Dec 2005 18:31:38 GMT",
      "Call-ID: " + call_id,
      'Remote-Party-ID: "Bob" <sips:+14085559999@1.2.3.4>',
      "Contact: <sips:123@host>",
      "Allow: INVITE, OPTIONS, BYE, CANCEL, ACK, PRACK, COMET, REFER, SUBSCRIBE, NOTIFY, INFO",
      "Max-Forwards: 70",
      "Cseq: 104 INVITE",
      "Expires: 60",
      "Timestamp: 730947404",
      "Content-Type: application/sdp"], SDP)
rs = u.responses()
if not rs or rs[-1][0] != 200:
    sys.exit("INVITE: %s" % [c for c, _ in rs])
hdrs = rs[-1][1]
to = sipua.get(hdrs, "to")
contact = re.search(r"<([^>]+)>", sipua.get(hdrs, "contact")).group(1)
route = ["Route: " + r for r in reversed(sipua.get(hdrs, "record-route", True))]
dialog = ["From: <sips:333@172.18.201.173>;tag=581BB98-1663", "To: " + to, "Call-ID: " + call_id,
          "Max-Forwards: 70"]
send(["ACK %s SIP/2.0" % contact, "Via: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C41A"] +
     route + dialog + ["Cseq: 104 ACK"])
send(["BYE %s SIP/2.0" % contact, "Via: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C41B"] +
     route + dialog + ["Cseq: 105 BYE"])
rs = u.responses()
if not rs or rs[-1][0] != 200:
    sys.exit("BYE: %s" % [c for c, _ in rs])
with open(portfile + ".tmp", "w") as f:
    f.write(str(u.sock.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
for _ in range(100):
    if os.path.exists(hold):
        break
    time.sleep(0.05)
EOF
export HERE

call() { # call CALL-ID: the guide's call; prints "PORT CONNID" of the client's connection
	rm -f "$WORK/port" "$WORK/hold"
	python3 "$WORK/guide_uac.py" "$PROXY" "$WORK" "$1" "$WORK/port" "$WORK/hold" \
		>"$WORK/uac.out" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do [ -e "$WORK/port" ] && break; sleep 0.05; done
	[ -e "$WORK/port" ] || { wait $pid || true; fail "call $1: $(cat "$WORK/uac.out")"; }
	local port id
	port=$(cat "$WORK/port")
	id=$(ctl show sip-ua connections tcp tls detail | awk -v p="$port" '$1 == p && $3 == "Established" {print $2}')
	touch "$WORK/hold"
	wait $pid || fail "call $1: $(cat "$WORK/uac.out")"
	echo "$port $id"
}

# ---- text ----
start_proxy "$WORK/trace.txt"
[ "$(stat -c %a "$WORK/trace.txt")" = 600 ] || fail "trace file mode $(stat -c %a "$WORK/trace.txt"), want 600"
ctl undebug all >"$WORK/undebug0.out" || fail "undebug all: $(cat "$WORK/undebug0.out")"
grep -qx "All possible debugging has been turned off" "$WORK/undebug0.out" || fail "undebug answer: $(cat "$WORK/undebug0.out")"
call "before-debug@172.18.201.173" >/dev/null
ctl debug ccsip messages >"$WORK/debug.out" || fail "debug: $(cat "$WORK/debug.out")"
grep -qx "SIP Call messages tracing is enabled" "$WORK/debug.out" || fail "debug answer: $(cat "$WORK/debug.out")"
grep -qx "Writing to $WORK/trace.txt (text)" "$WORK/debug.out" || fail "debug answer: $(cat "$WORK/debug.out")"
read -r PORT CONNID < <(call "EB5B1948-770611DA-804F9736-BFA4AC35@172.18.201.173")
[ -n "$CONNID" ] || fail "show detail did not list the client's connection (port $PORT)"
ctl show stats >"$WORK/stats.on"
grep -Eq '^trace_on +yes$' "$WORK/stats.on" || fail "show stats: trace_on: $(grep trace_ "$WORK/stats.on")"
ctl undebug all >"$WORK/undebug.out"
SIZE=$(stat -c %s "$WORK/trace.txt")
call "after-undebug@172.18.201.173" >/dev/null
sleep 0.2
[ "$(stat -c %s "$WORK/trace.txt")" = "$SIZE" ] || fail "the trace grew after undebug all"
ctl show stats >"$WORK/stats.off"
stop_proxy

# the blocks of the trace, checked against the guide's lines
python3 - "$WORK/trace.txt" "$PORT" "$CONNID" "$PROXY" "$UAS" "$WORK/stats.off" <<'EOF' || fail "trace content"
import re, sys
path, port, connid, proxy, uas, stats = sys.argv[1:]
text = open(path).read()
head = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) //SIP/Msg/ccsipDisplayMsg: "
                  r"Conn-Id (\d+), tenant (\d+), TLS, peer ([^,]+), local ([^,]+), (\d+) bytes$")
blocks, cur = [], None
for line in text.split("\n"):
    m = head.match(line)
    if m:
        cur = {"meta": m.groups(), "lines": []}
        blocks.append(cur)
    elif cur is not None:
        cur["lines"].append(line)
assert blocks, "no message in the trace"
for b in blocks:
    assert b["lines"][0] in ("Received:", "Sent:"), b["lines"][:2]
    b["dir"], b["msg"] = b["lines"][0], b["lines"][1:]
assert "before-debug" not in text and "after-undebug" not in text, "a call outside debug traced"
assert "local 0.0.0.0:0" not in text, "a message without its local address"
guide = ["INVITE sips:777@172.18.203.181 SIP/2.0",
         "Via: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C419",
         "From: <sips:333@172.18.201.173>;tag=581BB98-1663",
         "To: <sips:5555555@172.18.197.154>",
         "Call-ID: EB5B1948-770611DA-804F9736-BFA4AC35@172.18.201.173",
         'Remote-Party-ID: "Bob" <sips:+14085559999@1.2.3.4>',
         "Contact: <sips:123@host>",
         "Cseq: 104 INVITE",
         "Content-Type: application/sdp"]
def find(d, start, peer):
    return [b for b in blocks if b["dir"] == d and b["msg"][0].startswith(start) and b["meta"][3] == peer]
rx = find("Received:", "INVITE ", "127.0.0.1:" + port)
assert len(rx) == 1, "received INVITE blocks: %d" % len(rx)
rx = rx[0]
assert rx["msg"][:2] == guide[:2], rx["msg"][:2]  # the first lines, exactly
for g in guide:
    assert g in rx["msg"], "received INVITE lacks %r" % g
assert rx["meta"][1] == connid, "Conn-Id %s, show said %s" % (rx["meta"][1], connid)
assert rx["meta"][2] == "0" and rx["meta"][4] == "127.0.0.1:" + proxy, rx["meta"]
assert "a=ptime:20" in rx["msg"]
tx = find("Sent:", "INVITE ", "127.0.0.1:" + uas)
assert len(tx) == 1, "sent INVITE blocks: %d" % len(tx)
tx = tx[0]["msg"]
# the Request-URI now names the next hop (the one-trunk upstream), still sips: (url sips)
assert tx[0] == "INVITE sips:777@127.0.0.1:%s SIP/2.0" % uas, tx[0]
vias = [l for l in tx if l.lower().startswith("via:")]
assert len(vias) == 2 and re.match(r"Via: SIP/2\.0/TLS \S+;branch=z9hG4bK", vias[0]), vias
assert vias[1].startswith("Via: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C419"), vias[1]
for g in guide[2:]:
    assert g in tx, "sent INVITE lacks %r" % g
for d, start, peer in [("Sent:", "SIP/2.0 100 ", port), ("Received:", "SIP/2.0 180 ", uas),
                       ("Sent:", "SIP/2.0 180 ", port), ("Received:", "SIP/2.0 200 ", uas),
                       ("Sent:", "SIP/2.0 200 ", port), ("Received:", "ACK sips:", port),
                       ("Sent:", "ACK sips:", uas), ("Received:", "BYE sips:", port),
                       ("Sent:", "BYE sips:", uas)]:
    assert find(d, start, "127.0.0.1:" + peer), "no %s %s with 127.0.0.1:%s" % (d, start, peer)
# one Conn-Id per connection: every block toward the client names the id show listed
for b in blocks:
    if b["meta"][3] == "127.0.0.1:" + port:
        assert b["meta"][1] == connid, b["meta"]
# the counters: what was traced is what was written, nothing dropped
st = dict(l.split(None, 1) for l in open(stats) if l.startswith("trace_"))
assert st["trace_on"].strip() == "no", st
assert int(st["trace_traced"]) == len(blocks), (st, len(blocks))
assert int(st["trace_dropped"]) == 0 and int(st["trace_write_errors"]) == 0, st
print("text trace: %d messages" % len(blocks))
EOF

# ---- pcap ----
rm -f "$WORK/ctl.sock"
start_proxy "$WORK/trace.pcap"
call "EB5B1948-pcap@172.18.201.173" >/dev/null
ctl undebug all >/dev/null
ctl show stats >"$WORK/stats.pcap"
stop_proxy
python3 - "$WORK/trace.pcap" "$WORK/stats.pcap" <<'EOF' || fail "pcap content"
import struct, sys
data = open(sys.argv[1], "rb").read()
magic, vmaj, vmin, _, _, snap, link = struct.unpack("<IHHiIII", data[:24])
assert (magic, vmaj, vmin, link) == (0xa1b2c3d4, 2, 4, 1), (hex(magic), link)
off, payloads = 24, []
while off < len(data):
    sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
    pkt = data[off + 16: off + 16 + incl]
    assert incl == orig == len(pkt)
    assert pkt[12:14] == b"\x08\x00"
    ihl = (pkt[14] & 15) * 4
    tcp = pkt[14 + ihl:]
    payloads.append((struct.unpack(">HH", tcp[:4]), tcp[(tcp[12] >> 4) * 4:]))
    off += 16 + incl
inv = [p for (ports, p) in payloads if p.startswith(b"INVITE sips:777@")]
assert len(inv) == 2, "INVITE packets: %d" % len(inv)
assert inv[0].startswith(b"INVITE sips:777@172.18.203.181 SIP/2.0\r\nVia: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C419\r\n")
assert b"\r\nVia: SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C419" in inv[1]
assert all(b"\r\nFrom: <sips:333@172.18.201.173>;tag=581BB98-1663\r\n" in p for p in inv)
st = dict(l.split(None, 1) for l in open(sys.argv[2]) if l.startswith("trace_"))
assert int(st["trace_traced"]) == len(payloads), (st, len(payloads))
print("pcap trace: %d packets" % len(payloads))
EOF
if command -v sngrep >/dev/null; then
	# sngrep without its interface lists the dialogs it read from the file
	timeout 10 sngrep -N -I "$WORK/trace.pcap" >"$WORK/sngrep.out" 2>&1 </dev/null || true
	grep -q "Dialog count: 1" "$WORK/sngrep.out" || fail "sngrep did not read one dialog: $(cat "$WORK/sngrep.out")"
fi
if command -v tshark >/dev/null; then
	# Wireshark's dissectors: every packet SIP, the guide's Via in the first INVITE, no warnings
	n=$(tshark -r "$WORK/trace.pcap" -Y sip 2>/dev/null | wc -l)
	[ "$n" = "$(tshark -r "$WORK/trace.pcap" 2>/dev/null | wc -l)" ] && [ "$n" -gt 0 ] || fail "tshark: $n SIP packets"
	tshark -r "$WORK/trace.pcap" -Y 'sip.Method == "INVITE"' -T fields -e sip.Via 2>/dev/null | head -1 |
		grep -qx 'SIP/2.0/TLS 172.18.201.173:5060;branch=z9hG4bK2C419' || fail "tshark: the INVITE's Via"
	[ -z "$(tshark -r "$WORK/trace.pcap" -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null)" ] ||
		fail "tshark: malformed packets or warnings"
fi
echo "PASS trace"
