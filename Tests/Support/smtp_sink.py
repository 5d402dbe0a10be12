"""A small real SMTP server for Retract's tests, built on Debian's python3-aiosmtpd.

Run it with /usr/bin/python3 (the pyenv python3 on PATH cannot import aiosmtpd). It listens
on 127.0.0.1, prints its port on stdout (one line), then serves until SIGTERM.

Options:
  --port N            listen on N instead of a free port
  --starttls          offer STARTTLS and require it (needs --cert and --key)
  --tls               implicit TLS from the first byte, as smtps:// (needs --cert and --key)
  --cert C --key K    the server certificate and key (PEM)
  --auth USER:PASS    require AUTH (PLAIN or LOGIN, only after TLS when TLS is on)
  --only-login        offer AUTH LOGIN but not PLAIN
  --reject ADDR       answer RCPT TO:<ADDR> with 550 (repeatable)
  --defer ADDR        answer RCPT TO:<ADDR> with 450 (repeatable)
  --pipelining        advertise PIPELINING (aiosmtpd reads commands in order anyway)
  --no-ehlo           refuse EHLO with 502, so clients fall back to HELO
  --delay-ms N        wait N milliseconds before accepting each message's data (a slow server)
  --maildir DIR       store each mail as DIR/NNNNNN.eml with DIR/NNNNNN.json holding the
                      envelope: {"mail_from": ..., "rcpt_tos": [...]}, and append one line
                      to DIR/ehlo.log per EHLO/HELO (so tests can count sessions) and
                      one to DIR/quit.log per QUIT (sessions the client ended politely)
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.log_greeting("EHLO", hostname)
        if self.args.no_ehlo:
            return ["502 5.5.1 EHLO not supported here"]
        if self.args.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self.log_greeting("HELO", hostname)
        return "250 " + server.hostname

    async def handle_QUIT(self, server, session, envelope):
        if self.args.maildir:
            with self.lock, open(os.path.join(self.args.maildir, "quit.log"), "a") as log:
                log.write(f"QUIT {session.host_name}\n")
        return "221 Bye"

    def log_greeting(self, command, hostname):
        if self.args.maildir:
            with self.lock, open(os.path.join(self.args.maildir, "ehlo.log"), "a") as log:
                log.write(f"{command} {hostname}\n")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.args.reject:
            return f"550 5.1.1 <{address}>: no such user"
        if address in self.args.defer:
            return f"450 4.2.1 <{address}>: mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.delay_ms:
            await asyncio.sleep(self.args.delay_ms / 1000)
        if self.args.maildir:
            with self.lock:
                self.count += 1
                name = os.path.join(self.args.maildir, f"{self.count:06d}")
            envelope_json = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
            write_atomically(name + ".json", json.dumps(envelope_json).encode())
            write_atomically(name + ".eml", envelope.original_content)
        return "250 2.0.0 queued"


def write_atomically(path, data):
    temporary = path + ".tmp"
    with open(temporary, "wb") as file:
        file.write(data)
    os.rename(temporary, path)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--starttls", action="store_true")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--auth")
    parser.add_argument("--only-login", action="store_true")
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    parser.add_argument("--pipelining", action="store_true")
    parser.add_argument("--no-ehlo", action="store_true")
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--maildir")
    args = parser.parse_args()

    options = {"data_size_limit": 10 * 1024 * 1024}
    context = None
    if args.starttls or args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    if args.starttls:
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data == (user.encode(), password.encode())
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

        options.update(
            authenticator=authenticator,
            auth_required=True,
            # With implicit TLS the whole connection is encrypted, but aiosmtpd only counts
            # STARTTLS as TLS: require it only in the STARTTLS case.
            auth_require_tls=args.starttls,
            auth_exclude_mechanism=["PLAIN"] if args.only_login else None,
        )

    port = args.port or free_port()
    controller = Controller(
        Sink(args), hostname="127.0.0.1", port=port, ssl_context=context if args.tls else None, **options
    )
    controller.start()
    print(port, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # A parent may start us with these signals blocked (a thread's mask is inherited): undo that.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
