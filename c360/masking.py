"""Masking of personal values shown on screen (segment previews, customer search results).

One set of rules for every stage that shows people in lists: ``+849******78``, ``n***@x.vn``,
``N*** V*** A***``, ``1990-**-**``.
"""

from __future__ import annotations

from typing import Literal

MaskKind = Literal["name", "phone", "email", "national_id", "date", "address"]
MASK_KINDS: tuple[str, ...] = ("name", "phone", "email", "national_id", "date", "address")


def mask(value: object, kind: str) -> str | None:
    """``value`` made unrecognisable but still telling; None stays None.

    Raises:
        ValueError: ``kind`` is not one of MASK_KINDS.
    """
    if kind not in MASK_KINDS:
        raise ValueError(f"unknown mask kind {kind!r}; expected one of {list(MASK_KINDS)}")
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
    if kind == "date":
        return text[:4] + "-**-**"
    return "***"  # address
