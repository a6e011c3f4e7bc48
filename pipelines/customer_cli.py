"""``c360 customer find | show | explain`` and ``c360 serve`` (registered by pipelines/cli.py).

The customer view reads the lakehouse (delta-rs, no Spark) and never writes. ``find`` masks
personal values; ``show`` and ``explain`` print one customer for an operator's terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from c360.config import load_settings
from c360.customer_view.config import (
    CustomerViewConfig,
    ServerConfig,
    load_customer_view_config,
)
from c360.customer_view.explanation import explain_customer
from c360.customer_view.lookup import find_customers
from c360.customer_view.profile import CustomerNotFound, customer_profile
from c360.customer_view.store import ViewStore
from c360.errors import PermanentError


def _open(args: argparse.Namespace) -> tuple[ViewStore, CustomerViewConfig]:
    overrides = {"lakehouse_root": str(Path(args.lakehouse).absolute())} if args.lakehouse else {}
    settings = load_settings(overrides=overrides)
    if not (settings.lakehouse_root / "gold").is_dir():
        raise CustomerNotFound(
            f"no gold tables under {settings.lakehouse_root}; run `c360 run` first or pass "
            "--lakehouse"
        )
    return ViewStore(settings.lakehouse_root), load_customer_view_config()


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _find(args: argparse.Namespace) -> int:
    store, config = _open(args)
    matches = find_customers(store, args.query, args.limit or config.find_limit)
    if args.json:
        _print_json([m.as_dict() for m in matches])
        return 0 if matches else 1
    if not matches:
        print("no customer matches the query")
        return 1
    print(f"{'customer_id':<14}{'score':>6}  {'matched on':<26}{'name':<24}{'phone':<16}email")
    for m in matches:
        print(
            f"{m.customer_id:<14}{m.score:>6.3f}  {m.matched_on:<26}{m.name or '-':<24}"
            f"{m.phone or '-':<16}{m.email or '-'}"
        )
    return 0


def _cell(value: Any) -> str:
    """A value as table text; lists (device_ids, social_ids) comma-separated."""
    if value is None:
        return ""
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [header, *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  " + "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True))
                     for r in cells)  # fmt: skip


def format_profile(p: dict[str, Any]) -> str:
    """The text ``show`` prints: sections in the order of the profile page."""
    lines = [f"customer {p['customer_id']}  (first seen {p['first_seen']}, last {p['last_seen']})"]
    lines += ["", "fields:", _table(
        [[f["field"], f["value"], f["source_record"]] for f in p["fields"]],
        ["field", "value", "source record"])]  # fmt: skip
    lines += ["", "consent:", _table(
        [[c["purpose"], c["status"], c["source"], c["at"]] for c in p["consent"]],
        ["purpose", "status", "source", "at"])]  # fmt: skip
    lines += ["", "linked records:"]
    for r in p["linked_records"]:
        lines.append(f"  {r['record_key']}  p={r['match_probability']}  {r['standardised']}")
        if r["landed"]:
            lines.append(f"    landed: {r['landed']}")
    lines += ["", "identity history:", _table(
        [[h["at"], h["event"], h["customer_id"], h["related_customer_id"]]
         for h in p["identity_history"]], ["at", "event", "customer", "related"])]  # fmt: skip
    t = p["timeline"]
    lines += ["", f"timeline (page {t['page']}/{t['pages']}, {t['total']} events):", _table(
        [[e["at"], e["kind"], e["amount"], e["points"], e["detail"], e["source_record"]]
         for e in t["rows"]], ["at", "kind", "amount", "points", "detail", "record"])]  # fmt: skip
    f = p["features"]
    lines += ["", f"features (as of {f['as_of_date']}):"]
    lines += [f"  {k}: {v}" for k, v in f["values"].items()]
    s = p["segments"]
    lines += ["", f"segments (as of {s['as_of_date']}): {', '.join(s['names']) or '-'}"]
    return "\n".join(lines)


def _show(args: argparse.Namespace) -> int:
    store, config = _open(args)
    profile = customer_profile(store, args.customer_id, config, args.page)
    if args.json:
        _print_json(profile)
    else:
        print(format_profile(profile))
    return 0


def format_explanation(e: dict[str, Any]) -> str:
    """The text ``explain`` prints: a waterfall table per pair."""
    if not e["available"]:
        return "no gold.identity_links yet: run the identity stage (c360 run) to explain links"
    lines = [f"customer {e['customer_id']}: {len(e['accepted'])} linking pairs, "
             f"{len(e['refused'])} similar records kept apart (run {e['run_id']})"]  # fmt: skip
    for title, pairs in (("linked", e["accepted"]), ("kept apart", e["refused"])):
        for pair in pairs:
            why = f"  reason: {pair['reason']} ({pair['reason_text']})" if pair["reason"] else ""
            lines += ["", f"{title}: {pair['record_key_l']} - {pair['record_key_r']}  "
                      f"match weight {pair['match_weight']:+.2f}  "
                      f"probability {pair['match_probability']:.4f}{why}"]  # fmt: skip
            rows = [[s["name"], s["level"], f"{s['log2_bayes_factor']:+.2f}"]
                    for s in pair["waterfall"]]  # fmt: skip
            lines.append(_table(rows, ["comparison", "level", "log2 BF"]))
    return "\n".join(lines)


def _explain(args: argparse.Namespace) -> int:
    store, _ = _open(args)
    explanation = explain_customer(store, args.customer_id)
    if args.json:
        _print_json(explanation)
    else:
        print(format_explanation(explanation))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from c360.customer_view.web import build_server

    store, config = _open(args)
    server = ServerConfig(
        host=args.host or config.server.host, port=args.port or config.server.port
    )
    print(f"customer view on http://{server.host}:{server.port}/ (read-only; Ctrl-C stops)")
    build_server(store.root, config, server.host, server.port).run()
    return 0


def _guard(handler):
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (PermanentError, CustomerNotFound, ValueError) as exc:
            print(f"c360 {args.command} failed: {exc}", file=sys.stderr)
            return 2

    return run


def _common(parser: argparse.ArgumentParser, json_flag: bool = True) -> None:
    parser.add_argument("--lakehouse", help="lakehouse root (default: lakehouse_root)")
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON")


def add_customer_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``customer find | show | explain`` and ``serve``."""
    customer = subparsers.add_parser(
        "customer", help="find a customer, show their profile, explain why records were linked"
    )
    commands = customer.add_subparsers(dest="customer_command", required=True)
    find = commands.add_parser(
        "find", help="customers matching an ID, phone, email, national ID or name (masked)"
    )
    find.add_argument("query", help="customer ID, source record, phone, email, ID or name")
    find.add_argument("--limit", type=int, help="most matches listed (default: find_limit)")
    _common(find)
    find.set_defaults(func=_guard(_find))
    show = commands.add_parser("show", help="one customer's profile, consent, timeline, features")
    show.add_argument("customer_id")
    show.add_argument("--page", type=int, default=1, help="timeline page (newest first)")
    _common(show)
    show.set_defaults(func=_guard(_show))
    explain = commands.add_parser(
        "explain", help="the pairs that link the customer's records, and similar ones kept apart"
    )
    explain.add_argument("customer_id")
    _common(explain)
    explain.set_defaults(func=_guard(_explain))
    serve = subparsers.add_parser("serve", help="the customer view's web page on 127.0.0.1")
    _common(serve, json_flag=False)
    serve.add_argument("--host", help="loopback address (default: server.host)")
    serve.add_argument("--port", type=int, help="port (default: server.port, 8360)")
    serve.set_defaults(func=_guard(_serve))


__all__ = ["add_customer_command", "format_explanation", "format_profile"]
