"""The feature spec (``conf/features.yaml``): load, validate, expand into column definitions.

The spec declares families x windows x measures x slices with explicit slice values, so the full
list of feature columns (and their catalog rows) is known before any data is read. The package
is split by job, each module importing only the ones before it:

- :mod:`features.spec.model`: the vocabulary (aggregations, dtypes, event columns), the
  dataclasses of a validated spec and of one feature column, ``SpecError``;
- :mod:`features.spec.validate`: the cross-references of a parsed spec;
- :mod:`features.spec.parse`: YAML -> :class:`FeatureSpec` (``load_spec``, ``parse_spec``);
- :mod:`features.spec.expand`: :class:`FeatureSpec` -> one :class:`FeatureDefinition` per column.

The names below are the package's public interface; import them from ``features.spec``.

Example:
    >>> spec = load_spec()                                     # doctest: +SKIP
    >>> features = expand(spec)
    >>> features[0].name, features[0].description_en
    ('tx_count_d7', 'Number of completed purchases in the 7 days before the as-of date.')
"""

from features.spec.expand import (
    CLV_MEASURES,
    LOYALTY_STATUS_MEASURES,
    PROFILE_MEASURES,
    RFM_MEASURES,
    expand,
)
from features.spec.model import (
    ALL,
    COMPARISON_AGGS,
    DERIVED_AGGS,
    DTYPES,
    ENGAGEMENT_SOURCE,
    EVENT_COLUMNS,
    NUMERIC_DTYPES,
    POINT_SIGNS,
    POINTS_SOURCE,
    SERVICE_SOURCE,
    SOURCES,
    TX_SOURCE,
    WINDOWED_AGGS,
    Comparison,
    Exclusion,
    Family,
    FeatureDefinition,
    FeatureSpec,
    Group,
    Measure,
    RfmSegment,
    SliceDimension,
    SliceRef,
    SliceValue,
    SnapshotSettings,
    SpecError,
    Window,
)
from features.spec.parse import DEFAULT_SPEC_PATH, load_spec, parse_spec
from features.spec.validate import validate_spec

__all__ = [
    "ALL",
    "CLV_MEASURES",
    "COMPARISON_AGGS",
    "DEFAULT_SPEC_PATH",
    "DERIVED_AGGS",
    "DTYPES",
    "ENGAGEMENT_SOURCE",
    "EVENT_COLUMNS",
    "LOYALTY_STATUS_MEASURES",
    "NUMERIC_DTYPES",
    "POINTS_SOURCE",
    "POINT_SIGNS",
    "PROFILE_MEASURES",
    "RFM_MEASURES",
    "SERVICE_SOURCE",
    "SOURCES",
    "TX_SOURCE",
    "WINDOWED_AGGS",
    "Comparison",
    "Exclusion",
    "Family",
    "FeatureDefinition",
    "FeatureSpec",
    "Group",
    "Measure",
    "RfmSegment",
    "SliceDimension",
    "SliceRef",
    "SliceValue",
    "SnapshotSettings",
    "SpecError",
    "Window",
    "expand",
    "load_spec",
    "parse_spec",
    "validate_spec",
]
