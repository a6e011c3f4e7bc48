"""Golden records: one row per customer, each field chosen by its survivorship rule.

Rules come from ``conf/survivorship.yaml`` (source priority, most recent, most frequent, follow
another field, union of lists; empty values never survive) and, for the custom fields, from
``conf/profile_fields.yaml``. Every surviving field ``f`` has ``f_source``: the ``record_key`` it
came from (a union field: the sorted record keys that contributed). Consent is the ledger's
latest decision per purpose (:mod:`c360.consent`). The SQL is portable (window functions, CASE)
and runs on the matching backend: DuckDB locally, Spark on a cluster; the union fields are
gathered on an in-process DuckDB (:func:`union_fields`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from c360.config import CONF_DIR
from c360.consent import consent_extract_columns, consent_history, with_current_consent
from c360.contract import SOURCE_SYSTEMS
from c360.errors import ConfigurationError
from c360.profile_fields import (
    ProfileFieldRules,
    golden_schema,
    load_profile_fields,
    person_records_schema,
)
from c360.tables import (
    GOLD_GOLDEN_RECORDS_SCHEMA,
    GOLDEN_PROFILE_FIELDS,
    GOLDEN_SURVIVING_FIELDS,
    GOLDEN_UNION_FIELDS,
)
from resolution.linker import MatchingBackend

SURVIVORSHIP_CONFIG_FILE = CONF_DIR / "survivorship.yaml"
CONSENT_FIELDS = ("consent_email", "consent_sms", "consent_data_use")
DATE_FIELDS = {"date_of_birth"}


class SurvivorshipConfigError(ConfigurationError):
    """``conf/survivorship.yaml`` cannot be used; the message names the key."""


class FieldRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["source_priority", "most_recent", "most_frequent", "union"] | None = None
    follow: str | None = None
    source_priority: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> FieldRule:
        if (self.rule is None) == (self.follow is None):
            raise ValueError("give exactly one of `rule` or `follow`")
        return self


class SurvivorshipConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source_priority: tuple[str, ...]
    fields: dict[str, FieldRule]

    @model_validator(mode="after")
    def _check(self) -> SurvivorshipConfig:
        required = {*GOLDEN_SURVIVING_FIELDS, *GOLDEN_PROFILE_FIELDS, *GOLDEN_UNION_FIELDS}
        if missing := required - set(self.fields):
            raise ValueError(f"fields: no rule for {sorted(missing)}")
        for name, rule in self.fields.items():
            if (rule.rule == "union") != (name in GOLDEN_UNION_FIELDS):
                raise ValueError(
                    f"fields.{name}: rule union is for the list fields "
                    f"{sorted(GOLDEN_UNION_FIELDS)} only, and they take no other rule"
                )
            if rule.follow is not None:
                leader = self.fields.get(rule.follow)
                if leader is None or leader.follow is not None:
                    raise ValueError(
                        f"fields.{name}: follow must name a field that has its own rule"
                    )
        return self


def with_custom_fields(
    config: SurvivorshipConfig, profile: ProfileFieldRules
) -> SurvivorshipConfig:
    """``config`` plus a rule per custom field of ``profile`` (its ``survivorship``).

    Raises:
        SurvivorshipConfigError: a custom field also has a rule in conf/survivorship.yaml.
    """
    custom = {c.name: FieldRule(rule=c.survivorship) for c in profile.custom_fields}
    if twice := sorted(set(custom) & set(config.fields)):
        raise SurvivorshipConfigError(
            f"{SURVIVORSHIP_CONFIG_FILE}: fields {twice} are custom fields; their rule is "
            "their `survivorship` in conf/profile_fields.yaml: remove them here"
        )
    return config.model_copy(update={"fields": {**config.fields, **custom}})


def load_survivorship_config(path: Path | None = None) -> SurvivorshipConfig:
    """Read and validate ``conf/survivorship.yaml`` (or ``path``).

    Raises:
        SurvivorshipConfigError: missing file, bad YAML or a wrong key.
    """
    path = Path(path) if path is not None else SURVIVORSHIP_CONFIG_FILE
    try:
        return SurvivorshipConfig.model_validate(yaml.safe_load(path.read_text("utf-8")) or {})
    except FileNotFoundError as exc:
        raise SurvivorshipConfigError(f"{path}: survivorship configuration not found") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise SurvivorshipConfigError(f"{path}: {exc}") from exc


def _priority_sql(order: tuple[str, ...]) -> str:
    cases = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(order))
    return f"CASE source_system {cases} ELSE {len(order)} END"


def _order_by(field: str, rule: FieldRule, default_priority: tuple[str, ...]) -> str:
    priority = _priority_sql(rule.source_priority or default_priority)
    recent = "updated_at DESC NULLS LAST"
    keys = {
        "source_priority": [priority, recent],
        "most_recent": [recent, priority],
        "most_frequent": ["value_count_ DESC", priority, recent],
    }[rule.rule or "source_priority"]
    return ", ".join([*keys, "record_key"])


def golden_records_sql(
    config: SurvivorshipConfig,
    linked: str = "linked",
    text_fields: frozenset[str] | None = None,
    custom: tuple[str, ...] = (),
) -> str:
    """The survivorship query over ``linked`` (person records with their ``customer_id``);
    ``text_fields`` are trimmed to tell empty values (default: all but dates), ``custom`` the
    custom fields (after the built-in ones). Union fields are not in it (:func:`union_fields`).

    Long because it is one SQL statement (a CTE per step), read top to bottom.
    """
    scalar = {n: r for n, r in config.fields.items() if r.rule != "union"}
    leaders = {n: r for n, r in scalar.items() if r.rule is not None}
    text_fields = text_fields if text_fields is not None else frozenset(scalar) - DATE_FIELDS
    base_columns = ", ".join(
        f"CASE WHEN trim({f}) = '' THEN NULL ELSE {f} END AS {f}" if f in text_fields else f
        for f in scalar
    )
    ctes = [
        f"base AS (SELECT customer_id, record_key, source_system, updated_at, created_at, "
        f"{', '.join(CONSENT_FIELDS)}, {base_columns} FROM {linked})"
    ]
    for field, rule in leaders.items():
        ctes.append(
            f"win_{field} AS (SELECT customer_id, record_key AS {field}_source, {field}, "
            f"row_number() OVER (PARTITION BY customer_id ORDER BY "
            f"{_order_by(field, rule, config.source_priority)}) AS rank_ "
            f"FROM (SELECT *, count(*) OVER (PARTITION BY customer_id, {field}) AS value_count_ "
            f"FROM base WHERE {field} IS NOT NULL) candidates)"
        )
    consent = ", ".join(
        f"CASE min(CASE WHEN {c} = false THEN 0 WHEN {c} = true THEN 1 END) "
        f"WHEN 0 THEN false WHEN 1 THEN true END AS {c}"
        for c in CONSENT_FIELDS
    )
    counts = ", ".join(
        f"CAST(sum(CASE WHEN source_system = '{s}' THEN 1 ELSE 0 END) AS INT) AS linked_records_{s}"
        for s in SOURCE_SYSTEMS
    )
    ctes.append(
        f"customers AS (SELECT customer_id, {consent}, {counts}, "
        "min(coalesce(created_at, updated_at)) AS first_seen, "
        "max(coalesce(updated_at, created_at)) AS last_seen FROM base GROUP BY customer_id)"
    )
    selected, joins, follow_joins = [], [], []
    for field in (*GOLDEN_SURVIVING_FIELDS, *GOLDEN_PROFILE_FIELDS, *custom):
        rule = config.fields[field]
        if rule.rule is not None:
            selected += [f"w_{field}.{field} AS {field}", f"w_{field}.{field}_source"]
            joins.append(
                f"LEFT JOIN win_{field} w_{field} "
                f"ON w_{field}.customer_id = c.customer_id AND w_{field}.rank_ = 1"
            )
        else:
            leader = rule.follow
            selected += [
                f"f_{field}.{field} AS {field}",
                f"CASE WHEN f_{field}.{field} IS NOT NULL THEN f_{field}.record_key END "
                f"AS {field}_source",
            ]
            follow_joins.append(
                f"LEFT JOIN base f_{field} ON f_{field}.record_key = w_{leader}.{leader}_source"
            )
    tail = [
        c
        for c in GOLD_GOLDEN_RECORDS_SCHEMA.names
        if c in CONSENT_FIELDS or c.startswith("linked_")
    ]
    return (
        "WITH "
        + ",\n".join(ctes)
        + f"\nSELECT c.customer_id, {', '.join(selected)}, "
        + ", ".join(f"c.{c}" for c in [*tail, "first_seen", "last_seen"])
        + "\nFROM customers c\n"
        + "\n".join(joins + follow_joins)
        + "\nORDER BY c.customer_id"
    )


def union_fields(records: pa.Table, identity_map: pa.Table) -> pa.Table:
    """Per customer, each union field (GOLDEN_UNION_FIELDS): the sorted distinct values of its
    silver column over the customer's records, and the sorted record keys that hold any.

    Runs on an in-process DuckDB over the Arrow inputs (list functions are not portable SQL).
    """
    import duckdb

    parts = []
    for field, column in GOLDEN_UNION_FIELDS.items():
        values = column if pa.types.is_list(records.schema.field(column).type) else f"[{column}]"
        parts.append(
            f"(SELECT customer_id, list_sort(list_distinct(list(v))) AS {field}, "
            f"list_sort(list_distinct(list(record_key))) AS {field}_source FROM "
            f"(SELECT m.customer_id, r.record_key, unnest({values}) AS v FROM records r "
            f"JOIN keyed m ON r.record_key = m.record_key) WHERE v IS NOT NULL AND trim(v) <> '' "
            f"GROUP BY customer_id) u_{field}"
        )
    joins = " ".join(f"LEFT JOIN {p} USING (customer_id)" for p in parts)
    names = [c for f in GOLDEN_UNION_FIELDS for c in (f, f"{f}_source")]
    sql = (
        f"WITH ids AS (SELECT DISTINCT customer_id FROM keyed) SELECT customer_id, "
        f"{', '.join(names)} FROM ids {joins} ORDER BY customer_id"
    )
    keyed = pa.table(
        {
            "record_key": pc.binary_join_element_wise(
                identity_map.column("source_system"), identity_map.column("source_record_id"), ":"
            ),
            "customer_id": identity_map.column("customer_id"),
        }
    )
    with duckdb.connect() as connection:
        connection.register("records", records)
        connection.register("keyed", keyed)
        return connection.sql(sql).to_arrow_table()


def build_golden_records(
    records: pa.Table,
    identity_map: pa.Table,
    backend: MatchingBackend,
    config: SurvivorshipConfig | None = None,
    consent_events: pa.Table | None = None,
    profile: ProfileFieldRules | None = None,
) -> pa.Table:
    """One golden record per customer of ``identity_map`` that has records in ``records``.

    Consent columns come from the consent ledger (:mod:`c360.consent`): the records' consent
    flags and ``consent_events`` (silver/consent_events), latest decision per purpose.

    Args:
        records: silver/person_records rows (Arrow).
        identity_map: gold/identity_map rows (``source_system``, ``source_record_id``,
            ``customer_id``).
        backend: where the SQL runs.
        config: survivorship rules (default ``conf/survivorship.yaml``).
        profile: the custom fields (default ``conf/profile_fields.yaml``).

    Returns:
        Rows in :func:`c360.profile_fields.golden_schema` (GOLD_GOLDEN_RECORDS_SCHEMA, then
        each custom field and its source).
    """
    profile = profile or load_profile_fields()
    config = with_custom_fields(config or load_survivorship_config(), profile)
    schema = golden_schema(profile)
    silver = person_records_schema(profile)
    needed = {"record_key", "source_system", "created_at", "updated_at", *CONSENT_FIELDS}
    needed |= {f for f, r in config.fields.items() if r.rule != "union"}
    needed |= set(GOLDEN_UNION_FIELDS.values())
    columns = {}
    for name in sorted(needed):
        if name in records.column_names:
            columns[name] = records.column(name)
        else:
            dtype = (
                silver.field(name).type if name in silver.names else pa.timestamp("us", tz="UTC")
            )
            columns[name] = pa.nulls(records.num_rows, dtype)
    inputs = pa.table(columns)
    keyed = identity_map.select(["source_system", "source_record_id", "customer_id"])
    text = frozenset(
        n for n in config.fields if n in silver.names and pa.types.is_string(silver.field(n).type)
    )
    custom = tuple(c.name for c in profile.custom_fields)
    sql = (
        "WITH linked AS (SELECT m.customer_id, r.* FROM records r JOIN identity_map m "
        "ON r.record_key = concat(m.source_system, ':', m.source_record_id)),\n"
        + golden_records_sql(config, text_fields=text, custom=custom).removeprefix("WITH ")
    )
    result = backend.sql_to_arrow(sql, {"records": inputs, "identity_map": keyed})
    result = _joined(result, union_fields(inputs, keyed))
    history = consent_history(records, identity_map, consent_events, consent_extract_columns())
    result = with_current_consent(result, history)
    return result.select(schema.names).cast(schema)


def _joined(golden: pa.Table, unions: pa.Table) -> pa.Table:
    """``golden`` with the union columns of its customers (order of ``golden`` kept)."""
    by_customer = {cid: i for i, cid in enumerate(unions.column("customer_id").to_pylist())}
    take = pa.array(
        [by_customer.get(c) for c in golden.column("customer_id").to_pylist()], pa.int64()
    )
    for name in unions.column_names[1:]:
        golden = golden.append_column(name, unions.column(name).take(take))
    return golden
