"""A TLS test client on Python's ssl module, for the netstreams TLS tests.

Connects to 127.0.0.1:PORT, optionally speaks STARTTLS first (sends
"STARTTLS\\r\\n", waits for the reply line, or pipelines the ClientHello
right behind the command with --pipelined; --before N first sends N lines of
1,000 bytes in plaintext and reads their "echo:" replies), does the handshake, sends
--send, reads until --expect bytes came back or the server closed, and
prints one JSON line: ok, version, cipher, server certificate subject,
what came back, and the error if any. Exit code 0 unless the arguments are bad.
"""
import argparse, json, socket, ssl, sys, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--servername")
p.add_argument("--ca")
p.add_argument("--cert")
p.add_argument("--key")
p.add_argument("--send", default="")
p.add_argument("--expect", type=int, default=0)
p.add_argument("--starttls", action="store_true")
p.add_argument("--pipelined", action="store_true")
p.add_argument("--before", type=int, default=0)
p.add_argument("--max-version", choices=["1.2", "1.3"])
p.add_argument("--alpn")
p.add_argument("--timeout", type=float, default=5)
a = p.parse_args()

out = {"ok": False}
ctx = ssl.create_default_context(cafile=a.ca) if a.ca else ssl._create_unverified_context()
if not a.ca:
    ctx.check_hostname = False
if a.cert:
    ctx.load_cert_chain(a.cert, a.key)
if a.max_version:
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2 if a.max_version == "1.2" else ssl.TLSVersion.TLSv1_3
if a.alpn:
    ctx.set_alpn_protocols(a.alpn.split(","))
sock = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
inc, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, outgoing, server_hostname=a.servername)
pending = b""


def flush():
    data = outgoing.read()
    if data:
        sock.sendall(data)


def feed():
    global pending
    if pending:
        inc.write(pending)
        pending = b""
        return
    data = sock.recv(65536)
    if not data:
        raise EOFError("the server closed the connection")
    inc.write(data)


def read_line():
    global pending
    while b"\r\n" not in pending:
        data = sock.recv(65536)
        if not data:
            raise EOFError("closed before the STARTTLS reply: %r" % pending)
        pending += data
    i = pending.index(b"\r\n")
    line, pending = pending[:i], pending[i + 2 :]
    return line.decode()


try:
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    if a.before:
        line = b"x" * 1000
        sock.sendall((line + b"\r\n") * a.before)
        want = a.before * (len(line) + 7)  # "echo:" + line + CRLF
        while len(pending) < want:
            data = sock.recv(65536)
            if not data:
                raise EOFError("closed during the plaintext echo: %d of %d bytes" % (len(pending), want))
            pending += data
        echoed, pending = pending[:want], pending[want:]
        out["before"] = echoed == (b"echo:" + line + b"\r\n") * a.before
    if a.starttls:
        if a.pipelined:
            sock.sendall(b"STARTTLS\r\n" + hello)
            out["reply"] = read_line()
        else:
            sock.sendall(b"STARTTLS\r\n")
            out["reply"] = read_line()
            sock.sendall(hello)
    else:
        sock.sendall(hello)
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            flush()
            feed()
    flush()
    out["version"] = tls.version()
    out["cipher"] = tls.cipher()[0]
    out["alpn"] = tls.selected_alpn_protocol()
    peer = tls.getpeercert() if a.ca else None
    if peer:
        out["subject"] = dict(x[0] for x in peer["subject"]).get("commonName")
    out["handshake"] = True
    if a.send:
        tls.write(a.send.encode("latin-1"))
        flush()
    got = b""
    deadline = time.time() + a.timeout
    while len(got) < a.expect and time.time() < deadline:
        try:
            data = tls.read(65536)
            if not data:
                break
            got += data
        except ssl.SSLWantReadError:
            flush()
            feed()
        except ssl.SSLZeroReturnError:
            break
    out["echo"] = got.decode("latin-1")
    out["ok"] = len(got) >= a.expect
except (ssl.SSLError, OSError, EOFError) as e:
    out["error"] = "%s: %s" % (type(e).__name__, e)
finally:
    sock.close()
print(json.dumps(out))
