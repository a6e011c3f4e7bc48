"""The optional interaction sources: ``engagement/<day>/messages_<day>.csv`` and
``service/<day>/contacts_<day>.csv`` (issue 20).

Engagement: each day a share of the records landed so far is sent one message of a campaign
(some within a journey), by email, SMS, Zalo or push; each message's events follow realistic
rates: sends >> delivered > opens >> clicks, with bounces, unsubscribes and replies.
Service: a smaller share calls, chats or opens a ticket; calls carry a duration and an
outcome, tickets a category and a status, a share are rated 1-5; some callers are known only
by their phone. A few rows are dirty (an unknown event, a bad timestamp, a satisfaction of 7,
a negative duration) so the silver quarantine is exercised. Deterministic per seed; vectorised.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd

from c360.contract import ENGAGEMENT_MESSAGES, SERVICE_CONTACTS
from c360.sample.text import stage_rng

VIETNAM = timezone(timedelta(hours=7))
MESSAGE_SHARE = 0.05  # of the records landed so far, messaged per day
CONTACT_SHARE = 0.01  # of the records landed so far, contacting the service centre per day
CHANNELS = ("email", "sms", "zalo", "push")
CHANNEL_WEIGHTS = (0.5, 0.2, 0.2, 0.1)
DELIVERY_RATE = 0.93  # the rest bounce
OPEN_RATE = {"email": 0.24, "sms": 0.0, "zalo": 0.45, "push": 0.1}  # SMS opens are not tracked
CLICK_RATE = 0.18  # of opened messages
UNSUBSCRIBE_RATE = 0.006  # of delivered messages
REPLY_RATE = {"email": 0.002, "sms": 0.01, "zalo": 0.03, "push": 0.0}
JOURNEYS = ("welcome", "onboarding", "birthday", "winback", "cart_reminder")
JOURNEY_WEIGHTS = (0.35, 0.2, 0.1, 0.15, 0.2)
JOURNEY_SHARE = 0.4  # of messages; the rest are one-off campaign messages
KINDS = ("call", "chat", "ticket")
KIND_WEIGHTS = (0.5, 0.25, 0.25)
OUTCOMES = {
    "call": (("answered", "missed", "abandoned", "callback"), (0.78, 0.1, 0.07, 0.05)),
    "chat": (("resolved", "escalated", "closed"), (0.7, 0.1, 0.2)),
    "ticket": (("resolved", "open", "pending", "escalated", "closed"), (0.5, 0.2, 0.15, 0.1, 0.05)),
}
CATEGORIES = ("order", "delivery", "refund", "product", "account", "loyalty", "complaint", "other")
RATED_SHARE = 0.4
PHONE_ONLY_SHARE = 0.15  # of calls: the caller is known only by the number
DIRTY_SHARE = 0.004  # rows made unusable on purpose


def _moments(rng: np.random.Generator, day: date, n: int, latest_s: int = 80_000) -> np.ndarray:
    """``n`` seconds after local midnight of ``day``, as POSIX seconds."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=VIETNAM).timestamp()
    return midnight + rng.integers(0, latest_s, size=n)


def _iso(seconds: np.ndarray) -> list[str]:
    return [datetime.fromtimestamp(int(s), VIETNAM).isoformat() for s in seconds]


def _landed(records: dict[str, pd.DataFrame], day_index: int) -> pd.DataFrame:
    """Every record landed by ``day_index``: source, record_id, person_idx."""
    frames = [
        recs.loc[recs["landed_day"] <= day_index, ["record_id", "person_idx"]].assign(source=s)
        for s, recs in sorted(records.items())
    ]
    return pd.concat(frames, ignore_index=True)


def _chosen(rng, landed: pd.DataFrame, share: float) -> pd.DataFrame:
    n = round(len(landed) * share)
    if n == 0:
        return landed.iloc[:0]
    return landed.iloc[np.sort(rng.choice(len(landed), size=n, replace=False))]


def messages_of_day(
    records: dict[str, pd.DataFrame], day_index: int, day: date, seed: int
) -> pd.DataFrame:
    """The message events landed on ``day`` (columns of ENGAGEMENT_MESSAGES)."""
    rng = stage_rng(seed, f"engagement:{day_index}")
    who = _chosen(rng, _landed(records, day_index), MESSAGE_SHARE)
    n = len(who)
    if n == 0:
        return pd.DataFrame(columns=list(ENGAGEMENT_MESSAGES.required_columns))
    channel = rng.choice(CHANNELS, size=n, p=CHANNEL_WEIGHTS)
    in_journey = rng.random(n) < JOURNEY_SHARE
    journey = np.where(in_journey, rng.choice(JOURNEYS, size=n, p=JOURNEY_WEIGHTS), "")
    step = rng.integers(1, 4, size=n)
    campaign = np.where(
        in_journey,
        np.char.add("JRN-", np.char.upper(journey.astype(str))),
        f"CMP{day:%Y%m}" + np.where(rng.random(n) < 0.5, "A", "B"),
    )
    message_key = np.where(in_journey, np.char.add(journey.astype(str), "_" + step.astype(str)),
                           "main")  # fmt: skip
    sent_at = _moments(rng, day, n, latest_s=70_000)
    delivered = rng.random(n) < DELIVERY_RATE
    opened = delivered & (rng.random(n) < np.vectorize(OPEN_RATE.get)(channel))
    events = [
        ("sent", np.ones(n, bool), 0),
        ("delivered", delivered, 30),
        ("bounced", ~delivered, 60),
        ("opened", opened, 1_800),
        ("clicked", opened & (rng.random(n) < CLICK_RATE), 2_400),
        ("unsubscribed", delivered & (rng.random(n) < UNSUBSCRIBE_RATE), 3_000),
        ("replied", delivered & (rng.random(n) < np.vectorize(REPLY_RATE.get)(channel)), 3_600),
    ]
    ids = np.array([f"M{day:%Y%m%d}{i:06d}" for i in range(1, n + 1)], dtype=object)
    frames = []
    for event, happened, delay in events:
        idx = np.flatnonzero(happened)
        frames.append(
            pd.DataFrame(
                {
                    "message_id": ids[idx],
                    "customer_ref_type": who["source"].to_numpy()[idx],
                    "customer_ref": who["record_id"].to_numpy()[idx],
                    "channel": channel[idx],
                    "campaign_id": campaign[idx],
                    "journey_id": journey[idx],
                    "message_key": message_key[idx],
                    "event": event,
                    # jitter below the smallest gap: events stay in lifecycle order
                    "event_ts": _iso(sent_at[idx] + delay + rng.integers(0, 25, len(idx))),
                }
            )
        )
    rows = pd.concat(frames, ignore_index=True).sort_values(["message_id", "event_ts"])
    return _dirty_messages(rng, rows.reset_index(drop=True))


def _dirty_messages(rng, rows: pd.DataFrame) -> pd.DataFrame:
    """A few unusable events (unknown event, no timestamp) and alias spellings."""
    n = len(rows)
    dirty = rng.random(n) < DIRTY_SHARE
    half = rng.random(n) < 0.5
    rows.loc[dirty & half, "event"] = "opnd"
    rows.loc[dirty & ~half, "event_ts"] = "not a time"
    rows.loc[(rng.random(n) < 0.02) & (rows["channel"] == "email"), "channel"] = "E-mail"
    return rows[list(ENGAGEMENT_MESSAGES.required_columns)]


def contacts_of_day(
    persons: pd.DataFrame, records: dict[str, pd.DataFrame], day_index: int, day: date, seed: int
) -> pd.DataFrame:
    """The service contacts landed on ``day`` (columns of SERVICE_CONTACTS)."""
    rng = stage_rng(seed, f"service:{day_index}")
    who = _chosen(rng, _landed(records, day_index), CONTACT_SHARE)
    n = len(who)
    if n == 0:
        return pd.DataFrame(columns=list(SERVICE_CONTACTS.required_columns))
    kind = rng.choice(KINDS, size=n, p=KIND_WEIGHTS)
    outcome = np.empty(n, dtype=object)
    for k, (values, weights) in OUTCOMES.items():
        mask = kind == k
        outcome[mask] = rng.choice(values, size=int(mask.sum()), p=weights)
    seconds = np.where(
        kind == "call",
        np.clip(rng.lognormal(5.3, 0.7, n), 20, 3_600),
        np.where(kind == "chat", np.clip(rng.lognormal(6.2, 0.6, n), 60, 7_200), np.nan),
    )
    seconds[np.isin(outcome, ("missed", "abandoned"))] = 0
    rated = (rng.random(n) < RATED_SHARE) & ~np.isin(outcome, ("missed", "abandoned"))
    score = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.06, 0.09, 0.2, 0.35, 0.3])
    phone = persons["phone"].to_numpy(dtype=object)[who["person_idx"].to_numpy()]
    phone_only = (kind == "call") & (rng.random(n) < PHONE_ONLY_SHARE) & (phone != "")
    rows = pd.DataFrame(
        {
            "contact_id": [f"SC{day:%Y%m%d}{i:05d}" for i in range(1, n + 1)],
            "customer_ref_type": np.where(phone_only, "", who["source"].to_numpy()),
            "customer_ref": np.where(phone_only, "", who["record_id"].to_numpy()),
            "phone": np.where(kind == "call", phone, ""),
            "kind": kind,
            "direction": np.where(rng.random(n) < 0.85, "inbound", "outbound"),
            "started_at": _iso(_moments(rng, day, n)),
            "duration_s": [str(int(s)) if s == s else "" for s in seconds],
            "category": rng.choice(CATEGORIES, size=n),
            "outcome": outcome,
            "satisfaction": np.where(rated, score.astype(str), ""),
        }
    )
    dirty = rng.random(n) < DIRTY_SHARE * 5  # few contacts a day: enough to see one
    rows.loc[dirty & (kind == "call"), "duration_s"] = "-5"
    rows.loc[dirty & (kind != "call"), "satisfaction"] = "7"
    return rows[list(SERVICE_CONTACTS.required_columns)]


def interactions_of_day(
    persons: pd.DataFrame, records: dict[str, pd.DataFrame], day_index: int, day: date, seed: int
) -> list[tuple[object, pd.DataFrame]]:
    """(entity, rows) of both interaction sources for one landing day."""
    return [
        (ENGAGEMENT_MESSAGES, messages_of_day(records, day_index, day, seed)),
        (SERVICE_CONTACTS, contacts_of_day(persons, records, day_index, day, seed)),
    ]
