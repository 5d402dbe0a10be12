"""The sink of retract-bench's gateway figures: an aiosmtpd server that counts and discards.

Run with /usr/bin/python3 (Debian's python3-aiosmtpd). Listens on 127.0.0.1 on a free port,
prints the port on stdout (one line), then serves until SIGTERM. Keeps nothing of a message:
after each one it appends "RECIPIENTS BYTES TIME" to --log (the running count of accepted
recipients and bytes, and time.time() of that delivery), so the benchmark sees when the last
expected delivery arrived. No size limit (the 100 MiB message), PIPELINING advertised.

usage: bench_count_sink.py --log FILE
"""

import argparse
import asyncio
import signal
import socket
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class CountingSink:
    def __init__(self, log):
        self.log = open(log, "a", buffering=1)
        self.recipients = 0
        self.bytes = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.recipients += len(envelope.rcpt_tos)
        self.bytes += len(envelope.original_content or b"")
        self.log.write(f"{self.recipients} {self.bytes} {time.time():.6f}\n")
        return "250 2.0.0 OK"


class UnlimitedController(Controller):
    def factory(self):
        return SMTP(self.handler, data_size_limit=None, enable_SMTPUTF8=True, decode_data=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = UnlimitedController(CountingSink(args.log), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
