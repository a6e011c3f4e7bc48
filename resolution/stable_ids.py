"""Stable customer IDs: the previous identity map + this run's clusters -> the new map + history.

Pure logic on pandas frames (no Spark, no Splink, no I/O). The rules:

- A cluster whose records all carried one ID keeps it (untouched customers never change ID).
- A new record that joins a cluster takes the cluster's ID.
- Each previous ID has a *home*: the new cluster holding most of its records (ties: the cluster
  with the smallest record key). Only its home may keep the ID.
- When a cluster is home to several previous IDs they **merge**: the oldest survives (earliest
  ``first_seen`` of its records, ties by the smaller ID); the others are retired, each with a
  ``merge`` history row pointing at the survivor.
- When a previous ID's records end up in several clusters it **splits**: its home keeps the ID,
  every other part gets a new ID and a ``split`` history row pointing at the origin.
- A cluster of only new records gets a new ID (``new`` history row).
- New IDs are ``C`` + a zero-padded counter above every ID ever issued (map and history), so
  they are deterministic (clusters are numbered in order of their smallest record key) and never
  collide with a retired ID.
- Records absent from this run keep their row; if their ID was retired by a merge they follow
  the survivor.

``first_seen`` of a map row is when the record first entered the map; ``last_seen`` the last run
that saw it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

ID_PREFIX = "C"
ID_DIGITS = 10
_ID_PATTERN = re.compile(rf"^{ID_PREFIX}(\d+)$")

MAP_COLUMNS = [
    "source_system",
    "source_record_id",
    "customer_id",
    "match_probability",
    "first_seen",
    "last_seen",
]
HISTORY_COLUMNS = [
    "run_id",
    "event",
    "customer_id",
    "related_customer_id",
    "records_moved",
    "customer_records",
    "at",
]


@dataclass(frozen=True)
class StableIdResult:
    """The new identity map, the history rows of this run and the counts by event."""

    identity_map: pd.DataFrame
    history: pd.DataFrame
    customers_new: int
    customers_merged: int  # previous IDs retired into a survivor
    customers_split: int  # new IDs carved out of a previous ID

    @property
    def customers(self) -> int:
        return int(self.identity_map["customer_id"].nunique())


def _max_counter(ids: pd.Series) -> int:
    numbers = ids.dropna().astype(str).str.extract(_ID_PATTERN.pattern, expand=False).dropna()
    return int(numbers.astype("int64").max()) if len(numbers) else 0


def format_customer_id(number: int) -> str:
    """``C0000000042`` for 42."""
    return f"{ID_PREFIX}{number:0{ID_DIGITS}d}"


def assign_customer_ids(
    previous_map: pd.DataFrame | None,
    clusters: pd.DataFrame,
    run_id: str,
    at: datetime,
    issued_ids: pd.Series | None = None,
) -> StableIdResult:
    """Give this run's clusters stable customer IDs.

    Args:
        previous_map: the current gold/identity_map (``MAP_COLUMNS``), None or empty on the
            first run.
        clusters: this run's clusters, one row per record: ``source_system``,
            ``source_record_id``, ``cluster_id`` and ``match_probability``.
        run_id: recorded in the history rows.
        at: the run's time (UTC, tz-aware): first_seen of new records, last_seen of all.
        issued_ids: every ID issued before (e.g. the history's customer and related IDs) so a
            retired ID is never issued again; the previous map's IDs are always included.

    Returns:
        The new map (one row per record of ``previous_map`` or ``clusters``), this run's history
        rows and counts.
    """
    previous = (
        previous_map[MAP_COLUMNS].copy()
        if previous_map is not None and len(previous_map)
        else pd.DataFrame({c: pd.Series(dtype=object) for c in MAP_COLUMNS})
    )
    current = clusters[
        ["source_system", "source_record_id", "cluster_id", "match_probability"]
    ].copy()
    current["record_key"] = current["source_system"] + ":" + current["source_record_id"]
    previous["record_key"] = previous["source_system"] + ":" + previous["source_record_id"]
    joined = current.merge(
        previous[["record_key", "customer_id", "first_seen"]], on="record_key", how="left"
    )

    # Age of each previous ID: the earliest first_seen of its records.
    id_age = previous.groupby("customer_id")["first_seen"].min()

    # Home cluster of each previous ID: most of its records, ties by the smallest record key.
    carried = joined.dropna(subset=["customer_id"])
    parts = (
        carried.groupby(["customer_id", "cluster_id"])
        .agg(records=("record_key", "size"), first_key=("record_key", "min"))
        .reset_index()
        .sort_values(["customer_id", "records", "first_key"], ascending=[True, False, True])
    )
    homes = parts.drop_duplicates("customer_id")[["customer_id", "cluster_id"]]

    # Cluster order: by smallest record key (deterministic numbering of new IDs).
    cluster_order = joined.groupby("cluster_id")["record_key"].min().sort_values().index.tolist()
    candidates = homes.groupby("cluster_id")["customer_id"].apply(list).to_dict()
    counter = max(
        _max_counter(previous["customer_id"]),
        _max_counter(issued_ids) if issued_ids is not None else 0,
    )
    # Records per (cluster, previous ID): what moved where.
    moved_by_cluster: dict[object, dict[str, int]] = {}
    for (cluster, origin), moved in (
        carried.groupby(["cluster_id", "customer_id"]).size().sort_index().items()
    ):
        moved_by_cluster.setdefault(cluster, {})[origin] = int(moved)
    cluster_ids: dict[object, str] = {}
    history: list[dict[str, object]] = []
    sizes = joined.groupby("cluster_id").size()
    merged = split = new = 0
    for cluster in cluster_order:
        owners = candidates.get(cluster, [])
        if owners:
            owners = sorted(owners, key=lambda cid: (id_age.get(cid), cid))
            survivor = owners[0]
            cluster_ids[cluster] = survivor
            for retired in owners[1:]:
                moved = moved_by_cluster[cluster][retired]
                history.append(
                    {
                        "event": "merge",
                        "customer_id": retired,
                        "related_customer_id": survivor,
                        "records_moved": moved,
                        "customer_records": int(sizes[cluster]),
                    }
                )
                merged += 1
            continue
        counter += 1
        cluster_ids[cluster] = format_customer_id(counter)
        origins = moved_by_cluster.get(cluster, {})
        if origins:
            for origin, moved in origins.items():
                history.append(
                    {
                        "event": "split",
                        "customer_id": cluster_ids[cluster],
                        "related_customer_id": origin,
                        "records_moved": moved,
                        "customer_records": int(sizes[cluster]),
                    }
                )
            split += 1
        else:
            history.append(
                {
                    "event": "new",
                    "customer_id": cluster_ids[cluster],
                    "related_customer_id": None,
                    "records_moved": int(sizes[cluster]),
                    "customer_records": int(sizes[cluster]),
                }
            )
            new += 1

    joined["new_customer_id"] = joined["cluster_id"].map(cluster_ids)
    joined["first_seen"] = joined["first_seen"].where(joined["first_seen"].notna(), at)
    seen = joined.assign(last_seen=at)
    new_map = pd.DataFrame(
        {
            "source_system": seen["source_system"],
            "source_record_id": seen["source_record_id"],
            "customer_id": seen["new_customer_id"],
            "match_probability": seen["match_probability"].astype("float64"),
            "first_seen": pd.to_datetime(seen["first_seen"], utc=True),
            "last_seen": pd.to_datetime(seen["last_seen"], utc=True),
        }
    )
    absent = previous[~previous["record_key"].isin(current["record_key"])]
    if len(absent):
        retired_to = {
            row["customer_id"]: row["related_customer_id"]
            for row in history
            if row["event"] == "merge"
        }
        absent = absent.assign(customer_id=absent["customer_id"].replace(retired_to))
        new_map = pd.concat([new_map, absent[MAP_COLUMNS]], ignore_index=True)
    new_map = new_map.sort_values(["source_system", "source_record_id"], ignore_index=True)
    history_frame = pd.DataFrame(history, columns=HISTORY_COLUMNS[1:-1])
    history_frame.insert(0, "run_id", run_id)
    history_frame["at"] = (
        pd.Timestamp(at).tz_convert("UTC") if history else pd.Series(dtype="datetime64[us, UTC]")
    )
    history_frame = history_frame.astype({"records_moved": "int64", "customer_records": "int64"})
    return StableIdResult(
        identity_map=new_map,
        history=history_frame[HISTORY_COLUMNS],
        customers_new=new,
        customers_merged=merged,
        customers_split=split,
    )
