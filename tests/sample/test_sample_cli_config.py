"""`c360 generate` flags, the noise config file, and what the command prints."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from c360.sample import (
    DEFAULT_NOISE_CONFIG,
    NOISE_TARGETS,
    GeneratorInputError,
    NoiseConfig,
    add_generate_command,
    load_noise_config,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360")
    add_generate_command(parser.add_subparsers(dest="command", required=True))
    return parser


def test_default_noise_config_covers_every_kind_exactly():
    config = load_noise_config()
    assert list(config.as_dict()) == list(NoiseConfig.__dataclass_fields__)
    assert set(config.as_dict()) == set(NOISE_TARGETS)
    assert config == load_noise_config(DEFAULT_NOISE_CONFIG)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("typo: 0.1\n", "missing"),
        ("- 0.1\n", "expected a mapping"),
    ],
)
def test_bad_noise_files_say_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "noise.yaml"
    path.write_text(text)
    with pytest.raises(GeneratorInputError, match=message):
        load_noise_config(path)


def test_unknown_kind_and_bad_rate_are_rejected(tmp_path):
    rates = load_noise_config().as_dict()
    path = tmp_path / "noise.yaml"
    path.write_text(json.dumps({**rates, "tpyo": 0.1}))  # JSON is YAML
    with pytest.raises(GeneratorInputError, match="tpyo"):
        load_noise_config(path)
    with pytest.raises(GeneratorInputError, match="must be a number in \\[0, 1\\]"):
        load_noise_config().with_overrides({"typo": 1.5})


def test_missing_noise_file_names_the_flag(tmp_path):
    with pytest.raises(FileNotFoundError, match="--noise-config"):
        load_noise_config(tmp_path / "absent.yaml")


def test_flags_parse_with_their_defaults(tmp_path):
    args = _parser().parse_args(
        ["generate", "--out", str(tmp_path / "r"), "--truth", str(tmp_path / "t")]
    )
    assert (args.people, args.days, args.seed, args.history_days) == (1000, 3, 42, 365)
    assert args.transactions_format == "csv"
    assert args.noise_config == DEFAULT_NOISE_CONFIG
    assert callable(args.func)
    with pytest.raises(SystemExit):
        _parser().parse_args(["generate", "--out", "r", "--truth", "t", "--people", "0"])


def test_generate_prints_stages_and_summary_without_personal_data(tmp_path, capsys):
    raw, truth = tmp_path / "raw", tmp_path / "truth"
    args = _parser().parse_args(
        [
            "generate", "--people", "300", "--days", "2", "--start", "2025-02-03",
            "--history-days", "30", "--seed", "9", "--out", str(raw), "--truth", str(truth),
            "--noise", "typo=0.5", "--transactions-format", "parquet",
        ]
    )  # fmt: skip
    assert args.func(args) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    stages = ["people", "records", "activity", "noise", "write", "truth"]
    assert [line.split()[1] for line in lines[:-1]] == stages
    # 8 entities x 2 days (consent of issue 17, engagement and service of issue 20)
    assert lines[-1].startswith("[generate] done: 16 files")
    manifest = json.loads((truth / "manifest.json").read_text())
    assert manifest["config"]["noise"]["typo"] == 0.5
    assert manifest["config"]["start"] == "2025-02-03"
    assert (raw / "transactions" / "2025-02-04" / "transactions_20250204.parquet").is_file()
    persons = pd.read_csv(truth / "persons.csv", dtype=str, keep_default_na=False).head(50)
    secrets = [v for c in ("phone", "email", "cccd", "cmnd") for v in persons[c] if v]
    assert len(secrets) > 150
    assert not [s for s in secrets if s in out]


def test_errors_exit_2_with_a_message(tmp_path, capsys):
    base = ["generate", "--people", "50", "--history-days", "5", "--out", str(tmp_path / "r"),
            "--truth", str(tmp_path / "t")]  # fmt: skip
    args = _parser().parse_args([*base, "--noise", "typo"])
    assert args.func(args) == 2
    assert "KIND=RATE" in capsys.readouterr().out
    args = _parser().parse_args(base)
    assert args.func(args) == 0
    assert args.func(args) == 2  # second run into the same folders
    assert "--overwrite" in capsys.readouterr().out
