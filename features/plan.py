"""The feature plan: which base aggregates the engine computes, in which passes, and where each
result goes. Pure Python over the expanded spec; nothing here touches Spark or data.

For each source (transactions, loyalty points) :class:`FeaturePlan` works out every base
aggregate (a measure over a window) the features need: a ratio needs its numerator and
denominator, a trend its two windows, the customer-level families their internal aggregates
(:mod:`features.internal`). Slice keys that need similar aggregates form a cluster
(:class:`ClusterPlan`, one aggregation pass of the engine); each cluster's windowed features
are its ``slots``. :attr:`FeaturePlan.jobs` is the picklable part the engine runs
(:class:`features.engine.SourceJob`); :attr:`FeaturePlan.locations` says where each internal
aggregate lands in the customer-level inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from features import engine
from features.internal import INTERNAL_MEASURES, Locations, required_aggregates
from features.spec import (
    ALL,
    NUMERIC_DTYPES,
    SOURCES,
    WINDOWED_AGGS,
    FeatureDefinition,
    FeatureSpec,
    Measure,
    SpecError,
    expand,
)

BasePair = tuple[str, str]  # (measure, window)


@dataclass
class _Needs:
    """Base aggregates needed per source and slice key."""

    pairs: dict[str, dict[str, set[BasePair]]] = field(
        default_factory=lambda: {source: {} for source in SOURCES}
    )

    def add(self, source: str, slice_key: str, pairs: Iterable[BasePair]) -> None:
        self.pairs[source].setdefault(slice_key, set()).update(pairs)


@dataclass(frozen=True)
class ClusterPlan:
    """One aggregation pass: a cluster of slice keys of one source and what it computes.

    ``slots`` are the distinct (measure, window or comparison, dtype) the cluster's windowed
    features take; ``scatter`` maps each slice key to ``(slot, feature name)`` pairs, so a
    (customer, key) row's slot values fill those features' cells of the wide table.
    """

    index: int
    source: str
    keys: list[str]
    pairs: list[BasePair]
    slots: list[tuple[str, str, str]]
    scatter: dict[str, list[tuple[int, str]]]


class FeaturePlan:
    """The engine's work for a :class:`FeatureSpec`: clusters (:attr:`plans`), the per-source
    jobs (:attr:`jobs`) and where the internal aggregates land (:attr:`locations`)."""

    def __init__(self, spec: FeatureSpec, features: list[FeatureDefinition] | None = None):
        self.spec = spec
        self.features = features if features is not None else expand(spec)
        self.measures: dict[str, Measure] = dict(spec.measures)
        for name, (_, measure) in INTERNAL_MEASURES.items():
            self.measures[name] = measure
        for required in ("purchase", "any_points"):
            if required not in spec.filters:
                raise SpecError(f"filters: the customer-level features need filter {required!r}")
        self.windowed = [f for f in self.features if f.source is not None]
        self._check_distinct_windows()
        self.customer_level = [f for f in self.features if f.source is None]
        self.needs = _Needs()
        for feature in self.windowed:
            self.needs.add(
                feature.source or "",
                feature.slice_key,
                self.base_pairs(feature.measure, feature.window or ""),
            )
        for source, key, measure, window in required_aggregates(spec):
            self.needs.add(source, key, self.base_pairs(measure, window))
        self.plans: list[ClusterPlan] = []
        for source in SOURCES:
            for keys, pairs in self.clusters(source):
                self.plans.append(self._plan(len(self.plans), source, keys, pairs))
        self.internal_layout, self.locations = self._internal_layout()
        self.jobs = {source: self._source_job(source) for source in SOURCES}

    def _plan(self, index: int, source: str, keys: list[str], pairs: set[BasePair]) -> ClusterPlan:
        """Which windowed features a cluster computes, in which slot."""
        slots: dict[tuple[str, str, str], int] = {}
        scatter: dict[str, list[tuple[int, str]]] = {}
        for feature in self.windowed:
            if feature.source != source or feature.slice_key not in keys:
                continue
            if feature.dtype not in NUMERIC_DTYPES:
                raise SpecError(f"feature {feature.name!r}: windowed features must be numeric")
            slot = slots.setdefault(
                (feature.measure, feature.window or "", feature.dtype), len(slots)
            )
            scatter.setdefault(feature.slice_key, []).append((slot, feature.name))
        return ClusterPlan(
            index=index,
            source=source,
            keys=sorted(keys),
            pairs=sorted(pairs),
            slots=list(slots),
            scatter=scatter,
        )

    def _internal_layout(self) -> tuple[dict[str, list[tuple[int, str, str, str]]], Locations]:
        """Where each internal aggregate lands: the engine writes them per customer and source
        in this order, as columns of the customer-level inputs; (key, measure, window) ->
        column."""
        layouts: dict[str, list[tuple[int, str, str, str]]] = {}
        locations: Locations = {}
        for source in SOURCES:
            layout = layouts.setdefault(source, [])
            for plan in (p for p in self.plans if p.source == source):
                for key in plan.keys:
                    for m, w in sorted(self.needs.pairs[source].get(key, set())):
                        if m in INTERNAL_MEASURES:
                            locations[(key, m, w)] = self.internal_column(source, len(layout))
                            layout.append((plan.index, key, m, w))
        return layouts, locations

    def _check_distinct_windows(self) -> None:
        for feature in self.windowed:
            for measure_name, window in self.base_pairs(feature.measure, feature.window or ""):
                if self.measures[measure_name].agg == "distinct" and (
                    self.spec.windows[window].bounds()[0] > 1
                ):
                    raise SpecError(
                        f"measure {measure_name!r}: distinct counts need windows ending at the "
                        f"as-of date, not {window!r}"
                    )

    # ---- resolution ------------------------------------------------------------------------
    def base_pairs(self, measure_name: str, period: str) -> list[BasePair]:
        """The aggregated (measure, window) pairs a measure over a window or comparison reads."""
        measure = self.measures[measure_name]
        if measure.agg == "first_rank":
            return [(measure.of or "", period), (measure_name, period)]
        if measure.agg in WINDOWED_AGGS:
            return [(measure_name, period)]
        if measure.agg == "ratio":
            return self.base_pairs(measure.numerator or "", period) + self.base_pairs(
                measure.denominator or "", period
            )
        comparison = self.spec.comparisons[period]
        return self.base_pairs(measure.of or "", comparison.current) + self.base_pairs(
            measure.of or "", comparison.baseline
        )

    def filters(self, source: str) -> list[str]:
        """The filters (``spec.filters`` names) the source's aggregates use."""
        return sorted(
            {
                self.measures[m].where
                for pairs in self.needs.pairs[source].values()
                for m, _ in pairs
                if self.measures[m].where
            }
        )

    # ---- clusters --------------------------------------------------------------------------
    def clusters(self, source: str) -> list[tuple[list[str], set[BasePair]]]:
        """Slice keys grouped so each group is aggregated in one pass.

        Dimensions whose needed aggregates overlap by half or more share a pass; a pass computes
        the union of its dimensions' aggregates for every key in it.
        """
        by_dimension: dict[str, tuple[list[str], set[BasePair]]] = {}
        for key, pairs in self.needs.pairs[source].items():
            dimension = ALL if key == ALL else self.dimension_of(key)
            keys, union = by_dimension.setdefault(dimension, ([], set()))
            keys.append(key)
            union.update(pairs)
        clusters: list[tuple[list[str], set[BasePair], list[str]]] = []
        for dimension, (keys, pairs) in by_dimension.items():
            for cluster_keys, cluster_pairs, dimensions in clusters:
                overlap = len(pairs & cluster_pairs) / max(1, len(pairs | cluster_pairs))
                if overlap >= 0.5:
                    cluster_keys.extend(keys)
                    cluster_pairs.update(pairs)
                    dimensions.append(dimension)
                    break
            else:
                clusters.append((list(keys), set(pairs), [dimension]))
        return [(keys, pairs) for keys, pairs, _ in clusters]

    def dimension_of(self, slice_key: str) -> str:
        """The slice dimension a slice key (``ch_store``) belongs to."""
        for dimension in self.spec.slices.values():
            if slice_key.startswith(dimension.prefix + "_") and any(
                dimension.key(v.name) == slice_key for v in dimension.values
            ):
                return dimension.name
        raise SpecError(f"slice key {slice_key!r} belongs to no slice dimension")

    def _source_job(self, source: str) -> engine.SourceJob:
        """The engine's share of the plan for one source (picklable, shipped to the workers)."""
        clusters = [
            engine.ClusterJob(
                index=plan.index,
                keys=plan.keys,
                key_dimensions=[ALL if k == ALL else self.dimension_of(k) for k in plan.keys],
                pairs=plan.pairs,
                slots=plan.slots,
            )
            for plan in self.plans
            if plan.source == source
        ]
        return engine.SourceJob(
            clusters=clusters,
            internal_cluster=self.internal_cluster(source),
            internal_layout=self.internal_layout[source],
            measures=self.measures,
            windows={name: window.bounds() for name, window in self.spec.windows.items()},
            comparisons=dict(self.spec.comparisons),
        )

    @staticmethod
    def internal_column(source: str, position: int) -> str:
        """The customer-level inputs' column for one position of a source's internal layout."""
        return f"_i_{source}_{position}"

    @staticmethod
    def internal_cluster(source: str) -> int:
        """The ``_cluster`` of a source's per-customer engine rows (negative)."""
        return -1 - SOURCES.index(source)
