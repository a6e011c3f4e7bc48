"""Masking of personal values in lists (search results), where many customers show at once.

The same rules as segment previews (c360/segments/export.py), kept here because stages share
tables, not code: ``+849******78``, ``n***@x.vn``, ``N*** V*** A***``.
"""

from __future__ import annotations

MaskKind = str  # "name" | "phone" | "email" | "national_id"


def mask(value: object, kind: MaskKind) -> str | None:
    """``value`` made unrecognisable but still telling; None stays None."""
    if value is None:
        return None
    text = str(value)
    if kind == "name":
        return " ".join(token[0] + "***" for token in text.split())
    if kind == "phone":
        return text[:4] + "*" * max(len(text) - 6, 0) + text[-2:] if len(text) > 6 else "***"
    if kind == "email":
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    if kind == "national_id":
        return "*" * max(len(text) - 3, 3) + text[-3:] if len(text) > 3 else "***"
    raise ValueError(f"unknown mask kind {kind!r}")
