"""``gold/feature_catalog``: one row per feature column, from the expanded spec alone."""

from __future__ import annotations

import pyarrow as pa

from c360.tables import GOLD_FEATURE_CATALOG_SCHEMA
from features.spec import FeatureDefinition, FeatureSpec, expand


def catalog_rows(spec: FeatureSpec, features: list[FeatureDefinition] | None = None) -> list[dict]:
    """Catalog rows (name, family, window_days, slice, measure, dtype, descriptions, version)."""
    return [
        {
            "name": f.name,
            "family": f.family,
            "window_days": f.window_days,
            "slice": f.slice,
            "measure": f.measure,
            "dtype": f.dtype,
            "description_en": f.description_en,
            "description_vi": f.description_vi,
            "version": spec.version,
        }
        for f in (features if features is not None else expand(spec))
    ]


def catalog_table(spec: FeatureSpec, features: list[FeatureDefinition] | None = None) -> pa.Table:
    """The catalog as Arrow, in ``GOLD_FEATURE_CATALOG_SCHEMA`` and table column order."""
    rows = catalog_rows(spec, features)
    return pa.table(
        {field.name: [row[field.name] for row in rows] for field in GOLD_FEATURE_CATALOG_SCHEMA},
        schema=GOLD_FEATURE_CATALOG_SCHEMA,
    )
