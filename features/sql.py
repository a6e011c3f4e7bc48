"""Spark SQL text helpers: :mod:`features.prepare` and :mod:`features.evidence` write the
spec's filters, slice keys and windows as text, applied with ``selectExpr``.

Building thousands of expressions as PySpark ``Column`` objects costs one JVM round trip per
operator (hundreds of thousands of calls for this table); as text they cross once.
"""

from __future__ import annotations

from datetime import date
from typing import Any


def ident(name: str) -> str:
    """A quoted column name: ``count__d7`` -> ```count__d7```."""
    return "`" + name.replace("`", "``") + "`"


def literal(value: Any) -> str:
    """A SQL literal: strings quoted, floats as doubles (``0.25D``), dates as ``DATE'...'``."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value!r}D"
    if isinstance(value, date):
        return f"DATE'{value.isoformat()}'"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"
