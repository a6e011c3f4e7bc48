"""Training: the prior from deterministic rules, u by random sampling, m by EM.

Real extracts leave comparison levels unobserved (a column empty in one source, a level no true
pair reaches). Splink 5 then either has nothing to estimate (it keeps its "not observed" marker,
fine) or lets EM drive a level's m-probability to exactly 0.0, which its validation rejects with
``ValueError: m_probability value 0.0 is below the minimum allowed value of 1e-300`` and the run
dies. :func:`m_probability_floor` raises every m-probability EM computes to a floor (the 1e-6
Splink itself assumes for unobserved levels) so training finishes; the floored levels are logged
and returned in the training summary.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from splink.blocking_rule_library import CustomRule
from splink.internals import expectation_maximisation as splink_em
from splink.internals.exceptions import EMTrainingException

from resolution.config import IdentityConfig, TrainingConfig
from resolution.linker import MatchingBackend
from resolution.model import TrainedModel, new_version
from resolution.settings import (
    build_settings,
    populated_columns,
    usable_rule_specs,
    usable_rules,
)

log = logging.getLogger(__name__)


@contextlib.contextmanager
def m_probability_floor(floor: float, floored: list[str]) -> Iterator[None]:
    """Within the block, EM's new m-probabilities are at least ``floor``.

    Wraps the one function of Splink's EM that turns expected counts into probabilities, so a
    level whose expected match count underflows to 0.0 gets ``floor`` instead of crashing the
    maximisation step. Each floored ``comparison/level`` is appended to ``floored``.
    """
    original = splink_em.compute_proportions_for_new_parameters

    def floored_proportions(df_params: Any) -> list[dict[str, Any]]:
        records = original(df_params)
        for record in records:
            if record["output_column_name"] == "_probability_two_random_records_match":
                continue
            m = record.get("m_probability")
            if m is not None and m < floor:
                record["m_probability"] = floor
                label = f"{record['output_column_name']}/{record['comparison_vector_value']}"
                if label not in floored:
                    floored.append(label)
        return records

    splink_em.compute_proportions_for_new_parameters = floored_proportions
    try:
        yield
    finally:
        splink_em.compute_proportions_for_new_parameters = original


def _keep_prior_usable(linker: Any, records: int, summary: dict[str, Any]) -> None:
    """Replace a prior of 0 or 1 (no deterministic pair, or all of them) by a usable one.

    Splink predicts with ``log2(prior / (1 - prior))``, so a degenerate prior crashes scoring.
    When the deterministic rules find no pair, the estimate assumes one true pair among all
    ``n (n - 1) / 2``: small, and still letting strong evidence make a match.
    """
    settings = linker._settings_obj
    prior = settings._probability_two_random_records_match
    if 0 < prior < 1:
        return
    all_pairs = max(records * (records - 1) // 2, 2)
    fallback = 1 / all_pairs
    log.warning(
        "deterministic rules gave a prior of %s on %d records; using 1/%d instead",
        prior,
        records,
        all_pairs,
    )
    settings._probability_two_random_records_match = fallback
    summary["prior_fallback"] = {"estimated": prior, "used": fallback}


def provisional_reasons(summary: dict[str, Any], min_records: int) -> list[str]:
    """Why a model trained with ``summary`` should not be reused by later runs (empty: reuse).

    A model trained on a small first extract (a single day, one source) would otherwise be
    reused for every later run; a provisional one is used for its own run only.
    """
    reasons = []
    if summary["records"] < min_records:
        reasons.append(f"trained on {summary['records']} records (< training.min_records)")
    if "prior_fallback" in summary or "prior_estimation_skipped" in summary:
        reasons.append("prior not estimated from the deterministic rules")
    if summary.get("em_sessions_skipped"):
        reasons.append(f"{len(summary['em_sessions_skipped'])} EM session(s) skipped")
    return reasons


SAMPLE_COLUMN = "em_sample"


def sample_keys(records: pa.Table) -> pa.Array:
    """A stable pseudo-random integer per record (CRC-32 of its record_key)."""
    keys = records.column("record_key").to_pylist()
    return pa.array([zlib.crc32(k.encode("utf-8")) for k in keys], pa.int64())


def block_pairs(records: pa.Table, columns: tuple[str, ...]) -> int:
    """Pairs an equality blocking rule on ``columns`` makes (records null on one are left out)."""
    table = records.select(list(columns))
    mask = None
    for name in columns:
        valid = pc.is_valid(table.column(name))
        mask = valid if mask is None else pc.and_(mask, valid)
    counts = table.filter(mask).group_by(list(columns)).aggregate([([], "count_all")])
    sizes = counts.column("count_all").to_numpy().astype("int64")
    return int((sizes * (sizes - 1) // 2).sum())


def em_rule(
    records: pa.Table, columns: tuple[str, ...], max_pairs: float
) -> tuple[CustomRule, dict[str, Any] | None]:
    """The EM blocking rule on ``columns``, sampled when it would make more than ``max_pairs``.

    Vietnamese names concentrate (Nguyễn is ~38% of people): an equality block on family and
    given name grows with the square of the data. Above the cap the rule keeps the pairs whose
    two records fall in the same of ``n`` hash buckets, about one pair in ``n``, independently of
    whether they match, so EM's m estimates keep their expectation.

    Returns:
        ``(rule, sampled)``; ``sampled`` describes the sampling (None when not sampled).
    """
    condition = " AND ".join(f"l.{c} = r.{c}" for c in columns)
    pairs = block_pairs(records, columns)
    if pairs <= max_pairs:
        return CustomRule(condition), None
    buckets = math.ceil(pairs / max_pairs)
    condition += f" AND l.{SAMPLE_COLUMN} % {buckets} = r.{SAMPLE_COLUMN} % {buckets}"
    log.info("EM on %s: %d pairs, training on about 1 in %d", columns, pairs, buckets)
    return CustomRule(condition), {"rule": list(columns), "pairs": pairs, "one_in": buckets}


def training_sample(records: pa.Table, max_records: int | None) -> pa.Table:
    """A deterministic sample of about ``max_records`` records (all of them when fewer).

    Records are kept by a hash of their ``record_key``, independently of whether they match,
    so a true pair and a random pair survive alike (both with the square of the share kept):
    m, u and the prior estimated on the sample are those of the whole input, at a fraction of
    the pairs EM and the prior's deterministic rules have to score.
    """
    if max_records is None or records.num_rows <= max_records:
        return records
    share = max_records / records.num_rows
    keys = pc.bit_wise_and(sample_keys(records), pa.scalar(0xFFFFFF, pa.int64()))
    return records.filter(pc.less(keys, int(share * 0x1000000)))


def _estimate_prior(
    linker: Any, available: set[str], training: TrainingConfig, records: int, summary: dict
) -> None:
    """The prior from the deterministic rules, kept within (0, 1) (see _keep_prior_usable)."""
    deterministic = usable_rules(tuple(training.deterministic_rules), available)
    if deterministic:
        try:
            linker.training.estimate_probability_two_random_records_match(
                deterministic, recall=training.deterministic_recall
            )
        except ValueError as exc:
            # Tiny extracts where the deterministic rules match most pairs: keep Splink's prior.
            log.warning("prior not estimated from deterministic rules: %s", str(exc)[:160])
            summary["prior_estimation_skipped"] = str(exc)[:160]
    _keep_prior_usable(linker, records, summary)


def _run_em_sessions(
    linker: Any,
    records: pa.Table,
    available: set[str],
    training: TrainingConfig,
    summary: dict[str, Any],
) -> list[str]:
    """One EM session per usable ``training.em_blocking_rules`` rule (sampled on huge
    blocks, m floored); returns the levels whose m was floored."""
    floored: list[str] = []
    for rule_spec in usable_rule_specs(tuple(training.em_blocking_rules), available):
        rule, sampled = em_rule(records, rule_spec, training.em_max_pairs)
        if sampled:
            summary.setdefault("em_sessions_sampled", []).append(sampled)
        try:
            with m_probability_floor(training.m_probability_floor, floored):
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, estimate_without_term_frequencies=True
                )
        except (EMTrainingException, ValueError) as exc:
            # Small or sparse extracts (a first day, one source) may give a training block no
            # pair at all, or so few that EM drives the prior to 0 or 1 (math domain error);
            # the other sessions (or Splink's defaults) still give m values.
            log.warning("EM session on %s skipped: %s", rule_spec, str(exc)[:120])
            summary.setdefault("em_sessions_skipped", []).append([*rule_spec, str(exc)[:120]])
            continue
        summary["em_sessions"].append(list(rule_spec))
    return floored


def train_model(
    records: pa.Table, backend: MatchingBackend, config: IdentityConfig
) -> TrainedModel:
    """Train a model on prepared ``records`` (see :func:`resolution.prepare.prepare_records`).

    Args:
        records: the linking view of silver/person_records.
        backend: where Splink runs.
        config: the identity configuration.

    Returns:
        The trained model (not yet saved), with a summary of what training did.
    """
    started = time.perf_counter()
    training = config.training
    available = populated_columns(records, training.min_populated_share)
    creator = build_settings(config, available)
    summary: dict[str, Any] = {"records": records.num_rows, "em_sessions": []}
    records = training_sample(records, training.max_records)
    if records.num_rows < summary["records"]:
        summary["trained_on_records"] = records.num_rows
    training_records = records.append_column(SAMPLE_COLUMN, sample_keys(records))
    linker = backend.linker(backend.register(training_records, "training_records"), creator)

    with backend.reproducible_sums():  # identical records train an identical model
        _estimate_prior(linker, available, training, records.num_rows, summary)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=training.u_max_pairs, seed=training.seed
        )
        floored = _run_em_sessions(linker, records, available, training, summary)
    if floored:
        log.warning("EM left levels unobserved; m floored for: %s", ", ".join(floored))
    summary["m_floored_levels"] = floored
    summary["probability_two_random_records_match"] = (
        linker._settings_obj._probability_two_random_records_match
    )
    summary["provisional_because"] = provisional_reasons(summary, training.min_records)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    splink_model = linker.misc.save_model_to_json()
    trained_at = datetime.now(UTC)
    version = new_version(splink_model, trained_at)
    splink_model["linker_uid"] = version
    return TrainedModel(
        version=version,
        splink_model=splink_model,
        config=config,
        available_columns=sorted(available),
        trained_on=backend.dialect,
        trained_at=trained_at.isoformat(),
        training_summary=summary,
    )
