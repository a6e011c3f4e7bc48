"""The SparkSession the pipeline builds: UTC, Splink's jar, this interpreter for workers."""

import sys
from pathlib import Path

import pytest

from c360.spark import JavaMissingError, java_major_version, require_java, splink_similarity_jar


def test_java_17_or_newer_is_present_here():
    assert java_major_version() >= 17


def test_missing_java_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    with pytest.raises(JavaMissingError, match="apt-get install -y openjdk-17-jre-headless"):
        require_java()


@pytest.mark.spark
def test_session_is_utc_with_splink_jar_and_venv_workers(spark):
    conf = spark.sparkContext.getConf()
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    jar = splink_similarity_jar()
    assert Path(jar).is_file()
    assert jar in conf.get("spark.jars")
    # the jar's classes are loadable in the JVM (Splink registers its UDFs from them)
    loader = spark._jvm.java.lang.Thread.currentThread().getContextClassLoader()
    assert loader.loadClass("uk.gov.moj.dash.linkage.JaroWinklerSimilarity") is not None
    # Python workers run this interpreter, which has pandas (mapInPandas needs it)
    worker_python = spark.sparkContext.parallelize([0], 1).map(lambda _: sys.executable).first()
    assert worker_python == sys.executable
