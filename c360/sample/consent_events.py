"""The optional consent source: ``consent/<day>/consent_events_<day>.csv``.

Each day a small share of the CRM and loyalty records already landed gets one decision for one
of the purposes (c360.tables.CONSENT_PURPOSES: zalo and call exist only here), granted or
withdrawn, at a moment of that day in local time, through a channel. Deterministic per seed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from c360.contract import CONSENT_EVENTS, CRM_CONTACTS, LOYALTY_MEMBERS
from c360.sample.text import stage_rng
from c360.tables import CONSENT_PURPOSES

DAILY_SHARE = 0.02  # of the records landed so far, per day
GRANT_SHARE = 0.6
CHANNELS = ("web", "app", "store", "call_centre", "email_link")
EVENT_SOURCES = (CRM_CONTACTS.source, LOYALTY_MEMBERS.source)
VIETNAM = timezone(timedelta(hours=7))


def consent_events_of_day(
    records: dict[str, pd.DataFrame], day_index: int, day: date, seed: int
) -> pd.DataFrame:
    """The consent events landed on ``day`` (columns of CONSENT_EVENTS.required_columns)."""
    rng = stage_rng(seed, f"consent_events:{day_index}")
    frames = []
    for source in EVENT_SOURCES:
        recs = records.get(source)
        if recs is None:
            continue
        landed = recs.loc[recs["landed_day"] <= day_index, "record_id"].to_numpy(dtype=object)
        n = round(len(landed) * DAILY_SHARE)
        if n == 0:
            continue
        chosen = rng.choice(landed, size=n, replace=False)
        seconds = rng.integers(0, 86_400, size=n)
        midnight = datetime(day.year, day.month, day.day, tzinfo=VIETNAM)
        frames.append(
            pd.DataFrame(
                {
                    "source_system": source,
                    "source_record_id": chosen,
                    "purpose": rng.choice(CONSENT_PURPOSES, size=n),
                    "decision": np.where(rng.random(n) < GRANT_SHARE, "granted", "withdrawn"),
                    "decided_at": [
                        (midnight + timedelta(seconds=int(s))).isoformat() for s in seconds
                    ],
                    "channel": rng.choice(CHANNELS, size=n),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=list(CONSENT_EVENTS.required_columns))
    events = pd.concat(frames, ignore_index=True)
    events.insert(0, "event_id", [f"CE{day:%Y%m%d}{i:06d}" for i in range(1, len(events) + 1)])
    return events[list(CONSENT_EVENTS.required_columns)]
