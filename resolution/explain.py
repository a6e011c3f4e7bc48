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
from collections.abc import Iterator

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
LINK_BATCH_ROWS = 50_000  # rows per streamed batch: ~30 comparisons each, a few hundred MB
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
    customers: SplinkDataFrame,
    config: IdentityConfig,
    in_model: set[str],
    threshold: float,
    refused_per_record: int,
) -> str:
    """Accepted edges and the top refused pairs per record, one portable SQL statement, in the
    table's order (bucket, customer, link, pair) with each row's customers joined on.

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
        SELECT c.customer_bucket, c.customer_id, {qualified}, k.link,
               CASE WHEN k.link = 'accepted' THEN CAST(NULL AS STRING)
                    WHEN p.match_probability < {threshold!r} THEN 'below_threshold'
                    WHEN NOT ({evidence}) THEN 'guard.personal_evidence'
                    WHEN NOT ({guard}) THEN 'guard.contradictions'
                    ELSE 'guard.split_conflicting_clusters' END AS reason,
               cl.customer_id AS customer_id_l, cr.customer_id AS customer_id_r
        FROM picked k
        JOIN {pairs.physical_name} p
          ON p.record_key_l = k.record_key_l AND p.record_key_r = k.record_key_r
        JOIN {customers.physical_name} c ON c.record_key = k.filed_under
        LEFT JOIN {customers.physical_name} cl ON cl.record_key = p.record_key_l
        LEFT JOIN {customers.physical_name} cr ON cr.record_key = p.record_key_r
        WHERE k.link = 'refused' OR ({guard})
        ORDER BY c.customer_bucket, c.customer_id, k.link, p.record_key_l, p.record_key_r
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
    batch_rows: int = LINK_BATCH_ROWS,
) -> pa.RecordBatchReader:
    """The rows of ``gold/identity_links`` for one run, streamed in the table's order (bucket,
    then customer, link and pair): the links of a million people do not fit in memory whole.

    Args:
        match: the run's match result (scored pairs and final clusters in the backend).
        identity_map: the run's ``gold/identity_map`` (record -> customer_id).
        config: the identity configuration (comparisons, levels, guard).
        threshold: the clustering threshold the run used.
        run_id: the run's id, kept on every row.
        refused_per_record: refused pairs kept per record (most similar first).
        batch_rows: rows per record batch (Python holds one batch and its comparisons).
    """
    pairs, clusters = _scored_pairs(match), match.splink_clusters
    backend = match.backend
    if backend is None:
        raise ValueError("the match result names no backend to read its pairs from")
    in_model = {c["output_column_name"] for c in match.model.splink_model["comparisons"]}
    levels = _level_names(config, in_model)
    customers = backend.materialise(_record_customers(identity_map), "link_customers")
    sql = _links_sql(pairs, clusters, customers, config, in_model, threshold, refused_per_record)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in backend.query_batches(sql, batch_rows):
                yield from _to_links(batch, levels, run_id)
        finally:
            customers.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)

    return pa.RecordBatchReader.from_batches(GOLD_IDENTITY_LINKS_SCHEMA, batches())


def _record_customers(identity_map: pa.Table) -> pa.Table:
    """``record_key, customer_id, customer_bucket`` of the run's identity map."""
    keys = pc.binary_join_element_wise(
        identity_map["source_system"], identity_map["source_record_id"], ":"
    )
    customer_ids = identity_map["customer_id"]
    unique_ids = pc.unique(customer_ids)
    unique_buckets = pa.array([identity_link_bucket(c) for c in unique_ids.to_pylist()], pa.int32())
    buckets = pc.take(unique_buckets, pc.index_in(customer_ids, value_set=unique_ids))
    return pa.table({"record_key": keys, "customer_id": customer_ids, "customer_bucket": buckets})


def _to_links(
    batch: pa.RecordBatch, levels: dict[str, dict[int, str]], run_id: str
) -> list[pa.RecordBatch]:
    """One batch of the links query as ``gold/identity_links`` rows (its order kept)."""
    table = pa.Table.from_batches([batch])
    rows = table.select(["customer_bucket", "customer_id", "link", "reason", "record_key_l",
                         "record_key_r", "customer_id_l", "customer_id_r", "match_weight",
                         "match_probability"])  # fmt: skip
    rows = rows.append_column("comparisons", _comparisons(table, levels))
    rows = rows.append_column("run_id", pa.array([run_id] * rows.num_rows, pa.string()))
    return (
        rows.select(GOLD_IDENTITY_LINKS_SCHEMA.names).cast(GOLD_IDENTITY_LINKS_SCHEMA).to_batches()
    )


def write_identity_links(
    lake: Lakehouse, match: MatchResult, identity_map: pa.Table, config: IdentityConfig,
    threshold: float, run_id: str,
) -> int:  # fmt: skip
    """Replace ``gold/identity_links`` with this run's explanation; returns its row count."""
    links = identity_links(match, identity_map, config, threshold, run_id)
    rows = 0

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal rows
        for batch in links:
            rows += batch.num_rows
            yield batch

    lake.overwrite(pa.RecordBatchReader.from_batches(links.schema, counted()), GOLD_IDENTITY_LINKS)
    log.info("wrote %d identity links (%s)", rows, GOLD_IDENTITY_LINKS.qualified_name)
    return rows
