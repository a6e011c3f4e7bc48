"""Load ``conf/features.yaml`` into a :class:`~features.spec.model.FeatureSpec`.

Each ``_<part>`` helper reads one section and names the key it fails on; :func:`parse_spec`
assembles them and runs :func:`features.spec.validate.validate_spec`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from c360.config import CONF_DIR
from c360.contract import LOCAL_TIMEZONE
from features.spec.model import (
    Comparison,
    Exclusion,
    Family,
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
from features.spec.validate import validate_spec

DEFAULT_SPEC_PATH = CONF_DIR / "features.yaml"
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def _require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise SpecError(f"{where}: missing key {key!r}")
    return mapping[key]


def _tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _snapshot(raw: Any) -> SnapshotSettings:
    """``snapshot:``: positive whole numbers, defaults for what is left out."""
    if raw is None:
        return SnapshotSettings()
    if not isinstance(raw, Mapping):
        raise SpecError(f"snapshot: expected a mapping, got {raw!r}")
    known = {"memory_budget_mb": "megabytes", "row_group_rows": "rows",
             "engine_events_per_partition": "events"}  # fmt: skip
    if unknown := sorted(set(raw) - set(known)):
        raise SpecError(f"snapshot: unknown keys {unknown}; expected {sorted(known)}")
    values = {}
    for key, unit in known.items():
        value = raw.get(key, getattr(SnapshotSettings(), key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"snapshot.{key}: expected a positive whole number of {unit}, "
                            f"got {value!r}")  # fmt: skip
        values[key] = value
    return SnapshotSettings(**values)


def _window(name: str, raw: Mapping[str, Any]) -> Window:
    where = f"windows.{name}"
    days = raw.get("days")
    if days is not None and (not isinstance(days, int) or days < 1):
        raise SpecError(f"{where}.days: expected a positive whole number or null, got {days!r}")
    return Window(
        name=name,
        days=days,
        offset_days=int(raw.get("offset_days", 0)),
        internal=bool(raw.get("internal", False)),
        en=_require(raw, "en", where),
        vi=_require(raw, "vi", where),
    )


def _slice_value(name: str, raw: Mapping[str, Any] | None, where: str) -> SliceValue:
    raw = raw or {}
    value_range = raw.get("range")
    if value_range is not None and (len(value_range) != 2 or value_range[0] > value_range[1]):
        raise SpecError(f"{where}.range: expected [low, high], got {value_range!r}")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SpecError(f"{where}.pattern: not a regular expression: {exc}") from exc
    match = raw.get("match")
    if match is None and pattern is None and value_range is None:
        match = [name]
    return SliceValue(
        name=name,
        match=_tuple(match) if match is not None else None,
        pattern=pattern,
        value_range=tuple(value_range) if value_range is not None else None,
        en=raw.get("en", name.replace("_", " ")),
        vi=raw.get("vi", name.replace("_", " ")),
    )


def _slice_dimension(name: str, raw: Mapping[str, Any]) -> SliceDimension:
    where = f"slices.{name}"
    values_raw = _require(raw, "values", where)
    if not values_raw:
        raise SpecError(f"{where}.values: list at least one explicit value")
    label = raw.get("label", {})
    values = tuple(_slice_value(str(v), values_raw[v], f"{where}.values.{v}") for v in values_raw)
    for value in values:
        if not _TOKEN.match(value.name):
            raise SpecError(f"{where}.values: {value.name!r} is not a lower-case name token")
    return SliceDimension(
        name=name,
        prefix=_require(raw, "prefix", where),
        column=_require(raw, "column", where),
        label_en=label.get("en", name),
        label_vi=label.get("vi", name),
        en=_require(raw, "en", where),
        vi=_require(raw, "vi", where),
        values=values,
    )


def _measure(name: str, raw: Mapping[str, Any]) -> Measure:
    where = f"measures.{name}"
    known = {
        "agg", "dtype", "en", "vi", "value", "where", "numerator", "denominator", "of", "fill",
        "internal", "note_en", "note_vi",
    }  # fmt: skip
    if unknown := set(raw) - known:
        raise SpecError(f"{where}: unknown keys {sorted(unknown)}")
    return Measure(
        name=name,
        agg=_require(raw, "agg", where),
        dtype=_require(raw, "dtype", where),
        en=_require(raw, "en", where),
        vi=_require(raw, "vi", where),
        value=raw.get("value"),
        where=raw.get("where"),
        numerator=raw.get("numerator"),
        denominator=raw.get("denominator"),
        of=raw.get("of"),
        fill=raw.get("fill"),
        internal=bool(raw.get("internal", False)),
        note_en=raw.get("note_en"),
        note_vi=raw.get("note_vi"),
    )


def _group(raw: Mapping[str, Any], where: str) -> Group:
    exclude = tuple(
        Exclusion(
            measures=_tuple(e["measures"]) if "measures" in e else None,
            windows=_tuple(e["windows"]) if "windows" in e else None,
            slices=tuple(SliceRef.parse(s) for s in e["slices"]) if "slices" in e else None,
        )
        for e in raw.get("exclude", []) or []
    )
    return Group(
        slices=tuple(SliceRef.parse(s) for s in _require(raw, "slices", where)),
        measures=_tuple(_require(raw, "measures", where)),
        windows=_tuple(raw.get("windows")),
        comparisons=_tuple(raw.get("comparisons")),
        exclude=exclude,
    )


def _comparison(name: str, raw: Mapping[str, Any]) -> Comparison:
    return Comparison(
        name=name,
        current=raw["current"],
        baseline=raw["baseline"],
        scale=float(raw.get("scale", 1.0)),
        en=raw["en"],
        vi=raw["vi"],
    )


def _family(name: str, raw: Mapping[str, Any]) -> Family:
    return Family(
        name=name,
        prefix=raw["prefix"],
        source=raw["source"],
        window_in_name=bool(raw.get("window_in_name", True)),
        groups=tuple(
            _group(g, f"families.{name}.groups[{i}]") for i, g in enumerate(raw["groups"])
        ),
    )


def _rfm_segment(raw: Mapping[str, Any]) -> RfmSegment:
    return RfmSegment(
        name=raw["name"],
        r=tuple(raw.get("r", (1, 5))),
        f=tuple(raw.get("f", (1, 5))),
        m=tuple(raw.get("m", (1, 5))),
    )


def parse_spec(raw: Mapping[str, Any], path: Path | None = None) -> FeatureSpec:
    """Build and validate a :class:`FeatureSpec` from the YAML's mapping.

    Raises:
        SpecError: a missing or unknown key, or a reference to something not declared.
    """
    try:
        spec = FeatureSpec(
            version=str(_require(raw, "version", "spec")),
            timezone=str(raw.get("timezone", LOCAL_TIMEZONE)),
            windows={str(k): _window(str(k), v) for k, v in raw["windows"].items()},
            comparisons={
                str(k): _comparison(str(k), v) for k, v in (raw.get("comparisons") or {}).items()
            },
            slices={str(k): _slice_dimension(str(k), v) for k, v in raw["slices"].items()},
            filters={str(k): str(v) for k, v in raw["filters"].items()},
            measures={str(k): _measure(str(k), v) for k, v in raw["measures"].items()},
            point_signs=dict(raw.get("point_signs") or {"default": "as_landed"}),
            families={str(k): _family(str(k), v) for k, v in raw["families"].items()},
            first_use=dict(raw["first_use"]),
            rfm={k: v for k, v in raw["rfm"].items() if k != "segments"},
            rfm_segments=tuple(_rfm_segment(s) for s in raw["rfm"]["segments"]),
            clv=dict(raw["clv"]),
            loyalty_status=dict(raw["loyalty_status"]),
            profile=dict(raw["profile"]),
            descriptions={str(k): dict(v) for k, v in raw["descriptions"].items()},
            path=path,
            checks=dict(raw.get("checks") or {}),
            snapshot=_snapshot(raw.get("snapshot")),
        )
    except KeyError as exc:
        raise SpecError(f"{path or 'spec'}: missing key {exc}") from exc
    validate_spec(spec)
    return spec


def load_spec(path: Path | str | None = None) -> FeatureSpec:
    """Read and validate the spec (default ``conf/features.yaml``)."""
    path = Path(path) if path else DEFAULT_SPEC_PATH
    if not path.is_file():
        raise SpecError(f"feature spec {path} not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    try:
        return parse_spec(raw, path)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from exc
