"""Compile a segment filter to ONE DuckDB query over the Delta tables' live files, and run it.

The query reads ``gold/golden_records`` (alias ``g``) left-joined to the latest
``gold/customer_features`` snapshot (alias ``f``, only when a feature is used) through
delta-rs Arrow datasets, so only the named columns and the one ``as_of_date`` partition are
scanned. Values are bound as parameters; identifiers come from the validated field catalog.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from c360.lakehouse import Lakehouse
from c360.segments.consent import consent_sql
from c360.segments.model import (
    ConsentCondition,
    FieldCatalog,
    FieldInfo,
    Group,
    Node,
    SegmentConfigError,
    SegmentsConfig,
    bind_filter,
)
from c360.tables import (
    GOLD_CUSTOMER_FEATURES,
    GOLD_FEATURE_CATALOG,
    GOLD_GOLDEN_RECORDS,
    GOLD_GOLDEN_RECORDS_SCHEMA,
)

CONSENTED = "_consented"
_SNAPSHOT_KEYS = ("customer_id", "as_of_date")


def _kind(dtype: pa.DataType) -> str:
    if pa.types.is_boolean(dtype):
        return "bool"
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "number"
    if pa.types.is_date(dtype):
        return "date"
    if pa.types.is_timestamp(dtype):
        return "timestamp"
    return "string"


def _golden_schema(lake: Lakehouse) -> pa.Schema:
    if lake.exists(GOLD_GOLDEN_RECORDS):
        return lake.arrow_dataset(GOLD_GOLDEN_RECORDS).schema
    return GOLD_GOLDEN_RECORDS_SCHEMA


def field_catalog(lake: Lakehouse, config: SegmentsConfig) -> FieldCatalog:
    """Golden-record columns (types from the table) and features (dtype from the catalog)."""
    catalog = FieldCatalog()
    for column in _golden_schema(lake):
        if pa.types.is_nested(column.type):
            continue
        label = config.labels.get(column.name, {})
        catalog.fields[column.name] = FieldInfo(
            column.name,
            _kind(column.type),  # type: ignore[arg-type]
            "golden",
            label.get("en", column.name),
            label.get("vi", column.name),
        )
    if lake.exists(GOLD_FEATURE_CATALOG):
        rows = lake.read_arrow(GOLD_FEATURE_CATALOG).select(
            ["name", "dtype", "description_en", "description_vi"]
        )
        for row in rows.to_pylist():
            if row["name"] in catalog.fields or row["name"] in _SNAPSHOT_KEYS:
                continue  # a golden column of the same name wins
            catalog.fields[row["name"]] = FieldInfo(
                row["name"],
                "string" if row["dtype"] == "string" else "number",
                "feature",
                row["description_en"] or row["name"],
                row["description_vi"] or row["name"],
            )
    return catalog


def latest_snapshot(lake: Lakehouse) -> date | None:
    """The newest ``as_of_date`` partition of ``gold/customer_features`` (None: no snapshot)."""
    if not lake.exists(GOLD_CUSTOMER_FEATURES):
        return None
    table = DeltaTable(lake.location(GOLD_CUSTOMER_FEATURES))
    days = [p["as_of_date"] for p in table.partitions() if p.get("as_of_date")]
    return max(date.fromisoformat(str(d)) for d in days) if days else None


# ---- compilation ---------------------------------------------------------------------------
@dataclass
class CompiledFilter:
    where_sql: str
    params: list
    golden_columns: set[str]
    feature_columns: set[str]


def _column(info: FieldInfo) -> str:
    alias = "g" if info.source == "golden" else "f"
    ref = f'{alias}."{info.name}"'
    return f"CAST({ref} AS DATE)" if info.kind == "timestamp" else ref


def _value(info: FieldInfo, value):
    if info.kind in ("date", "timestamp") and not isinstance(value, date):
        return date.fromisoformat(str(value))
    return value


class _Compiler:
    def __init__(self, catalog: FieldCatalog, config: SegmentsConfig, as_of: date) -> None:
        self.catalog, self.config, self.as_of = catalog, config, as_of
        self.params: list = []
        self.golden: set[str] = set()
        self.features: set[str] = set()

    def bind(self, value) -> str:
        self.params.append(value)
        return "?"

    def node(self, node: Node) -> str:
        if isinstance(node, Group):
            parts = [self.node(child) for child in node.children]
            if node.kind == "not":
                return f"(NOT {parts[0]})"
            return "(" + (" AND " if node.kind == "all" else " OR ").join(parts) + ")"
        if isinstance(node, ConsentCondition):
            column = self.config.channel_consent.get(node.channel)
            if column:
                self.golden.add(column)
            return f"({consent_sql(node.channel, self.config)})"
        info = self.catalog.get(node.field, node.where)
        (self.golden if info.source == "golden" else self.features).add(info.name)
        return f"coalesce({self.condition(info, node.op, node.value)}, FALSE)"

    def condition(self, info: FieldInfo, op: str, value) -> str:
        col = _column(info)
        if op == "is_null":
            return f"({col} IS NULL)"
        if op == "is_not_null":
            return f"({col} IS NOT NULL)"
        if op in ("in", "not_in"):
            marks = ", ".join(self.bind(_value(info, v)) for v in value)
            return f"({col} {'NOT IN' if op == 'not_in' else 'IN'} ({marks}))"
        if op == "between":
            low, high = (self.bind(_value(info, v)) for v in value)
            return f"({col} BETWEEN {low} AND {high})"
        if op == "contains":
            return f"contains({col}, {self.bind(value)})"
        if op == "starts_with":
            return f"starts_with({col}, {self.bind(value)})"
        if op == "within_days":  # on or after as_of - N days, up to as_of
            start = self.bind(self.as_of - timedelta(days=value))
            return f"({col} BETWEEN {start} AND {self.bind(self.as_of)})"
        if op == "before_days":  # strictly before as_of - N days
            return f"({col} < {self.bind(self.as_of - timedelta(days=value))})"
        return f"({col} {op} {self.bind(_value(info, value))})"


def compile_filter(
    node: Node, catalog: FieldCatalog, config: SegmentsConfig, as_of: date, segment: str
) -> CompiledFilter:
    """The filter as one SQL boolean over ``g`` / ``f`` with ``?`` parameters (validated first)."""
    bind_filter(node, catalog, segment)
    compiler = _Compiler(catalog, config, as_of)
    where = compiler.node(node)
    return CompiledFilter(where, compiler.params, compiler.golden, compiler.features)


# ---- evaluation ----------------------------------------------------------------------------
@dataclass
class Evaluation:
    """Customers matching a filter: ``members`` consent (or need not), ``excluded`` do not."""

    as_of: date
    matched: int
    excluded_for_consent: int
    members: pa.Table  # customer_id plus the asked fields, consenting customers only, sorted

    @property
    def count(self) -> int:
        return self.members.num_rows


def _output_columns(fields: Sequence[str], catalog: FieldCatalog) -> list[FieldInfo]:
    return [catalog.get(name, "--fields") for name in fields if name != "customer_id"]


def evaluate(
    lake: Lakehouse,
    config: SegmentsConfig,
    catalog: FieldCatalog,
    node: Node,
    channel: str | None,
    as_of: date | None = None,
    fields: Iterable[str] = (),
    segment: str = "ad-hoc",
) -> Evaluation:
    """Run the filter as one query: matching customers, consent exclusions, asked fields.

    ``as_of`` (default: the latest snapshot, else today) is the reference day of relative
    dates and the snapshot whose features are used.

    Raises:
        SegmentConfigError: the filter or a field does not fit the catalog, or it uses a
            feature and the lakehouse holds no feature snapshot.
    """
    snapshot = latest_snapshot(lake)
    as_of = as_of or snapshot or date.today()
    compiled = compile_filter(node, catalog, config, as_of, segment)
    outputs = _output_columns(list(fields), catalog)
    consent = consent_sql(channel, config)
    if channel and config.channel_consent.get(channel):
        compiled.golden_columns.add(config.channel_consent[channel])
    golden = {"customer_id", *compiled.golden_columns}
    golden |= {i.name for i in outputs if i.source == "golden"}
    features = compiled.feature_columns | {i.name for i in outputs if i.source == "feature"}
    if not lake.exists(GOLD_GOLDEN_RECORDS):
        raise SegmentConfigError(
            f"no table {GOLD_GOLDEN_RECORDS.qualified_name} under {lake.root}: run `c360 run`"
        )
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("golden_ds", lake.arrow_dataset(GOLD_GOLDEN_RECORDS))
        select = ["g.customer_id AS customer_id"]
        select += [f'{"g" if i.source == "golden" else "f"}."{i.name}"' for i in outputs]
        golden_cols = ", ".join(f'"{c}"' for c in sorted(golden))
        sql = f"SELECT {', '.join(select)}, {consent} AS {CONSENTED} "
        sql += f"FROM (SELECT {golden_cols} FROM golden_ds) g "
        params: list = []
        if features:
            if snapshot is None:
                raise SegmentConfigError(
                    f"segment {segment!r} uses features {sorted(features)} but "
                    f"{GOLD_CUSTOMER_FEATURES.qualified_name} has no snapshot: run `c360 run`"
                )
            con.register("features_ds", lake.arrow_dataset(GOLD_CUSTOMER_FEATURES))
            feature_cols = ", ".join(f'"{c}"' for c in sorted({"customer_id", *features}))
            sql += (
                f"LEFT JOIN (SELECT {feature_cols} FROM features_ds WHERE as_of_date = ?) f "
                "ON f.customer_id = g.customer_id "
            )
            params.append(snapshot)
        sql += f"WHERE {compiled.where_sql} ORDER BY g.customer_id"
        matched = con.sql(sql, params=params + compiled.params).to_arrow_table()
    finally:
        con.close()
    consented = pc.fill_null(matched[CONSENTED], False)
    members = matched.filter(consented).drop_columns([CONSENTED])
    return Evaluation(as_of, matched.num_rows, matched.num_rows - members.num_rows, members)
