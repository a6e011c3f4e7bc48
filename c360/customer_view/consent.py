"""Current consent per purpose, as the golden record carries it.

Each purpose of conf/privacy.yaml has ``consent_<purpose>`` (true granted, false withdrawn, null no
decision, which means no consent) with ``consent_<purpose>_source`` / ``_at``: the deciding record
and time of the consent ledger (c360/consent.py; every event is in ``gold/consent_history``).
"""

from __future__ import annotations

from typing import Any

from c360.tables import CONSENT_PURPOSES

_SUFFIXES = ("_source", "_at")


def consent_columns(columns: list[str]) -> list[str]:
    """The purpose columns among ``columns``: ``consent_<p>`` of each purpose of conf/privacy.yaml.

    ``consent_data_use`` (the extracts' flag, kept equal to ``consent_profiling``) is not a
    purpose of its own.
    """
    present = set(columns)
    return [f"consent_{p}" for p in CONSENT_PURPOSES if f"consent_{p}" in present]


def status(value: bool | None) -> str:
    """``granted`` | ``withdrawn`` | ``no_decision`` (null: no consent)."""
    return "no_decision" if value is None else ("granted" if value else "withdrawn")


def current_consent(golden: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per purpose: value, status, and the deciding record and time (None: no decision).

    The golden record carries them (``consent_<p>``, ``consent_<p>_source``, ``consent_<p>_at``:
    the latest explicit decision of the consent ledger, c360/consent.py).
    """
    out = []
    for column in consent_columns(list(golden)):
        value = golden[column]
        source, at = golden.get(f"{column}_source"), golden.get(f"{column}_at")
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
