"""``c360 segment list | preview | export`` (registered by pipelines/cli.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow.compute as pc

from c360.config import load_settings
from c360.errors import PermanentError
from c360.lakehouse import Lakehouse
from c360.segments.engine import evaluate, field_catalog
from c360.segments.export import FORMATS, export_members, masked_rows, resolve_fields
from c360.segments.model import (
    SegmentConfigError,
    load_segments_config,
    parse_where,
    validate_config,
)
from c360.tables import GOLD_SEGMENT_MEMBERS


def _open(args: argparse.Namespace):
    overrides = {"lakehouse_root": str(Path(args.lakehouse).absolute())} if args.lakehouse else {}
    settings = load_settings(overrides=overrides)
    lake = Lakehouse(settings.lakehouse_root, spark=None, writer="delta-rs")
    config = load_segments_config(args.segments)
    catalog = field_catalog(lake, config)
    validate_config(config, catalog)
    return lake, config, catalog


def _target(args: argparse.Namespace, config):
    """(label, filter, channel) of NAME or --where."""
    if bool(args.name) == bool(args.where):
        raise SegmentConfigError("give a segment NAME or --where FILTER (one of them)")
    if args.name:
        segment = config.segment(args.name)
        return segment.name, segment.filter, segment.channel
    return "ad-hoc", parse_where(args.where), args.channel


def _list(args: argparse.Namespace) -> int:
    lake, config, _ = _open(args)
    counts: dict[str, int] = {}
    if lake.exists(GOLD_SEGMENT_MEMBERS):
        members = lake.arrow_dataset(GOLD_SEGMENT_MEMBERS).to_table(
            columns=["segment", "as_of_date"]
        )
        if members.num_rows:
            latest = pc.max(members["as_of_date"])
            current = members.filter(pc.equal(members["as_of_date"], latest))
            for row in current.group_by("segment").aggregate([("segment", "count")]).to_pylist():
                counts[row["segment"]] = row["segment_count"]
    print(f"{'segment':<34}{'owner':<12}{'channel':<9}{'members':>9}  description")
    for segment in sorted(config.segments.values(), key=lambda s: s.name):
        members = f"{counts[segment.name]:,}" if segment.name in counts else "-"
        print(
            f"{segment.name:<34}{segment.owner:<12}{segment.channel or '-':<9}{members:>9}  "
            f"{segment.description_en}"
        )
    return 0


def _preview(args: argparse.Namespace) -> int:
    lake, config, catalog = _open(args)
    label, node, channel = _target(args, config)
    sample_fields = [*config.pii, *config.export.default_fields]
    fields = [f for f in dict.fromkeys(sample_fields) if f in catalog.fields]
    result = evaluate(lake, config, catalog, node, channel, fields=fields, segment=label)
    print(f"segment {label} as of {result.as_of} (channel {channel or 'none'})")
    print(f"matching the filter: {result.matched:,}")
    print(f"excluded for consent: {result.excluded_for_consent:,}")
    print(f"members: {result.count:,}")
    sample = result.members.slice(0, config.export.preview_sample)
    for row in masked_rows(sample, config):
        print("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
    return 0


def _export(args: argparse.Namespace) -> int:
    lake, config, catalog = _open(args)
    label, node, channel = _target(args, config)
    fields = [f.strip() for f in args.fields.split(",")] if args.fields else None
    columns = resolve_fields(fields, config, catalog)
    result = evaluate(lake, config, catalog, node, channel, fields=columns, segment=label)
    exported = export_members(
        lake, result, label, columns, args.format, Path(args.out), config, catalog,
        language=args.lang, by=args.by,
    )  # fmt: skip
    print(
        f"exported {exported.rows:,} members of {label} ({result.excluded_for_consent:,} "
        f"excluded for consent), fields {', '.join(columns)}"
    )
    for note in exported.notes:
        print(f"note: {note}")
    for path in exported.files:
        print(f"  {path}")
    return 0


def _guard(handler):
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except PermanentError as exc:
            print(f"c360 segment {args.segment_command} failed: {exc}", file=sys.stderr)
            return 2

    return run


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lakehouse", help="lakehouse root (default: lakehouse_root)")
    parser.add_argument(
        "--segments", type=Path, default=None, help="segment file (default conf/segments.yaml)"
    )


def _target_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="segment name from the segment file")
    parser.add_argument(
        "--where", help="ad-hoc filter: YAML {all: [...]} or 'FIELD OP VALUE and ...'"
    )
    parser.add_argument(
        "--channel", choices=["email", "sms", "zalo", "call"], help="channel of an ad-hoc filter"
    )


def add_segment_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``segment list | preview | export``; handlers return an exit code."""
    segment = subparsers.add_parser(
        "segment", help="list, preview and export segments (conf/segments.yaml)"
    )
    commands = segment.add_subparsers(dest="segment_command", required=True)
    listing = commands.add_parser("list", help="the configured segments and their members")
    _common(listing)
    listing.set_defaults(func=_guard(_list))
    preview = commands.add_parser(
        "preview", help="count, consent exclusions and a sample of 10 (PII masked)"
    )
    _common(preview)
    _target_args(preview)
    preview.set_defaults(func=_guard(_preview))
    export = commands.add_parser("export", help="write the members to csv, xlsx or parquet")
    _common(export)
    _target_args(export)
    export.add_argument(
        "--fields",
        help="comma-separated fields (PII only when named; default: export.default_fields)",
    )
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("--out", required=True, help="output file")
    export.add_argument("--lang", choices=["en", "vi"], default="en", help="header language")
    export.add_argument("--by", help="who exports (default: the OS user), for gold/export_log")
    export.set_defaults(func=_guard(_export))


__all__ = ["add_segment_command"]
