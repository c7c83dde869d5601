#!/usr/bin/env python3
"""A small SIP-over-TLS user agent for siptlsd's end-to-end tests.

It is written from RFC 3261 with Python's own ssl module, independently of siptlsd's code:
it frames by Content-Length, matches responses to requests by branch, and does only what the
tests need. `uas` answers; `uac` runs one scenario against a proxy and prints what happened as
JSON on stdout (exit 0 when the scenario's expectations held).
"""
import argparse
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import uuid


def tls_context(server, cert, key, ca, verify_peer):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert:
        ctx.load_cert_chain(cert, key)
    if ca:
        ctx.load_verify_locations(ca)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED if verify_peer else ssl.CERT_NONE
    return ctx


class Stream:
    """SIP messages framed off a TLS stream (RFC 3261 18.3)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def recv(self, timeout):
        deadline = time.time() + timeout
        while True:
            msg = self._frame()
            if msg is not None:
                return msg
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return None
            except (ssl.SSLError, OSError):
                return b""
            if not chunk:
                return b""  # closed
            self.buf += chunk

    def _frame(self):
        while self.buf.startswith(b"\r\n"):
            if self.buf.startswith(b"\r\n\r\n"):
                self.buf = self.buf[4:]
                return b"\r\n\r\n"
            if len(self.buf) < 4:
                return None
            self.buf = self.buf[2:]
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[: end + 4]
        m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
        n = int(m.group(1)) if m else 0
        if len(self.buf) < end + 4 + n:
            return None
        msg, self.buf = self.buf[: end + 4 + n], self.buf[end + 4 + n:]
        return msg


def headers(msg):
    head = msg.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.split("\r\n")
    out = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            out.append((name.strip().lower(), value.strip()))
    return lines[0], out


COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}


def get(hdrs, name, all_=False):
    vals = [v for n, v in hdrs if COMPACT.get(n, n) == name]
    return vals if all_ else (vals[0] if vals else None)


def status_of(start):
    parts = start.split(" ", 2)
    return int(parts[1]) if start.startswith("SIP/2.0 ") else None


def response(req, code, reason, to_tag=None, body=b"", extra=""):
    start, hdrs = headers(req)
    out = ["SIP/2.0 %d %s" % (code, reason)]
    for n, v in hdrs:
        n = COMPACT.get(n, n)
        if n in ("via", "from", "call-id", "cseq", "record-route"):
            out.append("%s: %s" % (n.title() if n != "call-id" else "Call-ID", v))
        elif n == "to":
            out.append("To: %s%s" % (v, ";tag=" + to_tag if to_tag and "tag=" not in v else ""))
    if extra:
        out.append(extra)
    out.append("Content-Length: %d" % len(body))
    return ("\r\n".join(out) + "\r\n\r\n").encode() + body


SDP = (b"v=0\r\no=uas 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       b"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def uas(args):
    ctx = tls_context(True, args.cert, args.key, args.ca, bool(args.ca))
    lsock = socket.create_server((args.host, args.port), reuse_port=False)
    lsock.settimeout(1.0)
    if args.ready:
        open(args.ready, "w").close()
    stop = time.time() + args.lifetime

    def serve(conn):
        if args.mode == "stall":  # never read: the proxy's queue toward us fills up
            while time.time() < stop:
                time.sleep(0.2)
            return
        st = Stream(conn)
        while time.time() < stop:
            msg = st.recv(1.0)
            if msg is None:
                continue
            if msg == b"":
                return
            if msg == b"\r\n\r\n":
                st.send(b"\r\n")
                continue
            start, hdrs = headers(msg)
            if status_of(start) is not None:
                continue
            method = start.split(" ", 1)[0]
            if args.log:
                with open(args.log, "ab") as f:
                    f.write(msg + b"\n--\n")
            if method == "ACK" or args.mode == "silent":
                continue
            if args.mode == "close":
                conn.close()
                return
            tag = "uas" + uuid.uuid4().hex[:8]
            if args.mode == "forge":  # the proxy's branch with another connection id in it
                forged = re.sub(rb"(branch=z9hG4bK-sx-)([0-9a-f])",
                                lambda m: m.group(1) + (b"1" if m.group(2) != b"1" else b"2"), msg, 1)
                st.send(response(forged, 200, "OK", tag))
                continue
            if method == "INVITE":
                st.send(response(msg, 100, "Trying"))
                st.send(response(msg, 180, "Ringing", tag))
                if args.mode == "ring":
                    continue
                time.sleep(args.delay)
                st.send(response(msg, 200, "OK", tag, SDP, "Content-Type: application/sdp\r\n"
                                 "Contact: <sips:uas@%s:%d;transport=tls>" % (args.host, args.port)))
            else:
                st.send(response(msg, 200, "OK", tag))

    while time.time() < stop:
        try:
            raw, _ = lsock.accept()
        except (socket.timeout, TimeoutError):
            continue
        try:
            conn = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


class Uac:
    def __init__(self, args):
        ctx = tls_context(False, args.cert, args.key, args.ca, bool(args.ca))
        raw = socket.create_connection((args.host, args.port), timeout=5)
        self.sock = ctx.wrap_socket(raw, server_hostname=args.sni or None)
        self.st = Stream(self.sock)
        self.args = args
        self.call_id = uuid.uuid4().hex + "@uac.test"
        self.tag = "uac" + uuid.uuid4().hex[:6]
        self.cseq = 0

    def request(self, method, ruri, extra="", to_tag=None, route=None, body=b"", branch=None,
                cseq=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        branch = branch or "z9hG4bK" + uuid.uuid4().hex[:16]
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: SIP/2.0/TLS uac.test:5061;branch=%s" % branch,
                 "Max-Forwards: 70",
                 "From: <sip:2000@uac.test>;tag=%s" % self.tag,
                 "To: <%s>%s" % (ruri.split(";")[0], ";tag=" + to_tag if to_tag else ""),
                 "Call-ID: %s" % self.call_id,
                 "CSeq: %d %s" % (cseq, method)]
        if route:
            lines += ["Route: %s" % r for r in route]
        if extra:
            lines.append(extra)
        lines.append("Content-Length: %d" % len(body))
        self.st.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return branch

    def responses(self, until_final=True, timeout=5.0):
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = self.st.recv(deadline - time.time())
            if not msg:
                break
            if msg == b"\r\n" or msg == b"\r\n\r\n":
                continue
            start, hdrs = headers(msg)
            code = status_of(start)
            if code is None:
                continue
            got.append((code, hdrs))
            if until_final and code >= 200:
                break
        return got


def target_uri(a):
    return "sip:%s@%s" % (a.user, a.target) if a.user else "sip:%s" % a.target


def scenario_call(u, a):
    """INVITE -> 100/180/200 -> ACK -> BYE -> 200, Route from Record-Route (RFC 3261 12.1.2)."""
    ruri = target_uri(a)
    u.request("INVITE", ruri, "Contact: <sip:2000@uac.test;transport=tls>\r\nContent-Type: application/sdp",
              body=SDP)
    rs = u.responses()
    codes = [c for c, _ in rs]
    out = {"invite": codes}
    if not rs or rs[-1][0] != 200:
        return out, False
    hdrs = rs[-1][1]
    rr = get(hdrs, "record-route", True)
    to = get(hdrs, "to")
    to_tag = re.search(r"tag=([^;>\s]+)", to).group(1)
    contact = re.search(r"<([^>]+)>", get(hdrs, "contact")).group(1)
    route = list(reversed(rr))
    out["record_route"] = rr
    u.request("ACK", contact, to_tag=to_tag, route=route, cseq=u.cseq)
    u.request("BYE", contact, to_tag=to_tag, route=route)
    rs = u.responses()
    out["bye"] = [c for c, _ in rs]
    ok = codes[:1] == [100] and 180 in codes and out["bye"][-1:] == [200] and len(rr) >= 1
    return out, ok


def scenario_options(u, a):
    u.request("OPTIONS", target_uri(a))
    codes = [c for c, _ in u.responses()]
    return {"options": codes}, codes[-1:] == [a.expect]


def scenario_ping(u, a):
    u.st.send(b"\r\n\r\n")
    u.sock.settimeout(3)
    data = u.sock.recv(16)
    return {"pong": data.decode()}, data == b"\r\n"


def scenario_raw(u, a):
    """sends a file's bytes as they are and reports the final status"""
    with open(a.file, "rb") as f:
        u.st.send(f.read())
    codes = [c for c, _ in u.responses()]
    return {"raw": codes}, codes[-1:] == [a.expect]


def scenario_invite(u, a):
    """INVITE and expect a given final status (404, 503, 408 ...)"""
    u.request("INVITE", target_uri(a), "Contact: <sip:2000@uac.test>")
    codes = [c for c, _ in u.responses(timeout=a.timeout)]
    return {"invite": codes}, codes[-1:] == [a.expect]


def scenario_flood(u, a):
    """sends `count` MESSAGE requests of `size` bytes without waiting, from a second thread,
    and counts the final responses that come back (every request must get one)"""
    body = b"x" * a.size
    def send():
        for i in range(a.count):
            u.request("MESSAGE", target_uri(a), "Content-Type: text/plain", body=body)
    t = threading.Thread(target=send, daemon=True)
    t.start()
    finals = {}
    deadline = time.time() + a.timeout
    while sum(finals.values()) < a.count and time.time() < deadline:
        for code, _ in u.responses(until_final=True, timeout=max(0.1, deadline - time.time())):
            if code >= 200:
                finals[code] = finals.get(code, 0) + 1
    return {"finals": finals, "sent": a.count}, sum(finals.values()) == a.count


def uac(args):
    u = Uac(args)
    fn = {"call": scenario_call, "options": scenario_options, "ping": scenario_ping,
          "raw": scenario_raw, "invite": scenario_invite, "flood": scenario_flood}[args.scenario]
    results = []
    ok_all = True
    for _ in range(args.repeat):
        out, ok = fn(u, args)
        results.append(out)
        ok_all = ok_all and ok
    print(json.dumps({"ok": ok_all, "results": results[-3:], "runs": len(results)}))
    return 0 if ok_all else 1


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("role", choices=["uas", "uac"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--ca")
    p.add_argument("--sni")
    p.add_argument("--mode", default="answer", choices=["answer", "silent", "ring", "close", "stall", "forge"])
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--lifetime", type=float, default=60.0)
    p.add_argument("--ready")
    p.add_argument("--log")
    p.add_argument("--scenario", default="call")
    p.add_argument("--user", default="1000")
    p.add_argument("--target", default="proxy.test")
    p.add_argument("--expect", type=int, default=200)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--file")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--size", type=int, default=1000)
    args = p.parse_args()
    if args.role == "uas":
        uas(args)
        return 0
    return uac(args)


if __name__ == "__main__":
    sys.exit(main())
