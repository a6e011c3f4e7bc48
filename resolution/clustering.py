"""Clusters from scored pairs, guarded against over-merging through shared identifiers.

The guard (``guard`` in ``conf/matching.yaml``), in two steps:

1. **Personal evidence and no contradiction on every edge.** A scored pair becomes a clustering
   edge only when its match probability reaches the threshold AND it agrees on something
   personal (the given name at some level, or the national ID) AND it does not contradict
   itself (a birth date that is neither equal nor day/month-swapped) unless the national ID
   agrees. A family phone, an office email or a household address can raise a pair's weight,
   but on their own they never make an edge, so they cannot chain unrelated people into one
   cluster, whatever the model learnt about them. Twins share birth date, phone and address:
   the given name tells them apart.
2. **Conflicting identities split a cluster.** Edges are pairwise; a chain can still join two
   people through a record that lacks the field that tells them apart (an ERP record has no
   birth date). A connected component that holds two different national IDs of the same kind
   (two CCCDs, two CMNDs or two passports; "other" numbers are too often mistyped) or two birth
   dates that are neither day/month swaps nor one typed digit apart is more than one person:
   its records are re-clustered on their edges at the stricter ``conflict_threshold``, which
   cuts the weak bridges that joined them.

Connected components are Splink's (``cluster_pairwise_predictions_at_threshold``), so this runs
on DuckDB and on Spark alike. A cluster's id is its smallest ``record_key``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from splink.clustering import cluster_pairwise_predictions_at_threshold
from splink.internals.splink_dataframe import SplinkDataFrame

from resolution.linker import MatchingBackend
from resolution.settings import GuardConfig, MatchingConfig, level_values

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusteringCounts:
    """What clustering did, for run metadata."""

    edges_above_threshold: int
    edges_refused_by_guard: int
    conflicting_clusters: int
    conflicting_clusters_left: int


def _levels_sql(
    config: MatchingConfig, levels_by_comparison: dict[str, tuple[str, ...]], in_model: set[str]
) -> list[str]:
    """One ``gamma_<name> IN (...)`` clause per comparison in the model."""
    by_name = {spec.name: spec for spec in config.comparisons}
    clauses = []
    for name, levels in levels_by_comparison.items():
        if name not in in_model:
            continue
        values = level_values(by_name[name])
        wanted = sorted(values[level] for level in levels)
        clauses.append(f"gamma_{name} IN ({', '.join(str(v) for v in wanted)})")
    return clauses


def _all_of_sql(
    config: MatchingConfig, levels_by_comparison: dict[str, tuple[str, ...]], in_model: set[str]
) -> str | None:
    """All the comparisons at their levels; None when one of them is not in the model."""
    if not set(levels_by_comparison) <= in_model:
        return None
    return "(" + " AND ".join(_levels_sql(config, levels_by_comparison, in_model)) + ")"


def guard_sql(
    config: MatchingConfig, comparisons_in_model: set[str], guard: GuardConfig | None = None
) -> str:
    """SQL condition over ``gamma_<comparison>`` columns: the pair may be a clustering edge.

    True when the pair agrees on something personal and does not contradict itself (unless
    overridden). Comparisons not in the model (their column was empty) are skipped; when no
    evidence comparison is left the condition is ``FALSE`` and nothing links (logged), rather
    than linking on contact points alone.
    """
    guard = guard or config.guard
    evidence = [
        clause
        for group in guard.personal_evidence
        if (clause := _all_of_sql(config, group, comparisons_in_model))
    ]
    if not evidence:
        log.warning("no comparison gives personal evidence on this data: nothing will link")
        return "FALSE"
    condition = "(" + " OR ".join(evidence) + ")"
    contradictions = _levels_sql(config, guard.contradictions, comparisons_in_model)
    if contradictions:
        overrides = _levels_sql(config, guard.contradiction_overridden_by, comparisons_in_model)
        contradicted = " OR ".join(contradictions)
        if overrides:
            contradicted = f"({contradicted}) AND NOT ({' OR '.join(overrides)})"
        condition += f" AND NOT ({contradicted})"
    return condition


def _components(
    backend: MatchingBackend, nodes: SplinkDataFrame, edges: SplinkDataFrame
) -> SplinkDataFrame:
    return cluster_pairwise_predictions_at_threshold(
        nodes,
        edges,
        db_api=backend.db_api,
        node_id_column_name="record_key",
        threshold_match_probability=None,
    )


def cluster_records(
    backend: MatchingBackend,
    records: SplinkDataFrame,
    predictions: SplinkDataFrame,
    config: MatchingConfig,
    comparisons_in_model: set[str],
    threshold: float,
) -> tuple[SplinkDataFrame, SplinkDataFrame, ClusteringCounts]:
    """Cluster ``records`` on the guarded edges of ``predictions``.

    Args:
        backend: where the SQL runs.
        records: the prepared records (``record_key``, ``national_id``...).
        predictions: Splink's scored pairs (with ``gamma_`` columns).
        config: matching configuration (its ``guard``).
        comparisons_in_model: comparisons the model was built with.
        threshold: match probability at which a pair may become an edge.

    Returns:
        ``(clusters, edges, counts)``: clusters has ``record_key, cluster_id,
        match_probability`` (the best edge of the record, NULL for a record alone), edges
        the guarded edges used.
    """
    evidence = guard_sql(config, comparisons_in_model)
    edges = predictions.query_sql(
        f"""
        SELECT record_key_l, record_key_r, match_probability, match_weight
        FROM {{this}}
        WHERE match_probability >= {threshold!r} AND {evidence}
        """
    )
    above = backend.scalar(
        predictions,
        f"SELECT count(*) AS n FROM {{this}} WHERE match_probability >= {threshold!r}",
    )
    edge_count = backend.scalar(edges, "SELECT count(*) AS n FROM {this}")
    clusters = _components(backend, records, edges)
    conflicting = left = 0
    if config.guard.split_conflicting_clusters:
        clusters, conflicting, left = _split_conflicts(
            backend, records, clusters, edges, config.guard.conflict_threshold
        )
    best = backend.query(
        f"""
        WITH ends AS (
            SELECT record_key_l AS record_key, record_key_r AS other, match_probability
            FROM {edges.physical_name}
            UNION ALL
            SELECT record_key_r AS record_key, record_key_l AS other, match_probability
            FROM {edges.physical_name}
        ),
        best AS (
            SELECT e.record_key, max(e.match_probability) AS match_probability
            FROM ends e
            JOIN {clusters.physical_name} a ON a.record_key = e.record_key
            JOIN {clusters.physical_name} b ON b.record_key = e.other
            WHERE a.cluster_id = b.cluster_id
            GROUP BY e.record_key
        )
        SELECT c.record_key, c.cluster_id, best.match_probability
        FROM {clusters.physical_name} c
        LEFT JOIN best ON best.record_key = c.record_key
        """
    )
    counts = ClusteringCounts(
        edges_above_threshold=int(above),
        edges_refused_by_guard=int(above) - int(edge_count),
        conflicting_clusters=conflicting,
        conflicting_clusters_left=left,
    )
    return best, edges, counts


def _conflicted(
    backend: MatchingBackend, records: SplinkDataFrame, clusters: SplinkDataFrame
) -> SplinkDataFrame:
    """Clusters holding two national IDs of one kind, or two birth dates (not day/month swaps)."""
    return backend.query(
        f"""
        WITH members AS (
            SELECT c.cluster_id, r.record_key, r.national_id, r.national_id_type,
                   r.date_of_birth
            FROM {clusters.physical_name} c
            JOIN {records.physical_name} r ON r.record_key = c.record_key
        ),
        multi AS (
            SELECT cluster_id FROM members GROUP BY cluster_id HAVING count(*) > 1
        ),
        ids AS (
            SELECT cluster_id FROM members
            WHERE national_id IS NOT NULL AND national_id_type <> 'other'
            GROUP BY cluster_id, national_id_type
            HAVING count(DISTINCT national_id) > 1
        ),
        dobs AS (
            SELECT DISTINCT a.cluster_id
            FROM members a
            JOIN members b ON a.cluster_id = b.cluster_id AND a.record_key < b.record_key
            WHERE a.cluster_id IN (SELECT cluster_id FROM multi)
              AND a.date_of_birth <> b.date_of_birth
              AND damerau_levenshtein(
                CAST(a.date_of_birth AS STRING), CAST(b.date_of_birth AS STRING)
              ) > 1
              AND NOT (
                EXTRACT(YEAR FROM a.date_of_birth) = EXTRACT(YEAR FROM b.date_of_birth)
                AND EXTRACT(MONTH FROM a.date_of_birth) = EXTRACT(DAY FROM b.date_of_birth)
                AND EXTRACT(DAY FROM a.date_of_birth) = EXTRACT(MONTH FROM b.date_of_birth)
              )
        )
        SELECT cluster_id FROM ids UNION SELECT cluster_id FROM dobs
        """
    )


def _split_conflicts(
    backend: MatchingBackend,
    records: SplinkDataFrame,
    clusters: SplinkDataFrame,
    edges: SplinkDataFrame,
    conflict_threshold: float,
) -> tuple[SplinkDataFrame, int, int]:
    conflicted = _conflicted(backend, records, clusters)
    count = int(backend.scalar(conflicted, "SELECT count(*) AS n FROM {this}"))
    if count == 0:
        return clusters, 0, 0
    sub_nodes = backend.query(
        f"""
        SELECT c.record_key FROM {clusters.physical_name} c
        WHERE c.cluster_id IN (SELECT cluster_id FROM {conflicted.physical_name})
        """
    )
    sub_edges = backend.query(
        f"""
        SELECT e.* FROM {edges.physical_name} e
        JOIN {sub_nodes.physical_name} n ON n.record_key = e.record_key_l
        WHERE e.match_probability >= {conflict_threshold!r}
        """
    )
    reclustered = _components(backend, sub_nodes, sub_edges)
    merged = backend.query(
        f"""
        SELECT c.record_key, coalesce(s.cluster_id, c.cluster_id) AS cluster_id
        FROM {clusters.physical_name} c
        LEFT JOIN {reclustered.physical_name} s ON s.record_key = c.record_key
        """
    )
    left = int(
        backend.scalar(
            _conflicted(backend, records, merged),
            "SELECT count(*) AS n FROM {this}",
        )
    )
    log.info("%d clusters held conflicting national IDs; %d still do after splitting", count, left)
    return merged, count, left
