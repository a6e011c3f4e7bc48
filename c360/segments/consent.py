"""Where a channel's current consent comes from: the golden record's per-purpose consent.

The consent ledger (issue 17, c360/consent.py) gives the golden record ``consent_<purpose>``
per purpose: the latest explicit decision, null when none (= no consent). ``conf/segments.yaml``
``channel_consent`` maps each channel to its column (email, sms, zalo, call to consent_email,
consent_sms, consent_zalo, consent_call); a channel mapped to null has no consent source:
nobody consents, every customer is excluded.
"""

from __future__ import annotations

from c360.segments.model import SegmentsConfig


def consent_sql(channel: str | None, config: SegmentsConfig, alias: str = "g") -> str:
    """SQL boolean that is TRUE only for customers with current consent for ``channel``.

    No channel: TRUE (nothing to consent to). A channel without a consent source: FALSE.
    Columns come from validated configuration, never from user input.
    """
    if channel is None:
        return "TRUE"
    column = config.channel_consent.get(channel)
    if column is None:
        return "FALSE"
    return f'coalesce({alias}."{column}", FALSE)'
