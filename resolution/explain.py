"""Why records were linked: ``gold/identity_links`` from one run's scored pairs (issue 19).

For each cluster, the accepted edges that hold it together (both ends in the cluster, above the
threshold and passing the guard) and, per record, its best refused pairs with the reason:
``below_threshold``, or the guard rule that refused it (``guard.personal_evidence``,
``guard.contradictions``, ``guard.split_conflicting_clusters``). Each pair carries Splink's
match weight and, per comparison, its level and log2 Bayes factor (a waterfall's rows; a
term-frequency adjustment is a row of its own, ``tf:<column>``).

The scored pairs are read through :func:`scored_pairs` only, so a change in how predictions
flow (issue: scale) re-points one function.
"""

from __future__ import annotations

import logging
import math

import pyarrow as pa
import pyarrow.compute as pc
from splink.internals.splink_dataframe import SplinkDataFrame

from c360.lakehouse import Lakehouse
from c360.tables import (
    GOLD_IDENTITY_LINKS,
    GOLD_IDENTITY_LINKS_SCHEMA,
    identity_link_bucket,
)
from resolution.clustering import guard_sql
from resolution.config import IdentityConfig, level_values
from resolution.pipeline import MatchResult

log = logging.getLogger(__name__)

REFUSED_PER_RECORD = 3  # the most similar pairs kept apart, per record
NULL_LEVEL = "null"


def scored_pairs(match: MatchResult) -> SplinkDataFrame:
    """Splink's scored pairs of the run (``gamma_`` / ``bf_`` columns retained)."""
    if match.predictions is None:
        raise ValueError("the match result holds no predictions to explain")
    return match.predictions


def _columns(frame: SplinkDataFrame) -> list[str]:
    return [column.unquote().name for column in frame.columns]


def _links_sql(
    pairs: SplinkDataFrame,
    clusters: SplinkDataFrame,
    config: IdentityConfig,
    in_model: set[str],
    threshold: float,
    refused_per_record: int,
) -> str:
    """Accepted edges and the top refused pairs per record, one portable SQL statement."""
    guard = guard_sql(config, in_model)
    evidence = guard_sql(config, in_model, config.guard.model_copy(update={"contradictions": {}}))
    columns = [c for c in _columns(pairs) if c.startswith(("gamma_", "mw_", "bf_"))]
    names = ["record_key_l", "record_key_r", "match_weight", "match_probability", *columns]
    picked, qualified = ", ".join(names), ", ".join(f"p.{name}" for name in names)
    return f"""
        WITH scored AS (
            SELECT {qualified}, cl.cluster_id AS cluster_l, cr.cluster_id AS cluster_r,
                   CASE WHEN p.match_probability < {threshold!r} THEN 'below_threshold'
                        WHEN NOT ({evidence}) THEN 'guard.personal_evidence'
                        WHEN NOT ({guard}) THEN 'guard.contradictions'
                        ELSE 'guard.split_conflicting_clusters' END AS refusal
            FROM {pairs.physical_name} p
            JOIN {clusters.physical_name} cl ON cl.record_key = p.record_key_l
            JOIN {clusters.physical_name} cr ON cr.record_key = p.record_key_r
        ),
        refused AS (
            SELECT {picked}, refusal, record_key_l AS filed_under FROM scored
            WHERE cluster_l <> cluster_r
            UNION ALL
            SELECT {picked}, refusal, record_key_r AS filed_under FROM scored
            WHERE cluster_l <> cluster_r
        ),
        ranked AS (
            SELECT *, row_number() OVER (
                PARTITION BY filed_under
                ORDER BY match_weight DESC, record_key_l, record_key_r
            ) AS rank
            FROM refused
        )
        SELECT {picked}, 'accepted' AS link, CAST(NULL AS STRING) AS reason,
               record_key_l AS filed_under
        FROM scored
        WHERE cluster_l = cluster_r AND match_probability >= {threshold!r} AND {guard}
        UNION ALL
        SELECT {picked}, 'refused' AS link, refusal AS reason, filed_under
        FROM ranked WHERE rank <= {refused_per_record}
        """


def _level_names(config: IdentityConfig, in_model: set[str]) -> dict[str, dict[int, str]]:
    """``gamma`` value -> level label, per comparison in the model."""
    names = {}
    for spec in config.comparisons:
        if spec.name in in_model:
            by_value = {value: level for level, value in level_values(spec).items()}
            names[spec.name] = {**by_value, -1: NULL_LEVEL}
    return names


def _weight(row: dict, name: str) -> float:
    """log2 Bayes factor of one comparison (or term-frequency adjustment) of a scored pair.

    Splink 5 keeps it as ``mw_<name>`` (a match weight is a log2 Bayes factor); older
    releases kept ``bf_<name>``. A null level weighs 0.
    """
    if row.get(f"mw_{name}") is not None:
        return float(row[f"mw_{name}"])
    factor = row.get(f"bf_{name}")
    return math.log2(float(factor)) if factor is not None and float(factor) > 0 else 0.0


def _comparisons(row: dict, levels: dict[str, dict[int, str]]) -> list[dict]:
    """Per comparison: its level and weight; term-frequency adjustments as their own rows."""
    entries = []
    for name, labels in levels.items():
        gamma = row.get(f"gamma_{name}")
        gamma = -1 if gamma is None else int(gamma)
        entries.append(
            {
                "name": name,
                "level": labels.get(gamma, str(gamma)),
                "gamma": gamma,
                "log2_bayes_factor": _weight(row, name),
            }
        )
    for column in row:
        if column.startswith(("mw_tf_adj_", "bf_tf_adj_")):
            adjusted = column.removeprefix("mw_").removeprefix("bf_")
            weight = _weight(row, adjusted)
            if weight and not (column.startswith("bf_") and f"mw_{adjusted}" in row):
                entries.append({"name": "tf:" + adjusted.removeprefix("tf_adj_"),
                                "level": "term frequency", "gamma": None,
                                "log2_bayes_factor": weight})  # fmt: skip
    return entries


def identity_links(
    match: MatchResult,
    identity_map: pa.Table,
    config: IdentityConfig,
    threshold: float,
    run_id: str,
    refused_per_record: int = REFUSED_PER_RECORD,
) -> pa.Table:
    """The rows of ``gold/identity_links`` for one run (sorted by customer, then pair).

    Args:
        match: the run's match result (scored pairs and final clusters in the backend).
        identity_map: the run's ``gold/identity_map`` (record -> customer_id).
        config: the identity configuration (comparisons, levels, guard).
        threshold: the clustering threshold the run used.
        run_id: the run's id, kept on every row.
        refused_per_record: refused pairs kept per record (most similar first).
    """
    pairs, clusters = scored_pairs(match), match.splink_clusters
    in_model = {c["output_column_name"] for c in match.model.splink_model["comparisons"]}
    sql = _links_sql(pairs, clusters, config, in_model, threshold, refused_per_record)
    result = pairs.db_api.query_sql(sql)
    try:
        table = result.as_pyarrow_table()  # bounded: edges plus a few refused pairs per record
    finally:
        result.drop_table_from_database_and_remove_from_cache()
    return _to_links(table, identity_map, _level_names(config, in_model), run_id)


def _customer_of(identity_map: pa.Table) -> dict[str, str]:
    keys = pc.binary_join_element_wise(
        identity_map["source_system"], identity_map["source_record_id"], ":"
    )
    return dict(zip(keys.to_pylist(), identity_map["customer_id"].to_pylist(), strict=True))


def _to_links(
    table: pa.Table, identity_map: pa.Table, levels: dict[str, dict[int, str]], run_id: str
) -> pa.Table:
    customer_of = _customer_of(identity_map)
    rows = []
    for row in table.to_pylist():
        customer = customer_of.get(row["filed_under"])
        if customer is None:  # a record the map does not hold: nothing to explain it under
            continue
        rows.append(
            {
                "customer_bucket": identity_link_bucket(customer),
                "customer_id": customer,
                "link": row["link"],
                "reason": row["reason"],
                "record_key_l": row["record_key_l"],
                "record_key_r": row["record_key_r"],
                "customer_id_l": customer_of.get(row["record_key_l"]),
                "customer_id_r": customer_of.get(row["record_key_r"]),
                "match_weight": row["match_weight"],
                "match_probability": row["match_probability"],
                "comparisons": _comparisons(row, levels),
                "run_id": run_id,
            }
        )
    rows.sort(key=lambda r: (r["customer_id"], r["link"], r["record_key_l"], r["record_key_r"]))
    return pa.Table.from_pylist(rows, schema=GOLD_IDENTITY_LINKS_SCHEMA)


def write_identity_links(
    lake: Lakehouse, match: MatchResult, identity_map: pa.Table, config: IdentityConfig,
    threshold: float, run_id: str,
) -> int:  # fmt: skip
    """Replace ``gold/identity_links`` with this run's explanation; returns its row count."""
    links = identity_links(match, identity_map, config, threshold, run_id)
    lake.overwrite(links, GOLD_IDENTITY_LINKS)
    log.info("wrote %d identity links (%s)", links.num_rows, GOLD_IDENTITY_LINKS.qualified_name)
    return links.num_rows
