#!/usr/bin/python3
"""A real SMTP server on loopback for the email tests: Debian's aiosmtpd.

Run it with /usr/bin/python3 (python3-aiosmtpd is a Debian package; `make deps`
installs it). Every accepted message is written, as received, into a Maildir;
every command the server answers is one JSON line in --log:
  {"cmd": "EHLO"|"STARTTLS"|"AUTH"|"MAIL"|"RCPT"|"DATA", "tls": bool, "arg": ...,
   "reply": "250 ..."}
so a test can tell what went in clear (tls false) and what was refused.

Options:
  --port N          listen on 127.0.0.1:N (0: a free port); prints PORT=<n> when ready
  --maildir DIR     where accepted messages go (DIR/new)
  --log FILE        the command log (appended)
  --cert F --key K  offer STARTTLS with this certificate and require it before MAIL
  --implicit-tls    TLS from the first byte (smtps://) with --cert/--key
  --auth USER:PASS  require AUTH (PLAIN or LOGIN, after TLS) with these credentials
  --watch-pid PID   exit when that process is gone
  --pidfile FILE    write our pid there

Recipients choose the answer, so a test needs no control channel:
  reject...@...     550 5.1.1 (a permanent refusal)
  tempfail...@...   451 4.3.0 (a transient one)
"""
import argparse
import json
import mailbox
import os
import signal
import socket
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, path, implicit_tls):
        self.path = path
        self.implicit_tls = implicit_tls  # aiosmtpd sets session.ssl only after STARTTLS
        self.lock = threading.Lock()

    def __call__(self, cmd, session, arg, reply):
        tls = self.implicit_tls or session.ssl is not None
        line = json.dumps({"cmd": cmd, "tls": tls, "arg": arg,
                           "reply": reply, "at": time.time()})
        with self.lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


class Handler:
    def __init__(self, maildir, record):
        self.maildir = mailbox.Maildir(maildir, create=True)
        self.record = record
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.record("EHLO", session, hostname, responses[-1] if responses else "")
        return responses

    def handle_STARTTLS(self, server, session, envelope):  # called without await
        self.record("STARTTLS", session, "", "220")
        return True

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.record("MAIL", session, address, "250")
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            reply = "550 5.1.1 <%s>: mailbox unavailable (test refusal)" % address
        elif local.startswith("tempfail"):
            reply = "451 4.3.0 <%s>: try again later (test)" % address
        else:
            envelope.rcpt_tos.append(address)
            reply = "250 OK"
        self.record("RCPT", session, address, reply)
        return reply

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            key = self.maildir.add(envelope.original_content or envelope.content)
        self.record("DATA", session, key, "250")
        return "250 OK queued as %s" % key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--auth")
    ap.add_argument("--watch-pid", type=int)
    ap.add_argument("--pidfile")
    a = ap.parse_args()

    record = Recorder(a.log, bool(a.cert and a.implicit_tls))
    handler = Handler(a.maildir, record)
    kw = {}
    ctx = None
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
    if ctx and a.implicit_tls:
        kw["ssl_context"] = ctx
    elif ctx:
        kw["tls_context"] = ctx
        kw["require_starttls"] = True
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and
                  auth_data.login == user.encode() and
                  auth_data.password == password.encode())
            record("AUTH", session, mechanism, "235" if ok else "535")
            # handled=False: aiosmtpd answers 535 itself (its default, True, answers nothing).
            return AuthResult(success=ok, handled=False)

        kw["authenticator"] = authenticator
        kw["auth_required"] = True
        # With implicit TLS aiosmtpd does not know the session is encrypted.
        kw["auth_require_tls"] = not a.implicit_tls

    port = a.port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            server_hostname="127.0.0.1", **kw)
    controller.start()
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    print("PORT=%d" % port, flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(1):
        if a.watch_pid:
            try:
                os.kill(a.watch_pid, 0)
            except OSError:
                break
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
