"""Configuration: profiles, environment overrides, clear errors naming the key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from c360.config import CONF_DIR, ConfigError, find_conf_dir, load_settings


def test_local_profile_is_the_default_and_resolves_paths():
    settings = load_settings(environ={})
    assert settings.profile == "local"
    assert settings.spark.master == "local[*]"
    assert settings.identity.backend == "duckdb"
    assert settings.lakehouse_root.is_absolute()


def test_cluster_profile_overrides_base_values():
    settings = load_settings(environ={"C360_PROFILE": "cluster"})
    assert settings.profile == "cluster"
    assert settings.identity.backend == "spark"
    # base.yaml sizes it by the machine ("auto"); the cluster profile sets it for a real cluster
    assert settings.spark.shuffle_partitions == 64
    assert load_settings(environ={}).spark.shuffle_partitions == "auto"
    # keys the profile does not mention keep their base value
    assert settings.schedule.timezone == "Asia/Ho_Chi_Minh"


def test_auto_shuffle_partitions_follow_the_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert load_settings(environ={}).spark.resolved_shuffle_partitions() == 4


def test_environment_overrides_roots(tmp_path: Path):
    env = {"C360_LAKEHOUSE": str(tmp_path / "lake"), "C360_RAW": str(tmp_path / "raw")}
    settings = load_settings(environ=env)
    assert settings.lakehouse_root == tmp_path / "lake"
    assert settings.raw_root == tmp_path / "raw"


def test_spark_environment_overrides_point_a_profile_at_another_cluster():
    env = {
        "C360_PROFILE": "cluster",
        "C360_SPARK_MASTER": "spark://10.0.0.5:7077",
        "C360_SPARK_DRIVER_MEMORY": "2g",
        "C360_SPARK_SHUFFLE_PARTITIONS": "4",
    }
    spark = load_settings(environ=env).spark
    assert (spark.master, spark.driver_memory, spark.shuffle_partitions) == (
        "spark://10.0.0.5:7077", "2g", 4
    )  # fmt: skip
    # the profile's other spark keys stay
    assert spark.extra_conf == load_settings(environ={"C360_PROFILE": "cluster"}).spark.extra_conf
    with pytest.raises(ConfigError, match=r"spark\.driver_memory"):
        load_settings(environ={"C360_SPARK_DRIVER_MEMORY": "lots"})


def test_explicit_overrides_win_over_environment(tmp_path: Path):
    env = {"C360_LAKEHOUSE": str(tmp_path / "from-env")}
    settings = load_settings(environ=env, overrides={"lakehouse_root": str(tmp_path / "flag")})
    assert settings.lakehouse_root == tmp_path / "flag"


def test_unknown_profile_names_the_variable_and_lists_known_profiles():
    with pytest.raises(ConfigError, match=r"C360_PROFILE.*'nope'.*\['cluster', 'local'\]"):
        load_settings(environ={"C360_PROFILE": "nope"})


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"spark": {"shuffle_partitions": 0}}, "spark.shuffle_partitions"),
        ({"spark": {"shufle_partitions": 8}}, "spark.shufle_partitions"),  # typo: unknown key
        ({"storage": {"writer": "parquet"}}, "storage.writer"),
        (
            {"identity": {"match_probability_threshold": 1.5}},
            "identity.match_probability_threshold",
        ),
    ],
)
def test_invalid_values_fail_naming_the_key(overrides, key):
    with pytest.raises(ConfigError) as error:
        load_settings(environ={}, overrides=overrides)
    assert key in str(error.value)


def test_broken_yaml_names_the_file(tmp_path: Path):
    (tmp_path / "base.yaml").write_text((CONF_DIR / "base.yaml").read_text())
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "local.yaml").write_text("spark: [unclosed\n")
    with pytest.raises(ConfigError, match=r"local\.yaml: not valid YAML"):
        load_settings(conf_dir=tmp_path, environ={})


# ---- where conf/ is found (an installed package has no source tree) -------------------------
REPO = Path(__file__).resolve().parent.parent


def _conf_dir_in_a_fresh_process(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "from c360.config import CONF_DIR, load_settings; "
        "print(CONF_DIR); print(load_settings(environ={}).spark.app_name)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_conf_is_found_with_the_working_directory_outside_the_repo(tmp_path: Path):
    env = {k: "" for k in ("C360_CONF", "C360_PROFILE")}
    completed = _conf_dir_in_a_fresh_process(tmp_path, env)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.splitlines()[0] == str(REPO / "conf")


def test_c360_conf_points_at_another_conf_folder(tmp_path: Path):
    conf = tmp_path / "my_conf"
    shutil.copytree(CONF_DIR, conf)
    base = (conf / "base.yaml").read_text(encoding="utf-8")
    (conf / "base.yaml").write_text(base + "\nspark:\n  app_name: from-c360-conf\n")
    completed = _conf_dir_in_a_fresh_process(tmp_path, {"C360_CONF": str(conf)})
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.splitlines() == [str(conf), "from-c360-conf"]


def test_an_installed_wheel_finds_its_packaged_conf(tmp_path: Path):
    packaged = tmp_path / "share" / "c360" / "conf"
    packaged.mkdir(parents=True)
    (packaged / "base.yaml").write_text("{}")
    assert find_conf_dir({}, (tmp_path / "no_source_tree", packaged)) == packaged


def test_no_conf_anywhere_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"no c360 configuration found .* set C360_CONF"):
        find_conf_dir({}, (tmp_path / "a", tmp_path / "b"))
    with pytest.raises(ConfigError, match=r"^C360_CONF=.*: no base\.yaml in"):
        find_conf_dir({"C360_CONF": str(tmp_path)})
