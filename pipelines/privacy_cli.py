"""``c360 forget``: land an erasure request (registered by pipelines/cli.py).

Writes ``<raw_root>/privacy/<today>/erasure_requests_<id>.csv`` and prints the request ID; the
next ``c360 run`` erases the person (docs/runbook.md "Erasure"). The value is never printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from c360.config import load_settings
from c360.errors import PermanentError
from c360.privacy import write_request

# flag -> request kind (c360.contract ERASURE_KINDS)
FORGET_FLAGS = {
    "phone": "phone",
    "email": "email",
    "national_id": "national_id",
    "customer_id": "customer_id",
    "source_record": "source_record",
}


def _forget(args: argparse.Namespace) -> int:
    given = [
        (kind, getattr(args, flag)) for flag, kind in FORGET_FLAGS.items() if getattr(args, flag)
    ]
    if len(given) != 1:
        print(
            "c360 forget failed: give exactly one of --phone, --email, --national-id, "
            "--customer-id, --source-record SYSTEM:ID",
            file=sys.stderr,
        )
        return 2
    overrides = {"raw_root": str(Path(args.raw).absolute())} if args.raw else {}
    settings = load_settings(overrides=overrides)
    kind, value = given[0]
    try:
        request_id = write_request(settings.raw_root, kind, value)
    except PermanentError as exc:
        print(f"c360 forget failed: {exc}", file=sys.stderr)
        return 1
    print(f"erasure request {request_id} ({kind}) landed; the next `c360 run` erases the person")
    return 0


def add_forget_command(subparsers) -> None:
    """Register ``c360 forget`` on the top-level parser's subcommands."""
    forget = subparsers.add_parser(
        "forget",
        help="file an erasure request (right to be forgotten); the next run executes it",
        description="Land an erasure request in the landing zone (privacy/<day>/); prints the "
        "request ID, never the value. Exactly one identifier.",
    )
    forget.add_argument("--raw", help="landing-zone root (default: raw_root of the profile)")
    forget.add_argument(
        "--phone", help="a phone number, any spelling (standardised as silver does)"
    )
    forget.add_argument("--email", help="an e-mail address")
    forget.add_argument("--national-id", dest="national_id", help="a CMND / CCCD / passport number")
    forget.add_argument("--customer-id", dest="customer_id", help="a customer_id of gold")
    forget.add_argument(
        "--source-record", dest="source_record", metavar="SYSTEM:ID",
        help="one source record, e.g. crm:CT00000001",
    )  # fmt: skip
    forget.set_defaults(func=_forget)
