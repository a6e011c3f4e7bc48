"""Transient failures are retried with backoff; every other failure fails the step at once:
input, configuration and lock errors included, even a missing folder (an OSError)."""

import dagster as dg
import pytest

from assets.policies import TRANSIENT_RETRY, is_transient, retry_transient_only
from c360.config import ConfigError
from c360.errors import InputError, TransientError
from c360.lock import LakehouseLockedError
from pipelines.definitions import build_definitions
from resolution.evaluation import read_truth

# the same wrapping as the real assets, without the 15 s delay
QUICK_RETRY = dg.RetryPolicy(max_retries=2)


def _flaky_asset(error: Exception, failures: int, attempts: list[int]) -> dg.AssetsDefinition:
    @dg.asset(retry_policy=QUICK_RETRY)
    @retry_transient_only
    def flaky() -> dg.MaterializeResult:
        attempts.append(1)
        if len(attempts) <= failures:
            raise error
        return dg.MaterializeResult(metadata={"attempts": len(attempts)})

    return flaky


def test_a_transient_error_is_retried_until_it_passes():
    attempts: list[int] = []
    result = dg.materialize([_flaky_asset(OSError("storage hiccup"), 2, attempts)])
    assert result.success and len(attempts) == 3


@pytest.mark.parametrize("error", [ValueError("math domain error"), KeyError("national_id")])
def test_any_other_error_fails_at_once_with_its_type_and_text(error):
    attempts: list[int] = []
    result = dg.materialize([_flaky_asset(error, 1, attempts)], raise_on_error=False)
    assert not result.success and len(attempts) == 1
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert f"{type(error).__name__}: {error}" in message


def test_generator_assets_are_wrapped_too():
    @retry_transient_only
    def yields():
        yield 1
        raise ValueError("late")

    produced = yields()
    assert next(produced) == 1
    with pytest.raises(dg.Failure, match="ValueError: late"):
        next(produced)


def test_every_asset_of_the_code_location_retries_transient_failures_with_backoff(tmp_path):
    defs = build_definitions({"lakehouse_root": str(tmp_path / "lake"), "raw_root": str(tmp_path)})
    assets = [a for a in defs.resolve_asset_graph().assets_defs if a.is_executable and a.keys]
    assert len(assets) >= 14
    for asset in assets:
        assert asset.node_def.retry_policy == TRANSIENT_RETRY, asset.keys
    assert TRANSIENT_RETRY.backoff == dg.Backoff.EXPONENTIAL and TRANSIENT_RETRY.max_retries == 2


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError("no truth table /data/truth/person_truth.csv"),  # an OSError, yet final
        PermissionError("lakehouse root is read-only"),
        InputError("--days '2025-13-01': month must be in 1..12"),
        ConfigError("lock.timeout_seconds: must be >= 0"),
        LakehouseLockedError("lakehouse /lake is locked by run r1"),
    ],
)
def test_input_configuration_and_lock_errors_are_never_retried(error):
    attempts: list[int] = []
    result = dg.materialize([_flaky_asset(error, 1, attempts)], raise_on_error=False)
    assert not result.success and len(attempts) == 1
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert f"{type(error).__name__}: {error}" in failure.step_failure_data.error.message


@pytest.mark.parametrize("error", [ConnectionResetError("peer"), TransientError("storage busy")])
def test_transient_errors_of_both_families_are_retried(error):
    attempts: list[int] = []
    result = dg.materialize([_flaky_asset(error, 1, attempts)])
    assert result.success and len(attempts) == 2


def test_a_missing_truth_folder_is_an_input_error_not_a_transient_one(tmp_path):
    with pytest.raises(InputError, match=r"person_truth\.csv") as caught:
        read_truth(tmp_path / "no-such-truth")
    assert not is_transient(caught.value)
