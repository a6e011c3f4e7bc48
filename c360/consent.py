"""The consent ledger (issue 17): every decision is an event; the current one is the latest.

Events come from the extracts' consent columns (one event per person record and column that
states yes or no, decided at the record's ``updated_at``, else ``created_at``) and from the
optional consent-event source (``consent/<day>/consent_events*.csv``, silver/consent_events).
``conf/privacy.yaml`` ``extract_columns`` maps each column to a purpose (consent_data_use is
profiling). Per customer and purpose the golden record shows the latest explicit decision:

- later wins: a withdrawal after a grant withdraws, a grant after a withdrawal grants;
- same instant, different answers: withdrawn wins (``same_time_rule: withdrawn_wins``);
- a decision without a time counts as older than every timed one;
- no decision: null, which every consumer treats as no consent.

``consent_<p>_source`` is the deciding record's record_key (or ``consent:<event_id>`` for a
consent event), ``consent_<p>_at`` its time (UTC).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

from c360.privacy_rules import load_privacy_config
from c360.tables import (
    CONSENT_PURPOSES,
    GOLD_CONSENT_HISTORY_SCHEMA,
    GOLDEN_CONSENT_SCHEMA,
    SILVER_CONSENT_EVENTS,
)

# Extract column -> purpose (conf/privacy.yaml extract_columns; the default when none given).
DEFAULT_EXTRACT_COLUMNS: dict[str, str] = {
    "consent_email": "email",
    "consent_sms": "sms",
    "consent_data_use": "profiling",
}
CONSENT_EVENT_PREFIX = "consent"
_DECISION_RANK = {"withdrawn": 0, "granted": 1}  # sorted first = wins a same-time tie


def read_consent_events(lake) -> pa.Table | None:
    """silver/consent_events when the optional consent source has landed, else None."""
    return lake.read_arrow(SILVER_CONSENT_EVENTS) if lake.exists(SILVER_CONSENT_EVENTS) else None


def consent_extract_columns() -> dict[str, str]:
    """Extract consent column -> purpose, from ``conf/privacy.yaml``."""
    return dict(load_privacy_config().extract_columns)


def _customer_of(identity_map: pa.Table) -> dict[str, str]:
    systems = identity_map.column("source_system").to_pylist()
    ids = identity_map.column("source_record_id").to_pylist()
    customers = identity_map.column("customer_id").to_pylist()
    return {f"{s}:{r}": c for s, r, c in zip(systems, ids, customers, strict=True)}


def record_events(
    records: pa.Table,
    identity_map: pa.Table,
    extract_columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One event per (person record, consent column) stating yes or no."""
    columns = extract_columns or DEFAULT_EXTRACT_COLUMNS
    customer = _customer_of(identity_map)
    wanted = ["record_key", "source_system", "source_record_id", "created_at", "updated_at"]
    frame = records.select(
        [c for c in [*wanted, *columns] if c in records.column_names]
    ).to_pandas()
    if frame.empty:
        return pd.DataFrame(columns=GOLD_CONSENT_HISTORY_SCHEMA.names)
    for name in ("updated_at", "created_at"):
        if name not in frame.columns:
            frame[name] = pd.NaT
    if "source_record_id" not in frame.columns:
        frame["source_record_id"] = frame["record_key"].str.partition(":")[2]
    if "source_system" not in frame.columns:
        frame["source_system"] = frame["record_key"].str.partition(":")[0]
    when = frame["updated_at"].where(frame["updated_at"].notna(), frame["created_at"])
    events = []
    for column, purpose in columns.items():
        if column not in frame.columns:
            continue
        stated = frame[column].notna()
        part = pd.DataFrame(
            {
                "customer_id": frame.loc[stated, "record_key"].map(customer),
                "purpose": purpose,
                "decision": frame.loc[stated, column].map(
                    lambda v: "granted" if bool(v) else "withdrawn"
                ),
                "decided_at": when[stated],
                "source_system": frame.loc[stated, "source_system"],
                "source_record_id": frame.loc[stated, "source_record_id"],
                "event_id": frame.loc[stated, "record_key"] + f":{column}",
            }
        )
        events.append(part)
    return pd.concat(events, ignore_index=True) if events else pd.DataFrame()


def source_events(events: pa.Table, identity_map: pa.Table) -> pd.DataFrame:
    """silver/consent_events rows as ledger events (event_id prefixed ``consent:``)."""
    customer = _customer_of(identity_map)
    frame = events.to_pandas()
    keys = frame["source_system"] + ":" + frame["source_record_id"]
    return pd.DataFrame(
        {
            "customer_id": keys.map(customer),
            "purpose": frame["purpose"],
            "decision": frame["decision"],
            "decided_at": frame["decided_at"],
            "source_system": frame["source_system"],
            "source_record_id": frame["source_record_id"],
            "event_id": f"{CONSENT_EVENT_PREFIX}:" + frame["event_id"],
        }
    )


def consent_history(
    records: pa.Table,
    identity_map: pa.Table,
    consent_events: pa.Table | None = None,
    extract_columns: Mapping[str, str] | None = None,
) -> pa.Table:
    """Every decision of a known customer, in GOLD_CONSENT_HISTORY_SCHEMA, sorted."""
    parts = [record_events(records, identity_map, extract_columns)]
    if consent_events is not None and consent_events.num_rows:
        parts.append(source_events(consent_events, identity_map))
    frame = (
        pd.concat([p for p in parts if not p.empty], ignore_index=True)
        if any(not p.empty for p in parts)
        else pd.DataFrame(columns=GOLD_CONSENT_HISTORY_SCHEMA.names)
    )
    frame = frame[frame["customer_id"].notna()]
    frame = frame.sort_values(["customer_id", "purpose", "event_id"], kind="stable")
    return pa.Table.from_pandas(
        frame[GOLD_CONSENT_HISTORY_SCHEMA.names], schema=GOLD_CONSENT_HISTORY_SCHEMA,
        preserve_index=False,
    )  # fmt: skip


def _source_of(event_id: str) -> str:
    """The deciding record's record_key, or ``consent:<event_id>`` for a consent event."""
    if event_id.startswith(f"{CONSENT_EVENT_PREFIX}:"):
        return event_id
    return event_id.rsplit(":", 1)[0]


def current_consent(history: pa.Table, customer_ids: list[str]) -> pa.Table:
    """Per customer of ``customer_ids``: consent_<p>, consent_<p>_source, consent_<p>_at."""
    frame = history.to_pandas()
    result = pd.DataFrame({"customer_id": customer_ids})
    if not frame.empty:
        frame["rank_"] = frame["decision"].map(_DECISION_RANK)
        frame["timed_"] = frame["decided_at"].notna()
        frame = frame.sort_values(
            ["customer_id", "purpose", "timed_", "decided_at", "rank_", "event_id"],
            ascending=[True, True, False, False, True, True],
            na_position="last",
            kind="stable",
        )
        latest = frame.drop_duplicates(["customer_id", "purpose"], keep="first")
    for purpose in CONSENT_PURPOSES:
        mine = latest[latest["purpose"] == purpose] if not frame.empty else frame
        by_customer = mine.set_index("customer_id") if not mine.empty else None
        if by_customer is None:
            result[f"consent_{purpose}"] = None
            result[f"consent_{purpose}_source"] = None
            result[f"consent_{purpose}_at"] = pd.NaT
            continue
        decisions = result["customer_id"].map(by_customer["decision"])
        result[f"consent_{purpose}"] = decisions.map({"granted": True, "withdrawn": False})
        result[f"consent_{purpose}_source"] = result["customer_id"].map(
            by_customer["event_id"].map(_source_of)
        )
        result[f"consent_{purpose}_at"] = result["customer_id"].map(by_customer["decided_at"])
    schema = pa.schema([pa.field("customer_id", pa.string()), *GOLDEN_CONSENT_SCHEMA])
    return pa.Table.from_pandas(result, schema=schema, preserve_index=False)


def with_current_consent(golden: pa.Table, history: pa.Table) -> pa.Table:
    """``golden`` with its consent columns replaced by the ledger's current decisions.

    ``consent_data_use`` (the extracts' flag, read by the features) equals consent_profiling.
    """
    consent = current_consent(history, golden.column("customer_id").to_pylist())
    for name in GOLDEN_CONSENT_SCHEMA.names:
        column = consent.column(name)
        if name in golden.column_names:
            golden = golden.set_column(golden.column_names.index(name), name, column)
        else:
            golden = golden.append_column(name, column)
    data_use = consent.column("consent_profiling")
    if "consent_data_use" in golden.column_names:
        golden = golden.set_column(
            golden.column_names.index("consent_data_use"), "consent_data_use", data_use
        )
    return golden
