"""Where Splink runs: one small interface, two backends (DuckDB locally, Spark on a cluster).

Everything above this module (training, prediction, clustering, golden records) talks to a
:class:`MatchingBackend`: register an Arrow table, run portable SQL, get Arrow back. The Splink
settings and the saved model are the same for both; only the SQL dialect differs, and
:mod:`resolution.model` re-targets a saved model to the backend's dialect.

Example:
    >>> backend = make_backend("duckdb")                        # doctest: +SKIP
    >>> frame = backend.register(records, "records")
    >>> backend.to_arrow(frame.query_sql("select count(*) as n from {this}"))
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from splink import Linker, SettingsCreator
from splink.internals.splink_dataframe import SplinkDataFrame

log = logging.getLogger(__name__)

# Splink's Spark similarity UDFs, with a probe and its expected value: registration failures
# are only logged by Splink, so the Spark backend checks them before any work.
SPARK_SIMILARITY_PROBES: dict[str, tuple[str, float]] = {
    "jaro_winkler": ("jaro_winkler('martha', 'marhta')", 0.9611),
    "jaro_sim": ("jaro_sim('martha', 'marhta')", 0.9444),
    "damerau_levenshtein": ("damerau_levenshtein('martha', 'marhta')", 1.0),
    "jaccard": ("jaccard('martha', 'marhta')", 1.0),
}


class MatchingBackendError(RuntimeError):
    """The matching backend cannot be used (e.g. Splink's Spark functions are missing)."""


class MatchingBackend(ABC):
    """A Splink database API plus Arrow in and out."""

    name: str
    dialect: str

    def __init__(self) -> None:
        self._registered = 0

    @property
    @abstractmethod
    def db_api(self) -> Any:
        """The Splink ``DatabaseAPI`` this backend wraps."""

    def register(self, table: pa.Table, name: str) -> SplinkDataFrame:
        """Make ``table`` queryable by Splink as ``name`` (suffixed to stay unique)."""
        self._registered += 1
        return self.db_api.register(self._input(table), table_name=f"{name}_{self._registered}")

    def materialise(self, table: pa.Table, name: str) -> SplinkDataFrame:
        """``table`` copied into a table of the backend, visible to :meth:`query_batches` (a
        registered Arrow table is a view of one connection only)."""
        registered = self.register(table, name)
        try:
            return self.query(f"SELECT * FROM {registered.physical_name}")
        finally:
            registered.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)

    def _input(self, table: pa.Table) -> Any:
        return table

    @abstractmethod
    def to_arrow(self, frame: SplinkDataFrame) -> pa.Table:
        """The rows of a Splink table as Arrow (bounded outputs: clusters, edges, samples)."""

    def linker(self, records: SplinkDataFrame, settings: SettingsCreator | dict) -> Linker:
        """A Splink linker over registered ``records`` (Splink logs through the app's logging)."""
        return Linker(records, settings, log_level=None)

    def query(self, sql: str) -> SplinkDataFrame:
        """Run ``sql`` (portable SQL over registered tables' physical names) into a new table."""
        return self.db_api.query_sql(sql)

    @abstractmethod
    def query_batches(self, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Run ``sql`` (over the backend's tables: Splink's and :meth:`materialise`'s) and yield its
        rows in order, as Arrow batches of at most ``batch_rows`` rows (outputs too large to hold
        whole: the identity links)."""

    @abstractmethod
    def sql_to_arrow(self, sql: str, tables: dict[str, pa.Table]) -> pa.Table:
        """Run ``sql`` over Arrow ``tables`` (visible under their keys) and return Arrow."""

    @contextlib.contextmanager
    def reproducible_sums(self) -> Iterator[None]:
        """Within the block, sums over many rows come out the same on every run.

        Training sums expected counts over all pairs; summed in parallel, their order (so the
        last bits of every m, u and the prior) varies from run to run. The base backend does
        nothing (Spark's sums follow its partitions).
        """
        yield

    def scalar(self, frame: SplinkDataFrame, sql: str) -> Any:
        """First value of ``sql`` over ``frame`` (referred to as ``{this}``)."""
        result = frame.query_sql(sql)
        rows = result.as_record_list(limit=1)
        result.drop_table_from_database_and_remove_from_cache()
        return next(iter(rows[0].values())) if rows else None


class DuckDBBackend(MatchingBackend):
    """Splink on an in-process DuckDB (the embedded default)."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(
        self, memory_limit: str | None = None, temp_directory: str | Path | None = None
    ) -> None:
        """``memory_limit`` (DuckDB syntax, e.g. ``6GB``) caps DuckDB, which spills beyond it
        into ``temp_directory`` (DuckDB's default: ``.tmp`` in the working directory).

        DuckDB's own default limit is 80% of the machine's memory, which leaves no room for
        the Spark driver running in the same process tree.
        """
        super().__init__()
        import duckdb
        from splink import DuckDBAPI

        self.memory_limit = memory_limit
        self.temp_directory = str(temp_directory) if temp_directory is not None else None
        self._connection = self._connect(duckdb)
        self._db_api = DuckDBAPI(connection=self._connection)

    def _connect(self, duckdb: Any) -> Any:
        connection = duckdb.connect()
        if self.memory_limit:
            connection.execute(f"SET memory_limit = '{self.memory_limit}'")
        if self.temp_directory:
            Path(self.temp_directory).mkdir(parents=True, exist_ok=True)
            connection.execute("SET temp_directory = ?", [self.temp_directory])
        return connection

    def setting(self, name: str) -> Any:
        """The current value of a DuckDB setting (``memory_limit``, ``threads``...)."""
        return self._connection.execute("SELECT current_setting(?)", [name]).fetchone()[0]

    @contextlib.contextmanager
    def reproducible_sums(self) -> Iterator[None]:
        """One DuckDB thread within the block: its float sums then always add in one order.

        Two trainings on identical records gave m-probabilities differing in the last bits
        (DuckDB's parallel aggregation), and so match probabilities differing in the last
        digits of gold/identity_map. Training samples its records and caps its pairs, so one
        thread costs little; prediction and clustering (row by row, then min / max) stay
        parallel.
        """
        threads = int(self.setting("threads"))
        self._connection.execute("SET threads = 1")
        try:
            yield
        finally:
            self._connection.execute(f"SET threads = {threads}")

    @property
    def db_api(self) -> Any:
        return self._db_api

    def to_arrow(self, frame: SplinkDataFrame) -> pa.Table:
        return frame.as_pyarrow_table()

    def query_batches(self, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        # DuckDB streams the result: it holds the batch being fetched, not the whole result
        # (an ORDER BY sorts within memory_limit and spills the rest to temp_directory).
        # A cursor of its own: the shared connection stays free for Splink's work meanwhile.
        cursor = self._connection.cursor()
        try:
            yield from cursor.sql(sql).to_arrow_reader(batch_rows)
        finally:
            cursor.close()

    def sql_to_arrow(self, sql: str, tables: dict[str, pa.Table]) -> pa.Table:
        import duckdb

        with self._connect(duckdb) as connection:
            connection.execute("SET TimeZone = 'UTC'")
            for name, table in tables.items():
                connection.register(name, table)
            return connection.sql(sql).to_arrow_table()


class SparkBackend(MatchingBackend):
    """Splink on Spark; the session must carry Splink's similarity jar (``c360.spark``)."""

    name = "spark"
    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        super().__init__()
        from splink import SparkAPI

        self.spark = spark
        # Splink breaks long lineages between steps by checkpointing (``persist`` ran out of
        # driver memory here); a session without a checkpoint dir gets a local temporary one.
        # On a cluster, set spark.checkpoint.dir (or setCheckpointDir) to shared storage.
        if not spark.sparkContext.getCheckpointDir():
            folder = tempfile.mkdtemp(prefix="c360-splink-checkpoints-")
            log.warning("Spark has no checkpoint directory; Splink will use %s", folder)
            spark.sparkContext.setCheckpointDir(folder)
        self._db_api = SparkAPI(spark_session=spark, break_lineage_method="checkpoint")
        if missing := missing_spark_functions(spark):
            raise MatchingBackendError(
                f"Splink's Spark similarity functions are not usable: {missing}. Build the "
                "session with c360.spark.build_spark_session (it puts "
                "splink.backends.spark.similarity_jar_location() on spark.jars)."
            )

    @property
    def db_api(self) -> Any:
        return self._db_api

    def _input(self, table: pa.Table) -> Any:
        return self.spark.createDataFrame(table)

    def to_arrow(self, frame: SplinkDataFrame) -> pa.Table:
        return frame.as_spark_dataframe().toArrow()

    def query_batches(self, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        # The result is collected to the driver as Arrow (size the cluster's driver for it),
        # then handed on a batch at a time.
        yield from self.spark.sql(sql).toArrow().to_batches(max_chunksize=batch_rows)

    def sql_to_arrow(self, sql: str, tables: dict[str, pa.Table]) -> pa.Table:
        for name, table in tables.items():
            self.spark.createDataFrame(table).createOrReplaceTempView(name)
        try:
            return self.spark.sql(sql).toArrow()
        finally:
            for name in tables:
                self.spark.catalog.dropTempView(name)


def missing_spark_functions(spark: Any) -> list[str]:
    """Splink similarity functions that do not answer correctly in ``spark`` (empty: all good).

    Splink only logs a warning when it cannot register them, and every fuzzy comparison then
    fails later with UNRESOLVED_ROUTINE; this probes each one with a known value.
    """
    missing = []
    for name, (expression, expected) in SPARK_SIMILARITY_PROBES.items():
        try:
            value = spark.sql(f"SELECT {expression} AS v").collect()[0]["v"]
        except Exception as exc:  # py4j / AnalysisException: the function is not there
            log.warning("Spark function %s unavailable: %s", name, str(exc).splitlines()[0])
            missing.append(name)
            continue
        if value is None or abs(float(value) - expected) > 1e-3:
            missing.append(f"{name} (returned {value}, expected {expected})")
    return missing


def make_backend(
    name: str,
    spark: Any = None,
    duckdb_memory_limit: str | None = None,
    duckdb_temp_directory: str | Path | None = None,
) -> MatchingBackend:
    """The backend named in the profile (``identity.backend``): ``duckdb`` or ``spark``."""
    if name == "duckdb":
        return DuckDBBackend(duckdb_memory_limit, duckdb_temp_directory)
    if name == "spark":
        if spark is None:
            raise MatchingBackendError("the spark matching backend needs a SparkSession")
        return SparkBackend(spark)
    raise MatchingBackendError(f"unknown matching backend {name!r}; expected duckdb or spark")
