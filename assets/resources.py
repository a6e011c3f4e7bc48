"""Dagster resources, named by role: ``spark``, ``lakehouse``, ``landing_zone``.

:func:`build_resources` is the one function that turns :class:`Settings` into resources; every
profile gets the same keys. Nothing here starts Spark until an asset asks for a session.
"""

from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import PrivateAttr
from pyspark.sql import SparkSession

from c360.config import Settings, SparkSettings
from c360.contract import LandingZone, scan_landing_zone
from c360.lakehouse import Lakehouse
from c360.lock import hold_lakehouse
from c360.spark import build_spark_session


class SparkResource(dg.ConfigurableResource):
    """Hands assets the process's SparkSession, built on first use from the profile."""

    master: str
    app_name: str
    driver_memory: str
    shuffle_partitions: int
    log_level: str
    extra_conf: dict[str, str]

    def session(self) -> SparkSession:
        settings = SparkSettings.model_validate(self.model_dump())
        return build_spark_session(settings)


class LakehouseResource(dg.ConfigurableResource):
    """The Delta lakehouse under ``root`` (see :class:`c360.lakehouse.Lakehouse`).

    Every Dagster run that uses it holds the lakehouse lock (:mod:`c360.lock`) from resource
    set-up to teardown: sensor- and schedule-launched runs wait for (or fail naming) a run that
    holds it. Under ``c360 run`` / ``c360 features`` the process already holds it (re-entrant).
    """

    root: str
    writer: str
    spark: dg.ResourceDependency[SparkResource]
    lock_lease_seconds: float = 120
    lock_timeout_seconds: float = 0
    lock_poll_seconds: float = 2
    _lake: Lakehouse | None = PrivateAttr(default=None)
    _lock: AbstractContextManager | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.dagster_run is None:  # not a run (e.g. a sensor evaluation): no lock
            return
        self._lock = hold_lakehouse(
            Path(self.root),
            run_id=context.dagster_run.run_id,
            owner=f"dagster run of {context.dagster_run.job_name}",
            lease_seconds=self.lock_lease_seconds,
            timeout_seconds=self.lock_timeout_seconds,
            poll_seconds=self.lock_poll_seconds,
        )
        self._lock.__enter__()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None

    def get(self) -> Lakehouse:
        if self._lake is None:
            self._lake = Lakehouse(
                Path(self.root),
                self.spark.session(),
                writer=self.writer,  # type: ignore[arg-type]  # validated in c360.config
            )
        return self._lake


class LandingZoneResource(dg.ConfigurableResource):
    """The raw extracts: ``<root>/<source>/<YYYY-MM-DD>/`` folders completed by ``_SUCCESS``."""

    root: str
    unknown_files: str = "error"  # landing.unknown_files: error | warn (validated in c360.config)

    @property
    def path(self) -> Path:
        return Path(self.root)

    def scan(self) -> LandingZone:
        """The landing zone as it is now, with what breaks the contract."""
        return scan_landing_zone(self.path)

    def complete_days(self) -> list[date]:
        """Days where every source with files has its ``_SUCCESS`` marker."""
        return self.scan().complete_days()


class MatcherResource(dg.ConfigurableResource):
    """Identity-resolution settings: Splink backend (DuckDB locally, Spark on a cluster)."""

    backend: str
    match_probability_threshold: float
    duckdb_memory_limit: str | None = None
    duckdb_temp_directory: str | None = None  # None: <lakehouse_root>/_tmp/duckdb
    truth_root: str | None = None  # ground truth for match evaluation (never read by ingest)


def build_resources(settings: Settings) -> dict[str, Any]:
    """Resources for the active profile; the same keys for every profile."""
    spark = SparkResource(
        **settings.spark.model_dump()
        | {"shuffle_partitions": settings.spark.resolved_shuffle_partitions()}
    )
    return {
        "spark": spark,
        "lakehouse": LakehouseResource(
            root=str(settings.lakehouse_root),
            writer=settings.storage.writer,
            spark=spark,
            lock_lease_seconds=settings.lock.lease_seconds,
            lock_timeout_seconds=settings.lock.timeout_seconds,
            lock_poll_seconds=settings.lock.poll_seconds,
        ),
        "landing_zone": LandingZoneResource(
            root=str(settings.raw_root), unknown_files=settings.landing.unknown_files
        ),
        "matcher": MatcherResource(
            **settings.identity.model_dump(),
            truth_root=str(settings.truth_root) if settings.truth_root else None,
        ),
    }
