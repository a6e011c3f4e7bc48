"""The one place that builds the SparkSession, from the profile's :class:`SparkSettings`."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

from pyspark.sql import SparkSession

from c360.config import CONF_DIR, SparkSettings

log = logging.getLogger(__name__)

MIN_JAVA_MAJOR = 17
LOG4J_CONF = (CONF_DIR / "log4j2.properties").as_uri()


class JavaMissingError(RuntimeError):
    """No usable Java runtime: Spark cannot start."""


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
        .config("spark.jars", ",".join(jars))
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG4J_CONF}")
    )
    for key, value in settings.extra_conf.items():
        if key != "spark.jars":
            builder = builder.config(key, value)
    log.info("starting Spark (%s)", settings.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(settings.log_level)
    return spark


def has_delta_spark(spark: SparkSession) -> bool:
    """True when the io.delta classes are loadable in this session's JVM."""
    try:
        loader = spark._jvm.java.lang.Thread.currentThread().getContextClassLoader()  # type: ignore[union-attr]
        loader.loadClass("io.delta.tables.DeltaTable")
    except Exception:  # py4j raises its own error types for a missing class
        return False
    return True
