"""Errors that say what to do: bad arguments are one line, a missing truth folder stops the run
before any stage (and is never retried), truth of another data set is a warning."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from pipelines import cli
from pipelines.runner import RunFailure, run_pipeline
from resolution.evaluation import MIN_TRUTH_COVERAGE, truth_coverage, truth_warning

CONTACTS = (
    "contact_id,full_name,gender,date_of_birth,phone,email,national_id,address,province,"
    "created_at,updated_at\nCT1,A,,,,,,,,2026-10-01T00:00:00+07:00,2026-10-01T00:00:00+07:00\n"
)


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["run", "--days", "2025-13-01"], "--days '2025-13-01'"),
        (["run", "--days", "2025-10-01,yesterday"], "--days 'yesterday'"),
        (["features", "--as-of", "2026-02-30"], "--as-of '2026-02-30'"),
    ],
)
def test_a_bad_date_argument_is_one_line_and_exit_code_2(argv, flag, capsys, tmp_path):
    code = cli.main([*argv, "--lakehouse", str(tmp_path / "lake"), "--raw", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert flag in err and "use YYYY-MM-DD" in err


def test_a_bad_wait_argument_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--wait", "soon"])
    assert exited.value.code == 2
    assert "'soon' is not a number of seconds" in capsys.readouterr().err


def test_a_missing_truth_folder_stops_the_run_before_any_stage(land, tmp_path, capsys):
    raw = land("crm", "2026-11-01", {"contacts_1.csv": CONTACTS})
    truth = tmp_path / "no-truth-here"
    started = time.monotonic()
    with pytest.raises(RunFailure, match=r"no truth table .*no-truth-here/person_truth\.csv"):
        run_pipeline(
            {"raw_root": str(raw), "lakehouse_root": str(tmp_path / "lake"), "truth_root": truth}
        )
    assert time.monotonic() - started < 10  # was: two retries, 48 s, "Exceeded max_retries"
    assert not (tmp_path / "lake").exists()  # nothing written, no lock taken

    code = cli.main(["run", "--raw", str(raw), "--lakehouse", str(tmp_path / "lake"),
                     "--truth", str(truth)])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "--truth" in err


def _map(keys: list[str]) -> pd.DataFrame:
    systems, ids = zip(*(k.split(":") for k in keys), strict=True)
    return pd.DataFrame({"source_system": systems, "source_record_id": ids})


def test_truth_of_another_data_set_is_a_warning():
    run = _map(["crm:1", "crm:2", "erp:7", "loyalty:9"])
    other = pd.DataFrame({"record_id": ["crm:1", "crm:500", "erp:501"], "person_id": "p"})
    coverage = truth_coverage(run, other)
    assert coverage == 0.25
    warning = truth_warning(coverage)
    assert warning is not None and "covers only 25.0%" in warning
    assert "another data set" in warning


def test_truth_of_the_run_is_no_warning():
    run = _map(["crm:1", "crm:2"])
    truth = pd.DataFrame({"record_id": ["crm:1", "crm:2", "erp:3"], "person_id": ["a", "a", "b"]})
    assert truth_coverage(run, truth) == 1.0 and truth_warning(1.0) is None
    assert truth_warning(MIN_TRUTH_COVERAGE) is None


@pytest.mark.spark
@pytest.mark.slow
def test_a_landing_zone_of_crm_contacts_only_runs_to_the_end(spark, tmp_path):
    """No phone, email, gender, loyalty or transaction anywhere: the profile, RFM and loyalty
    columns are constant for lack of evidence, which is reported, not a failed run."""
    from datetime import date

    from reliability_landing import crm_only_landing_zone

    from c360.lakehouse import Lakehouse
    from c360.local_time import default_as_of_date
    from features.checks import check_feature_table
    from features.events import read_feature_inputs
    from features.evidence import features_without_events
    from features.spec import expand, load_spec

    raw = crm_only_landing_zone(tmp_path / "raw", "2026-11-01", contacts=260)
    spec = load_spec()
    assert int(spec.checks["min_customers"]) < 260  # the check applies in full
    summary = run_pipeline({"raw_root": str(raw), "lakehouse_root": str(tmp_path / "lake")})
    assert all(stage.checks_failed == 0 for stage in summary.stages)

    lake = Lakehouse(tmp_path / "lake", spark)
    as_of, features = default_as_of_date([date(2026, 11, 1)]), expand(spec)
    report = check_feature_table(
        lake,
        as_of,
        features,
        without_events=lambda: features_without_events(
            read_feature_inputs(lake), spec, as_of, features
        ),
        min_customers=int(spec.checks["min_customers"]),
    )
    assert report.passed and report.rows == 260
    for name in ("prof_has_phone", "prof_has_email", "loy_is_member"):
        assert report.tolerated[name] == "constant_no_events", name
    for name in ("prof_gender", "loy_tier", "rec_first_channel", "rfm_frequency"):
        assert report.tolerated[name] == "all_null_no_events", name
    assert "prof_age_years" not in report.tolerated  # birth dates vary: evidence, and it varies
