"""The layering contract (pyproject.toml, docs/architecture.md) and the facts defined once."""

import subprocess
import sys
import tomllib
from pathlib import Path

import dagster as dg
from dagster._core.storage import tags as dagster_tags

import c360.tables as tables
from assets.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from c360.tables import FEATURE_INPUT_TABLES, SILVER_TRANSACTIONS, Table
from pipelines.definitions import build_definitions

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contracts() -> list[dict]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["tool"]["importlinter"]["contracts"]


def test_the_import_contract_is_kept():
    completed = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert "3 kept, 0 broken" in completed.stdout


def test_every_c360_module_is_in_a_layer():
    """A new core module or stage must be placed in the layers contract, or nothing checks it."""
    layers = next(c for c in _contracts() if c["id"] == "layers")["layers"]
    listed = {
        name.strip().strip("()")
        for layer in layers
        for part in layer.replace("|", ":").split(":")
        if (name := part.strip())
    }
    modules = {
        f"c360.{p.stem if p.is_file() else p.name}"
        for p in (REPO / "c360").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert modules <= listed, f"not in the layers contract: {sorted(modules - listed)}"


def test_a_new_cycle_between_files_breaks_the_contract(tmp_path):
    """acyclic_siblings fails on a cycle between two files of one package."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("from pkg import a\n")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = pkg\n\n[importlinter:contract:acyclic]\n"
        "name = no cycles\ntype = acyclic_siblings\nancestors = pkg\n"
    )
    completed = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": str(LINT_IMPORTS.parent)},
    )
    assert completed.returncode == 1
    assert "BROKEN" in completed.stdout


def test_asset_keys_are_derived_from_tables(tmp_path):
    assert SILVER_TRANSACTIONS.asset_key == dg.AssetKey(["silver", "transactions"])
    defined = {v.asset_key for v in vars(tables).values() if isinstance(v, Table)}
    defined |= {t.asset_key for t in tables.BRONZE_TABLES.values()}
    defs = build_definitions({"lakehouse_root": str(tmp_path / "lake")})
    asset_keys = set(defs.resolve_asset_graph().get_all_asset_keys())
    assert asset_keys <= defined, f"assets without a table: {asset_keys - defined}"
    assert {t.asset_key for t in FEATURE_INPUT_TABLES} <= asset_keys


def test_partition_range_tags_are_dagsters():
    assert PARTITION_RANGE_START_TAG == dagster_tags.ASSET_PARTITION_RANGE_START_TAG
    assert PARTITION_RANGE_END_TAG == dagster_tags.ASSET_PARTITION_RANGE_END_TAG
