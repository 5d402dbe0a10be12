"""The SMTP baseline of retract-bench: Python's smtplib over one reused connection.

Run with /usr/bin/python3. Reads every NNNNNN.eml in --dir with its envelope NNNNNN.json
({"mail_from": ..., "rcpt_tos": [...]}, as Tests/Support/smtp_sink.py --maildir writes
them), loads them all into memory first, then times: connect, EHLO, one sendmail() per
message (MAIL FROM, RCPT TO, DATA; no RSET between messages, no PIPELINING), QUIT.
Prints one JSON line: {"messages": N, "bytes": B, "seconds": S, "per_second": R}.

usage: bench_smtplib.py --port PORT --dir DIR [--host 127.0.0.1]
"""

import argparse
import json
import os
import smtplib
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()

    messages = []
    for name in sorted(os.listdir(args.dir)):
        if not name.endswith(".eml"):
            continue
        base = os.path.join(args.dir, name[: -len(".eml")])
        with open(base + ".eml", "rb") as file:
            content = file.read()
        with open(base + ".json", "rb") as file:
            envelope = json.loads(file.read())
        messages.append((envelope["mail_from"], envelope["rcpt_tos"], content))
    if not messages:
        sys.exit(f"bench_smtplib.py: no .eml files in {args.dir}")

    start = time.perf_counter()
    with smtplib.SMTP(args.host, args.port, local_hostname="bench.localhost", timeout=60) as client:
        client.ehlo()
        for mail_from, rcpt_tos, content in messages:
            refused = client.sendmail(mail_from, rcpt_tos, content)
            if refused:
                sys.exit(f"bench_smtplib.py: recipients refused: {refused}")
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "messages": len(messages),
                "bytes": sum(len(m[2]) for m in messages),
                "seconds": seconds,
                "per_second": len(messages) / seconds,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
