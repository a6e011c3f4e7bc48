"""The numpy engine and the Arrow assembly on hand-made inputs (pure logic, no Spark).

Two customers, as of D (``days_ago`` 1 = the day before D):

C1  store 100 (1 day ago), web 300 (5), store 50 (40), store 80 not a purchase (3)
C2  web 20 and web 30 on the same day (10), web purchase with no amount (12)
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from features.assemble import AssemblyError, join_on_customer
from features.engine import ClusterJob, SourceJob, no_event_values, partition_function
from features.spec import Comparison, Measure
from features.transport import read_output


def measure(name: str, agg: str, dtype: str = "double", **kwargs) -> Measure:
    return Measure(name=name, agg=agg, dtype=dtype, en=name, vi=name, **kwargs)


MEASURES = {
    m.name: m
    for m in (
        measure("cnt", "count", "bigint", where="purchase", fill=0),
        measure("amt", "sum", value="amount", where="purchase", fill=0),
        measure("amax", "max", value="amount", where="purchase"),
        measure("astd", "std", value="amount", where="purchase"),
        measure("mean", "ratio", numerator="amt", denominator="cnt"),
        measure("days", "distinct", "bigint", value="day", where="purchase"),
        measure("first", "first_days_ago", "int", where="purchase"),
        measure("rank", "first_rank", "int", of="first"),
        measure("chg", "change", of="amt"),
    )
}
SLOTS = [
    ("cnt", "d30", "bigint"),
    ("mean", "life", "double"),
    ("astd", "life", "double"),
    ("days", "life", "bigint"),
    ("chg", "c", "double"),
    ("amax", "life", "double"),
]
CLUSTER = ClusterJob(
    index=0,
    keys=["all", "ch_store", "ch_web"],
    key_dimensions=["all", "channel", "channel"],
    pairs=[("cnt", "d30"), ("cnt", "life"), ("amt", "d30"), ("amt", "life"), ("amt", "p30"),
           ("amax", "life"), ("astd", "life"), ("days", "life"), ("first", "life"),
           ("rank", "life")],
    slots=SLOTS,
)  # fmt: skip
JOB = SourceJob(
    clusters=[CLUSTER],
    internal_cluster=-1,
    internal_layout=[(0, "ch_store", "rank", "life"), (0, "ch_web", "rank", "life"),
                     (0, "all", "first", "life")],
    measures=MEASURES,
    windows={"d30": (1, 30), "life": (1, None), "p30": (31, 60)},
    comparisons={"c": Comparison("c", current="d30", baseline="p30", scale=1.0, en="", vi="")},
)  # fmt: skip
EVENTS = [  # customer, days_ago, amount, purchase, channel
    ("C1", 1, 100.0, True, "ch_store"),
    ("C1", 5, 300.0, True, "ch_web"),
    ("C1", 40, 50.0, True, "ch_store"),
    ("C1", 3, 80.0, False, "ch_store"),
    ("C2", 10, 20.0, True, "ch_web"),
    ("C2", 10, 30.0, True, "ch_web"),
    ("C2", 12, None, True, "ch_web"),
]


@pytest.fixture(scope="module")
def output() -> tuple[dict, dict]:
    """{(customer, key): slot values} and {customer: internal values} from one partition."""
    customers, days, amounts, purchases, channels = zip(*EVENTS, strict=True)
    batch = pa.RecordBatch.from_pydict(
        {
            "customer_id": list(customers),
            "_e_id": [f"T{n:03d}" for n in range(len(EVENTS))],
            "_n_days_ago": pa.array(days, pa.float64()),
            "_n_amount": pa.array(amounts, pa.float64()),
            "_s_day": [f"D-{d}" for d in days],
            "_f_purchase": list(purchases),
            "_k_channel": list(channels),
        }
    )
    tables = read_output(pa.Table.from_batches(list(partition_function(JOB)([batch]))))
    assert set(tables) == {0, -1}  # the cluster's rows and the per-customer internal rows
    slots = [f"s{n}" for n in range(len(SLOTS))]
    values = {
        (row["customer_id"], row["slice_key"]): [
            None if math.isnan(row[s]) else row[s] for s in slots
        ]
        for row in tables[0].to_pylist()
    }
    internal = {row.pop("customer_id"): list(row.values()) for row in tables[-1].to_pylist()}
    return values, internal


def approx(values: list) -> list:
    return [pytest.approx(v) if v is not None else None for v in values]


def test_aggregates_and_slots_per_customer_and_key(output):
    values, _ = output
    assert set(values) == {("C1", "all"), ("C1", "ch_store"), ("C1", "ch_web"),
                           ("C2", "all"), ("C2", "ch_web")}  # fmt: skip
    # cnt d30, mean, sample std, distinct days, change 30 vs previous 30, max
    assert values[("C1", "all")] == approx(
        [2, 150.0, np.std([100, 300, 50], ddof=1), 3, (400 - 50) / (400 + 50), 300.0]
    )
    assert values[("C1", "ch_store")] == approx(
        [1, 75.0, np.std([100, 50], ddof=1), 2, (100 - 50) / 150, 100.0]
    )
    # one purchase: no standard deviation; nothing in the previous 30 days: change 1
    assert values[("C1", "ch_web")] == approx([1, 300.0, None, 1, 1.0, 300.0])
    # a purchase without an amount counts, but is skipped by the sum, max and std
    assert values[("C2", "ch_web")] == approx([3, 50 / 3, math.sqrt(50), 2, 1.0, 30.0])


def test_first_use_rank_and_internal_row(output):
    _, internal = output
    # layout: rank of store, rank of web, first purchase days ago overall
    assert internal["C1"] == [1.0, 2.0, 40.0]  # store first (40 days ago), then web
    assert internal["C2"] == [None, 1.0, 12.0]  # never bought in store


def test_no_event_values_follow_the_sql_semantics():
    values, valid = no_event_values(JOB, CLUSTER)
    # count 0; mean, std null; distinct 0; change of 0 vs 0 null; max null
    assert valid.tolist() == [True, False, False, True, False, False]
    assert values[valid].tolist() == [0.0, 0.0]


def test_join_on_customer_keeps_the_order_and_fills_nulls():
    cards = pa.table({"customer_id": ["C2", "C9"], "_card_count": [1, 2]})
    profile = pa.table({"customer_id": ["C1", "C2"], "_g_gender": ["female", "male"]})
    joined = join_on_customer(["C1", "C2", "C3"], [cards, profile])
    assert joined.to_pylist() == [
        {"customer_id": "C1", "_card_count": None, "_g_gender": "female"},
        {"customer_id": "C2", "_card_count": 1, "_g_gender": "male"},
        {"customer_id": "C3", "_card_count": None, "_g_gender": None},
    ]


def test_join_on_customer_refuses_a_repeated_customer():
    twice = pa.table({"customer_id": ["C1", "C1"], "_card_count": [1, 2]})
    with pytest.raises(AssemblyError, match="more than one row per customer"):
        join_on_customer(["C1"], [twice])


def test_window_aggregates_match_a_direct_computation():
    # Random events over overlapping and offset windows: the per-segment partials combined per
    # window must equal each aggregate computed directly from the window's rows.
    rng = np.random.default_rng(3)
    windows = {"w7": (1, 7), "w30": (1, 30), "p30": (31, 60), "w45_90": (45, 90), "life": (1, None)}
    measures = {m.name: m for m in (
        measure("n", "count", "bigint", where="purchase", fill=0),
        measure("s", "sum", value="amount", where="purchase", fill=0),
        measure("hi", "max", value="amount", where="purchase"),
        measure("lo", "min", value="amount", where="purchase"),
        measure("sd", "std", value="amount", where="purchase"),
        measure("last", "last_days_ago", "int", where="purchase"),
    )}  # fmt: skip
    slots = [(m, w, "double") for m in measures for w in windows]
    cluster = ClusterJob(index=0, keys=["all"], key_dimensions=["all"],
                         pairs=[(m, w) for m, w, _ in slots], slots=slots)  # fmt: skip
    job = SourceJob(clusters=[cluster], internal_cluster=-1, internal_layout=[],
                    measures=measures, windows=windows, comparisons={})  # fmt: skip
    rows = 3_000
    customers = rng.integers(0, 40, rows)
    days = rng.integers(1, 120, rows).astype(float)
    amounts = np.round(rng.gamma(2.0, 1e5, rows), 2)
    amounts[rng.random(rows) < 0.05] = np.nan
    purchase = rng.random(rows) < 0.8
    batch = pa.RecordBatch.from_pydict({
        "customer_id": [f"C{c:02d}" for c in customers],
        "_e_id": [f"T{n:05d}" for n in range(rows)],
        "_n_days_ago": pa.array(days),
        "_n_amount": pa.array(amounts, mask=np.isnan(amounts)),
        "_f_purchase": pa.array(purchase),
    })  # fmt: skip
    table = read_output(pa.Table.from_batches(list(partition_function(job)([batch]))))[0]
    computed = {row["customer_id"]: row for row in table.to_pylist()}
    assert len(computed) == 40
    for customer in range(40):
        row = computed[f"C{customer:02d}"]
        for number, (name, window, _) in enumerate(slots):
            low, high = windows[window]
            inside = (customers == customer) & purchase & (days >= low)
            inside &= days <= (high if high is not None else np.inf)
            present = inside & ~np.isnan(amounts)
            expected = {
                "n": float(inside.sum()),
                "s": amounts[present].sum() if present.any() else 0.0,  # fill 0
                "hi": amounts[present].max() if present.any() else np.nan,
                "lo": amounts[present].min() if present.any() else np.nan,
                "sd": np.std(amounts[present], ddof=1) if present.sum() >= 2 else np.nan,
                "last": days[inside].min() if inside.any() else np.nan,
            }[name]
            got = row[f"s{number}"]
            if np.isnan(expected):
                assert np.isnan(got), (customer, name, window)
            else:
                assert got == pytest.approx(expected, rel=1e-12), (customer, name, window)


def test_events_on_or_after_the_as_of_date_are_refused():
    batch = pa.RecordBatch.from_pydict(
        {
            "customer_id": ["C1"],
            "_e_id": ["T1"],
            "_n_days_ago": pa.array([0.0]),  # dated D itself: must have been filtered out
            "_n_amount": pa.array([10.0]),
            "_s_day": ["D-0"],
            "_f_purchase": [True],
            "_k_channel": ["ch_store"],
        }
    )
    with pytest.raises(ValueError, match="before the as-of date"):
        list(partition_function(JOB)([batch]))


def test_the_row_order_inside_a_partition_changes_no_bit():
    # Spark's row order inside a partition varies with the partitioning; float sums taken in
    # another order differ in the last bits (7 tx_amount_std_* features did). The engine orders
    # each group's rows by (day, event id), so a shuffled partition gives identical output.
    rng = np.random.default_rng(11)
    std = measure("sd", "std", value="amount", where="purchase")
    total = measure("s", "sum", value="amount", where="purchase", fill=0)
    windows = {"w30": (1, 30), "life": (1, None)}
    slots = [(m, w, "double") for m in ("sd", "s") for w in windows]
    cluster = ClusterJob(index=0, keys=["all"], key_dimensions=["all"],
                         pairs=[(m, w) for m, w, _ in slots], slots=slots)  # fmt: skip
    job = SourceJob(clusters=[cluster], internal_cluster=-1, internal_layout=[],
                    measures={"sd": std, "s": total}, windows=windows, comparisons={})  # fmt: skip
    rows = 4_000
    events = pa.table({
        "customer_id": [f"C{c:02d}" for c in rng.integers(0, 20, rows)],
        "_e_id": [f"T{n:05d}" for n in range(rows)],
        "_n_days_ago": pa.array(rng.integers(1, 4, rows).astype(float)),  # many equal days
        "_n_amount": pa.array(rng.gamma(2.0, 1e5, rows) / 3.0),  # values whose sums round
        "_f_purchase": pa.array(np.ones(rows, dtype=bool)),
    })  # fmt: skip

    def computed(table: pa.Table) -> list[dict]:
        batches = list(partition_function(job)(table.to_batches()))
        result = read_output(pa.Table.from_batches(batches))[0]
        return sorted(result.to_pylist(), key=lambda row: row["customer_id"])

    first = computed(events)
    for seed in (1, 2, 3):
        shuffled = events.take(np.random.default_rng(seed).permutation(rows))
        assert computed(shuffled) == first  # == on floats: bit for bit (no NaN in the values)
