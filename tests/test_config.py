"""Configuration: profiles, environment overrides, clear errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from c360.config import CONF_DIR, ConfigError, load_settings


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
