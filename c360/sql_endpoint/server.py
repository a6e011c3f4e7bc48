"""The SQL endpoint process: a PySpark driver running Spark's Thrift server (HiveServer2).

``python -m c360.sql_endpoint.server --lakehouse ROOT`` registers one view per silver and gold
table (``gold.golden_records``, ...; see :mod:`c360.sql_endpoint.views`), starts
``HiveThriftServer2.startWithContext`` on 127.0.0.1, then re-registers a table whenever its
Delta version changes (checked every ``poll_seconds``, at once on SIGHUP) and stops on SIGTERM.
Started and stopped by ``c360 sql`` / ``c360 sql --stop`` (:mod:`c360.sql_endpoint.control`).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from pyspark.sql import SparkSession

from c360.sql_endpoint.settings import HOST, SqlEndpointSettings, load_sql_settings, ready_file
from c360.sql_endpoint.views import TableSnapshot, delta_tables, snapshot_table, view_sql

log = logging.getLogger("c360.sql_endpoint")


def build_session(root: Path, settings: SqlEndpointSettings) -> SparkSession:
    """A one-core local driver with an in-memory catalog (the views are rebuilt at start)."""
    work = root / "_sql"
    return (
        SparkSession.builder.master("local[1]")
        .appName("c360-sql")
        .config("spark.driver.memory", settings.driver_memory)
        .config("spark.driver.host", HOST)
        .config("spark.driver.bindAddress", HOST)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        .config("spark.local.dir", str(work / "tmp"))
        .config("spark.sql.parquet.mergeSchema", "true")  # columns added by later versions
        .config("spark.sql.session.timeZone", "UTC")
        .config("hive.server2.thrift.bind.host", HOST)
        .config("hive.server2.thrift.port", str(settings.port))
        .getOrCreate()
    )


class ViewRegistry:
    """The registered views and the Delta version each one shows."""

    def __init__(self, spark: SparkSession, root: Path, layers: list[str]) -> None:
        self.spark, self.root, self.layers = spark, root, layers
        self.versions: dict[str, int] = {}

    def refresh(self) -> list[TableSnapshot]:
        """(Re-)register every table whose version changed; returns those registered."""
        changed = []
        for layer in self.layers:
            self.spark.sql(f"CREATE DATABASE IF NOT EXISTS `{layer}`")
        for layer, name, _ in delta_tables(self.root, self.layers):
            key = f"{layer}.{name}"
            try:
                snapshot = snapshot_table(self.root, layer, name)
                if self.versions.get(key) == snapshot.version:
                    continue
                self.spark.sql(view_sql(snapshot))
            except Exception as exc:  # one unreadable table must not hide the others
                log.warning("%s: not registered (%s)", key, str(exc).splitlines()[0][:300])
                continue
            self.versions[key] = snapshot.version
            changed.append(snapshot)
            log.warning("registered %s (version %s)", key, snapshot.version)
        return changed


def serve(root: Path, settings: SqlEndpointSettings) -> None:
    """Register the views, start the Thrift server, keep the views current until SIGTERM."""
    spark = build_session(root, settings)
    spark.sparkContext.setLogLevel("ERROR")
    registry = ViewRegistry(spark, root, list(settings.layers))
    registry.refresh()
    jvm = spark._jvm  # type: ignore[attr-defined]
    server = jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2.startWithContext(
        spark._jsparkSession.sqlContext()  # type: ignore[attr-defined]
    )
    log.warning("listening on jdbc:hive2://%s:%s", HOST, settings.port)
    ready = ready_file(root)
    ready.write_text(str(os.getpid()))  # `c360 sql` returns once this and the port are there
    stop, wake = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: (stop.set(), wake.set()))
    signal.signal(signal.SIGINT, lambda *_: (stop.set(), wake.set()))
    signal.signal(signal.SIGHUP, lambda *_: wake.set())
    try:
        while not stop.is_set():
            wake.wait(settings.poll_seconds)
            wake.clear()
            if not stop.is_set():
                registry.refresh()
    finally:
        ready.unlink(missing_ok=True)
        server.stop()
        spark.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lakehouse", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    settings = load_sql_settings(args.config)
    if args.port:
        settings = settings.model_copy(update={"port": args.port})
    serve(args.lakehouse.absolute(), settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
