"""Golden records: one row per customer, each field chosen by its survivorship rule.

Rules come from ``conf/survivorship.yaml`` (source priority, most recent, most frequent, follow
another field; empty values never survive). Every surviving field ``f`` has ``f_source``: the
``record_key`` it came from. Consent is the ledger's latest decision per purpose
(:mod:`c360.consent`). The SQL is portable
(window functions, CASE) and runs on the matching backend: DuckDB locally, Spark on a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from c360.config import CONF_DIR
from c360.consent import consent_extract_columns, consent_history, with_current_consent
from c360.contract import SOURCE_SYSTEMS
from c360.errors import ConfigurationError
from c360.tables import GOLD_GOLDEN_RECORDS_SCHEMA, GOLDEN_SURVIVING_FIELDS
from resolution.linker import MatchingBackend

SURVIVORSHIP_CONFIG_FILE = CONF_DIR / "survivorship.yaml"
CONSENT_FIELDS = ("consent_email", "consent_sms", "consent_data_use")
DATE_FIELDS = {"date_of_birth"}


class SurvivorshipConfigError(ConfigurationError):
    """``conf/survivorship.yaml`` cannot be used; the message names the key."""


class FieldRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["source_priority", "most_recent", "most_frequent"] | None = None
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
        if missing := set(GOLDEN_SURVIVING_FIELDS) - set(self.fields):
            raise ValueError(f"fields: no rule for {sorted(missing)}")
        for name, rule in self.fields.items():
            if rule.follow is not None:
                leader = self.fields.get(rule.follow)
                if leader is None or leader.follow is not None:
                    raise ValueError(
                        f"fields.{name}: follow must name a field that has its own rule"
                    )
        return self


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


def golden_records_sql(config: SurvivorshipConfig, linked: str = "linked") -> str:
    """The survivorship query over ``linked`` (person records with their ``customer_id``).

    Long because it is one SQL statement (a CTE per step), read top to bottom.
    """
    leaders = {n: r for n, r in config.fields.items() if r.rule is not None}
    base_columns = ", ".join(
        f"CASE WHEN trim({f}) = '' THEN NULL ELSE {f} END AS {f}" if f not in DATE_FIELDS else f
        for f in config.fields
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
    for field in GOLDEN_SURVIVING_FIELDS:
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


def build_golden_records(
    records: pa.Table,
    identity_map: pa.Table,
    backend: MatchingBackend,
    config: SurvivorshipConfig | None = None,
    consent_events: pa.Table | None = None,
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

    Returns:
        Rows in GOLD_GOLDEN_RECORDS_SCHEMA.
    """
    config = config or load_survivorship_config()
    needed = {"record_key", "source_system", "created_at", "updated_at", *CONSENT_FIELDS}
    needed |= set(config.fields)
    columns = {}
    for name in sorted(needed):
        if name in records.column_names:
            columns[name] = records.column(name)
        else:
            dtype = (
                GOLD_GOLDEN_RECORDS_SCHEMA.field(name).type
                if name in (GOLD_GOLDEN_RECORDS_SCHEMA.names)
                else pa.timestamp("us", tz="UTC")
            )
            columns[name] = pa.nulls(records.num_rows, dtype)
    keyed = identity_map.select(["source_system", "source_record_id", "customer_id"])
    sql = (
        "WITH linked AS (SELECT m.customer_id, r.* FROM records r JOIN identity_map m "
        "ON r.record_key = concat(m.source_system, ':', m.source_record_id)),\n"
        + golden_records_sql(config).removeprefix("WITH ")
    )
    result = backend.sql_to_arrow(sql, {"records": pa.table(columns), "identity_map": keyed})
    history = consent_history(records, identity_map, consent_events, consent_extract_columns())
    result = with_current_consent(result, history)
    return result.select(GOLD_GOLDEN_RECORDS_SCHEMA.names).cast(GOLD_GOLDEN_RECORDS_SCHEMA)
