"""Current consent per purpose, read generically from the golden record.

Every ``consent_<purpose>`` column is a purpose (true granted, false withdrawn, null no decision,
which means no consent); ``consent_<purpose>_source`` / ``_at`` give its source and date when the
golden record has them (the per-purpose ledger of issue 17 adds them and
``gold/consent_history``). Works before and after that change.
"""

from __future__ import annotations

from typing import Any

from c360 import tables

# Declared in c360/tables.py by issue 17 (privacy); the same name until that is merged.
GOLD_CONSENT_HISTORY: tables.Table = getattr(
    tables, "GOLD_CONSENT_HISTORY", tables.Table("gold", "consent_history")
)
_SUFFIXES = ("_source", "_at")


def consent_columns(columns: list[str]) -> list[str]:
    """The purpose columns among ``columns`` (``consent_*`` but not their _source / _at)."""
    return [c for c in columns if c.startswith("consent_") and not c.endswith(_SUFFIXES)]


def status(value: bool | None) -> str:
    """``granted`` | ``withdrawn`` | ``no_decision`` (null: no consent)."""
    return "no_decision" if value is None else ("granted" if value else "withdrawn")


def _from_records(column: str, value: bool, records: list[dict[str, Any]]) -> tuple[Any, Any]:
    """(record_key, updated_at) of the latest linked record stating the golden value."""
    stating = [r for r in records if r.get("consent", {}).get(column) == value]
    if not stating:
        return None, None
    latest = max(stating, key=lambda r: r.get("updated_at") or "")
    return latest["record_key"], latest.get("updated_at")


def current_consent(
    golden: dict[str, Any], records: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One entry per purpose: value, status, source and date (None when not recorded).

    Where the golden record has no ``consent_<p>_source`` column (before issue 17), the source
    is the latest linked record (``records``: record_key, consent, updated_at) stating the
    golden value, and the date its ``updated_at``.
    """
    out = []
    for column in consent_columns(list(golden)):
        value = golden[column]
        source, at = golden.get(f"{column}_source"), golden.get(f"{column}_at")
        if f"{column}_source" not in golden and value is not None:
            source, at = _from_records(column, value, records or [])
        out.append(
            {
                "purpose": column.removeprefix("consent_"),
                "column": column,
                "value": value,
                "status": status(value),
                "source": source,
                "at": at.isoformat() if hasattr(at, "isoformat") else at,
            }
        )
    return out
