"""Transactions and points: valid references, arithmetic, seasonality, long tail, balances."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from c360.contract import (
    CUSTOMER_REF_TYPES,
    LOYALTY_MEMBERS,
    LOYALTY_POINTS,
    PERSON_SOURCES,
    POINT_EVENT_TYPES,
    TRANSACTIONS,
)
from c360.sample.activity import CATEGORIES, CHANNELS, PAYMENT_METHODS, POINT_VALUE_VND
from c360.sample.config import PopulationConfig


@pytest.fixture(scope="module")
def tx(landing) -> pd.DataFrame:
    frame = landing.read_all(TRANSACTIONS)
    for column in ("quantity", "unit_price", "discount", "amount"):
        frame[column] = frame[column].astype(np.int64)
    frame["date"] = frame["transaction_ts"].str[:10]
    return frame


@pytest.fixture(scope="module")
def points(landing) -> pd.DataFrame:
    frame = landing.read_all(LOYALTY_POINTS)
    frame["points"] = frame["points"].astype(np.int64)
    return frame


def _first_landed_day(landing) -> dict[str, pd.Series]:
    return {
        source: landing.read_all(entity).groupby(entity.key_column)["_day"].min()
        for source, entity in PERSON_SOURCES.items()
    }


def test_references_exist_by_that_day_or_are_guests(landing, tx):
    assert set(tx["customer_ref_type"]) == set(CUSTOMER_REF_TYPES)
    guest = tx["customer_ref_type"] == ""
    assert (tx.loc[guest, "customer_ref"] == "").all()
    first_day = _first_landed_day(landing)
    for source, days in first_day.items():
        refs = tx[tx["customer_ref_type"] == source]
        landed_on = refs["customer_ref"].map(days)
        assert landed_on.notna().all(), f"{source} refs to unknown records"
        assert (landed_on <= refs["_day"]).all(), f"{source} refs to records not landed yet"
    share = PopulationConfig().guest_share
    n = len(tx)
    assert abs(guest.sum() - share * n) <= 4 * np.sqrt(n * share * (1 - share))


def test_transaction_days_history_and_ids(landing, tx):
    start = landing.config.start
    history_start = start - timedelta(days=landing.config.history_days)
    day_one = tx[tx["_day"] == 0]
    assert day_one["date"].min() >= history_start.isoformat()
    assert day_one["date"].max() == start.isoformat()
    for i, day in enumerate(landing.days[1:], start=1):
        assert (tx.loc[tx["_day"] == i, "date"] == day.isoformat()).all()
        assert (tx["_day"] == i).sum() > 0
    assert tx["transaction_id"].is_unique
    assert tx["transaction_ts"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00").all()


def test_amounts_add_up_in_vnd(tx):
    assert (tx["amount"] == tx["quantity"] * tx["unit_price"] - tx["discount"]).all()
    assert (tx["discount"] >= 0).all() and (tx["amount"] >= 0).all()
    assert (tx["quantity"] >= 1).all()
    assert (tx["unit_price"] % 1000 == 0).all()  # prices are whole thousands of dong
    assert set(tx["currency"]) == {"VND"}
    assert ((tx["voucher_code"] != "") | (tx["discount"] == 0)).all()
    assert (tx["voucher_code"] != "").mean() > 0.05


def test_vocabularies(tx):
    assert set(tx["channel"]) == {c for c, _ in CHANNELS}
    assert set(tx["payment_method"]) == set(PAYMENT_METHODS)
    assert set(tx["status"]) == {"completed", "refunded", "cancelled"}
    assert tx["product_category"].nunique() >= 12
    assert set(tx["product_category"]) <= {c.name for c in CATEGORIES}
    stores = tx.loc[tx["channel"] == "store", "store_id"]
    assert stores.str.fullmatch(r"ST\d{5}").all()


def test_tet_peak_and_weekly_seasonality(tx):
    daily = tx[tx["_day"] == 0].groupby("date").size()
    daily.index = pd.to_datetime(daily.index)
    tet = pd.Timestamp(date(2025, 1, 29))  # Tết 2025 is inside the year of history
    before_tet = daily[(daily.index >= tet - pd.Timedelta(days=14)) & (daily.index < tet)]
    ordinary = daily[
        (daily.index < tet - pd.Timedelta(days=30)) | (daily.index > tet + pd.Timedelta(days=30))
    ]
    assert before_tet.mean() > 1.5 * ordinary.mean()
    by_weekday = ordinary.groupby(ordinary.index.dayofweek).mean()
    assert by_weekday[5] > 1.15 * by_weekday[1]  # Saturday busier than Tuesday


def test_spend_is_long_tailed(landing, tx):
    truth = landing.truth_csv("person_truth.csv")
    known = tx[(tx["customer_ref_type"] != "") & (tx["status"] == "completed")]
    known = known.merge(
        truth,
        left_on=["customer_ref_type", "customer_ref"],
        right_on=["source_system", "source_record_id"],
    )
    spend = known.groupby("person_id")["amount"].sum().sort_values(ascending=False)
    top_decile = spend.iloc[: len(spend) // 10].sum() / spend.sum()
    assert top_decile > 0.35


def test_points_reference_members_and_balances_never_go_negative(landing, tx, points):
    assert set(points["event_type"]) == set(POINT_EVENT_TYPES)
    members = _first_landed_day(landing)[LOYALTY_MEMBERS.source]
    landed_on = points["member_id"].map(members)
    assert landed_on.notna().all()
    assert (landed_on <= points["_day"]).all()
    assert points["entry_id"].is_unique
    for i, day in enumerate(landing.days[1:], start=1):
        assert (points.loc[points["_day"] == i, "event_ts"].str[:10] == day.isoformat()).all()

    ordered = points.sort_values(["event_ts", "entry_id"])
    running = ordered.groupby("member_id")["points"].cumsum()
    assert running.min() >= 0

    earn = points[points["event_type"] == "earn"].merge(
        tx, left_on="reference", right_on="transaction_id"
    )
    assert len(earn) == (points["event_type"] == "earn").sum()
    assert (earn["customer_ref"] == earn["member_id"]).all()
    assert (earn["points"] == earn["amount"] // POINT_VALUE_VND).all()
    assert set(earn["status"]) <= {"completed", "refunded"}


def test_member_tiers_and_statuses(landing):
    members = landing.read(LOYALTY_MEMBERS, landing.days[0])
    assert set(members["tier"]) == {"member", "silver", "gold", "platinum"}
    assert set(members["status"]) <= {"active", "inactive", "locked"}
    assert members["card_number"].str.fullmatch(r"8868\d{12}").all()
    assert members["card_number"].is_unique
