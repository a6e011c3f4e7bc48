"""Delta storage through c360.lakehouse: every column type we use, partition overwrite, merge,
idempotency, history, vacuum; tables read back by Spark, deltalake/pandas, polars and DuckDB."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from c360.lakehouse import Lakehouse, LakehouseError, partition_predicate
from c360.spark import has_delta_spark
from c360.tables import Table

pytestmark = pytest.mark.spark

PEOPLE = Table("silver", "people_roundtrip", partition_by=("day",), keys=("person_id",))

ROWS = [
    {
        "person_id": "crm:1",
        "full_name": "Nguyễn Thị Ánh Tuyết",
        "day": date(2026, 11, 1),
        "born": date(1990, 2, 28),
        "updated_at": datetime(2026, 11, 1, 3, 15, 7, 123456, tzinfo=UTC),
        "amount_vnd": Decimal("1250000.50"),
        "phones": ["+84912345678", "+84281234567"],
        "points": 120,
        "is_active": True,
    },
    {
        "person_id": "erp:K-002",
        "full_name": "Trần Văn Đức",
        "day": date(2026, 11, 2),
        "born": None,
        "updated_at": datetime(2026, 11, 2, 23, 59, 59, tzinfo=UTC),
        "amount_vnd": Decimal("-15.00"),
        "phones": [],
        "points": None,
        "is_active": False,
    },
]
ARROW_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("full_name", pa.string()),
        ("day", pa.date32()),
        ("born", pa.date32()),
        ("updated_at", pa.timestamp("us", tz="UTC")),
        ("amount_vnd", pa.decimal128(18, 2)),
        ("phones", pa.list_(pa.string())),
        ("points", pa.int64()),
        ("is_active", pa.bool_()),
    ]
)


def people_arrow(rows=ROWS) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=ARROW_SCHEMA)


def people_spark(spark, rows=ROWS):
    return spark.createDataFrame(people_arrow(rows))


def _normalise(records: list[dict]) -> list[dict]:
    """Compare values, not container types: arrays may come back as numpy arrays or lists."""
    out = []
    for record in sorted(records, key=lambda r: r["person_id"]):
        record = dict(record)
        record["phones"] = list(record["phones"]) if record["phones"] is not None else None
        if isinstance(record["updated_at"], pd.Timestamp):
            record["updated_at"] = record["updated_at"].to_pydatetime()
        if record["updated_at"].tzinfo is None:
            # PySpark's collect() gives naive datetimes in the Python process's local zone.
            record["updated_at"] = record["updated_at"].astimezone(UTC)
        for key in ("day", "born"):
            if isinstance(record[key], pd.Timestamp | datetime):
                record[key] = record[key].date()
        if record["points"] is not None and pd.isna(record["points"]):
            record["points"] = None
        out.append(record)
    return out


@pytest.mark.parametrize("source", ["spark", "arrow", "pandas"])
def test_round_trip_every_column_type_through_every_reader(spark, rs_lake, source):
    data = {
        "spark": lambda: people_spark(spark),
        "arrow": people_arrow,
        "pandas": lambda: people_arrow().to_pandas(),
    }[source]()
    rs_lake.overwrite(data, PEOPLE)

    via_spark = [row.asDict(recursive=True) for row in rs_lake.read(PEOPLE).collect()]
    assert _normalise(via_spark) == _normalise(ROWS)

    path = rs_lake.location(PEOPLE)
    via_deltalake = DeltaTable(path).to_pandas().to_dict("records")
    assert _normalise(via_deltalake) == _normalise(ROWS)

    via_polars = pl.read_delta(path).to_dicts()
    assert _normalise(via_polars) == _normalise(ROWS)

    dataset = rs_lake.arrow_dataset(PEOPLE)  # noqa: F841 (DuckDB finds it by name)
    names = duckdb.sql("select full_name from dataset order by person_id").fetchall()
    assert names == [("Nguyễn Thị Ánh Tuyết",), ("Trần Văn Đức",)]
    [(timestamp_type,)] = duckdb.sql("select typeof(updated_at) from dataset limit 1").fetchall()
    assert timestamp_type == "TIMESTAMP WITH TIME ZONE"

    # The Spark schema is the table's schema, partition column included, in table order.
    assert rs_lake.read(PEOPLE).columns == ARROW_SCHEMA.names
    assert rs_lake.read(PEOPLE).schema["day"].dataType.typeName() == "date"


def test_partition_overwrite_replaces_only_that_partition(spark, rs_lake):
    rs_lake.overwrite(people_spark(spark), PEOPLE)
    replacement = dict(ROWS[0], person_id="crm:9", full_name="Lê Hoàng Yến")
    rs_lake.replace_where(people_spark(spark, [replacement]), PEOPLE, {"day": [date(2026, 11, 1)]})
    ids = sorted(r.person_id for r in rs_lake.read(PEOPLE).collect())
    # crm:1 lived in the replaced partition; erp:K-002 (day 2) is untouched.
    assert ids == ["crm:9", "erp:K-002"]
    # Spark must not see the dead file of the replaced partition still on disk.
    assert rs_lake.read(PEOPLE).count() == 2
    assert rs_lake.count(PEOPLE) == 2


def test_partition_overwrite_rejects_rows_outside_the_partition(spark, rs_lake):
    rs_lake.overwrite(people_spark(spark), PEOPLE)
    version_before = rs_lake.version(PEOPLE)
    stray = dict(ROWS[0], day=date(2026, 11, 5))
    with pytest.raises(LakehouseError, match="overwrite"):
        rs_lake.replace_where(people_spark(spark, [stray]), PEOPLE, {"day": [date(2026, 11, 1)]})
    assert rs_lake.version(PEOPLE) == version_before
    assert rs_lake.count(PEOPLE) == 2


def test_rerunning_a_partition_overwrite_is_idempotent(spark, rs_lake):
    day_one = people_spark(spark, [ROWS[0]])
    for _ in range(3):
        rs_lake.replace_where(day_one, PEOPLE, {"day": [date(2026, 11, 1)]})
    assert rs_lake.count(PEOPLE) == 1
    assert [op["operation"] for op in rs_lake.history(PEOPLE)].count("WRITE") == 3


def test_replace_where_narrows_by_non_partition_columns_and_merges_new_columns(spark, rs_lake):
    rs_lake.overwrite(people_arrow(), PEOPLE)
    replacement = pa.Table.from_pylist([dict(ROWS[0], full_name="Phạm Minh")], schema=ARROW_SCHEMA)
    replacement = replacement.append_column("tier", pa.array(["gold"]))
    rs_lake.replace_where(replacement, PEOPLE, {"day": [date(2026, 11, 1)], "person_id": ["crm:1"]})
    rows = {r.person_id: (r.full_name, r.tier) for r in rs_lake.read(PEOPLE).collect()}
    assert rows == {"crm:1": ("Phạm Minh", "gold"), "erp:K-002": ("Trần Văn Đức", None)}


def test_replace_where_an_empty_frame_empties_the_partition(spark, rs_lake):
    rs_lake.overwrite(people_arrow(), PEOPLE)
    rs_lake.replace_where(people_arrow([]), PEOPLE, {"day": [date(2026, 11, 2)]})
    assert [r.person_id for r in rs_lake.read(PEOPLE).collect()] == ["crm:1"]


def test_replace_where_streams_record_batches(spark, rs_lake):
    # a reader is written batch by batch (the feature snapshot); a row outside the predicate
    # rejects the whole write and leaves the table as it was
    rs_lake.overwrite(people_arrow(), PEOPLE)
    renamed = people_arrow([dict(ROWS[1], full_name="Trần Đức")])
    batches = renamed.to_batches() * 2  # the same person twice, in two batches
    stream = pa.RecordBatchReader.from_batches(renamed.schema, iter(batches))
    rs_lake.replace_where(stream, PEOPLE, {"day": [date(2026, 11, 2)]})
    names = sorted(r.full_name for r in rs_lake.read(PEOPLE).collect())
    assert names == ["Nguyễn Thị Ánh Tuyết", "Trần Đức", "Trần Đức"]
    outside = pa.RecordBatchReader.from_batches(renamed.schema, iter(people_arrow().to_batches()))
    with pytest.raises(LakehouseError):
        rs_lake.replace_where(outside, PEOPLE, {"day": [date(2026, 11, 2)]})
    assert rs_lake.count(PEOPLE) == 3


def test_replace_where_refuses_unknown_columns(spark, rs_lake):
    rs_lake.overwrite(people_arrow(), PEOPLE)
    with pytest.raises(LakehouseError, match=r"no such columns: \['dya'\]"):
        rs_lake.replace_where(people_arrow([]), PEOPLE, {"dya": [date(2026, 11, 2)]})


def test_append_adds_rows_and_merges_new_columns(spark, rs_lake):
    rs_lake.append(people_arrow([ROWS[0]]), PEOPLE)
    with_extra = people_arrow([ROWS[1]]).append_column("tier", pa.array(["gold"]))
    rs_lake.append(with_extra, PEOPLE)
    rows = {r.person_id: r for r in rs_lake.read(PEOPLE).collect()}
    assert rows["erp:K-002"].tier == "gold"
    assert rows["crm:1"].tier is None


def test_merge_updates_matches_and_inserts_the_rest(spark, rs_lake):
    first = rs_lake.merge(people_spark(spark, [ROWS[0]]), PEOPLE)
    assert (first.inserted, first.updated) == (1, 0)
    changed = dict(ROWS[0], full_name="Nguyễn Thị Tuyết")
    result = rs_lake.merge(people_spark(spark, [changed, ROWS[1]]), PEOPLE)
    assert (result.inserted, result.updated) == (1, 1)
    names = {r.person_id: r.full_name for r in rs_lake.read(PEOPLE).collect()}
    assert names == {"crm:1": "Nguyễn Thị Tuyết", "erp:K-002": "Trần Văn Đức"}
    # Merging the same data again changes nothing visible.
    rs_lake.merge(people_spark(spark, [changed, ROWS[1]]), PEOPLE)
    assert rs_lake.count(PEOPLE) == 2


def test_history_and_time_travel(spark, rs_lake):
    rs_lake.overwrite(people_arrow([ROWS[0]]), PEOPLE)
    rs_lake.append(people_arrow([ROWS[1]]), PEOPLE)
    history = rs_lake.history(PEOPLE)
    assert [entry["version"] for entry in history] == [1, 0]
    assert rs_lake.read(PEOPLE, version=0).count() == 1
    assert rs_lake.read(PEOPLE).count() == 2


def test_vacuum_removes_dead_files_and_keeps_the_table_readable(spark, rs_lake):
    rs_lake.overwrite(people_arrow(), PEOPLE)
    rs_lake.overwrite(people_arrow([ROWS[1]]), PEOPLE)
    removed = rs_lake.vacuum(PEOPLE, retention_hours=0)
    assert len(removed) == 2  # both files of version 0, one per partition
    assert [r.person_id for r in rs_lake.read(PEOPLE).collect()] == ["erp:K-002"]


def test_naive_timestamps_are_refused_before_anything_is_written(rs_lake):
    naive = pd.DataFrame({"person_id": ["x"], "day": [date(2026, 11, 1)],
                          "updated_at": [pd.Timestamp("2026-11-01 10:00")]})  # fmt: skip
    with pytest.raises(LakehouseError, match="without time zone"):
        rs_lake.overwrite(naive, PEOPLE)
    assert not rs_lake.exists(PEOPLE)


def test_reading_a_missing_table_says_what_to_do(rs_lake):
    with pytest.raises(LakehouseError, match="materialise it first"):
        rs_lake.read(PEOPLE)


def test_empty_table_reads_with_its_schema(spark, rs_lake):
    rs_lake.overwrite(people_arrow([]), PEOPLE)
    frame = rs_lake.read(PEOPLE)
    assert frame.count() == 0
    assert frame.columns == ARROW_SCHEMA.names


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"day": [date(2026, 11, 1)]}, "`day` IN ('2026-11-01')"),
        ({"src": ["o'hara", "crm"], "n": [3]}, "`src` IN ('o''hara', 'crm') AND `n` IN (3)"),
    ],
)
def test_partition_predicate_quotes_values(values, expected):
    assert partition_predicate(values, quote="`") == expected


def test_partition_predicate_refuses_injection_in_column_names():
    with pytest.raises(ValueError, match="cannot be used"):
        partition_predicate({"day) OR (1=1": ["x"]})


def test_delta_spark_writer_round_trip_and_cross_read(spark, tmp_path):
    if not has_delta_spark(spark):
        pytest.skip(
            "delta-spark path not exercised: the io.delta jars are not on this Spark classpath "
            "(Maven is unreachable here). Put them in the profile's spark.extra_conf to run it."
        )
    spark_lake = Lakehouse(tmp_path / "lake", spark, writer="delta-spark")
    spark_lake.overwrite(people_spark(spark), PEOPLE)
    spark_lake.merge(people_spark(spark, [dict(ROWS[0], full_name="X")]), PEOPLE)
    # Written by delta-spark, read by delta-rs (and so by pandas / polars / DuckDB).
    rs_reader = Lakehouse(tmp_path / "lake", spark, writer="delta-rs")
    names = sorted(r.full_name for r in rs_reader.read(PEOPLE).collect())
    assert names == ["Trần Văn Đức", "X"]


SORTED = Table(
    "silver", "sorted_for_point_reads", partition_by=("day",), keys=("event_id",),
    sort_by=("person_id",), row_group_rows=4,
)  # fmt: skip


def _sorted_rows(count: int) -> pa.Table:
    """Rows landed in no particular order: person ids descending, two days interleaved."""
    return pa.table(
        {
            "event_id": [f"e{i:03d}" for i in range(count)],
            "person_id": [f"p{(count - i) % 7}" for i in range(count)],
            "day": [date(2026, 11, 1 + i % 2) for i in range(count)],
        }
    )


def _row_group_ranges(lake: Lakehouse, table: Table) -> list[list[tuple[str, str, int]]]:
    """Per live file: (min, max, rows) of ``person_id`` in each row group."""
    import pyarrow.parquet as pq

    out = []
    for uri in DeltaTable(lake.location(table)).file_uris():
        metadata = pq.ParquetFile(uri.removeprefix("file://")).metadata
        column = metadata.schema.names.index("person_id")
        groups = [metadata.row_group(i) for i in range(metadata.num_row_groups)]
        out.append(
            [
                (g.column(column).statistics.min, g.column(column).statistics.max, g.num_rows)
                for g in groups
            ]
        )
    return out


@pytest.mark.parametrize("source", ["arrow", "spark", "pandas"])
def test_sort_by_writes_each_partition_sorted_in_small_row_groups(spark, rs_lake, source):
    rows = _sorted_rows(30)
    data = {"arrow": rows, "pandas": rows.to_pandas(), "spark": spark.createDataFrame(rows)}
    rs_lake.overwrite(data[source], SORTED)
    files = _row_group_ranges(rs_lake, SORTED)
    assert len(files) == 2  # one per day
    for groups in files:
        assert [g[2] for g in groups] == [4, 4, 4, 3]  # 15 rows per day, 4 per group
        bounds = [bound for low, high, _ in groups for bound in (low, high)]
        assert bounds == sorted(bounds)  # groups hold disjoint, ascending ranges of person_id
    back = rs_lake.read_arrow(SORTED).sort_by("event_id")
    assert back.select(rows.column_names).equals(rows)  # nothing lost or changed


def test_a_write_without_the_sort_column_is_refused_and_the_table_unchanged(rs_lake):
    rows = _sorted_rows(10)
    rs_lake.overwrite(rows, SORTED)
    with pytest.raises(LakehouseError, match=r"no \['person_id'\] column.*sort_by"):
        rs_lake.overwrite(rows.drop_columns(["person_id"]), SORTED)
    assert rs_lake.read_arrow(SORTED).num_rows == 10


def test_sort_by_breaks_ties_by_the_keys_so_identical_inputs_write_identical_files(rs_lake):
    rows = _sorted_rows(30)

    def days_as_written() -> dict[date, pa.Table]:
        table = rs_lake.read_arrow(SORTED)  # file order between days is the reader's
        return {
            d: table.filter(pc.field("day") == d) for d in (date(2026, 11, 1), date(2026, 11, 2))
        }

    rs_lake.overwrite(rows, SORTED)
    first = days_as_written()
    rs_lake.overwrite(rows.take(list(reversed(range(30)))), SORTED)  # same rows, other order
    second = days_as_written()
    for day, written in first.items():
        assert written.equals(second[day])
        order = list(zip(written["person_id"].to_pylist(), written["event_id"].to_pylist(),
                         strict=True))  # fmt: skip
        assert order == sorted(order)  # by person, then by event
