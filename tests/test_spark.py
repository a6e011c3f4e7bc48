"""The SparkSession the pipeline builds: UTC, Splink's jar, this interpreter for workers."""

import platform
import sys
from pathlib import Path

import pytest

import c360.spark
from c360.spark import (
    ExecutorPythonError,
    JavaMissingError,
    check_executor_python,
    java_major_version,
    require_java,
    splink_similarity_jar,
)


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


@pytest.mark.spark
def test_executor_python_check_reports_the_interpreter_and_c360(spark):
    executable, version, package = check_executor_python(spark)
    assert (executable, version) == (sys.executable, platform.python_version())
    assert Path(package) == Path(c360.spark.__file__).parent  # the c360 the driver runs


def test_executor_python_check_names_the_fix_when_c360_is_missing(monkeypatch):
    def fail(_spark):
        raise RuntimeError("PythonException: ModuleNotFoundError: No module named 'c360'")

    monkeypatch.setattr(c360.spark, "executor_python", fail)
    fix = r"c360 is not importable.*spark\.pyspark\.python"
    with pytest.raises(ExecutorPythonError, match=fix):
        check_executor_python(None)


def test_executor_python_check_rejects_another_python_version(monkeypatch):
    old_python = ("/usr/bin/python3", "3.9.2", "/x")
    monkeypatch.setattr(c360.spark, "executor_python", lambda _: old_python)
    with pytest.raises(ExecutorPythonError, match=r"Python 3\.9\.2 \(/usr/bin/python3\)"):
        check_executor_python(None)
