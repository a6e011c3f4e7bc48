"""Why records were linked: ``gold/identity_links`` from one run's scored pairs (issue 19).

For each cluster, the accepted edges that hold it together (both ends in the cluster, above the
threshold and passing the guard) and, per record, its best refused pairs with the reason:
``below_threshold``, or the guard rule that refused it (``guard.personal_evidence``,
``guard.contradictions``, ``guard.split_conflicting_clusters``). Each pair carries Splink's
match weight and, per comparison, its level and log2 Bayes factor (a waterfall's rows; a
term-frequency adjustment is a row of its own, ``tf:<column>``).

The scored pairs are read through :func:`resolution.pipeline.scored_pairs` only.
"""

from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from splink.internals.splink_dataframe import SplinkDataFrame

from c360.lakehouse import Lakehouse
from c360.tables import (
    GOLD_IDENTITY_LINKS,
    GOLD_IDENTITY_LINKS_SCHEMA,
    IDENTITY_LINK_COMPARISON,
    identity_link_bucket,
)
from resolution.clustering import guard_sql
from resolution.config import IdentityConfig, level_values
from resolution.pipeline import MatchResult, scored_pairs

log = logging.getLogger(__name__)

REFUSED_PER_RECORD = 3  # the most similar pairs kept apart, per record
NULL_LEVEL = "null"


def _scored_pairs(match: MatchResult) -> SplinkDataFrame:
    """The run's scored pairs (resolution.pipeline.scored_pairs), or a clear error."""
    pairs = scored_pairs(match)
    if pairs is None:
        raise ValueError("the match result holds no predictions to explain")
    return pairs


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
    """Accepted edges and the top refused pairs per record, one portable SQL statement.

    The pairs are picked on their keys, weights and clusters only, and the comparison columns
    (a hundred or so per pair) joined back to the picked few: ranking every scored pair with
    all its columns spilled some 70 GB to disk at 1M people.
    """
    guard = guard_sql(config, in_model)
    evidence = guard_sql(config, in_model, config.guard.model_copy(update={"contradictions": {}}))
    columns = [c for c in _columns(pairs) if c.startswith(("gamma_", "mw_", "bf_"))]
    names = ["record_key_l", "record_key_r", "match_weight", "match_probability", *columns]
    qualified = ", ".join(f"p.{name}" for name in names)
    return f"""
        WITH keyed AS (
            SELECT p.record_key_l, p.record_key_r, p.match_weight, p.match_probability,
                   cl.cluster_id AS cluster_l, cr.cluster_id AS cluster_r
            FROM {pairs.physical_name} p
            JOIN {clusters.physical_name} cl ON cl.record_key = p.record_key_l
            JOIN {clusters.physical_name} cr ON cr.record_key = p.record_key_r
        ),
        refused AS (
            SELECT record_key_l, record_key_r, match_weight, record_key_l AS filed_under
            FROM keyed WHERE cluster_l <> cluster_r
            UNION ALL
            SELECT record_key_l, record_key_r, match_weight, record_key_r AS filed_under
            FROM keyed WHERE cluster_l <> cluster_r
        ),
        ranked AS (
            SELECT *, row_number() OVER (
                PARTITION BY filed_under
                ORDER BY match_weight DESC, record_key_l, record_key_r
            ) AS rank
            FROM refused
        ),
        picked AS (
            SELECT record_key_l, record_key_r, 'accepted' AS link, record_key_l AS filed_under
            FROM keyed
            WHERE cluster_l = cluster_r AND match_probability >= {threshold!r}
            UNION ALL
            SELECT record_key_l, record_key_r, 'refused' AS link, filed_under
            FROM ranked WHERE rank <= {refused_per_record}
        )
        SELECT {qualified}, k.link,
               CASE WHEN k.link = 'accepted' THEN CAST(NULL AS STRING)
                    WHEN p.match_probability < {threshold!r} THEN 'below_threshold'
                    WHEN NOT ({evidence}) THEN 'guard.personal_evidence'
                    WHEN NOT ({guard}) THEN 'guard.contradictions'
                    ELSE 'guard.split_conflicting_clusters' END AS reason,
               k.filed_under
        FROM picked k
        JOIN {pairs.physical_name} p
          ON p.record_key_l = k.record_key_l AND p.record_key_r = k.record_key_r
        WHERE k.link = 'refused' OR ({guard})
        """


def _level_names(config: IdentityConfig, in_model: set[str]) -> dict[str, dict[int, str]]:
    """``gamma`` value -> level label, per comparison in the model."""
    names = {}
    for spec in config.comparisons:
        if spec.name in in_model:
            by_value = {value: level for level, value in level_values(spec).items()}
            names[spec.name] = {**by_value, -1: NULL_LEVEL}
    return names


def _weights(table: pa.Table, name: str) -> np.ndarray:
    """log2 Bayes factor of one comparison (or term-frequency adjustment) per scored pair.

    Splink 5 keeps it as ``mw_<name>`` (a match weight is a log2 Bayes factor); older
    releases kept ``bf_<name>``. A null level weighs 0.
    """
    if f"mw_{name}" in table.column_names:
        values = pc.cast(table[f"mw_{name}"], pa.float64()).to_numpy(zero_copy_only=False)
        return np.nan_to_num(values.astype(np.float64), nan=0.0)
    factors = pc.cast(table[f"bf_{name}"], pa.float64()).to_numpy(zero_copy_only=False)
    factors = np.nan_to_num(factors.astype(np.float64), nan=1.0)
    return np.log2(np.where(factors > 0, factors, 1.0))


def _tf_columns(table: pa.Table) -> list[str]:
    """The term-frequency adjustments of the pairs (``tf_adj_<column>``), each once."""
    names = [c.removeprefix("mw_").removeprefix("bf_") for c in table.column_names
             if c.startswith(("mw_tf_adj_", "bf_tf_adj_"))]  # fmt: skip
    return list(dict.fromkeys(names))


def _comparisons(table: pa.Table, levels: dict[str, dict[int, str]]) -> pa.ListArray:
    """Per pair, one struct per comparison (level, gamma, weight), then one per term-frequency
    adjustment (``tf:<column>``; 0 where it did not apply). Built column-wise, the strings as
    codes into a few distinct labels: no Python object per pair and comparison, whatever the
    number of pairs (object arrays of a few million pairs ran the driver out of memory)."""
    n = table.num_rows
    words: dict[str, int] = {}  # every distinct name and level label -> its code

    def code(word: str) -> int:
        return words.setdefault(word, len(words))

    name_codes, label_codes, gammas, weights = [], [], [], []
    for name, by_value in levels.items():
        gamma = pc.fill_null(pc.cast(table[f"gamma_{name}"], pa.int32()), -1).to_numpy()
        values = np.unique(gamma)
        labels = np.array([code(by_value.get(int(v), str(int(v)))) for v in values], np.int32)
        name_codes.append(np.full(n, code(name), np.int32))
        label_codes.append(labels[np.searchsorted(values, gamma)])
        gammas.append(gamma.astype(np.float64))
        weights.append(_weights(table, name))
    for adjusted in _tf_columns(table):
        name_codes.append(np.full(n, code("tf:" + adjusted.removeprefix("tf_adj_")), np.int32))
        label_codes.append(np.full(n, code("term frequency"), np.int32))
        gammas.append(np.full(n, np.nan))
        weights.append(_weights(table, adjusted))
    width = len(name_codes)
    dictionary = pa.array(list(words), pa.string())

    def strings(codes: list[np.ndarray]) -> pa.Array:
        flat = np.column_stack(codes).ravel() if width else np.array([], np.int32)
        return pa.DictionaryArray.from_arrays(pa.array(flat, pa.int32()), dictionary).cast(
            pa.string()
        )

    gamma_values = np.column_stack(gammas).ravel() if width else np.array([])
    values = pa.StructArray.from_arrays(
        [
            strings(name_codes),
            strings(label_codes),
            pa.array(gamma_values, pa.float64(), mask=np.isnan(gamma_values)).cast(pa.int32()),
            pa.array(np.column_stack(weights).ravel() if width else [], pa.float64()),
        ],
        fields=list(IDENTITY_LINK_COMPARISON),
    )
    offsets = pa.array(np.arange(0, n * width + 1, max(width, 1))[: n + 1], pa.int32())
    return pa.ListArray.from_arrays(offsets, values)


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
    pairs, clusters = _scored_pairs(match), match.splink_clusters
    in_model = {c["output_column_name"] for c in match.model.splink_model["comparisons"]}
    sql = _links_sql(pairs, clusters, config, in_model, threshold, refused_per_record)
    result = pairs.db_api.query_sql(sql)
    try:
        table = result.as_pyarrow_table()  # bounded: edges plus a few refused pairs per record
    finally:
        result.drop_table_from_database_and_remove_from_cache()
    return _to_links(table, identity_map, _level_names(config, in_model), run_id)


def _record_customers(identity_map: pa.Table) -> pa.Table:
    """``record_key, customer_id`` of the run's identity map."""
    keys = pc.binary_join_element_wise(
        identity_map["source_system"], identity_map["source_record_id"], ":"
    )
    return pa.table({"record_key": keys, "customer_id": identity_map["customer_id"]})


def _customer_column(table: pa.Table, customers: pa.Table, key: str, name: str) -> pa.Table:
    """``table`` with ``name``: the customer of the record in column ``key`` (null: none)."""
    position = pc.index_in(table[key], value_set=customers["record_key"])
    return table.append_column(name, pc.take(customers["customer_id"], position))


def _to_links(
    table: pa.Table, identity_map: pa.Table, levels: dict[str, dict[int, str]], run_id: str
) -> pa.Table:
    """The scored pairs as ``gold/identity_links`` rows, sorted by customer, link, pair."""
    customers = _record_customers(identity_map)
    base = table.select(["filed_under", "link", "reason", "record_key_l", "record_key_r",
                         "match_weight", "match_probability"])  # fmt: skip
    base = base.append_column("comparisons", _comparisons(table, levels))
    for key, name in (("filed_under", "customer_id"), ("record_key_l", "customer_id_l"),
                      ("record_key_r", "customer_id_r")):  # fmt: skip
        base = _customer_column(base, customers, key, name)
    base = base.filter(pc.is_valid(base["customer_id"]))  # records the map does not hold
    buckets = [identity_link_bucket(c) for c in base["customer_id"].to_pylist()]
    base = base.append_column("customer_bucket", pa.array(buckets, pa.int32()))
    base = base.append_column("run_id", pa.array([run_id] * base.num_rows, pa.string()))
    base = base.sort_by([("customer_id", "ascending"), ("link", "ascending"),
                         ("record_key_l", "ascending"), ("record_key_r", "ascending")])  # fmt: skip
    return base.select(GOLD_IDENTITY_LINKS_SCHEMA.names).cast(GOLD_IDENTITY_LINKS_SCHEMA)


def write_identity_links(
    lake: Lakehouse, match: MatchResult, identity_map: pa.Table, config: IdentityConfig,
    threshold: float, run_id: str,
) -> int:  # fmt: skip
    """Replace ``gold/identity_links`` with this run's explanation; returns its row count."""
    links = identity_links(match, identity_map, config, threshold, run_id)
    lake.overwrite(links, GOLD_IDENTITY_LINKS)
    log.info("wrote %d identity links (%s)", links.num_rows, GOLD_IDENTITY_LINKS.qualified_name)
    return links.num_rows
