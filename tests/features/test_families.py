"""Every feature family against values computed by hand for three customers (full spec).

As of D = 2026-03-01 (a Sunday), with ``days_ago`` 1 = 2026-02-28 (a Saturday):

C1 (records crm:CT1 and loyalty:LM1, both resolved to C1)
  t1  1 day ago   100,000 store grocery cash, 2 units, ST1, GRO-1, 10:00
  t2  5 days ago  300,000 web beauty momo, 1 unit, WEB, BTY-1, 20:00, voucher SALE10 -30,000
  t3  20 days ago 200,000 store grocery card, 3 units, ST2, GRO-2
  t4  100 days ago 50,000 store grocery cash, ST1, GRO-1
  t5  3 days ago   80,000 store grocery, refunded
  t7  10 days ago  40,000 app, cancelled
  t6  on D itself 999,000 (must not count: features use events strictly before D)
  points of LM1: earn 100 (10 d), redeem -40 (5 d), expire landed as +10 (2 d), adjust -20
  (3 d), earn 50 on D (must not count); card gold / active, enrolled 500 d, updated 60 d ago
C2 (erp:KH2, loyalty:LM2): t8 40 d ago 500,000 store electronics card; t9 400 d ago 120,000
  marketplace fashion vnpay; card LM2 enrolled 200 d ago but updated on D (tier unknown at D)
C3: first seen 30 days ago, no events. C4: first seen on D: not yet a customer at D.
Also a guest sale and a sale by an unresolved record (crm:CT9): neither belongs to anyone.
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from feature_tables import AS_OF, golden, identity, member, points, tx, write_tables

from features.compiler import build_customer_features
from features.events import read_feature_inputs
from features.spec import expand, load_spec

pytestmark = pytest.mark.spark

TRANSACTIONS = [
    tx("crm:CT1", 1, 100_000, quantity=2, store="ST1", sku="GRO-1"),
    tx("loyalty:LM1", 5, 300_000, channel="web", category="beauty", payment="momo",
       store="WEB", sku="BTY-1", hour=20, voucher="SALE10", discount=30_000),
    tx("crm:CT1", 20, 200_000, payment="card", quantity=3, store="ST2", sku="GRO-2"),
    tx("crm:CT1", 100, 50_000, store="ST1", sku="GRO-1"),
    tx("crm:CT1", 3, 80_000, status="refunded"),
    tx("crm:CT1", 0, 999_000),
    tx("crm:CT1", 10, 40_000, channel="app", status="cancelled"),
    tx("erp:KH2", 40, 500_000, category="electronics", payment="card", store="ST3", sku="ELC-1"),
    tx("erp:KH2", 400, 120_000, channel="marketplace", category="fashion", payment="vnpay",
       store="MKP-SHOPEE", sku="FSH-1"),
    tx(None, 2, 70_000),
    tx("crm:CT9", 2, 10_000),
]  # fmt: skip
IDENTITY = [
    identity("crm:CT1", "C1"),
    identity("loyalty:LM1", "C1"),
    identity("erp:KH2", "C2"),
    identity("loyalty:LM2", "C2"),
]
GOLDEN = [
    golden("C1", 400, gender="female", date_of_birth=date(1990, 3, 2), region="south",
           province="Hồ Chí Minh", phone_e164="+84912345678", email="an@example.vn",
           consent_email=True, linked_records_crm=1, linked_records_erp=0,
           linked_records_loyalty=1),
    golden("C2", 500, gender="male", date_of_birth=date(1970, 1, 15), region="north",
           province="Hà Nội", email="binh@example.vn", consent_email=False,
           linked_records_erp=1, linked_records_loyalty=1),
    golden("C3", 30),
    golden("C4", 0),
]  # fmt: skip
POINTS = [
    points("LM1", 10, "earn", 100),
    points("LM1", 5, "redeem", -40),
    points("LM1", 2, "expire", 10),
    points("LM1", 3, "adjust", -20),
    points("LM1", 0, "earn", 50),
]
MEMBERS = [member("LM1", "gold", "active", 500, 60), member("LM2", "silver", "active", 200, 0)]


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory):
    """The full spec built once over the hand-made tables: {customer_id: row dict}, schema."""
    from c360.lakehouse import Lakehouse

    lake = Lakehouse(tmp_path_factory.mktemp("families") / "lake", spark)
    write_tables(lake, TRANSACTIONS, IDENTITY, GOLDEN, POINTS, MEMBERS)
    spec = load_spec()
    features = expand(spec)
    table = build_customer_features(read_feature_inputs(lake), spec, AS_OF, features).table
    rows = {row["customer_id"]: row for row in table.to_pylist()}
    return rows, table.schema, features


@pytest.fixture(scope="module")
def c1(built):
    return built[0]["C1"]


@pytest.fixture(scope="module")
def c2(built):
    return built[0]["C2"]


@pytest.fixture(scope="module")
def c3(built):
    return built[0]["C3"]


def test_population_is_the_customers_known_before_d(built):
    # C4 was first seen on D itself; the guest and the unresolved record belong to nobody
    assert sorted(built[0]) == ["C1", "C2", "C3"]
    assert {row["as_of_date"] for row in built[0].values()} == {AS_OF}


def test_catalog_matches_the_table_columns_exactly(built):
    _, schema, features = built
    assert schema.names == ["customer_id", "as_of_date", *[f.name for f in features]]
    from pyspark.sql.pandas.types import from_arrow_type

    for feature in features:
        spark_type = from_arrow_type(schema.field(feature.name).type).simpleString()
        assert spark_type == feature.dtype, feature.name


def test_transactions_family(c1, c2, c3):
    # t1 and t2 are within 7 days; t6 on D is excluded; refunded / cancelled are no purchases
    assert c1["tx_count_d7"] == 2
    assert c1["tx_amount_sum_d7"] == 400_000.0
    assert c1["tx_amount_mean_d7"] == 200_000.0
    assert (c1["tx_amount_max_d7"], c1["tx_amount_min_d7"]) == (300_000.0, 100_000.0)
    # d30 adds t3: amounts 100k, 300k, 200k -> sample std 100k; units 2 + 1 + 3
    assert c1["tx_amount_std_d30"] == pytest.approx(100_000.0)
    assert c1["tx_quantity_sum_d30"] == 6
    assert c1["tx_basket_size_d30"] == 2.0
    assert c1["tx_distinct_days_d30"] == 3
    assert c1["tx_distinct_stores_d30"] == 3  # ST1, WEB, ST2
    assert c1["tx_distinct_products_d30"] == 3
    # lifetime adds t4 (100 days ago), same store and product as t1
    assert (c1["tx_count_life"], c1["tx_amount_sum_life"]) == (4, 650_000.0)
    assert (c1["tx_distinct_stores_life"], c1["tx_distinct_products_life"]) == (3, 3)
    assert c1["tx_count_d90"] == 3 and c1["tx_count_d180"] == 4
    # slices
    assert (c1["tx_count_ch_store_d30"], c1["tx_amount_sum_ch_store_d30"]) == (2, 300_000.0)
    assert c1["tx_count_ch_web_d7"] == 1
    assert c1["tx_count_cat_grocery_life"] == 3
    assert c1["tx_amount_mean_cat_grocery_life"] == pytest.approx(350_000 / 3)
    assert (c1["tx_count_pay_cash_life"], c1["tx_amount_sum_pay_cash_life"]) == (2, 150_000.0)
    assert (c1["tx_count_dp_morning_d7"], c1["tx_count_dp_evening_d7"]) == (1, 1)
    assert (c1["tx_count_dt_weekend_d7"], c1["tx_count_dt_weekday_d7"]) == (1, 1)
    # C2: one purchase in the last year, one 400 days ago; C3 never bought: zeros and nulls
    assert (c2["tx_count_d365"], c2["tx_count_life"]) == (1, 2)
    assert c2["tx_count_cat_fashion_life"] == 1 and c2["tx_count_cat_fashion_d365"] == 0
    assert (c3["tx_count_life"], c3["tx_amount_sum_life"]) == (0, 0.0)
    assert c3["tx_amount_mean_life"] is None and c3["tx_amount_max_life"] is None


def test_recency_and_first_use(c1, c2, c3):
    assert (c1["rec_days_since_last"], c1["rec_days_since_first"]) == (1, 100)
    assert c1["rec_days_since_last_ch_web"] == 5
    assert c1["rec_days_since_first_cat_beauty"] == 5
    assert c1["rec_days_since_last_ch_app"] is None  # the app order was cancelled
    # store (100 days ago) came before web (5 days ago); grocery before beauty
    assert (c1["rec_first_rank_ch_store"], c1["rec_first_rank_ch_web"]) == (1, 2)
    assert c1["rec_first_rank_ch_app"] is None
    assert (c1["rec_first_rank_cat_grocery"], c1["rec_first_rank_cat_beauty"]) == (1, 2)
    assert (c1["rec_first_channel"], c1["rec_last_channel"]) == ("store", "store")
    assert (c1["rec_first_payment"], c1["rec_last_payment"]) == ("cash", "cash")
    # spend in 365 days: store 350k > web 300k; grocery 350k > beauty 300k; momo 300k >
    # card 200k > cash 150k
    assert (c1["rec_top_channel"], c1["rec_top_category"], c1["rec_top_payment"]) == (
        "store", "grocery", "momo"
    )  # fmt: skip
    # C2 bought fashion first (400 days ago) and electronics later
    assert (c2["rec_first_category"], c2["rec_last_category"]) == ("fashion", "electronics")
    assert c2["rec_top_category"] == "electronics"  # fashion is older than 365 days
    assert c3["rec_first_channel"] is None and c3["rec_days_since_last"] is None


def test_trends(c1, c2, c3):
    # 30 vs previous 30 days: 3 purchases against none
    assert c1["trend_count_delta_30v30"] == 3.0
    assert c1["trend_count_change_30v30"] == 1.0
    # 90 vs 365 days scaled to 90 (x 90/365 = 0.246575): 600k against 650k x 0.246575
    assert c1["trend_amount_delta_90v365"] == pytest.approx(600_000 - 650_000 * 0.246575)
    baseline = 4 * 0.246575
    assert c1["trend_count_change_90v365"] == pytest.approx((3 - baseline) / (3 + baseline))
    # C2: nothing in the last 30 days, t8 (40 days ago) in the 30 before them
    assert (c2["trend_count_delta_30v30"], c2["trend_count_change_30v30"]) == (-1.0, -1.0)
    # C3: nothing in either window: no change to speak of
    assert (c3["trend_count_delta_30v30"], c3["trend_count_change_30v30"]) == (0.0, None)


def test_refunds_and_cancellations(c1, c2):
    # within 7 days: t1, t2 completed and t5 refunded -> 1 refund of 3 orders
    assert (c1["ref_refund_count_d7"], c1["ref_refund_amount_d7"]) == (1, 80_000.0)
    assert c1["ref_refund_rate_d7"] == pytest.approx(1 / 3)
    # within 30 days: t1, t2, t3, t5, t7 ordered; t7 cancelled -> 1 of 5
    assert (c1["ref_cancel_count_d30"], c1["ref_cancel_amount_d30"]) == (1, 40_000.0)
    assert c1["ref_cancel_rate_d30"] == pytest.approx(0.2)
    assert c1["ref_cancel_count_ch_app_d90"] == 1
    assert c1["ref_refund_count_cat_grocery_d365"] == 1
    assert c2["ref_refund_rate_life"] == 0.0


def test_vouchers(c1, c2):
    assert (c1["vch_used_count_d7"], c1["vch_discount_sum_d7"]) == (1, 30_000.0)
    assert c1["vch_discount_mean_d7"] == 30_000.0
    assert c1["vch_distinct_codes_d7"] == 1
    assert c1["vch_used_share_d7"] == 0.5  # 1 of 2 purchases
    # discount / amount before discount: 30k / (100k + 330k)
    assert c1["vch_discount_rate_d7"] == pytest.approx(30_000 / 430_000)
    assert c1["vch_used_count_camp_sale10_d365"] == 1
    assert c1["vch_used_count_camp_tet_d365"] == 0
    assert c1["vch_used_count_ch_web_d30"] == 1
    assert c2["vch_used_count_life"] == 0 and c2["vch_discount_mean_life"] is None


def test_loyalty_points(c1, c3):
    # signed: earn +100, redeem -40, expire -10 (landed +10), adjust -20; the earn on D excluded
    assert c1["loy_points_balance"] == 30
    assert c1["loy_points_net_life"] == 30
    assert (c1["loy_points_earned_d7"], c1["loy_points_earned_d30"]) == (0, 100)
    assert c1["loy_points_redeemed_d7"] == 40
    assert c1["loy_points_expired_d7"] == 10
    assert c1["loy_points_adjusted_d7"] == -20
    assert c1["loy_points_net_d7"] == -70
    assert c1["loy_vouchers_collected_d7"] == 1
    assert c1["loy_earn_events_d30"] == 1
    assert (c1["loy_days_since_last_event_life"], c1["loy_days_since_last_redeem_life"]) == (2, 5)
    assert c3["loy_points_balance"] == 0 and c3["loy_days_since_last_event_life"] is None


def test_loyalty_status(c1, c2, c3):
    assert (c1["loy_is_member"], c1["loy_member_cards"]) == (1, 1)
    assert (c1["loy_tier"], c1["loy_tier_rank"], c1["loy_tier_tenure_days"]) == ("gold", 3, 60)
    assert c1["loy_membership_tenure_days"] == 500
    assert (c1["loy_card_status"], c1["loy_card_active"]) == ("active", 1)
    # C2's card was last changed on D: its tier and status at D are unknown, not leaked
    assert (c2["loy_is_member"], c2["loy_membership_tenure_days"]) == (1, 200)
    assert (c2["loy_tier"], c2["loy_tier_rank"], c2["loy_card_status"]) == (None, None, None)
    assert c2["loy_card_active"] == 0
    assert (c3["loy_is_member"], c3["loy_member_cards"], c3["loy_tier"]) == (0, 0, None)


def test_rfm(c1, c2, c3):
    # quantiles (0.2, 0.4, 0.6, 0.8) over C1 and C2: recency [1, 1, 40, 40], frequency
    # [1, 1, 4, 4], monetary [500k, 500k, 650k, 650k]; a score counts thresholds passed
    assert (c1["rfm_recency_days"], c1["rfm_frequency"], c1["rfm_monetary"]) == (1, 4, 650_000.0)
    assert (c1["rfm_r_score"], c1["rfm_f_score"], c1["rfm_m_score"]) == (5, 3, 3)
    assert (c1["rfm_code"], c1["rfm_total_score"]) == (533, 11)
    assert c1["rfm_segment"] == "potential_loyalist"  # r 4-5, f 2-3
    assert (c2["rfm_r_score"], c2["rfm_f_score"], c2["rfm_m_score"]) == (3, 1, 1)
    assert c2["rfm_segment"] == "promising"  # r 3, f 1-2
    assert c3["rfm_segment"] == "no_purchase" and c3["rfm_r_score"] is None


def test_customer_lifetime_value(c1, c2, c3):
    # C1: 4 purchases in 365 days, first 100 days ago -> 4 x 365 / 100 = 14.6 a year; order
    # value 650k / 4; alive = exp(-1 day x 14.6 / (2 x 365)); margin 25%
    per_year, order_value = 14.6, 162_500.0
    alive = math.exp(-1 * per_year / 730)
    annual = per_year * order_value * 0.25
    assert c1["clv_purchases_per_year"] == pytest.approx(per_year)
    assert c1["clv_avg_order_value"] == order_value
    assert c1["clv_probability_alive"] == pytest.approx(alive)
    assert c1["clv_annual_margin"] == pytest.approx(annual)
    assert c1["clv_estimate_1y"] == pytest.approx(annual * alive / 1.1)
    three_years = 1 / 1.1 + 0.65 / 1.1**2 + 0.65**2 / 1.1**3
    assert c1["clv_estimate_3y"] == pytest.approx(annual * alive * three_years)
    assert c1["clv_historic_margin"] == 650_000 * 0.25
    # C2: 1 purchase in 365 days, first 400 days ago -> 1 a year; last 40 days ago
    assert c2["clv_purchases_per_year"] == pytest.approx(1.0)
    assert c2["clv_probability_alive"] == pytest.approx(math.exp(-40 / 730))
    assert (c3["clv_estimate_5y"], c3["clv_probability_alive"]) == (0.0, None)


def test_profile(c1, c2, c3):
    # born 1990-03-02: 35 on 2026-03-01 (the 36th birthday is the day after D)
    assert (c1["prof_age_years"], c1["prof_age_band"]) == (35, "35-44")
    assert (c1["prof_gender"], c1["prof_is_female"]) == ("female", 1)
    assert (c1["prof_region"], c1["prof_province"]) == ("south", "Hồ Chí Minh")
    assert c1["prof_tenure_days"] == 400
    assert (c1["prof_linked_records_crm"], c1["prof_linked_sources"]) == (1, 2)
    assert (c1["prof_has_phone"], c1["prof_has_email"]) == (1, 1)
    assert (c1["prof_consent_email"], c1["prof_consent_sms"]) == (1, None)
    assert (c1["prof_contactable_email"], c1["prof_contactable_sms"]) == (1, 0)
    assert (c2["prof_age_years"], c2["prof_age_band"], c2["prof_is_female"]) == (56, "55-64", 0)
    assert (c2["prof_has_phone"], c2["prof_consent_email"], c2["prof_contactable_email"]) == (
        0, 0, 0
    )  # fmt: skip
    assert (c3["prof_tenure_days"], c3["prof_age_years"], c3["prof_linked_sources"]) == (
        30, None, 0
    )  # fmt: skip
