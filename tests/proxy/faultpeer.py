#!/usr/bin/env python3
"""Misbehaving peers for siptlsd's fault-injection tests (tests/proxy/faults_e2e.sh).

Each mode does one kind of harm on loopback, bounded in time, and prints what it saw as JSON
(exit 0 when it could do its harm; the verdict on siptlsd is the shell script's):
  hold      an "upstream" that accepts TCP and never speaks TLS (holds every connection)
  reset     clients that reset (RST, SO_LINGER 0) at each stage of a handshake or a message
  garbage   connections that send non-TLS and TLS-looking garbage; reports, for each, whether
            and how soon siptlsd closed it
  noread    a client that pipelines OPTIONS to siptlsd and never reads the answers
Written from the TLS 1.2/1.3 record format (RFC 8446 section 5.1) with Python's ssl module,
independently of siptlsd's code.
"""
import argparse
import json
import os
import socket
import ssl
import struct
import sys
import time
import uuid


def ctx_client(a, cert=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert and a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    return ctx


def client_hello(a):
    """the bytes of a real ClientHello, made in memory (no socket)"""
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx_client(a).wrap_bio(inc, outg, server_side=False)
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outg.read()


def rst(s):
    """close with a TCP reset instead of a FIN"""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def connect(a):
    return socket.create_connection(("127.0.0.1", a.port), timeout=5)


def sip_request(method, branch=None, body=b"", cl=None):
    branch = branch or "z9hG4bK" + uuid.uuid4().hex[:16]
    cid = uuid.uuid4().hex
    head = ("%s sip:1000@proxy.test SIP/2.0\r\nVia: SIP/2.0/TLS uac.test;branch=%s\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:2000@uac.test>;tag=f%s\r\nTo: <sip:1000@proxy.test>\r\n"
            "Call-ID: %s@uac.test\r\nCSeq: 1 %s\r\nContent-Length: %d\r\n\r\n"
            % (method, branch, cid[:6], cid, method, len(body) if cl is None else cl))
    return head.encode() + body


# --- hold ---------------------------------------------------------------------------------

def hold(a):
    ls = socket.create_server(("127.0.0.1", a.port))
    ls.settimeout(0.2)
    if a.ready:
        open(a.ready, "w").close()
    held, got = [], 0
    end = time.time() + a.lifetime
    while time.time() < end:
        try:
            c, _ = ls.accept()
            held.append(c)
        except (socket.timeout, TimeoutError):
            pass
        for c in held:  # read what the proxy sends (its ClientHello), answer nothing
            c.setblocking(False)
            try:
                got += len(c.recv(65536))
            except (BlockingIOError, OSError):
                pass
        if a.log:
            with open(a.log, "w") as f:
                json.dump({"accepted": len(held), "bytes": got}, f)
    return 0


# --- reset --------------------------------------------------------------------------------

def reset_stage(a, stage):
    """one connection that resets at `stage`; returns True when it got as far as planned"""
    s = connect(a)
    if stage == "tcp":  # connected, not one byte sent
        rst(s)
        return True
    if stage in ("hello_half", "hello"):
        h = client_hello(a)
        s.sendall(h if stage == "hello" else h[: len(h) // 2])
        if stage == "hello":  # wait for the server's flight, then reset mid-handshake
            s.settimeout(3)
            try:
                s.recv(4096)
            except OSError:
                pass
        rst(s)
        return True
    t = ctx_client(a).wrap_socket(s)  # a full handshake, then harm at the SIP layer
    if stage == "headers_half":
        data = sip_request("INVITE")
        t.sendall(data[: len(data) // 2])
    elif stage == "body_half":
        t.sendall(sip_request("MESSAGE", body=b"x" * 100, cl=500))
    elif stage == "in_flight":  # a whole INVITE that is forwarded, then gone before the answer
        t.sendall(sip_request("INVITE"))
    time.sleep(0.05)
    rst(t)
    return True


def reset(a):
    stages = a.stages.split(",")
    done = {st: 0 for st in stages}
    for _ in range(a.count):
        for st in stages:
            try:
                done[st] += bool(reset_stage(a, st))
            except OSError as e:
                done.setdefault("errors", []).append("%s: %s" % (st, e))
    print(json.dumps(done))
    return 0


# --- garbage ------------------------------------------------------------------------------

def garbage_inputs(a):
    rnd = os.urandom
    hello = client_hello(a)
    return {
        "random": rnd(3000),
        "http": b"GET / HTTP/1.1\r\nHost: proxy.test\r\n\r\n",
        "plain_sip": sip_request("OPTIONS"),
        "sslv2_hello": bytes([0x80, 0x2E, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10])
        + rnd(0x15 + 0x10),
        # a handshake record whose body is noise
        "hs_record_noise": b"\x16\x03\x01\x02\x00" + rnd(0x200),
        # a ClientHello whose handshake length claims more than the record holds: the peer
        # waits for the rest, which never comes (closed by the handshake timer)
        "hello_bad_lengths": hello[:6] + b"\x00\xff\xff" + hello[9:],
        # a legal record header announcing 512 bytes, then 16 and silence (slow-loris)
        "record_header_then_silence": b"\x16\x03\x01\x02\x00" + rnd(16),
        # a record longer than TLS allows (2^14 + 2048, RFC 8446 5.2)
        "record_too_long": b"\x16\x03\x03\x48\x01" + rnd(0x4801),
        "appdata_first": b"\x17\x03\x03\x00\x40" + rnd(0x40),
        "alert_first": b"\x15\x03\x03\x00\x02\x02\x28",
        "ccs_first": b"\x14\x03\x03\x00\x01\x01",
        # a real ClientHello, then "encrypted" noise as if keys were agreed
        "hello_then_noise": hello + b"\x14\x03\x03\x00\x01\x01" + b"\x17\x03\x03\x01\x00" + rnd(256),
        "zero_length_records": b"\x16\x03\x03\x00\x00" * 200,
    }


def garbage_one(a, data):
    s = connect(a)
    t0 = time.time()
    try:
        s.sendall(data)
    except OSError:
        return {"closed": True, "after_s": 0.0, "reply_bytes": 0}
    s.settimeout(a.timeout)
    got = 0
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
    except (socket.timeout, TimeoutError):
        s.close()
        return {"closed": False, "after_s": round(time.time() - t0, 2), "reply_bytes": got}
    except OSError:
        pass
    s.close()
    return {"closed": True, "after_s": round(time.time() - t0, 2), "reply_bytes": got}


def garbage(a):
    res = {name: garbage_one(a, data) for name, data in garbage_inputs(a).items()}
    print(json.dumps(res))
    return 0 if all(r["closed"] for r in res.values()) else 1


# --- noread -------------------------------------------------------------------------------

def noread(a):
    """pipelines --count OPTIONS to the proxy itself and reads nothing for --hold seconds (the
    script looks at siptlsd meanwhile), then reads while it sends the rest and counts the 200s
    that arrive within --timeout. Non-blocking, retrying a refused TLS write with the same
    bytes as OpenSSL requires."""
    import select
    t = ctx_client(a).wrap_socket(connect(a))
    req = b"".join(
        ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/TLS uac.test;branch=z9hG4bKnr%d\r\n"
         "Max-Forwards: 70\r\nFrom: <sip:2000@uac.test>;tag=nr\r\nTo: <sip:127.0.0.1:%d>\r\n"
         "Call-ID: nr%d@uac.test\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n"
         % (a.port, i, a.port, i, i + 1)).encode() for i in range(a.count))
    t.setblocking(False)
    sent, buf = 0, b""

    def pump(read):
        nonlocal sent, buf
        r, w, _ = select.select([t] if read else [], [t] if sent < len(req) else [], [], 0.2)
        if w:
            try:
                sent += t.send(req[sent: sent + 16384])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                pass
        while read:
            try:
                b = t.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                return True
            if not b:
                return False
            buf += b
        return True

    end = time.time() + a.hold
    while time.time() < end:
        pump(False)
    if a.ready:
        with open(a.ready, "w") as f:
            json.dump({"sent_bytes": sent, "all_sent": sent == len(req)}, f)
    deadline = time.time() + a.timeout
    quiet_since, seen = time.time(), 0
    while time.time() < deadline and buf.count(b"SIP/2.0 200 ") < a.count:
        if not pump(True):
            break
        if len(buf) != seen or sent < len(req):
            quiet_since, seen = time.time(), len(buf)
        elif time.time() - quiet_since > 3:  # all sent, nothing more for 3 s: that is all
            break
    ok = buf.count(b"SIP/2.0 200 ")
    print(json.dumps({"count": a.count, "answered_200": ok, "other": buf.count(b"SIP/2.0 ") - ok}))
    return 0 if ok == a.count else 1


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["hold", "reset", "garbage", "noread"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--ready")
    p.add_argument("--log")
    p.add_argument("--lifetime", type=float, default=60.0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--stages", default="tcp,hello_half,hello,headers_half,body_half,in_flight")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--hold", type=float, default=2.0)
    a = p.parse_args()
    return {"hold": hold, "reset": reset, "garbage": garbage, "noread": noread}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
