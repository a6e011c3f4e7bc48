"""Stable customer IDs across runs: pure logic on tiny frames with exact expected IDs."""

from datetime import UTC, datetime

import pandas as pd

from resolution.stable_ids import assign_customer_ids, format_customer_id

DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
DAY2 = datetime(2026, 11, 2, tzinfo=UTC)


def clusters(*groups: list[str]) -> pd.DataFrame:
    """Clusters from groups of "source:id" keys; cluster_id is the group's first key."""
    rows = []
    for group in groups:
        for key in group:
            source, record_id = key.split(":")
            rows.append(
                {
                    "source_system": source,
                    "source_record_id": record_id,
                    "cluster_id": group[0],
                    "match_probability": 0.99 if len(group) > 1 else None,
                }
            )
    return pd.DataFrame(rows)


def ids_by_key(identity_map: pd.DataFrame) -> dict[str, str]:
    keys = identity_map["source_system"] + ":" + identity_map["source_record_id"]
    return dict(zip(keys, identity_map["customer_id"], strict=True))


def test_first_run_numbers_clusters_by_smallest_record_key():
    result = assign_customer_ids(None, clusters(["erp:1", "crm:9"], ["crm:2"]), "r1", DAY1)
    # Cluster order by smallest key: {crm:2} < {crm:9, erp:1} ("crm:2" < "crm:9").
    assert ids_by_key(result.identity_map) == {
        "crm:2": "C0000000001",
        "crm:9": "C0000000002",
        "erp:1": "C0000000002",
    }
    assert list(result.history["event"]) == ["new", "new"]
    assert result.customers_new == 2
    assert (result.identity_map["first_seen"] == pd.Timestamp(DAY1)).all()


def test_ids_stable_across_two_runs_with_new_and_changed_records():
    day1 = assign_customer_ids(None, clusters(["crm:1", "erp:1"], ["crm:2"], ["crm:3"]), "r1", DAY1)
    before = ids_by_key(day1.identity_map)
    # Day 2: crm:3 changed (same cluster alone), loyalty:1 joins crm:2, loyalty:2 is new.
    day2 = assign_customer_ids(
        day1.identity_map,
        clusters(["crm:1", "erp:1"], ["crm:2", "loyalty:1"], ["crm:3"], ["loyalty:2"]),
        "r2",
        DAY2,
    )
    after = ids_by_key(day2.identity_map)
    for key, customer in before.items():
        assert after[key] == customer, key  # untouched customers keep their ID
    assert after["loyalty:1"] == before["crm:2"]  # a new record takes its cluster's ID
    assert after["loyalty:2"] == "C0000000004"  # next counter after C..3
    assert day2.history[["event", "customer_id"]].values.tolist() == [["new", "C0000000004"]]
    first_seen = day2.identity_map.set_index("source_record_id")["first_seen"]
    assert first_seen["1"].min() == pd.Timestamp(DAY1)  # kept from day 1
    assert (day2.identity_map["last_seen"] == pd.Timestamp(DAY2)).all()


def test_merge_keeps_the_oldest_id_and_records_the_merge():
    day1 = assign_customer_ids(None, clusters(["crm:1"]), "r1", DAY1)  # C..1
    day2 = assign_customer_ids(day1.identity_map, clusters(["crm:1"], ["erp:5"]), "r2", DAY2)
    assert ids_by_key(day2.identity_map)["erp:5"] == "C0000000002"
    # Day 3: the two clusters merge; C..1 is older (first seen on day 1) and survives even
    # though erp:5's cluster would sort first by key order.
    day3 = assign_customer_ids(
        day2.identity_map, clusters(["erp:5", "crm:1"]), "r3", datetime(2026, 11, 3, tzinfo=UTC)
    )
    assert set(ids_by_key(day3.identity_map).values()) == {"C0000000001"}
    merge = day3.history.iloc[0]
    assert (merge["event"], merge["customer_id"], merge["related_customer_id"]) == (
        "merge", "C0000000002", "C0000000001",
    )  # fmt: skip
    assert (merge["records_moved"], merge["customer_records"]) == (1, 2)
    assert day3.customers_merged == 1


def test_merge_of_ids_of_the_same_age_keeps_the_smaller_id():
    day1 = assign_customer_ids(None, clusters(["crm:1"], ["crm:2"]), "r1", DAY1)
    day2 = assign_customer_ids(day1.identity_map, clusters(["crm:2", "crm:1"]), "r2", DAY2)
    assert set(ids_by_key(day2.identity_map).values()) == {"C0000000001"}


def test_split_largest_part_keeps_the_id_others_get_new_ones():
    day1 = assign_customer_ids(None, clusters(["crm:1", "crm:2", "erp:1"]), "r1", DAY1)
    day2 = assign_customer_ids(
        day1.identity_map, clusters(["crm:1", "erp:1"], ["crm:2"]), "r2", DAY2
    )
    ids = ids_by_key(day2.identity_map)
    assert ids["crm:1"] == ids["erp:1"] == "C0000000001"  # the larger part keeps the ID
    assert ids["crm:2"] == "C0000000002"
    split = day2.history.iloc[0]
    assert (split["event"], split["customer_id"], split["related_customer_id"]) == (
        "split", "C0000000002", "C0000000001",
    )  # fmt: skip
    assert day2.customers_split == 1


def test_retired_ids_are_never_issued_again():
    previous = pd.DataFrame(
        {
            "source_system": ["crm"],
            "source_record_id": ["1"],
            "customer_id": ["C0000000003"],
            "match_probability": [None],
            "first_seen": [pd.Timestamp(DAY1)],
            "last_seen": [pd.Timestamp(DAY1)],
        }
    )
    retired = pd.Series(["C0000000007"])  # merged away in an earlier run
    result = assign_customer_ids(
        previous, clusters(["crm:1"], ["crm:8"]), "r2", DAY2, issued_ids=retired
    )
    assert ids_by_key(result.identity_map)["crm:8"] == format_customer_id(8)


def test_records_absent_from_the_run_follow_a_merge():
    day1 = assign_customer_ids(None, clusters(["crm:1"], ["crm:2"], ["crm:3"]), "r1", DAY1)
    # crm:3 is not in day 2's input; crm:1 and crm:2 merge.
    day2 = assign_customer_ids(day1.identity_map, clusters(["crm:1", "crm:2"]), "r2", DAY2)
    ids = ids_by_key(day2.identity_map)
    assert ids == {"crm:1": "C0000000001", "crm:2": "C0000000001", "crm:3": "C0000000003"}
