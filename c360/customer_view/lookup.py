"""Find customers by customer ID, source record, phone, email, national ID or name.

The query is standardised by :func:`c360.standardise.standardise_identity`, the function silver
uses for landed identity fields, so ``0912 345 678``, ``+84 912 345 678`` and ``84912345678``
all become ``+84912345678`` and ``Nguyễn Văn An`` / ``nguyen van an`` fold alike. Answers come
from ``gold/golden_records``, ``gold/identity_map`` and ``silver/person_records`` (never the
feature snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow.compute as pc

from c360.customer_view.profile import merged_into
from c360.customer_view.store import ViewStore, is_in
from c360.masking import mask
from c360.standardise import IdentityColumns, standardise_identity
from c360.tables import (
    GOLD_GOLDEN_RECORDS,
    GOLD_IDENTITY_HISTORY,
    GOLD_IDENTITY_MAP,
    SILVER_PERSON_RECORDS,
)

_QUERY = "query"
_AS_EVERY_FIELD = IdentityColumns(full_name=_QUERY, phone=_QUERY, email=_QUERY, national_id=_QUERY)
# Identifier fields: (silver / golden column, label); an exact match scores 1.0.
IDENTIFIERS = (("phone_e164", "phone"), ("email", "email"), ("national_id", "national_id"))
NAME_MIN_SCORE = 0.85  # Jaro-Winkler similarity of folded names below which no name matches


@dataclass(frozen=True)
class QueryKeys:
    """The query as each identity field would hold it in silver (None: not that kind)."""

    text: str
    phone_e164: str | None
    email: str | None
    national_id: str | None
    full_name_folded: str | None


@dataclass(frozen=True)
class Match:
    """One customer matching a query: how, how well, and masked identity for display."""

    customer_id: str
    matched_on: str
    score: float
    name: str | None
    phone: str | None
    email: str | None

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def standardise_query(query: str) -> QueryKeys:
    """``query`` standardised as a phone, an email, a national ID and a name, as silver does."""
    text = " ".join(query.split())
    frame = pd.DataFrame({_QUERY: [text]})
    row = standardise_identity(frame, _AS_EVERY_FIELD).iloc[0]
    value = {c: (row[c] if isinstance(row[c], str) else None) for c in row.index}
    return QueryKeys(
        text=text,
        phone_e164=value["phone_e164"],
        email=value["email"],
        national_id=value["national_id"],
        full_name_folded=value["full_name_folded"],
    )


def _customers_of_records(store: ViewStore, record_keys: list[str]) -> dict[str, str]:
    """record_key -> customer_id for the given records (from gold/identity_map)."""
    if not record_keys:
        return {}
    ids = sorted({key.partition(":")[2] for key in record_keys})
    rows = store.rows(
        GOLD_IDENTITY_MAP,
        is_in("source_record_id", ids),
        ["source_system", "source_record_id", "customer_id"],
    ).to_pylist()
    wanted = set(record_keys)
    return {
        key: row["customer_id"]
        for row in rows
        if (key := f"{row['source_system']}:{row['source_record_id']}") in wanted
    }


def _identifier_hits(store: ViewStore, keys: QueryKeys) -> list[tuple[str, str, float]]:
    """(customer_id, matched_on, score) for the query as a customer ID, record or identifier."""
    hits: list[tuple[str, str, float]] = []
    golden = store.rows(GOLD_GOLDEN_RECORDS, pc.field("customer_id") == keys.text, ["customer_id"])
    hits += [(c, "customer_id", 1.0) for c in golden.column(0).to_pylist()] if golden else []
    if not hits and store.exists(GOLD_IDENTITY_HISTORY):
        survivor = merged_into(store, keys.text)
        hits += [(survivor, "customer_id (merged)", 1.0)] if survivor else []
    record_id = keys.text.partition(":")[2] if ":" in keys.text else keys.text
    records = store.rows(
        GOLD_IDENTITY_MAP,
        pc.field("source_record_id") == record_id,
        ["source_system", "source_record_id", "customer_id"],
    ).to_pylist()
    for row in records:
        if ":" not in keys.text or keys.text == f"{row['source_system']}:{record_id}":
            hits.append((row["customer_id"], f"{row['source_system']} record", 1.0))
    for column, label in IDENTIFIERS:
        value = getattr(keys, column)
        if value is None:
            continue
        found = store.rows(GOLD_GOLDEN_RECORDS, pc.field(column) == value, ["customer_id"])
        hits += [(c, label, 1.0) for c in found.column(0).to_pylist()] if found else []
        linked = store.rows(SILVER_PERSON_RECORDS, pc.field(column) == value, ["record_key"])
        if linked:
            customers = _customers_of_records(store, linked.column(0).to_pylist())
            hits += [(c, f"{label} (linked record)", 1.0) for c in customers.values()]
    return hits


def _name_hits(store: ViewStore, folded: str, limit: int) -> list[tuple[str, str, float]]:
    """Records whose folded name holds every query token, scored by Jaro-Winkler similarity."""
    if not store.exists(SILVER_PERSON_RECORDS):
        return []
    tokens = folded.split()
    with duckdb.connect() as con:
        con.register("names", store.dataset(SILVER_PERSON_RECORDS))
        scored = con.sql(
            """
            SELECT record_key, jaro_winkler_similarity(full_name_folded, $name) AS score
            FROM (SELECT record_key, full_name_folded FROM names
                  WHERE full_name_folded IS NOT NULL)
            WHERE full_name_folded = $name
               OR list_has_all(string_split(full_name_folded, ' '), $tokens)
               OR jaro_winkler_similarity(full_name_folded, $name) >= $floor
            ORDER BY score DESC, record_key
            LIMIT $limit
            """,
            params={"name": folded, "tokens": tokens, "floor": NAME_MIN_SCORE, "limit": limit * 5},
        ).to_arrow_table()
    scores = dict(zip(scored["record_key"].to_pylist(), scored["score"].to_pylist(), strict=True))
    customers = _customers_of_records(store, list(scores))
    return [(c, "name", round(float(scores[key]), 3)) for key, c in customers.items()]


def _describe(store: ViewStore, best: dict[str, tuple[str, float]]) -> list[Match]:
    golden = store.rows(
        GOLD_GOLDEN_RECORDS,
        is_in("customer_id", list(best)),
        ["customer_id", "full_name", "phone_e164", "email"],
    )
    by_id = {row["customer_id"]: row for row in golden.to_pylist()}
    matches = []
    for customer, (matched_on, score) in best.items():
        row = by_id.get(customer, {})
        matches.append(
            Match(
                customer, matched_on, score,
                mask(row.get("full_name"), "name"), mask(row.get("phone_e164"), "phone"),
                mask(row.get("email"), "email"),
            )
        )  # fmt: skip
    return sorted(matches, key=lambda m: (-m.score, m.customer_id))


def find_customers(store: ViewStore, query: str, limit: int = 20) -> list[Match]:
    """Customers matching ``query``, best first (identifier matches score 1.0).

    A name is searched when the query is no identifier of a known customer: every token of the
    folded query must appear in the record's folded name, or the whole name be similar.
    """
    keys = standardise_query(query)
    if not keys.text:
        return []
    hits = _identifier_hits(store, keys)
    if not hits and keys.full_name_folded:
        hits = _name_hits(store, keys.full_name_folded, limit)
    best: dict[str, tuple[str, float]] = {}
    for customer, matched_on, score in hits:
        if customer not in best or score > best[customer][1]:
            best[customer] = (matched_on, score)
    return _describe(store, best)[:limit]
