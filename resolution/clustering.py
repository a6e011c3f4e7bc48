"""Clusters from scored pairs, guarded against over-merging through shared identifiers.

The guard (``guard`` in ``conf/identity.yaml``), in two steps:

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
   cuts the weak bridges that joined them; a record without a birth date that links two
   records whose dates conflict keeps only its best edge. Records sharing one national ID
   never conflict on dates.

Connected components are Splink's (``cluster_pairwise_predictions_at_threshold``), so this runs
on DuckDB and on Spark alike. A cluster's id is its smallest ``record_key``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from splink.clustering import cluster_pairwise_predictions_at_threshold
from splink.internals.splink_dataframe import SplinkDataFrame

from resolution.config import GuardConfig, IdentityConfig, level_values
from resolution.linker import MatchingBackend

log = logging.getLogger(__name__)


# Two birth dates of one cluster that cannot be one person's: neither equal, nor a day/month
# swap, nor one typed digit or swap apart (portable SQL over two date expressions).
_DOBS_CONFLICT = (
    "{a} <> {b} AND damerau_levenshtein(CAST({a} AS STRING), CAST({b} AS STRING)) > 1"
    " AND NOT (EXTRACT(YEAR FROM {a}) = EXTRACT(YEAR FROM {b})"
    " AND EXTRACT(MONTH FROM {a}) = EXTRACT(DAY FROM {b})"
    " AND EXTRACT(DAY FROM {a}) = EXTRACT(MONTH FROM {b}))"
)

# Two records with one national ID are one person whatever their dates say (the guard's
# contradiction is overridden the same way).
_SAME_ID = "coalesce({a} = {b}, FALSE)"


@dataclass(frozen=True)
class ClusteringCounts:
    """What clustering did, for run metadata."""

    edges_above_threshold: int
    edges_refused_by_guard: int
    conflicting_clusters: int
    conflicting_clusters_left: int


def _levels_sql(
    config: IdentityConfig, levels_by_comparison: dict[str, tuple[str, ...]], in_model: set[str]
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
    config: IdentityConfig, levels_by_comparison: dict[str, tuple[str, ...]], in_model: set[str]
) -> str | None:
    """All the comparisons at their levels; None when one of them is not in the model."""
    if not set(levels_by_comparison) <= in_model:
        return None
    return "(" + " AND ".join(_levels_sql(config, levels_by_comparison, in_model)) + ")"


def guard_sql(
    config: IdentityConfig, comparisons_in_model: set[str], guard: GuardConfig | None = None
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


def _with_best_edge(
    backend: MatchingBackend, clusters: SplinkDataFrame, edges: SplinkDataFrame
) -> SplinkDataFrame:
    """``record_key, cluster_id, match_probability``: each record's best edge within its
    cluster (NULL for a record alone)."""
    return backend.query(
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


def cluster_records(
    backend: MatchingBackend,
    records: SplinkDataFrame,
    predictions: SplinkDataFrame,
    config: IdentityConfig,
    comparisons_in_model: set[str],
    threshold: float,
) -> tuple[SplinkDataFrame, SplinkDataFrame, ClusteringCounts]:
    """Cluster ``records`` on the guarded edges of ``predictions``.

    Args:
        backend: where the SQL runs.
        records: the prepared records (``record_key``, ``national_id``...).
        predictions: Splink's scored pairs (with ``gamma_`` columns).
        config: the identity configuration (its ``guard``).
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
    best = _with_best_edge(backend, clusters, edges)
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
              AND {_DOBS_CONFLICT.format(a="a.date_of_birth", b="b.date_of_birth")}
              AND NOT {_SAME_ID.format(a="a.national_id", b="b.national_id")}
        )
        SELECT cluster_id FROM ids UNION SELECT cluster_id FROM dobs
        """
    )


def _conflict_edges_sql(
    records: SplinkDataFrame,
    nodes: SplinkDataFrame,
    edges: SplinkDataFrame,
    conflict_threshold: float,
) -> str:
    """The edges a conflicting cluster is re-clustered on (one SQL statement, hence long).

    An edge is kept when it reaches ``conflict_threshold`` and each of its ends that is a
    *bridge* keeps it as its best edge (highest probability). A bridge is a record without a
    birth date linked to two records whose birth dates conflict (and whose national IDs are
    not the same): it cannot join a father and
    a son (or two namesakes) whose own dates tell them apart, it stays with the one it
    resembles most.
    """
    return f"""
        WITH dated AS (
            SELECT n.record_key, r.date_of_birth, r.national_id
            FROM {nodes.physical_name} n
            JOIN {records.physical_name} r ON r.record_key = n.record_key
        ),
        linked AS (
            SELECT e.record_key_l, e.record_key_r, e.match_probability, e.match_weight,
                   dl.date_of_birth AS dob_l, dr.date_of_birth AS dob_r,
                   dl.national_id AS id_l, dr.national_id AS id_r
            FROM {edges.physical_name} e
            JOIN dated dl ON dl.record_key = e.record_key_l
            JOIN dated dr ON dr.record_key = e.record_key_r
            WHERE e.match_probability >= {conflict_threshold!r}
        ),
        neighbour_dobs AS (
            SELECT record_key_l AS record_key, dob_r AS dob, id_r AS national_id FROM linked
            WHERE dob_l IS NULL AND dob_r IS NOT NULL
            UNION ALL
            SELECT record_key_r AS record_key, dob_l AS dob, id_l AS national_id FROM linked
            WHERE dob_r IS NULL AND dob_l IS NOT NULL
        ),
        bridges AS (
            SELECT DISTINCT a.record_key
            FROM neighbour_dobs a
            JOIN neighbour_dobs b ON a.record_key = b.record_key AND a.dob < b.dob
            WHERE {_DOBS_CONFLICT.format(a="a.dob", b="b.dob")}
              AND NOT {_SAME_ID.format(a="a.national_id", b="b.national_id")}
        ),
        strong AS (
            SELECT k.record_key_l, k.record_key_r, k.match_probability, k.match_weight,
                   bl.record_key IS NULL AS has_dob_l, br.record_key IS NULL AS has_dob_r
            FROM linked k
            LEFT JOIN bridges bl ON bl.record_key = k.record_key_l
            LEFT JOIN bridges br ON br.record_key = k.record_key_r
        ),
        ends AS (
            SELECT record_key_l AS record_key, record_key_r AS other, match_probability
            FROM strong WHERE NOT has_dob_l
            UNION ALL
            SELECT record_key_r AS record_key, record_key_l AS other, match_probability
            FROM strong WHERE NOT has_dob_r
        ),
        ranked AS (
            SELECT record_key, other, row_number() OVER (
                PARTITION BY record_key ORDER BY match_probability DESC, other
            ) AS rank
            FROM ends
        ),
        best AS (SELECT record_key, other FROM ranked WHERE rank = 1)
        SELECT s.record_key_l, s.record_key_r, s.match_probability, s.match_weight
        FROM strong s
        LEFT JOIN best bl ON bl.record_key = s.record_key_l AND bl.other = s.record_key_r
        LEFT JOIN best br ON br.record_key = s.record_key_r AND br.other = s.record_key_l
        WHERE (s.has_dob_l OR bl.record_key IS NOT NULL)
          AND (s.has_dob_r OR br.record_key IS NOT NULL)
        """


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
    sub_edges = backend.query(_conflict_edges_sql(records, sub_nodes, edges, conflict_threshold))
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
