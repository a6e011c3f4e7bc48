"""Activity: transactions and loyalty points over the history window and the landing days.

Spend is long-tailed per person (lognormal purchase rates and basket sizes), with weekly
seasonality, a Tết peak (the three weeks before the Lunar New Year, then a lull while shops
close) and the 11/11 and 12/12 marketplace sales. A transaction references one of its buyer's
records that already existed at the time (crm, erp or loyalty key), or nothing (a guest sale).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from c360.contract import LOYALTY_MEMBERS, POINT_EVENT_TYPES
from c360.reference_data import PROVINCES_PRE_2025, TET_DATES
from c360.sample.config import PopulationConfig
from c360.sample.records import SECONDS_PER_DAY, Timeline
from c360.sample.text import stage_rng, zero_pad

# (channel, share of transactions)
CHANNELS: tuple[tuple[str, float], ...] = (
    ("store", 0.55), ("web", 0.12), ("app", 0.15), ("call_centre", 0.03), ("marketplace", 0.15),
)  # fmt: skip
NON_STORE_IDS: dict[str, tuple[tuple[str, float], ...]] = {
    "web": (("WEB", 1.0),),
    "app": (("APP", 1.0),),
    "call_centre": (("CALLCENTRE", 1.0),),
    "marketplace": (
        ("MKP-SHOPEE", 0.50), ("MKP-LAZADA", 0.25), ("MKP-TIKTOK", 0.15), ("MKP-TIKI", 0.10),
    ),
}  # fmt: skip
PAYMENT_METHODS: tuple[str, ...] = ("cash", "card", "momo", "zalopay", "vnpay", "bank_transfer")
# Payment shares in store and online (cash online is cash on delivery).
PAYMENT_SHARES: dict[str, tuple[float, ...]] = {
    "store": (0.42, 0.20, 0.13, 0.07, 0.12, 0.06),
    "online": (0.30, 0.17, 0.20, 0.10, 0.10, 0.13),
}
STATUSES: tuple[tuple[str, float], ...] = (
    ("completed", 0.93), ("refunded", 0.03), ("cancelled", 0.04),
)  # fmt: skip


@dataclass(frozen=True)
class Category:
    """A product category: SKU prefix, share of transactions, median unit price, SKU count."""

    name: str
    sku_prefix: str
    share: float
    median_price_vnd: int
    skus: int


CATEGORIES: tuple[Category, ...] = (
    Category("grocery", "GRO", 22, 85_000, 400),
    Category("fresh_food", "FRS", 14, 120_000, 200),
    Category("beverages", "BEV", 10, 60_000, 150),
    Category("snacks", "SNK", 8, 45_000, 150),
    Category("personal_care", "PCR", 8, 150_000, 200),
    Category("household", "HHD", 7, 180_000, 200),
    Category("beauty", "BTY", 6, 350_000, 200),
    Category("fashion", "FSH", 5, 450_000, 300),
    Category("baby_care", "BBY", 4, 400_000, 120),
    Category("health", "HLT", 4, 220_000, 120),
    Category("books_stationery", "BKS", 3, 90_000, 150),
    Category("footwear", "FTW", 2, 700_000, 120),
    Category("electronics", "ELC", 2, 2_500_000, 120),
    Category("home_appliances", "APL", 2, 1_800_000, 100),
    Category("toys", "TOY", 2, 300_000, 100),
    Category("mobile_phones", "MOB", 1, 6_000_000, 60),
)
EVERYDAY_PRICE_VND = 200_000  # categories below this median sell several units at a time

# Vouchers: code -> (discount share, cap in VND). Seasonal codes are added per date.
VOUCHERS: dict[str, tuple[float, int]] = {
    "WELCOME50K": (1.0, 50_000), "FREESHIP": (1.0, 30_000), "SALE10": (0.10, 100_000),
    "PAYDAY": (0.08, 80_000), "MEMBER15": (0.15, 150_000), "FLASH20": (0.20, 200_000),
    "BDAY100K": (1.0, 100_000),
}  # fmt: skip
SEASONAL_VOUCHER = (0.12, 200_000)  # TET<year>, SALE1111, SALE1212
WEEKDAY_FACTOR = np.array([0.92, 0.88, 0.90, 0.95, 1.05, 1.22, 1.18])  # Monday first
HOUR_WEIGHTS = np.array(
    [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 0.8, 1.2, 1.5, 1.7, 1.9,
     1.8, 1.4, 1.3, 1.4, 1.6, 1.9, 2.3, 2.5, 2.3, 1.8, 1.0, 0.5]
)  # fmt: skip
LOYALTY_TIERS: tuple[tuple[str, int], ...] = (
    ("member", 0), ("silver", 5_000_000), ("gold", 15_000_000), ("platinum", 40_000_000),
)  # fmt: skip
MEMBER_STATUSES: tuple[tuple[str, float], ...] = (
    ("active", 0.88), ("inactive", 0.10), ("locked", 0.02),
)  # fmt: skip
POINT_VALUE_VND = 10_000  # one point per 10,000 VND spent
WELCOME_POINTS = 50
POINTS_EXPIRE_DAYS = 180  # unredeemed points lapse six months after they were earned
EARN, REDEEM, EXPIRE, ADJUST = POINT_EVENT_TYPES


@dataclass(frozen=True)
class Activity:
    """Transactions and point events, each with its landing day."""

    transactions: pd.DataFrame  # contract columns + ts_s, landed_day, person_idx
    points: pd.DataFrame  # contract columns + ts_s, landed_day
    spend_12m_vnd: np.ndarray  # per person: completed spend in the year before the extract


def day_weights(timeline: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """Every date of the activity window and its relative sales weight (mean 1)."""
    first = np.datetime64(timeline.history_start_s, "s").astype("datetime64[D]")
    dates = first + np.arange(timeline.history_days + timeline.days)
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    weight = WEEKDAY_FACTOR[weekday].copy()
    tet = np.array(TET_DATES, dtype="datetime64[D]")
    nearest = tet[np.clip(np.searchsorted(tet, dates), 0, len(tet) - 1)]
    to_tet = (dates - nearest).astype(np.int64)  # negative before Tết
    weight *= np.where(
        (to_tet >= -21) & (to_tet <= -1), 1 + 1.8 * np.exp(-(((to_tet + 7) / 6.0) ** 2)), 1.0
    )
    after = (dates - tet[np.clip(np.searchsorted(tet, dates, side="right") - 1, 0, None)]).astype(
        np.int64
    )
    weight *= np.where((after >= 0) & (after <= 3), 0.45, 1.0)
    month_day = pd.DatetimeIndex(dates).strftime("%m%d").to_numpy()
    weight *= np.where(np.isin(month_day, ["1111", "1212"]), 1.6, 1.0)
    return dates, weight / weight.mean()


def build_activity(
    persons: pd.DataFrame,
    records: dict[str, pd.DataFrame],
    timeline: Timeline,
    seed: int,
    cfg: PopulationConfig,
) -> Activity:
    """Transactions and loyalty point events for the whole window (history and landing days)."""
    rng = stage_rng(seed, "activity")
    n_people = len(persons)
    dates, weight = day_weights(timeline)
    cum_weight = np.concatenate([[0.0], np.cumsum(weight)])
    day0_s = timeline.history_start_s

    # Each person can buy from their first record's creation on, through the last landing day.
    refs = _record_refs(records)
    first_created = np.full(n_people, np.iinfo(np.int64).max)
    np.minimum.at(first_created, refs["person_idx"].to_numpy(), refs["created_s"].to_numpy())
    active_from = np.maximum(first_created, day0_s)
    lo_day = np.minimum((active_from - day0_s) // SECONDS_PER_DAY, len(dates))

    buyer, day_idx, ts = _purchases(rng, cfg, cum_weight, lo_day, first_created, timeline)
    n = len(buyer)
    ref_type, ref_id = _customer_refs(rng, refs, buyer, ts, cfg.guest_share)
    channel = _choice(rng, CHANNELS, n)
    store_id = _store_ids(rng, channel, persons["province_idx"].to_numpy()[buyer], cfg)
    category_idx, product_sku, unit_price, quantity = _basket_lines(rng, seed, buyer, n_people)
    voucher_code, discount = _vouchers(rng, dates, day_idx, quantity * unit_price)
    tx = pd.DataFrame(
        {
            "customer_ref_type": ref_type,
            "customer_ref": ref_id,
            "channel": channel,
            "store_id": store_id,
            "product_sku": product_sku,
            "product_category": np.array([c.name for c in CATEGORIES], dtype=object)[category_idx],
            "quantity": quantity.astype(np.int64),
            "unit_price": unit_price.astype(np.int64),
            "discount": discount.astype(np.int64),
            "amount": (quantity * unit_price - discount).astype(np.int64),
            "currency": "VND",
            "payment_method": _payments(rng, channel),
            "voucher_code": voucher_code,
            "transaction_ts": iso_timestamps(ts, offset=True),
            "status": _choice(rng, STATUSES, n),
            "ts_s": ts,
            "person_idx": buyer,
        }
    )
    tx = tx.sort_values(["ts_s", "person_idx", "product_sku"], kind="stable", ignore_index=True)
    tx.insert(0, "transaction_id", "TX" + zero_pad(np.arange(1, n + 1), 10))
    tx["landed_day"] = timeline.landing_day(tx["ts_s"].to_numpy())
    points = _points(rng, tx, records[LOYALTY_MEMBERS.source], timeline)
    spend = _spend_12m(tx, timeline, n_people)
    return Activity(transactions=tx, points=points, spend_12m_vnd=spend)


def _purchases(
    rng: np.random.Generator,
    cfg: PopulationConfig,
    cum_weight: np.ndarray,
    lo_day: np.ndarray,
    first_created: np.ndarray,
    timeline: Timeline,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Buyer, day index and timestamp of every purchase: a yearly rate per person over their
    active days, the day by inverse CDF of the seasonal weights."""
    n_people = len(first_created)
    in_window = first_created < timeline.end_s
    day0_s = timeline.history_start_s
    orders_per_year = rng.lognormal(
        np.log(cfg.orders_per_year_median), cfg.orders_per_year_sigma, n_people
    )
    expected = orders_per_year / 365.0 * (cum_weight[-1] - cum_weight[lo_day]) * in_window
    buyer = np.repeat(np.arange(n_people), rng.poisson(expected))
    n = len(buyer)

    # Day by inverse CDF of the seasonal weights, restricted to the buyer's active days.
    low = cum_weight[lo_day[buyer]]
    u = low + rng.random(n) * (cum_weight[-1] - low)
    day_idx = np.clip(np.searchsorted(cum_weight, u, side="right") - 1, 0, len(cum_weight) - 2)
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    ts = day0_s + day_idx * SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, n)
    ts = np.clip(np.maximum(ts, first_created[buyer] + 60), None, timeline.end_s - 1)
    return buyer, day_idx, ts


def _record_refs(records: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every record a purchase can reference, sorted by person and creation time."""
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "ref_type": source,
                    "person_idx": recs["person_idx"],
                    "record_id": recs["record_id"],
                    "created_s": recs["created_s"],
                }
            )
            for source, recs in records.items()
        ],
        ignore_index=True,
    ).sort_values(["person_idx", "created_s", "ref_type", "record_id"], ignore_index=True)


def _customer_refs(
    rng: np.random.Generator,
    refs: pd.DataFrame,
    buyer: np.ndarray,
    ts: np.ndarray,
    guest_share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One of the buyer's records that existed at the time (keys sorted per person); guests none."""
    n = len(buyer)
    base = int(refs["created_s"].min()) - 1
    span = 10**10
    keys = refs["person_idx"].to_numpy() * span + (refs["created_s"].to_numpy() - base)
    first = np.searchsorted(keys, buyer * span, side="left")
    last = np.searchsorted(keys, buyer * span + (ts - base), side="right")
    chosen = first + (rng.random(n) * (last - first)).astype(np.int64)
    ref_type = refs["ref_type"].to_numpy(dtype=object)[chosen]
    ref_id = refs["record_id"].to_numpy(dtype=object)[chosen]
    guest = rng.random(n) < guest_share
    ref_type[guest] = ""
    ref_id[guest] = ""
    return ref_type, ref_id


def _basket_lines(
    rng: np.random.Generator, seed: int, buyer: np.ndarray, n_people: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Category index, SKU, unit price and quantity of each purchase."""
    n = len(buyer)
    category_idx = rng.choice(len(CATEGORIES), size=n, p=_normalised([c.share for c in CATEGORIES]))
    sku_prices = _catalogue(seed)
    sku_in_category = (
        rng.random(n) ** 2 * np.array([c.skus for c in CATEGORIES])[category_idx]
    ).astype(np.int64)
    product_sku = (
        np.array([c.sku_prefix for c in CATEGORIES], dtype=object)[category_idx]
        + "-"
        + zero_pad(sku_in_category, 4)
    )
    sku_offset = np.concatenate([[0], np.cumsum([len(p) for p in sku_prices])[:-1]])
    unit_price = np.concatenate(sku_prices)[sku_offset[category_idx] + sku_in_category]
    basket_size = rng.lognormal(0.0, 0.5, n_people)[buyer]
    everyday = np.array([c.median_price_vnd < EVERYDAY_PRICE_VND for c in CATEGORIES])[category_idx]
    quantity = np.where(everyday, 1 + rng.poisson(0.6 * basket_size), 1)
    return category_idx, product_sku, unit_price, quantity


def _spend_12m(tx: pd.DataFrame, timeline: Timeline, n_people: int) -> np.ndarray:
    """Each person's completed spend in the year up to the end of the start day."""
    window_end = timeline.start_s + SECONDS_PER_DAY
    in_year = (
        (tx["status"] == "completed")
        & (tx["ts_s"] < window_end)
        & (tx["ts_s"] >= window_end - 365 * SECONDS_PER_DAY)
    )
    return np.bincount(tx["person_idx"][in_year], weights=tx["amount"][in_year], minlength=n_people)


def tiers_for_spend(spend_vnd: np.ndarray) -> np.ndarray:
    """Loyalty tier for a year's spend (thresholds in ``LOYALTY_TIERS``)."""
    names = np.array([name for name, _ in LOYALTY_TIERS], dtype=object)
    thresholds = np.array([t for _, t in LOYALTY_TIERS[1:]])
    return names[np.searchsorted(thresholds, spend_vnd, side="right")]


def iso_timestamps(seconds: np.ndarray, offset: bool) -> np.ndarray:
    """ISO 8601 local times, e.g. ``2025-01-28T19:04:11+07:00`` (or without the offset)."""
    text = np.datetime_as_string(np.asarray(seconds, dtype="datetime64[s]"), unit="s")
    return (text.astype(object) + "+07:00") if offset else text.astype(object)


def _normalised(weights: list[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _choice(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    values = np.array([v for v, _ in table], dtype=object)
    return values[rng.choice(len(values), size=n, p=_normalised([w for _, w in table]))]


def _catalogue(seed: int) -> list[np.ndarray]:
    """Unit price of every SKU (VND, rounded to 1,000), fixed for a seed."""
    rng = stage_rng(seed, "catalogue")
    return [
        np.maximum(
            np.round(rng.lognormal(np.log(c.median_price_vnd), 0.6, c.skus), -3), 5_000
        ).astype(np.int64)
        for c in CATEGORIES
    ]


def _store_ids(
    rng: np.random.Generator, channel: np.ndarray, province_idx: np.ndarray, cfg: PopulationConfig
) -> np.ndarray:
    """Store purchases mostly happen in the buyer's province; others carry a channel code."""
    n = len(channel)
    per_province = np.array(
        [
            max(1, round(p.population_millions * cfg.stores_per_million_people))
            for p in PROVINCES_PRE_2025
        ]
    )
    codes = np.array([p.cccd_code for p in PROVINCES_PRE_2025], dtype=object)
    away = rng.random(n) < 0.2
    province = np.where(away, rng.integers(0, len(codes), n), province_idx)
    number = (rng.random(n) * per_province[province]).astype(np.int64) + 1
    out = "ST" + codes[province] + zero_pad(number, 2)
    for name, ids in NON_STORE_IDS.items():
        mask = channel == name
        out[mask] = _choice(rng, ids, int(mask.sum()))
    return out


def _vouchers(
    rng: np.random.Generator, dates: np.ndarray, day_idx: np.ndarray, gross: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Voucher code (or "") and discount (VND) per transaction; seasonal codes in season.

    Args:
        rng: the activity generator.
        dates: every date of the window.
        day_idx: each transaction's index into ``dates``.
        gross: each transaction's quantity x unit price.
    """
    n = len(day_idx)
    tet = np.array(TET_DATES, dtype="datetime64[D]")
    nearest = tet[np.clip(np.searchsorted(tet, dates), 0, len(tet) - 1)]
    to_tet = (dates - nearest).astype(np.int64)
    in_tet_by_day = (to_tet >= -21) & (to_tet <= -1)
    month_day_by_day = pd.DatetimeIndex(dates).strftime("%m%d").to_numpy(dtype=object)
    double_day_by_day = np.isin(month_day_by_day, ["1111", "1212"])
    lunar_year = pd.DatetimeIndex(nearest).year.to_numpy().astype(str).astype(object)
    seasonal_code_by_day = np.where(in_tet_by_day, "TET" + lunar_year, "SALE" + month_day_by_day)
    in_tet, double_day = in_tet_by_day[day_idx], double_day_by_day[day_idx]
    seasonal = in_tet | double_day
    use = rng.random(n) < np.where(seasonal, 0.30, 0.10)

    codes = np.array(list(VOUCHERS), dtype=object)
    code_idx = rng.integers(0, len(codes), n)
    share = np.array([VOUCHERS[c][0] for c in codes])[code_idx]
    cap = np.array([VOUCHERS[c][1] for c in codes])[code_idx]
    code = np.where(seasonal, seasonal_code_by_day[day_idx], codes[code_idx])
    share = np.where(seasonal, SEASONAL_VOUCHER[0], share)
    cap = np.where(seasonal, SEASONAL_VOUCHER[1], cap)

    discount = np.minimum(np.round(gross * share, -3), cap)
    discount = np.minimum(discount, gross)
    return np.where(use, code, ""), np.where(use, discount, 0).astype(np.int64)


def _payments(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    n = len(channel)
    methods = np.array(PAYMENT_METHODS, dtype=object)
    in_store = methods[rng.choice(len(methods), size=n, p=_normalised(PAYMENT_SHARES["store"]))]
    online = methods[rng.choice(len(methods), size=n, p=_normalised(PAYMENT_SHARES["online"]))]
    return np.where(channel == "store", in_store, online)


def _points(
    rng: np.random.Generator, tx: pd.DataFrame, members: pd.DataFrame, timeline: Timeline
) -> pd.DataFrame:
    """Point events: earn on member purchases; adjust back on refunds; redeem; expire; welcome."""
    end = timeline.end_s
    member_tx = tx[
        (tx["customer_ref_type"] == LOYALTY_MEMBERS.source) & (tx["status"] != "cancelled")
    ]
    earned = (member_tx["amount"].to_numpy() // POINT_VALUE_VND).astype(np.int64)
    member_tx = member_tx[earned > 0]
    frames = _purchase_point_events(rng, member_tx, earned[earned > 0], end)
    joined = members[
        (members["created_s"] >= timeline.history_start_s) & (members["created_s"] < end)
    ]
    frames.append(
        _events(
            joined["record_id"].to_numpy(dtype=object),
            joined["created_s"].to_numpy() + 1,
            ADJUST,
            np.full(len(joined), WELCOME_POINTS),
            np.full(len(joined), "WELCOME", dtype=object),
        )
    )
    points = pd.concat(frames, ignore_index=True)
    points = points[points["ts_s"] < end]
    type_rank = points["event_type"].map({t: i for i, t in enumerate(POINT_EVENT_TYPES)})
    points = points.assign(_rank=type_rank).sort_values(
        ["ts_s", "member_id", "_rank", "reference"], ignore_index=True
    )
    points = points.drop(columns="_rank")
    points.insert(0, "entry_id", "PE" + zero_pad(np.arange(1, len(points) + 1), 10))
    points["event_ts"] = iso_timestamps(points["ts_s"].to_numpy(), offset=False)
    points["landed_day"] = timeline.landing_day(points["ts_s"].to_numpy())
    columns = ["entry_id", "member_id", "event_ts", "event_type", "points", "reference", "ts_s"]
    return points[[*columns, "landed_day"]]


def _purchase_point_events(
    rng: np.random.Generator, member_tx: pd.DataFrame, earned: np.ndarray, end: int
) -> list[pd.DataFrame]:
    """Earn, refund-adjust, redeem and expire events of member purchases earning points."""
    day = SECONDS_PER_DAY
    tx_ts = member_tx["ts_s"].to_numpy()
    member = member_tx["customer_ref"].to_numpy(dtype=object)
    tx_id = member_tx["transaction_id"].to_numpy(dtype=object)
    refunded = (member_tx["status"] == "refunded").to_numpy()
    earn_ts = np.minimum(tx_ts + rng.integers(0, 120, len(tx_ts)), end - 1)
    frames = [_events(member, earn_ts, EARN, earned, tx_id)]

    refund_ts = tx_ts[refunded] + rng.integers(1, 15, refunded.sum()) * day
    frames.append(_events(member[refunded], refund_ts, ADJUST, -earned[refunded], tx_id[refunded]))

    n = len(tx_ts)
    redeem = ~refunded & (earned >= 10) & (rng.random(n) < 0.25)
    redeem_ts = tx_ts[redeem] + rng.integers(3, 91, redeem.sum()) * day
    redeemed = -np.maximum(1, np.round(earned[redeem] * rng.uniform(0.5, 1.0, redeem.sum())))
    voucher = "RDM" + zero_pad(np.arange(1, redeem.sum() + 1), 8)
    frames.append(_events(member[redeem], redeem_ts, REDEEM, redeemed.astype(np.int64), voucher))

    expire = ~refunded & ~redeem & (rng.random(n) < 0.30)
    expire_ts = tx_ts[expire] + POINTS_EXPIRE_DAYS * day
    expiry_month = (
        pd.DatetimeIndex(expire_ts.astype("datetime64[s]"))
        .strftime("EXP%Y%m")
        .to_numpy(dtype=object)
    )
    frames.append(_events(member[expire], expire_ts, EXPIRE, -earned[expire], expiry_month))
    return frames


def _events(
    member: np.ndarray, ts: np.ndarray, kind: str, points: np.ndarray, reference: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member_id": member,
            "ts_s": ts,
            "event_type": kind,
            "points": points,
            "reference": reference,
        }
    )
