"""The one place that builds the SparkSession, from the profile's :class:`SparkSettings`."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from c360.config import CONF_DIR, SparkSettings
from c360.errors import ConfigurationError

log = logging.getLogger(__name__)

MIN_JAVA_MAJOR = 17
LOG4J_CONF = (CONF_DIR / "log4j2.properties").as_uri()


class JavaMissingError(RuntimeError):
    """No usable Java runtime: Spark cannot start."""


class ExecutorPythonError(ConfigurationError):
    """The executors' Python cannot run c360's code (docs/runbook.md section 6)."""


def java_major_version() -> int | None:
    """Major version of the ``java`` on PATH (or under ``$JAVA_HOME``), None if absent."""
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for token in (out.stderr + out.stdout).split():
        token = token.strip('"')
        if token[:1].isdigit():
            major = token.split(".")[0]
            return int(major) if major.isdigit() else None
    return None


def require_java() -> None:
    """Raise :class:`JavaMissingError` with install instructions unless Java 17+ is present."""
    major = java_major_version()
    if major is None or major < MIN_JAVA_MAJOR:
        found = "no java found" if major is None else f"found Java {major}"
        raise JavaMissingError(
            f"Spark needs Java {MIN_JAVA_MAJOR}+ ({found}). Install it, e.g. "
            "`sudo apt-get install -y openjdk-17-jre-headless`, or set JAVA_HOME."
        )


def splink_similarity_jar() -> str:
    """Path of the jar holding Splink's jaro-winkler / jaccard / damerau UDFs for Spark 4."""
    from splink.backends.spark import similarity_jar_location

    return similarity_jar_location()


def build_spark_session(settings: SparkSettings) -> SparkSession:
    """Get or create the SparkSession described by ``settings``.

    UTC session time zone, Splink's similarity jar on ``spark.jars``, quiet logs, and
    ``settings.extra_conf`` passed through (e.g. the Delta extensions on a cluster).
    """
    require_java()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers must run this interpreter (the virtualenv), not the first python3 on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    jars = [splink_similarity_jar()]
    if extra_jars := settings.extra_conf.get("spark.jars"):
        jars.append(extra_jars)
    builder = (
        SparkSession.builder.master(settings.master)
        .appName(settings.app_name)
        .config("spark.driver.memory", settings.driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(settings.resolved_shuffle_partitions()))
        .config("spark.default.parallelism", str(settings.resolved_shuffle_partitions()))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
        # Delta partition folders are strings; the table schema gives their real types.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        # Catalyst's constraint propagation is exponential in large boolean expressions: on the
        # identity stage's explanation query (Splink's gamma CASEs and the guard's ORs) it held
        # the driver for minutes and ran it out of heap (SPARK-33152). It only infers extra
        # filters; results are the same without it.
        .config("spark.sql.constraintPropagation.enabled", "false")
        .config("spark.jars", ",".join(jars))
        # A driver out of heap cannot recover: exit, so the run fails instead of hanging. A
        # periodic G1 collection when the JVM is idle (JEP 346) hands its unused heap back to
        # the machine, e.g. to DuckDB during identity (at 1M people the idle driver kept 9 GB).
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dlog4j2.configurationFile={LOG4J_CONF} -XX:+ExitOnOutOfMemoryError "
            "-XX:G1PeriodicGCInterval=15000",
        )
    )
    for key, value in settings.extra_conf.items():
        if key != "spark.jars":
            builder = builder.config(key, value)
    log.info("starting Spark (%s)", settings.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(settings.log_level)
    if not settings.master.startswith("local"):
        check_executor_python(spark)
    return spark


def _describe_python(_: object) -> tuple[str, str, str]:
    """Interpreter, Python version and c360's folder of the process running this (a worker)."""
    import c360

    return sys.executable, platform.python_version(), str(Path(c360.__file__).parent)


def executor_python(spark: SparkSession) -> tuple[str, str, str]:
    """What :func:`_describe_python` answers in an executor's Python worker (one small task).

    The task's function is pickled by reference to this module, so an executor whose Python
    cannot import c360 fails it with ``ModuleNotFoundError``.
    """
    return spark.sparkContext.parallelize([0], 1).map(_describe_python).first()


def check_executor_python(spark: SparkSession) -> tuple[str, str, str]:
    """Fail at start, not deep in silver, when executors cannot run c360's code.

    Executors must import c360 and run the driver's Python minor version (pickled UDFs and
    Arrow batches cross between them). Returns the executor's interpreter, version and c360
    folder, also logged.

    Raises:
        ExecutorPythonError: c360 is not importable on an executor, or another Python version.
    """
    try:
        executable, version, package = executor_python(spark)
    except Exception as exc:  # py4j wraps the executor's traceback in its own error type
        reason = "c360 is not importable" if "No module named" in str(exc) else "the task failed"
        raise ExecutorPythonError(
            f"Spark executors cannot run c360's Python ({reason}; driver interpreter "
            f"{sys.executable}): install c360 and its pinned dependencies on every node, or "
            "put it on the executors' PYTHONPATH, and point spark.pyspark.python at that "
            "interpreter (docs/runbook.md section 6). Executor error: "
            + str(exc).strip().splitlines()[-1][:300]
        ) from exc
    driver_version = platform.python_version()
    if version.split(".")[:2] != driver_version.split(".")[:2]:
        raise ExecutorPythonError(
            f"Spark executors run Python {version} ({executable}), the driver {driver_version}: "
            "set spark.pyspark.python to an interpreter of the driver's version on every node "
            "(docs/runbook.md section 6)"
        )
    log.info("executors run %s (Python %s) with c360 from %s", executable, version, package)
    return executable, version, package


def has_delta_spark(spark: SparkSession) -> bool:
    """True when the io.delta classes are loadable in this session's JVM."""
    try:
        loader = spark._jvm.java.lang.Thread.currentThread().getContextClassLoader()  # type: ignore[union-attr]
        loader.loadClass("io.delta.tables.DeltaTable")
    except Exception:  # py4j raises its own error types for a missing class
        return False
    return True
