"""Segments as data: ``conf/segments.yaml`` parsed into :class:`Segment` objects.

Parsing checks the shape of every filter (groups, operators, value shapes); binding
(:func:`bind_filter`) then checks every field against the :class:`FieldCatalog` (golden-record
columns and feature catalog names) and every operator and value against the field's type. Both
raise :class:`SegmentConfigError` naming the segment, the condition and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml

from c360.config import CONF_DIR
from c360.errors import ConfigurationError
from c360.masking import MASK_KINDS

SEGMENTS_FILE = CONF_DIR / "segments.yaml"
CHANNELS = ("email", "sms", "zalo", "call")
Kind = Literal["string", "number", "bool", "date", "timestamp"]

NULL_OPS = ("is_null", "is_not_null")
LIST_OPS = ("in", "not_in")
ORDER_OPS = ("<", "<=", ">", ">=")
TEXT_OPS = ("contains", "starts_with")
RELATIVE_OPS = ("within_days", "before_days")
OPERATORS = ("=", "!=", *LIST_OPS, *ORDER_OPS, "between", *NULL_OPS, *TEXT_OPS, *RELATIVE_OPS)
# Which operators fit which type of field (docs/segments.md, "Operators per type").
OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "string": ("=", "!=", *LIST_OPS, *TEXT_OPS, *NULL_OPS),
    "number": ("=", "!=", *LIST_OPS, *ORDER_OPS, "between", *NULL_OPS),
    "bool": ("=", "!=", *NULL_OPS),
    "date": ("=", "!=", *ORDER_OPS, "between", *RELATIVE_OPS, *NULL_OPS),
    "timestamp": ("=", "!=", *ORDER_OPS, "between", *RELATIVE_OPS, *NULL_OPS),
}
PII_KINDS = MASK_KINDS  # c360/masking.py


class SegmentConfigError(ConfigurationError):
    """A segment file or ad-hoc filter that cannot be used; names segment, condition and fix."""


# ---- filter tree ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """``field op value``; ``where`` is its path in the file, e.g. ``filter.all[1]``."""

    field: str
    op: str
    value: Any
    where: str


@dataclass(frozen=True)
class ConsentCondition:
    """``{consent: sms}``: the customer currently consents to that channel."""

    channel: str
    where: str


@dataclass(frozen=True)
class Group:
    """``all`` (and), ``any`` (or) or ``not`` (one child) of nested nodes."""

    kind: Literal["all", "any", "not"]
    children: tuple[Node, ...]
    where: str


Node = Condition | ConsentCondition | Group


@dataclass(frozen=True)
class Segment:
    name: str
    description_en: str
    description_vi: str
    owner: str
    channel: str | None
    filter: Node


@dataclass(frozen=True)
class ExportSettings:
    default_fields: tuple[str, ...] = ("customer_id",)
    xlsx_max_rows_per_sheet: int = 1_048_575
    xlsx_max_sheets_per_file: int = 20
    preview_sample: int = 10


@dataclass(frozen=True)
class SegmentsConfig:
    """Everything ``conf/segments.yaml`` declares."""

    segments: dict[str, Segment]
    channel_consent: dict[str, str | None]
    pii: dict[str, str]
    labels: dict[str, dict[str, str]]
    export: ExportSettings
    source: str = str(SEGMENTS_FILE)

    def segment(self, name: str) -> Segment:
        if name not in self.segments:
            raise SegmentConfigError(
                f"no segment {name!r} in {self.source}; known segments: {sorted(self.segments)}"
            )
        return self.segments[name]


# ---- field catalog -------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldInfo:
    name: str
    kind: Kind
    source: Literal["golden", "feature"]
    label_en: str = ""
    label_vi: str = ""


@dataclass
class FieldCatalog:
    """The fields a filter may use: golden-record columns first, then feature names."""

    fields: dict[str, FieldInfo] = field(default_factory=dict)

    def get(self, name: str, context: str) -> FieldInfo:
        if name not in self.fields:
            raise SegmentConfigError(
                f"{context}: unknown field {name!r}; use a gold/golden_records column or a "
                "feature name from gold/feature_catalog (docs/features.md)"
                + _suggest(name, self.fields)
            )
        return self.fields[name]


def _suggest(name: str, known: Mapping[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


# ---- parsing -------------------------------------------------------------------------------
def _fail(segment: str, where: str, problem: str, fix: str) -> SegmentConfigError:
    return SegmentConfigError(f"segment {segment!r}, {where}: {problem}; {fix}")


def parse_filter(raw: Any, segment: str, where: str = "filter") -> Node:
    """A filter node from its YAML form (shape only; fields are checked by :func:`bind_filter`)."""
    if not isinstance(raw, dict):
        raise _fail(
            segment, where, f"expected a mapping, got {type(raw).__name__}",
            "write {all: [...]}, {any: [...]}, {not: {...}}, {consent: CHANNEL} or "
            "{field: NAME, op: OPERATOR, value: VALUE}",
        )  # fmt: skip
    groups = [k for k in ("all", "any", "not") if k in raw]
    if groups:
        if len(raw) != 1:
            raise _fail(
                segment, where, f"a group has exactly one key, got {sorted(raw)}",
                "nest groups instead: {all: [{any: [...]}, ...]}",
            )  # fmt: skip
        kind = groups[0]
        children = raw[kind]
        if kind == "not":
            return Group("not", (parse_filter(children, segment, f"{where}.not"),), where)
        if not isinstance(children, list) or not children:
            raise _fail(
                segment, f"{where}.{kind}", "expected a non-empty list of conditions",
                f"write {kind}: [{{field: ..., op: ..., value: ...}}, ...]",
            )  # fmt: skip
        nodes = tuple(
            parse_filter(child, segment, f"{where}.{kind}[{i}]") for i, child in enumerate(children)
        )
        return Group(kind, nodes, where)
    if "consent" in raw:
        if len(raw) != 1 or raw["consent"] not in CHANNELS:
            raise _fail(
                segment, where, f"bad consent condition {raw!r}",
                f"write {{consent: CHANNEL}} with CHANNEL one of {list(CHANNELS)}",
            )  # fmt: skip
        return ConsentCondition(raw["consent"], where)
    return _parse_condition(raw, segment, where)


def _parse_condition(raw: dict, segment: str, where: str) -> Condition:
    if unknown := sorted(set(raw) - {"field", "op", "value"}):
        raise _fail(
            segment, where, f"unknown keys {unknown}",
            "a condition has the keys field, op and value (value not for is_null / is_not_null)",
        )  # fmt: skip
    name, op = raw.get("field"), raw.get("op")
    if not isinstance(name, str) or not name:
        raise _fail(segment, where, "no field", "add field: NAME (a golden field or a feature)")
    where = f"{where} ({name})"
    if op not in OPERATORS:
        raise _fail(segment, where, f"unknown operator {op!r}", f"use one of {list(OPERATORS)}")
    if op in NULL_OPS:
        if "value" in raw:
            raise _fail(segment, where, f"{op} takes no value", "remove value:")
    elif "value" not in raw:
        raise _fail(segment, where, f"{op} needs a value", "add value: ...")
    return Condition(name, op, raw.get("value"), where)


def _text(raw: Any, key: str, segment: str, required: bool = True) -> str:
    value = raw.get(key) if isinstance(raw, dict) else None
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(segment, key, "missing or not text", f"add {key}: TEXT")
    return value


def parse_segment(name: str, raw: Any) -> Segment:
    if not isinstance(raw, dict):
        raise _fail(name, "segment", "expected a mapping", "give description, owner, filter")
    if unknown := sorted(set(raw) - {"description", "owner", "channel", "filter"}):
        raise _fail(
            name, "segment", f"unknown keys {unknown}",
            "a segment has description (en, vi), owner, channel and filter",
        )  # fmt: skip
    description = raw.get("description")
    if not isinstance(description, dict):
        raise _fail(name, "description", "missing", "add description: {en: ..., vi: ...}")
    channel = raw.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise _fail(
            name, "channel", f"unknown channel {channel!r}",
            f"use one of {list(CHANNELS)} or null (no channel)",
        )  # fmt: skip
    if "filter" not in raw:
        raise _fail(name, "filter", "missing", "add filter: {all: [...]}")
    return Segment(
        name=name,
        description_en=_text(description, "en", name),
        description_vi=_text(description, "vi", name),
        owner=_text(raw, "owner", name),
        channel=channel,
        filter=parse_filter(raw["filter"], name),
    )


def _export_settings(raw: Any, source: str) -> ExportSettings:
    raw = raw or {}
    try:
        settings = ExportSettings(
            default_fields=tuple(raw.get("default_fields", ("customer_id",))),
            xlsx_max_rows_per_sheet=int(raw.get("xlsx_max_rows_per_sheet", 1_048_575)),
            xlsx_max_sheets_per_file=int(raw.get("xlsx_max_sheets_per_file", 20)),
            preview_sample=int(raw.get("preview_sample", 10)),
        )
    except (TypeError, ValueError) as exc:
        raise SegmentConfigError(f"{source}: export: {exc}") from None
    if not 1 <= settings.xlsx_max_rows_per_sheet <= 1_048_575:
        raise SegmentConfigError(
            f"{source}: export.xlsx_max_rows_per_sheet must be 1 .. 1048575 (Excel's limit "
            "minus the header row)"
        )
    if settings.xlsx_max_sheets_per_file < 1 or settings.preview_sample < 0:
        raise SegmentConfigError(
            f"{source}: export.xlsx_max_sheets_per_file must be >= 1, preview_sample >= 0"
        )
    return settings


def load_segments_config(path: Path | None = None) -> SegmentsConfig:
    """Parse ``conf/segments.yaml`` (or ``path``); shapes only, see :func:`validate_config`.

    Raises:
        SegmentConfigError: not YAML, or a segment, filter or setting of the wrong shape.
    """
    path = Path(path or SEGMENTS_FILE)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise SegmentConfigError(f"{path}: no such segment file") from None
    except yaml.YAMLError as exc:
        raise SegmentConfigError(f"{path}: not valid YAML: {exc}") from None
    except ValueError as exc:  # YAML reads 2026-13-01 as a date and fails
        raise SegmentConfigError(
            f"{path}: a value cannot be read ({exc}); write dates as valid YYYY-MM-DD"
        ) from None
    if not isinstance(raw, dict):
        raise SegmentConfigError(f"{path}: expected a mapping at the top level")
    if unknown := sorted(set(raw) - {"channel_consent", "pii", "labels", "export", "segments"}):
        raise SegmentConfigError(
            f"{path}: unknown top-level keys {unknown}; expected channel_consent, pii, labels, "
            "export, segments"
        )
    consent = raw.get("channel_consent") or {}
    if sorted(consent) != sorted(CHANNELS):
        raise SegmentConfigError(
            f"{path}: channel_consent must name every channel {list(CHANNELS)} (null = no "
            f"consent source yet, nobody consents); got {sorted(consent)}"
        )
    pii = raw.get("pii") or {}
    if bad := {k: v for k, v in pii.items() if v not in PII_KINDS}:
        raise SegmentConfigError(f"{path}: pii: kinds {bad} not in {list(PII_KINDS)}")
    export = _export_settings(raw.get("export"), str(path))
    if leaked := sorted(set(export.default_fields) & set(pii)):
        raise SegmentConfigError(
            f"{path}: export.default_fields holds PII {leaked}; PII is exported only when named "
            "in --fields: remove them from default_fields"
        )
    try:
        segments = {
            str(n): parse_segment(str(n), s) for n, s in (raw.get("segments") or {}).items()
        }
    except SegmentConfigError as exc:
        raise SegmentConfigError(f"{path}: {exc}") from None
    return SegmentsConfig(
        segments=segments,
        channel_consent=dict(consent),
        pii=dict(pii),
        labels={str(k): dict(v) for k, v in (raw.get("labels") or {}).items()},
        export=export,
        source=str(path),
    )


# ---- binding -------------------------------------------------------------------------------
def _check_value(cond: Condition, kind: str, segment: str) -> None:
    value, op = cond.value, cond.op

    def bad(expected: str) -> SegmentConfigError:
        return _fail(
            segment, cond.where, f"{op} on a {kind} field needs {expected}, got {value!r}",
            f"fix value: ({expected})",
        )  # fmt: skip

    if op in NULL_OPS:
        return
    if op in RELATIVE_OPS:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad("a whole number of days >= 0")
        return
    if op in LIST_OPS:
        if not isinstance(value, list) or not value:
            raise bad("a non-empty list")
        for item in value:
            _check_scalar(item, kind, bad)
        return
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise bad("a list [low, high]")
        low, high = (_check_scalar(v, kind, bad) for v in value)
        if low > high:
            raise bad("low <= high")
        return
    if op in TEXT_OPS and (not isinstance(value, str) or not value):
        raise bad("non-empty text")
    _check_scalar(value, kind, bad)


def _check_scalar(value: Any, kind: str, bad) -> Any:
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind in ("date", "timestamp"):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise bad("a date YYYY-MM-DD") from None
    raise bad({"string": "text", "number": "a number", "bool": "true or false"}[kind])


def bind_filter(node: Node, catalog: FieldCatalog, segment: str) -> None:
    """Check every condition's field, operator and value against the catalog's types.

    Raises:
        SegmentConfigError: unknown field, operator that does not fit its type, bad value.
    """
    if isinstance(node, Group):
        for child in node.children:
            bind_filter(child, catalog, segment)
        return
    if isinstance(node, ConsentCondition):
        return
    info = catalog.get(node.field, f"segment {segment!r}, {node.where}")
    allowed = OPERATORS_BY_KIND[info.kind]
    if node.op not in allowed:
        raise _fail(
            segment, node.where, f"operator {node.op!r} does not fit a {info.kind} field",
            f"use one of {list(allowed)}",
        )  # fmt: skip
    _check_value(node, info.kind, segment)


def validate_config(config: SegmentsConfig, catalog: FieldCatalog) -> None:
    """Bind every segment and the consent / PII / label fields to the catalog."""
    for segment in config.segments.values():
        try:
            bind_filter(segment.filter, catalog, segment.name)
        except SegmentConfigError as exc:
            raise SegmentConfigError(f"{config.source}: {exc}") from None
    for channel, column in config.channel_consent.items():
        if column is not None:
            info = catalog.get(column, f"{config.source}: channel_consent.{channel}")
            if info.kind != "bool" or info.source != "golden":
                raise SegmentConfigError(
                    f"{config.source}: channel_consent.{channel}: {column!r} is not a boolean "
                    "golden-record field; name a consent_* column of gold/golden_records"
                )


# ---- ad-hoc filters (--where) --------------------------------------------------------------
_NULL_TEST = re.compile(r"^\s*(\w+)\s+(is_null|is_not_null)\s*$")
_TEST = re.compile(
    r"^\s*(\w+)\s*(<=|>=|!=|=|<|>|\s(?:not_in|in|between|contains|starts_with|within_days|"
    r"before_days)\s)\s*(.+?)\s*$"
)


def parse_where(text: str) -> Node:
    """An ad-hoc filter: a YAML filter (``{all: [...]}``) or ``field op value [and ...]``.

    Values of the small expression are read as YAML: ``90``, ``south``, ``'Hà Nội'``,
    ``[gold, platinum]``, ``[2026-01-01, 2026-06-30]``.

    Raises:
        SegmentConfigError: neither form, naming the part that does not parse.
    """
    try:
        loaded = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):
        loaded = None
    if isinstance(loaded, dict):
        return parse_filter(loaded, "ad-hoc", "--where")
    conditions: list[Node] = []
    for number, part in enumerate(re.split(r"\s+and\s+", text.strip(), flags=re.I)):
        where = f"--where condition {number + 1}"
        if found := _NULL_TEST.match(part):
            conditions.append(Condition(found[1], found[2], None, f"{where} ({found[1]})"))
            continue
        found = _TEST.match(part)
        if not found:
            raise SegmentConfigError(
                f"{where}: cannot read {part!r}; write FIELD OP VALUE joined by 'and' "
                f"(OP one of {list(OPERATORS)}) or a YAML filter {{all: [...]}}"
            )
        try:
            value = yaml.safe_load(found[3])
        except (yaml.YAMLError, ValueError) as exc:
            raise SegmentConfigError(
                f"{where}: cannot read the value {found[3]!r}: {exc}"
            ) from None
        conditions.append(Condition(found[1], found[2].strip(), value, f"{where} ({found[1]})"))
    return conditions[0] if len(conditions) == 1 else Group("all", tuple(conditions), "--where")
