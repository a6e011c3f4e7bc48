"""The `c360` command: `run` materialises every stage, `features` builds past feature snapshots,
`generate` writes sample extracts."""

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path

from c360.console import quiet_console
from c360.errors import InputError, PermanentError
from c360.sample import add_generate_command
from c360.sql_endpoint.control import add_sql_command
from pipelines.customer_cli import add_customer_command
from pipelines.privacy_cli import add_forget_command
from pipelines.segment_cli import add_segment_command


def _parse_dates(text: str, flag: str) -> list[date]:
    """Comma-separated ``YYYY-MM-DD`` dates of a flag; one clear line when one is not a date."""
    dates = []
    for item in text.split(","):
        try:
            dates.append(date.fromisoformat(item.strip()))
        except ValueError as exc:
            raise InputError(
                f"{flag} {item.strip()!r}: {exc} (use YYYY-MM-DD, e.g. 2026-11-01)"
            ) from None
    return dates


def _overrides(args: argparse.Namespace) -> dict:
    """Setting overrides from the flags a command has (--raw, --lakehouse, --truth, --wait)."""
    overrides: dict = {}
    for flag, key in (
        ("raw", "raw_root"),
        ("lakehouse", "lakehouse_root"),
        ("truth", "truth_root"),
    ):
        if getattr(args, flag, None):
            overrides[key] = str(Path(getattr(args, flag)).absolute())
    if getattr(args, "wait", None) is not None:
        overrides["lock"] = {"timeout_seconds": args.wait}
    return overrides


def _run(args: argparse.Namespace) -> int:
    from pipelines.runner import RunFailure, run_pipeline

    overrides = _overrides(args)
    try:
        days = _parse_dates(args.days, "--days") if args.days else None
    except InputError as exc:
        print(f"c360 run failed: {exc}", file=sys.stderr)
        return 2
    stages = args.stages.split(",") if args.stages else None
    try:
        summary = run_pipeline(overrides, days=days, progress=print, stages=stages)
    except (RunFailure, PermanentError) as exc:
        print(f"c360 run failed: {exc}", file=sys.stderr)
        return 1
    print(format_summary(summary))
    return 0


def _features(args: argparse.Namespace) -> int:
    from pipelines.runner import RunFailure, build_feature_snapshots

    overrides = _overrides(args)
    try:
        as_of_dates = _parse_dates(args.as_of, "--as-of")
    except InputError as exc:
        print(f"c360 features failed: {exc}", file=sys.stderr)
        return 2
    try:
        summary = build_feature_snapshots(overrides, as_of_dates, progress=print)
    except (RunFailure, PermanentError) as exc:
        print(f"c360 features failed: {exc}", file=sys.stderr)
        return 1
    print(format_snapshots(summary))
    return 0


def format_snapshots(summary) -> str:
    """The closing summary of ``c360 features``: customers, varying columns, checks per date."""
    first, last = summary.days[0], summary.days[-1]
    count = f"{len(summary.days)} snapshot{'s' if len(summary.days) > 1 else ''}"
    lines = [f"c360 features: {count} (as of {first} .. {last})"]
    lines.append(
        f"{'as_of_date':<12}{'customers':>11}{'varying features':>22}{'seconds':>10}   checks"
    )
    for as_of, stage in zip(summary.days, summary.stages, strict=True):
        figures = {a.asset: a.metadata for a in stage.assets}.get("gold/customer_features", {})
        varying = f"{figures.get('non_constant_features', 0):,} of {figures.get('features', 0):,}"
        checks = f"{stage.checks_passed} passed / {stage.checks_failed} failed"
        lines.append(
            f"{as_of!s:<12}{figures.get('customers', 0):>11,}{varying:>22}"
            f"{stage.seconds:>10.1f}   {checks}"
        )
    lines.append(f"total {summary.seconds:.1f} s")
    return "\n".join(lines)


# Figures worth a line in the closing summary, when an asset reports them.
HIGHLIGHTS = (
    "customers", "customers_new", "customers_merged", "customers_split",
    "match_precision", "match_recall", "match_f1", "match_persons_split",
    "match_clusters_merging_persons", "match_truth_coverage", "as_of_date", "features",
    "non_constant_features", "segment_members",
)  # fmt: skip


def _format_figure(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def format_summary(summary) -> str:
    """The closing summary: rows per table, quarantined rows, checks, time per stage."""
    lines = [f"c360 run: {len(summary.days)} days ({summary.days[0]} .. {summary.days[-1]})"]
    lines.append(f"{'table':<32}{'rows':>12}{'quarantined':>14}")
    for stage in summary.stages:
        for asset in stage.assets:
            rows = asset.metadata.get("table_rows_total", asset.metadata.get("rows", ""))
            rejected = asset.metadata.get("rows_quarantined", "")
            lines.append(f"{asset.asset:<32}{rows!s:>12}{rejected!s:>14}")
    for stage in summary.stages:
        for asset in stage.assets:
            figures = [
                f"{key}={_format_figure(asset.metadata[key])}"
                for key in HIGHLIGHTS
                if key in asset.metadata
            ]
            if figures:
                lines.append(f"{asset.asset}: " + ", ".join(figures))
            if "warnings" in asset.metadata:
                lines.append(f"WARNING {asset.asset}: {asset.metadata['warnings']}")
    lines.append("stage          seconds   checks passed / failed")
    for stage in summary.stages:
        checks = f"{stage.checks_passed} / {stage.checks_failed}"
        lines.append(f"{stage.stage:<14}{stage.seconds:>8.1f}   {checks}")
    lines.append(f"total {summary.seconds:.1f} s")
    lines += [f"warning: {warning}" for warning in getattr(summary, "warnings", [])]
    return "\n".join(lines)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds cannot be negative")
    return value


def _add_wait(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--wait",
        type=_seconds,
        metavar="SECONDS",
        help="when another run holds the lakehouse lock, wait up to SECONDS for it "
        "(default: lock.timeout_seconds of the profile; 0 exits at once naming the holder)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360", description=__doc__)
    parser.add_argument("--profile", help="configuration profile (default: $C360_PROFILE or local)")
    subparsers = parser.add_subparsers(dest="command", required=True)

    run = subparsers.add_parser(
        "run", help="materialise every asset for every complete day of the landing zone"
    )
    run.add_argument("--raw", help="landing-zone root (default: raw_root of the profile)")
    run.add_argument("--lakehouse", help="lakehouse root (default: lakehouse_root of the profile)")
    run.add_argument("--truth", help="ground-truth folder for match evaluation (optional)")
    run.add_argument("--days", help="comma-separated YYYY-MM-DD days (default: all complete days)")
    run.add_argument(
        "--stages", help="comma-separated stages to run, e.g. bronze,silver (default: all)"
    )
    _add_wait(run)
    run.set_defaults(func=_run)

    features = subparsers.add_parser(
        "features",
        help="build gold/customer_features snapshots as of past dates (training sets)",
        description=(
            "Build (or rebuild) the feature snapshot of each as-of date: a snapshot for D uses "
            "only events dated before D. Needs the silver and identity tables (c360 run)."
        ),
    )
    features.add_argument(
        "--as-of", required=True, help="comma-separated YYYY-MM-DD snapshot dates"
    )
    features.add_argument(
        "--lakehouse", help="lakehouse root (default: lakehouse_root of the profile)"
    )
    features.add_argument(
        "--raw", help="landing-zone root, for the last landed day (default: raw_root)"
    )
    _add_wait(features)
    features.set_defaults(func=_features)

    add_generate_command(subparsers)
    add_segment_command(subparsers)
    add_sql_command(subparsers)
    add_forget_command(subparsers)
    add_customer_command(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``c360`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_console()
    args = build_parser().parse_args(argv)
    if args.profile:
        os.environ["C360_PROFILE"] = args.profile
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
