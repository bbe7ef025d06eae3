#!/usr/bin/env python3
"""A real SMTP server for tests: stores every message it accepts in a Maildir.

    smtp_sink.py --port 2525 --maildir DIR [--reject ADDRESS ...]

Recipients named with --reject are refused at RCPT TO with "550 5.1.1 mailbox
unavailable", as a real server refuses an unknown mailbox. Built on aiosmtpd.
"""
import argparse
import asyncio
import os
import signal

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


class Sink(Mailbox):
    def __init__(self, maildir, rejected):
        super().__init__(maildir)
        self.rejected = {r.lower() for r in rejected}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.rejected:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--reject", action="append", default=[])
    args = parser.parse_args()
    # Maildir(create=True) leaves an existing folder without its sub-folders.
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(args.maildir, sub), exist_ok=True)
    controller = Controller(Sink(args.maildir, args.reject), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("listening", flush=True)
    stop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.call_soon_threadsafe(stop.stop))
    stop.run_forever()
    controller.stop()


if __name__ == "__main__":
    main()
